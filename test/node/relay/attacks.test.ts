/**
 * Regression tests for the relay-side defects of the red-team report (issue 15, `docs/limits.md`), each against a real
 * relay on 127.0.0.1 (a `video-chat-relay` process where a crash is the symptom, in-process over real sockets
 * otherwise). Every loop is bounded in count and every wait in time; nothing asserts wall time.
 *
 * - D1: a `signal` whose `data` nests thousands of levels deep (directly, and through the resume queue);
 * - containment: an unforeseen throw in a message handler closes that connection alone with 1011;
 * - D2: participants in their grace period count against their address, and are capped relay-wide, queues too;
 * - D6: a member that sends another one more than it reads gets `rate-limited`, the addressee is not dropped;
 * - D7: a frame trickled one byte per TCP segment, or cut into many fragments, is refused with 1008;
 * - D8: a relay whose stderr is a full disk keeps serving.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { openSync, closeSync } from 'node:fs';
import type { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, it, type TestContext } from 'node:test';
import { CloseCode, MAX_MESSAGE_BYTES, MAX_SIGNAL_DEPTH } from '../../../src/protocol/relay.js';
import { createLogger } from '../../../server/src/log.js';
import { displayName, MAX_BUFFERED_CHUNKS, MAX_FRAGMENTS } from '../../../server/src/relay.js';
import {
  sample,
  startRelayEnv,
  startRelayProcess,
  TestClient,
  waitFor,
  withTimeout,
  WAIT_MS,
  type RelayEnv,
  type RelayProcess,
  relayEnv,
} from './helpers.js';
import { maskedFrame, rawHandshake } from './raw-ws.js';

async function relayProcess(t: TestContext, args: readonly string[] = []): Promise<RelayProcess> {
  const relay = await startRelayProcess(['--log-level', 'error', ...args]);
  t.after(async () => {
    await relay.stop();
  });
  return relay;
}

/** The attack frame of the report: a valid `signal` whose `data` holds `depth` nested arrays (6000: 12 KB). */
const deepSignal = (to: string, depth = 6000): string =>
  `{"type":"signal","to":"${to}","data":{"x":${'['.repeat(depth)}${']'.repeat(depth)}}}`;

/** Both clients of a pair still talk to each other through the relay. */
async function stillTalking(a: TestClient, b: TestClient, bId: string, n: number): Promise<void> {
  a.send({ type: 'signal', to: bId, data: { n } });
  assert.deepEqual((await b.next('signal')).data, { n });
}

describe('D1: deep signal.data against a relay process', () => {
  it('answers bad-message naming the depth bound, delivers nothing, and keeps serving', async (t) => {
    const relay = await relayProcess(t);
    const a = await TestClient.connect(relay.wsUrl);
    const b = await TestClient.connect(relay.wsUrl);
    t.after(() => Promise.all([a.close(), b.close()]));
    await a.join('r');
    const bw = await b.join('r');
    a.sendRaw(deepSignal(bw.id));
    assert.deepEqual(await a.next('error'), {
      type: 'error',
      code: 'bad-message',
      message: `signal.data must nest at most ${MAX_SIGNAL_DEPTH} levels deep`,
    });
    await stillTalking(a, b, bw.id, 1);
    await b.sync();
    assert.deepEqual(b.pending('signal'), []);
    assert.equal(relay.child.exitCode, null, 'the relay process is still running');
    assert.equal((await relay.health()).status, 'ok');
  });

  it('refuses it for a participant in its grace period too (the resume queue path)', async (t) => {
    const relay = await relayProcess(t);
    const a = await TestClient.connect(relay.wsUrl);
    const b = await TestClient.connect(relay.wsUrl);
    t.after(() => a.close());
    await a.join('r');
    const bw = await b.join('r');
    b.socket.close(3000); // not on purpose: b keeps its place for the grace period
    await b.closed;
    await waitFor(() => relay.child.exitCode === null, 'grace');
    a.sendRaw(deepSignal(bw.id));
    assert.match((await a.next('error')).message, /levels deep/);
    // A normal signal is still queued for it, and it resumes.
    a.send({ type: 'signal', to: bw.id, data: { queued: true } });
    await a.sync();
    const again = await TestClient.connect(relay.wsUrl);
    t.after(() => again.close());
    const resumed = await again.join('r', undefined, { resume: { id: bw.id, secret: bw.resume } });
    assert.equal(resumed.resumed, true);
    assert.deepEqual((await again.next('signal')).data, { queued: true });
    assert.equal((await relay.health()).status, 'ok');
  });
});

