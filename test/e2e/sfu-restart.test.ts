/**
 * Rooms on the SFU through a relay restart (issue 12), end to end with real parts inside the private network
 * namespace: a real Janus (test/e2e/janus.ts), the real relay CLI brokering it (`--sfu-from 2`), three Chromium
 * processes, each camera a canvas in that participant's own colour.
 *
 * - the relay is SIGKILLed in the middle of a call on the SFU and started again on the same port: it has forgotten
 *   everyone (and their Janus sessions), so each element joins afresh with a new ID, hears `mode` again, closes its
 *   SFU connections and publishes and subscribes again. Afterwards every participant shows both others, under their
 *   new IDs, each tile in that participant's own colour with frames advancing, and holds exactly two open
 *   connections (the new publishing and subscribing ones);
 * - a Chromium publisher at 320×240 sends one simulcast layer and announces it (`{ sfu: { layers: [2] } }`); the
 *   receiver then asks Janus for no layer of it, even when the tile is pinned and unpinned;
 * - the camera's three simulcast layers follow a screen share started mid-call: `getParameters()` on the publishing
 *   connection reads `simulcastCaps(budget, { sharingScreen: true })` while sharing and the caps without it once the
 *   share stops.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { simulcastCaps } from '../../src/negotiation/simulcast-caps.js';
import {
  closeAll,
  launchChromium,
  leave,
  openParticipant,
  startRelayServer,
  uniqueRoom,
  waitForRemoteCount,
  withTimeout,
  type Participant,
} from './harness.js';
import { startJanus, type Janus } from './janus.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Each participant's camera colour (RGB), painted by {@link paintCamera}. */
const COLOURS: Record<string, [number, number, number]> = {
  Ada: [200, 30, 30],
  Grace: [30, 160, 30],
  Linus: [30, 30, 200],
};

/**
 * Runs in the page before its scripts: the camera becomes a 320×240 canvas painted in the colour of the participant
 * named in the URL; every RTCPeerConnection is kept (`window.pcs`); warnings and errors go to the console.
 */
function paintCamera(): void {
  const colours: Record<string, string> = { Ada: 'rgb(200,30,30)', Grace: 'rgb(30,160,30)', Linus: 'rgb(30,30,200)' };
  const colour = colours[new URLSearchParams(location.search).get('name') ?? ''] ?? 'rgb(128,128,128)';
  for (const type of ['vc-warning', 'vc-error']) {
    addEventListener(
      type,
      (e) => {
        const event = e as Event & { code?: string; message?: string; error?: { code: string; message: string } };
        console.warn(type, event.code ?? event.error?.code, event.message ?? event.error?.message);
      },
      true,
    );
  }
  // The SFU layer traffic: `layer` requests sent, and `{ sfu: { layers } }` announcements received (ms, page clock).
  const traffic = { asked: [] as number[], announced: [] as { at: number; layers: number[] }[] };
  (window as unknown as { traffic: typeof traffic }).traffic = traffic;
  const NativeSocket = window.WebSocket;
  window.WebSocket = class extends NativeSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      this.addEventListener('message', (e: MessageEvent) => {
        const m = JSON.parse(String(e.data)) as { type: string; data?: { sfu?: { layers?: number[] } } };
        const layers = m.type === 'signal' ? m.data?.sfu?.layers : undefined;
        if (layers) traffic.announced.push({ at: performance.now(), layers });
      });
    }

    override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      if (typeof data === 'string' && data.includes('"op":"layer"')) traffic.asked.push(performance.now());
      super.send(data);
    }
  };
  const pcs: RTCPeerConnection[] = [];
  (window as unknown as { pcs: RTCPeerConnection[] }).pcs = pcs;
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(config?: RTCConfiguration) {
      super(config);
      pcs.push(this);
    }
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
      ctx.fillRect((x = (x + 5) % 300), 0, 8, 20); // movement, away from the sampled point
    }, 66);
    for (const track of stream.getVideoTracks()) {
      stream.removeTrack(track);
      track.stop();
    }
    stream.addTrack(painted);
    return stream;
  };
}

interface TileSample {
  id: string;
  name: string;
  rgb: number[];
  width: number;
  frames: number;
}

interface PageSample {
  /** The element's own relay ID. */
  self: string | null;
  sfu: boolean;
  /** RTCPeerConnections not closed. */
  open: number;
  tiles: TileSample[];
}

