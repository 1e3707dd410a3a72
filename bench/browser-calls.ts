/**
 * What the browser benchmarks (call setup, mesh cost, recovery) share: a static server for the two call pages, the
 * in-page instrumentation, and joining a call in separate Chromium processes launched with the end-to-end harness
 * (test/e2e/harness.ts: same flags, fake devices, loopback only, refuses to run outside the network namespace in CI).
 *
 * The two pages, served from one origin on 127.0.0.1:
 * - `/ours.html` (bench/call-ours.html): the script-tag bundle dist/video-chat.js; `benchJoin` adds a `<video-chat>`.
 * - `/baseline.html` (bench/baseline-call.html + lib/bench/baseline-call-page.js): the minimum call.
 * Both talk to the same relay (our CLI, started by the harness) at `ws://127.0.0.1:PORT/`.
 *
 * The instrumentation is injected before any page script (`evaluateOnNewDocument`), identically into both: it records
 * when a `welcome` frame arrives on any WebSocket, keeps every RTCPeerConnection the page creates, and samples the
 * video receivers' `inbound-rtp` stats every 10 ms until each connection has decoded its first frame. Times are
 * epoch milliseconds (`performance.timeOrigin + performance.now()`), comparable between browser processes.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { withTimeout } from '../test/e2e/harness.js';

export type Variant = 'ours' | 'baseline';

/** A static server for the call pages. */
export async function startPageServer(root: string): Promise<{ url: string; close(): Promise<void> }> {
  const files: Record<string, [string, string]> = {
    '/ours.html': [join(root, 'bench/call-ours.html'), 'text/html'],
    '/baseline.html': [join(root, 'bench/baseline-call.html'), 'text/html'],
    '/video-chat.js': [join(root, 'dist/video-chat.js'), 'text/javascript'],
    '/baseline-call-page.js': [join(root, 'lib/bench/baseline-call-page.js'), 'text/javascript'],
  };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] as string;
    // The script-tag build's on-demand chunks (dist/video-chat-<name>.js) sit next to it.
    const file =
      files[path] ??
      (/^\/video-chat-[\w-]+\.js$/.test(path) ? [join(root, 'dist', path), 'text/javascript'] : undefined);
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    readFile(file[0]).then(
      (body) => res.writeHead(200, { 'content-type': file[1], 'cache-control': 'no-store' }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** What the instrumentation keeps in the page (`window.__bench`). */
interface BenchState {
  welcomes: number[];
  pcs: (RTCPeerConnection & { benchFirstFrame?: number })[];
  /**
   * The setup trace (`BENCH_TRACE=1`, see call-bench.ts): [step, epoch ms] of each setup step the page took, observed
   * from outside through the same wrapped Web APIs in both pages (getUserMedia, WebSocket, RTCPeerConnection), so
   * neither page carries tracing code.
   */
  marks: [string, number][];
  /**
   * Calls of the Web APIs a page may call repeatedly during setup (`RTCRtpSender.getParameters`/`setParameters`,
   * `getStats`), from the page's start: [`Interface.method`, epoch ms, ms the call itself took on the main thread].
   * `getParameters` is synchronous (Chromium blocks the main thread on its WebRTC signaling thread), the others only
   * start there. Each `setParameters` is also listed as "setParameters changing <fields of the first encoding>".
   */
  api: [string, number, number][];
}

/** Injected into every page before its scripts run. Serialized by puppeteer: must be self-contained. */
function instrument(deep: boolean): void {
  const now = (): number => performance.timeOrigin + performance.now();
  const state: BenchState = { welcomes: [], pcs: [], marks: [], api: [] };
  (window as unknown as { __bench: BenchState }).__bench = state;
  const mark = (step: string): void => void state.marks.push([step, now()]);
  /** The type of the description in a relay frame (`signal.data.description.type`), if any. */
  const described = (text: unknown): string | undefined =>
    typeof text === 'string' ? /"description":\{"type":"(offer|answer)"/.exec(text)?.[1] : undefined;

  // What the element reports (ours only): a warning or error during setup is a step too.
  for (const type of ['vc-warning', 'vc-error']) {
    document.addEventListener(type, (e) => {
      const detail = e as Event & { code?: string; message?: string; error?: { code?: string; message?: string } };
      mark(`${type} ${detail.code ?? detail.error?.code ?? ''}: ${detail.message ?? detail.error?.message ?? ''}`);
    });
  }
  const media = navigator.mediaDevices;
  const nativeGetUserMedia = media.getUserMedia.bind(media);
  media.getUserMedia = (constraints?: MediaStreamConstraints) => {
    mark('getUserMedia called');
    return nativeGetUserMedia(constraints).then((stream) => {
      mark('getUserMedia resolved');
      return stream;
    });
  };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (/video-chat-engine/.test(entry.name)) {
        state.marks.push(['engine fetch started', performance.timeOrigin + entry.startTime]);
        state.marks.push(['engine fetched', performance.timeOrigin + entry.startTime + entry.duration]);
      }
    }
  }).observe({ type: 'resource', buffered: true });
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        state.marks.push(['long task', performance.timeOrigin + entry.startTime]);
        state.marks.push(['long task end', performance.timeOrigin + entry.startTime + entry.duration]);
      }
    }).observe({ type: 'longtask' });
  } catch {
    // Firefox has no long task timing
  }

  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      mark('relay socket created');
      this.addEventListener('open', () => mark('relay socket open'));
      this.addEventListener('message', (e: MessageEvent) => {
        if (typeof e.data === 'string' && e.data.startsWith('{"type":"welcome"')) {
          state.welcomes.push(now());
          mark('welcome');
          // The setup window's start in a Chrome trace (call-bench.ts BENCH_TIMELINE=welcome).
          if (state.welcomes.length === 1) console.timeStamp('bench-welcome');
        }
        const type = described(e.data);
        if (type) mark(`${type} received (relay)`);
      });
    }
    override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      if (typeof data === 'string' && data.startsWith('{"type":"join"')) mark('join sent');
      const type = described(data);
      if (type) mark(`${type} sent (relay)`);
      super.send(data);
    }
  };
  const NativePeerConnection = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends NativePeerConnection {
    constructor(configuration?: RTCConfiguration) {
      super(configuration);
      mark('peer connection created');
      state.pcs.push(this);
      this.addEventListener('negotiationneeded', () => mark('negotiationneeded'));
      this.addEventListener('track', () => mark('track'));
      this.addEventListener('icecandidate', (e) => mark(e.candidate ? 'local candidate' : 'gathering complete'));
      this.addEventListener('iceconnectionstatechange', () => mark(`ice ${this.iceConnectionState}`));
      this.addEventListener('connectionstatechange', () => mark(`connection ${this.connectionState}`));
    }
    override setLocalDescription(description?: RTCLocalSessionDescriptionInit): Promise<void> {
      const type = description?.type ?? (this.signalingState === 'have-remote-offer' ? 'answer' : 'offer');
      mark(`setLocalDescription(${type}) called`);
      return super.setLocalDescription(description).then(() => mark(`setLocalDescription(${type}) resolved`));
    }
    override setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void> {
      mark(`setRemoteDescription(${description.type}) called`);
      return super
        .setRemoteDescription(description)
        .then(() => mark(`setRemoteDescription(${description.type}) resolved`));
    }
    override createDataChannel(label: string, init?: RTCDataChannelInit): RTCDataChannel {
      const channel = super.createDataChannel(label, init);
      channel.addEventListener('open', () => mark('data channel open'));
      return channel;
    }
  };
  // The trace's own polling below uses the native methods: only the page's calls are counted.
  const senderStats = RTCRtpSender.prototype.getStats;
  const receiverStats = RTCRtpReceiver.prototype.getStats;
  for (const [proto, name, method] of [
    [RTCRtpSender.prototype, 'RTCRtpSender', 'getParameters'],
    [RTCRtpSender.prototype, 'RTCRtpSender', 'setParameters'],
    [RTCRtpSender.prototype, 'RTCRtpSender', 'getStats'],
    [RTCRtpReceiver.prototype, 'RTCRtpReceiver', 'getStats'],
    [RTCPeerConnection.prototype, 'RTCPeerConnection', 'getStats'],
  ] as const) {
    const target = proto as unknown as Record<string, (...args: unknown[]) => unknown>;
    const native = target[method] as (...args: unknown[]) => unknown;
    const key = `${name}.${method}`;
    target[method] = function (this: unknown, ...args: unknown[]) {
      const t0 = performance.now();
      try {
        return native.apply(this, args);
      } finally {
        state.api.push([key, now(), performance.now() - t0]);
      }
    };
  }
  const nativeSetParameters = RTCRtpSender.prototype.setParameters;
  /** The first encoding each sender was last given, to name what each `setParameters` changes. */
  const lastEncoding = new WeakMap<RTCRtpSender, Record<string, unknown>>();
  const CAPS = ['active', 'maxBitrate', 'maxFramerate', 'scaleResolutionDownBy'] as const;
  RTCRtpSender.prototype.setParameters = function (this: RTCRtpSender, ...args) {
    mark('setParameters called');
    const encoding = { ...(args[0]?.encodings?.[0] ?? {}) } as Record<string, unknown>;
    const before = lastEncoding.get(this) ?? {};
    lastEncoding.set(this, encoding);
    const changed = CAPS.filter((k) => encoding[k] !== before[k]).join(',') || 'nothing';
    state.api.push([`  setParameters changing ${changed}`, now(), 0]);
    return nativeSetParameters.apply(this, args);
  } as typeof nativeSetParameters;
  /** Deep trace only: the first video frame encoded and the first video packet received, per connection. */
  const seen = new WeakMap<RTCPeerConnection, Set<string>>();
  const once = (pc: RTCPeerConnection, step: string): void => {
    const steps = seen.get(pc) ?? seen.set(pc, new Set()).get(pc)!;
    if (steps.has(step)) return;
    steps.add(step);
    mark(step);
  };

  const poll = async (): Promise<void> => {
    for (const pc of state.pcs) {
      if (pc.connectionState === 'closed') continue;
      // The sender's first frame is looked for until seen, even when this page already decoded the other's.
      if (deep && !seen.get(pc)?.has('first frame encoded')) {
        for (const sender of pc.getSenders()) {
          if (sender.track?.kind !== 'video') continue;
          (await senderStats.call(sender)).forEach((s: { type: string; framesEncoded?: number }) => {
            if (s.type === 'outbound-rtp' && (s.framesEncoded ?? 0) > 0) {
              once(pc, 'first frame encoded');
              once(
                pc,
                `first frame encoded (${pc.currentLocalDescription?.type === 'offer' ? 'offerer' : 'answerer'})`,
              );
            }
          });
        }
      }
      if (pc.benchFirstFrame !== undefined) continue;
      for (const receiver of pc.getReceivers()) {
        if (receiver.track.kind !== 'video') continue;
        const report = await receiverStats.call(receiver);
        report.forEach(
          (s: {
            type: string;
            framesDecoded?: number;
            packetsReceived?: number;
            timestamp: number;
            lastPacketReceivedTimestamp?: number;
          }) => {
            if (deep && s.type === 'inbound-rtp' && (s.packetsReceived ?? 0) > 0) {
              if (!seen.get(pc)?.has('first video packet received')) {
                // When the stats were taken and when their last packet arrived (the browser's clock, epoch ms): how late
                // this page's poll saw the first packets.
                state.marks.push(['  stats: taken (first packet seen)', s.timestamp]);
                if (s.lastPacketReceivedTimestamp)
                  state.marks.push(['  stats: last packet at (first seen)', s.lastPacketReceivedTimestamp]);
              }
              once(pc, 'first video packet received');
            }
            if (s.type === 'inbound-rtp' && (s.framesDecoded ?? 0) > 0 && pc.benchFirstFrame === undefined) {
              pc.benchFirstFrame = now();
              mark('first frame decoded');
            }
          },
        );
      }
    }
    setTimeout(() => void poll(), 10);
  };
  void poll();
}

