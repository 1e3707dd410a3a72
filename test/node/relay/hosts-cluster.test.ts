/**
 * Hosts and guests across two real relay processes sharing a real redis-server (`server/src/hosts/shared-state.ts`,
 * `shared-host-participants.ts`): the waiting queue, the lock, removals, the end and hosts' requests are room state,
 * decided in Redis and delivered on each relay to its own participants. `welcome.role` and `room-state` as in one
 * process; a removed participant is gone at once, in its grace period too.
 */
import assert from 'node:assert/strict';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it, type TestContext } from 'node:test';
import type { JWTPayload } from 'jose';
import { CloseCode, type WelcomeMessage } from '../../../src/protocol/relay.js';
import { startRedis, startRelays, CALM_ARGS, type RedisServer } from './cluster-helpers.js';
import { TestClient, withTimeout, WAIT_MS, type CloseInfo, type RelayProcess } from './helpers.js';
import { received, SECRET, token } from './hosts-helpers.js';

/** Resume grace of these relays: long, so that a `peer-left` seen sooner cannot be the grace ending. */
const GRACE_MS = 30_000;
/** How long a `peer-left` that must come "at once" may take (Redis and two channels in between, a loaded machine). */
const AT_ONCE_MS = 5_000;

/** Relays A and B sharing a new redis-server, with room tokens. */
async function twoRelays(t: TestContext, extra: readonly string[] = []): Promise<[RelayProcess, RelayProcess]> {
  const redis = await startRedis(t);
  const [a, b] = await startRelays(
    t,
    redis,
    2,
    [`--token-secret=${SECRET}`, ...extra],
    [...CALM_ARGS, '--resume-grace-ms', String(GRACE_MS)],
  );
  return [a as RelayProcess, b as RelayProcess];
}

/** A TCP proxy in front of Redis whose connections named `name` (`CLIENT SETNAME`) can be made late. */
interface LateProxy {
  /** `redis://127.0.0.1:PORT`. */
  readonly url: string;
  /** Whether what those connections send from now on reaches Redis {@link LATE_MS} late (order kept). */
  late: boolean;
}

/** How late a late connection's commands reach Redis (ms): far longer than a host's action takes on a loaded machine. */
const LATE_MS = 3_000;

/**
 * Starts a {@link LateProxy} to the TCP `redis`: the relay's hosts connection (`video-chat-hosts`) behind it can be
 * made late, so that its commands reach Redis after those of another relay sent later.
 */
