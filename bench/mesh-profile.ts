/**
 * Where a mesh's CPU goes (`BENCH_PROFILE=1 npm run bench -- mesh`, diagnostic only, not in the report): during each
 * window, (1) the CPU time of every thread of every browser, grouped by Chromium process type (`--type=renderer`,
 * `gpu-process`, `utility` by its `--utility-sub-type`, the browser process itself) and thread name
 * (`/proc/PID/task/TID/comm`, digits folded: `ThreadPoolForeg`, `CrRendererMain`, `VizCompositorTh`,
 * `WebRtcWorkerThr`…), and (2) a JavaScript CPU profile of every page (Chrome DevTools Protocol `Profiler`, 1 ms
 * sampling), as self time by function. Both are summed over the browsers and the windows of a case and printed side
 * by side for the cases (ms of CPU per second of window), so the phases of ours and of the minimal page compare
 * within one run: the machine's load moves both.
 *
 * @module
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { CDPSession, Page } from 'puppeteer-core';
import { processTree } from './procs.js';
import { fmt } from './util.js';

/** Whether `BENCH_PROFILE=1` is set. */
export const PROFILE = process.env['BENCH_PROFILE'] === '1';

/** CPU µs by "process type · thread name". */
export type ThreadCpu = Map<string, number>;

/** The Chromium process type of `pid` from its command line (`browser` without `--type`). */
function processType(pid: number): string {
  let args: string[] = [];
  try {
    // Chromium's children rewrite their command line as one string (setproctitle): split on spaces too.
    args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/);
  } catch {
    return '?';
  }
  const flag = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const type = flag('type');
  if (!type) return 'browser';
  if (type === 'utility') return `utility:${(flag('utility-sub-type') ?? '?').replace(/\.mojom\..*$/, '')}`;
  return type;
}

