/**
 * Benchmark 5: the cost of a 4-peer mesh held for 20 s. Four Chromium processes (the e2e harness launches them) join
 * one room; once every peer shows every other's video and 2 s have passed, the CPU time of each browser's whole
 * process tree (/proc) and the video frames each page decoded per remote stream are read at the start and the end of
 * a 20 s window. Ours (`<video-chat>`) and the baseline page (bench/baseline-call-page.ts) run one after the other in
 * the same browser processes, in both orders (ours, baseline, baseline, ours), and the figures are the means over the
 * two windows of each.
 *
 * The element caps every camera copy with its bandwidth governor (docs/bandwidth.md; with 4 peers, 3 copies: 833 kbps,
 * 640×480, 30 fps each) and fits each copy to what its receiver shows (receiver-driven sending, `view` messages), so
 * "ours" is the with-governor figure; the baseline page has none. The element has no switch to turn either off, so
 * there is no "ours without governor" row.
 *
 * The layout case ("ours, one pinned"): the same call, but each page pins its first remote peer (`pin()`: one large
 * tile above a strip of small ones), as a page showing a speaker does; then the uplink each browser sends (all
 * `outbound-rtp` `bytesSent` of its page) and the frame rate of each page's large tile (the pinned peer's
 * `framesDecoded`) are read too. Goal (issue 16): uplink and CPU per browser < 0.8× the baseline's, the large tile's
 * fps not below the baseline's fps per stream.
 *
 * Knobs (environment): `BENCH_PROFILE=1` prints where the CPU goes in each case (bench/mesh-profile.ts: CPU by
 * Chromium process and thread, JS self time by function, the pages' WebRTC API calls); `BENCH_MESH_ORDER` runs some
 * cases only (e.g. `layout,baseline,baseline,layout`); `BENCH_HOLD_MS` shortens the window.
 *
 * @module
 */
import { cpus } from 'node:os';
import type { Browser } from 'puppeteer-core';
import { closeAll, launchChromium, startRelayServer } from '../test/e2e/harness.js';
import { framesDecoded, wsUrl, type CallPage, startPageServer, type Variant } from './browser-calls.js';
import { oneCall } from './call-bench.js';
import {
  addInto,
  countCalls,
  countDrawn,
  cpuDelta,
  profileTable,
  PROFILE,
  startJsProfile,
  threadCpu,
} from './mesh-profile.js';
import { treeCpuMicros } from './procs.js';
import { loadNow, runNote, SECTION_TITLES, type Section } from './report.js';
import { fmt, progress, ratio, sleep } from './util.js';

const PEERS = 4;
/** `BENCH_HOLD_MS`: a shorter window for a quick look (the report says how long it was). */
const HOLD_MS = Number(process.env['BENCH_HOLD_MS']) || 20_000;
/**
 * What one frame more or less in a window is worth in fps: the resolution of every frame rate here, so "not lower
 * than the baseline's" allows this much (both pages at the camera's rate differ by it from run to run).
 */
const FRAME_FPS = 1000 / HOLD_MS;
const SETTLE_MS = 2_000;
/** `layout`: ours with one pinned tile (the layout case). */
type Case = Variant | 'layout';
const CASES: readonly Case[] = ['ours', 'layout', 'baseline'];
/**
 * The windows, in order. `BENCH_MESH_ORDER=layout,baseline,baseline,layout` runs only some cases (a quick look at one
 * comparison; the report then has a row only for the cases run, and needs the baseline).
 */
const ORDER: readonly Case[] = process.env['BENCH_MESH_ORDER']
  ? process.env['BENCH_MESH_ORDER'].split(',').map((c) => {
      if (!CASES.includes(c as Case)) throw new Error(`BENCH_MESH_ORDER: unknown case ${c} (${CASES.join(', ')})`);
      return c as Case;
    })
  : ['ours', 'layout', 'baseline', 'baseline', 'layout', 'ours'];
/** After pinning: the views' debounce (300 ms), the encoders' change and a settled rate. */
const LAYOUT_SETTLE_MS = 3_000;

interface Window {
  /** Cores used by each browser's process tree during the window (1 = one full core). */
  cores: number[];
  /** Frames per second decoded, per remote stream (every page × every live connection). */
  fps: number[];
  /** Uplink of each browser's page, kbps (`outbound-rtp` `bytesSent`, every kind and connection). */
  uplink: number[];
  /** Layout case: fps of each page's pinned (large) tile; else empty. */
  pinnedFps: number[];
  /** `BENCH_PROFILE=1`: CPU µs by process type and thread over all browsers, JS self µs by function over all pages. */
  threads?: Map<string, number>;
  js?: Map<string, number>;
  seconds: number;
}

