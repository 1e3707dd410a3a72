/**
 * Benchmark 4: call setup. Two peers, and a 4-peer mesh, in separate Chromium processes (the e2e harness launches
 * them), all pages loaded first, then told to join the same fresh room at once. The figure of one call is the time
 * from the LAST `welcome` (the moment everyone is in the room) until EVERY peer has decoded a first video frame from
 * every other peer. Our page (the `<video-chat>` bundle) and the baseline page (bench/baseline-call-page.ts: the bare
 * minimum) alternate call by call, through the same relay (our CLI) and the same browser processes; medians of
 * `CALLS` calls each.
 *
 * @module
 */
import { appendFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Browser } from 'puppeteer-core';
import { closeAll, launchChromium, startRelayServer } from '../test/e2e/harness.js';
import {
  benchRoom,
  closePage,
  joinCall,
  openCallPage,
  pageTimes,
  rtpCounters,
  startPageServer,
  wsUrl,
  type CallPage,
  type PageTimes,
  type Variant,
} from './browser-calls.js';
import { treeCpuMicros } from './procs.js';
import { addProfile, type CpuProfile } from './call-profile.js';
import { startTimeline, stopTimeline, timelineTable, type Timeline } from './call-timeline.js';
import { loadNow, runNote, SECTION_TITLES, type Section } from './report.js';
import { fmt, median, progress, ratio, sleep } from './util.js';

const CALLS = Number(process.env['BENCH_CALLS']) || 10;
const SIZES: readonly number[] = process.env['BENCH_SIZES']?.split(',').map(Number) ?? [2, 4];
/**
 * `BENCH_TRACE=1`: also print (stderr, not the report) the setup trace of each variant: per step (getUserMedia, relay
 * socket, welcome, offer and answer set, ICE and DTLS connected, first frame, …) the median over the calls of when any
 * peer first and last took it, in ms from the last `welcome` (negative: before it), and the main thread's long tasks
 * (Long Tasks API) between the last welcome and each page's last first frame. Diagnostic only: which step the time
 * goes to, for a change to aim at.
 */
const TRACE = process.env['BENCH_TRACE'] === '1' || process.env['BENCH_TRACE'] === '2';
/** `BENCH_TRACE=2`: the trace also polls the senders' stats for the first frame encoded and first packet received. */
const DEEP = process.env['BENCH_TRACE'] === '2';
/**
 * `BENCH_TRACE_DUMP=<file>`: append one JSON line per call (label, setup ms, and each page's trace steps and Web API
 * calls in ms from the last `welcome`), to compare single calls (e.g. the fast and slow ones of a bimodal run).
 */
const DUMP = process.env['BENCH_TRACE_DUMP'];
/**
 * `BENCH_PROFILE=1`: also take a CPU profile of every page (Chrome DevTools Protocol `Profiler`, 200 µs sampling)
 * from the join until the call is set up, and print the functions with the most self time per variant, summed over
 * all pages and calls. Diagnostic only (the profiler slows the pages down: do not read the setup times of such a run).
 */
const PROFILE = process.env['BENCH_PROFILE'] === '1';
/** `BENCH_TIMELINE=1`: also a Chrome trace of every page, summed per variant (bench/call-timeline.ts). */
const TIMELINE = process.env['BENCH_TIMELINE'] === '1' || process.env['BENCH_TIMELINE'] === 'welcome';
/** `BENCH_TIMELINE=welcome`: the same from each page's first `welcome` (the setup window) instead of the join. */
const FROM_WELCOME = process.env['BENCH_TIMELINE'] === 'welcome';
/** The traces' summaries, per variant label. */
const timelines = new Map<string, Timeline>();
/** Self time (ms) by function, per variant label, over the profiled calls. */
const profiles = new Map<string, Map<string, number>>();

const VARIANTS: readonly Variant[] = ['ours', 'baseline'];
/**
 * `BENCH_CALL_AB=<dir>[,<dir>…]`: more pages in the same run, each our page with the bundle of another build (`<dir>`
 * laid out as this repository: `<dir>/bench/call-ours.html` and `<dir>/dist/`, e.g. a copy of main's build), labelled
 * by the folder's name, served by a page server of its own and interleaved call by call with the others. An A/B of
 * builds with the same browsers, relay and load: read `ours ÷ <label>` and each one's ratio to the same run's baseline.
 */