describe('containment: an unforeseen throw while handling a frame', () => {
  it(
    'closes that connection alone with 1011, counts it, and every other connection goes on',
    { timeout: 3 * WAIT_MS },
    async (t) => {
      // A host application's logger that fails on one kind of line: the relay's `error reply` debug line for
      // unknown-peer. Anything the relay calls may throw; this is a legitimate way to make it happen.
      let text = '';
      let exploded = false;
      const sink = new Writable({
        write(chunk: Buffer | string, _encoding, callback) {
          const line = String(chunk);
          text += line;
          callback();
          if (!exploded && line.includes('"code":"unknown-peer"')) {
            exploded = true;
            throw new Error('log sink exploded');
          }
        },
      });
      // Closed with a bound: without containment the throw escapes into this process and may wedge the server.
      const e = await startRelayEnv({ logger: createLogger('debug', sink) });
      t.after(() => withTimeout(e.close(), WAIT_MS, 'the relay to close'));
      const victim = await e.joined('one');
      const partner = await e.joined('one');
      const other = await e.joined('two');
      const otherPartner = await e.joined('two');
      victim.client.send({ type: 'signal', to: 'no-such-peer', data: {} });
      const closed = await withTimeout(victim.client.closed, WAIT_MS, 'the failing connection to close');
      assert.deepEqual(closed, { code: 1011, reason: 'internal error' });
      // Its participant left at once (no grace period after an internal error).
      assert.equal((await partner.client.next('peer-left')).id, victim.welcome.id);
      await stillTalking(other.client, otherPartner.client, otherPartner.welcome.id, 1);
      partner.client.send({ type: 'signal', to: other.welcome.id, data: {} });
      assert.equal((await partner.client.next('error')).code, 'unknown-peer', 'rooms stay apart');
      const metrics = await e.running.relay.metrics.metrics();
      assert.equal(sample(metrics, 'video_chat_handler_errors_total'), 1);
      assert.equal(sample(metrics, 'video_chat_connections_closed_by_relay_total', { code: '1011' }), 1);
      assert.match(text, /"level":50.*message handler failed: closing the connection/);
      // And the relay still takes new connections.
      const late = await e.joined('one');
      await stillTalking(partner.client, late.client, late.welcome.id, 3);
    },
  );
});

describe('D2: participants in their grace period', () => {
  /** Joins `room` on a new connection and drops it without a closing handshake: a participant in its grace period. */
  async function ghost(e: RelayEnv, room: string): Promise<{ id: string; secret: string }> {
    const c = await TestClient.connect(e.wsUrl);
    const w = await c.join(room);
    c.socket.terminate();
    await c.closed;
    return { id: w.id, secret: w.resume ?? '' };
  }

  it('count against their address: the connection-or-participant beyond maxConnectionsPerIp gets 429', async (t) => {
    const e = await relayEnv(t, { maxConnectionsPerIp: 3, resumeGraceMs: 60_000 });
    const observer = await e.joined('r');
    const first = await ghost(e, 'r');
    await ghost(e, 'other');
    await waitFor(() => e.running.relay.stats().connections === 1, 'both connections gone');
    assert.equal(e.running.relay.stats().peers, 3, 'two participants in their grace period');
    await assert.rejects(TestClient.connect(e.wsUrl), /HTTP 429/, 'one connection and two participants in grace: full');
    // One leaves for good (a clean close of the observer), making room for a connection that resumes the first.
    await observer.client.close();
    await waitFor(() => e.running.relay.stats().connections === 0, 'observer gone');
    const back = await e.client();
    assert.equal((await back.join('r', undefined, { resume: first })).resumed, true);
    // Resumed: the participant now counts through its connection only, so there is room for one more.
    await e.client();
    await assert.rejects(TestClient.connect(e.wsUrl), /HTTP 429/);
  });

  it('are capped relay-wide (maxResumingPeers): a drop beyond it leaves at once', async (t) => {
    const e = await relayEnv(t, { maxConnectionsPerIp: 0, resumeGraceMs: 60_000, maxResumingPeers: 2 });
    const observer = await e.joined('r');
    await ghost(e, 'r');
    await ghost(e, 'r');
    await observer.client.sync();
    assert.deepEqual(observer.client.pending('peer-left'), [], 'two in grace: nobody left');
    const third = await ghost(e, 'r');
    assert.equal((await observer.client.next('peer-left')).id, third.id, 'the third left at once');
    const text = await e.running.relay.metrics.metrics();
    assert.equal(sample(text, 'video_chat_peers_resuming'), 2);
  });

  it('have their queues capped relay-wide (maxResumeQueueTotalBytes): past it the sender gets unknown-peer', async (t) => {
    const total = 64 * 1024;
    const e = await relayEnv(t, { resumeGraceMs: 60_000, maxResumeQueueTotalBytes: total, rateLimitBurst: 10_000 });
    const sender = await e.joined('r');
    const one = await ghost(e, 'r');
    const two = await ghost(e, 'r');
    const pad = 'q'.repeat(4000);
    let queued = 0;
    for (let i = 0; i < 100; i++) {
      sender.client.send({ type: 'signal', to: one.id, data: { pad } });
      await sender.client.sync();
      if (sender.client.pending('error').length > 0) break;
      queued++;
    }
    const refused = sender.client.pending('error')[0];
    assert.ok(refused?.type === 'error' && refused.code === 'unknown-peer', JSON.stringify(refused));
    assert.ok(queued > 0 && queued * pad.length <= total, `queued ${queued}`);
    // The other participant in grace has room in its own queue, but not in the relay's total.
    sender.client.send({ type: 'signal', to: two.id, data: { pad } });
    await sender.client.sync();
    assert.equal(sender.client.pending('error').length, 2);
    const text = await e.running.relay.metrics.metrics();
    assert.ok((sample(text, 'video_chat_resume_queue_bytes') ?? Infinity) <= total);
  });
});