/** The page's own ID, mode, open connections and, per remote participant, the colour and frames of its tile. */
async function sample(p: Participant): Promise<PageSample> {
  return withTimeout(
    p.page.evaluate(() => {
      type Chat = HTMLElement & { peerId: string | null; peers: readonly { id: string; name: string }[] };
      const chat = document.querySelector('video-chat') as Chat;
      const tiles = chat.peers.map(({ id, name }) => {
        const video = chat.shadowRoot?.querySelector<HTMLVideoElement>(
          `video[part~="remote-video"][data-peer-id="${CSS.escape(id)}"]`,
        );
        if (!video || video.videoWidth === 0) return { id, name, rgb: [], width: 0, frames: 0 };
        const canvas = document.createElement('canvas');
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
        ctx.drawImage(video, 0, 0);
        const px = ctx.getImageData(Math.floor(canvas.width / 2), Math.floor((canvas.height * 3) / 4), 1, 1).data;
        const frames = video.getVideoPlaybackQuality().totalVideoFrames;
        return { id, name, rgb: [px[0]!, px[1]!, px[2]!], width: video.videoWidth, frames };
      });
      const pcs = (window as unknown as { pcs: RTCPeerConnection[] }).pcs;
      return {
        self: chat.peerId,
        sfu: chat.matches(':state(sfu)'),
        open: pcs.filter((pc) => pc.signalingState !== 'closed').length,
        tiles,
      };
    }),
    10_000,
    `${p.name}: reading the page`,
  );
}

const near = (a: number[], b: number[]) => a.length === 3 && a.every((v, i) => Math.abs(v - (b[i] ?? -999)) <= 40);

/**
 * Waits (≤ `timeoutMs`, at most 120 rounds) until every page is on the SFU with exactly its two connections, and shows
 * every other participant under that participant's current ID, in its own colour, with frames advancing.
 * @returns each page's last sample.
 */
async function waitForEveryone(people: Participant[], timeoutMs: number): Promise<PageSample[]> {
  const deadline = Date.now() + timeoutMs;
  let last: PageSample[] = [];
  for (let i = 0; i < 120 && Date.now() < deadline; i++) {
    const first = await Promise.all(people.map(sample));
    await sleep(500);
    last = await Promise.all(people.map(sample));
    const ids = last.map((s) => s.self);
    const good = last.every((s, j) => {
      const others = people.filter((_, k) => k !== j);
      return (
        s.sfu &&
        s.open === 2 &&
        s.tiles.length === others.length &&
        others.every((o) => {
          const t = s.tiles.find((x) => x.name === o.name);
          const then = first[j]!.tiles.find((x) => x.id === t?.id);
          return (
            t !== undefined &&
            t.id === ids[people.indexOf(o)] &&
            t.width > 0 &&
            then !== undefined &&
            t.frames > then.frames &&
            near(t.rgb, COLOURS[o.name]!)
          );
        })
      );
    });
    if (good) return last;
  }
  throw new Error(
    `not everyone shows everyone in their own colour on the SFU within ${timeoutMs} ms:\n` +
      people.map((p, j) => `${p.name}: ${JSON.stringify(last[j])}\n  ${p.logs.slice(-12).join('\n  ')}`).join('\n'),
  );
}

const janusArgs = (janus: Janus) => [
  `--janus-url=${janus.url}`,
  `--janus-secret=${janus.apiSecret}`,
  `--janus-admin-key=${janus.adminKey}`,
];

/** The camera sender's encodings on the page's open connections (rid, maxBitrate, scaleResolutionDownBy). */
async function encodings(p: Participant): Promise<{ rid?: string; maxBitrate?: number; scale?: number }[]> {
  return withTimeout(
    p.page.evaluate(() =>
      (window as unknown as { pcs: RTCPeerConnection[] }).pcs
        .filter((pc) => pc.signalingState !== 'closed')
        .flatMap((pc) => pc.getSenders())
        .filter((s) => s.track?.kind === 'video')
        .flatMap((s) =>
          s
            .getParameters()
            .encodings.map((e) => ({ rid: e.rid, maxBitrate: e.maxBitrate, scale: e.scaleResolutionDownBy })),
        ),
    ),
    10_000,
    `${p.name}: reading the encodings`,
  );
}

/** Waits (≤ 10 s) until the page's camera encodings are `want`. */
async function waitForEncodings(p: Participant, want: RTCRtpEncodingParameters[], step: string): Promise<void> {
  const expected = want.map((e) => ({ rid: e.rid, maxBitrate: e.maxBitrate, scale: e.scaleResolutionDownBy }));
  let last: unknown;
  for (let i = 0; i < 40; i++) {
    last = await encodings(p);
    if (JSON.stringify(last) === JSON.stringify(expected)) return;
    await sleep(250);
  }
  assert.deepEqual(last, expected, `${p.name}: the camera's encodings ${step}`);
}

