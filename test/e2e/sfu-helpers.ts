/**
 * What the SFU e2e files (`sfu.test.ts`, `sfu-cluster.test.ts`, `sfu-layers.test.ts`, `sfu-restart.test.ts`,
 * `janus-broker.test.ts`) share: the relay's command line for a real Janus, a page whose camera is painted in its
 * participant's own colour (and which records its connections, its SFU `publish` offers, the SFU's `layer`
 * confirmations, its own `layer` requests, the layers other participants announce and the peers' media states),
 * reading and checking the colours of the remote tiles, the page's mode and open connections, Janus's own list of a
 * room's publishers, a bounded poll, and leaving as a person would before the page closes.
 *
 * @module
 */
import assert from 'node:assert/strict';
import type { Browser } from 'puppeteer-core';
import { JanusClient } from '../../server/src/sfu/janus.js';
import { openParticipant, startRelayServer, withTimeout, type Participant, type RelayServer } from './harness.js';
import type { Janus } from './janus.js';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Each participant's camera colour (RGB), painted by {@link paintCamera}; anyone else is grey. */
export const COLOURS: Record<string, [number, number, number]> = {
  Ada: [200, 30, 30],
  Grace: [30, 160, 30],
  Linus: [30, 30, 200],
};

/**
 * The relay's flags for rooms on `janus` (secrets as `--flag=value`: a secret starting with '-' must not be taken for
 * an option), switching a room to the SFU at its `sfuFrom`-th member, then `extra`.
 */
export function sfuRelayArgs(janus: Janus, sfuFrom: number, extra: readonly string[] = []): string[] {
  return [
    '--janus-url',
    janus.url,
    `--janus-secret=${janus.apiSecret}`,
    `--janus-admin-key=${janus.adminKey}`,
    '--sfu-from',
    String(sfuFrom),
    ...extra,
  ];
}

/** Starts the relay CLI brokering `janus` (see {@link sfuRelayArgs}). */
export function startSfuRelay(janus: Janus, sfuFrom: number, extra: readonly string[] = []): Promise<RelayServer> {
  return startRelayServer(sfuRelayArgs(janus, sfuFrom, extra));
}

/**
 * Runs in the page before its scripts (an `init` of `openParticipant`):
 * - the camera becomes a 320×240 canvas at 15 fps painted in the colour of the participant named in the URL
 *   ({@link COLOURS}), with a white bar moving across its upper part (every simulcast layer has motion to encode;
 *   the bar stays above the pixel {@link tiles} samples, at three quarters of the height); the microphone stays the
 *   browser's fake one;
 * - every RTCPeerConnection is kept (`window.pcs`), every `layer` confirmation from the peer "sfu" (`window.layers`,
 *   page clock in `window.layerTimes`,
 *   its substream) and every `vc-media-state` (`window.mediaStates`);
 * - `window.traffic`: when (page clock, ms) the page sent a `layer` request (`asked`), and the layers another
 *   participant announced (`announced`: in a relayed `state` text carrying `layers`, `inState`, or as the earlier
 *   release's `{ sfu: { layers } }`);
 * - the SFU `publish` offers the page sends are counted (`window.publishes`) and, with `?break` in the URL, broken
 *   (Janus refuses them);
 * - `vc-warning` and `vc-error` go to the console (the participant's `logs`);
 * - `?policy=relay` in the URL sets the element's `ice-transport-policy` to `relay` before it joins.
 */
