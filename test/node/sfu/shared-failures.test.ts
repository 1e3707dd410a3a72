/**
 * The SFU's shared room state through failures (`server/src/sfu/shared-participants.ts`, `shared-rooms.ts`), over
 * real relay processes and a real redis-server, at the wire:
 * - a participant that resumes on another relay hears `mode` again after its resumed welcome (it starts over there:
 *   publishes and subscribes again); one that resumes on the relay that brokers it does not;
 * - a relay that lost its lease (fenced: SIGSTOPped past its lease) keeps brokering its members: they resume on it
 *   without being told to start over, and the room keeps its state;
 * - Redis restarted empty: the relays that hold the members write back the room's mode, claim, Janus room and
 *   capabilities (upkeep's write-back hook), so the room stays on the SFU: a v1 client is still refused and a newcomer
 *   hears `mode` before its welcome.
 * - a participant that moves to another relay and comes back to the first before that relay's janitor noticed
 *   (within 2 s) hears `mode` there too: the other relay brokered it meanwhile;
 * - a room's `media` claim survives Redis restarted empty even when it is written back by a relay where no member
 *   joined (the member resumed there): the room stays in mesh past `--sfu-from`.
 * - a participant that starts over on another relay: what its element's previous SFU session still sends right after
 *   the resumed welcome (its relay client's queue, flushed before the `mode` that follows is handled) is dropped
 *   there (`start-over.ts`: every request but a `publish` until the new session published; the subscribing
 *   connection's until the relay offered), the new session's publish and its candidates are not.
 * Janus is not needed at this level (its URL points at a closed port; the members' SFU errors are ignored):
 * `test/e2e/janus-broker.test.ts` runs the same failures with a real Janus and browsers.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { SignJWT } from 'jose';
import type { ServerMessage, WelcomeMessage } from '../../../src/protocol/relay.js';
import { FAST, freePort, startRedis, startRelays, waitForAsync, type RedisServer } from '../relay/cluster-helpers.js';
import { TestClient, waitFor, type RelayProcess } from '../relay/helpers.js';

const CAPS = { caps: ['sfu'] };

/** Whether `m` is the SFU's `mode` message. */
const isMode = (m: ServerMessage): boolean => m.type === 'signal' && m.from === 'sfu' && m.data['op'] === 'mode';

/** Lease 1.5 s and sweep 0.2 s (FAST), with a grace period long enough to resume after a fence. */
const TIMINGS = ['--node-lease-ms', String(FAST.leaseMs), '--sweep-interval-ms', String(FAST.sweepMs)];

const SECRET = 'a-token-secret-of-at-least-32-bytes!!';

/** A room token for `room` with the `media` claim `media` (relays started with `--token-secret` SECRET). */
function token(room: string, media: string): Promise<string> {
  return new SignJWT({ room, media })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(SECRET));
}

async function relays(
  t: TestContext,
  redis: RedisServer,
  graceMs = 20_000,
  extra: readonly string[] = [],
): Promise<[RelayProcess, RelayProcess]> {
  const janus = `ws://127.0.0.1:${await freePort()}`;
  const args = ['--janus-url', janus, '--janus-admin-key', 'k', '--sfu-from', '2', ...extra];
  const [one, two] = await startRelays(t, redis, 2, args, [...TIMINGS, '--resume-grace-ms', String(graceMs)]);
  return [one!, two!];
}

async function client(t: TestContext, relay: RelayProcess): Promise<TestClient> {
  const c = await TestClient.connect(relay.wsUrl);
  t.after(() => c.close());
  return c;
}

/** Drops the connection without a closing handshake (the relay keeps the participant in its grace period). */
function drop(c: TestClient): Promise<unknown> {
  c.socket.terminate();
  return c.closed;
}

/** Resumes `welcome`'s participant on `relay`; returns the new client, its welcome and what came after it. */
async function resume(
  t: TestContext,
  relay: RelayProcess,
  room: string,
  welcome: WelcomeMessage,
): Promise<{ c: TestClient; welcome: WelcomeMessage }> {
  const c = await client(t, relay);
  const again = await c.join(room, undefined, { resume: { id: welcome.id, secret: welcome.resume }, ...CAPS });
  assert.equal(again.id, welcome.id);
  assert.equal(again.resumed, true);
  return { c, welcome: again };
}

/** Waits until every message the relay queued for `c` has arrived, then returns the `mode` messages among them. */
async function modes(c: TestClient): Promise<number> {
  await c.sync();
  return c.pending().filter(isMode).length;
}

