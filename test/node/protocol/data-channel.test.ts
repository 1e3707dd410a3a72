/**
 * `parsePeerMessage`: what a peer sends over the data channel is untrusted input, parsed as strictly as the relay's
 * own parser. Examples first, then fast-check properties over arbitrary JSON, strings and well-formed messages.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_CHAT_LENGTH as CONTROLLER_MAX_CHAT_LENGTH } from '../../../src/call/call-controller.js';
import {
  MAX_CHAT_ID_LENGTH,
  MAX_REACTION_LENGTH,
  MAX_CHAT_LENGTH,
  MAX_CLOCK_SKEW_MS,
  MAX_PEER_MESSAGE_BYTES,
  MAX_PEER_SIGNAL_BYTES,
  MAX_VIEW_PX,
  parsePeerMessage,
  type PeerMessage,
} from '../../../src/protocol/data-channel.js';
import type { ParseResult } from '../../../src/protocol/parse.js';
import { PEER_ID_PATTERN } from '../../../src/protocol/relay.js';

const NOW = 1_795_234_695_348;
const value = (result: ParseResult<PeerMessage>): PeerMessage => {
  if (!result.ok) assert.fail(`expected a message, got ${result.error.message}`);
  return result.value;
};
const error = (result: ParseResult<PeerMessage>): string => {
  assert.equal(result.ok, false, `expected a violation, got ${JSON.stringify(result)}`);
  return result.ok ? '' : `${result.error.code}: ${result.error.message}`;
};
const chat = (fields: Record<string, unknown>) =>
  JSON.stringify({ type: 'chat', id: 'k3v-7', text: 'Hello!', sentAt: NOW, ...fields });

describe('parsePeerMessage', () => {
  it('accepts state and chat, and returns only the known fields', () => {
    assert.deepEqual(value(parsePeerMessage('{"type":"state","microphone":false,"camera":true,"x":1}', NOW)), {
      type: 'state',
      microphone: false,
      camera: true,
    });
    assert.deepEqual(value(parsePeerMessage(chat({ extra: { a: 1 } }), NOW)), {
      type: 'chat',
      id: 'k3v-7',
      text: 'Hello!',
      sentAt: NOW,
    });
  });

  it('keeps a sentAt within a day of the receive time, and replaces one further off by the receive time (D3)', () => {
    for (const sentAt of [NOW, NOW - MAX_CLOCK_SKEW_MS, NOW + MAX_CLOCK_SKEW_MS, NOW - 60_000]) {
      assert.equal((value(parsePeerMessage(chat({ sentAt }), NOW)) as { sentAt: number }).sentAt, sentAt);
    }
    for (const sentAt of [0, -1, NOW - MAX_CLOCK_SKEW_MS - 1, NOW + MAX_CLOCK_SKEW_MS + 1, 8.64e15, -8.64e15]) {
      assert.equal((value(parsePeerMessage(chat({ sentAt }), NOW)) as { sentAt: number }).sentAt, NOW, String(sentAt));
    }
  });

  it('refuses a sentAt that is no time a Date can hold, or no number', () => {
    for (const sentAt of [1e16, -1e16, 8.64e15 + 1, 1e308, '1', null, true, [NOW], { valueOf: NOW }]) {
      assert.match(error(parsePeerMessage(chat({ sentAt }), NOW)), /^bad-message: chat.sentAt/, JSON.stringify(sentAt));
    }
    assert.match(error(parsePeerMessage(chat({}).replace(String(NOW), '1e309'), NOW)), /chat.sentAt/); // Infinity
    assert.match(error(parsePeerMessage(chat({ sentAt: undefined }), NOW)), /chat.sentAt/); // missing
  });

  it('bounds ids and text by length and type', () => {
    assert.equal(value(parsePeerMessage(chat({ id: 'i'.repeat(MAX_CHAT_ID_LENGTH) }), NOW)).type, 'chat');
    for (const id of ['', 'i'.repeat(MAX_CHAT_ID_LENGTH + 1), 5, null, ['a'], { a: 1 }]) {
      assert.match(error(parsePeerMessage(chat({ id }), NOW)), /^bad-message: chat.id/, JSON.stringify(id));
    }
    assert.equal(value(parsePeerMessage(chat({ text: 't'.repeat(MAX_CHAT_LENGTH) }), NOW)).type, 'chat');
    for (const text of ['', '   ', '\n\t', 't'.repeat(MAX_CHAT_LENGTH + 1), 5, null, ['hi']]) {
      assert.match(error(parsePeerMessage(chat({ text }), NOW)), /^bad-message: chat.text/, JSON.stringify(text));
    }
    for (const fields of [{ microphone: 'false', camera: true }, { microphone: false }, { microphone: 0, camera: 1 }]) {
      assert.match(error(parsePeerMessage(JSON.stringify({ type: 'state', ...fields }), NOW)), /^bad-message: state/);
    }
  });

  it('refuses what is not a JSON object of a known type, too large, or not text', () => {
    const cases: Array<[unknown, RegExp]> = [
      [new ArrayBuffer(8), /JSON text/],
      [42, /JSON text/],
      [null, /JSON text/],
      [undefined, /JSON text/],
      ['nope', /not valid JSON/],
      ['', /not valid JSON/],
      ['[]', /JSON object/],
      ['null', /JSON object/],
      ['"chat"', /JSON object/],
      ['7', /JSON object/],
      ['{}', /unknown peer message type/],
      ['{"type":"CHAT"}', /unknown/],
      ['{"type":"signal"}', /signal.data/],
      ['{"type":"signal","data":[]}', /signal.data/],
      ['{"type":"signal","data":"x"}', /signal.data/],
      ['{"type":"toString"}', /unknown/],
      ['{"type":"__proto__"}', /unknown/],
      ['{"type":["chat"]}', /unknown/],
      [`{"type":"state","microphone":true,"camera":true,"pad":"${'x'.repeat(MAX_PEER_MESSAGE_BYTES)}"}`, /too large/],
    ];
    for (const [raw, expected] of cases)
      assert.match(error(parsePeerMessage(raw, NOW)), expected, String(raw).slice(0, 40));
  });

  it('reads no inherited or prototype keys, and pollutes nothing', () => {
    // JSON.parse makes "__proto__" an own key: the fields it holds are not the message's.
    assert.match(
      error(parsePeerMessage('{"type":"chat","__proto__":{"id":"x","text":"t","sentAt":1}}', NOW)),
      /chat.id/,
    );
    assert.match(
      error(parsePeerMessage('{"__proto__":{"type":"state","microphone":true,"camera":true}}', NOW)),
      /unknown/,
    );
    const m = value(
      parsePeerMessage(
        '{"type":"state","microphone":true,"camera":false,"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}',
        NOW,
      ),
    );
    assert.equal(Object.getPrototypeOf(m), Object.prototype);
    assert.equal('polluted' in m, false);
    assert.equal('polluted' in {}, false);
  });

  it('accepts a rebind whose id is a peer id (extra fields dropped), refuses any other', () => {
    assert.deepEqual(value(parsePeerMessage('{"type":"rebind","id":"Ab_9-x","from":"spoof"}', NOW)), {
      type: 'rebind',
      id: 'Ab_9-x',
    });
    for (const id of [undefined, '', 'a b', 'x'.repeat(65), 7, null, ['a'], 'é']) {
      assert.match(
        error(parsePeerMessage(JSON.stringify({ type: 'rebind', id }), NOW)),
        /rebind\.id must be a peer id/,
      );
    }
  });

  it('accepts a view with a size in range or hidden (extra fields dropped), refuses any other', () => {
    assert.deepEqual(value(parsePeerMessage('{"type":"view","width":320,"height":180,"x":1}', NOW)), {
      type: 'view',
      width: 320,
      height: 180,
      hidden: false,
    });
    assert.deepEqual(value(parsePeerMessage('{"type":"view","width":0,"height":0,"hidden":true}', NOW)), {
      type: 'view',
      width: 0,
      height: 0,
      hidden: true,
    });
    assert.deepEqual(value(parsePeerMessage('{"type":"view","hidden":true}', NOW)), {
      type: 'view',
      width: 0,
      height: 0,
      hidden: true,
    });
    for (const [width, height, hidden] of [
      [0, 180, false],
      [320, 0, undefined],
      [MAX_VIEW_PX + 1, 180, false],
      [320.5, 180, false],
      [-320, 180, false],
      ['320', 180, false],
      [null, null, 'true'],
      [undefined, undefined, undefined],
      [1e308, 1, false],
    ]) {
      assert.match(
        error(parsePeerMessage(JSON.stringify({ type: 'view', width, height, hidden }), NOW)),
        /view\.width and view\.height must be integers 1-8192, or view\.hidden true/,
      );
    }
  });

  it('accepts hand, lower-hand and reaction (hosts and guests) with their fields only, refuses malformed ones', () => {
    assert.deepEqual(value(parsePeerMessage('{"type":"hand","raised":true,"id":"x"}', NOW)), {
      type: 'hand',
      raised: true,
    });
    assert.deepEqual(value(parsePeerMessage('{"type":"lower-hand","id":"Ab_9-x","x":1}', NOW)), {
      type: 'lower-hand',
      id: 'Ab_9-x',
    });
    assert.deepEqual(value(parsePeerMessage('{"type":"reaction","emoji":"👍","big":true}', NOW)), {
      type: 'reaction',
      emoji: '👍',
    });
    for (const raised of [undefined, 'true', 1, null]) {
      assert.match(error(parsePeerMessage(JSON.stringify({ type: 'hand', raised }), NOW)), /hand\.raised/);
    }
    for (const id of [undefined, '', 'a b', 'x'.repeat(65), 7]) {
      assert.match(error(parsePeerMessage(JSON.stringify({ type: 'lower-hand', id }), NOW)), /lower-hand\.id/);
    }
    for (const emoji of [undefined, '', '   ', 'x'.repeat(MAX_REACTION_LENGTH + 1), 5, ['👍']]) {
      assert.match(error(parsePeerMessage(JSON.stringify({ type: 'reaction', emoji }), NOW)), /reaction\.emoji/);
    }
  });

  it('the call controller enforces the same chat length as the wire', () => {
    assert.equal(CONTROLLER_MAX_CHAT_LENGTH, MAX_CHAT_LENGTH);
  });
});

describe('parsePeerMessage properties (fast-check)', () => {
  const runs = { numRuns: 2000 };

  it('never throws, whatever the input; every result is a violation or a well-formed message', () => {
    const anything = fc.oneof(
      fc.string(),
      fc.json(),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.anything(),
    );
    fc.assert(
      fc.property(anything, fc.double(), (raw, now) => {
        const result = parsePeerMessage(raw, now);
        if (!result.ok) return result.error.code === 'bad-message' && result.error.message.length > 0;
        const m = result.value;
        if (m.type === 'signal')
          return Object.keys(m).length === 2 && typeof m.data === 'object' && m.data !== null && !Array.isArray(m.data);
        if (m.type === 'state')
          return Object.keys(m).length === 3 && typeof m.microphone === 'boolean' && typeof m.camera === 'boolean';
        if (m.type === 'rebind') return Object.keys(m).length === 2 && PEER_ID_PATTERN.test(m.id);
        if (m.type === 'view')
          return (
            Object.keys(m).length === 4 &&
            (m.hidden
              ? m.width === 0 && m.height === 0
              : [m.width, m.height].every((x) => Number.isInteger(x) && x >= 1 && x <= MAX_VIEW_PX))
          );
        if (m.type === 'hand') return Object.keys(m).length === 2 && typeof m.raised === 'boolean';
        if (m.type === 'lower-hand') return Object.keys(m).length === 2 && PEER_ID_PATTERN.test(m.id);
        if (m.type === 'reaction')
          return Object.keys(m).length === 2 && m.emoji.trim().length > 0 && m.emoji.length <= MAX_REACTION_LENGTH;
        return (
          Object.keys(m).length === 4 &&
          m.id.length >= 1 &&
          m.id.length <= MAX_CHAT_ID_LENGTH &&
          m.text.trim().length > 0 &&
          m.text.length <= MAX_CHAT_LENGTH &&
          !Number.isNaN(new Date(m.sentAt).getTime())
        );
      }),
      runs,
    );
  });

  it('a chat of any shape parses iff its fields are in range; sentAt is then within a day of now, or now', () => {
    const field = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.string(), { maxLength: 2 }),
    );
    const sentAt = fc.oneof(
      fc.double(),
      fc.integer({ min: NOW - 3 * MAX_CLOCK_SKEW_MS, max: NOW + 3 * MAX_CLOCK_SKEW_MS }),
      fc.constantFrom(8.64e15, -8.64e15, 1e16, -1e16, 0),
      field,
    );
    const text = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ minLength: MAX_CHAT_LENGTH - 2, maxLength: MAX_CHAT_LENGTH + 2 }),
      field,
    );
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 70 }), field), text, sentAt, (id, t, at) => {
        const result = parsePeerMessage(JSON.stringify({ type: 'chat', id, text: t, sentAt: at }), NOW);
        const at2 = JSON.parse(JSON.stringify(at)) as unknown; // what the wire carried (NaN and Infinity become null)
        const valid =
          typeof id === 'string' &&
          id.length >= 1 &&
          id.length <= MAX_CHAT_ID_LENGTH &&
          typeof t === 'string' &&
          t.trim().length > 0 &&
          t.length <= MAX_CHAT_LENGTH &&
          typeof at2 === 'number' &&
          Math.abs(at2) <= 8.64e15;
        assert.equal(result.ok, valid, JSON.stringify({ id, t: typeof t === 'string' ? t.length : t, at }));
        if (result.ok && result.value.type === 'chat') {
          const shown = result.value.sentAt;
          assert.ok(shown === NOW || (shown === at2 && Math.abs(shown - NOW) <= MAX_CLOCK_SKEW_MS), String(shown));
        }
      }),
      runs,
    );
  });

  it('a state parses iff both fields are booleans, with extra keys dropped', () => {
    const field = fc.oneof(fc.boolean(), fc.integer(), fc.string({ maxLength: 5 }), fc.constant(null));
    fc.assert(
      fc.property(
        field,
        field,
        fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 })),
        (mic, cam, extra) => {
          const result = parsePeerMessage(
            JSON.stringify({ ...extra, type: 'state', microphone: mic, camera: cam }),
            NOW,
          );
          assert.equal(result.ok, typeof mic === 'boolean' && typeof cam === 'boolean');
          if (result.ok) assert.deepEqual(result.value, { type: 'state', microphone: mic, camera: cam });
        },
      ),
      runs,
    );
  });

  it('unknown types are refused, whatever else the message holds', () => {
    const type = fc.oneof(
      fc
        .string({ maxLength: 20 })
        .filter((t) => !['chat', 'state', 'signal', 'rebind', 'view', 'hand', 'lower-hand', 'reaction'].includes(t)),
      fc.integer(),
      fc.constant(null),
    );
    fc.assert(
      fc.property(type, fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 })), (t, rest) => {
        assert.match(error(parsePeerMessage(JSON.stringify({ ...rest, type: t }), NOW)), /unknown peer message type/);
      }),
      runs,
    );
  });

  it('a signal carries its data as it is (the session parses it), up to the larger signal limit', () => {
    const data = {
      gen: 3,
      description: { type: 'offer', sdp: 'v=0\r\n' + 'a'.repeat(40_000) },
      media: { '0': 'audio' },
    };
    const parsed = parsePeerMessage(JSON.stringify({ type: 'signal', data, extra: 1 }), NOW);
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.value, { type: 'signal', data });
    const pad = (n: number): string => JSON.stringify({ type: 'signal', data: { gen: 0, pad: 'p'.repeat(n) } });
    const fits = MAX_PEER_SIGNAL_BYTES - pad(0).length;
    assert.ok(parsePeerMessage(pad(fits), NOW).ok);
    assert.match(error(parsePeerMessage(pad(fits + 1), NOW)), /too large/);
  });

  it('anything longer than the size limit is refused', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4096 }), (extra) => {
        const raw = chat({ text: 'x' }).slice(0, -1) + `,"pad":"${'p'.repeat(MAX_PEER_MESSAGE_BYTES + extra)}"}`;
        assert.match(error(parsePeerMessage(raw, NOW)), /too large/);
      }),
      { numRuns: 50 },
    );
  });
});