/** One participant's page. */
export interface CallPage {
  browser: Browser;
  page: Page;
  variant: Variant;
}

/**
 * Opens a fresh page of `variant` in `browser`, instrumented, and waits (≤ 20 s) until it can join. `deep` adds the
 * trace steps that cost the page work of their own (sender stats polled every 10 ms, see call-bench.ts `BENCH_TRACE=2`).
 * `query` (`?…`, or empty) is added to the page's address (the baseline's `?features=…`, baseline-call-page.ts).
 */
export async function openCallPage(
  browser: Browser,
  pagesUrl: string,
  variant: Variant,
  deep = false,
  query = '',
): Promise<CallPage> {
  const page = await withTimeout(browser.newPage(), 15_000, 'opening a page');
  await page.evaluateOnNewDocument(instrument, deep);
  await page.goto(`${pagesUrl}${variant}.html${query}`, { waitUntil: 'load', timeout: 20_000 });
  await page.waitForFunction(
    () =>
      (window as unknown as { benchReady?: boolean }).benchReady === true ||
      customElements.get('video-chat') !== undefined,
    { timeout: 20_000, polling: 50 },
  );
  return { browser, page, variant };
}

/** Makes the page join `room` on the relay at `signalUrl` (returns at once; the join runs in the page). */
export async function joinCall(p: CallPage, room: string, signalUrl: string): Promise<void> {
  await withTimeout(
    p.page.evaluate(
      (r: string, u: string) => {
        (window as unknown as { __bench: BenchState }).__bench.marks.push([
          'benchJoin',
          performance.timeOrigin + performance.now(),
        ]);
        void (window as unknown as { benchJoin(room: string, url: string): unknown }).benchJoin(r, u);
      },
      room,
      signalUrl,
    ),
    10_000,
    'joining',
  );
}

