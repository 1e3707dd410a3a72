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
import { CALM_ARGS, metric, startRedis, startRelays, type RedisServer } from './cluster-helpers.js';

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

  it('per-sender order holds while the addressee moves to another process and the sender switches routes', async (t) => {
    const redis = await startRedis(t);
    const [a, b, c] = await startRelays(t, redis, 3, [], CALM_ARGS);
    assert.ok(a && b && c);
    const ada = await TestClient.connect(a.wsUrl);
    const bob = await TestClient.connect(b.wsUrl);
    const clients = [ada, bob];
    t.after(() => Promise.all(clients.map((x) => x.close())));
    await ada.join('o', 'Ada');
    const wb = await bob.join('o', 'Bob');
    assert.equal((await ada.next('peer-joined')).peer.id, wb.id);
    assert.ok(wb.resume);
    const COUNT = 450; // within the per-socket burst of 500
    const MOVE_AT = 0;
    let sentBeforeWelcome = -1;
    let bob2: TestClient | undefined;
    const move = async (): Promise<void> => {
      bob.socket.terminate();
      await bob.closed;
      await waitForState(redis, wb.id, 'grace');
      const next = await TestClient.connect(c.wsUrl);
      clients.push(next);
      bob2 = next;
      await next.join('o', undefined, { resume: { id: wb.id, secret: wb.resume } });
      sentBeforeWelcome = i;
    };
    let i = 0;
    let moving: Promise<void> | undefined;
    // Ada keeps sending, 5 signals every 2 ms (bounded: COUNT in all), across the move.
    while (i < COUNT) {
      // Bob's connection is lost once Ada has sent MOVE_AT, and he resumes on c while she goes on.
      if (i >= MOVE_AT && moving === undefined) moving = move();
      for (let k = 0; k < 5 && i < COUNT; k++) ada.send({ type: 'signal', to: wb.id, data: { i: i++ } });
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await moving;
    assert.ok(bob2);
    assert.ok(
      sentBeforeWelcome > 0 && sentBeforeWelcome < COUNT,
      `the move ended while Ada sent (${sentBeforeWelcome})`,
    );
    const seen: number[] = [];
    while (seen.at(-1) !== COUNT - 1) {
      const s = await bob2.next('signal').catch((error: unknown) => {
        throw new Error(`${String(error)}; seen ${JSON.stringify(seen)}; Ada got ${JSON.stringify(ada.pending())}`);
      });
      seen.push((s.data as { i: number }).i);
    }
    for (let k = 1; k < seen.length; k++) {
      assert.ok((seen[k] as number) > (seen[k - 1] as number), `in send order: ${seen[k - 1]} then ${seen[k]}`);
    }
    // Everything sent after Bob's connection was lost reached him (queued, re-routed, or sent to c).
    for (let k = sentBeforeWelcome; k < COUNT; k++) assert.ok(seen.includes(k), `signal ${k} arrived`);
    assert.ok(((await metric(b, 'video_chat_route_total', { outcome: 'detour' })) ?? 0) > 0, 'b re-routed stale ones');
  });
});
