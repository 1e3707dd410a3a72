/**
 * Every resource limit of the relay against a real server on loopback (message size and room capacity are in
 * relay-errors.test.ts and relay-limits.test.ts): messages per second, connections per address, time before join,
 * outgoing buffer, HTTP header and request timeouts. Plus the pure parts (token bucket, address keys).
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { CloseCode, MAX_MESSAGE_BYTES } from '../../../src/protocol/relay.js';
import { addressKey } from '../../../server/src/address.js';
import { createRelay, RELAY_DEFAULTS, startServer } from '../../../server/src/index.js';
import { TokenBucket } from '../../../server/src/rate-limit.js';
import { QUIET, sample, stopReading, TestClient, waitFor, withTimeout, WAIT_MS, relayEnv } from './helpers.js';

describe('limits: token bucket (no network)', () => {
  const limit = { perSecond: 10, burst: 5, closeAfter: 3 };

  it('passes a burst, refuses beyond it, closes after the overdraft', () => {
    const bucket = new TokenBucket(limit, 0);
    assert.deepEqual(
      Array.from({ length: 5 }, () => bucket.take(0)),
      ['pass', 'pass', 'pass', 'pass', 'pass'],
    );
    assert.deepEqual([bucket.take(0), bucket.take(0), bucket.take(0)], ['refuse', 'refuse', 'close']);
  });

  it('refills at the rate, never beyond the burst', () => {
    const bucket = new TokenBucket(limit, 0);
    for (let i = 0; i < 5; i++) bucket.take(0);
    assert.equal(bucket.take(0), 'refuse'); // balance -1
    assert.equal(bucket.take(250), 'pass'); // +2.5 → 1.5, takes 1
    assert.equal(bucket.take(10_000), 'pass');
    assert.equal(bucket.tokens, limit.burst - 1);
  });

  it('serves a sender at the sustained rate forever, and closes one slightly above it', () => {
    const steady = new TokenBucket(limit, 0);
    for (let t = 0; t < 60_000; t += 100) assert.equal(steady.take(t), 'pass');
    const greedy = new TokenBucket(limit, 0);
    let verdict = 'pass';
    let t = 0;
    for (; t < 60_000 && verdict !== 'close'; t += 80) verdict = greedy.take(t); // 12.5/s against 10/s
    assert.equal(verdict, 'close');
  });
});

describe('limits: messages per second per socket', () => {
  it('never limits a six-person mesh join with trickle ICE, sent as fast as possible (defaults)', async (t) => {
    const e = await relayEnv(t);
    const sdp = `v=0\r\n${'a=x-filler:0123456789abcdef\r\n'.repeat(200)}`; // ~6 KB, a realistic offer
    const CANDIDATES = 60; // per direction and pair: many interfaces, IPv4 and IPv6, TURN over UDP and TCP
    const peers: { client: TestClient; id: string }[] = [];
    let expected = 0;
    const expectedAt = new Map<TestClient, number>();
    for (let n = 0; n < 6; n++) {
      const client = await e.client();
      const welcome = await client.join('mesh');
      // The newcomer offers to everyone; everyone answers. Both trickle their candidates, then end-of-candidates.
      for (const other of peers) {
        for (const [from, to] of [
          [client, other.id],
          [other.client, welcome.id],
        ] as const) {
          const offer = from === client;
          from.send({ type: 'signal', to, data: { gen: 0, description: { type: offer ? 'offer' : 'answer', sdp } } });
          for (let c = 0; c < CANDIDATES; c++) {
            from.send({
              type: 'signal',
              to,
              data: {
                gen: 0,
                candidate: { candidate: `candidate:${c} 1 udp 1 192.0.2.${c} 5000 typ host`, sdpMid: '0' },
              },
            });
          }
          from.send({ type: 'signal', to, data: { gen: 0, candidate: null } });
          expected += CANDIDATES + 2;
        }
        expectedAt.set(other.client, (expectedAt.get(other.client) ?? 0) + CANDIDATES + 2);
      }
      expectedAt.set(client, peers.length * (CANDIDATES + 2));
      peers.push({ client, id: welcome.id });
    }
    for (const { client } of peers) {
      await client.sync();
      assert.deepEqual(client.pending('error'), [], 'no error, in particular no rate-limited');
      assert.equal(client.pending('signal').length, expectedAt.get(client));
    }
    const text = await e.running.relay.metrics.metrics();
    assert.equal(sample(text, 'video_chat_rate_limited_total'), 0);
    assert.equal(sample(text, 'video_chat_messages_relayed_total'), expected);
  });

  it('answers a flood with rate-limited, then closes it with 1008; a client in another room is unaffected', async (t) => {
    const e = await relayEnv(t);
    const flooder = await e.joined('flood');
    const victim = await e.joined('flood');
    const control = await e.joined('calm');
    const partner = await e.joined('calm');
    let controlRoundTrips = 0;
    let flooding = true;
    // The control pair keeps talking (with a round trip each time) for as long as the flood lasts.
    const chatter = (async () => {
      while (flooding) {
        control.client.send({ type: 'signal', to: partner.welcome.id, data: { n: controlRoundTrips } });
        await partner.client.next('signal');
        controlRoundTrips++;
      }
    })();
    const SENT = 3000;
    const floodStarted = performance.now();
    for (let i = 0; i < SENT; i++) flooder.client.send({ type: 'signal', to: victim.welcome.id, data: { i } });
    const closed = await withTimeout(flooder.client.closed, 2 * WAIT_MS, 'the flooder being closed');
    const floodMs = performance.now() - floodStarted;
    flooding = false;
    await chatter;
    assert.equal(closed.code, CloseCode.PolicyViolation);
    assert.equal(closed.reason, 'rate limit exceeded');
    const limited = flooder.client.pending('error').filter((m) => m.type === 'error' && m.code === 'rate-limited');
    assert.ok(limited.length > 0, 'told it was rate-limited before the close');
    // The bucket keeps refilling while the flooder is in debt, so on a slow machine a few more refusals fit in
    // before the debt reaches rateLimitCloseAfter: at most one per token refilled during the flood.
    const refilled = Math.ceil((floodMs * RELAY_DEFAULTS.rateLimitPerSecond) / 1000);
    assert.ok(
      limited.length <= RELAY_DEFAULTS.rateLimitCloseAfter + refilled,
      `at most rateLimitCloseAfter (+${refilled} refilled in ${Math.round(floodMs)} ms) answers, got ${limited.length}`,
    );
    assert.equal((await victim.client.next('peer-left')).id, flooder.welcome.id);
    await victim.client.sync();
    const delivered = victim.client.pending('signal').length;
    assert.ok(delivered >= RELAY_DEFAULTS.rateLimitBurst && delivered < SENT / 2, `delivered ${delivered}`);
    assert.ok(controlRoundTrips > 0, 'the control pair got through during the flood');
    // …and after it.
    control.client.send({ type: 'signal', to: partner.welcome.id, data: { after: true } });
    assert.deepEqual((await partner.client.next('signal')).data, { after: true });
    assert.equal(control.client.pending('error').length, 0);
    const text = await e.running.relay.metrics.metrics();
    assert.ok((sample(text, 'video_chat_rate_limited_total') ?? 0) >= limited.length);
  });

  it('honours configured rates', async (t) => {
    const e = await relayEnv(t, { rateLimitPerSecond: 1, rateLimitBurst: 3, rateLimitCloseAfter: 2 });
    const client = await e.client();
    for (let i = 0; i < 10; i++) client.send({ type: 'nonsense' });
    assert.equal((await client.closed).code, CloseCode.PolicyViolation);
    const codes = client.pending('error').map((m) => m.type === 'error' && m.code);
    // Three pass (and are answered for what they are), then the overdraft: refused until it reaches two, then closed.
    assert.deepEqual(codes.slice(0, 3), ['bad-message', 'bad-message', 'bad-message']);
    assert.ok(codes.slice(3).length >= 1 && codes.slice(3).length <= 2, codes.join());
    assert.ok(codes.slice(3).every((c) => c === 'rate-limited'));
  });
});

describe('limits: connections per address', () => {
  it('answers 429 before the upgrade beyond the limit, and frees the slot on close', async (t) => {
    const e = await relayEnv(t, { maxConnectionsPerIp: 3 });
    const open = [await e.client(), await e.client(), await e.client()];
    await assert.rejects(TestClient.connect(e.wsUrl), /HTTP 429/);
    assert.equal(e.running.relay.stats().connections, 3, 'the refused upgrade left no state');
    await open[0]?.close();
    await waitFor(() => e.running.relay.stats().connections === 2, 'the closed one forgotten');
    await e.client();
    const text = await e.running.relay.metrics.metrics();
    assert.equal(sample(text, 'video_chat_upgrades_rejected_total', { reason: 'ip-limit' }), 1);
  });

  it('counts by X-Forwarded-For only with trustProxy', async (t) => {
    const behind = await relayEnv(t, { maxConnectionsPerIp: 1, trustProxy: true });
    await behind.client({ headers: { 'X-Forwarded-For': '198.51.100.7, 203.0.113.1' } });
    await behind.client({ headers: { 'X-Forwarded-For': '203.0.113.2' } });
    await assert.rejects(
      TestClient.connect(behind.wsUrl, { headers: { 'X-Forwarded-For': '198.51.100.9, 203.0.113.1' } }),
      /HTTP 429/,
      'only the last (proxy-appended) entry counts',
    );
    const direct = await relayEnv(t, { maxConnectionsPerIp: 1 });
    await direct.client({ headers: { 'X-Forwarded-For': '203.0.113.1' } });
    await assert.rejects(
      TestClient.connect(direct.wsUrl, { headers: { 'X-Forwarded-For': '203.0.113.2' } }),
      /HTTP 429/,
    );
  });

  it('can be turned off with 0', async (t) => {
    // More than the default limit: with 0 taken for "default", the last connection would be refused with 429.
    const e = await relayEnv(t, { maxConnectionsPerIp: 0 });
    const count = RELAY_DEFAULTS.maxConnectionsPerIp + 1;
    for (let i = 0; i < count; i++) await e.client();
    assert.equal(e.running.relay.stats().connections, count);
  });

  it('keys IPv4 as is, IPv4-mapped IPv6 as IPv4, other IPv6 by /64', () => {
    assert.equal(addressKey('192.0.2.1'), '192.0.2.1');
    assert.equal(addressKey('::ffff:192.0.2.1'), '192.0.2.1');
    assert.equal(addressKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:0db8:0001:0002::9'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
    assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(addressKey('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64');
    assert.equal(addressKey(''), '');
  });
});

describe('limits: time allowed before join', () => {
  it('closes a connection that does not join in time with 4000, and one that stays out after leave', async (t) => {
    const joinTimeoutMs = 200;
    const e = await relayEnv(t, { joinTimeoutMs });
    // Before the connection: the relay's timer starts when it accepts it (the joins below may take longer than the
    // timeout on a loaded machine, so a clock started after them proves nothing).
    const started = Date.now();
    const idle = await e.client();
    const member = await e.joined('r');
    const leaver = await e.joined('r');
    const closed = await withTimeout(idle.closed, joinTimeoutMs + WAIT_MS, 'the join timeout');
    assert.deepEqual(closed, { code: CloseCode.JoinTimeout, reason: 'join timeout' });
    assert.ok(Date.now() - started >= joinTimeoutMs - 50);
    // A joined connection is not affected, however long it stays.
    await new Promise((resolve) => setTimeout(resolve, 2 * joinTimeoutMs));
    assert.equal(member.client.socket.readyState, member.client.socket.OPEN);
    leaver.client.send({ type: 'leave' });
    assert.equal(
      (await withTimeout(leaver.client.closed, joinTimeoutMs + WAIT_MS, 'timeout after leave')).code,
      CloseCode.JoinTimeout,
    );
    assert.equal(member.client.socket.readyState, member.client.socket.OPEN);
  });
});

describe('limits: outgoing buffer', () => {
  it('pushes back on the sender of a client that stops reading; the heartbeat, not the sender, drops it', async (t) => {
    const maxBufferedBytes = 4 * MAX_MESSAGE_BYTES;
    // Without a resume grace period, so that the room hears of the departure at once (resume.test.ts covers it).
    const e = await relayEnv(t, {
      maxBufferedBytes,
      rateLimitBurst: 10_000,
      rateLimitPerSecond: 10_000,
      resumeGraceMs: 0,
    });
    const sender = await e.joined('r');
    const stalled = await e.joined('r');
    const reader = await e.joined('r');
    await sender.client.next('peer-joined');
    await sender.client.next('peer-joined');
    await stalled.client.next('peer-joined');
    stopReading(stalled.client);

    const pad = 'x'.repeat(MAX_MESSAGE_BYTES - 200);
    // Far more than the kernel's socket buffers hold: the relay's own queue must reach the push-back mark.
    let sent = 0;
    const pushedBack = (): boolean =>
      sender.client.pending('error').some((m) => m.type === 'error' && m.code === 'rate-limited');
    while (sent < 2000 && !pushedBack()) {
      sender.client.send({ type: 'signal', to: stalled.welcome.id, data: { pad } });
      sent++;
      if (sent % 50 === 0) {
        // The sender is never blocked: its own round trip stays prompt while the stalled queue grows.
        sender.client.send({ type: 'signal', to: reader.welcome.id, data: { sent } });
        assert.equal((await reader.client.next('signal')).data['sent'], sent);
        await sender.client.sync();
      }
    }
    await sender.client.sync();
    const refusal = sender.client.pending('error').find((m) => m.type === 'error' && m.code === 'rate-limited');
    assert.ok(
      refusal?.type === 'error' && refusal.message.includes(JSON.stringify(stalled.welcome.id)),
      `the sender is told which peer is not reading: ${JSON.stringify(refusal)}`,
    );
    assert.equal(e.running.relay.stats().peers, 3, 'the stalled client is not dropped for what another one sent it');
    assert.equal(sender.client.pending('peer-left').length, 0);
    // Its own side never reads, so it would not answer a ping: that is what drops a client that reads nothing.
    stalled.client.socket.terminate();
    assert.equal((await sender.client.next('peer-left')).id, stalled.welcome.id);
    const text = await e.running.relay.metrics.metrics();
    assert.equal(sample(text, 'video_chat_connections_closed_by_relay_total', { code: '1006' }) ?? 0, 0);
    sender.client.send({ type: 'signal', to: reader.welcome.id, data: { done: true } });
    assert.deepEqual((await reader.client.next('signal')).data, { done: true });
  });
});

describe('limits: HTTP timeouts', () => {
  /** Opens a raw TCP connection, writes `text`, and resolves with what the server sent when it closed. */
  function trickle(port: number, text: string, ms: number): Promise<{ reply: string; after: number }> {
    const started = Date.now();
    return withTimeout(
      new Promise((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.write(text));
        let reply = '';
        socket.setEncoding('utf8').on('data', (chunk: string) => (reply += chunk));
        socket.on('error', reject);
        socket.on('close', () => resolve({ reply, after: Date.now() - started }));
      }),
      ms,
      'the server to drop a slow request',
    );
  }

  it('drops a client that does not finish its headers in time (plain or upgrade), keeps open WebSockets', async (t) => {
    const e = await relayEnv(t, { headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const ws = await e.joined('r');
    for (const start of [
      'GET / HTTP/1.1\r\nHost: x\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n',
    ]) {
      const { reply, after } = await trickle(e.running.port, start, 3000);
      assert.match(reply, /^HTTP\/1\.1 408/);
      assert.ok(after >= 250 && after < 2000, `dropped after ${after} ms`);
    }
    // Well past requestTimeoutMs, the upgraded socket still works.
    await new Promise((resolve) => setTimeout(resolve, 800));
    await ws.client.sync();
  });

  it('refuses headersTimeoutMs above requestTimeoutMs', async () => {
    await assert.rejects(
      startServer({ ...QUIET, port: 0, host: '127.0.0.1', headersTimeoutMs: 2000, requestTimeoutMs: 1000 }),
      /^RangeError: headersTimeoutMs \(2000\) must not exceed requestTimeoutMs \(1000\)/,
    );
  });
});