/** Welcome times and, per live peer connection, the first-frame time (epoch ms; null: none yet). */
export interface PageTimes {
  welcomes: number[];
  firstFrames: (number | null)[];
  /** The setup trace: [step, epoch ms] in the order they happened (see BenchState.marks). */
  marks: [string, number][];
  /** Web API calls so far: [`Interface.method`, epoch ms, main-thread ms] (see BenchState.api). */
  api: [string, number, number][];
}

export async function pageTimes(p: CallPage): Promise<PageTimes> {
  return withTimeout(
    p.page.evaluate(() => {
      const state = (window as unknown as { __bench: BenchState }).__bench;
      return {
        welcomes: state.welcomes,
        // null, not undefined: undefined inside an array does not survive the trip out of the page.
        firstFrames: state.pcs.filter((pc) => pc.connectionState !== 'closed').map((pc) => pc.benchFirstFrame ?? null),
        marks: state.marks,
        api: state.api,
      };
    }),
    10_000,
    'reading page times',
  );
}

/** Per live peer connection: total video frames decoded (inbound-rtp, all video receivers). */
export async function framesDecoded(p: CallPage): Promise<number[]> {
  return withTimeout(
    p.page.evaluate(async () => {
      const state = (window as unknown as { __bench: BenchState }).__bench;
      const live = state.pcs.filter((pc) => pc.connectionState !== 'closed');
      return Promise.all(
        live.map(async (pc) => {
          let frames = 0;
          for (const receiver of pc.getReceivers()) {
            if (receiver.track.kind !== 'video') continue;
            (await receiver.getStats()).forEach((s: { type: string; framesDecoded?: number }) => {
              if (s.type === 'inbound-rtp') frames += s.framesDecoded ?? 0;
            });
          }
          return frames;
        }),
      );
    }),
    10_000,
    'reading frames decoded',
  );
}

