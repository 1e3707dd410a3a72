/**
 * The in-page side of the SFU benchmark (bench/sfu-bench.ts): an init script injected into every page before its
 * scripts, and the readers the runner calls through `page.evaluate`. Every function here is serialized by puppeteer,
 * so each is self-contained (no imports, no closures over this module).
 *
 * - {@link instrumentSfuPage}: keeps every `RTCPeerConnection` the page makes; rewrites the video constraints of
 *   `getUserMedia` to 320×240 at 15 fps (the element asks for 640×480 ideal, 24 fps: too much for five browsers on
 *   two shared cores); and offers `__sfuBench.watchGaps()`, which hooks `requestVideoFrameCallback` on every remote
 *   `<video>` of the element (rescanned every 100 ms, so a replaced element is followed) and keeps, per participant
 *   ID (`data-peer-id`), the longest interval between two presented frames (ms), and the longest such interval in
 *   which the compositor presented no other frame of that video (`presentedFrames` advanced by one: the video
 *   stalled, not this page's main thread, which runs the callbacks).
 * - {@link readSample}: one snapshot of the page's statistics (W3C webrtc-stats): per live connection, the
 *   `outbound-rtp` bytes sent and frames encoded, the video `inbound-rtp` frames decoded and frame width.
 *
 * @module
 */

/** One `outbound-rtp` stream (audio or video). */
export interface OutboundStream {
  /** `<connection index>:<stats id>`, stable while the connection lives. */
  key: string;
  kind: string;
  bytesSent: number;
  /** Video only (0 for audio). */
  framesEncoded: number;
  /** Video only: the width of the last encoded frame (px; 0 for audio). */
  frameWidth: number;
  /** Video only: key frames encoded (0 for audio). */
  keyFrames: number;
  /** Bytes sent again (RTX), part of `bytesSent`. */
  retransmitted: number;
}

/** One video `inbound-rtp` stream. */
export interface InboundStream {
  key: string;
  framesDecoded: number;
  /** Width of the last decoded frame, px. */
  frameWidth: number;
}

/** A snapshot of one page's statistics. */
export interface PageSample {
  /** `performance.now()` in the page when the snapshot was taken (ms). */
  at: number;
  /** Connections not closed. */
  open: number;
  /** Whether the element is in its `:state(sfu)`. */
  sfu: boolean;
  /** Remote tiles (`video[part~="remote-video"]`) showing a picture (`videoWidth > 0`). */
  pictures: number;
  outbound: OutboundStream[];
  inbound: InboundStream[];
}

/**
 * Per remote participant ID: the longest interval between two frame callbacks (ms), the longest of those in which no
 * other frame was presented (`maxVideoGapMs`), and the frames seen.
 */
export type Gaps = Record<string, { maxGapMs: number; maxVideoGapMs: number; frames: number }>;

/** What the init script keeps on `window.__sfuBench`. */
interface SfuBenchState {
  pcs: RTCPeerConnection[];
  /** Every `vc-warning` and `vc-error` the element fired (`type code message`), at most 50. */
  events: string[];
  /**
   * The switch's timeline (`SFU_BENCH_TRACE`): `<Date.now()> <what>` lines, at most 2,000: connections
   * made and closed (`pcN new|close|state`), their descriptions (`pcN sLD/sRD <type>`), SFU messages in and out
   * (`ws< sfu <op>`, `ws> sfu <op>`), `decodes` between participants, what each tile shows (`tile <id> pcN`), frame
   * gaps over 300 ms (`gap <id> <ms> +<frames presented meanwhile>`), each tile's first frame after its video track
   * was swapped (`first <id> <ms across the swap> +<frames> after-add <ms from the addTrack>`), main-thread stalls over 300 ms (`stall <ms>`) and synchronous WebRTC calls
   * (`new RTCPeerConnection`, `close`, `addTransceiver`, `getParameters`) that held the main thread over 20 ms
   * (`slow <what> <ms>`).
   */
  timeline: string[];
  watchGaps(): void;
  /**
   * The gaps since the previous epoch (or since `watchGaps`), then starts over. Idempotent per `epoch`, so a read the
   * runner gave up on (a starved page) can be asked again without losing the window.
   */
  takeGaps(epoch: number): Gaps;
}