/** Bytes the page has sent on every live connection (`outbound-rtp` `bytesSent`, all kinds). */
async function bytesSent(p: CallPage): Promise<number> {
  return p.page.evaluate(async () => {
    const state = (window as unknown as { __bench: { pcs: RTCPeerConnection[] } }).__bench;
    let bytes = 0;
    for (const pc of state.pcs.filter((c) => c.connectionState !== 'closed')) {
      (await pc.getStats()).forEach((s: { type: string; bytesSent?: number }) => {
        if (s.type === 'outbound-rtp') bytes += s.bytesSent ?? 0;
      });
    }
    return bytes;
  });
}

/**
 * `BENCH_PROFILE=1`: what each page's camera copies are held to, one line per connection: the sender's encoding
 * (`getParameters`: `maxFramerate`, `maxBitrate` kbps, `scaleResolutionDownBy`, `active`), what it sends
 * (`outbound-rtp` `framesPerSecond`, frame size, `qualityLimitationReason`) and the link's `availableOutgoingBitrate`
 * (kbps): whether a copy is held by its caps, by the link or by the CPU.
 */
async function senders(p: CallPage): Promise<string[]> {
  return p.page.evaluate(async () => {
    const state = (window as unknown as { __bench: { pcs: RTCPeerConnection[] } }).__bench;
    const out: string[] = [];
    for (const pc of state.pcs.filter((c) => c.connectionState === 'connected')) {
      const stats = await pc.getStats();
      let link = NaN;
      stats.forEach((s: { type: string; nominated?: boolean; availableOutgoingBitrate?: number }) => {
        if (s.type === 'candidate-pair' && s.nominated && s.availableOutgoingBitrate)
          link = s.availableOutgoingBitrate / 1000;
      });
      for (const sender of pc.getSenders().filter((s) => s.track?.kind === 'video')) {
        const e = sender.getParameters().encodings[0] ?? {};
        let sent = '';
        (await sender.getStats()).forEach(
          (s: {
            type: string;
            framesPerSecond?: number;
            frameWidth?: number;
            frameHeight?: number;
            qualityLimitationReason?: string;
          }) => {
            if (s.type === 'outbound-rtp')
              sent = `${s.framesPerSecond ?? 0} fps ${s.frameWidth}×${s.frameHeight} limit ${s.qualityLimitationReason}`;
          },
        );
        out.push(
          `caps ${e.active === false ? 'off' : `${e.maxFramerate} fps ${Math.round((e.maxBitrate ?? 0) / 1000)} kbps /${e.scaleResolutionDownBy}`}; ` +
            `sends ${sent}; link ${Math.round(link)} kbps`,
        );
      }
    }
    return out;
  });
}

/** Pins the page's first remote peer; resolves with its ID. */
async function pinFirst(p: CallPage): Promise<string> {
  return p.page.evaluate(() => {
    const el = document.querySelector('video-chat') as HTMLElement & {
      peers: { id: string }[];
      pin(id: string | null): void;
    };
    const id = el.peers[0]?.id as string;
    el.pin(id);
    return id;
  });
}

/** Video frames the page decoded from `peerId` (its element's `getStats`). */
async function framesFrom(p: CallPage, peerId: string): Promise<number> {
  return p.page.evaluate(async (id: string) => {
    const el = document.querySelector('video-chat') as HTMLElement & {
      getStats(id: string): Promise<RTCStatsReport | undefined>;
    };
    let frames = 0;
    (await el.getStats(id))?.forEach((s: { type: string; kind?: string; framesDecoded?: number }) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded ?? 0;
    });
    return frames;
  }, peerId);
}