const AB_ROOTS = process.env['BENCH_CALL_AB']?.split(',').filter(Boolean) ?? [];
/**
 * `BENCH_BASELINE_FEATURES=<f>[,<f>…]` (f: `dc`, `enc`, `ans`, `bundle`, `all`; issue 16): one more baseline page per
 * feature, the minimal page with that one of our element's setup features added (bench/baseline-call-page.ts: the
 * negotiated data channel, the offerer's `sendEncodings`, the answerer's `setParameters` before the answer,
 * `max-bundle`, or all four), labelled `baseline+<f>`, interleaved call by call with the others: what each costs
 * alone, read as `baseline+<f> ÷ baseline` in the same run.
 */
const FEATURES = process.env['BENCH_BASELINE_FEATURES']?.split(',').filter(Boolean) ?? [];
/**
 * The pages of a run: a label (the results' and the trace's), the page it loads, the server it comes from and the
 * query added to its address.
 */
interface Entry {
  label: string;
  variant: Variant;
  url: string;
  query?: string;
}
/** Longest a call may take to show every remote video everywhere before it counts as failed. */
const CALL_TIMEOUT_MS = 20_000;
/** Goal of the issue: our median within this factor of the baseline's. */
const GOAL_RATIO = 1.1;

export interface CallResult {
  /** Last welcome → every peer decoded a frame from every other, ms. */
  setupMs: number;
  /** Per peer: last welcome → this peer decoded a frame from every other, ms. */
  perPeerMs: number[];
  /** The setup trace: per step, [first, last] time any peer took it, ms from the last welcome. */
  steps: Map<string, [number, number]>;
  /** Long tasks (ms of main thread) between the last welcome and each page's last first frame, summed over the pages. */
  longTaskMs: number;
  /** Web API calls of each page from its start to its last first frame, summed: [count, main-thread ms] by name. */
  api: Map<string, [number, number]>;
  /** `BENCH_TRACE=2`: the video RTP counters of all pages once set up, summed (browser-calls.ts `rtpCounters`). */
  rtp?: Record<string, number>;
  /**
   * CPU time (user + system, /proc) of the call's browser processes, all threads, from the join until the setup was
   * seen complete, ms, summed over the browsers: the work a variant costs, less noisy than its setup time on a shared
   * machine (2 cores: four browsers' setup is CPU-bound).
   */
  cpuMs: number;
}

/** Per step of the pages' traces: when any page first and last took it, ms from `zero`; and the long tasks. */
function traceSteps(times: readonly PageTimes[], zero: number): Pick<CallResult, 'steps' | 'longTaskMs' | 'api'> {
  const steps = new Map<string, [number, number]>();
  const api = new Map<string, [number, number]>();
  let longTaskMs = 0;
  for (const t of times) {
    const last = Math.max(...t.firstFrames.map((f) => f ?? 0));
    for (const [name, at, ms] of t.api) {
      if (at > last) continue; // after this page's setup
      const sum = api.get(name) ?? [0, 0];
      api.set(name, [sum[0] + 1, sum[1] + ms]);
    }
    const end = Math.max(...t.firstFrames.map((f) => f ?? 0));
    let taskStart: number | undefined;
    for (const [step, at] of t.marks) {
      if (step === 'long task') taskStart = at;
      else if (step === 'long task end' && taskStart !== undefined) {
        longTaskMs += Math.max(0, Math.min(at, end) - Math.max(taskStart, zero));
        taskStart = undefined;
      } else {
        const ms = at - zero;
        const seen = steps.get(step);
        steps.set(step, seen ? [Math.min(seen[0], ms), Math.max(seen[1], ms)] : [ms, ms]);
      }
    }
  }
  return { steps, longTaskMs, api };
}