/**
 * Injected into every page before its scripts run (`evaluateOnNewDocument`).
 * @param camera the camera's size asked for, px (`SFU_BENCH_CAMERA`, default 320×240: Chromium sends one simulcast
 *   layer at that size, two at 640×360 and 640×480, three from 960×540).
 */
export function instrumentSfuPage(camera: [number, number] = [320, 240]): void {
  const pcs: RTCPeerConnection[] = [];
  const timeline: string[] = [];
  const mark = (what: string): void => {
    if (timeline.length < 2_000) timeline.push(`${Date.now()} ${what}`);
  };
  /** A synchronous WebRTC call that held the main thread more than 20 ms (`slow <what> <ms>`). */
  const slow = (what: string, t: number): void => {
    const ms = performance.now() - t;
    if (ms > 20) mark(`slow ${what} ${Math.round(ms)}`);
  };
  for (const [proto, name] of [
    [RTCPeerConnection.prototype, 'addTransceiver'],
    [RTCRtpSender.prototype, 'getParameters'],
  ] as const) {
    const methods = proto as unknown as Record<string, (...args: unknown[]) => unknown>;
    const native = methods[name]!;
    methods[name] = function (this: unknown, ...args: unknown[]) {
      const t = performance.now();
      const result = native.apply(this, args);
      slow(name, t);
      return result;
    };
  }
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(configuration?: RTCConfiguration) {
      const t = performance.now();
      super(configuration);
      const n = pcs.length;
      pcs.push(this);
      mark(`pc${n} new`);
      slow(`pc${n} new`, t);
      this.addEventListener('connectionstatechange', () => mark(`pc${n} state ${this.connectionState}`));
      this.addEventListener('track', (e) => mark(`pc${n} track ${e.track.kind}`));
    }
    override close(): void {
      mark(`pc${pcs.indexOf(this)} close`);
      const t = performance.now();
      super.close();
      slow(`pc${pcs.indexOf(this)} close`, t);
    }
    override async setLocalDescription(d?: RTCLocalSessionDescriptionInit): Promise<void> {
      await super.setLocalDescription(d);
      mark(`pc${pcs.indexOf(this)} sLD ${this.localDescription?.type}`);
    }
    override async setRemoteDescription(d: RTCSessionDescriptionInit): Promise<void> {
      await super.setRemoteDescription(d);
      mark(`pc${pcs.indexOf(this)} sRD ${d.type}`);
    }
  };
  /** When each track was put on a tile's stream (`performance.now()`), for the swap's first frame (`first …`). */
  const added = new WeakMap<MediaStreamTrack, number>();
  const addTrack = MediaStream.prototype.addTrack;
  MediaStream.prototype.addTrack = function (this: MediaStream, track: MediaStreamTrack) {
    if (track.kind === 'video') added.set(track, performance.now());
    addTrack.call(this, track);
  };
  const NativeWs = window.WebSocket;
  const sfuOp = (text: unknown, dir: string): void => {
    if (typeof text !== 'string' || !text.includes('"signal"')) return;
    try {
      const m = JSON.parse(text) as { from?: string; to?: string; data?: Record<string, unknown> };
      const peer = (m.from ?? m.to ?? '?').slice(0, 6);
      const sfu = m.data?.['sfu'] as { decodes?: unknown; layers?: unknown } | undefined;
      if (peer === 'sfu') {
        const op = String(m.data?.['op']);
        if (op === 'layer') mark(`ws${dir} sfu layer ${String(m.data?.['substream'])}`);
        else if (op !== 'candidate') mark(`ws${dir} sfu ${op}`);
      } else if (sfu?.decodes) mark(`ws${dir} decodes ${peer}`);
      else if (sfu?.layers) mark(`ws${dir} layers ${peer} ${JSON.stringify(sfu.layers)}`);
    } catch {
      // not ours to judge
    }
  };
  window.WebSocket = class extends NativeWs {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      this.addEventListener('message', (e) => sfuOp(e.data, '<'));
    }
    override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      sfuOp(data, '>');
      super.send(data);
    }
  };
  let tick = Date.now();
  setInterval(() => {
    const now = Date.now();
    if (now - tick > 400) mark(`stall ${now - tick - 100}`);
    tick = now;
  }, 100);
  const devices = navigator.mediaDevices;
  const real = devices.getUserMedia.bind(devices);
  devices.getUserMedia = (constraints?: MediaStreamConstraints) => {
    if (constraints?.video) {
      const asked = typeof constraints.video === 'object' ? constraints.video : {};
      constraints = {
        ...constraints,
        video: {
          ...asked,
          width: { ideal: camera[0] },
          height: { ideal: camera[1] },
          frameRate: { ideal: 15, max: 15 },
        },
      };
    }
    return real(constraints);
  };

  const events: string[] = [];
  for (const type of ['vc-warning', 'vc-error']) {
    addEventListener(
      type,
      (e) => {
        const w = e as Event & { code?: string; message?: string; error?: { code: string; message: string } };
        if (events.length < 50) events.push(`${type} ${w.error?.code ?? w.code} ${w.error?.message ?? w.message}`);
      },
      true,
    );
  }
  let gaps: Record<string, { last: number; maxGapMs: number; maxVideoGapMs: number; frames: number }> = {};
  const hooked = new WeakSet<HTMLVideoElement>();
  let watching = 0;
  const taken = new Map<number, Gaps>();
  const shows = new WeakMap<HTMLVideoElement, string>();
  const state: SfuBenchState = {
    pcs,
    events,
    timeline,
    watchGaps() {
      if (watching !== 0) return;
      const scan = (): void => {
        const root = document.querySelector('video-chat')?.shadowRoot;
        for (const video of root?.querySelectorAll<HTMLVideoElement>('video[part~="remote-video"]') ?? []) {
          // Which connection's track the tile shows now.
          const track = (video.srcObject as MediaStream | null)?.getVideoTracks()[0];
          const from = track ? pcs.findIndex((pc) => pc.getReceivers().some((r) => r.track === track)) : -2;
          const shown = from === -2 ? 'no video' : `pc${from}`;
          if (shows.get(video) !== shown) {
            shows.set(video, shown);
            mark(`tile ${(video.dataset['peerId'] ?? '?').slice(0, 6)} ${shown}`);
          }
          if (hooked.has(video)) continue;
          hooked.add(video);
          let presented = 0;
          let showing: MediaStreamTrack | undefined;
          const onFrame = (now: number, meta: VideoFrameCallbackMetadata): void => {
            const id = video.dataset['peerId'] ?? '?';
            const entry = (gaps[id] ??= { last: now, maxGapMs: 0, maxVideoGapMs: 0, frames: 0 });
            // Frames the compositor presented meanwhile: more than 1, the main thread (not the video) stalled.
            const more = presented > 0 ? meta.presentedFrames - presented : 1;
            presented = meta.presentedFrames;
            // The first frame presented of a track swapped onto the tile: the interval across the swap, and how long
            // after the track was put on the stream that frame came.
            const track = (video.srcObject as MediaStream | null)?.getVideoTracks()[0];
            if (showing && track && track !== showing) {
              const since = added.get(track);
              const after = since === undefined ? '?' : Math.round(meta.expectedDisplayTime - since);
              mark(`first ${id.slice(0, 6)} ${Math.round(now - entry.last)} +${more} after-add ${after}`);
            }
            showing = track;
            if (now - entry.last > 300) mark(`gap ${id.slice(0, 6)} ${Math.round(now - entry.last)} +${more}`);
            entry.maxGapMs = Math.max(entry.maxGapMs, now - entry.last);
            if (more <= 1) entry.maxVideoGapMs = Math.max(entry.maxVideoGapMs, now - entry.last);
            entry.last = now;
            entry.frames += 1;
            if (video.isConnected) video.requestVideoFrameCallback(onFrame);
          };
          video.requestVideoFrameCallback(onFrame);
        }
      };
      scan();
      watching = window.setInterval(scan, 100);
    },
    takeGaps(epoch: number) {
      const done = taken.get(epoch);
      if (done) return done;
      const now = performance.now();
      const out: Gaps = {};
      for (const [id, g] of Object.entries(gaps)) {
        // A tile whose frames stopped counts until now: a stall at the end of the window is a gap too.
        const open = now - g.last;
        out[id] = {
          maxGapMs: Math.max(g.maxGapMs, open),
          maxVideoGapMs: Math.max(g.maxVideoGapMs, open),
          frames: g.frames,
        };
      }
      gaps = Object.fromEntries(
        Object.entries(gaps).map(([id, g]) => [id, { last: g.last, maxGapMs: 0, maxVideoGapMs: 0, frames: 0 }]),
      );
      taken.set(epoch, out);
      return out;
    },
  };
  (window as unknown as { __sfuBench: SfuBenchState }).__sfuBench = state;
}

