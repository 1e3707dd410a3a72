/**
 * Benchmark 6: recovery from a relay crash. A 2-peer call runs over our relay (the CLI, started by the e2e harness);
 * the relay is killed with SIGKILL, stays down for `OUTAGE_MS`, and is started again on the same port. Measured:
 * - **back in the room**: from the new relay listening to the last peer's new `welcome`;
 * - **longest frame gap**: the longest time, in each page, between two samples (every 20 ms) in which some remote
 *   video stream decoded new frames, from 1 s before the kill until 1 s after video flows again in every page (max
 *   over the pages; a trial where video does not come back within 15 s fails).
 * Ours (`<video-chat>`: reconnect with jittered exponential backoff) and the baseline page (reconnects after 100 ms,
 * rejoins, and keeps its peer connections untouched: the best case) alternate, `TRIALS` each.
 *
 * @module
 */
import type { Page } from 'puppeteer-core';
import { closeAll, launchChromium, startRelayServer, withTimeout } from '../test/e2e/harness.js';
import { pageTimes, startPageServer, wsUrl, type CallPage, type Variant } from './browser-calls.js';
import { oneCall } from './call-bench.js';
import { loadNow, runNote, SECTION_TITLES, type Section } from './report.js';
import { fmt, median, progress, ratio, sleep } from './util.js';

const OUTAGE_MS = 1000;
/** Longest wait for video after every peer is back; beyond it the trial counts as failed. */
const VIDEO_AGAIN_TIMEOUT_MS = 15_000;
const ORDER: readonly Variant[] = ['ours', 'baseline', 'baseline', 'ours', 'ours', 'baseline', 'baseline', 'ours'];

interface Trial {
  backMs: number;
  longestGapMs: number;
  /** Diagnostics (progress lines only): when the longest gap ended, ms after the kill; the longest stall of the page's
   * own 20 ms sampling timer (a busy main thread shows as a gap even while frames are decoded). */
  gapEndMs: number;
  stallMs: number;
  /** When the new relay listened, ms after the kill (diagnostics). */
  upMs: number;
}

interface GapState {
  lastArrival: number;
  longest: number;
  /** When the longest gap ended (epoch ms). */
  longestEnd: number;
  /** The sampler's last tick (epoch ms) and the longest time between two ticks. */
  lastTick: number;
  stall: number;
  stopped: boolean;
}

/** Starts sampling frame arrivals in the page (needs the instrumentation of browser-calls.ts). */
async function startGapSampler(page: Page): Promise<void> {
  await page.evaluate(() => {
    type Pc = RTCPeerConnection;
    const pcs = (window as unknown as { __bench: { pcs: Pc[] } }).__bench.pcs;
    const now = (): number => performance.timeOrigin + performance.now();
    const previous = new Map<Pc, number>();
    const gap: GapState = { lastArrival: now(), longest: 0, longestEnd: 0, lastTick: now(), stall: 0, stopped: false };
    (window as unknown as { __gap: GapState }).__gap = gap;
    const tick = async (): Promise<void> => {
      let arrived = false;
      for (const pc of pcs) {
        if (pc.connectionState === 'closed') continue;
        let frames = 0;
        for (const receiver of pc.getReceivers()) {
          if (receiver.track.kind !== 'video') continue;
          (await receiver.getStats()).forEach((s: { type: string; framesDecoded?: number }) => {
            if (s.type === 'inbound-rtp') frames += s.framesDecoded ?? 0;
          });
        }
        if (frames > (previous.get(pc) ?? 0)) arrived = true;
        previous.set(pc, frames);
      }
      const t = now();
      gap.stall = Math.max(gap.stall, t - gap.lastTick);
      gap.lastTick = t;
      if (arrived) {
        if (t - gap.lastArrival > gap.longest) [gap.longest, gap.longestEnd] = [t - gap.lastArrival, t];
        gap.lastArrival = t;
      }
      if (!gap.stopped) setTimeout(() => void tick(), 20);
    };
    void tick();
  });
}

