/**
 * Issue 12, the SFU broker's failure cases (`server/src/sfu/broker.ts`, `shared-participants.ts`) with real parts:
 * one real Janus (test/e2e/janus.ts), two relay processes sharing a real redis-server, Chromium participants at
 * 320×240 painting their own colour, all inside the private network namespace.
 *
 * - **A late joiner whose own publish fails** (its `publish` offer is broken on the way out, so Janus refuses it) still
 *   sees everyone: its subscription does not wait for a publish of its own.
 * - **A participant that resumes on another relay** (its relay hangs, SIGSTOP, so Janus still holds its publisher; its
 *   connection is cut at the load balancer stand-in, which now leads to the other relay) is told to start over there
 *   (`mode`), its old publisher is removed from Janus (`kick`), its new publish under the same ID is taken, and
 *   everyone sees everyone again.
 * - **Redis restarted empty**: the relays write the room's SFU keys back, so a newcomer on the relay that serves
 *   nobody of the room joins the same Janus room and sees everyone (without the write-back it would start a second
 *   Janus room of its own).
 * - **A fenced relay** (SIGSTOPped past its lease, so the other relay declares it gone): its member resumes on it
 *   without publishing again (its Janus sessions were kept), the Janus room is never destroyed, and both see each
 *   other.
 *
 * What a person sees is read through the element: each remote tile's colour, width and advancing frame count. The
 * painted cameras, tiles, Janus's publisher list and the relay flags are `sfu-helpers.ts`'s.
 */
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, it, type TestContext } from 'node:test';
import { startRedis, type RedisServer } from '../node/relay/cluster-helpers.js';
import {
  closeAll,
  launchChromium,
  onTeardown,
  startRelayServer,
  uniqueRoom,
  type Participant,
  type RelayServer,
} from './harness.js';
import { startJanus, type Janus } from './janus.js';
import {
  janusPublishers as publishers,
  leaveAll,
  openPainted,
  peerIdOf as idOf,
  publishCount,
  relayAndJanusLogs,
  sfuRelayArgs,
  sleep,
  waitFor as waitForWithin,
  waitForColours,
} from './sfu-helpers.js';

/** {@link waitForWithin} with 15 s by default: relays and Redis are slow to notice on this loaded machine. */
const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, ms = 15_000) => waitForWithin(what, fn, ms);

/**
 * A TCP proxy on 127.0.0.1 standing in for a load balancer: each new connection goes to the relay port `target()`
 * names now; `cut()` drops every connection it carries (no closing handshake: the relay keeps the participant in its
 * grace period, and the element resumes through the proxy).
 */
async function startProxy(target: () => number): Promise<{ url: string; cut(): void }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target(), '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  onTeardown(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    cut: () => {
      for (const s of sockets) s.destroy();
    },
  };
}

const portOf = (relay: RelayServer): number => Number(new URL(relay.url).port);