export function paintCamera(): void {
  const colours: Record<string, string> = { Ada: 'rgb(200,30,30)', Grace: 'rgb(30,160,30)', Linus: 'rgb(30,30,200)' };
  const params = new URLSearchParams(location.search);
  const colour = colours[params.get('name') ?? ''] ?? 'rgb(128,128,128)';
  const w = window as unknown as {
    pcs: RTCPeerConnection[];
    layers: number[];
    layerTimes: number[];
    mediaStates: { peerId: string | null; microphone: boolean }[];
    traffic: { asked: number[]; announced: { at: number; layers: number[]; inState: boolean }[] };
    publishes: number;
  };
  w.pcs = [];
  w.layers = [];
  w.layerTimes = [];
  w.mediaStates = [];
  w.traffic = { asked: [], announced: [] };
  w.publishes = 0;
  addEventListener(
    'vc-warning',
    (e) => console.warn('vc-warning', (e as Event & { code: string }).code, (e as Event & { message: string }).message),
    true,
  );
  addEventListener(
    'vc-error',
    (e) => {
      const { code, message } = (e as Event & { error: { code: string; message: string } }).error;
      console.warn('vc-error', code, message);
    },
    true,
  );
  addEventListener(
    'vc-media-state',
    (e) => {
      const { peerId, microphone } = e as Event & { peerId: string | null; microphone: boolean };
      w.mediaStates.push({ peerId, microphone });
    },
    true,
  );
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(config?: RTCConfiguration) {
      super(config);
      w.pcs.push(this);
    }
  };
  const NativeSocket = window.WebSocket;
  window.WebSocket = class extends NativeSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      this.addEventListener('message', (e: MessageEvent) => {
        const m = JSON.parse(String(e.data)) as {
          type: string;
          from?: string;
          data?: { op?: string; substream?: number; sfu?: unknown };
        };
        if (m.type !== 'signal') return;
        if (m.from === 'sfu' && m.data?.op === 'layer') {
          w.layers.push(m.data.substream!);
          w.layerTimes.push(performance.now());
        }
        const inState = typeof m.data?.sfu === 'string';
        let sfu = m.data?.sfu;
        try {
          if (inState) sfu = JSON.parse(sfu as string);
        } catch {
          return;
        }
        const layers = (sfu as { layers?: unknown } | undefined)?.layers;
        if (Array.isArray(layers))
          w.traffic.announced.push({ at: performance.now(), layers: layers as number[], inState });
      });
    }

    override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      if (typeof data === 'string' && data.includes('"op":"layer"')) w.traffic.asked.push(performance.now());
      if (typeof data === 'string' && data.includes('"publish"')) {
        const message = JSON.parse(data) as { to?: string; data?: { op?: string; sdp?: string } };
        if (message.to === 'sfu' && message.data?.op === 'publish') {
          w.publishes++;
          if (params.has('break')) {
            message.data.sdp = 'v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=broken\r\n';
            return super.send(JSON.stringify(message));
          }
        }
      }
      super.send(data);
    }
  };
  if (params.get('policy') === 'relay') {
    new MutationObserver((_, observer) => {
      const chat = document.querySelector('video-chat');
      if (!chat) return;
      chat.setAttribute('ice-transport-policy', 'relay');
      observer.disconnect();
    }).observe(document, { childList: true, subtree: true });
  }
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
      ctx.fillStyle = '#fff';
      ctx.fillRect((x = (x + 7) % 300), 20, 20, 120); // rows 20-140: above the sampled row (180)
    }, 66);
    for (const track of stream.getVideoTracks()) {
      stream.removeTrack(track);
      track.stop();
    }
    stream.addTrack(painted);
    return stream;
  };
}

/** Opens the demo page in `browser` as `name` in `room`, its camera painted ({@link paintCamera}). */
export function openPainted(browser: Browser, url: string, room: string, name: string): Promise<Participant> {
  return openParticipant(browser, url, { room, name, init: paintCamera });
}

/** The SFU `publish` offers the page sent so far (see {@link paintCamera}). */
export function publishCount(p: Participant): Promise<number> {
  return withTimeout(
    p.page.evaluate(() => (window as unknown as { publishes: number }).publishes),
    10_000,
    `${p.name}: reading its publishes`,
  );
}

/** The participant's relay ID (`peerId` of its `<video-chat>`). */
export function peerIdOf(p: Participant): Promise<string> {
  return withTimeout(
    p.page.evaluate(() => (document.querySelector('video-chat') as HTMLElement & { peerId: string }).peerId),
    10_000,
    `${p.name}: reading the ID`,
  );
}

/** Asserts that the participant's element is in a room on the SFU (`:state(sfu)`). */
export async function assertOnSfu(p: Participant): Promise<void> {
  const sfu = await withTimeout(
    p.page.evaluate(() => document.querySelector('video-chat')!.matches(':state(sfu)')),
    10_000,
    `${p.name}: reading :state(sfu)`,
  );
  assert.equal(sfu, true, `${p.name}: :state(sfu)`);
}

/** Asserts that the participant's page logged no `vc-error` (see {@link paintCamera}). */
export function assertNoVcError(p: Participant, when = ''): void {
  assert.deepEqual(
    p.logs.filter((line) => line.includes('vc-error')),
    [],
    `${p.name}: no vc-error${when}`,
  );
}

/** One remote tile as a person sees it. */
export interface Tile {
  /** The participant's relay ID. */
  id: string;
  name: string;
  /** The pixel at the middle of its `<video>`, three quarters down: [] while it has no picture. */
  rgb: number[];
  width: number;
  /** Frames painted (Firefox: its own count of painted frames, as it counts none of a MediaStream otherwise). */
  frames: number;
}

/** Per remote tile of `p`: the peer's name, a pixel of its `<video>`, its width and its painted frame count. */
export async function tiles(p: Participant): Promise<Tile[]> {
  return withTimeout(
    p.page.evaluate(() => {
      type Chat = HTMLElement & { peers: readonly { id: string; name: string }[] };
      const chat = document.querySelector('video-chat') as Chat;
      return chat.peers.map(({ id, name }) => {
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
        return {
          id,
          name,
          rgb: [px[0]!, px[1]!, px[2]!],
          width: video.videoWidth,
          // Firefox counts no frames of a MediaStream there (totalVideoFrames stays 0 while the picture moves; seen
          // in 153 ESR): its own count of frames painted is what a person sees.
          frames:
            video.getVideoPlaybackQuality().totalVideoFrames ||
            ((video as HTMLVideoElement & { mozPaintedFrames?: number }).mozPaintedFrames ?? 0),
        };
      });
    }),
    10_000,
    `${p.name}: reading tiles`,
  );
}

