/**
 * `chunk()` (src/chunk.ts), the loader of every on-demand chunk, with faked failed imports (the browsers' own errors
 * are in test/e2e/missing-chunk.test.ts): a failure becomes `chunk-failed` naming the URL the browser's error named,
 * the next use fetches that URL once more with `?retry` (a real module file here), a second failure is final (no third
 * fetch), and with a report target the failure is fired there as `vc-error` while the promise stays pending.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { chunk } from '../../src/chunk.js';
import { VideoChatError } from '../../src/errors.js';
import type { VideoChatErrorEvent } from '../../src/events.js';

const dir = mkdtempSync(join(tmpdir(), 'chunk-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A module file on disk; its file: URL. */
function moduleFile(name: string, source: string): string {
  const path = join(dir, name);
  writeFileSync(path, source);
  return pathToFileURL(path).href;
}

/** An import that fails as Chromium's does, naming `url`; counts its calls. */
function failing(url: string): { load: () => Promise<never>; calls: () => number } {
  let calls = 0;
  return {
    load: () => {
      calls++;
      return Promise.reject(new TypeError(`Failed to fetch dynamically imported module: ${url}`));
    },
    calls: () => calls,
  };
}

const settledWithin = (promise: Promise<unknown>) =>
  Promise.race([
    promise.then(
      () => 'resolved',
      () => 'rejected',
    ),
    new Promise((resolve) => setTimeout(() => resolve('pending'), 50)),
  ]);

describe('chunk', () => {
  it('a failed fetch is chunk-failed naming the URL; the next use fetches <url>?retry and gets the module', async () => {
    const url = moduleFile('video-chat-panel-1a2b3c4d.js', 'export const answer = 42;');
    const fake = failing(url);
    const error: unknown = await chunk('panel', fake.load).catch((e: unknown) => e);
    assert.ok(error instanceof VideoChatError);
    assert.equal(error.code, 'chunk-failed');
    assert.match(error.message, new RegExp(`^Could not load ${url.replace(/[.]/g, '\\.')}: `));
    assert.match(error.message, /all of dist\/ next to video-chat\.js/);
    assert.match(error.message, /script-src/);
    assert.ok(error.cause instanceof TypeError);

    const loaded = await chunk<{ answer: number }>('panel', fake.load);
    assert.equal(loaded.answer, 42, 'the module at the URL the error named');
    assert.equal(fake.calls(), 1, 'the retry went to <url>?retry, not through the cached import');
    assert.equal((await chunk<{ answer: number }>('panel', fake.load)).answer, 42, 'and stays loaded');
  });

  it('after the retry failed too, the chunk is not fetched again: every use gets the error at once', async () => {
    const url = pathToFileURL(join(dir, 'video-chat-gone-00000000.js')).href; // no such file
    const fake = failing(url);
    const first = await chunk('gone', fake.load).catch((e: unknown) => e);
    const second = await chunk('gone', fake.load).catch((e: unknown) => e); // ?retry: the file is still missing
    assert.ok(first instanceof VideoChatError && second instanceof VideoChatError);
    assert.notEqual(second.cause, first.cause, 'the retry was a fetch of its own');
    const third = await chunk('gone', fake.load).catch((e: unknown) => e);
    assert.equal(third, second, 'the same error, no third fetch');
    assert.equal(fake.calls(), 1);
  });

  it('an error without a URL names video-chat-<name>-….js and the retry goes through the import again', async () => {
    let calls = 0;
    const load = () =>
      ++calls === 1 ? Promise.reject(new TypeError('Importing a module script failed.')) : Promise.resolve('ok');
    const error: unknown = await chunk('locale', load).catch((e: unknown) => e);
    assert.ok(error instanceof VideoChatError);
    assert.match(error.message, /^Could not load video-chat-locale-….js: /);
    assert.equal(await chunk('locale', load), 'ok');
    assert.equal(calls, 2);
  });

  it('with a report target: vc-error fired there (the call host) or handed to a function; stays pending', async () => {
    const seen: VideoChatError[] = [];
    const host = { dispatch: (event: Event) => void seen.push((event as VideoChatErrorEvent).error) };
    const pending = chunk('reported', failing('https://cdn.example/video-chat-reported-0badf00d.js').load, host);
    assert.equal(await settledWithin(pending), 'pending', 'what would use the chunk never runs');
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.code, 'chunk-failed');
    assert.match(seen[0]?.message ?? '', /https:\/\/cdn\.example\/video-chat-reported-0badf00d\.js/);

    const again = chunk('reported', () => Promise.resolve('never asked'), host); // the retry: the same URL, 404 again
    assert.equal(await settledWithin(again), 'pending');
    assert.equal(seen.length, 2);

    const told: VideoChatError[] = [];
    const last = chunk(
      'reported',
      () => Promise.resolve('never asked'),
      (e) => void told.push(e),
    );
    assert.equal(await settledWithin(last), 'pending');
    assert.equal(told[0]?.code, 'chunk-failed', 'a function gets the error itself');
  });
});
