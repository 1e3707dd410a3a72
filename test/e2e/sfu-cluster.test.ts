/**
 * Issue 12 with several relays: an SFU room served by two relay processes that share their rooms through a real
 * redis-server, each brokering its own participants into one real Janus (test/e2e/janus.ts), inside the private
 * network namespace.
 *
 * - three Chromium participants split over the two relays (Ada and Linus on one, Grace on the other) at 320×240: the
 *   room switches at `--sfu-from 3` (the third join, on the first relay, tells the member on the second), and each
 *   participant sees the other two in their own colour with frames advancing, through one Janus room whose publishers
 *   are exactly their relay IDs;
 * - the Janus room outlives one participant leaving and then the first relay stopping (SIGTERM) with the other
 *   participant in its grace period, and is destroyed (Janus's own `list`) once the last participant, on the second
 *   relay, has left.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { startRedis, type RedisServer } from '../node/relay/cluster-helpers.js';
import {
  closeAll,
  launchChromium,
  onTeardown,
  uniqueRoom,
  waitForRemoteCount,
  type Participant,
  type RelayServer,
} from './harness.js';
import { startJanus, type Janus } from './janus.js';
import * as sfu from './sfu-helpers.js';

describe('an SFU room over two relays sharing Redis, one Janus', { timeout: 180_000 }, () => {
  let janus: Janus;
  let relays: [RelayServer, RelayServer];

  before(async () => {
    janus = await startJanus();
    // The node tests' redis-server helper, its cleanup handed to the e2e harness's teardown.
    const teardown = { after: (fn: () => Promise<void>) => onTeardown(fn) } as unknown as TestContext;
    const redis: RedisServer = await startRedis(teardown);
    const extra = ['--redis-url', redis.url, '--resume-grace-ms', '3000', '--log-level', 'info'];
    relays = [await sfu.startSfuRelay(janus, 3, extra), await sfu.startSfuRelay(janus, 3, extra)];
  });
  after(() => closeAll());

  it('three participants split over the relays switch at --sfu-from 3 and see each other in their own colour; the Janus room goes only with the last', async () => {
    const room = uniqueRoom('sfu-cluster');
    const people: Participant[] = [];
    for (const [name, relay] of [
      ['Ada', relays[0]],
      ['Grace', relays[1]],
      ['Linus', relays[0]],
    ] as const) {
      people.push(await sfu.openPainted(await launchChromium(), relay.url, room, name));
    }
    const [ada, grace] = people as [Participant, Participant, Participant];
    try {
      await sfu.withDiagnostics(
        async () => {
          for (const p of people) await waitForRemoteCount(p, 2, 30_000);
          for (const p of people) await sfu.waitForColours(p, 2);
        },
        sfu.relayAndJanusLogs(relays, janus),
      );
      for (const p of people) await sfu.assertOnSfu(p);
      const janusRoom = await sfu.janusRoomOf(janus, room);
      const ids = await Promise.all(people.map(sfu.peerIdOf));
      const feeds = await sfu.waitFor(
        'three publishers in Janus',
        async () => {
          const list = await sfu.janusPublishers(janus, janusRoom);
          return list.length === 3 ? list : undefined;
        },
        15_000,
      );
      assert.deepEqual([...feeds].sort(), [...ids].sort(), 'Janus feed IDs are the relay IDs, from both relays');

      // Ada leaves, then the first relay is stopped (SIGTERM: Linus goes into his grace period, the relay drops its
      // Janus sessions): the room lives on with Grace on the second relay, and so does its Janus room.
      await sfu.leaveAll([ada]);
      await relays[0].close();
      await sfu.waitFor(
        'Janus to drop the publishers of the first relay',
        async () => {
          const list = await sfu.janusPublishers(janus, janusRoom);
          return list.length === 1 && list[0] === ids[1];
        },
        15_000,
      );
      await sfu.sleep(5_000); // Linus's grace period (3 s), a sweep, and beyond a janitor round (2 s)
      assert.deepEqual(
        (await janus.rooms()).filter((r) => r === janusRoom),
        [janusRoom],
        'the Janus room outlives the first relay and its participants',
      );
      await sfu.leaveAll([grace]);
      await sfu.waitFor(
        'the Janus room destroyed once the last participant left',
        async () => (await janus.rooms()).every((r) => r !== janusRoom),
        15_000,
      );
    } finally {
      await sfu.leaveAll(people);
    }
  });
});