/** When the page last decoded a new remote frame (epoch ms). */
async function lastArrival(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as { __gap: GapState }).__gap.lastArrival);
}

/** Stops the sampler; the longest gap so far, counting a gap still open now. */
async function stopGapSampler(
  page: Page,
): Promise<{ longest: number; sinceLast: number; longestEnd: number; stall: number }> {
  return page.evaluate(() => {
    const gap = (window as unknown as { __gap: GapState }).__gap;
    gap.stopped = true;
    const t = performance.timeOrigin + performance.now();
    const sinceLast = t - gap.lastArrival;
    return {
      longest: Math.max(gap.longest, sinceLast),
      sinceLast,
      longestEnd: sinceLast > gap.longest ? t : gap.longestEnd,
      stall: gap.stall,
    };
  });
}

async function trial(
  browsersUrl: { pagesUrl: string },
  variant: Variant,
  browsers: Parameters<typeof oneCall>[0],
): Promise<Trial> {
  const first = await startRelayServer();
  const port = new URL(first.url).port;
  let result: Trial | undefined;
  await oneCall(browsers, browsersUrl.pagesUrl, wsUrl(first.url), variant, async (pages: CallPage[]) => {
    await sleep(1000);
    await Promise.all(pages.map((p) => startGapSampler(p.page)));
    await sleep(1000);
    const before = await Promise.all(pages.map(pageTimes));
    const exited = new Promise<void>((resolve) => first.process.once('exit', () => resolve()));
    const killedAt = Date.now();
    first.process.kill('SIGKILL');
    await withTimeout(exited, 5_000, 'relay exit');
    await sleep(OUTAGE_MS);
    const second = await startRelayServer(['--port', port]);
    const up = Date.now();
    try {
      let back = 0;
      const deadline = Date.now() + 30_000;
      for (;;) {
        const now = await Promise.all(pages.map(pageTimes));
        if (now.every((t, i) => t.welcomes.length > (before[i]?.welcomes.length ?? 0))) {
          back = Math.max(...now.map((t) => Math.max(...t.welcomes)));
          break;
        }
        if (Date.now() > deadline)
          throw new Error(`${variant}: not every peer back in the room 30 s after the restart`);
        await sleep(50);
      }
      // Video must flow again in every page after everyone is back (neither should have stopped: ours keeps its
      // connections through the rebind of issue 10, the baseline never touches them):
      // wait for a frame after `back` in each page, then 1 s more so that a stall right after it would show too.
      const videoDeadline = Date.now() + VIDEO_AGAIN_TIMEOUT_MS;
      while (!(await Promise.all(pages.map((p) => lastArrival(p.page)))).every((t) => t > back)) {
        if (Date.now() > videoDeadline) {
          throw new Error(
            `${variant}: no video in some page ${VIDEO_AGAIN_TIMEOUT_MS / 1000} s after every peer was back`,
          );
        }
        await sleep(50);
      }
      await sleep(1000);
      const gaps = await Promise.all(pages.map((p) => stopGapSampler(p.page)));
      const worst = gaps.reduce((a, b) => (b.longest > a.longest ? b : a));
      result = {
        backMs: back - up,
        longestGapMs: worst.longest,
        gapEndMs: worst.longestEnd - killedAt,
        stallMs: Math.max(...gaps.map((g) => g.stall)),
        upMs: up - killedAt,
      };
    } finally {
      await second.close();
    }
  });
  if (!result) throw new Error('recovery trial not measured');
  return result;
}