/** The trace table of one variant: per step, median over calls of first and last (see {@link TRACE}). */
function traceTable(label: string, rs: readonly CallResult[]): string {
  const names = new Map<string, number>();
  for (const r of rs)
    for (const [step, [first]] of r.steps) names.set(step, Math.min(names.get(step) ?? Infinity, first));
  const rows = [...names.keys()]
    .map((step) => {
      const firsts = rs.flatMap((r) => (r.steps.has(step) ? [r.steps.get(step)![0]] : []));
      const lasts = rs.flatMap((r) => (r.steps.has(step) ? [r.steps.get(step)![1]] : []));
      return { step, first: median(firsts), last: median(lasts), calls: firsts.length };
    })
    .sort((a, b) => a.first - b.first);
  const apis = [...new Set(rs.flatMap((r) => [...r.api.keys()]))].sort();
  const counters = [...new Set(rs.flatMap((r) => Object.keys(r.rtp ?? {})))].sort();
  return [
    `trace ${label} (median over ${rs.length} calls, ms from the last welcome; setup ${fmt(median(rs.map((r) => r.setupMs)))} ms, long tasks ${fmt(median(rs.map((r) => r.longTaskMs)))} ms):`,
    ...rows.map(
      (r) =>
        `  ${r.step.padEnd(36)} first ${fmt(r.first).padStart(7)}  last ${fmt(r.last).padStart(7)}  (${r.calls} calls)`,
    ),
    `  Web API calls until each page's last first frame, all pages (median count per call, median main-thread ms):`,
    ...apis.map(
      (name) =>
        `  ${name.padEnd(36)} ${fmt(median(rs.map((r) => r.api.get(name)?.[0] ?? 0))).padStart(7)} calls ${fmt(median(rs.map((r) => r.api.get(name)?.[1] ?? 0))).padStart(7)} ms`,
    ),
    ...(counters.length > 0 ? [`  video RTP counters once set up, all pages (median per call, min–max):`] : []),
    ...counters.map((name) => {
      const values = rs.map((r) => r.rtp?.[name] ?? 0);
      return `  ${name.padEnd(36)} ${fmt(median(values)).padStart(7)}  (${fmt(Math.min(...values))}–${fmt(Math.max(...values))})`;
    }),
  ].join('\n');
}

