/**
 * IDs and resume: a participant whose connection was lost keeps its place for the grace period and can resume it
 * on a new connection with `join.resume`, keeping its ID, while the others see nothing; signals sent to it meanwhile
 * are queued (bounded). Everything wrong about a resume is the same `resume-failed`, and changes nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloseCode, MAX_MESSAGE_BYTES, type WelcomeMessage } from '../../../src/protocol/relay.js';
import {
  captureLogs,
  sample,
  waitFor,
  withTimeout,
  WAIT_MS,
  type RelayEnv,
  type TestClient,
  relayEnv,
} from './helpers.js';

/** Loses the connection the way a network does: no closing handshake, the relay sees 1006. */
async function lose(client: TestClient): Promise<void> {
  client.socket.terminate();
  await client.closed;
}

const credentials = (w: WelcomeMessage): { id: string; secret: string } => ({ id: w.id, secret: w.resume ?? '' });

async function resumeOn(
  e: RelayEnv,
  room: string,
  w: WelcomeMessage,
): Promise<{ client: TestClient; welcome: WelcomeMessage }> {
  const client = await e.client();
  client.send({ type: 'join', room, resume: credentials(w) });
  return { client, welcome: await client.next('welcome') };
}

describe('resume: within the grace period', () => {
  it('keeps the ID, and the others see neither a departure nor an arrival', async (t) => {
    const e = await relayEnv(t);
    const a = await e.joined('r', 'Ann');
    const b = await e.joined('r', 'Bob');
    await a.client.next('peer-joined');
    await lose(b.client);
    await waitFor(() => e.running.relay.stats().connections === 1, 'the lost connection noticed');
    // Still present for everyone: counted, and the seat is taken.
    assert.equal(e.running.relay.stats().peers, 2);
    assert.equal(sample(await e.running.relay.metrics.metrics(), 'video_chat_peers_resuming'), 1);

    const back = await resumeOn(e, 'r', b.welcome);
    assert.equal(back.welcome.id, b.welcome.id);
    assert.equal(back.welcome.resumed, true);
    assert.deepEqual(back.welcome.peers, [{ id: a.welcome.id, name: 'Ann' }]);
    assert.match(back.welcome.resume ?? '', /^[A-Za-z0-9_-]{22}$/);
    assert.notEqual(back.welcome.resume, b.welcome.resume, 'a fresh secret on every welcome');

    await a.client.sync();
    assert.deepEqual(a.client.pending(), [], 'no peer-left, no peer-joined');
    a.client.send({ type: 'signal', to: b.welcome.id, data: { hello: 'again' } });
    assert.deepEqual(await back.client.next('signal'), {
      type: 'signal',
      from: a.welcome.id,
      data: { hello: 'again' },
    });
    back.client.send({ type: 'signal', to: a.welcome.id, data: { n: 1 } });
    assert.equal((await a.client.next('signal')).from, b.welcome.id);
    const text = await e.running.relay.metrics.metrics();
    assert.equal(sample(text, 'video_chat_resumes_total', { outcome: 'resumed' }), 1);
    assert.equal(sample(text, 'video_chat_peers_resuming'), 0);
  });

  it('queues signals to it and delivers them after the welcome, in order', async (t) => {
    const e = await relayEnv(t);
    const a = await e.joined('r');
    const b = await e.joined('r');
    await lose(b.client);
    await waitFor(() => e.running.relay.stats().connections === 1, 'the lost connection noticed');
    for (let i = 0; i < 20; i++) a.client.send({ type: 'signal', to: b.welcome.id, data: { i } });
    await a.client.sync();
    assert.deepEqual(a.client.pending('error'), [], 'queued, not refused');
    const back = await resumeOn(e, 'r', b.welcome);
    const got = [];
    for (let i = 0; i < 20; i++) got.push((await back.client.next('signal')).data['i']);
    assert.deepEqual(
      got,
      Array.from({ length: 20 }, (_, i) => i),
    );
  });

  it('bounds the queue: beyond resumeQueueBytes the sender gets unknown-peer', async (t) => {
    const e = await relayEnv(t, { resumeQueueBytes: 3 * 1024 });
    const a = await e.joined('r');
    const b = await e.joined('r');
    await lose(b.client);
    await waitFor(() => e.running.relay.stats().connections === 1, 'the lost connection noticed');
    const pad = 'x'.repeat(900); // ~960 bytes per queued frame: three fit
    for (let i = 0; i < 5; i++) a.client.send({ type: 'signal', to: b.welcome.id, data: { i, pad } });
    const error = await a.client.next('error');
    assert.equal(error.code, 'unknown-peer');
    assert.match(error.message, /reconnecting/);
    await a.client.sync();
    const refused = 1 + a.client.pending('error').length;
    assert.equal(refused, 2, 'three signals of ~960 bytes fit in 3 KiB');
    const back = await resumeOn(e, 'r', b.welcome);
    await back.client.sync();
    assert.deepEqual(
      back.client.pending('signal').map((m) => m.type === 'signal' && m.data['i']),
      [0, 1, 2],
    );
  });

  it('lets a new connection take over one the relay still thinks is open (half-open TCP), closing the old with 4001', async (t) => {
    const e = await relayEnv(t);
    const a = await e.joined('r');
    const b = await e.joined('r');
    await a.client.next('peer-joined');
    const back = await resumeOn(e, 'r', b.welcome);
    assert.equal(back.welcome.id, b.welcome.id);
    assert.deepEqual(await withTimeout(b.client.closed, WAIT_MS, 'the old connection closed'), {
      code: CloseCode.Replaced,
      reason: 'resumed on another connection',
    });
    await a.client.sync();
    assert.deepEqual(a.client.pending(), []);
    a.client.send({ type: 'signal', to: b.welcome.id, data: {} });
    assert.equal((await back.client.next('signal')).from, a.welcome.id);
    assert.deepEqual(e.running.relay.stats(), { connections: 2, rooms: 1, peers: 2 });
  });

  it('can resume again with the newest secret only', async (t) => {
    const e = await relayEnv(t);
    const a = await e.joined('r');
    const b = await e.joined('r');
    await a.client.next('peer-joined');
    await lose(b.client);
    const second = await resumeOn(e, 'r', b.welcome);
    await lose(second.client);
    const stale = await e.client();
    stale.send({ type: 'join', room: 'r', resume: credentials(b.welcome) });
    assert.equal((await stale.next('error')).code, 'resume-failed', 'the first secret no longer works');
    const third = await resumeOn(e, 'r', second.welcome);
    assert.equal(third.welcome.id, b.welcome.id);
    await a.client.sync();
    assert.deepEqual(a.client.pending(), []);
  });

  it('also covers a connection dropped by the heartbeat', async (t) => {
    const e = await relayEnv(t, { heartbeatIntervalMs: 100 });
    const a = await e.joined('r');
    const dead = await e.client({ autoPong: false });
    const welcome = await dead.join('r');
    await a.client.next('peer-joined');
    await withTimeout(dead.closed, 30 * 100, 'the heartbeat to drop the silent client');
    const back = await resumeOn(e, 'r', welcome);
    assert.equal(back.welcome.id, welcome.id);
    await a.client.sync();
    assert.deepEqual(a.client.pending('peer-left'), []);
  });
});