describe('rooms on the SFU: a relay restart, a screen share', { timeout: 240_000 }, () => {
  let janus: Janus;

  before(async () => {
    janus = await startJanus();
  });
  after(() => closeAll());

  it('after a relay restart (SIGKILL, same port) everyone republishes and sees the others in their own colour under their new IDs', async () => {
    const first = await startRelayServer([...janusArgs(janus), '--sfu-from', '2']);
    const port = new URL(first.url).port;
    const room = uniqueRoom('sfu-restart');
    const people: Participant[] = [];
    try {
      for (const name of ['Ada', 'Grace', 'Linus']) {
        people.push(await openParticipant(await launchChromium(), first.url, { room, name, init: paintCamera }));
      }
      for (const p of people) await waitForRemoteCount(p, 2, 30_000);
      const before = await waitForEveryone(people, 45_000);
      const oldIds = before.map((s) => s.self);

      first.process.kill('SIGKILL');
      await sleep(1_000);
      const second = await startRelayServer([...janusArgs(janus), '--sfu-from', '2', '--port', port]);
      let after: PageSample[];
      try {
        after = await waitForEveryone(people, 60_000);
      } catch (error) {
        throw new Error(`${(error as Error).message}\nrelay:\n${second.stderr().slice(-3000)}`);
      }
      for (const [j, s] of after.entries()) {
        assert.ok(s.self && !oldIds.includes(s.self), `${people[j]!.name}: a new ID (${oldIds[j]} → ${s.self})`);
      }
      for (const p of people) {
        assert.deepEqual(
          p.logs.filter((line) => line.includes('vc-error')),
          [],
          `${p.name}: no vc-error`,
        );
      }
    } finally {
      for (const p of people) await leave(p).catch(() => undefined);
    }
  });

  it("no layer is asked of a one-layer publisher; the camera's layers are re-capped while a screen is shared", async () => {
    const relay = await startRelayServer([...janusArgs(janus), '--sfu-from', '2']);
    const room = uniqueRoom('sfu-share');
    const people: Participant[] = [];
    try {
      for (const name of ['Ada', 'Grace']) {
        people.push(await openParticipant(await launchChromium(), relay.url, { room, name, init: paintCamera }));
      }
      await waitForEveryone(people, 45_000);
      const [ada, grace] = people as [Participant, Participant];
      // Chromium sends one layer of a 320×240 camera: Grace says so, and Ada then asks Janus for no layer of hers,
      // not even when the tile's wish changes (pinned: high; unpinned: medium). Before, each wish was asked 3 times.
      type Traffic = { asked: number[]; announced: { at: number; layers: number[] }[] };
      const traffic = () =>
        withTimeout(
          ada.page.evaluate(() => (window as unknown as { traffic: Traffic }).traffic),
          10_000,
          'reading the layer traffic',
        );
      let heard: Traffic | undefined;
      for (let i = 0; i < 40 && !heard?.announced.length; i++) {
        heard = await traffic();
        if (!heard.announced.length) await sleep(250);
      }
      assert.deepEqual(heard?.announced[0]?.layers, [2], `Grace's camera sends one layer: ${JSON.stringify(heard)}`);
      const graceId = (await sample(grace)).self;
      const pin = (id: string | null) =>
        ada.page.evaluate(
          (peer) => (document.querySelector('video-chat') as HTMLElement & { pin(id: string | null): void }).pin(peer),
          id,
        );
      await pin(graceId);
      await sleep(3_500);
      await pin(null);
      await sleep(3_500);
      const seen = await traffic();
      const since = seen.asked.filter((at) => at > seen.announced[0]!.at);
      assert.deepEqual(since, [], `Ada's layer requests after Grace's announcement: ${JSON.stringify(seen)}`);
      const alone = simulcastCaps(); // the default budget; the 320×240 camera is below the high layer's 720 px
      await waitForEncodings(ada, alone, 'before the share');
      // A screen share (a canvas stream stands in for getDisplayMedia's picker).
      const started = await ada.page.evaluate(() => {
        const canvas = document.createElement('canvas');
        canvas.width = 640;
        canvas.height = 360;
        const ctx = canvas.getContext('2d')!;
        setInterval(() => ctx.fillRect(Math.random() * 600, 0, 40, 40), 100);
        const chat = document.querySelector('video-chat') as HTMLElement & {
          startScreenShare(source?: MediaStream): Promise<boolean>;
        };
        return chat.startScreenShare(canvas.captureStream(5));
      });
      assert.equal(started, true, 'the share started');
      const sharing = simulcastCaps(undefined, { sharingScreen: true });
      assert.notDeepEqual(sharing, alone);
      await waitForEncodings(ada, sharing, 'while sharing');
      await ada.page.evaluate(() =>
        (document.querySelector('video-chat') as HTMLElement & { stopScreenShare(): void }).stopScreenShare(),
      );
      await waitForEncodings(ada, alone, 'after the share stopped');
      // The share itself does not travel through the SFU yet: the page is told (a vc-warning), not left guessing.
      assert.ok(
        ada.logs.some((line) => line.includes('vc-warning sfu-failed a screen share is not forwarded')),
        ada.logs.join('\n'),
      );
    } finally {
      for (const p of people) await leave(p).catch(() => undefined);
      await relay.close();
    }
  });
});