/** Runs one call of `browsers.length` peers; resolves with its times, rejects if it does not complete in time. */
export async function oneCall(
  browsers: readonly Browser[],
  pagesUrl: string,
  signalUrl: string,
  variant: Variant,
  keepPages?: (pages: CallPage[]) => Promise<void>,
  name: string = variant,
  query = '',
): Promise<CallResult> {
  const n = browsers.length;
  const pages = await Promise.all(browsers.map((b) => openCallPage(b, pagesUrl, variant, DEEP, query)));
  const sessions = PROFILE
    ? await Promise.all(
        pages.map(async (p) => {
          const cdp = await p.page.createCDPSession();
          await cdp.send('Profiler.enable');
          await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
          await cdp.send('Profiler.start');
          return cdp;
        }),
      )
    : [];
  if (TIMELINE) await Promise.all(pages.map((p) => startTimeline(p.page)));
  try {
    const room = benchRoom(`${variant}${n}`);
    // The trace's time origin: the join (the summary counts from it until the page's last first frame).
    if (TIMELINE) await Promise.all(pages.map((p) => p.page.evaluate(() => console.timeStamp('bench-join'))));
    const cpu = (): number => browsers.reduce((sum, b) => sum + treeCpuMicros(b.process()?.pid ?? 0) / 1000, 0);
    const cpuAtJoin = cpu();
    await Promise.all(pages.map((p) => joinCall(p, room, signalUrl)));
    const deadline = Date.now() + CALL_TIMEOUT_MS;
    for (;;) {
      const times = await Promise.all(pages.map(pageTimes));
      const complete = times.every(
        (t) => t.welcomes.length > 0 && t.firstFrames.filter((f) => f !== null).length >= n - 1,
      );
      if (complete) {
        const cpuMs = cpu() - cpuAtJoin;
        const lastWelcome = Math.max(...times.map((t) => Math.max(...t.welcomes)));
        const perPeerMs = times.map((t) => {
          const frames = t.firstFrames.filter((f): f is number => f !== null).sort((a, b) => a - b);
          return (frames[n - 2] as number) - lastWelcome;
        });
        const rtp: Record<string, number> = {};
        if (DEEP)
          for (const counters of await Promise.all(pages.map(rtpCounters)))
            for (const [k, v] of Object.entries(counters)) rtp[k] = (rtp[k] ?? 0) + v;
        if (keepPages) await keepPages(pages);
        const label = `${n} peers, ${name}`;
        if (DUMP) {
          const rel = (at: number): number => Math.round((at - lastWelcome) * 10) / 10;
          const line = {
            label,
            setupMs: Math.max(...perPeerMs),
            ...(DEEP ? { rtp } : {}),
            pages: times.map((t) => ({
              marks: t.marks.map(([step, at]) => [step, rel(at)]),
              api: t.api.map(([api, at, ms]) => [api, rel(at), Math.round(ms * 10) / 10]),
            })),
          };
          appendFileSync(DUMP, JSON.stringify(line) + '\n');
        }
        if (TIMELINE) {
          const into =
            timelines.get(label) ??
            timelines
              .set(label, {
                main: new Map(),
                threads: new Map(),
                pages: 0,
                windowMs: 0,
                ...(FROM_WELCOME ? { from: 'welcome' } : {}),
              })
              .get(label)!;
          for (const [i, p] of pages.entries()) {
            const t = times[i]!;
            const joined = FROM_WELCOME
              ? (t.welcomes[0] ?? 0)
              : (t.marks.find(([step]) => step === 'benchJoin')?.[1] ?? 0);
            await stopTimeline(
              p.page,
              into,
              Math.max(...t.firstFrames.map((f) => f ?? 0)) - joined,
              FROM_WELCOME ? 'bench-welcome' : 'bench-join',
            );
          }
        }
        if (sessions.length > 0) {
          // BENCH_PROFILE=1 only: without it there are no profiler sessions and nothing to report.
          const into = profiles.get(label) ?? profiles.set(label, new Map()).get(label)!;
          for (const cdp of sessions)
            addProfile(((await cdp.send('Profiler.stop')) as { profile: CpuProfile }).profile, into);
        }
        return {
          setupMs: Math.max(...perPeerMs),
          perPeerMs,
          cpuMs,
          ...traceSteps(times, lastWelcome),
          ...(DEEP ? { rtp } : {}),
        };
      }
      if (Date.now() > deadline) {
        throw new Error(
          `${variant} call of ${n} did not show every remote video within ${CALL_TIMEOUT_MS} ms: ` +
            JSON.stringify(
              times.map((t) => ({
                welcomes: t.welcomes.length,
                frames: t.firstFrames.filter((f) => f !== null).length,
              })),
            ),
        );
      }
      await sleep(100);
    }
  } finally {
    await Promise.all(pages.map(closePage));
  }
}