describe('the SFU broker through failures: one Janus, two relays sharing Redis', { timeout: 300_000 }, () => {
  let janus: Janus;
  let relays: [RelayServer, RelayServer];
  let redis: RedisServer;
  const diagnostics = () => relayAndJanusLogs(relays, janus)();

  before(async () => {
    janus = await startJanus();
    // The node tests' redis-server helper, its cleanup handed to the e2e harness's teardown.
    const teardown = { after: (fn: () => Promise<void>) => onTeardown(fn) } as unknown as TestContext;
    redis = await startRedis(teardown);
    const args = sfuRelayArgs(janus, 2, [
      '--redis-url',
      redis.url,
      // A lease of 3 s: shorter ones expire on this loaded machine without any pause of ours.
      '--node-lease-ms',
      '3000',
      '--sweep-interval-ms',
      '300',
      '--resume-grace-ms',
      '20000',
      '--log-level',
      'info',
    ]);
    relays = [await startRelayServer(args), await startRelayServer(args)];
  });
  after(() => closeAll());

  /** Opens `name` in a Chromium of its own on `url`, its camera painted (with `?break`: its publish offers are broken). */
  const open = async (url: string, room: string, name: string, broken = false): Promise<Participant> => {
    const base = new URL(url);
    if (broken) base.searchParams.set('break', '');
    return openPainted(await launchChromium(), base.href, room, name);
  };

  it('a late joiner whose own publish fails still sees everyone', async () => {
    const room = uniqueRoom('late');
    const ada = await open(relays[0].url, room, 'Ada');
    const grace = await open(relays[0].url, room, 'Grace');
    const people = [ada, grace];
    try {
      await waitForColours(ada, ['Grace']);
      await waitForColours(grace, ['Ada']);
      const linus = await open(relays[0].url, room, 'Linus', true);
      people.push(linus);
      await waitFor('Linus to send his (broken) publish', async () => (await publishCount(linus)) > 0);
      await waitForColours(linus, ['Ada', 'Grace']);
    } catch (error) {
      throw new Error(
        `${(error as Error).message}\n${people.map((p) => p.logs.slice(-15).join('\n')).join('\n')}\n${diagnostics()}`,
      );
    } finally {
      await leaveAll(people);
    }
  });

  it('a participant resuming on another relay starts over there: its old publisher goes, its new publish under the same ID is taken', async () => {
    const room = uniqueRoom('moved');
    let target = portOf(relays[0]);
    const proxy = await startProxy(() => target);
    const ada = await open(proxy.url, room, 'Ada');
    const grace = await open(relays[1].url, room, 'Grace');
    const people = [ada, grace];
    try {
      await waitForColours(ada, ['Grace']);
      await waitForColours(grace, ['Ada']);
      const ids = [await idOf(ada), await idOf(grace)];
      const janusRoom = (await janus.rooms()).find((r) => r.startsWith(`${room}-`));
      assert.ok(janusRoom, 'a Janus room');
      assert.equal(await publishCount(ada), 1);

      // The first relay hangs (SIGSTOP: it cannot drop its Janus sessions of Ada, so Janus still holds her publisher),
      // the load balancer now leads to the second relay, and Ada's connection is cut: she resumes there.
      relays[0].process.kill('SIGSTOP');
      try {
        target = portOf(relays[1]);
        proxy.cut();
        await waitFor(
          'Ada to publish again through the second relay',
          async () => (await publishCount(ada)) >= 2,
          20_000,
        );
        assert.equal(await idOf(ada), ids[0], 'resumed under the same ID');
        await waitForColours(grace, ['Ada']);
        await waitForColours(ada, ['Grace']);
        assert.deepEqual((await publishers(janus, janusRoom)).sort(), [...ids].sort(), 'both publish, under their IDs');
      } finally {
        relays[0].process.kill('SIGCONT');
      }
      // The first relay, back (and fenced: it hung past its lease), drops its old sessions of Ada: nothing changes.
      await sleep(4_000);
      await waitForColours(grace, ['Ada']);
      assert.deepEqual((await publishers(janus, janusRoom)).sort(), [...ids].sort(), 'both publish, under their IDs');
    } catch (error) {
      throw new Error(
        `${(error as Error).message}\n${people.map((p) => p.logs.slice(-15).join('\n')).join('\n')}\n${diagnostics()}`,
      );
    } finally {
      await leaveAll(people);
    }
  });

  it('Redis restarted empty: the SFU keys are written back, so a newcomer on the other relay joins the same Janus room and sees everyone', async () => {
    const room = uniqueRoom('restart');
    const ada = await open(relays[0].url, room, 'Ada');
    const grace = await open(relays[0].url, room, 'Grace');
    const people = [ada, grace];
    try {
      await waitForColours(ada, ['Grace']);
      await waitForColours(grace, ['Ada']);
      const janusRoom = await redis.cli('HGET', `vc:sfu:${room}`, 'jid');
      assert.ok((await janus.rooms()).includes(janusRoom), 'the Janus room named in Redis');

      await redis.kill('SIGKILL');
      await redis.restart();
      await waitFor(
        'the SFU keys written back',
        async () => (await redis.cli('HGET', `vc:sfu:${room}`, 'jid')) === janusRoom,
      );
      // A newcomer on the relay that serves nobody of this room: it learns the room's mode from Redis alone.
      const linus = await open(relays[1].url, room, 'Linus');
      people.push(linus);
      await waitForColours(linus, ['Ada', 'Grace']);
      await waitForColours(ada, ['Grace', 'Linus']);
      assert.deepEqual(
        (await janus.rooms()).filter((r) => r.startsWith(`${room}-`)),
        [janusRoom],
        'still one Janus room',
      );
    } catch (error) {
      throw new Error(
        `${(error as Error).message}\n${people.map((p) => p.logs.slice(-15).join('\n')).join('\n')}\n${diagnostics()}`,
      );
    } finally {
      await leaveAll(people);
    }
  });

  it('a fenced relay keeps its member brokered: it resumes there without publishing again, the Janus room stays', async () => {
    const room = uniqueRoom('fenced');
    const ada = await open(relays[0].url, room, 'Ada');
    const grace = await open(relays[1].url, room, 'Grace');
    const people = [ada, grace];
    try {
      await waitForColours(ada, ['Grace']);
      await waitForColours(grace, ['Ada']);
      const ids = [await idOf(ada), await idOf(grace)];
      const janusRoom = (await janus.rooms()).find((r) => r.startsWith(`${room}-`));
      assert.ok(janusRoom, 'a Janus room');

      const fenced = () => relays[0].stderr().split('lease lost').length - 1;
      const before = fenced();
      relays[0].process.kill('SIGSTOP');
      try {
        await waitFor(
          "the second relay's sweep to declare the first gone",
          async () => (await redis.cli('HGET', `vc:peer:${ids[0]}`, 'state')) === 'grace',
        );
      } finally {
        relays[0].process.kill('SIGCONT');
      }
      await waitFor('the first relay to fence itself', async () => fenced() > before);
      // Ada resumes on the first relay (its only URL); beyond a janitor round of both relays.
      await waitFor('Ada to resume', async () => (await redis.cli('HGET', `vc:peer:${ids[0]}`, 'state')) === 'live');
      await sleep(3_000);
      await waitForColours(grace, ['Ada']);
      await waitForColours(ada, ['Grace']);
      assert.equal(await publishCount(ada), 1, 'no need to publish again: the fenced relay kept her Janus sessions');
      assert.ok((await janus.rooms()).includes(janusRoom), 'the Janus room was never destroyed');
      assert.deepEqual((await publishers(janus, janusRoom)).sort(), [...ids].sort());
    } catch (error) {
      throw new Error(
        `${(error as Error).message}\n${people.map((p) => p.logs.slice(-15).join('\n')).join('\n')}\n${diagnostics()}`,
      );
    } finally {
      await leaveAll(people);
    }
  });
});