describe('SFU rooms shared through Redis, through failures', { timeout: 120_000 }, () => {
  it('a participant resuming on another relay hears mode again after its welcome; resuming where it is brokered, not', async (t) => {
    const redis = await startRedis(t);
    const [one, two] = await relays(t, redis);
    const ada = await client(t, one);
    const bob = await client(t, two);
    const wa = await ada.join('m', 'Ada', CAPS);
    await bob.join('m', 'Bob', CAPS);
    assert.equal(await redis.cli('HGET', 'vc:sfu:m', 'mode'), 'sfu');

    // Dropped, back on the same relay: still brokered there, nothing to do again.
    await drop(ada);
    const same = await resume(t, one, 'm', wa);
    assert.equal(await modes(same.c), 0, 'no mode on the relay that brokers it');

    // Dropped, back on the other relay: it must publish and subscribe again there.
    await drop(same.c);
    const other = await resume(t, two, 'm', same.welcome);
    assert.equal(await modes(other.c), 1, 'mode after the resumed welcome on another relay');
    // The room is unchanged: still on the SFU, nobody left.
    assert.equal(await redis.cli('HGET', 'vc:sfu:m', 'mode'), 'sfu');
    await bob.sync();
    assert.deepEqual(bob.pending('peer-left'), []);
  });

  it('a participant back on its first relay within 2 s of moving hears mode there again: the other relay brokered it meanwhile', async (t) => {
    const redis = await startRedis(t);
    const [one, two] = await relays(t, redis);
    const ada = await client(t, one);
    const bob = await client(t, two);
    const wa = await ada.join('b', 'Ada', CAPS);
    await bob.join('b', 'Bob', CAPS);
    await drop(ada);
    const moved = await resume(t, two, 'b', wa);
    assert.equal(await modes(moved.c), 1, 'mode on the relay it moved to');
    // Back at once: relay one still holds its record of Ada (its janitor runs every 2 s), but two brokered her since.
    await drop(moved.c);
    const back = await resume(t, one, 'b', moved.welcome);
    assert.equal(await modes(back.c), 1, 'mode again on the relay it came back to');
    assert.equal(await redis.cli('HGET', 'vc:sfu:by:b', wa.id), await redis.cli('HGET', `vc:peer:${wa.id}`, 'node'));
    // Back where it is brokered now: nothing to start over.
    await drop(back.c);
    const again = await resume(t, one, 'b', back.welcome);
    assert.equal(await modes(again.c), 0, 'no mode where it is brokered');
  });

  it("on a resume that starts over, the previous session's queued requests are dropped; the new session's publish is not", async (t) => {
    const redis = await startRedis(t);
    const [one, two] = await relays(t, redis, 20_000, ['--log-level', 'debug']);
    const ada = await client(t, one);
    const bob = await client(t, two);
    const wa = await ada.join('q', 'Ada', CAPS);
    await bob.join('q', 'Bob', CAPS);
    await ada.sync();
    const epochOf = (c: TestClient): unknown[] =>
      c.pending().flatMap((m) => (isMode(m) && m.type === 'signal' ? [m.data['epoch']] : []));
    const [before] = epochOf(ada); // the `mode` of the switch on relay one
    assert.match(String(before), /^[A-Za-z0-9_-]{12}$/, 'a mode names its epoch');
    await drop(ada);
    const moved = await resume(t, two, 'q', wa);
    await moved.c.sync();
    const [now] = epochOf(moved.c); // the `mode` of the start-over on relay two
    assert.notEqual(now, before);
    const dropped = () => two.stderr().split('dropped a request of the session before the start-over').length - 1;
    // What the old session queued while the relay was away, flushed by the relay client right after the welcome:
    // its publish (the relay went away between its `mode` and its publish) names that mode's epoch.
    const queued = [
      { op: 'publish', sdp: 'v=0\r\n', epoch: before },
      { op: 'candidate', pc: 'pub', candidate: { candidate: 'candidate:1 1 udp 1 10.0.0.1 9 typ host', sdpMid: '0' } },
      { op: 'candidate', pc: 'sub', candidate: null },
      { op: 'answer', sdp: 'v=0\r\n' },
      { op: 'layer', mid: '1', substream: 2 },
    ];
    for (const data of queued) moved.c.send({ type: 'signal', to: 'sfu', data });
    await moved.c.sync();
    // The relay's log lines reach us through its stderr pipe, possibly after the sync's reply (CI once read 0 of 5).
    await waitFor(() => dropped() >= queued.length, 'the drops logged').catch(() => undefined);
    assert.equal(dropped(), queued.length, 'each request of the old session dropped, its publish too');
    assert.deepEqual(moved.c.pending('error'), [], 'no relay error for them');
    // The new session (after `mode`): its publish, then its publishing connection's candidates, go to the broker.
    moved.c.send({ type: 'signal', to: 'sfu', data: { op: 'publish', sdp: 'v=0\r\n', epoch: now } });
    moved.c.send({ type: 'signal', to: 'sfu', data: queued[1] });
    await moved.c.sync();
    assert.equal(dropped(), queued.length, 'the new session is not dropped');
    // A participant that did not start over (Bob, admitted here) is never filtered.
    bob.send({ type: 'signal', to: 'sfu', data: queued[4] });
    await bob.sync();
    assert.equal(dropped(), queued.length);
  });

  it("a room's media claim survives Redis restarted empty when written back by a relay where no member joined", async (t) => {
    const redis = await startRedis(t);
    const [one, two] = await relays(t, redis, 20_000, ['--token-secret', SECRET]);
    const ada = await client(t, one);
    const wa = await ada.join('c', 'Ada', { ...CAPS, token: await token('c', 'mesh') });
    assert.equal(await redis.cli('HGET', 'vc:sfu:c', 'claim'), 'mesh');
    // Ada moves to relay two (by a resume: two never admitted anyone of the room); one forgets her.
    await drop(ada);
    const moved = await resume(t, two, 'c', wa);
    await waitForAsync(async () => (await one.health()).peers === 0, 'relay one to serve nobody');
    await new Promise((resolve) => setTimeout(resolve, 2_500)); // past one's janitor round

    await redis.kill('SIGKILL');
    await redis.restart();
    await waitForAsync(
      async () => (await redis.cli('HGET', 'vc:sfu:c', 'mode')) === 'mesh',
      'the SFU keys written back',
    );
    assert.equal(await redis.cli('HGET', 'vc:sfu:c', 'claim'), 'mesh', 'the claim written back');
    await waitForAsync(async () => (await redis.cli('HLEN', 'vc:room:c')) === '1', 'the member written back');
    // Relay one refuses joins with 1013 until its own Redis connection is back (the element would retry).
    await waitForAsync(async () => (await one.health()).redis === 'up', "relay one's Redis connection back");
    // Past --sfu-from 2, the room stays in mesh, as its first member's claim says.
    const bob = await client(t, one);
    await bob.join('c', 'Bob', { ...CAPS, token: await token('c', 'sfu') });
    await Promise.all([bob.sync(), moved.c.sync()]);
    assert.equal([...bob.pending(), ...moved.c.pending()].filter(isMode).length, 0, 'kept in mesh');
  });

  it('a fenced relay (lease lost) keeps brokering its members: they resume on it without starting over; the room keeps its state', async (t) => {
    const redis = await startRedis(t);
    const [one, two] = await relays(t, redis);
    const ada = await client(t, one);
    const bob = await client(t, two);
    const wa = await ada.join('f', 'Ada', CAPS);
    await bob.join('f', 'Bob', CAPS);
    const jid = await redis.cli('HGET', 'vc:sfu:f', 'jid');
    assert.notEqual(jid, '');
    one.child.kill('SIGSTOP');
    try {
      await waitForAsync(
        async () => (await redis.cli('HGET', `vc:peer:${wa.id}`, 'state')) === 'grace',
        "two's sweep to declare one gone",
      );
    } finally {
      one.child.kill('SIGCONT');
    }
    assert.equal((await ada.closed).code, 1012, 'one fenced itself: reconnect');
    // Past a janitor round (2 s) of both relays: the fenced relay must not have let the member go.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const back = await resume(t, one, 'f', wa);
    assert.equal(await modes(back.c), 0, 'still brokered by the fenced relay: no need to start over');
    assert.equal(await redis.cli('HGET', 'vc:sfu:f', 'mode'), 'sfu');
    assert.equal(await redis.cli('HGET', 'vc:sfu:f', 'jid'), jid, 'the same Janus room');
    await bob.sync();
    assert.deepEqual(bob.pending('peer-left'), []);
  });

  it('Redis restarted empty: the relays write the SFU keys back, so the room stays on the SFU', async (t) => {
    const redis = await startRedis(t);
    const [one, two] = await relays(t, redis);
    const ada = await client(t, one);
    const bob = await client(t, two);
    const wa = await ada.join('w', 'Ada', CAPS);
    const wb = await bob.join('w', 'Bob', CAPS);
    const before = await redis.cli('HMGET', 'vc:sfu:w', 'mode', 'jid', 'pin', 'secret');
    assert.match(before, /^sfu\n\S+\n\S+\n\S+$/);

    await redis.kill('SIGKILL');
    await redis.restart();
    await waitForAsync(
      async () =>
        (await redis.cli('HGET', 'vc:sfu:w', 'mode')) === 'sfu' && (await redis.cli('HLEN', 'vc:sfu:caps:w')) === '2',
      'the SFU keys written back',
    );
    assert.equal(await redis.cli('HMGET', 'vc:sfu:w', 'mode', 'jid', 'pin', 'secret'), before, 'the same Janus room');
    assert.equal(await redis.cli('HGET', 'vc:sfu:caps:w', wa.id), '1');
    assert.equal(await redis.cli('HGET', 'vc:sfu:caps:w', wb.id), '1');
    assert.equal(await redis.cli('SISMEMBER', 'vc:sfu:rooms', 'w'), '1');
    await waitForAsync(async () => (await redis.cli('HLEN', 'vc:room:w')) === '2', 'the members written back');

    // Still on the SFU: a v1 client is refused, a capable newcomer hears mode before its welcome.
    const v1 = await client(t, one);
    v1.send({ type: 'join', room: 'w', name: 'Old' });
    assert.equal((await v1.next('error')).code, 'room-full');
    const cyd = await client(t, two);
    await cyd.join('w', 'Cyd', CAPS);
    assert.equal(cyd.pending().filter(isMode).length, 1, 'mode before the welcome');
    // Past the write-back's hold, the room is not claimed from under its members.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    assert.equal(await redis.cli('HGET', 'vc:sfu:w', 'mode'), 'sfu');
  });
});