/**
 * Deep trace only (`BENCH_TRACE=2`): the video RTP counters of every live connection of the page, read once the call
 * is set up, summed over its connections: the sender's (`outbound-rtp`: frames and key frames encoded, packets sent,
 * the pacer's `totalPacketSendDelay` in ms, key-frame requests received) and the receiver's (`inbound-rtp`: packets
 * and frames received, key frames decoded, frames dropped, key-frame requests and NACKs sent, jitter buffer delay ms).
 * What tells a re-made key frame, a pacer holding packets or a lost first frame apart.
 */
export async function rtpCounters(p: CallPage): Promise<Record<string, number>> {
  return withTimeout(
    p.page.evaluate(async () => {
      const state = (window as unknown as { __bench: BenchState }).__bench;
      const sum: Record<string, number> = {};
      const add = (key: string, value: unknown): void => {
        if (typeof value === 'number') sum[key] = (sum[key] ?? 0) + value;
      };
      for (const pc of state.pcs.filter((c) => c.connectionState !== 'closed')) {
        (await pc.getStats()).forEach((s: Record<string, unknown>) => {
          if (s['kind'] !== 'video') return;
          if (s['type'] === 'outbound-rtp') {
            for (const k of ['framesEncoded', 'keyFramesEncoded', 'packetsSent', 'pliCount', 'firCount', 'nackCount'])
              add(`out.${k}`, s[k]);
            add('out.totalPacketSendDelay ms', (s['totalPacketSendDelay'] as number) * 1000);
            add('out.totalEncodeTime ms', (s['totalEncodeTime'] as number) * 1000);
          }
          if (s['type'] === 'inbound-rtp') {
            for (const k of [
              'packetsReceived',
              'framesReceived',
              'framesDecoded',
              'keyFramesDecoded',
              'framesDropped',
              'pliCount',
              'firCount',
              'nackCount',
              'packetsLost',
            ])
              add(`in.${k}`, s[k]);
            add('in.jitterBufferDelay ms', (s['jitterBufferDelay'] as number) * 1000);
          }
        });
      }
      return sum;
    }),
    10_000,
    'reading RTP counters',
  );
}

export async function closePage(p: CallPage): Promise<void> {
  await withTimeout(p.page.close(), 10_000, 'closing a page').catch(() => undefined);
}

/** A room name unique to this run. */
let rooms = 0;
export function benchRoom(prefix: string): string {
  return `bench-${prefix}-${process.pid}-${Date.now().toString(36)}-${rooms++}`;
}

/** The relay's WebSocket URL for the harness's server URL (`http://127.0.0.1:PORT/` → `ws://127.0.0.1:PORT/`). */
export function wsUrl(httpUrl: string): string {
  return httpUrl.replace(/^http:/, 'ws:');
}
