/**
 * Rooms on the SFU across two real relay processes sharing a real redis-server (`server/src/sfu/shared-rooms.ts`,
 * `shared-participants.ts`): the mode and the members' capability across processes, the switch heard by the members
 * of both relays before `peer-joined`, v1 clients refused from an SFU room, capacity races over both relays (mesh and
 * SFU), the impostor refused, the room token's `media` claim (and claims that disagree), and the shared state gone
 * once the last member on either relay left. Janus is not needed for these rules (its URL points at a closed port: the
 * members also get SFU errors, which these tests ignore); `test/e2e/sfu-cluster.test.ts` runs them against a real
 * Janus.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { SignJWT } from 'jose';
import type { ServerMessage, WelcomeMessage } from '../../../src/protocol/relay.js';
import {
  freePort,
  startRedis,
  startRelays,
  CALM_ARGS,
  FAST,
  FAST_ARGS,
  type RedisServer,
} from '../relay/cluster-helpers.js';
import { TestClient, type RelayProcess } from '../relay/helpers.js';

const CAPS = { caps: ['sfu'] };
const SECRET = 'a-token-secret-of-at-least-32-bytes!!';

/** Whether `m` is the SFU's `mode` message. */
const isMode = (m: ServerMessage): boolean => m.type === 'signal' && m.from === 'sfu' && m.data['op'] === 'mode';

/** Two relays with an SFU whose Janus is unreachable, sharing `redis`, with `extra` flags. */
async function relays(
  t: TestContext,
  redis: RedisServer,
  extra: readonly string[],
  timings: readonly string[] = CALM_ARGS,
): Promise<RelayProcess[]> {
  const janus = `ws://127.0.0.1:${await freePort()}`;
  return startRelays(t, redis, 2, ['--janus-url', janus, '--janus-admin-key', 'k', ...extra], timings);
}

/** Waits (bounded) until no key of the SFU's shared state is left in `redis`. */
async function stateGone(redis: RedisServer, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while ((await redis.cli('KEYS', 'vc:sfu:*')) !== '' && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(await redis.cli('KEYS', 'vc:sfu:*'), '', 'nothing of the room is left');
}

/** A client of `relay`, closed when the test ends. */
async function client(t: TestContext, relay: RelayProcess): Promise<TestClient> {
  const c = await TestClient.connect(relay.wsUrl);
  t.after(() => c.close());
  return c;
}

async function token(room: string, media?: string): Promise<string> {
  const claims: Record<string, unknown> = { room };
  if (media !== undefined) claims['media'] = media;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(SECRET));
}

/** Sends `join` and returns the welcome, or the error code the relay answered. */
async function tryJoin(c: TestClient, room: string, extra: Record<string, unknown>): Promise<WelcomeMessage | string> {
  c.send({ type: 'join', room, ...extra });
  const welcome = c.next('welcome', 15_000);
  const error = c.next('error', 15_000);
  const first = await Promise.race([welcome.then((w) => w), error.then((e) => e.code)]);
  welcome.catch(() => undefined);
  error.catch(() => undefined);
  return first;
}

