/**
 * The cross-process fast path (issue 11: a signal to a participant cached as live on another relay is one `PUBLISH`
 * to that relay's channel, not `route.lua`), against real parts: a `redis-server`, three relay processes. A stale
 * cached route must never deliver to the wrong participant or into another room (the receiving relay checks, and
 * answers `unknown-peer` exactly as `route` would), and a sender switching away from a stale route must not reorder
 * its signals.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TestClient, WAIT_MS } from './helpers.js';
import {
  CALM_ARGS,
  metric,
  startFreezableProxy,
  startRedis,
  startRelays,
  subscriberPorts,
  waitForAsync,
  type RedisServer,
} from './cluster-helpers.js';

const idle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The node (relay incarnation) Redis says serves participant `id`. */
const nodeOf = (redis: RedisServer, id: string): Promise<string> => redis.cli('HGET', `vc:peer:${id}`, 'node');

/** Publishes what a relay with a stale cached route would: a fast-path frame for `to` to `node`'s channel. */
async function staleFrame(
  redis: RedisServer,
  node: string,
  to: string,
  from: string,
  fromNode: string,
  room: string,
  data: unknown,
): Promise<void> {
  const frame = JSON.stringify({ type: 'signal', from, data });
  await redis.cli('PUBLISH', `vc:ch:${node}`, `f${to} ${from} ${fromNode} ${room}\n${frame}`);
}

