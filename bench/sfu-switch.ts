/**
 * The SFU benchmark's mesh→SFU switch case (bench/sfu-bench.ts): a room in a mesh, the participant that makes it switch
 * joins, and the frame gaps of the original tiles across the switch, with each browser's CPU over it and, with
 * `SFU_BENCH_TRACE`, every page's timeline (bench/sfu-page.ts).
 *
 * @module
 */
import { appendFileSync, readFileSync } from 'node:fs';
import type { Browser, Page } from 'puppeteer-core';
import type { RelayServer } from '../test/e2e/harness.js';
import type { Janus } from '../test/e2e/janus.js';
import { processTree } from './procs.js';
import { benchRoom, wsUrl } from './browser-calls.js';
import { loadNow } from './report.js';
import { readTimeline, takeGaps, watchGaps, type Gaps } from './sfu-page.js';
import type { Switch } from './sfu-report.js';
import { cpuMicros, join, leaveRoom, openPages, patiently, waitFlowing, waitForMode } from './sfu-steps.js';
import { fmt, progress, sleep } from './util.js';

/**
 * `SFU_BENCH_TRACE=<file>`: each switch case appends every page's timeline (ms from the last one's join; see
 * bench/sfu-page.ts `timeline`) to that file.
 */
export const TRACE = process.env['SFU_BENCH_TRACE'];
/** Steady-mesh window before the fifth joins, for the switch gap's baseline. */
export const STEADY_MS = 5_000;
/**
 * The window after the `at − 1`-th one's media flows, where work done ahead of the switch would land (the warm path
 * tried in session 7 prepared the SFU connections 2 s after the mesh went quiet, docs/benchmarks.md): its gaps and
 * the steady mesh's CPU after it are reported apart.
 */
export const PREPARE_MS = 5_000;

/** A field of /proc/<pid>/status (`VmRSS` in kB, `Threads`), or NaN. */
function procStatus(pid: number, field: string): number {
  try {
    const value = new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return value ? Number(value) : NaN;
  } catch {
    return NaN;
  }
}

/**
 * What could pile up from one switch to the next (the gap rose along a series of 6 switches, docs/benchmarks.md §8):
 * the Janus rooms Janus still holds, Janus's resident memory and the processes of each browser, one progress line.
 */
async function leftovers(janus: Janus | undefined, browsers: Browser[], when: string): Promise<void> {
  if (!janus) return;
  const rooms = await janus.rooms().catch(() => [] as string[]);
  const pid = janus.process.pid ?? -1;
  const procs = browsers.map((b) => processTree(b.process()?.pid ?? -1).length);
  progress(
    `sfu: ${when}: janus rooms ${rooms.length}, janus RSS ${fmt(procStatus(pid, 'VmRSS') / 1024)} MB, threads ` +
      `${procStatus(pid, 'Threads')} (one loop per live handle's connection); ` +
      `processes per browser ${procs.join(', ')}`,
  );
}

/**
 * The mesh→SFU switch: `at` − 1 in a mesh, the next one makes the room switch; the frame gaps of the
 * original tiles.
 * @param janus the benchmark's Janus: its rooms and memory before the switch, its CPU over it, in the progress line.
 */
