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
 * What a person sees is read through the element: each remote tile's colour, width and advancing frame count.
 */
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, it, type TestContext } from 'node:test';
import { JanusClient } from '../../server/src/sfu/janus.js';
import { startRedis, type RedisServer } from '../node/relay/cluster-helpers.js';
import {
  closeAll,
  launchChromium,
  onTeardown,
  openParticipant,
  startRelayServer,
  uniqueRoom,
  withTimeout,
  type Participant,
  type RelayServer,
} from './harness.js';
import { startJanus, type Janus } from './janus.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const COLOURS: Record<string, [number, number, number]> = {
  Ada: [200, 30, 30],
  Grace: [30, 160, 30],
  Linus: [30, 30, 200],
};

/**
 * Runs in the page first: the camera becomes a 320×240 canvas in the participant's colour; the SFU `publish` offers
 * the page sends are counted (`window.publishes`) and, with `?break` in the URL, broken (Janus refuses them).
 */
function prepare(): void {
  const params = new URLSearchParams(location.search);
  const colours: Record<string, string> = { Ada: 'rgb(200,30,30)', Grace: 'rgb(30,160,30)', Linus: 'rgb(30,30,200)' };
  const colour = colours[params.get('name') ?? ''] ?? 'rgb(128,128,128)';
  const counted = window as unknown as { publishes: number };
  counted.publishes = 0;
  for (const type of ['vc-warning', 'vc-error'])
    addEventListener(type, (e) => console.warn(type, JSON.stringify((e as Event & { error?: unknown }).error ?? '')));
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (this: WebSocket, data) {
    if (typeof data === 'string' && data.includes('"publish"')) {
      const message = JSON.parse(data) as { to?: string; data?: { op?: string; sdp?: string } };
      if (message.to === 'sfu' && message.data?.op === 'publish') {
        counted.publishes++;
        if (params.has('break')) {
          message.data.sdp = 'v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=broken\r\n';
          return send.call(this, JSON.stringify(message));
        }
      }
    }
    return send.call(this, data);
  };
  const devices = navigator.mediaDevices;
  const real = devices.getUserMedia.bind(devices);
  devices.getUserMedia = async (constraints) => {
    const stream = await real(constraints);
    if (!constraints?.video) return stream;
    const canvas = document.createElement('canvas');
    canvas.width = 320;
    canvas.height = 240;
    const ctx = canvas.getContext('2d')!;
    const painted = canvas.captureStream(15).getVideoTracks()[0]!;
    let x = 0;
    setInterval(() => {
      ctx.fillStyle = colour;
      ctx.fillRect(0, 0, 320, 240);
      ctx.fillStyle = '#000';
      ctx.fillRect((x = (x + 5) % 300), 0, 8, 20);
    }, 66);
    for (const track of stream.getVideoTracks()) {
      stream.removeTrack(track);
      track.stop();
    }
    stream.addTrack(painted);
    return stream;
  };
}

interface Tile {
  name: string;
  rgb: number[];
  width: number;
  frames: number;
}

/** Per remote tile: its participant's name, a pixel of its `<video>`, its width and its painted frame count. */
async function tiles(p: Participant): Promise<Tile[]> {
  return withTimeout(
    p.page.evaluate(() => {
      type Chat = HTMLElement & { peers: readonly { id: string; name: string }[] };
      const chat = document.querySelector('video-chat') as Chat;
      return chat.peers.map(({ id, name }) => {
        const video = chat.shadowRoot?.querySelector<HTMLVideoElement>(
          `video[part~="remote-video"][data-peer-id="${CSS.escape(id)}"]`,
        );
        if (!video || video.videoWidth === 0) return { name, rgb: [], width: 0, frames: 0 };
        const canvas = document.createElement('canvas');
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
        ctx.drawImage(video, 0, 0);
        const px = ctx.getImageData(Math.floor(canvas.width / 2), Math.floor((canvas.height * 3) / 4), 1, 1).data;
        return {
          name,
          rgb: [px[0]!, px[1]!, px[2]!],
          width: video.videoWidth,
          frames: video.getVideoPlaybackQuality().totalVideoFrames,
        };
      });
    }),
    10_000,
    `${p.name}: reading tiles`,
  );
}

const near = (a: number[], b: number[]) => a.length === 3 && a.every((v, i) => Math.abs(v - (b[i] ?? -999)) <= 40);

/**
 * Waits (≤ `ms`) until `p` shows exactly `names` as remote tiles, each in its participant's colour with frames
 * advancing over 0.5 s.
 */