async function startLateProxy(t: TestContext, redis: RedisServer, name: string): Promise<LateProxy> {
  const port = Number(new URL(redis.url).port);
  const sockets = new Set<Socket>();
  const proxy = { url: '', late: false };
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => (client.destroy(), upstream.destroy()));
    }
    let named: boolean | undefined;
    let queue = Promise.resolve();
    client.on('data', (chunk: Buffer) => {
      named ??= chunk.includes(name);
      // Each chunk LATE_MS after it came (not one after the other), in order.
      const due = performance.now() + (named && proxy.late ? LATE_MS : 0);
      queue = queue.then(() => sleep(Math.max(0, due - performance.now()))).then(() => void upstream.write(chunk));
    });
    upstream.pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  proxy.url = `redis://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}

/** A client of `relay` sending a protocol-2 join with a token of `claims`; closed when the test ends. */
async function knockOrJoin(
  t: TestContext,
  relay: RelayProcess,
  room: string,
  claims: JWTPayload = {},
  name = '',
): Promise<TestClient> {
  const client = await TestClient.connect(relay.wsUrl);
  t.after(() => client.close());
  client.send({ type: 'join', room, name, protocol: 2, token: await token(room, claims) });
  return client;
}

async function enter(
  t: TestContext,
  relay: RelayProcess,
  room: string,
  claims: JWTPayload = {},
  name = '',
): Promise<{ client: TestClient; welcome: WelcomeMessage }> {
  const client = await knockOrJoin(t, relay, room, claims, name);
  return { client, welcome: await client.next('welcome') };
}

/** The close of `client`, waited for at most {@link WAIT_MS}. */
const closed = (client: TestClient): Promise<CloseInfo> => withTimeout(client.closed, WAIT_MS, 'the socket to close');

const host = (t: TestContext, relay: RelayProcess, room: string): ReturnType<typeof enter> =>
  enter(t, relay, room, { role: 'host' }, 'Host');

describe('hosts across relays: the waiting room', () => {
  it('a guest knocking on B is seen by the host on A, who admits it: it joins with its role, both see room-state', async (t) => {
    const [a, b] = await twoRelays(t);
    const h = await host(t, a, 'r');
    assert.equal(h.welcome.role, 'host');
    assert.deepEqual(await h.client.next('room-state'), { type: 'room-state', locked: false, hosts: [h.welcome.id] });
    const knocker = await knockOrJoin(t, b, 'r', { knock: true }, 'Kim');
    assert.deepEqual(await knocker.next('waiting'), { type: 'waiting', room: 'r', hosts: 1, timeoutMs: 300_000 });
    const { knock } = await h.client.next('knocking');
    assert.equal(knock.name, 'Kim');
    h.client.send({ type: 'admit', knock: knock.id });
    const welcome = await knocker.next('welcome');
    assert.equal(welcome.role, 'guest');
    assert.deepEqual(
      welcome.peers.map((p) => p.id),
      [h.welcome.id],
    );
    assert.deepEqual(await knocker.next('room-state'), { type: 'room-state', locked: false, hosts: [h.welcome.id] });
    assert.equal((await h.client.next('peer-joined')).peer.id, welcome.id);
    assert.deepEqual(await h.client.next('knock-ended'), { type: 'knock-ended', knock: knock.id, outcome: 'admitted' });
    // A second host, on B: everyone on both relays hears the hosts change, in joining order.
    const second = await host(t, b, 'r');
    const hosts = [h.welcome.id, second.welcome.id];
    assert.deepEqual((await h.client.next('room-state')).hosts, hosts);
    assert.deepEqual((await knocker.next('room-state')).hosts, hosts);
    // A host's request reaches a participant on the other relay.
    h.client.send({ type: 'ask-unmute', to: welcome.id, media: 'microphone' });
    assert.deepEqual(await knocker.next('ask-unmute'), { type: 'ask-unmute', from: h.welcome.id, media: 'microphone' });
  });

  it('a knocker disconnecting on B leaves the queue of the host on A', async (t) => {
    const [a, b] = await twoRelays(t);
    const h = await host(t, a, 'r');
    const knocker = await knockOrJoin(t, b, 'r', { knock: true }, 'Kim');
    await knocker.next('waiting');
    const { knock } = await h.client.next('knocking');
    await knocker.close();
    assert.deepEqual(await h.client.next('knock-ended'), { type: 'knock-ended', knock: knock.id, outcome: 'left' });
    // A host arriving later, on either relay, is shown no queue; admitting the gone knock is unknown.
    const later = await host(t, b, 'r');
    await later.client.next('room-state');
    assert.ok(!(await received(later.client)).includes('knocking'));
    h.client.send({ type: 'admit', knock: knock.id });
    assert.equal((await h.client.next('error')).code, 'unknown-peer');
  });

  it('two hosts on A and B admitting the same knock at once admit it once', async (t) => {
    const [a, b] = await twoRelays(t);
    const ha = await host(t, a, 'r');
    const hb = await host(t, b, 'r');
    const knocker = await knockOrJoin(t, b, 'r', { knock: true }, 'Kim');
    await knocker.next('waiting');
    const { knock } = await ha.client.next('knocking');
    assert.equal((await hb.client.next('knocking')).knock.id, knock.id);
    ha.client.send({ type: 'admit', knock: knock.id });
    hb.client.send({ type: 'admit', knock: knock.id });
    const welcome = await knocker.next('welcome');
    for (const h of [ha, hb]) {
      assert.deepEqual(await h.client.next('knock-ended'), {
        type: 'knock-ended',
        knock: knock.id,
        outcome: 'admitted',
      });
    }
    // Exactly one of the two admissions was refused; the knocker got one welcome and is in the room once.
    const pending = [...(await received(ha.client)), ...(await received(hb.client))];
    const refusals = [...ha.client.pending('error'), ...hb.client.pending('error')];
    assert.equal(refusals.length, 1, `one refusal, got ${JSON.stringify(pending)}`);
    assert.equal(refusals[0]?.type === 'error' ? refusals[0].code : '', 'unknown-peer');
    assert.ok(!(await received(knocker)).includes('welcome'), 'one welcome only');
    const joined = [...ha.client.pending('peer-joined'), ...hb.client.pending('peer-joined')].filter(
      (m) => m.type === 'peer-joined' && m.peer.id === welcome.id,
    );
    assert.equal(joined.length, 2, 'each host saw it join once');
  });
});

describe('hosts across relays: lock, remove, end', () => {
  it('a lock on A refuses a guest joining or knocking on B, not a host', async (t) => {
    const [a, b] = await twoRelays(t);
    const h = await host(t, a, 'r');
    await h.client.next('room-state');
    const g = await enter(t, b, 'r');
    await g.client.next('room-state');
    h.client.send({ type: 'lock' });
    assert.deepEqual(await g.client.next('room-state'), { type: 'room-state', locked: true, hosts: [h.welcome.id] });
    assert.equal((await (await knockOrJoin(t, b, 'r')).next('error')).code, 'room-locked');
    assert.equal((await (await knockOrJoin(t, b, 'r', { knock: true })).next('error')).code, 'room-locked');
    const second = await host(t, b, 'r');
    assert.equal(second.welcome.role, 'host');
    assert.deepEqual(await g.client.next('room-state'), {
      type: 'room-state',
      locked: true,
      hosts: [h.welcome.id, second.welcome.id],
    });
    h.client.send({ type: 'unlock' });
    assert.equal((await g.client.next('room-state')).locked, false);
    assert.equal((await enter(t, b, 'r')).welcome.room, 'r');
  });

  it('a participant on B removed by the host on A is closed with 4004 and its token is refused on both relays', async (t) => {
    const [a, b] = await twoRelays(t);
    const h = await host(t, a, 'r');
    const g = await enter(t, b, 'r', { jti: 'guest-1' }, 'Gus');
    await h.client.next('peer-joined');
    h.client.send({ type: 'remove', id: g.welcome.id });
    assert.deepEqual(await closed(g.client), { code: CloseCode.Removed, reason: 'removed by a host' });
    assert.deepEqual(await h.client.next('peer-left', AT_ONCE_MS), { type: 'peer-left', id: g.welcome.id });
    for (const relay of [b, a]) {
      assert.equal((await (await knockOrJoin(t, relay, 'r', { jti: 'guest-1' })).next('error')).code, 'removed');
      const knock = await knockOrJoin(t, relay, 'r', { jti: 'guest-1', knock: true });
      assert.equal((await knock.next('error')).code, 'removed');
    }
    assert.equal((await enter(t, b, 'r', { jti: 'guest-2' })).welcome.room, 'r');
  });

  it("a removal that reaches Redis before the participant's role is recorded still refuses its token", async (t) => {
    // Relay B records a member's role (its token ID) in Redis after the welcome, on its hosts connection; the host on A
    // may remove it before that lands. Here B's hosts connection is made late so that it always does.
    const redis = await startRedis(t, { tcp: true });
    const proxy = await startLateProxy(t, redis, 'video-chat-hosts');
    const args = [`--token-secret=${SECRET}`];
    const timings = [...CALM_ARGS, '--resume-grace-ms', String(GRACE_MS)];
    const [[a], [b]] = (await Promise.all([
      startRelays(t, redis, 1, args, timings),
      startRelays(t, { ...redis, url: proxy.url }, 1, args, timings),
    ])) as [[RelayProcess], [RelayProcess]];
    const h = await host(t, a, 'r');
    proxy.late = true;
    const g = await enter(t, b, 'r', { jti: 'guest-1' }, 'Gus');
    await h.client.next('peer-joined');
    h.client.send({ type: 'remove', id: g.welcome.id });
    assert.deepEqual(await closed(g.client), { code: CloseCode.Removed, reason: 'removed by a host' });
    proxy.late = false;
    assert.deepEqual(await h.client.next('peer-left', AT_ONCE_MS), { type: 'peer-left', id: g.welcome.id });
    for (const relay of [b, a]) {
      const again = await knockOrJoin(t, relay, 'r', { jti: 'guest-1' });
      const refusal = await again.next('error', WAIT_MS + LATE_MS).catch(async (error: unknown) => {
        throw new Error(`${String(error)}; received instead: ${(await received(again)).join(', ')}`);
      });
      assert.equal(refusal.code, 'removed');
    }
  });

  it('a participant removed in its grace period is gone at once for the others and cannot resume', async (t) => {
    const [a, b] = await twoRelays(t);
    const h = await host(t, a, 'r');
    const g = await enter(t, b, 'r', { jti: 'guest-1' });
    await h.client.next('peer-joined');
    g.client.socket.terminate(); // a lost network: B keeps it for its 30 s grace
    await closed(g.client);
    await new Promise((resolve) => setTimeout(resolve, 300));
    h.client.send({ type: 'remove', id: g.welcome.id });
    assert.deepEqual(await h.client.next('peer-left', AT_ONCE_MS), { type: 'peer-left', id: g.welcome.id });
    const back = await TestClient.connect(b.wsUrl);
    t.after(() => back.close());
    back.send({ type: 'join', room: 'r', protocol: 2, resume: { id: g.welcome.id, secret: g.welcome.resume ?? '' } });
    assert.equal((await back.next('error')).code, 'resume-failed');
  });

  it('end from A closes everyone on B with 4005 and denies the knockers there', async (t) => {
    const [a, b] = await twoRelays(t);
    const h = await host(t, a, 'r');
    const g1 = await enter(t, b, 'r');
    const g2 = await enter(t, b, 'r');
    const knocker = await knockOrJoin(t, b, 'r', { knock: true });
    await knocker.next('waiting');
    await h.client.next('knocking');
    const elsewhere = await enter(t, b, 'other');
    h.client.send({ type: 'end' });
    for (const c of [h.client, g1.client, g2.client]) assert.equal((await closed(c)).code, CloseCode.Ended);
    assert.deepEqual(await knocker.next('denied'), { type: 'denied', reason: 'ended' });
    assert.deepEqual(await received(elsewhere.client), ['room-state']);
  });
});