export async function switchGap(
  at: number,
  browsers: Browser[],
  pagesUrl: string,
  relay: RelayServer,
  variant: Switch['variant'],
  janus?: Janus,
): Promise<Switch> {
  await leftovers(janus, browsers, `before the switch (${variant})`);
  const room = benchRoom('switch');
  const url = wsUrl(relay.url);
  const pages = await openPages(browsers, pagesUrl);
  let t0 = 0;
  let done: Switch | undefined;
  try {
    const before = at - 1;
    let epoch = 0;
    const gaps = (n = before): Promise<Gaps[]> => {
      const e = ++epoch;
      return Promise.all(pages.slice(0, n).map((p) => patiently(() => p.evaluate(takeGaps, e), 'reading gaps')));
    };
    const pids = browsers.map((b) => b.process()?.pid ?? -1);
    // `at − 2` first, then the `at − 1`-th (its join is a moment of its own, reported apart).
    await join(pages.slice(0, before - 1), url, room);
    await waitFlowing(pages.slice(0, before - 1), before - 2);
    for (const page of pages.slice(0, before - 1)) await patiently(() => page.evaluate(watchGaps), 'watching gaps');
    await sleep(1_000);
    const first = await gaps(before - 1);
    await join(pages.slice(before - 1, before), url, room);
    await waitFlowing(pages.slice(0, before), before - 1);
    await waitForMode(pages.slice(0, before), 'mesh', before);
    const joined = await gaps(before - 1);
    await patiently(() => pages[before - 1]!.evaluate(watchGaps), 'watching gaps');
    await sleep(PREPARE_MS);
    const prepared = await gaps();
    const cpuSteady0 = pids.map(cpuMicros);
    const steadyStarted = performance.now();
    await sleep(STEADY_MS);
    const steady = await gaps();
    const steadyMs = performance.now() - steadyStarted;
    const steadyCores = pids.slice(0, before).map((pid, i) => (cpuMicros(pid) - cpuSteady0[i]!) / 1e3 / steadyMs);
    const started = performance.now();
    t0 = Date.now();
    const cpu0 = pids.map(cpuMicros);
    const janus0 = cpuMicros(janus?.process.pid ?? -1);
    await join(pages.slice(before), url, room);
    await waitForMode(pages, 'sfu', at);
    const switchMs = performance.now() - started;
    const cpu1 = pids.map(cpuMicros);
    const switchCores = cpu1.map((c, i) => (c - cpu0[i]!) / 1e3 / switchMs);
    const janusCores = (cpuMicros(janus?.process.pid ?? -1) - janus0) / 1e3 / switchMs;
    await waitFlowing(pages, before);
    await sleep(1_000);
    const across = await gaps();
    // The original tiles only (each original page's original peers): the last one's tile is new, not switched.
    const originals = steady.map((g) => new Set(Object.keys(g)));
    const pick = (g: Gaps[], video = false, tiles = originals): number[] =>
      g.flatMap((perPage, i) =>
        Object.entries(perPage)
          .filter(([id]) => tiles[i]!.has(id))
          .map(([, v]) => (video ? v.maxVideoGapMs : v.maxGapMs)),
      );
    // At the `at − 1`-th join: the tiles the first `at − 2` pages showed before it.
    const earlier = first.map((g) => new Set(Object.keys(g)));
    const s: Switch = {
      joined: pick(joined, false, earlier),
      joinedVideo: pick(joined, true, earlier),
      prepared: pick(prepared),
      preparedVideo: pick(prepared, true),
      steadyCores,
      steady: pick(steady),
      across: pick(across),
      steadyVideo: pick(steady, true),
      acrossVideo: pick(across, true),
      switchMs,
      switchCores,
      variant,
      at: at,
    };
    done = s;
    progress(
      `sfu: switch (${variant}): ${fmt(switchMs)} ms until every page holds only its SFU connections; longest frame gap per ` +
        `original tile, steady mesh ${s.steady.map((x) => fmt(x)).join(', ')} ms; across the switch ` +
        `${s.across.map((x) => fmt(x)).join(', ')} ms (video stalls only: ${s.acrossVideo.map((x) => fmt(x)).join(', ')} ` +
        `ms, steady ${s.steadyVideo.map((x) => fmt(x)).join(', ')}); cores per browser during the switch ` +
        `${switchCores.map((c) => fmt(c, 2)).join(', ')}; at the ${before}th join ${s.joined.map((x) => fmt(x)).join(', ')} ` +
        `ms; over the 5 s after it ${s.prepared.map((x) => fmt(x)).join(', ')} ms (video ` +
        `${s.preparedVideo.map((x) => fmt(x)).join(', ')}); cores per browser in the steady ${before}-mesh ` +
        `${steadyCores.map((c) => fmt(c, 2)).join(', ')}; Janus ${fmt(janusCores, 2)} cores over the switch`,
    );
    return s;
  } finally {
    // A failed switch's timeline too: that is when it tells most.
    if (TRACE && t0 > 0) await writeTrace(TRACE, pages, t0, variant, done);
    await leaveRoom(pages);
  }
}

/** Appends every page's timeline of one switch to `file`, times in ms from `t0` (the last one's join). */
async function writeTrace(
  file: string,
  pages: Page[],
  t0: number,
  variant: Switch['variant'],
  s: Switch | undefined,
): Promise<void> {
  const how = s ? `${fmt(s.switchMs)} ms` : 'FAILED';
  const out = [`# switch (${variant}) at ${new Date(t0).toISOString()}, ${how}, load ${loadNow()}`];
  if (s) out.push(`across: ${s.across.map((x) => fmt(x)).join(', ')}`);
  for (const [i, page] of pages.entries()) {
    const lines = await patiently(() => page.evaluate(readTimeline), 'reading the timeline').catch(() => []);
    out.push(`## page ${i}`);
    for (const line of lines) {
      const at = Number(line.slice(0, line.indexOf(' ')));
      if (at >= t0 - 2_000) out.push(`${String(at - t0).padStart(6)} ${line.slice(line.indexOf(' ') + 1)}`);
    }
  }
  appendFileSync(file, `${out.join('\n')}\n`);
}