describe('limits: option validation', () => {
  const invalid: [string, Record<string, unknown>, RegExp][] = [
    ['rateLimitPerSecond 0', { rateLimitPerSecond: 0 }, /^RangeError: rateLimitPerSecond/],
    ['rateLimitBurst 0', { rateLimitBurst: 0 }, /^RangeError: rateLimitBurst/],
    ['rateLimitCloseAfter 1.5', { rateLimitCloseAfter: 1.5 }, /^RangeError: rateLimitCloseAfter/],
    ['maxConnectionsPerIp -1', { maxConnectionsPerIp: -1 }, /^RangeError: maxConnectionsPerIp/],
    ['joinTimeoutMs 0', { joinTimeoutMs: 0 }, /^RangeError: joinTimeoutMs/],
    ['trustProxy "yes"', { trustProxy: 'yes' }, /^TypeError: trustProxy/],
    [
      'maxBufferedBytes below twice maxMessageBytes',
      { maxMessageBytes: 1000, maxBufferedBytes: 1999 },
      /^RangeError: maxBufferedBytes must be at least twice maxMessageBytes \(2000\)/,
    ],
    [
      'pushBackBufferedBytes above maxBufferedBytes - maxMessageBytes',
      { maxMessageBytes: 1000, maxBufferedBytes: 4000, pushBackBufferedBytes: 3001 },
      /^RangeError: pushBackBufferedBytes must be an integer in 0..3000/,
    ],
    ['maxResumingPeers -1', { maxResumingPeers: -1 }, /^RangeError: maxResumingPeers/],
    ['maxResumeQueueTotalBytes 0.5', { maxResumeQueueTotalBytes: 0.5 }, /^RangeError: maxResumeQueueTotalBytes/],
  ];
  for (const [name, options, message] of invalid) {
    it(`throws for ${name}`, () => {
      assert.throws(() => createRelay({ ...QUIET, ...options }), message);
    });
  }
});