describe('SFU rooms across two relays sharing Redis', { timeout: 120_000 }, () => {
  it('switch at --sfu-from when every member on either relay can: mode before welcome and before peer-joined everywhere; v1 refused after', async (t) => {
    const redis = await startRedis(t);
    const [one, two] = (await relays(t, redis, ['--sfu-from', '3'])) as [RelayProcess, RelayProcess];
    const ada = await client(t, one);
    const bob = await client(t, two);
    await ada.join('r', 'Ada', CAPS);
    await bob.join('r', 'Bob', CAPS);
    assert.equal(await ada.next('peer-joined').then((m) => m.peer.name), 'Bob');
    await Promise.all([ada.sync(), bob.sync()]);
    assert.equal([...ada.pending(), ...bob.pending()].filter(isMode).length, 0, 'two members: still mesh');

    const cyd = await client(t, one);
    await cyd.join('r', 'Cyd', CAPS);
    assert.equal(cyd.pending().filter(isMode).length, 1, 'the newcomer hears the mode before its welcome');
    // Each member hears the mode before the newcomer's peer-joined: the mode is queued when peer-joined arrives.
    for (const member of [ada, bob]) {
      await member.next('peer-joined');
      assert.equal(member.pending().filter(isMode).length, 1, 'mode before peer-joined');
    }
    const dee = await client(t, two);
    assert.equal(await tryJoin(dee, 'r', {}), 'room-full', 'a v1 client is refused from an SFU room');
    const eve = await client(t, two);
    const welcome = await tryJoin(eve, 'r', CAPS);
    assert.equal(typeof welcome, 'object', 'a capable client joins the SFU room on the other relay');
    assert.equal(eve.pending().filter(isMode).length, 1);
  });

  it('a v1 member on one relay keeps the room in mesh; mesh capacity then holds across both', async (t) => {
    const redis = await startRedis(t);
    const [one, two] = (await relays(t, redis, ['--sfu-from', '2'])) as [RelayProcess, RelayProcess];
    const clients: TestClient[] = [];
    const first = await client(t, two);
    await first.join('v', 'v1', {});
    for (let i = 0; i < 5; i++) {
      const c = await client(t, i % 2 === 0 ? one : two);
      await c.join('v', `p${i}`, CAPS);
      clients.push(c);
    }
    await Promise.all([first, ...clients].map((c) => c.sync()));
    assert.equal([first, ...clients].flatMap((c) => c.pending()).filter(isMode).length, 0, 'never switched');
    const seventh = await client(t, one);
    assert.equal(await tryJoin(seventh, 'v', CAPS), 'room-full');
  });

  it('20 simultaneous joins over two relays into a mesh room admit exactly 6; 30 into an SFU room of 8 admit exactly 8', async (t) => {
    const redis = await startRedis(t);
    const relayPair = await relays(t, redis, ['--sfu-from', '20', '--max-peers-per-sfu-room', '8']);
    const race = async (room: string, count: number): Promise<number> => {
      const cs = await Promise.all(Array.from({ length: count }, (_, i) => client(t, relayPair[i % 2]!)));
      const outcomes = await Promise.all(cs.map((c, i) => tryJoin(c, room, { name: `p${i}`, ...CAPS })));
      const refused = outcomes.filter((o) => typeof o === 'string');
      assert.ok(
        refused.every((o) => o === 'room-full'),
        `refusals: ${refused.join(', ')}`,
      );
      return outcomes.length - refused.length;
    };
    assert.equal(await race('mesh-race', 20), 6);
    // sfu-from 20 is above the SFU room's 8: a room forced onto the SFU by the token would do; here the switch comes
    // from a relay pair with --sfu-from 1.
    const [three, four] = (await relays(t, redis, ['--sfu-from', '1', '--max-peers-per-sfu-room', '8'])) as [
      RelayProcess,
      RelayProcess,
    ];
    const cs = await Promise.all(Array.from({ length: 30 }, (_, i) => client(t, i % 2 ? three : four)));
    const outcomes = await Promise.all(cs.map((c, i) => tryJoin(c, 'sfu-race', { name: `q${i}`, ...CAPS })));
    assert.equal(outcomes.filter((o) => typeof o === 'object').length, 8);
    assert.ok(outcomes.every((o) => typeof o === 'object' || o === 'room-full'));
  });

  it('refuses a publish as another participant, and the shared state goes once the last member on either relay left', async (t) => {
    const redis = await startRedis(t);
    const [one, two] = (await relays(t, redis, ['--sfu-from', '2'])) as [RelayProcess, RelayProcess];
    const ada = await client(t, one);
    const bob = await client(t, two);
    const adaWelcome = await ada.join('s', 'Ada', CAPS);
    await bob.join('s', 'Bob', CAPS);
    bob.send({ type: 'signal', to: 'sfu', data: { op: 'publish', sdp: 'v=0\r\n', id: adaWelcome.id } });
    const refusal = await bob.next('error');
    assert.equal(refusal.code, 'unauthorized');
    assert.ok(await redis.cli('EXISTS', 'vc:sfu:s').then((n) => n === '1'));
    assert.equal(await redis.cli('HGET', 'vc:sfu:s', 'mode'), 'sfu');
    assert.equal(await redis.cli('HLEN', 'vc:sfu:caps:s'), '2');
    await ada.close();
    // Bob is still there on the other relay: the room keeps its state (and its Janus room).
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await redis.cli('HGET', 'vc:sfu:s', 'mode'), 'sfu');
    assert.equal(await redis.cli('HLEN', 'vc:sfu:caps:s'), '1');
    await bob.close();
    await stateGone(redis, 10_000);
  });

  it('a relay that dies with the last members: another relay claims the room once their grace period ended', async (t) => {
    const redis = await startRedis(t);
    const [one, two] = (await relays(t, redis, ['--sfu-from', '1'], FAST_ARGS)) as [RelayProcess, RelayProcess];
    const ada = await client(t, one);
    await ada.join('k', 'Ada', CAPS);
    assert.equal(await redis.cli('HGET', 'vc:sfu:k', 'mode'), 'sfu');
    // A member on the other relay comes and goes: the room is not empty while Ada is there.
    const bob = await client(t, two);
    await bob.join('k', 'Bob', CAPS);
    await bob.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await redis.cli('HGET', 'vc:sfu:k', 'mode'), 'sfu');
    one.child.kill('SIGKILL');
    await one.exit;
    // Lease + sweep + grace, then the survivor's janitor (every 2 s).
    await stateGone(redis, FAST.leaseMs + FAST.sweepMs + FAST.graceMs + 2_000 + 8_000);
  });

  it('a room token media claim forces the mode; the first member’s claim decides while the room exists', async (t) => {
    const redis = await startRedis(t);
    const [one, two] = (await relays(t, redis, ['--sfu-from', '3', '--token-secret', SECRET])) as [
      RelayProcess,
      RelayProcess,
    ];
    // media: sfu: on the SFU from the first capable participant.
    const solo = await client(t, one);
    await solo.join('forced-sfu', 'Solo', { ...CAPS, token: await token('forced-sfu', 'sfu') });
    assert.equal(solo.pending().filter(isMode).length, 1, 'on the SFU from its first participant');
    const v1 = await client(t, two);
    assert.equal(await tryJoin(v1, 'forced-sfu', { token: await token('forced-sfu') }), 'room-full');

    // media: mesh: in mesh past --sfu-from, with the mesh's capacity; a later sfu claim changes nothing.
    const members: TestClient[] = [];
    for (let i = 0; i < 6; i++) {
      const c = await client(t, i % 2 ? one : two);
      const claim = i === 0 ? 'mesh' : i === 3 ? 'sfu' : undefined;
      await c.join('forced-mesh', `m${i}`, { ...CAPS, token: await token('forced-mesh', claim) });
      members.push(c);
    }
    await Promise.all(members.map((c) => c.sync()));
    assert.equal(members.flatMap((c) => c.pending()).filter(isMode).length, 0, 'kept in mesh');
    const seventh = await client(t, one);
    assert.equal(
      await tryJoin(seventh, 'forced-mesh', { ...CAPS, token: await token('forced-mesh', 'sfu') }),
      'room-full',
    );
    const bad = await client(t, two);
    assert.equal(await tryJoin(bad, 'x', { ...CAPS, token: await token('x', 'p2p') }), 'unauthorized');
  });
});
