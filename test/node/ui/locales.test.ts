/**
 * Built-in locales: every entry of the English table is translated in every other locale (a key added to `en` and
 * forgotten in `de` fails here, and in the type check since `de` is a `VideoChatStrings`), with the same kind of value,
 * and `stringsFor` picks locales by primary subtag with the page's overrides on top.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { en as enDiagnosis } from '../../../src/ui/diagnosis.js';
import { en as enHosts } from '../../../src/ui/room.js';
import de from '../../../src/ui/locales/de.js';
import { en, locales, stringsFor, type VideoChatStrings } from '../../../src/ui/strings.js';

// Compiled to lib/test/node/ui/: the project root is four levels up.
const ERRORS_TS = readFileSync(new URL('../../../../src/errors.ts', import.meta.url), 'utf8');

/** Sample arguments for the entries that are functions. */
const SAMPLE: unknown[] = ['Ada', 2, { level: 'fair', rttMs: 320, loss: 0.03, kbps: 800 }];

function call(fn: (...args: never[]) => string, kind: unknown): string {
  return (fn as (arg: unknown) => string)(kind);
}

describe('locales', () => {
  const tables: Record<string, VideoChatStrings> = { de };

  for (const [code, table] of Object.entries(tables)) {
    it(`${code} has every key of en, each a string or a function giving a non-empty string`, () => {
      const missing = Object.keys(en).filter((key) => !(key in table));
      assert.deepEqual(missing, [], `keys of en missing from ${code}`);
      assert.deepEqual(
        // `diagnosis`, `hosts`: English is in their chunks (src/ui/diagnosis.ts, src/ui/room.ts), checked below.
        Object.keys(table).filter((key) => !(key in en) && key !== 'diagnosis' && key !== 'hosts'),
        [],
        `keys of ${code} not in en`,
      );
      for (const key of Object.keys(en) as (keyof VideoChatStrings)[]) {
        const value = table[key];
        assert.equal(typeof value, typeof en[key], `${code}.${key}`);
        if (typeof value === 'function') {
          const arg = SAMPLE.find((a) => {
            try {
              return typeof call(en[key] as never, a) === 'string' && call(value as never, a).length > 0;
            } catch {
              return false;
            }
          });
          assert.notEqual(arg, undefined, `${code}.${key} gives a string for one of the sample arguments`);
        } else if (typeof value === 'string') {
          assert.ok(value.length > 0, `${code}.${key} is empty`);
        }
      }
    });

    it(`${code} has every text of hosts and guests (src/ui/room.ts), each of the same kind`, () => {
      const hosts = (table.hosts ?? {}) as Record<string, unknown>;
      for (const [key, english] of Object.entries(enHosts)) {
        assert.equal(typeof hosts[key], typeof english, `${code}.hosts.${key}`);
      }
    });

    it(`${code} has every text of the embed doctor's English table (src/ui/diagnosis.ts), none empty`, () => {
      const doctor = table.diagnosis ?? {};
      for (const [key, value] of Object.entries(enDiagnosis)) {
        const translated = (doctor as Record<string, unknown>)[key];
        if (typeof value === 'string') {
          assert.ok(typeof translated === 'string' && translated.length > 0, `${code}.diagnosis.${key}`);
          continue;
        }
        for (const inner of Object.keys(value as object)) {
          const text = (translated as Record<string, unknown> | undefined)?.[inner];
          assert.ok(typeof text === 'string' && text.length > 0, `${code}.diagnosis.${key}['${inner}']`);
        }
      }
    });

    it(`${code} has a text for every error code of src/errors.ts`, () => {
      const codes = [...(/type VideoChatErrorCode =([^;]*);/.exec(ERRORS_TS)?.[1] ?? '').matchAll(/'([a-z-]+)'/g)].map(
        (m) => m[1],
      );
      assert.ok(codes.length > 0, 'error codes found in src/errors.ts');
      for (const c of codes) assert.ok(table.errors[c as keyof VideoChatStrings['errors']], `${code}.errors['${c}']`);
    });
  }

  it('stringsFor picks a loaded locale by primary subtag, English otherwise, with overrides on top', async () => {
    assert.equal(locales['de'], undefined, 'German is not in the main module');
    let loaded = 0;
    assert.equal(stringsFor('de-AT', {}, () => loaded++).join, en.join, 'English until German is loaded');
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (let i = 0; i < 100 && loaded === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(loaded, 1);
    assert.equal(stringsFor('de-AT').join, de.join);
    assert.equal(stringsFor('DE').leave, de.leave);
    assert.equal(stringsFor('fr').join, en.join);
    assert.equal(stringsFor('').join, en.join);
    const custom = stringsFor('de', { join: 'Rein', errors: { 'room-full': 'Voll!' } });
    assert.equal(custom.join, 'Rein');
    assert.equal(custom.leave, de.leave);
    assert.equal(custom.errors['room-full'], 'Voll!');
    assert.equal(custom.errors['no-device'], de.errors['no-device']);
  });
});
