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
}

/** Injected into every page before its scripts run. Serialized by puppeteer: must be self-contained. */
function instrument(): void {
  const now = (): number => performance.timeOrigin + performance.now();
  const state: BenchState = { welcomes: [], pcs: [] };
  (window as unknown as { __bench: BenchState }).__bench = state;

  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      this.addEventListener('message', (e: MessageEvent) => {
        if (typeof e.data === 'string' && e.data.startsWith('{"type":"welcome"')) state.welcomes.push(now());
      });
    }
  };
  const NativePeerConnection = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends NativePeerConnection {
    constructor(configuration?: RTCConfiguration) {
      super(configuration);
      state.pcs.push(this);
    }
  };

  const poll = async (): Promise<void> => {
    for (const pc of state.pcs) {
      if (pc.benchFirstFrame !== undefined || pc.connectionState === 'closed') continue;
      for (const receiver of pc.getReceivers()) {
        if (receiver.track.kind !== 'video') continue;
        const report = await receiver.getStats();
        report.forEach((s: { type: string; framesDecoded?: number }) => {
          if (s.type === 'inbound-rtp' && (s.framesDecoded ?? 0) > 0) pc.benchFirstFrame ??= now();
        });
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

/** Opens a fresh page of `variant` in `browser`, instrumented, and waits (≤ 20 s) until it can join. */
export async function openCallPage(browser: Browser, pagesUrl: string, variant: Variant): Promise<CallPage> {
  const page = await withTimeout(browser.newPage(), 15_000, 'opening a page');
  await page.evaluateOnNewDocument(instrument);
  await page.goto(`${pagesUrl}${variant}.html`, { waitUntil: 'load', timeout: 20_000 });
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
}

export async function pageTimes(p: CallPage): Promise<PageTimes> {
  return withTimeout(
    p.page.evaluate(() => {
      const state = (window as unknown as { __bench: BenchState }).__bench;
      return {
        welcomes: state.welcomes,
        // null, not undefined: undefined inside an array does not survive the trip out of the page.
        firstFrames: state.pcs.filter((pc) => pc.connectionState !== 'closed').map((pc) => pc.benchFirstFrame ?? null),
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
