/**
 * Rooms shared by several relay processes through Redis (issue 11), against real parts: a `redis-server` per test,
 * two or three `video-chat-relay` processes with `--redis-url`, WebSocket clients on loopback. Membership and join
 * order, routing with `from` stamped and `unknown-peer`, the capacity race, resume on another process.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TestClient, WAIT_MS } from './helpers.js';
import { CALM_ARGS, metric, startRedis, startRelays, joinThree } from './cluster-helpers.js';

describe('rooms across relay processes (Redis)', () => {
  it('membership: welcome lists the room in join order across processes; peer-joined and peer-left cross them; leave and join again', async (t) => {
    const redis = await startRedis(t);
    const [a, b] = await startRelays(t, redis, 2, [], CALM_ARGS);
    assert.ok(a && b);
    const clients: TestClient[] = [];
    t.after(() => Promise.all(clients.map((c) => c.close())));
    const on = async (relay: typeof a): Promise<TestClient> => {
      const c = await TestClient.connect(relay.wsUrl);
      clients.push(c);
      return c;
    };
    const ada = await on(a);
    const wa = await ada.join('m', 'Ada');
    const bob = await on(b);
    const wb = await bob.join('m', 'Bob');
    const cyd = await on(a);
    const wc = await cyd.join('m', 'Cyd');
    const dee = await on(b);
    const wd = await dee.join('m', 'Dee');
    assert.deepEqual(wa.peers, []);
    assert.deepEqual(wb.peers, [{ id: wa.id, name: 'Ada' }]);
    assert.deepEqual(wc.peers, [
      { id: wa.id, name: 'Ada' },
      { id: wb.id, name: 'Bob' },
    ]);
    assert.deepEqual(
      wd.peers.map((p) => p.name),
      ['Ada', 'Bob', 'Cyd'],
      'join order, whichever process each joined on',
    );
    // peer-joined reaches the others, on both processes, in join order.
    assert.deepEqual((await ada.next('peer-joined')).peer, { id: wb.id, name: 'Bob' });
    assert.deepEqual((await ada.next('peer-joined')).peer, { id: wc.id, name: 'Cyd' });
    assert.deepEqual((await ada.next('peer-joined')).peer, { id: wd.id, name: 'Dee' });
    assert.deepEqual((await bob.next('peer-joined')).peer, { id: wc.id, name: 'Cyd' });
    assert.deepEqual((await bob.next('peer-joined')).peer, { id: wd.id, name: 'Dee' });
    assert.deepEqual((await cyd.next('peer-joined')).peer, { id: wd.id, name: 'Dee' });
    // Bob (on b) leaves: everyone on a and b hears it.
    bob.send({ type: 'leave' });
    for (const c of [ada, cyd, dee]) assert.equal((await c.next('peer-left')).id, wb.id);
    // Ada (on a) closes on purpose: the same.
    await ada.close();
    for (const c of [cyd, dee]) assert.equal((await c.next('peer-left')).id, wa.id);
    // Bob joins again, a new participant, last in the order.
    const again = await bob.join('m', 'Bob');
    assert.notEqual(again.id, wb.id);
    assert.deepEqual(
      again.peers.map((p) => p.name),
      ['Cyd', 'Dee'],
    );
    for (const c of [cyd, dee]) assert.equal((await c.next('peer-joined')).peer.id, again.id);
    for (const c of [cyd, dee, bob]) await c.sync();
    assert.deepEqual(
      [cyd, dee, bob].map((c) => c.pending()),
      [[], [], []],
      'nothing else',
    );
    assert.equal(await redis.cli('HLEN', 'vc:room:m'), '3');
  });

  it('routing: a signal crosses processes once, in send order, from stamped by the relay; same-process signals never touch Redis; unknown-peer across processes', async (t) => {
    const redis = await startRedis(t);
    const [a, b] = await startRelays(t, redis, 2, [], CALM_ARGS);
    assert.ok(a && b);
    const ada = await TestClient.connect(a.wsUrl);
    const bob = await TestClient.connect(b.wsUrl);
    const cyd = await TestClient.connect(a.wsUrl);
    const eve = await TestClient.connect(b.wsUrl);
    t.after(() => Promise.all([ada, bob, cyd, eve].map((c) => c.close())));
    const wa = await ada.join('r', 'Ada');
    const wb = await bob.join('r', 'Bob');
    const wc = await cyd.join('r', 'Cyd');
    const we = await eve.join('other', 'Eve');
    const COUNT = 500;
    for (let i = 0; i < COUNT; i++) ada.send({ type: 'signal', to: wb.id, from: wc.id, data: { i } });
    bob.send({ type: 'signal', to: wa.id, from: wc.id, data: { back: true } });
    for (let i = 0; i < COUNT; i++) {
      const s = await bob.next('signal');
      assert.equal(s.from, wa.id, 'from is the real sender, across processes too');
      assert.deepEqual(s.data, { i }, 'in send order');
    }
    const back = await ada.next('signal');
    assert.deepEqual([back.from, back.data], [wb.id, { back: true }]);
    // Same process: Ada → Cyd on a.
    const before = await metric(a, 'video_chat_route_total', { outcome: 'sent' });
    ada.send({ type: 'signal', to: wc.id, data: { local: 1 } });
    assert.deepEqual((await cyd.next('signal')).data, { local: 1 });
    // unknown-peer: another room's member on the other process, a made-up ID, oneself, a departed member.
    const unknown = async (to: string): Promise<void> => {
      ada.send({ type: 'signal', to, data: {} });
      const error = await ada.next('error');
      assert.equal(error.code, 'unknown-peer', to);
    };
    await unknown(we.id);
    await unknown('madeUpIdThatNobodyHas0');
    await unknown(wa.id);
    await bob.close();
    assert.equal((await ada.next('peer-left')).id, wb.id);
    await unknown(wb.id);
    await eve.sync();
    assert.deepEqual(eve.pending(), [], 'nothing leaked into the other room');
    assert.equal(
      await metric(a, 'video_chat_route_total', { outcome: 'sent' }),
      before,
      'the same-process signal was not routed through Redis',
    );
    assert.equal(await metric(a, 'video_chat_route_total', { outcome: 'unknown' }), 3);
    assert.equal(await metric(a, 'video_chat_cross_node_messages_total', { direction: 'out' }), COUNT);
    assert.equal(await metric(b, 'video_chat_cross_node_messages_total', { direction: 'in' }), COUNT);
  });

  it('capacity: 50 simultaneous joins spread over 3 processes into a room of 6 admit exactly 6', async (t) => {
    const redis = await startRedis(t);
    const relays = await startRelays(t, redis, 3, ['--max-connections-per-ip', '0'], CALM_ARGS);
    const clients = await Promise.all(
      Array.from({ length: 50 }, (_, i) => TestClient.connect((relays[i % 3] as (typeof relays)[0]).wsUrl)),
    );
    t.after(() => Promise.all(clients.map((c) => c.close())));
    for (const c of clients) c.send({ type: 'join', room: 'race', name: 'x' });
    const outcomes = await Promise.all(
      clients.map((c) => Promise.race([c.next('welcome').then(() => 'welcome'), c.next('error').then((e) => e.code)])),
    );
    assert.equal(outcomes.filter((o) => o === 'welcome').length, 6);
    assert.equal(outcomes.filter((o) => o === 'room-full').length, 44);
    assert.equal(await redis.cli('HLEN', 'vc:room:race'), '6');
  });

  it('resume on another process: same ID, queued signals in order, nobody sees peer-left, the old secret refused; an old connection still open is closed with 4001', async (t) => {
    const redis = await startRedis(t);
    const [a, b] = await startRelays(t, redis, 2, [], CALM_ARGS);
    assert.ok(a && b);
    const {
      clients,
      members: [ada, bob, cyd],
      welcomes: [wa, wb, wc],
    } = await joinThree(t, 's', [a.wsUrl, b.wsUrl, a.wsUrl]);
    assert.equal((await bob.next('peer-joined')).peer.id, wc.id);
    assert.ok(wa.resume);
    // Ada's connection to a is lost (no closing handshake): her participant is in its grace period.
    ada.socket.terminate();
    await ada.closed;
    await waitForGrace(redis, wa.id);
    for (let i = 0; i < 5; i++) bob.send({ type: 'signal', to: wa.id, data: { i } });
    cyd.send({ type: 'signal', to: wa.id, data: { i: 5 } });
    await bob.sync();
    await cyd.sync();
    // She comes back on b.
    const ada2 = await TestClient.connect(b.wsUrl);
    clients.push(ada2);
    const welcome = await ada2.join('s', undefined, { resume: { id: wa.id, secret: wa.resume } });
    assert.equal(welcome.id, wa.id);
    assert.equal(welcome.resumed, true);
    assert.deepEqual(
      welcome.peers.map((p) => p.id),
      [wb.id, wc.id],
    );
    const queued = [];
    for (let i = 0; i <= 5; i++) queued.push(await ada2.next('signal'));
    // In order per sender (the protocol promises no order across senders).
    assert.deepEqual(
      queued.filter((s) => s.from === wb.id).map((s) => s.data),
      [0, 1, 2, 3, 4].map((i) => ({ i })),
    );
    assert.deepEqual(
      queued.filter((s) => s.from === wc.id).map((s) => s.data),
      [{ i: 5 }],
    );
    // Signals now reach her on b, from a and from b.
    cyd.send({ type: 'signal', to: wa.id, data: { after: 'a' } });
    bob.send({ type: 'signal', to: wa.id, data: { after: 'b' } });
    const got = [(await ada2.next('signal')).data, (await ada2.next('signal')).data];
    assert.deepEqual(got.map((d) => JSON.stringify(d)).sort(), ['{"after":"a"}', '{"after":"b"}']);
    // The old secret no longer works, on either process.
    const thief = await TestClient.connect(a.wsUrl);
    clients.push(thief);
    thief.send({ type: 'join', room: 's', resume: { id: wa.id, secret: wa.resume } });
    assert.equal((await thief.next('error')).code, 'resume-failed');
    // Resumed again on a while the b connection is still open: b closes it with 4001.
    assert.ok(welcome.resume);
    const ada3 = await TestClient.connect(a.wsUrl);
    clients.push(ada3);
    const third = await ada3.join('s', undefined, { resume: { id: wa.id, secret: welcome.resume } });
    assert.equal(third.id, wa.id);
    assert.equal((await ada2.closed).code, 4001);
    for (const c of [bob, cyd]) await c.sync();
    assert.deepEqual(
      [bob, cyd].flatMap((c) => c.pending()),
      [],
      'nobody saw peer-left or peer-joined',
    );
    assert.equal(await redis.cli('HGET', `vc:peer:${wa.id}`, 'state'), 'live');
  });
});

/** Waits until Redis has `id` in its grace period. */
async function waitForGrace(redis: { cli(...a: string[]): Promise<string> }, id: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while ((await redis.cli('HGET', `vc:peer:${id}`, 'state')) !== 'grace') {
    if (Date.now() > deadline) throw new Error('timed out waiting for the grace period');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