async function hold(browsers: readonly Browser[], pagesUrl: string, signalUrl: string, which: Case): Promise<Window> {
  let measured: Window | undefined;
  const variant: Variant = which === 'layout' ? 'ours' : which;
  await oneCall(browsers, pagesUrl, signalUrl, variant, async (pages: CallPage[]) => {
    await sleep(SETTLE_MS);
    const pinned = which === 'layout' ? await Promise.all(pages.map(pinFirst)) : [];
    if (pinned.length) await sleep(LAYOUT_SETTLE_MS);
    const pinnedFrames = () => Promise.all(pinned.map((id, i) => framesFrom(pages[i] as CallPage, id)));
    const pids = browsers.map((b) => b.process()?.pid ?? -1);
    const frames0 = await Promise.all(pages.map(framesDecoded));
    const sent0 = await Promise.all(pages.map(bytesSent));
    const pinned0 = await pinnedFrames();
    const profiles = PROFILE ? await Promise.all(pages.map((p) => startJsProfile(p.page))) : [];
    const counters = PROFILE ? await Promise.all(pages.map((p) => countCalls(p.page))) : [];
    const drawn = PROFILE ? await Promise.all(pages.map((p) => countDrawn(p.page))) : [];
    const threads0 = PROFILE ? pids.map(threadCpu) : [];
    const cpu0 = pids.map(treeCpuMicros);
    const t0 = performance.now();
    await sleep(HOLD_MS);
    const cpu1 = pids.map(treeCpuMicros);
    const threads = new Map<string, number>();
    if (PROFILE)
      pids.forEach((pid, i) => addInto(threads, cpuDelta(threads0[i] as Map<string, number>, threadCpu(pid))));
    const js = new Map<string, number>();
    if (PROFILE) {
      const counts = await Promise.all(counters.map((c) => c.read()));
      progress(`mesh: ${which}: API calls per page in the window: ${counts.map((c) => JSON.stringify(c)).join(' ')}`);
      const lines = await Promise.all(drawn.map((d) => d.read()));
      progress(`mesh: ${which}: frames presented per video:\n${lines.map((l, i) => `  page ${i}: ${l}`).join('\n')}`);
    }
    for (const p of profiles) addInto(js, await p.stop());
    const frames1 = await Promise.all(pages.map(framesDecoded));
    const sent1 = await Promise.all(pages.map(bytesSent));
    const pinned1 = await pinnedFrames();
    const seconds = (performance.now() - t0) / 1000;
    if (PROFILE) {
      const lines = await Promise.all(pages.map(senders));
      progress(
        `mesh: ${which}: camera copies just after the window:\n${lines.map((l, i) => `  page ${i}: ${l.join('\n          ')}`).join('\n')}`,
      );
    }
    measured = {
      cores: cpu1.map((c, i) => (c - (cpu0[i] as number)) / 1e6 / seconds),
      fps: frames1.flatMap((f, i) => f.map((x, j) => (x - (frames0[i]?.[j] ?? x)) / seconds)),
      uplink: sent1.map((b, i) => ((b - (sent0[i] as number)) * 8) / 1000 / seconds),
      pinnedFps: pinned1.map((f, i) => (f - (pinned0[i] as number)) / seconds),
      seconds,
      ...(PROFILE ? { threads, js } : {}),
    };
  });
  if (!measured) throw new Error('mesh window not measured');
  return measured;
}

/** `BENCH_PROFILE=1`: the thread and JS tables of every case run so far (stderr). */
function printProfiles(windows: ReadonlyMap<Case, Window[]>): void {
  for (const part of ['threads', 'js'] as const) {
    const cases = new Map<string, { us: Map<string, number>; seconds: number }>();
    for (const [c, ws] of windows) {
      if (!ws.length) continue;
      const us = new Map<string, number>();
      for (const w of ws) addInto(us, w[part] ?? new Map());
      cases.set(c, { us, seconds: ws.reduce((s, w) => s + w.seconds, 0) });
    }
    progress(profileTable(part === 'threads' ? 'CPU by process and thread' : 'JS self time by function', cases));
  }
}

