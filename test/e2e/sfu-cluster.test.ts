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
import { JanusClient } from '../../server/src/sfu/janus.js';
import { startRedis, type RedisServer } from '../node/relay/cluster-helpers.js';
import {
  closeAll,
  launchChromium,
  leave,
  onTeardown,
  openParticipant,
  startRelayServer,
  uniqueRoom,
  waitForRemoteCount,
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

/** Runs in the page first: the camera becomes a 320×240 canvas in the colour of the participant named in the URL. */
function paintCamera(): void {
  const colours: Record<string, string> = { Ada: 'rgb(200,30,30)', Grace: 'rgb(30,160,30)', Linus: 'rgb(30,30,200)' };
  const colour = colours[new URLSearchParams(location.search).get('name') ?? ''] ?? 'rgb(128,128,128)';
  for (const type of ['vc-warning', 'vc-error'])
    addEventListener(type, (e) => console.warn(type, JSON.stringify((e as Event & { error?: unknown }).error ?? '')));
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

/** Per remote tile: its peer's name, a pixel of its `<video>`, its width and its painted frame count. */
async function tiles(p: Participant): Promise<{ name: string; rgb: number[]; width: number; frames: number }[]> {
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
        const frames = video.getVideoPlaybackQuality().totalVideoFrames;
        return { name, rgb: [px[0]!, px[1]!, px[2]!], width: video.videoWidth, frames };
      });
    }),
    10_000,
    `${p.name}: reading tiles`,
  );
}

const near = (a: number[], b: number[]) => a.length === 3 && a.every((v, i) => Math.abs(v - (b[i] ?? -999)) <= 40);

/** Waits (≤ 30 s) until every remote tile of `p` shows its participant's colour and its frames advance. */
async function waitForColours(p: Participant, count: number): Promise<void> {
  let last: Awaited<ReturnType<typeof tiles>> = [];
  for (let i = 0; i < 60; i++) {
    const first = await tiles(p);
    await sleep(500);
    last = await tiles(p);
    const good =
      last.length === count &&
      last.every((t) => {
        const then = first.find((f) => f.name === t.name);
        return t.width > 0 && then !== undefined && t.frames > then.frames && near(t.rgb, COLOURS[t.name] ?? []);
      });
    if (good) return;
  }
  throw new Error(`${p.name}: remote tiles never showed their colours: ${JSON.stringify(last)}\n${p.logs.join('\n')}`);
}

/** The publishers (feed IDs) of a Janus room, through Janus's API. */
async function publishers(janus: Janus, room: string): Promise<string[]> {
  const client = await JanusClient.connect({ url: janus.url, apiSecret: janus.apiSecret });
  try {
    const session = ((await client.request({ janus: 'create' }))['data'] as { id: number }).id;
    const attached = await client.request({ janus: 'attach', session_id: session, plugin: 'janus.plugin.videoroom' });
    const handle = (attached['data'] as { id: number }).id;
    const reply = await client.request({
      janus: 'message',
      session_id: session,
      handle_id: handle,
      body: { request: 'listparticipants', room },
    });
    await client.request({ janus: 'destroy', session_id: session });
    const data = (reply['plugindata'] as { data: { participants?: { id: string; publisher: boolean }[] } }).data;
    return (data.participants ?? []).filter((p) => p.publisher).map((p) => String(p.id));
  } finally {
    client.close();
  }
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

describe('an SFU room over two relays sharing Redis, one Janus', { timeout: 180_000 }, () => {
  let janus: Janus;
  let relays: [RelayServer, RelayServer];

  before(async () => {
    janus = await startJanus();
    // The node tests' redis-server helper, its cleanup handed to the e2e harness's teardown.
    const teardown = { after: (fn: () => Promise<void>) => onTeardown(fn) } as unknown as TestContext;
    const redis: RedisServer = await startRedis(teardown);
    const args = [
      '--redis-url',
      redis.url,
      '--janus-url',
      janus.url,
      `--janus-secret=${janus.apiSecret}`,
      `--janus-admin-key=${janus.adminKey}`,
      '--sfu-from',
      '3',
      '--resume-grace-ms',
      '3000',
      '--log-level',
      'info',
    ];
    relays = [await startRelayServer(args), await startRelayServer(args)];
  });
  after(() => closeAll());

  it('three participants split over the relays switch at --sfu-from 3 and see each other in their own colour; the Janus room goes only with the last', async () => {
    const room = uniqueRoom('sfu-cluster');
    const people: Participant[] = [];
    const diagnostics = () =>
      relays.map((r, i) => `relay ${i + 1}:\n${r.stderr().slice(-3000)}`).join('\n') + `\njanus:\n${janus.log()}`;
    for (const [name, relay] of [
      ['Ada', relays[0]],
      ['Grace', relays[1]],
      ['Linus', relays[0]],
    ] as const) {
      people.push(await openParticipant(await launchChromium(), relay.url, { room, name, init: paintCamera }));
    }
    const [ada, grace] = people as [Participant, Participant, Participant];
    try {
      try {
        for (const p of people) await waitForRemoteCount(p, 2, 30_000);
        for (const p of people) await waitForColours(p, 2);
      } catch (error) {
        throw new Error(`${(error as Error).message}\n${diagnostics()}`);
      }
      for (const p of people) {
        const sfu = await p.page.evaluate(() => document.querySelector('video-chat')!.matches(':state(sfu)'));
        assert.equal(sfu, true, `${p.name}: :state(sfu)`);
      }
      const janusRooms = (await janus.rooms()).filter((r) => r.startsWith(`${room}-`));
      assert.equal(janusRooms.length, 1, `one Janus room for ${room}: ${JSON.stringify(await janus.rooms())}`);
      const janusRoom = janusRooms[0]!;
      const ids = await Promise.all(
        people.map((p) =>
          p.page.evaluate(() => (document.querySelector('video-chat') as HTMLElement & { peerId: string }).peerId),
        ),
      );
      const feeds = await waitFor('three publishers in Janus', async () => {
        const list = await publishers(janus, janusRoom);
        return list.length === 3 ? list : undefined;
      });
      assert.deepEqual([...feeds].sort(), [...ids].sort(), 'Janus feed IDs are the relay IDs, from both relays');

      // Ada leaves, then the first relay is stopped (SIGTERM: Linus goes into his grace period, the relay drops its
      // Janus sessions): the room lives on with Grace on the second relay, and so does its Janus room.
      await leave(ada);
      await relays[0].close();
      await waitFor('Janus to drop the publishers of the first relay', async () => {
        const list = await publishers(janus, janusRoom);
        return list.length === 1 && list[0] === ids[1];
      });
      await sleep(5_000); // Linus's grace period (3 s), a sweep, and beyond a janitor round (2 s)
      assert.deepEqual(
        (await janus.rooms()).filter((r) => r === janusRoom),
        [janusRoom],
        'the Janus room outlives the first relay and its participants',
      );
      await leave(grace);
      await waitFor('the Janus room destroyed once the last participant left', async () =>
        (await janus.rooms()).every((r) => r !== janusRoom),
      );
    } finally {
      for (const p of people) await leave(p).catch(() => undefined);
    }
  });
});