/** CPU µs of every thread in `pid`'s process tree (schedstat: time on CPU), by "type · thread name". */
export function threadCpu(pid: number): ThreadCpu {
  const out: ThreadCpu = new Map();
  for (const p of processTree(pid)) {
    const type = processType(p);
    let tids: string[] = [];
    try {
      tids = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        // The main thread keeps the process's name (`chromium`).
        const name =
          tid === String(p) ? 'main' : readFileSync(`/proc/${p}/task/${tid}/comm`, 'utf8').trim().replace(/\d+/g, '#');
        const ns = Number(readFileSync(`/proc/${p}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
        const key = `${type} · ${name}`;
        out.set(key, (out.get(key) ?? 0) + ns / 1000);
      } catch {
        // the thread ended in between
      }
    }
  }
  return out;
}

/** `after − before` per key (a thread that ended in between counts from 0: its time is lost, not negative). */
export function cpuDelta(before: ThreadCpu, after: ThreadCpu): ThreadCpu {
  const out: ThreadCpu = new Map();
  for (const [key, us] of after) out.set(key, Math.max(0, us - (before.get(key) ?? 0)));
  return out;
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number } }[];
  samples?: number[];
  timeDeltas?: number[];
}

/** Starts a JS CPU profile of `page` (1 ms sampling); `stop()` resolves with self µs by function. */
export async function startJsProfile(page: Page): Promise<{ stop(): Promise<Map<string, number>> }> {
  const cdp: CDPSession = await page.createCDPSession();
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 1000 });
  await cdp.send('Profiler.start');
  return {
    async stop() {
      const { profile } = (await cdp.send('Profiler.stop')) as { profile: CpuProfile };
      await cdp.detach().catch(() => undefined);
      const names = new Map(
        profile.nodes.map((n) => {
          const f = n.callFrame;
          const file = f.url.split('/').pop() ?? '';
          return [n.id, `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}`];
        }),
      );
      const self = new Map<string, number>();
      const samples = profile.samples ?? [];
      const deltas = profile.timeDeltas ?? [];
      for (let i = 0; i < samples.length; i++) {
        const name = names.get(samples[i] as number) ?? '?';
        self.set(name, (self.get(name) ?? 0) + (deltas[i + 1] ?? 0));
      }
      return self;
    },
  };
}

/** Adds `from` into `into` (µs by key). */
export function addInto(into: Map<string, number>, from: ReadonlyMap<string, number>): void {
  for (const [key, us] of from) into.set(key, (into.get(key) ?? 0) + us);
}

/**
 * A table of the top `top` keys (by the largest case), in ms of CPU per second of window summed over browsers,
 * one column per case. `seconds`: the total window length of each case.
 */
export function profileTable(
  title: string,
  cases: ReadonlyMap<string, { us: Map<string, number>; seconds: number }>,
  top = 25,
): string {
  const names = [...cases.keys()];
  const rate = (c: string, key: string) => {
    const x = cases.get(c)!;
    return (x.us.get(key) ?? 0) / 1000 / Math.max(x.seconds, 1e-9);
  };
  const keys = new Set(names.flatMap((c) => [...cases.get(c)!.us.keys()]));
  const rows = [...keys]
    .map((key) => ({ key, rates: names.map((c) => rate(c, key)) }))
    .sort((a, b) => Math.max(...b.rates) - Math.max(...a.rates))
    .slice(0, top);
  const totals = names.map((c) => [...cases.get(c)!.us.keys()].reduce((s, k) => s + rate(c, k), 0));
  const col = (s: string) => s.padStart(12);
  return [
    `${title} (ms of CPU per s of window, all browsers):`,
    `  ${''.padEnd(58)}${names.map(col).join('')}`,
    `  ${'total'.padEnd(58)}${totals.map((t) => col(fmt(t))).join('')}`,
    ...rows.map((r) => `  ${r.key.slice(0, 57).padEnd(58)}${r.rates.map((x) => col(fmt(x))).join('')}`),
  ].join('\n');
}

/** The Web APIs whose calls {@link countCalls} counts (the element's periodic work goes through them). */
const COUNTED = [
  ['RTCRtpSender', 'getParameters'],
  ['RTCRtpSender', 'setParameters'],
  ['RTCPeerConnection', 'getStats'],
  ['RTCRtpSender', 'getStats'],
  ['RTCRtpReceiver', 'getStats'],
] as const;

/**
 * Counts calls of {@link COUNTED} in `page` from now on (wraps the prototypes' methods; the page keeps the wrappers);
 * `read()` resolves with the counts so far by `Interface.method`.
 */
export async function countCalls(page: Page): Promise<{ read(): Promise<Record<string, number>> }> {
  await page.evaluate((counted: readonly (readonly [string, string])[]) => {
    const w = window as unknown as Record<string, unknown> & { __calls?: Record<string, number> };
    if (w.__calls) return;
    const calls: Record<string, number> = (w.__calls = {});
    for (const [iface, method] of counted) {
      const proto = (w[iface] as { prototype: Record<string, (...a: unknown[]) => unknown> }).prototype;
      const native = proto[method] as (...a: unknown[]) => unknown;
      proto[method] = function (this: unknown, ...args: unknown[]) {
        calls[`${iface}.${method}`] = (calls[`${iface}.${method}`] ?? 0) + 1;
        return native.apply(this, args);
      };
    }
  }, COUNTED);
  const start = await page.evaluate(() => ({ ...(window as unknown as { __calls: Record<string, number> }).__calls }));
  return {
    async read() {
      const now = await page.evaluate(() => (window as unknown as { __calls: Record<string, number> }).__calls);
      return Object.fromEntries(Object.entries(now).map(([k, n]) => [k, n - (start[k] ?? 0)]));
    },
  };
}

/**
 * Counts, in `page` from now on, the frames each video of the page presents (`requestVideoFrameCallback`: a frame
 * handed to the compositor, each a draw where the video is on screen) and the element's `vc-active-speaker` events
 * (each a re-render and the speaking ring's 0.3 s transition); `read()` resolves with a line: frames per second per
 * video (the element's by CSS part: `local` the self-view, `remote` the tiles, pinned first) and speaker changes.
 */
export async function countDrawn(page: Page): Promise<{ read(): Promise<string> }> {
  await page.evaluate(() => {
    const root = document.querySelector('video-chat')?.shadowRoot;
    const videos = [...document.querySelectorAll('video'), ...(root?.querySelectorAll('video') ?? [])];
    const label = (v: HTMLVideoElement) =>
      v.closest('.pinned')
        ? 'pinned'
        : v.matches('[part~="local-video"]')
          ? 'local'
          : v.matches('[part]')
            ? 'remote'
            : 'video';
    const counts = new Map<HTMLVideoElement, number>(videos.map((v) => [v, 0]));
    const state = { counts, speaker: 0, t0: performance.now(), label };
    (window as unknown as { __drawn: typeof state }).__drawn = state;
    for (const v of videos) {
      const count = () => {
        counts.set(v, (counts.get(v) ?? 0) + 1);
        v.requestVideoFrameCallback(count);
      };
      v.requestVideoFrameCallback(count);
    }
    document.querySelector('video-chat')?.addEventListener('vc-active-speaker', () => state.speaker++);
  });
  return {
    read: () =>
      page.evaluate(() => {
        const s = (
          window as unknown as {
            __drawn: {
              counts: Map<HTMLVideoElement, number>;
              speaker: number;
              t0: number;
              label(v: HTMLVideoElement): string;
            };
          }
        ).__drawn;
        const seconds = (performance.now() - s.t0) / 1000;
        const rates = [...s.counts]
          .map(([v, n]) => [s.label(v), n / seconds] as const)
          .sort((a, b) => (a[0] === 'pinned' ? -1 : b[0] === 'pinned' ? 1 : a[0].localeCompare(b[0])));
        const total = rates.reduce((a, [, r]) => a + r, 0);
        return `${rates.map(([l, r]) => `${l} ${r.toFixed(1)}`).join(', ')} (sum ${total.toFixed(1)} fps); speaker changes ${(s.speaker / seconds).toFixed(2)}/s`;
      }),
  };
}