export async function benchRecovery(root: string): Promise<Section> {
  const startedAt = new Date();
  const trials = new Map<Variant, Trial[]>([
    ['ours', []],
    ['baseline', []],
  ]);
  const failures: string[] = [];
  const pagesServer = await startPageServer(root);
  try {
    const browsers = await Promise.all([launchChromium(), launchChromium()]);
    for (const variant of ORDER) {
      try {
        const t = await trial({ pagesUrl: pagesServer.url }, variant, browsers);
        trials.get(variant)!.push(t);
        progress(
          `recovery: ${variant}: back in the room ${fmt(t.backMs)} ms after the restart, longest frame gap ${fmt(t.longestGapMs)} ms ` +
            `(ended ${fmt(t.gapEndMs)} ms after the kill, the relay was back at ${fmt(t.upMs)} ms; longest stall of the pages' sampling timer ${fmt(t.stallMs)} ms)`,
        );
      } catch (error) {
        failures.push(`${variant}: ${error instanceof Error ? error.message : String(error)}`);
        progress(`recovery: ${variant} FAILED: ${failures.at(-1)}`);
      }
      await sleep(300);
    }
  } finally {
    await closeAll().catch((error: unknown) => progress(`recovery: teardown: ${String(error)}`));
    await pagesServer.close();
  }
  const m = (v: Variant, k: keyof Trial): number => median((trials.get(v) ?? []).map((t) => t[k]));
  const all = (v: Variant, k: keyof Trial): string => (trials.get(v) ?? []).map((t) => fmt(t[k])).join(', ');
  const out = [
    `## ${SECTION_TITLES['recovery']}`,
    '',
    runNote(startedAt, (Date.now() - startedAt.getTime()) / 1000),
    '',
  ];
  out.push(
    `A 2-peer call (two Chromium processes) over our relay; the relay is killed with SIGKILL, stays down ${OUTAGE_MS} ms ` +
      'and is started again on the same port. **Back in the room**: from the new relay listening to the last ' +
      "peer's new `welcome`. **Longest frame gap**: the longest time between two 20 ms samples in which a page " +
      'decoded new remote video frames, from 1 s before the kill until 1 s after video flows again in both pages ' +
      `(max over both pages; a trial without video ${VIDEO_AGAIN_TIMEOUT_MS / 1000} s after both are back fails; ` +
      'at the ~20 fps the fake camera delivers frames arrive every ~50 ms, so up to ~100 ms means no gap). "ours" is the `<video-chat>` element; ' +
      '"baseline" is the baseline page, which reconnects 100 ms after a close, rejoins and keeps its peer ' +
      `connections as they are (media does not go through the relay). Medians of the trials (order ${ORDER.join(', ')}).`,
    '',
    '| page | trials ok | back in the room, median ms | all trials | longest frame gap, median ms | all trials | ÷ baseline: back | gap |',
    '|---|---:|---:|---|---:|---|---:|---:|',
  );
  for (const v of ['ours', 'baseline'] as const) {
    const n = ORDER.filter((x) => x === v).length;
    out.push(
      `| ${v} | ${(trials.get(v) ?? []).length}/${n} | ${fmt(m(v, 'backMs'))} | ${all(v, 'backMs')} | ` +
        `${fmt(m(v, 'longestGapMs'))} | ${all(v, 'longestGapMs')} | ` +
        `${v === 'baseline' ? '1' : ratio(m(v, 'backMs'), m('baseline', 'backMs'))} | ` +
        `${v === 'baseline' ? '1' : ratio(m(v, 'longestGapMs'), m('baseline', 'longestGapMs'))} |`,
    );
  }
  if (failures.length > 0) out.push('', `Failed trials (not in the medians): ${failures.join(' · ')}`);
  const gapOurs = m('ours', 'longestGapMs');
  const gapBase = m('baseline', 'longestGapMs');
  // Issue 10's acceptance: the longest gap within 2× the baseline's (a gap up to ~150 ms is the frame spacing of a
  // loaded machine, not an interruption, so the bound never drops below it).
  out.push(
    '',
    "**Goal** (issue 10): the longest gap in decoded remote frames during the outage within 2× the baseline's: " +
      (gapOurs <= Math.max(150, 2 * gapBase)
        ? `met (longest gap ${fmt(gapOurs)} ms, baseline ${fmt(gapBase)} ms).`
        : `**missed**: ours stops decoding for ${fmt(gapOurs)} ms (median), the baseline's longest gap is ${fmt(gapBase)} ms.`),
  );
  out.push('', `_Load average after this benchmark: ${loadNow()}._`);
  return { id: 'recovery', markdown: out.join('\n') };
}