describe('D6: a member sending another more than it reads', () => {
  it('is refused with rate-limited naming the peer; the slow reader is not dropped and gets what was accepted', async (t) => {
    const e = await relayEnv(t);
    const victim = await e.joined('r');
    const attacker = await e.joined('r');
    // The victim reads half the time, like a slow link.
    const socket = (victim.client.socket as unknown as { _socket: Socket })._socket;
    let reading = true;
    const pace = setInterval(() => {
      reading = !reading;
      if (reading) socket.resume();
      else socket.pause();
    }, 50);
    t.after(() => clearInterval(pace));
    const payload = 'p'.repeat(MAX_MESSAGE_BYTES - 200);
    const SENT = 400;
    for (let i = 0; i < SENT; i++)
      attacker.client.send({ type: 'signal', to: victim.welcome.id, data: { i, payload } });
    await attacker.client.sync();
    clearInterval(pace);
    socket.resume();
    const refusals = attacker.client.pending('error');
    assert.ok(refusals.length > 0, 'pushed back');
    for (const refusal of refusals) {
      assert.ok(
        refusal.type === 'error' &&
          refusal.code === 'rate-limited' &&
          refusal.message.includes(JSON.stringify(victim.welcome.id)),
        JSON.stringify(refusal),
      );
    }
    await victim.client.sync();
    assert.equal(victim.client.socket.readyState, victim.client.socket.OPEN, 'the victim is still connected');
    assert.equal(victim.client.pending('signal').length, SENT - refusals.length, 'every accepted signal arrived');
    assert.equal(e.running.relay.stats().peers, 2);
    const text = await e.running.relay.metrics.metrics();
    assert.equal(sample(text, 'video_chat_connections_closed_by_relay_total', { code: '1006' }) ?? 0, 0);
  });
});

// ---- D7: raw frames ----

/** The close code in the close frame the relay sent on `socket` (unmasked, as a server sends), if any. */
function closeCodeIn(received: Buffer): number | undefined {
  for (let i = 0; i + 3 < received.length; i++) {
    if (received[i] === 0x88 && (received[i + 1] ?? 0) >= 2 && (received[i + 1] ?? 0) < 126)
      return received.readUInt16BE(i + 2);
  }
  return undefined;
}

/** Collects what the relay sends and resolves when the connection closes. */
function watch(socket: Socket): { received: () => Buffer; closed: Promise<void>; isClosed: () => boolean } {
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => {});
  const done = once(socket, 'close').then(() => {
    closed = true;
  });
  return { received: () => Buffer.concat(chunks), closed: done, isClosed: () => closed };
}

