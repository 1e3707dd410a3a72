import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { CloseCode } from '../../../src/protocol/relay.js';
import { createRelay, RELAY_DEFAULTS, type Relay, type RelayOptions } from '../../../server/src/index.js';
import { resolveRelayOptions } from '../../../server/src/options.js';
import { QUIET, TestClient, waitFor, relayEnv } from './helpers.js';

describe('relay: capacity', () => {
  it(`refuses the ${RELAY_DEFAULTS.maxPeersPerRoom + 1}th participant by default, and the refused socket stays usable`, async (t) => {
    const e = await relayEnv(t);
    const members = [];
    for (let i = 0; i < RELAY_DEFAULTS.maxPeersPerRoom; i++) members.push(await e.joined('full'));
    const late = await e.client();
    late.send({ type: 'join', room: 'full' });
    const error = await late.next('error');
    assert.equal(error.code, 'room-full');
    for (const m of members) await m.client.sync();
    // Member i heard of the members after it, and of nobody else.
    assert.deepEqual(
      members.map((m) => m.client.pending('peer-joined').length),
      members.map((_, i) => members.length - 1 - i),
      'nobody was told about the refused join',
    );
    assert.deepEqual((await late.join('other')).peers, []);
  });

  it('honours maxPeersPerRoom, and a freed seat can be taken', async (t) => {
    const e = await relayEnv(t, { maxPeersPerRoom: 2 });
    const a = await e.joined('duo');
    await e.joined('duo');
    const c = await e.client();
    c.send({ type: 'join', room: 'duo' });
    assert.equal((await c.next('error')).code, 'room-full');
    a.client.send({ type: 'leave' });
    assert.equal((await c.join('duo')).peers.length, 1);
  });
});

describe('relay: stats and empty rooms', () => {
  it('counts connections, rooms and peers, and removes empty rooms', async (t) => {
    const e = await relayEnv(t);
    const stats = () => e.running.relay.stats();
    assert.deepEqual(stats(), { connections: 0, rooms: 0, peers: 0 });
    const idle = await e.client();
    await waitFor(() => stats().connections === 1, 'connection counted');
    const a = await e.joined('one');
    const b = await e.joined('two');
    const c = await e.joined('two');
    assert.deepEqual(stats(), { connections: 4, rooms: 2, peers: 3 });

    a.client.send({ type: 'leave' });
    await a.client.sync();
    assert.deepEqual(stats(), { connections: 4, rooms: 1, peers: 2 });
    await b.client.close();
    await c.client.close();
    await idle.close();
    await waitFor(() => stats().connections === 1, 'closed sockets forgotten');
    assert.deepEqual(stats(), { connections: 1, rooms: 0, peers: 0 });
  });
});

describe('relay: heartbeat', () => {
  it('terminates a client that does not answer pings, tells its room, and keeps a live one', async (t) => {
    // Short enough for a quick test, long enough that a live client's pong is never late on a loaded machine.
    const heartbeatIntervalMs = 100;
    // Without a resume grace period, so that the room hears of the departure at once (resume.test.ts covers it).
    const e = await relayEnv(t, { heartbeatIntervalMs, resumeGraceMs: 0 });
    const live = await e.joined('r');
    // autoPong: false (ws ≥ 8.16) makes the client ignore pings, like a peer whose network vanished.
    const dead = await e.client({ autoPong: false });
    const deadId = (await dead.join('r')).id;
    await live.client.next('peer-joined');

    const left = await live.client.next('peer-left', 30 * heartbeatIntervalMs);
    assert.equal(left.id, deadId);
    // Terminated, not closed: no close frame was sent, so the client sees the abnormal-closure code.
    assert.equal((await dead.closed).code, 1006);
    // Several more periods: the live client, which pongs, stays.
    await new Promise((resolve) => setTimeout(resolve, 4 * heartbeatIntervalMs));
    assert.equal(live.client.socket.readyState, live.client.socket.OPEN);
    assert.deepEqual(e.running.relay.stats(), { connections: 1, rooms: 1, peers: 1 });
  });
});