async function waitForState(redis: RedisServer, id: string, state: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while ((await redis.cli('HGET', `vc:peer:${id}`, 'state')) !== state) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${id} to be ${state}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('cross-process fast path (cached routes)', () => {
  it('a stale cached route never delivers to another room, to a member that left or to a newcomer; a moved member still gets it once; the sender gets unknown-peer as with route', async (t) => {
    const redis = await startRedis(t);
    const [a, b, c] = await startRelays(t, redis, 3, [], CALM_ARGS);
    assert.ok(a && b && c);
    const ada = await TestClient.connect(a.wsUrl);
    const bob = await TestClient.connect(b.wsUrl);
    const eve = await TestClient.connect(b.wsUrl);
    const clients = [ada, bob, eve];
    t.after(() => Promise.all(clients.map((x) => x.close())));
    const wa = await ada.join('r', 'Ada');
    const wb = await bob.join('r', 'Bob');
    const we = await eve.join('other', 'Eve');
    assert.equal((await ada.next('peer-joined')).peer.id, wb.id);
    const [nodeA, nodeB] = [await nodeOf(redis, wa.id), await nodeOf(redis, wb.id)];

    // The fast path is taken: delivered, nothing re-routed on b.
    ada.send({ type: 'signal', to: wb.id, data: { n: 1 } });
    assert.deepEqual((await bob.next('signal')).data, { n: 1 });
    assert.equal(await metric(a, 'video_chat_route_total', { outcome: 'sent' }), 1);
    assert.equal(await metric(b, 'video_chat_route_total', { outcome: 'detour' }), undefined);

    // A route naming b for Eve, who is on b but in another room: not delivered, Ada told unknown-peer.
    await staleFrame(redis, nodeB, we.id, wa.id, nodeA, 'r', { leak: 'room' });
    const e1 = await ada.next('error');
    assert.equal(e1.code, 'unknown-peer');
    assert.match(e1.message, new RegExp(we.id));

    // Bob moves to c (connection lost, resumed there): a stale route to b still reaches him, once, on c.
    assert.ok(wb.resume);
    bob.socket.terminate();
    await bob.closed;
    await waitForState(redis, wb.id, 'grace');
    const bob2 = await TestClient.connect(c.wsUrl);
    clients.push(bob2);
    const resumed = await bob2.join('r', undefined, { resume: { id: wb.id, secret: wb.resume } });
    assert.equal(resumed.resumed, true);
    await staleFrame(redis, nodeB, wb.id, wa.id, nodeA, 'r', { moved: 1 });
    const got = await bob2.next('signal');
    assert.deepEqual([got.from, got.data], [wa.id, { moved: 1 }]);

    // Bob leaves; Cyd joins the same room on b (she reuses nothing of his). A stale route for Bob reaches nobody.
    await bob2.close();
    assert.equal((await ada.next('peer-left')).id, wb.id);
    const cyd = await TestClient.connect(b.wsUrl);
    clients.push(cyd);
    const wc = await cyd.join('r', 'Cyd');
    assert.equal((await ada.next('peer-joined')).peer.id, wc.id);
    await staleFrame(redis, nodeB, wb.id, wa.id, nodeA, 'r', { leak: 'left' });
    await staleFrame(redis, await nodeOf(redis, wc.id), wb.id, wa.id, nodeA, 'r', { leak: 'newcomer' });
    for (let i = 0; i < 2; i++) assert.equal((await ada.next('error')).code, 'unknown-peer');

    // And Ada's own route to Bob is gone: route says unknown-peer.
    ada.send({ type: 'signal', to: wb.id, data: {} });
    assert.equal((await ada.next('error')).code, 'unknown-peer');
    for (const x of [ada, eve, cyd]) await x.sync();
    assert.deepEqual(eve.pending(), [], 'nothing leaked into the other room');
    assert.deepEqual(cyd.pending(), [], 'nothing reached the newcomer');
    assert.deepEqual(ada.pending(), []);
    assert.ok(((await metric(b, 'video_chat_route_total', { outcome: 'detour' })) ?? 0) >= 3);
  });

  it("a full resume queue met through the fast path answers what one process answers (unknown-peer, 'is reconnecting and its queue is full'), and the queued signals reach the addressee when it resumes", async (t) => {
    const redis = await startRedis(t);
    const [a, b] = await startRelays(t, redis, 2, ['--resume-queue-bytes', '2000'], CALM_ARGS);
    assert.ok(a && b);
    const ada = await TestClient.connect(a.wsUrl);
    const bob = await TestClient.connect(b.wsUrl);
    const clients = [ada, bob];
    t.after(() => Promise.all(clients.map((x) => x.close())));
    await ada.join('q', 'Ada');
    const wb = await bob.join('q', 'Bob');
    assert.equal((await ada.next('peer-joined')).peer.id, wb.id);
    assert.ok(wb.resume);
    ada.send({ type: 'signal', to: wb.id, data: { i: 0 } });
    assert.deepEqual((await bob.next('signal')).data, { i: 0 });
    // Bob is in his grace period on b; a's cached route still names b, so Ada's signals take the fast path there.
    bob.socket.terminate();
    await bob.closed;
    await waitForState(redis, wb.id, 'grace');
    // About 610 bytes each: three fit in 2,000 bytes, the fourth and fifth do not.
    const pad = 'x'.repeat(550);
    for (let i = 1; i <= 5; i++) ada.send({ type: 'signal', to: wb.id, data: { i, pad } });
    for (let k = 0; k < 2; k++) {
      const error = await ada.next('error');
      assert.equal(error.code, 'unknown-peer');
      assert.equal(error.message, `peer ${JSON.stringify(wb.id)} is reconnecting and its queue is full`);
    }
    assert.equal(await metric(a, 'video_chat_route_total', { outcome: 'full' }), 2);
    assert.equal((await metric(a, 'video_chat_route_total', { outcome: 'unknown' })) ?? 0, 0);
    const bob2 = await TestClient.connect(b.wsUrl);
    clients.push(bob2);
    await bob2.join('q', undefined, { resume: { id: wb.id, secret: wb.resume } });
    for (let i = 1; i <= 3; i++) assert.equal(((await bob2.next('signal')).data as { i: number }).i, i);
    for (const x of [ada, bob2]) await x.sync();
    assert.deepEqual([...ada.pending(), ...bob2.pending()], []);
  });

  it('per-sender order holds when the addressee moves to another process while its old process is late: signals sent after the move wait behind those still at the old process (drain marker)', async (t) => {
    const redis = await startRedis(t, { tcp: true });
    // b reaches Redis through a proxy that can hold what Redis sends to b's subscriber: b is late, loses nothing.
    const late = await startFreezableProxy(t, Number(new URL(redis.url).port));
    const [a] = await startRelays(t, redis, 1, [], CALM_ARGS);
    const [b] = await startRelays(t, { ...redis, url: late.url }, 1, [], CALM_ARGS);
    const [c] = await startRelays(t, redis, 1, [], CALM_ARGS);
    assert.ok(a && b && c);
    const ada = await TestClient.connect(a.wsUrl);
    const bob = await TestClient.connect(b.wsUrl);
    const clients = [ada, bob];
    t.after(() => Promise.all(clients.map((x) => x.close())));
    await ada.join('o', 'Ada');
    const wb = await bob.join('o', 'Bob');
    assert.equal((await ada.next('peer-joined')).peer.id, wb.id);
    assert.ok(wb.resume);
    // a's cached route to Bob (on b) is used.
    ada.send({ type: 'signal', to: wb.id, data: { i: 0 } });
    assert.deepEqual((await bob.next('signal')).data, { i: 0 });

    // Bob's connection is lost; b's subscriber is held from now on.
    bob.socket.terminate();
    await bob.closed;
    await waitForState(redis, wb.id, 'grace');
    const held = (await subscriberPorts(redis)).filter((port) => late.hold(port));
    assert.equal(held.length, 1, "b's subscriber found and held");
    let released = false;
    const release = (): void => {
      if (!released) late.release(held[0] as number);
      released = true;
    };
    t.after(release);
    // Ada's next signals go to b by the cached route and wait there, unread.
    const HALF = 20;
    for (let i = 1; i <= HALF; i++) ada.send({ type: 'signal', to: wb.id, data: { i } });
    await waitForAsync(
      async () => (await metric(a, 'video_chat_route_total', { outcome: 'sent' })) === 1 + HALF,
      'the fast-path frames published to b',
    );
    // Bob resumes on c: a hears `moved` and switches its route to c.
    const bob2 = await TestClient.connect(c.wsUrl);
    clients.push(bob2);
    const resumed = await bob2.join('o', undefined, { resume: { id: wb.id, secret: wb.resume } });
    assert.equal(resumed.resumed, true);
    await idle(200); // a's subscriber has `moved` (published with the resume) long before this
    for (let i = HALF + 1; i <= 2 * HALF; i++) ada.send({ type: 'signal', to: wb.id, data: { i } });
    await ada.sync();
    // b catches up: it re-routes what it kept to c, then echoes a's drain marker; only then do Ada's later ones go.
    release();
    const seen: number[] = [];
    while (seen.length < 2 * HALF) {
      const s = await bob2.next('signal').catch((error: unknown) => {
        throw new Error(`${String(error)}; seen ${JSON.stringify(seen)}; Ada got ${JSON.stringify(ada.pending())}`);
      });
      seen.push((s.data as { i: number }).i);
    }
    assert.deepEqual(
      seen,
      Array.from({ length: 2 * HALF }, (_, k) => k + 1),
      'every signal once, in send order',
    );
    await ada.sync();
    assert.deepEqual(ada.pending(), [], 'no error for Ada');
    assert.equal(
      await metric(b, 'video_chat_route_total', { outcome: 'detour' }),
      HALF,
      'b re-routed the ones it kept',
    );
  });
});