export async function benchMesh(root: string): Promise<Section> {
  const startedAt = new Date();
  const windows = new Map<Case, Window[]>([
    ['ours', []],
    ['layout', []],
    ['baseline', []],
  ]);
  const pagesServer = await startPageServer(root);
  try {
    const relay = await startRelayServer();
    const browsers = await Promise.all(Array.from({ length: PEERS }, () => launchChromium()));
    for (const variant of ORDER) {
      // A call that did not set up under load is tried once more (the window is what is measured, not the setup).
      const w = await hold(browsers, pagesServer.url, wsUrl(relay.url), variant).catch((error: unknown) => {
        progress(`mesh: ${variant}: ${error instanceof Error ? error.message : String(error)}; once more`);
        return hold(browsers, pagesServer.url, wsUrl(relay.url), variant);
      });
      windows.get(variant)!.push(w);
      progress(
        `mesh: ${variant}: cores per browser ${w.cores.map((c) => fmt(c, 2)).join(', ')}; ` +
          `fps per stream ${w.fps.map((f) => fmt(f, 3)).join(', ')}; ` +
          `uplink kbps ${w.uplink.map((k) => fmt(k, 3)).join(', ')}` +
          (w.pinnedFps.length ? `; pinned fps ${w.pinnedFps.map((f) => fmt(f, 3)).join(', ')}` : ''),
      );
      await sleep(500);
    }
  } finally {
    await closeAll().catch((error: unknown) => progress(`mesh: teardown: ${String(error)}`));
    await pagesServer.close();
    // Also when a window failed: the windows before it are worth reading.
    if (PROFILE) printProfiles(windows);
  }

  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const stats = (v: Case) => {
    const ws = windows.get(v) ?? [];
    const cores = ws.flatMap((w) => w.cores);
    const fps = ws.flatMap((w) => w.fps);
    const uplink = ws.flatMap((w) => w.uplink);
    const pinnedFps = ws.flatMap((w) => w.pinnedFps);
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
      uplink: mean(uplink),
      pinnedFps: pinnedFps.length ? mean(pinnedFps) : NaN,
      pinnedFpsMin: pinnedFps.length ? Math.min(...pinnedFps) : NaN,
    };
  };
  const ours = stats('ours');
  const layout = stats('layout');
  const base = stats('baseline');
  const out = [`## ${SECTION_TITLES['mesh']}`, '', runNote(startedAt, (Date.now() - startedAt.getTime()) / 1000), ''];
  const row = (name: string, r: typeof ours) =>
    `| ${name} | ${fmt(r.uplink)} | ${fmt(r.cores, 2)} | ${fmt(r.coresMax, 2)} | ${fmt(r.fps)} | ${fmt(r.fpsMin)} | ` +
    `${Number.isNaN(r.pinnedFps) ? '—' : `${fmt(r.pinnedFps)} (min ${fmt(r.pinnedFpsMin)})`} | ${r.streams} | ` +
    `${fmt(r.msPerFrame)} | ${ratio(r.uplink, base.uplink)} | ${ratio(r.cores, base.cores)} | ${ratio(r.fps, base.fps)} | ` +
    `${ratio(r.msPerFrame, base.msPerFrame)} |`;
  const met = (ok: boolean) => (ok ? 'met' : '**not met**');
  out.push(
    `Four Chromium processes (fake 640×480 camera, up to 24 fps requested by both pages, 800×600 viewport) in one room: ` +
      `${PEERS * (PEERS - 1)} received video streams. After every peer shows every other and ${SETTLE_MS / 1000} s ` +
      `more, a ${HOLD_MS / 1000} s window: uplink of each browser (\`outbound-rtp\` \`bytesSent\` of every ` +
      "connection, all kinds), CPU time (user + system) of each browser's whole process tree from /proc, and " +
      '`framesDecoded` of every received video stream; "CPU ms per received frame" is all browsers\' CPU time over all ' +
      'frames they decoded (the fairer figure when the machine is saturated). "ours" is the element as a page embeds ' +
      'it (a grid of tiles), with its bandwidth governor (docs/bandwidth.md: 3 copies of at most 833 kbps) and ' +
      'receiver-driven sending (each copy fitted to the tile its receiver shows it in); "ours, one pinned" is the ' +
      `layout case: each page pins its first remote peer (one large tile above a strip of small ones) and the window ` +
      `starts ${LAYOUT_SETTLE_MS / 1000} s later; "large tile fps" is the frame rate of that pinned peer's video. ` +
      `The baseline page has neither and shows every video as it comes. Ours and the baseline alternate in the same ` +
      `browsers (order ${ORDER.join(', ')}, windows of ${HOLD_MS / 1000} s); figures are over the windows of each.`,
    '',
    '| page | uplink per browser, mean (kbps) | CPU per browser, mean (cores) | max | received fps per stream, mean | min | large tile fps | streams | CPU ms per received frame | ÷ baseline: uplink | CPU | fps | CPU per frame |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...(ORDER.includes('ours') ? [row('ours', ours)] : []),
    ...(ORDER.includes('layout') ? [row('ours, one pinned', layout)] : []),
    row('baseline', base),
    '',
    `**Goal** (issue 16, layout case): uplink per browser < 0.8× the baseline's: ` +
      `${met(layout.uplink < 0.8 * base.uplink)} (${ratio(layout.uplink, base.uplink)}); CPU per browser < 0.8×: ` +
      `${met(layout.cores < 0.8 * base.cores)} (${ratio(layout.cores, base.cores)}); large tile fps not below the ` +
      `baseline's fps per stream: ${met(layout.pinnedFps >= base.fps - FRAME_FPS)} (${fmt(layout.pinnedFps, 4)} vs ` +
      `${fmt(base.fps, 4)}; a frame rate is counted to one frame per window, ${fmt(FRAME_FPS)} fps).`,
    '',
    `_Four browsers share ${cpus().length} cores with the rest of the machine here: fps below the capture rate means the ` +
      `machine, not the network, was the limit. Load average after this benchmark: ${loadNow()}._`,
  );
  return { id: 'mesh', markdown: out.join('\n') };
}
