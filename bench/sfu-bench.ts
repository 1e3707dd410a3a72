/**
 * Benchmark 8: a room on the SFU (Janus VideoRoom brokered by the relay, issue 12) against the same room as a mesh,
 * in the same run, in the same browser processes, alternating.
 *
 * Setup (all inside scripts/netns.sh's namespace, as the e2e tests): one real Janus (test/e2e/janus.ts, hardened
 * configuration), two relay CLIs: one without `--janus-url` (every room a mesh) and one with `--janus-url` and
 * `--sfu-from 2` (every room on the SFU from its second member), five Chromium processes (the e2e harness's launch:
 * fake devices, loopback only), one page each with the script-tag bundle (`bench/call-ours.html`). Each page's camera
 * is asked for 320×240 at 15 fps (bench/sfu-page.ts rewrites the element's constraints; `SFU_BENCH_CAMERA` another size).
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
 * each browser used over the switch. The fourth joins 1 s after the first three's media flows, and the table of the
 * switch's moments per build adds the gaps at its join, over the 5 s after (where work ahead of the switch would land),
 * and the CPU per browser over the steady mesh of four. `SFU_BENCH_SWITCH_AT=3` makes it 2 → 3 instead; `SFU_BENCH_BEFORE` runs each
 * switch with another build's pages too (interleaved; with `SFU_BENCH_BEFORE_RELAY=1` against that build's relay), `SFU_BENCH_TRACE` writes each page's timeline of the switch,
 * `SFU_BENCH_CAMERA=<w>x<h>` sets the camera's size (default 320x240: one simulcast layer in Chromium).
 *
 * @module
 */
import { cpus } from 'node:os';
import type { Browser } from 'puppeteer-core';
import { closeAll, launchChromium, startRelayServer, type RelayServer } from '../test/e2e/harness.js';
import { startJanus, type Janus } from '../test/e2e/janus.js';
import { benchRoom, startPageServer, wsUrl } from './browser-calls.js';
import { loadNow, runNote, SECTION_TITLES, type Section } from './report.js';
import { readSample } from './sfu-page.js';
import { sfuMarkdown, type Switch, type Window } from './sfu-report.js';
import {
  checkMode,
  cpuMicros,
  delta,
  join,
  leaveRoom,
  openPages,
  patiently,
  READY_MS,
  waitFlowing,
  waitForMode,
  type Mode,
} from './sfu-steps.js';
import { STEADY_MS, switchGap } from './sfu-switch.js';
import { fmt, progress, sleep } from './util.js';

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
/**
 * `SFU_BENCH_BEFORE_RELAY=1` (with `SFU_BENCH_BEFORE`): that build's switch cases run against that build's relay too
 * (its `lib/server/src/cli.js`, same Janus), for a change on the relay's side.
 */
const BEFORE_RELAY = BEFORE !== undefined && process.env['SFU_BENCH_BEFORE_RELAY'] === '1';
const SETTLE_MS = 5_000;
const WINDOW_MS = 10_000;
/**
 * No new room or switch case is started after this much time (those not run are listed in the report): with the
 * waits above bounded, the whole benchmark ends within about 12 minutes even when rooms fail (on a quiet machine the
 * defaults take about 5).
 */
const BUDGET_MS = 9 * 60_000;

/**
 * The harness's relay, asked up to 3 times: on a starved machine the CLI sometimes takes longer than the harness's
 * 15 s to print its URL (seen at load average 48).
 */
async function startRelay(args: string[] = [], root?: string): Promise<RelayServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startRelayServer(args, root);
    } catch (error) {
      progress(`sfu: starting a relay failed (attempt ${attempt} of 3): ${String(error)}`);
      if (attempt >= 3) throw error;
    }
  }
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
    const beforeRelay = BEFORE_RELAY
      ? await startRelay([...sfuArgs, '--sfu-from', String(SWITCH_AT)], BEFORE)
      : undefined;
    const variants: [Switch['variant'], string, RelayServer][] = [['ours', pagesServer.url, switchRelay]];
    if (beforeServer) variants.push(['before', beforeServer.url, beforeRelay ?? switchRelay]);
    for (let i = 0; i < SWITCHES; i++) {
      for (const [variant, url, relay] of i % 2 === 0 ? variants : [...variants].reverse()) {
        if (Date.now() > deadline) {
          failures.push(`switch ${i + 1} (${variant}): not run (the benchmark's ${BUDGET_MS / 60_000} min were up)`);
          continue;
        }
        try {
          progress(`sfu: switch ${i + 1} of ${SWITCHES} (${variant})`);
          switches.push(await switchGap(SWITCH_AT, browsers.slice(0, SWITCH_AT), url, relay, variant, janus));
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