describe('relay: options', () => {
  const invalid: [string, RelayOptions][] = [
    ['maxPeersPerRoom 0', { maxPeersPerRoom: 0 }],
    ['maxPeersPerRoom 2.5', { maxPeersPerRoom: 2.5 }],
    ['maxMessageBytes 0', { maxMessageBytes: 0 }],
    ['maxMessageBytes NaN', { maxMessageBytes: Number.NaN }],
    ['heartbeatIntervalMs -1', { heartbeatIntervalMs: -1 }],
    ['heartbeatIntervalMs 2^31', { heartbeatIntervalMs: 2 ** 31 }],
    ['heartbeatIntervalMs Infinity', { heartbeatIntervalMs: Number.POSITIVE_INFINITY }],
  ];
  for (const [name, options] of invalid) {
    it(`throws RangeError for ${name}`, () => {
      assert.throws(
        () => createRelay(options),
        (error: unknown) => error instanceof RangeError && error.message.startsWith(Object.keys(options)[0] ?? '?'),
      );
    });
  }

  it('throws TypeError for malformed iceServers', () => {
    for (const iceServers of [{}, [{}], [{ urls: 5 }], [{ urls: [] }], [{ urls: 'stun:x', username: 1 }]]) {
      assert.throws(
        () => createRelay({ iceServers } as unknown as RelayOptions),
        TypeError,
        JSON.stringify(iceServers),
      );
    }
  });

  it('treats undefined as the default', async () => {
    const options = { ...QUIET, maxPeersPerRoom: undefined, heartbeatIntervalMs: undefined };
    // Read back what createRelay resolves them to (it calls resolveRelayOptions first).
    const resolved = resolveRelayOptions(options);
    assert.equal(resolved.maxPeersPerRoom, RELAY_DEFAULTS.maxPeersPerRoom);
    assert.equal(resolved.heartbeatIntervalMs, RELAY_DEFAULTS.heartbeatIntervalMs);
    await createRelay(options).close();
  });

  it("has a status, as ws's server: running, closing while it drains, closed", async () => {
    const relay = createRelay(QUIET);
    assert.deepEqual([relay.status, relay.closing], ['running', false]);
    const drained = relay.close();
    assert.deepEqual([relay.status, relay.closing], ['closing', true]);
    assert.equal(relay.close(), drained, 'idempotent');
    await drained;
    assert.deepEqual([relay.status, relay.closing], ['closed', true]);
  });
});

describe('relay: attach and close', () => {
  async function listen(t: TestContext, relay: Relay, path?: string): Promise<{ server: Server; wsUrl: string }> {
    const server = createServer((_req, res) => res.writeHead(426).end());
    relay.attach(server, path === undefined ? {} : { path });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(async () => {
      await relay.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    });
    return { server, wsUrl: `ws://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }

  it('serves only the given path when attached with one', async (t) => {
    const relay = createRelay(QUIET);
    const { wsUrl } = await listen(t, relay, '/relay');
    const ok = await TestClient.connect(`${wsUrl}/relay?x=1`);
    t.after(() => ok.close());
    assert.equal((await ok.join('r')).room, 'r');
    await assert.rejects(TestClient.connect(`${wsUrl}/other`), /HTTP 404/);
  });

  it('close() sends 1012 to every client and refuses new upgrades', async (t) => {
    const relay = createRelay(QUIET);
    const { wsUrl } = await listen(t, relay);
    const a = await TestClient.connect(wsUrl);
    const b = await TestClient.connect(wsUrl);
    t.after(() => Promise.all([a.close(), b.close()]));
    await a.join('r');
    await relay.close();
    assert.equal((await a.closed).code, CloseCode.ServiceRestart);
    assert.equal((await b.closed).code, CloseCode.ServiceRestart);
    assert.deepEqual(relay.stats(), { connections: 0, rooms: 0, peers: 0 });
    await assert.rejects(TestClient.connect(wsUrl), /HTTP 503/);
    await relay.close();
  });
});
