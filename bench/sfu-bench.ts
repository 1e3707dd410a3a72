/**
 * Benchmark 8: a room on the SFU (Janus VideoRoom brokered by the relay, issue 12) against the same room as a mesh,
 * in the same run, in the same browser processes, alternating.
 *
 * Setup (all inside scripts/netns.sh's namespace, as the e2e tests): one real Janus (test/e2e/janus.ts, hardened
 * configuration), two relay CLIs: one without `--janus-url` (every room a mesh) and one with `--janus-url` and
 * `--sfu-from 2` (every room on the SFU from its second member), five Chromium processes (the e2e harness's launch:
 * fake devices, loopback only), one page each with the script-tag bundle (`bench/call-ours.html`). Each page's camera
 * is asked for 320×240 at 15 fps (bench/sfu-page.ts rewrites the element's constraints).
 *
 * Per round, four rooms, one after the other: 5 participants mesh and SFU, 3 participants mesh and SFU (the order of
 * the two modes alternates from round to round). Each room: every page joins, then waits until it shows every other
 * participant with video frames decoding and audio arriving (harness `waitForMediaFlowing`), and the connections are
 * what the mode says (SFU: `:state(sfu)` and exactly the publishing and the subscribing connection; mesh: one per
 * other participant); then {@link SETTLE_MS} more, then a {@link WINDOW_MS} window:
 *
 * - CPU per browser: CPU time (all threads) of each browser's process tree from /proc over the window, in cores;
 * - uplink per participant: the delta of `bytesSent` over all its `outbound-rtp` streams (audio and video), kbps;
 * - received fps per stream: the delta of `framesDecoded` per video `inbound-rtp`;
 * - CPU per received frame: all browsers' CPU over all frames they decoded (ms), without and with Janus's CPU;
 * - Janus's own CPU (its process, all threads) and the relay's, in cores.
 *
 * The result is mesh ÷ SFU per round, reported as the median over the rounds and their range; and the flatness of
 * the uplink: per participant at 5 ÷ at 3, per mode.
 *
 * Options (environment; `npm run bench -- sfu` takes only names): `SFU_BENCH_ROUNDS` (default 2) and
 * `SFU_BENCH_SWITCHES` (default 2, 0 for none). Every wait is bounded (a page's welcome 20 s, a room's media 90 s, a
 * page's answer 30 s) and no room starts after 9 minutes, so a run ends within about 12 minutes; a room or switch
 * that fails is retried once (rooms) and named with its reason in the report.
 *
 * First the mesh→SFU switch gap: a third relay (`--sfu-from 5`), four participants in a mesh, a `requestVideoFrameCallback`
 * watch on every remote tile; the fifth joins, the room switches; once every original page holds only its two SFU
 * connections and shows four participants with frames decoding, the longest interval between two presented frames of
 * each original tile (12 tiles) is read, next to the same figure over a steady-mesh window just before, and the CPU
 * each browser used over the switch. `SFU_BENCH_SWITCH_AT=3` makes it 2 → 3 instead; `SFU_BENCH_BEFORE` runs each
 * switch with another build's pages too (interleaved), `SFU_BENCH_TRACE` writes each page's timeline of the switch.
 *
 * @module
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { Browser, Page } from 'puppeteer-core';
import { closeAll, launchChromium, startRelayServer, type RelayServer } from '../test/e2e/harness.js';
import { startJanus, type Janus } from '../test/e2e/janus.js';
import { benchRoom, startPageServer, wsUrl } from './browser-calls.js';
import { processTree } from './procs.js';
import { loadNow, runNote, SECTION_TITLES, type Section } from './report.js';
import {
  diagnoseSfuPage,
  instrumentSfuPage,
  readSample,
  readTimeline,
  takeGaps,
  watchGaps,
  type Gaps,
  type PageSample,
} from './sfu-page.js';
import { sfuMarkdown, type Switch, type Window } from './sfu-report.js';
import { fmt, progress, sleep, withTimeout } from './util.js';

const BROWSERS = 5;
const SIZES = [5, 3] as const;

/**
 * A count from the environment (an integer in [`min`, `max`]), else `fallback`; anything else stops the benchmark with
 * a line naming the variable (`npm run bench -- <names>` takes only names, so options are environment variables).
 */
function countFromEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(raw)}`);
  }
  return n;
}

/** Rounds of four rooms (`SFU_BENCH_ROUNDS`, default 2). */
const ROUNDS = countFromEnv('SFU_BENCH_ROUNDS', 2, 0, 10);
/** Mesh→SFU switch cases (`SFU_BENCH_SWITCHES`, default 2; 0 leaves the case out). */
const SWITCHES = countFromEnv('SFU_BENCH_SWITCHES', 2, 0, 10);
/**
 * `SFU_BENCH_TRACE=<file>`: each switch case appends every page's timeline (ms from the last one's join; see
 * bench/sfu-page.ts `timeline`) to that file.
 */
const TRACE = process.env['SFU_BENCH_TRACE'];
/**
 * Participants at which the switch case's room switches (`SFU_BENCH_SWITCH_AT`, default 5: four in a mesh, the fifth
 * switches it); 3 (2 → 3, the e2e's) is light enough for a machine under heavy load.
 */
const SWITCH_AT = countFromEnv('SFU_BENCH_SWITCH_AT', 5, 3, 5);
/**
 * `SFU_BENCH_BEFORE=<dir>`: a directory holding another build of the element (its `bench/call-ours.html` and `dist/`,
 * e.g. main's after `npm run build`). Each switch case then runs twice, that build's pages and ours, alternating
 * which goes first, against the same relay and Janus: the switch figures of both, under the same load.
 */
const BEFORE = process.env['SFU_BENCH_BEFORE'];
const SETTLE_MS = 5_000;
const WINDOW_MS = 10_000;
/** Steady-mesh window before the fifth joins, for the switch gap's baseline. */
const STEADY_MS = 5_000;
/** Longest wait for a room to show everyone's media, or for the switch to finish. */
const READY_MS = 90_000;
/** Longest wait for one page's welcome after its join (the joins go one after the other). */
const WELCOME_MS = 20_000;
/** Longest wait for one page to answer a read. */
const EVALUATE_MS = 30_000;
/**
 * No new room or switch case is started after this much time (those not run are listed in the report): with the
 * waits above bounded, the whole benchmark ends within about 12 minutes even when rooms fail (on a quiet machine the
 * defaults take about 5).
 */
const BUDGET_MS = 9 * 60_000;

export type Mode = 'mesh' | 'sfu';

/**
 * The harness's relay, asked up to 3 times: on a starved machine the CLI sometimes takes longer than the harness's
 * 15 s to print its URL (seen at load average 48).
 */
async function startRelay(args: string[] = []): Promise<RelayServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startRelayServer(args);
    } catch (error) {
      progress(`sfu: starting a relay failed (attempt ${attempt} of 3): ${String(error)}`);
      if (attempt >= 3) throw error;
    }
  }
}

/** Opens one instrumented page of `bench/call-ours.html` per browser. */
async function openPages(browsers: Browser[], pagesUrl: string): Promise<Page[]> {
  const pages: Page[] = [];
  try {
    for (const browser of browsers) {
      const page = await withTimeout(browser.newPage(), 15_000, 'opening a page');
      pages.push(page);
      await page.evaluateOnNewDocument(instrumentSfuPage);
      await page.goto(`${pagesUrl}ours.html`, { waitUntil: 'load', timeout: 20_000 });
      await page.waitForFunction(() => customElements.get('video-chat') !== undefined, { timeout: 20_000 });
    }
  } catch (error) {
    await leaveRoom(pages);
    throw error;
  }
  return pages;
}

/**
 * Makes each page join `room` on `signalUrl`, one after the other: each waits (≤ {@link WELCOME_MS}) for its welcome
 * (the element `in-call` or `waiting`) before the next joins, so that a starved machine does not negotiate every
 * connection of a 5-person mesh at once (all joining together, 4 of 5 meshes never got going at load 30–90).
 */
async function join(pages: Page[], signalUrl: string, room: string): Promise<void> {
  for (const [i, page] of pages.entries()) {
    await withTimeout(
      page.evaluate(
        (r: string, u: string) =>
          void (window as unknown as { benchJoin(room: string, url: string): unknown }).benchJoin(r, u),
        room,
        signalUrl,
      ),
      10_000,
      `page ${i}: joining`,
    );
    const deadline = Date.now() + WELCOME_MS;
    let state = 'no answer';
    for (let n = 0; n < 100 && Date.now() < deadline; n++) {
      state = await withTimeout(
        page.evaluate(() => (document.querySelector('video-chat') as (HTMLElement & { state?: string }) | null)?.state),
        EVALUATE_MS,
        'reading the state',
      ).then(
        (s) => s ?? 'no element',
        () => 'no answer',
      );
      if (state === 'in-call' || state === 'waiting') break;
      await sleep(200);
    }
    if (state !== 'in-call' && state !== 'waiting') {
      throw new Error(`page ${i} not welcomed within ${WELCOME_MS} ms of its join (state: ${state})`);
    }
  }
}

/**
 * Waits (≤ READY_MS) until every page shows `others` remote pictures (`videoWidth > 0`) and decodes video on at least
 * `others` streams (`framesDecoded` grew over 1 s); else throws with every page's connection states and the element's
 * warnings and errors. A page too starved to answer within {@link EVALUATE_MS} counts as not ready yet (this machine is
 * shared: at load average 30–60 a page sometimes takes over 10 s to answer), not as a failure.
 */
async function waitFlowing(pages: Page[], others: number): Promise<void> {
  const deadline = Date.now() + READY_MS;
  const tryAll = (): Promise<(PageSample | undefined)[]> =>
    Promise.all(pages.map((p) => sample(p).catch(() => undefined)));
  let last = '';
  for (let i = 0; i < 200 && Date.now() < deadline; i++) {
    const before = await tryAll();
    await sleep(1_000);
    const after = await tryAll();
    const ready = after.map((s, j) => {
      const then = new Map((before[j]?.inbound ?? []).map((x) => [x.key, x.framesDecoded]));
      const decoding = (s?.inbound ?? []).filter((x) => x.framesDecoded > (then.get(x.key) ?? Infinity)).length;
      return s !== undefined && s.pictures === others && decoding >= others;
    });
    if (ready.every(Boolean)) return;
    last = after.map((s, j) => `page ${j}: ${s ? `${s.pictures} pictures` : 'no answer'}`).join(', ');
  }
  const why = await Promise.all(
    pages.map((p, i) =>
      withTimeout(p.evaluate(diagnoseSfuPage), EVALUATE_MS, 'diagnosing').then(
        (d) => `page ${i}: ${d}`,
        (e: unknown) => `page ${i}: ${String(e)}`,
      ),
    ),
  );
  throw new Error(`media from ${others} not flowing within ${READY_MS} ms (${last})\n  ${why.join('\n  ')}`);
}

async function leaveRoom(pages: Page[]): Promise<void> {
  for (const page of pages) await withTimeout(page.close(), 10_000, 'closing a page').catch(() => undefined);
  // Let the relay see them go and (SFU) Janus destroy the room before the next one.
  await sleep(1_000);
}

const sample = (page: Page): Promise<PageSample> =>
  withTimeout(page.evaluate(readSample), EVALUATE_MS, 'reading stats');

/** Throws unless every page's connections are those of `mode` (SFU: two; mesh: one per other participant). */
function checkMode(samples: PageSample[], mode: Mode, size: number): void {
  for (const [i, s] of samples.entries()) {
    const ok = mode === 'sfu' ? s.sfu && s.open === 2 : !s.sfu && s.open === size - 1;
    if (!ok) throw new Error(`page ${i} is not in ${mode} with ${size}: sfu=${s.sfu}, open connections ${s.open}`);
  }
}

/** Waits (≤ READY_MS) until every page's connections are those of `mode`. */
async function waitForMode(pages: Page[], mode: Mode, size: number): Promise<void> {
  const deadline = Date.now() + READY_MS;
  for (let i = 0; ; i++) {
    try {
      checkMode(await Promise.all(pages.map(sample)), mode, size);
      return;
    } catch (error) {
      // Not there yet, or a page too starved to answer: both are retried until the deadline.
      if (Date.now() > deadline || i > 600) throw error;
    }
    await sleep(250);
  }
}

const CLOCK_TICKS = 100;

/**
 * CPU time (user + system) of `pid` and its live descendants, µs, from /proc/PID/stat (proc(5): utime + stime, fields
 * 14 and 15, in clock ticks; `getconf CLK_TCK` is 100 on Linux x86-64). Not procs.ts's per-thread schedstat sum: that
 * forgets the time of threads that ended, and Janus ends a thread with every session and handle it drops (a mesh
 * window read a negative Janus CPU that way); a process's stat counts its ended threads too.
 */
function cpuMicros(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      // The command name (field 2) may hold spaces and parentheses: split after its closing parenthesis.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited in between
    }
  }
  return (ticks * 1e6) / CLOCK_TICKS;
}

/** Sum of the deltas of `value` over the keys present in both snapshots. */
function delta<T extends { key: string }>(before: T[], after: T[], value: (x: T) => number): number {
  const then = new Map(before.map((x) => [x.key, x]));
  let sum = 0;
  for (const x of after) {
    const old = then.get(x.key);
    if (old) sum += value(x) - value(old);
  }
  return sum;
}

/** Rooms that failed (each retried once), as "mode size, round: why". */
const failures: string[] = [];

/**
 * {@link measureOnce}, retried once in a fresh room if the room never got going (and `deadline`, ms since the epoch,
 * has not passed); each failure is kept for the report.
 * Undefined when both attempts failed (the round then has no ratio for that size).
 */
async function measure(
  browsers: Browser[],
  pagesUrl: string,
  relay: RelayServer,
  janus: Janus,
  mode: Mode,
  round: number,
  deadline: number,
): Promise<Window | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await measureOnce(browsers, pagesUrl, relay, janus, mode, round);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      failures.push(`${mode} ${browsers.length}, round ${round + 1}: ${why.split('\n')[0]}`);
      progress(`sfu: round ${round + 1} ${mode} ${browsers.length} failed (attempt ${attempt + 1}): ${why}`);
      if (attempt >= 1 || Date.now() > deadline) return undefined;
    }
  }
}

/** One measured room. */
async function measureOnce(
  browsers: Browser[],
  pagesUrl: string,
  relay: RelayServer,
  janus: Janus,
  mode: Mode,
  round: number,
): Promise<Window> {
  const size = browsers.length;
  const pages = await openPages(browsers, pagesUrl);
  try {
    await join(pages, wsUrl(relay.url), benchRoom(`${mode}${size}`));
    await waitFlowing(pages, size - 1);
    await waitForMode(pages, mode, size);
    await sleep(SETTLE_MS);
    const pids = browsers.map((b) => b.process()?.pid ?? -1);
    const s0 = await Promise.all(pages.map((p) => patiently(() => p.evaluate(readSample), 'reading stats')));
    const cpu0 = pids.map(cpuMicros);
    const janus0 = cpuMicros(janus.process.pid ?? -1);
    const relay0 = cpuMicros(relay.process.pid ?? -1);
    const t0 = performance.now();
    await sleep(WINDOW_MS);
    const cpu1 = pids.map(cpuMicros);
    const janus1 = cpuMicros(janus.process.pid ?? -1);
    const relay1 = cpuMicros(relay.process.pid ?? -1);
    const seconds = (performance.now() - t0) / 1000;
    const s1 = await Promise.all(pages.map((p) => patiently(() => p.evaluate(readSample), 'reading stats')));
    // Page figures over the page's own interval between its two snapshots (a starved page may answer late).
    const span = (i: number): number => (s1[i]!.at - s0[i]!.at) / 1000;
    checkMode(s1, mode, size);
    const w: Window = {
      mode,
      size,
      round,
      cores: cpu1.map((c, i) => (c - (cpu0[i] as number)) / 1e6 / seconds),
      uplinkKbps: s1.map((s, i) => (delta(s0[i]!.outbound, s.outbound, (x) => x.bytesSent) * 8) / 1000 / span(i)),
      retransmitKbps: s1.map(
        (s, i) => (delta(s0[i]!.outbound, s.outbound, (x) => x.retransmitted) * 8) / 1000 / span(i),
      ),
      keyFramesPerS: s1.map((s, i) => delta(s0[i]!.outbound, s.outbound, (x) => x.keyFrames) / span(i)),
      fps: s1.flatMap((s, i) => {
        const then = new Map(s0[i]!.inbound.map((x) => [x.key, x.framesDecoded]));
        return s.inbound.filter((x) => then.has(x.key)).map((x) => (x.framesDecoded - then.get(x.key)!) / span(i));
      }),
      widths: s1.flatMap((s) => s.inbound.map((x) => x.frameWidth)),
      encodings: s1.map((s, i) => {
        const then = new Map(s0[i]!.outbound.map((x) => [x.key, x.framesEncoded]));
        return s.outbound.filter((x) => x.kind === 'video' && x.framesEncoded > (then.get(x.key) ?? Infinity)).length;
      }),
      sentWidths: s1.map((s) => Math.max(0, ...s.outbound.filter((x) => x.kind === 'video').map((x) => x.frameWidth))),
      janusCores: (janus1 - janus0) / 1e6 / seconds,
      relayCores: (relay1 - relay0) / 1e6 / seconds,
    };
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    progress(
      `sfu: round ${round + 1} ${mode} ${size}: cores per browser ${w.cores.map((c) => fmt(c, 2)).join(', ')}; ` +
        `uplink kbps ${w.uplinkKbps.map((k) => fmt(k)).join(', ')} (retransmitted ` +
        `${w.retransmitKbps.map((k) => fmt(k)).join(', ')}; key frames/s ${w.keyFramesPerS.map((k) => fmt(k)).join(', ')}); ` +
        `fps per stream mean ${fmt(mean(w.fps))} ` +
        `(${w.fps.length} streams, width ${w.widths.join('/')}); video encodings ${w.encodings.join(', ')}; ` +
        `Janus ${fmt(w.janusCores, 2)} cores, relay ${fmt(w.relayCores, 2)}`,
    );
    return w;
  } finally {
    await leaveRoom(pages);
  }
}

/** `read()` within EVALUATE_MS, asked up to 3 times (a starved page may not answer at once). */
async function patiently<T>(read: () => Promise<T>, what: string): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await withTimeout(read(), EVALUATE_MS, what);
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
}

/**
 * The mesh→SFU switch: {@link SWITCH_AT} − 1 in a mesh, the next one makes the room switch; the frame gaps of the
 * original tiles.
 */
async function switchGap(
  browsers: Browser[],
  pagesUrl: string,
  relay: RelayServer,
  variant: Switch['variant'],
): Promise<Switch> {
  const room = benchRoom('switch');
  const url = wsUrl(relay.url);
  const pages = await openPages(browsers, pagesUrl);
  let t0 = 0;
  let done: Switch | undefined;
  try {
    const before = SWITCH_AT - 1;
    await join(pages.slice(0, before), url, room);
    await waitFlowing(pages.slice(0, before), before - 1);
    await waitForMode(pages.slice(0, before), 'mesh', before);
    let epoch = 0;
    const gaps = (): Promise<Gaps[]> => {
      const e = ++epoch;
      return Promise.all(pages.slice(0, before).map((p) => patiently(() => p.evaluate(takeGaps, e), 'reading gaps')));
    };
    for (const page of pages.slice(0, before)) await patiently(() => page.evaluate(watchGaps), 'watching gaps');
    await sleep(1_000);
    await gaps();
    await sleep(STEADY_MS);
    const steady = await gaps();
    const started = performance.now();
    t0 = Date.now();
    const pids = browsers.map((b) => b.process()?.pid ?? -1);
    const cpu0 = pids.map(cpuMicros);
    await join(pages.slice(before), url, room);
    await waitForMode(pages, 'sfu', SWITCH_AT);
    const switchMs = performance.now() - started;
    const cpu1 = pids.map(cpuMicros);
    const switchCores = cpu1.map((c, i) => (c - cpu0[i]!) / 1e3 / switchMs);
    await waitFlowing(pages, before);
    await sleep(1_000);
    const across = await gaps();
    // The original tiles only (each original page's original peers): the last one's tile is new, not switched.
    const originals = steady.map((g) => new Set(Object.keys(g)));
    const pick = (g: Gaps[], video = false): number[] =>
      g.flatMap((perPage, i) =>
        Object.entries(perPage)
          .filter(([id]) => originals[i]!.has(id))
          .map(([, v]) => (video ? v.maxVideoGapMs : v.maxGapMs)),
      );
    const s: Switch = {
      steady: pick(steady),
      across: pick(across),
      steadyVideo: pick(steady, true),
      acrossVideo: pick(across, true),
      switchMs,
      switchCores,
      variant,
      at: SWITCH_AT,
    };
    done = s;
    progress(
      `sfu: switch (${variant}): ${fmt(switchMs)} ms until every page holds only its SFU connections; longest frame gap per ` +
        `original tile, steady mesh ${s.steady.map((x) => fmt(x)).join(', ')} ms; across the switch ` +
        `${s.across.map((x) => fmt(x)).join(', ')} ms (video stalls only: ${s.acrossVideo.map((x) => fmt(x)).join(', ')} ` +
        `ms, steady ${s.steadyVideo.map((x) => fmt(x)).join(', ')}); cores per browser during the switch ` +
        `${switchCores.map((c) => fmt(c, 2)).join(', ')}`,
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

export async function benchSfu(root: string): Promise<Section> {
  const startedAt = new Date();
  const deadline = startedAt.getTime() + BUDGET_MS;
  failures.length = 0;
  const windows: Window[] = [];
  const switches: Switch[] = [];
  const pagesServer = await startPageServer(root);
  const beforeServer = BEFORE ? await startPageServer(BEFORE) : undefined;
  try {
    const janus = await startJanus();
    // `=`: a base64url secret may start with '-', which a separate argument would make look like an option.
    const sfuArgs = [
      `--janus-url=${janus.url}`,
      `--janus-secret=${janus.apiSecret}`,
      `--janus-admin-key=${janus.adminKey}`,
    ];
    const meshRelay = await startRelay();
    const sfuRelay = await startRelay([...sfuArgs, '--sfu-from', '2']);
    const browsers: Browser[] = [];
    for (let i = 0; i < BROWSERS; i++) browsers.push(await launchChromium());
    // The switch cases first: they are the ones that never completed on a loaded machine, so they do not wait
    // behind the rooms for whatever time is left.
    const switchRelay = await startRelay([...sfuArgs, '--sfu-from', String(SWITCH_AT)]);
    const variants: [Switch['variant'], string][] = [['ours', pagesServer.url]];
    if (beforeServer) variants.push(['before', beforeServer.url]);
    for (let i = 0; i < SWITCHES; i++) {
      for (const [variant, url] of i % 2 === 0 ? variants : [...variants].reverse()) {
        if (Date.now() > deadline) {
          failures.push(`switch ${i + 1} (${variant}): not run (the benchmark's ${BUDGET_MS / 60_000} min were up)`);
          continue;
        }
        try {
          progress(`sfu: switch ${i + 1} of ${SWITCHES} (${variant})`);
          switches.push(await switchGap(browsers.slice(0, SWITCH_AT), url, switchRelay, variant));
        } catch (error) {
          const why = error instanceof Error ? error.message : String(error);
          failures.push(`switch ${i + 1} (${variant}): ${why.split('\n')[0]}`);
          progress(`sfu: switch ${i + 1} (${variant}) failed: ${why}`);
        }
      }
    }
    for (let round = 0; round < ROUNDS; round++) {
      const order: Mode[] = round % 2 === 0 ? ['mesh', 'sfu'] : ['sfu', 'mesh'];
      for (const size of SIZES) {
        for (const mode of order) {
          const relay = mode === 'sfu' ? sfuRelay : meshRelay;
          if (Date.now() > deadline) {
            failures.push(
              `${mode} ${size}, round ${round + 1}: not run (the benchmark's ${BUDGET_MS / 60_000} min were up)`,
            );
            continue;
          }
          progress(`sfu: round ${round + 1} of ${ROUNDS}, ${mode} ${size}`);
          const w = await measure(browsers.slice(0, size), pagesServer.url, relay, janus, mode, round, deadline);
          if (w) windows.push(w);
        }
      }
    }
  } finally {
    await closeAll().catch((error: unknown) => progress(`sfu: teardown: ${String(error)}`));
    await pagesServer.close();
    await beforeServer?.close();
  }
  const seconds = (Date.now() - startedAt.getTime()) / 1000;
  const out = [`## ${SECTION_TITLES['sfu']}`, '', runNote(startedAt, seconds), ''];
  out.push(
    sfuMarkdown(windows, switches, failures, {
      rounds: ROUNDS,
      settleMs: SETTLE_MS,
      windowMs: WINDOW_MS,
      steadyMs: STEADY_MS,
      readyMs: READY_MS,
      sizes: SIZES,
    }),
  );
  out.push(
    '',
    `_${BROWSERS} Chromium processes share ${cpus().length} cores with the rest of the machine. Load average after this benchmark: ${loadNow()}._`,
  );
  return { id: 'sfu', markdown: out.join('\n') };
}