describe('resume: refusals', () => {
  it('answers every bad resume with the same resume-failed, joins nothing, and leaves the lost participant resumable', async (t) => {
    const logs = captureLogs('trace');
    const e = await relayEnv(t, { logger: logs.logger, maxPeersPerRoom: 3 });
    const a = await e.joined('r');
    const b = await e.joined('r');
    const elsewhere = await e.joined('other');
    await a.client.next('peer-joined');
    await lose(b.client);
    await waitFor(() => e.running.relay.stats().connections === 2, 'the lost connection noticed');
    const secret = b.welcome.resume ?? '';
    const wrong = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    const cases: [string, string, { id: string; secret: string }][] = [
      ['a wrong secret', 'r', { id: b.welcome.id, secret: wrong }],
      ['the ID as secret', 'r', { id: b.welcome.id, secret: b.welcome.id }],
      ["another participant's secret", 'r', { id: b.welcome.id, secret: a.welcome.resume ?? '' }],
      ['an unknown ID', 'r', { id: 'A'.repeat(22), secret }],
      ['another room', 'other', { id: b.welcome.id, secret }],
      ['a connected participant with a wrong secret', 'r', { id: a.welcome.id, secret: wrong }],
      ['a participant of another room', 'r', { id: elsewhere.welcome.id, secret: elsewhere.welcome.resume ?? '' }],
    ];
    const messages = new Set<string>();
    for (const [name, room, resume] of cases) {
      const c = await e.client();
      c.send({ type: 'join', room, resume });
      const error = await c.next('error');
      assert.equal(error.code, 'resume-failed', name);
      messages.add(error.message);
      // Nothing joined, the connection is usable: it can join afresh.
      assert.equal((await c.join('fresh')).peers.length, 0, name);
      c.send({ type: 'leave' });
      await c.sync();
    }
    assert.equal(messages.size, 1, 'one generic message');
    await a.client.sync();
    assert.deepEqual(a.client.pending(), [], 'the room saw nothing');
    assert.equal(e.running.relay.stats().peers, 3);
    // The real owner still gets back in.
    assert.equal((await resumeOn(e, 'r', b.welcome)).welcome.id, b.welcome.id);
    assert.equal(
      sample(await e.running.relay.metrics.metrics(), 'video_chat_resumes_total', { outcome: 'failed' }),
      cases.length,
    );
    // IDs are logged (they are how operators follow a participant); secrets, right or wrong, never are.
    for (const s of [secret, wrong, a.welcome.resume, elsewhere.welcome.resume]) {
      assert.ok(s && !logs.text().includes(s), 'no secret in the logs');
    }
  });

  it('ends the grace period with a normal departure, after which resume fails', async (t) => {
    const resumeGraceMs = 200;
    const e = await relayEnv(t, { resumeGraceMs });
    const a = await e.joined('r');
    const b = await e.joined('r');
    await a.client.next('peer-joined');
    const lostAt = Date.now();
    await lose(b.client);
    assert.equal((await a.client.next('peer-left', resumeGraceMs + WAIT_MS)).id, b.welcome.id);
    assert.ok(Date.now() - lostAt >= resumeGraceMs - 20, 'not before the grace period is over');
    const late = await e.client();
    late.send({ type: 'join', room: 'r', resume: credentials(b.welcome) });
    assert.equal((await late.next('error')).code, 'resume-failed');
    assert.equal(
      sample(await e.running.relay.metrics.metrics(), 'video_chat_resumes_total', { outcome: 'expired' }),
      1,
    );
  });

  for (const [name, code] of [
    ['1000 (normal)', 1000],
    ['1001 (page closed)', 1001],
  ] as const) {
    it(`lets a client that closed on purpose with ${name} leave at once, without resume`, async (t) => {
      const e = await relayEnv(t);
      const a = await e.joined('r');
      const b = await e.joined('r');
      await a.client.next('peer-joined');
      b.client.socket.close(code);
      assert.equal((await a.client.next('peer-left')).id, b.welcome.id);
      const again = await e.client();
      again.send({ type: 'join', room: 'r', resume: credentials(b.welcome) });
      assert.equal((await again.next('error')).code, 'resume-failed');
    });
  }

  it('lets a leave leave at once, without resume', async (t) => {
    const e = await relayEnv(t);
    const a = await e.joined('r');
    const b = await e.joined('r');
    b.client.send({ type: 'leave' });
    assert.equal((await a.client.next('peer-left')).id, b.welcome.id);
    b.client.send({ type: 'join', room: 'r', resume: credentials(b.welcome) });
    assert.equal((await b.client.next('error')).code, 'resume-failed');
  });

  it('gives no grace to connections closed for abuse (flood, oversize frame, invalid UTF-8)', async (t) => {
    const e = await relayEnv(t, { maxPeersPerRoom: 4 });
    const a = await e.joined('r');
    const flooder = await e.joined('r');
    const big = await e.joined('r');
    const garbled = await e.joined('r');
    garbled.client.socket.send(Buffer.from([0x7b, 0xff, 0x7d]), { binary: false });
    assert.equal((await garbled.client.closed).code, 1007);
    for (let i = 0; i < 1000; i++) flooder.client.send({ type: 'leave-me-alone' });
    assert.equal((await flooder.client.closed).code, CloseCode.PolicyViolation);
    big.client.sendRaw('x'.repeat(MAX_MESSAGE_BYTES + 1));
    assert.equal((await big.client.closed).code, CloseCode.MessageTooBig);
    const left = [];
    for (let i = 0; i < 3; i++) left.push((await a.client.next('peer-left')).id);
    assert.deepEqual(left.sort(), [flooder.welcome.id, big.welcome.id, garbled.welcome.id].sort());
  });

  it('with resumeGraceMs 0: no secret in welcome, a lost connection leaves at once, resume fails', async (t) => {
    const e = await relayEnv(t, { resumeGraceMs: 0 });
    const a = await e.joined('r');
    const b = await e.joined('r');
    assert.equal(b.welcome.resume, undefined);
    await lose(b.client);
    assert.equal((await a.client.next('peer-left')).id, b.welcome.id);
    const c = await e.client();
    c.send({ type: 'join', room: 'r', resume: { id: b.welcome.id, secret: 'A'.repeat(22) } });
    assert.equal((await c.next('error')).code, 'resume-failed');
  });

  it('already-joined if the connection is in a room', async (t) => {
    const e = await relayEnv(t);
    const a = await e.joined('r');
    a.client.send({ type: 'join', room: 'r', resume: credentials(a.welcome) });
    assert.equal((await a.client.next('error')).code, 'already-joined');
  });

  it('shutting down takes participants in their grace period along, without waiting for them', async (t) => {
    const e = await relayEnv(t);
    const a = await e.joined('r');
    const b = await e.joined('r');
    await lose(b.client);
    await waitFor(() => e.running.relay.stats().connections === 1, 'the lost connection noticed');
    await withTimeout(e.running.close(), WAIT_MS, 'close');
    assert.equal((await a.client.closed).code, CloseCode.ServiceRestart);
    assert.deepEqual(e.running.relay.stats(), { connections: 0, rooms: 0, peers: 0 });
  });
});