/** Whether `rgb` is `expected` within ±40 per channel (VP8 and scaling move colours a little). */
export const nearColour = (rgb: number[], expected: number[]) =>
  rgb.length === 3 && rgb.every((v, i) => Math.abs(v - (expected[i] ?? -999)) <= 40);

/**
 * Waits (≤ 60 rounds of 500 ms, and `timeoutMs`) until `p` shows `count` remote tiles (or exactly the participants
 * named), each in its participant's colour, frames advancing.
 */
export async function waitForColours(
  p: Participant,
  count: number | readonly string[],
  timeoutMs = 60_000,
): Promise<void> {
  let last: Tile[] = [];
  const names = typeof count === 'number' ? undefined : count;
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 60 && Date.now() < deadline; i++) {
    const first = await tiles(p);
    await sleep(500);
    last = await tiles(p);
    const good =
      last.length === (names?.length ?? count) &&
      last.every((t) => {
        const then = first.find((f) => f.name === t.name);
        return (
          (!names || names.includes(t.name)) &&
          t.width > 0 &&
          then !== undefined &&
          t.frames > then.frames &&
          nearColour(t.rgb, COLOURS[t.name] ?? [])
        );
      });
    if (good) return;
  }
  throw new Error(
    `${p.name}: remote tiles never showed their colours: ${JSON.stringify(last)}\n${p.logs.slice(-30).join('\n')}`,
  );
}

/** What a page's element says of its call: its relay ID, whether it is on the SFU, its open connections. */
export interface PageState {
  self: string | null;
  sfu: boolean;
  /** RTCPeerConnections not closed (see {@link paintCamera}). */
  open: number;
}

/** The page's {@link PageState}. */
export function pageState(p: Participant): Promise<PageState> {
  return withTimeout(
    p.page.evaluate(() => {
      const chat = document.querySelector('video-chat') as HTMLElement & { peerId: string | null };
      const pcs = (window as unknown as { pcs: RTCPeerConnection[] }).pcs;
      return {
        self: chat.peerId,
        sfu: chat.matches(':state(sfu)'),
        open: pcs.filter((pc) => pc.signalingState !== 'closed').length,
      };
    }),
    10_000,
    `${p.name}: reading the page`,
  );
}

/** Runs `check`; a failure gets `diagnostics()` (e.g. the relay's and Janus's last log lines) added to its message. */
export async function withDiagnostics<T>(check: () => Promise<T>, diagnostics: () => string): Promise<T> {
  try {
    return await check();
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${diagnostics()}`, { cause: error });
  }
}

/** The relay's and Janus's last log lines, for {@link withDiagnostics}. */
export const relayAndJanusLogs = (relays: readonly RelayServer[], janus: Janus) => () =>
  relays.map((r, i) => `relay ${i + 1}:\n${r.stderr().slice(-4000)}`).join('\n') + `\njanus:\n${janus.log()}`;

/** The publishers (feed IDs) of a Janus room, through Janus's own API with the relay's API secret. */
export async function janusPublishers(janus: Janus, room: string): Promise<string[]> {
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

/** The one Janus room of our `room` (Janus names it `<room>-…`); asserts there is exactly one. */
export async function janusRoomOf(janus: Janus, room: string): Promise<string> {
  const all = await janus.rooms();
  const ours = all.filter((r) => r.startsWith(`${room}-`));
  assert.equal(ours.length, 1, `one Janus room for ${room}: ${JSON.stringify(all)}`);
  return ours[0]!;
}

/** Polls `fn` every 250 ms (at most 200 times and `timeoutMs`) until it returns a truthy value, and returns it. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 200 && Date.now() < deadline; i++) {
    const value = await fn();
    if (value) return value;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Waits until Janus no longer holds a room of our `room` (the relay destroys it once the room is empty). */
export function waitForJanusRoomGone(janus: Janus, room: string, timeoutMs = 10_000): Promise<true> {
  return waitFor(
    'the Janus room destroyed',
    async () => (await janus.rooms()).every((r) => !r.startsWith(`${room}-`)),
    timeoutMs,
  );
}

/**
 * Each participant leaves as a person would (the element's `leave()`, as the Leave button), then its page closes.
 * Firefox's page close does not always send the relay `leave`, and the relay then keeps that participant for its
 * resume grace (15 s) before the room empties (seen once in CI: a wait for the Janus room's removal timed out).
 * Failures are ignored (a page already closed): this is cleanup.
 */
export async function leaveAll(people: readonly Participant[]): Promise<void> {
  for (const p of people) {
    if (p.page.isClosed()) continue;
    await withTimeout(
      p.page.evaluate(() =>
        (document.querySelector('video-chat') as (HTMLElement & { leave(): void }) | null)?.leave(),
      ),
      10_000,
      `${p.name}: leaving`,
    ).catch(() => undefined);
    await withTimeout(p.page.close(), 10_000, `${p.name}: closing the page`).catch(() => undefined);
  }
}
