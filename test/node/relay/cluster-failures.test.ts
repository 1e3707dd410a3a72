/**
 * Rooms shared through Redis when parts fail (issue 11), against real parts: a relay process SIGKILLed or SIGTERMed
 * with its clients coming back through a TCP proxy standing in for the load balancer, redis-server SIGKILLed and
 * restarted empty, Redis unreachable at start, and a subscriber connection that silently stops delivering.
 * Cluster timings are short (lease 1 s, sweep 0.2 s, grace 1.5 s); every wait is bounded.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { TestClient, WAIT_MS } from './helpers.js';
import {
  FAST,
  metric,
  portOf,
  startFreezableProxy,
  startProxy,
  startRedis,
  startRelays,
  waitForAsync,
  joinThree,
} from './cluster-helpers.js';

/** Bound for a `peer-left` that must come within lease + sweep + grace: that sum, doubled for a loaded machine. */
const DEPARTURE_BOUND_MS = 2 * (FAST.leaseMs + FAST.sweepMs + FAST.graceMs) + 2000;

const idle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('rooms across relay processes when parts fail', () => {
  it('SIGKILL of a relay: its client that comes back through the proxy resumes on the other process and nobody sees peer-left; the one that never returns leaves after lease + sweep + grace', async (t) => {
    const redis = await startRedis(t);
    const [a, b] = await startRelays(t, redis, 2);
    assert.ok(a && b);
    const proxy = await startProxy(t, () => [portOf(a), portOf(b)]);
    const {
      clients,
      members: [ada, bob, cyd],
      welcomes: [wa, wb, wc],
    } = await joinThree(t, 'k', [a.wsUrl, b.wsUrl, b.wsUrl]);
    for (let i = 0; i < 2; i++) await ada.next('peer-joined');
    await bob.next('peer-joined');
    assert.ok(wb.resume);

    b.child.kill('SIGKILL');
    await b.exit;
    await Promise.all([bob.closed, cyd.closed]);
    // Bob's client reconnects through the load balancer, which finds b dead and hands it to a.
    const bob2 = await TestClient.connect(proxy.wsUrl);
    clients.push(bob2);
    const welcome = await bob2.join('k', undefined, { resume: { id: wb.id, secret: wb.resume } });
    assert.equal(welcome.id, wb.id);
    assert.deepEqual(
      welcome.peers.map((p) => p.id),
      [wa.id, wc.id],
      'Cyd is still in the room during her grace period',
    );
    bob2.send({ type: 'signal', to: wa.id, data: { hello: 1 } });
    assert.deepEqual((await ada.next('signal')).data, { hello: 1 });
    // Cyd never returns: she leaves once b's lease ran out, a sweep found it, and her grace period ended.
    assert.equal((await ada.next('peer-left', DEPARTURE_BOUND_MS)).id, wc.id);
    assert.equal((await bob2.next('peer-left', DEPARTURE_BOUND_MS)).id, wc.id);
    for (const c of [ada, bob2]) await c.sync();
    assert.deepEqual(
      [ada, bob2].flatMap((c) => c.pending()),
      [],
      'no peer-left for Bob, nothing else',
    );
    assert.equal(await redis.cli('ZCARD', 'vc:nodes'), '1', "b's lease is gone");
    assert.equal(await redis.cli('HLEN', 'vc:room:k'), '2');
    assert.equal(await metric(a, 'video_chat_sweep_total', { what: 'node' }), 1);
  });

  it('SIGTERM drains a relay into the grace period: its client resumes on the other process through the proxy and nobody sees peer-left', async (t) => {
    const redis = await startRedis(t);
    const [a, b] = await startRelays(t, redis, 2);
    assert.ok(a && b);
    const proxy = await startProxy(t, () => [portOf(a), portOf(b)]);
    const ada = await TestClient.connect(a.wsUrl);
    const bob = await TestClient.connect(b.wsUrl);
    const clients = [ada, bob];
    t.after(() => Promise.all(clients.map((c) => c.close())));
    const wa = await ada.join('d', 'Ada');
    const wb = await bob.join('d', 'Bob');
    await ada.next('peer-joined');
    assert.ok(wb.resume);
    b.child.kill('SIGTERM');
    assert.equal((await bob.closed).code, 1012, 'Service Restart: reconnect');
    assert.deepEqual(await b.exit, { code: 0, signal: null });
    assert.equal(await redis.cli('HGET', `vc:peer:${wb.id}`, 'state'), 'grace', 'in its grace period, not gone');
    assert.equal(await redis.cli('ZCARD', 'vc:nodes'), '1', 'b withdrew its lease');
    const bob2 = await TestClient.connect(proxy.wsUrl);
    clients.push(bob2);
    const welcome = await bob2.join('d', undefined, { resume: { id: wb.id, secret: wb.resume } });
    assert.equal(welcome.id, wb.id);
    bob2.send({ type: 'signal', to: wa.id, data: { back: 1 } });
    assert.deepEqual((await ada.next('signal')).data, { back: 1 });
    // Longer than the grace period: nothing comes.
    await idle(FAST.graceMs + FAST.sweepMs * 3);
    await ada.sync();
    assert.deepEqual(ada.pending(), [], 'no peer-left');
  });

  it('Redis SIGKILLed and restarted empty: same-process signals go on, joins get 1013, /healthz and the metric say down; then the relays write back their rooms (join order kept) and cross-process signals flow again, without peer-left', async (t) => {
    const redis = await startRedis(t);
    const [a, b] = await startRelays(t, redis, 2);
    assert.ok(a && b);
    const {
      clients,
      members: [ada, bob, cyd],
      welcomes: [wa, wb, wc],
    } = await joinThree(t, 'x', [a.wsUrl, b.wsUrl, a.wsUrl]);
    for (let i = 0; i < 2; i++) await ada.next('peer-joined');
    await bob.next('peer-joined');

    await redis.kill('SIGKILL');
    await waitForAsync(async () => (await a.health()).redis === 'down', "a's /healthz to say redis down");
    assert.equal(await metric(a, 'video_chat_redis_up'), 0);
    // Same process: goes on.
    ada.send({ type: 'signal', to: wc.id, data: { during: 1 } });
    assert.deepEqual((await cyd.next('signal')).data, { during: 1 });
    // Cross process: dropped and counted, no error to the sender.
    ada.send({ type: 'signal', to: wb.id, data: { lost: 1 } });
    await ada.sync();
    assert.deepEqual(ada.pending(), []);
    assert.equal(await metric(a, 'video_chat_route_total', { outcome: 'dropped' }), 1);
    // A join is refused with 1013 (Try Again Later), on which the element reconnects with backoff.
    const late = await TestClient.connect(a.wsUrl);
    late.send({ type: 'join', room: 'x', name: 'Late' });
    assert.equal((await late.closed).code, 1013);

    await redis.restart();
    await waitForAsync(async () => (await redis.cli('HLEN', 'vc:room:x')) === '3', 'the room written back');
    // Cross-process signalling works again.
    bob.send({ type: 'signal', to: wa.id, data: { after: 1 } });
    assert.deepEqual((await ada.next('signal')).data, { after: 1 });
    ada.send({ type: 'signal', to: wb.id, data: { after: 2 } });
    assert.deepEqual((await bob.next('signal')).data, { after: 2 });
    await waitForAsync(async () => (await a.health()).redis === 'up', "a's /healthz to say redis up");
    // A newcomer sees the room in its original join order.
    const dee = await TestClient.connect(b.wsUrl);
    clients.push(dee);
    const wd = await dee.join('x', 'Dee');
    assert.deepEqual(
      wd.peers.map((p) => p.id),
      [wa.id, wb.id, wc.id],
    );
    for (const c of [ada, bob, cyd]) assert.equal((await c.next('peer-joined')).peer.id, wd.id);
    await idle(FAST.leaseMs + FAST.sweepMs * 2);
    for (const c of [ada, bob, cyd]) await c.sync();
    assert.deepEqual(
      [ada, bob, cyd].flatMap((c) => c.pending()),
      [],
      'no spurious peer-left',
    );
  });

  it('a relay SIGKILLed while Redis is down, Redis then restarted empty: after the write-back the living relays find its member missing, it gets the grace period and then everyone sees peer-left (and nothing else)', async (t) => {
    const redis = await startRedis(t);
    const [a, b, c] = await startRelays(t, redis, 3);
    assert.ok(a && b && c);
    const {
      members: [ada, bob, cyd],
      welcomes: [, wb, wc],
    } = await joinThree(t, 'g', [a.wsUrl, b.wsUrl, c.wsUrl]);
    for (let i = 0; i < 2; i++) await ada.next('peer-joined');
    await bob.next('peer-joined');

    await redis.kill('SIGKILL');
    for (const relay of [a, c]) {
      await waitForAsync(async () => (await relay.health()).redis === 'down', '/healthz to say redis down');
    }
    b.child.kill('SIGKILL');
    await b.exit;
    await bob.closed;
    await redis.restart();
    await waitForAsync(async () => (await redis.cli('HEXISTS', 'vc:room:g', wc.id)) === '1', 'the room written back');
    // Nobody wrote Bob back: a and c find him missing one lease after their write-back, and he leaves after his grace.
    const bound = DEPARTURE_BOUND_MS + FAST.leaseMs;
    assert.equal((await ada.next('peer-left', bound)).id, wb.id);
    assert.equal((await cyd.next('peer-left', bound)).id, wb.id);
    assert.equal(await redis.cli('HLEN', 'vc:room:g'), '2');
    assert.equal(await redis.cli('EXISTS', `vc:peer:${wb.id}`), '0');
    // The living ones still talk across processes, and nobody saw anything else.
    ada.send({ type: 'signal', to: wc.id, data: { still: 1 } });
    assert.deepEqual((await cyd.next('signal')).data, { still: 1 });
    await idle(FAST.leaseMs + FAST.sweepMs * 2);
    for (const x of [ada, cyd]) await x.sync();
    assert.deepEqual([...ada.pending(), ...cyd.pending()], [], 'no peer-left for Ada or Cyd');
  });

  it('a relay paused longer than its lease is declared gone; when it runs again it finds its lease lost, closes its clients with 1012 and they resume: nobody sees peer-left', async (t) => {
    const redis = await startRedis(t);
    const [a, b] = await startRelays(t, redis, 2, ['--resume-grace-ms', '8000']);
    assert.ok(a && b);
    const ada = await TestClient.connect(a.wsUrl);
    const bob = await TestClient.connect(b.wsUrl);
    const clients = [ada, bob];
    t.after(() => Promise.all(clients.map((c) => c.close())));
    const wa = await ada.join('p', 'Ada');
    const wb = await bob.join('p', 'Bob');
    await ada.next('peer-joined');
    assert.ok(wb.resume);
    b.child.kill('SIGSTOP');
    try {
      await waitForAsync(
        async () => (await redis.cli('HGET', `vc:peer:${wb.id}`, 'state')) === 'grace',
        "a's sweep to declare b gone",
      );
    } finally {
      b.child.kill('SIGCONT');
    }
    assert.equal((await bob.closed).code, 1012, 'b fenced itself: reconnect');
    const bob2 = await TestClient.connect(b.wsUrl);
    clients.push(bob2);
    const welcome = await bob2.join('p', undefined, { resume: { id: wb.id, secret: wb.resume } });
    assert.equal(welcome.id, wb.id, 'resumed on b, under its new incarnation');
    bob2.send({ type: 'signal', to: wa.id, data: { back: 1 } });
    assert.deepEqual((await ada.next('signal')).data, { back: 1 });
    ada.send({ type: 'signal', to: wb.id, data: { hi: 1 } });
    assert.deepEqual((await bob2.next('signal')).data, { hi: 1 });
    await ada.sync();
    assert.deepEqual(ada.pending(), [], 'no peer-left');
    assert.equal(await metric(b, 'video_chat_lease_lost_total'), 1);
  });

  it('Redis unreachable at start: the relay exits 1 with one line naming the URL (password hidden)', async () => {
    const cli = fileURLToPath(new URL('../../../server/src/cli.js', import.meta.url));
    const url = 'redis://user:s3cret@127.0.0.1:1';
    const result = await new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        [cli, '--port', '0', '--redis-url', url],
        { timeout: WAIT_MS },
        (error, stdout, stderr) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
      );
    });
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    const lines = result.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0] ?? '', /^video-chat-relay: cannot reach Redis at redis:\/\/user:\*\*\*@127\.0\.0\.1:1: /);
    assert.doesNotMatch(result.stderr, /s3cret/);
  });

  it('a subscriber connection that silently stops delivering is detected (canary) and replaced; cross-process signals reach that relay again', async (t) => {
    const redis = await startRedis(t, { tcp: true });
    const frozen = await startFreezableProxy(t, Number(new URL(redis.url).port));
    const [a] = await startRelays(t, { ...redis, url: frozen.url }, 1);
    const [b] = await startRelays(t, redis, 1);
    assert.ok(a && b);
    const ada = await TestClient.connect(a.wsUrl);
    const bob = await TestClient.connect(b.wsUrl);
    t.after(() => Promise.all([ada, bob].map((c) => c.close())));
    const wa = await ada.join('f', 'Ada');
    await bob.join('f', 'Bob');
    await ada.next('peer-joined');
    // Freeze a's subscriber connection: open at both ends, nothing flows.
    const list = await redis.cli('CLIENT', 'LIST');
    const ports = list
      .split('\n')
      .filter((line) => line.includes('name=video-chat-subscriber'))
      .map((line) => Number(/ addr=[^ ]*:(\d+) /.exec(` ${line}`)?.[1]));
    assert.equal(ports.filter((port) => frozen.freeze(port)).length, 1, "a's subscriber found and frozen");
    // Bob keeps signalling Ada until one arrives: the first ones are lost in the frozen connection.
    let sent = 0;
    const arrived = ada.next('signal', WAIT_MS);
    const pump = setInterval(() => bob.send({ type: 'signal', to: wa.id, data: { n: ++sent } }), 100);
    try {
      await arrived;
    } finally {
      clearInterval(pump);
    }
    assert.ok(sent > 1, 'signals sent into the frozen subscriber were lost before it was replaced');
    assert.equal(await metric(a, 'video_chat_redis_subscriber_replaced_total'), 1);
  });
});