export async function benchCall(root: string): Promise<Section> {
  const startedAt = new Date();
  const results = new Map<string, CallResult[]>();
  const failures = new Map<string, string[]>();
  const key = (n: number, v: string): string => `${n}:${v}`;
  const pagesServer = await startPageServer(root);
  const abServers = await Promise.all(AB_ROOTS.map((dir) => startPageServer(dir)));
  const entries: Entry[] = [
    ...VARIANTS.map((variant) => ({ label: variant, variant, url: pagesServer.url })),
    ...FEATURES.map((f) => ({
      label: `baseline+${f}`,
      variant: 'baseline' as const,
      url: pagesServer.url,
      query: `?features=${f}`,
    })),
    ...abServers.map((server, i) => ({ label: basename(AB_ROOTS[i]!), variant: 'ours' as const, url: server.url })),
  ];
  const labels = entries.map((e) => e.label);
  try {
    const relay = await startRelayServer();
    const browsers = await Promise.all(Array.from({ length: Math.max(...SIZES) }, () => launchChromium()));
    for (const n of SIZES) {
      for (let i = 0; i < CALLS; i++) {
        // Alternate which variant goes first, so that neither always follows the other.
        const order = i % 2 === 0 ? entries : [...entries].reverse();
        for (const { label: variant, variant: page, url, query } of order) {
          try {
            const r = await oneCall(browsers.slice(0, n), url, wsUrl(relay.url), page, undefined, variant, query);
            (results.get(key(n, variant)) ?? results.set(key(n, variant), []).get(key(n, variant))!).push(r);
            progress(
              `call: ${n} peers, ${variant}, call ${i + 1}: ${fmt(r.setupMs)} ms (per peer ${r.perPeerMs.map((x) => fmt(x)).join(', ')}; CPU ${fmt(r.cpuMs)} ms)`,
            );
            // A call 3× slower than the last median: its steps, to tell a stalled step from a busy machine.
            const sofar = median(results.get(key(n, variant))!.map((c) => c.setupMs));
            if (TRACE && r.setupMs > 3 * sofar) {
              const steps = [...r.steps].sort((a, b) => a[1][0] - b[1][0]);
              progress(`  slow call: ${steps.map(([s, [f, l]]) => `${s} ${fmt(f)}…${fmt(l)}`).join(' · ')}`);
            }
          } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            (failures.get(key(n, variant)) ?? failures.set(key(n, variant), []).get(key(n, variant))!).push(message);
            progress(`call: ${n} peers, ${variant}, call ${i + 1} FAILED: ${message}`);
          }
          // Let the previous call's connections and processes wind down.
          await sleep(300);
        }
      }
    }
  } finally {
    await closeAll().catch((error: unknown) => progress(`call: teardown: ${String(error)}`));
    await pagesServer.close();
    await Promise.all(abServers.map((server) => server.close()));
  }

  for (const [label, selfMs] of profiles) {
    const top = [...selfMs].sort((a, b) => b[1] - a[1]).slice(0, 30);
    const total = [...selfMs.values()].reduce((a, b) => a + b, 0);
    // The same by file (source module, or the browser's own: "(program)", natives), to see which part costs.
    const byFile = new Map<string, number>();
    for (const [f, ms] of selfMs) {
      const where =
        f
          .split(' ')
          .slice(1)
          .join(' ')
          .replace(/:\d+(:\d+)?$/, '') || f;
      const key = where === ':0' || where === '' ? f.split(' ')[0]! : where;
      byFile.set(key, (byFile.get(key) ?? 0) + ms);
    }
    const files = [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 25);
    progress(
      [
        `profile ${label}: ${fmt(total)} ms sampled, top self time:`,
        ...top.map(([f, ms]) => `  ${fmt(ms).padStart(7)} ms  ${f}`),
        `  by file:`,
        ...files.map(([f, ms]) => `  ${fmt(ms).padStart(7)} ms  ${f}`),
      ].join('\n'),
    );
  }
  for (const [label, t] of timelines) progress(timelineTable(label, t));
  if (TRACE) {
    for (const n of SIZES) {
      for (const variant of labels) progress(traceTable(`${n} peers, ${variant}`, results.get(key(n, variant)) ?? []));
    }
  }
  const out = [`## ${SECTION_TITLES['call']}`, '', runNote(startedAt, (Date.now() - startedAt.getTime()) / 1000), ''];
  out.push(
    'One Chromium process per peer (launched by the e2e harness: headless, fake camera and microphone, loopback ' +
      'only, inside the network namespace). Per call, every page is loaded first, then all join one fresh room at ' +
      'the same moment. **Setup** = from the last `welcome` (everyone is in the room) until every peer has decoded ' +
      "a first video frame from every other peer (video receivers' `inbound-rtp.framesDecoded`, sampled every " +
      "10 ms in the page; times from the browsers' clocks). **Per peer** = the same, for each peer separately. " +
      '"ours" is the `<video-chat>` bundle; "baseline" is `bench/baseline-call.html` doing only getUserMedia (same ' +
      'constraints), one offer/answer per pair and trickle ICE. Both use the same relay (our CLI) and the same ' +
      `browser processes, alternating call by call; ${CALLS} calls each.`,
    '',
    '| peers | page | calls ok | setup median ms | setup min–max ms | per-peer median ms | ÷ baseline (setup median) | per-peer |',
    '|---:|---|---:|---:|---:|---:|---:|---:|',
  );
  const goals: string[] = [];
  for (const n of SIZES) {
    const base = results.get(key(n, 'baseline')) ?? [];
    for (const variant of labels) {
      const rs = results.get(key(n, variant)) ?? [];
      const setups = rs.map((r) => r.setupMs);
      const perPeer = rs.flatMap((r) => r.perPeerMs);
      const r1 = variant === 'baseline' ? '1' : ratio(median(setups), median(base.map((r) => r.setupMs)));
      const r2 = variant === 'baseline' ? '1' : ratio(median(perPeer), median(base.flatMap((r) => r.perPeerMs)));
      out.push(
        `| ${n} | ${variant} | ${rs.length}/${CALLS} | ${fmt(median(setups))} | ` +
          `${fmt(Math.min(...setups))}–${fmt(Math.max(...setups))} | ${fmt(median(perPeer))} | ${r1} | ${r2} |`,
      );
    }
    const ours = median((results.get(key(n, 'ours')) ?? []).map((r) => r.setupMs));
    const baseline = median(base.map((r) => r.setupMs));
    const rr = ours / baseline;
    // Each feature's baseline and ours against the plain baseline: the ratio of the medians, and per round (the calls
    // of one round ran back to back) the range of the ratios.
    for (const label of labels.filter((l) => l !== 'baseline')) {
      const calls = results.get(key(n, label)) ?? [];
      const rs = calls.map((r) => r.setupMs);
      const rounds = rs.flatMap((ms, i) => (base[i] ? [ms / base[i].setupMs] : []));
      if (rounds.length === 0) continue;
      const cpu = median(calls.map((r) => r.cpuMs));
      const baseCpu = median(base.map((r) => r.cpuMs));
      progress(
        `call features, ${n} peers: ${label} ${fmt(median(rs))} ms ÷ baseline ${fmt(baseline)} ms = ${ratio(median(rs), baseline)} ` +
          `(per round ${Math.min(...rounds).toFixed(2)}–${Math.max(...rounds).toFixed(2)}, median ${median(rounds).toFixed(2)}); ` +
          `CPU per call ${fmt(cpu)} ms ÷ ${fmt(baseCpu)} ms = ${ratio(cpu, baseCpu)}`,
      );
    }
    for (const label of labels.slice(VARIANTS.length + FEATURES.length)) {
      const other = median((results.get(key(n, label)) ?? []).map((r) => r.setupMs));
      progress(
        `call A/B, ${n} peers (medians): ours ${fmt(ours)} ms, ${label} ${fmt(other)} ms, baseline ${fmt(baseline)} ms; ` +
          `ours ÷ baseline ${ratio(ours, baseline)}, ${label} ÷ baseline ${ratio(other, baseline)}, ours ÷ ${label} ${ratio(ours, other)}`,
      );
    }
    // Per round (ours and the baseline's calls of one round ran back to back): the range of the ratios; and the CPU.
    const oursCalls = results.get(key(n, 'ours')) ?? [];
    const rounds = oursCalls.flatMap((r, i) => (base[i] ? [r.setupMs / base[i].setupMs] : []));
    const spread = rounds.length ? `per round ${Math.min(...rounds).toFixed(2)}–${Math.max(...rounds).toFixed(2)}` : '';
    const cpu = ratio(median(oursCalls.map((r) => r.cpuMs)), median(base.map((r) => r.cpuMs)));
    goals.push(
      `- ${n} peers: median setup within ${GOAL_RATIO}× the baseline's: ` +
        (rr <= GOAL_RATIO
          ? `met (${rr.toFixed(2)}×`
          : `**missed** (${rr.toFixed(2)}×, ${fmt(ours - baseline * GOAL_RATIO)} ms over the goal`) +
        `; ${spread}; CPU of the browsers per call, join to set up: ${cpu})`,
    );
  }
  const failed = [...failures.entries()];
  if (failed.length > 0) {
    out.push(
      '',
      'Failed calls (not in the medians): ' +
        failed.map(([k, m]) => `${k.replace(':', ' peers, ')}: ${m.length}× (${m[0]})`).join(' · '),
    );
  }
  out.push('', '**Goal:**', '', ...goals, '', `_Load average after this benchmark: ${loadNow()}._`);
  return { id: 'call', markdown: out.join('\n') };
}