/** Reads one {@link PageSample} in the page. */
export async function readSample(): Promise<PageSample> {
  const state = (window as unknown as { __sfuBench: SfuBenchState }).__sfuBench;
  const sample: PageSample = {
    at: performance.now(),
    open: 0,
    sfu: document.querySelector('video-chat')?.matches(':state(sfu)') ?? false,
    pictures: [
      ...(document
        .querySelector('video-chat')
        ?.shadowRoot?.querySelectorAll<HTMLVideoElement>('video[part~="remote-video"]') ?? []),
    ].filter((v) => v.videoWidth > 0).length,
    outbound: [],
    inbound: [],
  };
  for (const [i, pc] of state.pcs.entries()) {
    if (pc.signalingState === 'closed') continue;
    sample.open += 1;
    (await pc.getStats()).forEach((s: Record<string, unknown>) => {
      const key = `${i}:${String(s['id'])}`;
      if (s['type'] === 'outbound-rtp') {
        sample.outbound.push({
          key,
          kind: String(s['kind']),
          bytesSent: Number(s['bytesSent'] ?? 0),
          framesEncoded: Number(s['framesEncoded'] ?? 0),
          frameWidth: Number(s['frameWidth'] ?? 0),
          keyFrames: Number(s['keyFramesEncoded'] ?? 0),
          retransmitted: Number(s['retransmittedBytesSent'] ?? 0),
        });
      } else if (s['type'] === 'inbound-rtp' && s['kind'] === 'video') {
        sample.inbound.push({
          key,
          framesDecoded: Number(s['framesDecoded'] ?? 0),
          frameWidth: Number(s['frameWidth'] ?? 0),
        });
      }
    });
  }
  return sample;
}

/** The page's timeline (see `SfuBenchState.timeline`). */
export function readTimeline(): string[] {
  return (window as unknown as { __sfuBench: SfuBenchState }).__sfuBench.timeline;
}

/** Starts the frame-gap watch in the page. */
export function watchGaps(): void {
  (window as unknown as { __sfuBench: SfuBenchState }).__sfuBench.watchGaps();
}

/** Reads and restarts the page's frame gaps. */
export function takeGaps(epoch: number): Gaps {
  return (window as unknown as { __sfuBench: SfuBenchState }).__sfuBench.takeGaps(epoch);
}

/** Why a page may be stuck: its connections' states and the element's warnings and errors. */
export function diagnoseSfuPage(): string {
  const state = (window as unknown as { __sfuBench: SfuBenchState }).__sfuBench;
  const pcs = state.pcs.map((pc) => `${pc.signalingState}/${pc.iceConnectionState}/${pc.connectionState}`);
  return `connections ${pcs.join(', ')}; events: ${state.events.join(' | ') || 'none'}`;
}