describe('D7: frames trickled in tiny pieces', () => {
  /** A join message padded to about 60 KB: valid, so the relay answers it with a welcome when it arrives whole. */
  const bigJoin = Buffer.from(JSON.stringify({ type: 'join', room: 'r', pad: 'a'.repeat(60_000) }));

  it(`closes with 1008 a frame written one byte per TCP segment (more than ${MAX_BUFFERED_CHUNKS} chunks)`, async (t) => {
    const e = await relayEnv(t);
    const socket = await rawHandshake(e.running.port);
    t.after(() => socket.destroy());
    const seen = watch(socket);
    const frame = maskedFrame(0x81, bigJoin);
    let written = 0;
    // One byte per write, yielding to the event loop after each so that each leaves as its own segment; bounded by
    // the frame's length (the last byte is never sent: the frame must stay incomplete).
    while (written < frame.length - 1 && !seen.isClosed()) {
      socket.write(frame.subarray(written, written + 1));
      written++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await withTimeout(seen.closed, WAIT_MS, 'the relay to close the connection');
    assert.equal(closeCodeIn(seen.received()), CloseCode.PolicyViolation, `closed after ${written} bytes`);
    const text = await e.running.relay.metrics.metrics();
    assert.equal(sample(text, 'video_chat_connections_closed_by_relay_total', { code: '1008' }), 1);
  });

  it('still takes a 60 KB message over a slow link (1 400-byte segments, paced)', async (t) => {
    const e = await relayEnv(t);
    const socket = await rawHandshake(e.running.port);
    t.after(() => socket.destroy());
    const seen = watch(socket);
    const frame = maskedFrame(0x81, bigJoin);
    for (let i = 0; i < frame.length; i += 1400) {
      socket.write(frame.subarray(i, i + 1400));
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await waitFor(() => seen.received().includes('"type":"welcome"'), 'the welcome');
    assert.equal(seen.isClosed(), false);
  });

  it(`closes with 1008 a message in more than ${MAX_FRAGMENTS} fragments, takes one in ${MAX_FRAGMENTS}`, async (t) => {
    const e = await relayEnv(t);
    const fragmented = (count: number): Buffer =>
      Buffer.concat(
        Array.from({ length: count }, (_, i) => {
          const text = i === 0 ? '{"type":"leave"' : i === count - 1 ? '}' : ' ';
          return maskedFrame((i === count - 1 ? 0x80 : 0) | (i === 0 ? 0x01 : 0x00), Buffer.from(text));
        }),
      );
    const good = await rawHandshake(e.running.port);
    const bad = await rawHandshake(e.running.port);
    t.after(() => {
      good.destroy();
      bad.destroy();
    });
    const goodSeen = watch(good);
    const badSeen = watch(bad);
    good.write(fragmented(MAX_FRAGMENTS));
    bad.write(fragmented(MAX_FRAGMENTS + 1));
    await withTimeout(badSeen.closed, WAIT_MS, 'the relay to close the fragmented one');
    assert.equal(closeCodeIn(badSeen.received()), CloseCode.PolicyViolation);
    // `leave` before joining: answered with not-joined, i.e. the message arrived whole.
    await waitFor(() => goodSeen.received().includes('not-joined'), 'the answer to the fragmented message');
  });
});

describe('D8: a relay whose stderr is a full disk', () => {
  it('keeps serving, counts the lost lines, and exits 0 on SIGTERM', async (t) => {
    const cli = fileURLToPath(new URL('../../../server/src/cli.js', import.meta.url));
    const full = openSync('/dev/full', 'w');
    const { PORT: _port, HOST: _host, ...environment } = process.env;
    const child = spawn(
      process.execPath,
      [cli, '--port', '0', '--host', '127.0.0.1', '--log-level', 'info', '--allowed-origins', 'https://app.example'],
      { env: environment, stdio: ['ignore', 'pipe', full] },
    );
    closeSync(full);
    const exit = once(child, 'exit');
    t.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let stdout = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    await waitFor(
      () => /listening on http:\/\/127\.0\.0\.1:\d+\//.test(stdout) || child.exitCode !== null,
      'the listening line',
      3 * WAIT_MS,
    );
    assert.equal(child.exitCode, null, 'started although the "listening" log line could not be written');
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout)?.[1] ?? '';
    const wsUrl = url.replace(/^http/, 'ws');
    // A refused upgrade logs a warning; a join and a leave log at info/debug level.
    await assert.rejects(TestClient.connect(wsUrl, {}), /HTTP 403/);
    const a = await TestClient.connect(wsUrl, { origin: 'https://app.example' });
    const b = await TestClient.connect(wsUrl, { origin: 'https://app.example' });
    await a.join('r');
    const bw = await b.join('r');
    await stillTalking(a, b, bw.id, 1);
    await Promise.all([a.close(), b.close()]);
    const metrics = await (await fetch(new URL('/metrics', url))).text();
    assert.ok((sample(metrics, 'video_chat_log_lines_lost_total') ?? 0) >= 2, 'the lost lines are counted');
    assert.equal(child.exitCode, null, 'still running');
    child.kill('SIGTERM');
    assert.deepEqual(await withTimeout(exit, 2 * WAIT_MS, 'exit'), [0, null]);
  });
});

describe('L2: display names', () => {
  it('strips control characters, bidi controls and lone surrogates from join.name', async (t) => {
    const e = await relayEnv(t);
    const a = await e.joined('r', 'Ann');
    const b = await e.client();
    const name = 'Bo\u0000b\u0007\u202Egnp.exe\u2066\u2069\u200E\u200F\u061C\u0085\u007F\uD800 \u{1F600}';
    const bw = await b.join('r', name);
    const joined = await a.client.next('peer-joined');
    assert.deepEqual(joined.peer, { id: bw.id, name: 'Bobgnp.exe \u{1F600}' });
    assert.deepEqual(bw.peers, [{ id: a.welcome.id, name: 'Ann' }]);
    assert.equal(displayName('Zoë 李'), 'Zoë 李');
  });
});
