/**
 * Benchmark 5: the cost of a 4-peer mesh held for 20 s. Four Chromium processes (the e2e harness launches them) join
 * one room; once every peer shows every other's video and 2 s have passed, the CPU time of each browser's whole
 * process tree (/proc) and the video frames each page decoded per remote stream are read at the start and the end of
 * a 20 s window. Ours (`<video-chat>`) and the baseline page (bench/baseline-call-page.ts) run one after the other in
 * the same browser processes, in both orders (ours, baseline, baseline, ours), and the figures are the means over the
 * two windows of each.
 *
 * The element caps every camera copy with its bandwidth governor (docs/bandwidth.md; with 4 peers, 3 copies: 833 kbps,
 * 640×480, 30 fps each), so "ours" is the with-governor figure; the baseline page has none. The element has no switch
 * to turn the governor off, so there is no "ours without governor" row.
 *
 * @module
 */
import { cpus } from 'node:os';
import type { Browser } from 'puppeteer-core';
import { closeAll, launchChromium, startRelayServer } from '../test/e2e/harness.js';
import { framesDecoded, wsUrl, type CallPage, startPageServer, type Variant } from './browser-calls.js';
import { oneCall } from './call-bench.js';
import { treeCpuMicros } from './procs.js';
import { loadNow, runNote, SECTION_TITLES, type Section } from './report.js';
import { fmt, progress, ratio, sleep } from './util.js';

const PEERS = 4;
const HOLD_MS = 20_000;
const SETTLE_MS = 2_000;
const ORDER: readonly Variant[] = ['ours', 'baseline', 'baseline', 'ours'];

interface Window {
  /** Cores used by each browser's process tree during the window (1 = one full core). */
  cores: number[];
  /** Frames per second decoded, per remote stream (every page × every live connection). */
  fps: number[];
}

async function hold(
  browsers: readonly Browser[],
  pagesUrl: string,
  signalUrl: string,
  variant: Variant,
): Promise<Window> {
  let measured: Window | undefined;
  await oneCall(browsers, pagesUrl, signalUrl, variant, async (pages: CallPage[]) => {
    await sleep(SETTLE_MS);
    const pids = browsers.map((b) => b.process()?.pid ?? -1);
    const frames0 = await Promise.all(pages.map(framesDecoded));
    const cpu0 = pids.map(treeCpuMicros);
    const t0 = performance.now();
    await sleep(HOLD_MS);
    const cpu1 = pids.map(treeCpuMicros);
    const frames1 = await Promise.all(pages.map(framesDecoded));
    const seconds = (performance.now() - t0) / 1000;
    measured = {
      cores: cpu1.map((c, i) => (c - (cpu0[i] as number)) / 1e6 / seconds),
      fps: frames1.flatMap((f, i) => f.map((x, j) => (x - (frames0[i]?.[j] ?? x)) / seconds)),
    };
  });
  if (!measured) throw new Error('mesh window not measured');
  return measured;
}

export async function benchMesh(root: string): Promise<Section> {
  const startedAt = new Date();
  const windows = new Map<Variant, Window[]>([
    ['ours', []],
    ['baseline', []],
  ]);
  const pagesServer = await startPageServer(root);
  try {
    const relay = await startRelayServer();
    const browsers = await Promise.all(Array.from({ length: PEERS }, () => launchChromium()));
    for (const variant of ORDER) {
      const w = await hold(browsers, pagesServer.url, wsUrl(relay.url), variant);
      windows.get(variant)!.push(w);
      progress(
        `mesh: ${variant}: cores per browser ${w.cores.map((c) => fmt(c, 2)).join(', ')}; ` +
          `fps per stream ${w.fps.map((f) => fmt(f, 3)).join(', ')}`,
      );
      await sleep(500);
    }
  } finally {
    await closeAll().catch((error: unknown) => progress(`mesh: teardown: ${String(error)}`));
    await pagesServer.close();
  }

  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const stats = (v: Variant) => {
    const ws = windows.get(v) ?? [];
    const cores = ws.flatMap((w) => w.cores);
    const fps = ws.flatMap((w) => w.fps);
    // CPU per received frame normalises for a saturated machine: a page that got less CPU also decoded fewer frames.
    const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
    const msPerFrame = (sum(cores) * 1000) / sum(fps);
    return {
      cores: mean(cores),
      coresMax: Math.max(...cores),
      fps: mean(fps),
      fpsMin: Math.min(...fps),
      streams: fps.length / ws.length,
      msPerFrame,
    };
  };
  const ours = stats('ours');
  const base = stats('baseline');
  const out = [`## ${SECTION_TITLES['mesh']}`, '', runNote(startedAt, (Date.now() - startedAt.getTime()) / 1000), ''];
  out.push(
    `Four Chromium processes (fake 640×480 camera, up to 24 fps requested by both pages) in one room: ${PEERS * (PEERS - 1)} ` +
      `received video streams. After every peer shows every other and ${SETTLE_MS / 1000} s more, a ` +
      `${HOLD_MS / 1000} s window: CPU time (user + system) of each browser's whole process tree from /proc, and ` +
      '`framesDecoded` of every received video stream; "CPU ms per received frame" is all browsers\' CPU time over all ' +
      'frames they decoded (the fairer figure when the machine is saturated). Ours and the baseline page alternate in the same browsers ' +
      `(order ${ORDER.join(', ')}); figures are over both windows of each. "ours" runs with the element's bandwidth ` +
      'governor (docs/bandwidth.md: 3 copies of 833 kbps, 640×480, 30 fps each); the baseline page has none.',
    '',
    '| page | CPU per browser, mean (cores) | max | received fps per stream, mean | min | streams | CPU ms per received frame | ÷ baseline: CPU | fps | CPU per frame |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| ours | ${fmt(ours.cores, 2)} | ${fmt(ours.coresMax, 2)} | ${fmt(ours.fps)} | ${fmt(ours.fpsMin)} | ${ours.streams} | ` +
      `${fmt(ours.msPerFrame)} | ${ratio(ours.cores, base.cores)} | ${ratio(ours.fps, base.fps)} | ${ratio(ours.msPerFrame, base.msPerFrame)} |`,
    `| baseline | ${fmt(base.cores, 2)} | ${fmt(base.coresMax, 2)} | ${fmt(base.fps)} | ${fmt(base.fpsMin)} | ${base.streams} | ` +
      `${fmt(base.msPerFrame)} | 1 | 1 | 1 |`,
    '',
    `_Four browsers share ${cpus().length} cores with the rest of the machine here: fps below the capture rate means the ` +
      `machine, not the network, was the limit. Load average after this benchmark: ${loadNow()}._`,
  );
  return { id: 'mesh', markdown: out.join('\n') };
}