async function waitForColours(p: Participant, names: readonly string[], ms = 30_000): Promise<void> {
  let last: Tile[] = [];
  const deadline = Date.now() + ms;
  for (let i = 0; i < 100 && Date.now() < deadline; i++) {
    const first = await tiles(p);
    await sleep(500);
    last = await tiles(p);
    const good =
      last.length === names.length &&
      last.every((t) => {
        const then = first.find((f) => f.name === t.name);
        return (
          names.includes(t.name) &&
          t.width > 0 &&
          then !== undefined &&
          t.frames > then.frames &&
          near(t.rgb, COLOURS[t.name] ?? [])
        );
      });
    if (good) return;
  }
  throw new Error(`${p.name}: remote tiles never showed ${names.join(', ')} in their colours: ${JSON.stringify(last)}`);
}

/** The VideoRoom request `body` on a fresh session of Janus's API; its plugin data. */
async function janusAsk(janus: Janus, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const client = await JanusClient.connect({ url: janus.url, apiSecret: janus.apiSecret });
  try {
    const session = ((await client.request({ janus: 'create' }))['data'] as { id: number }).id;
    const attached = await client.request({ janus: 'attach', session_id: session, plugin: 'janus.plugin.videoroom' });
    const handle = (attached['data'] as { id: number }).id;
    const reply = await client.request({ janus: 'message', session_id: session, handle_id: handle, body });
    await client.request({ janus: 'destroy', session_id: session });
    return (reply['plugindata'] as { data: Record<string, unknown> }).data;
  } finally {
    client.close();
  }
}

/** The feed IDs publishing in a Janus room now. */
async function publishers(janus: Janus, janusRoom: string): Promise<string[]> {
  const data = await janusAsk(janus, { request: 'listparticipants', room: janusRoom });
  const list = (data['participants'] ?? []) as { id: string; publisher: boolean }[];
  return list.filter((p) => p.publisher).map((p) => String(p.id));
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 200 && Date.now() < deadline; i++) {
    const value = await fn();
    if (value) return value;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The participant's relay ID, as the element says. */
const idOf = (p: Participant): Promise<string> =>
  p.page.evaluate(() => (document.querySelector('video-chat') as HTMLElement & { peerId: string }).peerId);

/** The `publish` offers the page sent so far. */
const publishCount = (p: Participant): Promise<number> =>
  p.page.evaluate(() => (window as unknown as { publishes: number }).publishes);

/** Leaves through the element (the relay hears `leave`), then closes the page. */
async function leave(p: Participant): Promise<void> {
  if (p.page.isClosed()) return;
  await p.page
    .evaluate(() => (document.querySelector('video-chat') as (HTMLElement & { leave(): void }) | null)?.leave())
    .catch(() => undefined);
  await withTimeout(p.page.close(), 10_000, `${p.name}: closing the page`).catch(() => undefined);
}

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
  const diagnostics = () =>
    relays.map((r, i) => `relay ${i + 1}:\n${r.stderr().slice(-4000)}`).join('\n') + `\njanus:\n${janus.log()}`;

  before(async () => {
    janus = await startJanus();
    // The node tests' redis-server helper, its cleanup handed to the e2e harness's teardown.
    const teardown = { after: (fn: () => Promise<void>) => onTeardown(fn) } as unknown as TestContext;
    redis = await startRedis(teardown);
    const args = [
      '--redis-url',
      redis.url,
      '--janus-url',
      janus.url,
      `--janus-secret=${janus.apiSecret}`,
      `--janus-admin-key=${janus.adminKey}`,
      '--sfu-from',
      '2',
      // A lease of 3 s: shorter ones expire on this loaded machine without any pause of ours.
      '--node-lease-ms',
      '3000',
      '--sweep-interval-ms',
      '300',
      '--resume-grace-ms',
      '20000',
      '--log-level',
      'info',
    ];
    relays = [await startRelayServer(args), await startRelayServer(args)];
  });
  after(() => closeAll());

  /** Opens `name` in a Chromium of its own on `url` (with `?break`: its publish offers are broken). */
  const open = async (url: string, room: string, name: string, broken = false): Promise<Participant> => {
    const base = new URL(url);
    if (broken) base.searchParams.set('break', '');
    return openParticipant(await launchChromium(), base.href, { room, name, init: prepare });
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
      for (const p of people) await leave(p);
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
      for (const p of people) await leave(p);
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
      for (const p of people) await leave(p);
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
      for (const p of people) await leave(p);
    }
  });
});
