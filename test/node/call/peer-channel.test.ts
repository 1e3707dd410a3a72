/**
 * The call's side of the data channel (`src/call/peer-channel.ts`) and the rate limit of warnings
 * (`src/call/warning-gate.ts`), in Node: encoding, parsing behind the per-type receive limit, and what is reported.
 * No browser needed (no DOM beyond `performance.now()`).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Warning } from '../../../src/errors.js';
import { MAX_QUEUED_TEXTS, PeerChannel } from '../../../src/call/peer-channel.js';
import { warningGate } from '../../../src/call/warning-gate.js';
import { PEER_RECEIVE_LIMIT, SIGNAL_RECEIVE_LIMIT, type PeerMessage } from '../../../src/protocol/data-channel.js';

/** A channel whose receiver's chunk (`peer-receive.ts`) is not loaded yet. */
function unloaded() {
  const sent: string[] = [];
  const received: PeerMessage[] = [];
  const warnings: Warning[] = [];
  const c = new PeerChannel({
    send: (text) => sent.push(text),
    onMessage: (m) => received.push(m),
    onWarning: (w) => warnings.push(w),
    report: (error) => assert.fail(error),
  });
  return { c, sent, received, warnings };
}

/** A channel whose receiver is loaded: texts are handled as they arrive. */
async function channel() {
  const made = unloaded();
  await made.c.load();
  return made;
}

const state = JSON.stringify({ type: 'state', microphone: false, camera: true });

describe('PeerChannel', () => {
  it('sends messages as JSON text', async () => {
    const { c, sent } = await channel();
    c.send({ type: 'state', microphone: true, camera: false });
    assert.deepEqual(
      sent.map((t) => JSON.parse(t) as unknown),
      [{ type: 'state', microphone: true, camera: false }],
    );
  });

  it('passes valid messages on, reports each malformed one as bad-peer-message and drops it', async () => {
    const { c, received, warnings } = await channel();
    c.receive('not json');
    c.receive('{"type":"chat"}');
    c.receive(state);
    assert.deepEqual(received, [{ type: 'state', microphone: false, camera: true }]);
    assert.deepEqual(
      warnings.map((w) => w.code),
      ['bad-peer-message', 'bad-peer-message'],
    );
    assert.match(warnings[0]?.message ?? '', /JSON/);
  });

  it('signals have a limit of their own, above what a renegotiation with its candidates needs', async () => {
    const { c, received, warnings } = await channel();
    // An ICE restart: request, offer, answer and 40 candidates, sent at once, beside a chat flood.
    const chat = (i: number) => JSON.stringify({ type: 'chat', id: `c${i}`, text: 'hi', sentAt: Date.now() });
    for (let i = 0; i < PEER_RECEIVE_LIMIT.burst * 2; i++) c.receive(chat(i));
    for (let i = 0; i < 43; i++) c.receive(JSON.stringify({ type: 'signal', data: { gen: 1, candidate: null } }));
    assert.equal(received.filter((m) => m.type === 'signal').length, 43);
    assert.deepEqual(
      warnings.map((w) => w.message),
      ['chat'],
    );
    for (let i = 0; i < SIGNAL_RECEIVE_LIMIT.burst; i++)
      c.receive(JSON.stringify({ type: 'signal', data: { gen: 1 } }));
    assert.deepEqual(
      warnings.map((w) => w.message),
      ['chat', 'signal'],
      'a flood of signals is limited too',
    );
  });

  it('lets a burst of one type through, drops the excess, and reports the flood once with the type', async () => {
    const { c, received, warnings } = await channel();
    const { burst } = PEER_RECEIVE_LIMIT;
    for (let i = 0; i < burst * 3; i++) c.receive(state);
    // The bucket refills at perSecond while the loop runs: a fraction of a message in the few ms it takes.
    assert.ok(received.length >= burst && received.length <= burst + 1, `${received.length} passed`);
    assert.deepEqual(
      warnings.map((w) => [w.code, w.message]),
      [['peer-flood', 'state']],
    );
    // Another type has a bucket of its own.
    c.receive(JSON.stringify({ type: 'chat', id: 'a', text: 'hi', sentAt: Date.now() }));
    assert.equal(received.at(-1)?.type, 'chat');
  });
});

describe('PeerChannel before its receiver chunk', () => {
  it('keeps what arrives before the receiver is loaded and hands it over after, in order', async () => {
    const { c, received, warnings } = unloaded();
    const chat = JSON.stringify({ type: 'chat', id: 'a', text: 'first', sentAt: Date.now() });
    const signal = JSON.stringify({ type: 'signal', data: { gen: 1, candidate: null } });
    c.receive(chat); // starts loading the chunk
    c.receive('not json');
    c.receive(signal);
    c.receive(state);
    assert.equal(received.length, 0, 'nothing is handled before the receiver is there');
    await c.load();
    assert.deepEqual(
      received.map((m) => m.type),
      ['chat', 'signal', 'state'],
    );
    assert.deepEqual(
      warnings.map((w) => w.code),
      ['bad-peer-message'],
    );
    c.receive(JSON.stringify({ type: 'view', width: 320, height: 180 }));
    assert.equal(received.at(-1)?.type, 'view', 'once loaded, a message is handled at once');
  });

  it('keeps the last MAX_QUEUED_TEXTS while it loads (a flood then a mute: the mute is kept), the receive limit reports the flood', async () => {
    // Above the bursts of the 8 message types together: a flood that fills the queue trips some type's limit.
    assert.ok(MAX_QUEUED_TEXTS > 7 * PEER_RECEIVE_LIMIT.burst + SIGNAL_RECEIVE_LIMIT.burst);
    const { c, received, warnings } = unloaded();
    const chat = (i: number) => JSON.stringify({ type: 'chat', id: `f${i}`, text: 'flood', sentAt: Date.now() });
    for (let i = 0; i < MAX_QUEUED_TEXTS + 5; i++) c.receive(chat(i));
    c.receive(state);
    assert.equal(warnings.length, 0, 'nothing is reported before the receiver is there');
    await c.load();
    assert.deepEqual(
      warnings.map((w) => [w.code, w.message]),
      [['peer-flood', 'chat']],
      'the flood is reported by the receive limit when the queue is handed over',
    );
    // The oldest six went; of the rest the chat limit's burst passes, in order, and the mute after them.
    assert.deepEqual(
      received.map((m) => (m.type == 'chat' ? m.id : m.type)),
      [...Array(PEER_RECEIVE_LIMIT.burst).keys()].map((i) => `f${i + 6}`).concat('state'),
    );
  });
});

describe('warningGate', () => {
  it('passes one warning per code per interval and drops the rest', async () => {
    const passed: Warning[] = [];
    const warn = warningGate((w) => passed.push(w), 50);
    for (let i = 0; i < 10; i++) warn({ code: 'bad-signal', message: `#${i}` });
    warn({ code: 'candidate-rejected', message: 'addIceCandidate' });
    assert.deepEqual(
      passed.map((w) => [w.code, w.message]),
      [
        ['bad-signal', '#0'],
        ['candidate-rejected', 'addIceCandidate'],
      ],
    );
    await new Promise((resolve) => setTimeout(resolve, 60)); // past the interval (performance.now() is monotonic)
    warn({ code: 'bad-signal', message: 'again' });
    assert.equal(passed.at(-1)?.message, 'again');
  });
});
