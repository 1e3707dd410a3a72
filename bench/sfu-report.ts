/**
 * The SFU benchmark's figures and tables (bench/sfu-bench.ts measures, this module turns its windows into markdown).
 *
 * Every ratio is computed per round (the two modes of one round ran back to back in the same browsers) and reported as
 * the median over the rounds with their range, as the other benchmarks do (docs/benchmarks.md).
 *
 * @module
 */
import { CAMERA } from './sfu-steps.js';
import { fmt, median } from './util.js';

/** One measured room: a mode, a size and a round. */
export interface Window {
  mode: 'mesh' | 'sfu';
  /** Participants in the room. */
  size: number;
  round: number;
  /** Cores used by each participant's browser (process tree) over the window (1 = one full core). */
  cores: number[];
  /** Per participant: kbps sent (all `outbound-rtp`, audio and video, `bytesSent` delta). */
  uplinkKbps: number[];
  /** Per participant: the part of `uplinkKbps` that was retransmissions (`retransmittedBytesSent`). */
  retransmitKbps: number[];
  /** Per participant: key frames encoded per second (all its video streams). */
  keyFramesPerS: number[];
  /** Per received video stream: frames decoded per second. */
  fps: number[];
  /** Per received video stream at the end of the window: the decoded frame width (px). */
  widths: number[];
  /** Per participant: video `outbound-rtp` streams that encoded frames in the window (mesh: copies; SFU: layers). */
  encodings: number[];
  /** Per participant: the widest frame it sent at the end of the window (px). */
  sentWidths: number[];
  /** Janus's CPU over the window (its process, all threads), cores. */
  janusCores: number;
  /** The relay's CPU over the window, cores. */
  relayCores: number;
}

/** One mesh→SFU switch. */
export interface Switch {
  /** Per original tile: the longest interval between two presented frames over a steady-mesh window (ms). */
  steady: number[];
  /** {@link steady} counting only intervals in which no other frame was presented (the video stalled, not the page). */
  steadyVideo: number[];
  /** The same for {@link across}. */
  acrossVideo: number[];
  /** Per original tile: the same, from just before the last one joined until the switch was over and 1 s more (ms). */
  across: number[];
  /** Per tile of the first `at − 2` pages: the longest interval across the `at − 1`-th one's join (ms). */
  joined: number[];
  joinedVideo: number[];
  /**
   * Per original tile: the longest interval over the window after the `at − 1`-th one's media flows, in which the
   * work done ahead of the switch would land (`PREPARE_MS`; the warm path tried in session 7, docs/benchmarks.md), ms.
   */
  prepared: number[];
  preparedVideo: number[];
  /** Per original browser: cores used over the steady mesh window of `at − 1`. */
  steadyCores: number[];
  /** From the last one's join until every page held only its two SFU connections (ms). */
  switchMs: number;
  /** Per browser: cores used over that time (its process tree, 1 = one core). */
  switchCores: number[];
  /** Participants at which the room switched (`SFU_BENCH_SWITCH_AT`; the last one joining switched it). */
  at: number;
  /** Whose pages: this build's (`ours`), or the build named by `SFU_BENCH_BEFORE` (`before`). */
  variant: 'ours' | 'before';
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const mean = (xs: readonly number[]): number => sum(xs) / xs.length;

/** The figures of one window that the tables compare. */
interface Figures {
  cores: number;
  uplink: number;
  retransmit: number;
  keyFrames: number;
  fps: number;
  fpsMin: number;
  width: number;
  msPerFrame: number;
  msPerFrameJanus: number;
  janus: number;
  relay: number;
  encodings: number;
  sentWidth: number;
  streams: number;
}

function figures(w: Window): Figures {
  const frames = sum(w.fps);
  return {
    cores: mean(w.cores),
    uplink: mean(w.uplinkKbps),
    retransmit: mean(w.retransmitKbps),
    keyFrames: mean(w.keyFramesPerS),
    fps: mean(w.fps),
    fpsMin: Math.min(...w.fps),
    width: mean(w.widths),
    // CPU per received frame normalises for a saturated machine: a browser that got less CPU decoded fewer frames.
    msPerFrame: (sum(w.cores) * 1000) / frames,
    msPerFrameJanus: ((sum(w.cores) + w.janusCores) * 1000) / frames,
    janus: w.janusCores,
    relay: w.relayCores,
    encodings: mean(w.encodings),
    sentWidth: mean(w.sentWidths),
    streams: w.fps.length,
  };
}

type Key = keyof Figures;

/** Median over the rounds measured in both, and the range, of `f(a) ÷ f(b)` per round. */
function ratioOf(
  as: ReadonlyMap<number, Figures>,
  bs: ReadonlyMap<number, Figures>,
  key: Key,
): { median: number; min: number; max: number; rounds: number } {
  const rs = [...as].map(([round, a]) => a[key] / (bs.get(round)?.[key] ?? NaN)).filter(Number.isFinite);
  return { median: median(rs), min: Math.min(...rs), max: Math.max(...rs), rounds: rs.length };
}

const x = (r: { median: number; min: number; max: number }): string =>
  Number.isFinite(r.median) ? `${r.median.toFixed(2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)}×)` : '–';

/** The figures of `mode` at `size`, by round. */
function select(windows: readonly Window[], mode: Window['mode'], size: number): Map<number, Figures> {
  return new Map(windows.filter((w) => w.mode === mode && w.size === size).map((w) => [w.round, figures(w)]));
}

const medianOf = (fs: readonly Figures[], key: Key): number => median(fs.map((f) => f[key]));
const rangeOf = (fs: readonly Figures[], key: Key, digits = 3): string =>
  `${fmt(Math.min(...fs.map((f) => f[key])), digits)}–${fmt(Math.max(...fs.map((f) => f[key])), digits)}`;

export interface SfuParameters {
  rounds: number;
  settleMs: number;
  windowMs: number;
  steadyMs: number;
  readyMs: number;
  /** The room sizes the run meant to measure (every row shows, measured or not). */
  sizes: readonly number[];
}

/** One row of the switch table: the switches of one build (`SFU_BENCH_BEFORE`), interleaved with the other's. */
function switchRow(
  variant: Switch['variant'],
  switches: readonly Switch[],
  steadyMedian: number,
  video: boolean,
): string {
  const mine = switches.filter((s) => s.variant === variant);
  const across = mine.flatMap((s) => (video ? s.acrossVideo : s.across));
  const label =
    (variant === 'ours' ? 'across the switch, this build' : 'across the switch, SFU_BENCH_BEFORE build') +
    (video ? ', video stalls only' : '');
  return (
    `| ${label} | ${across.length} | ${fmt(median(across))} | ${fmt(Math.max(...across))} | ` +
    `${(median(across) / steadyMedian).toFixed(2)}× |`
  );
}

/**
 * The switch's moments per build (issue 12; the A/B of work moved ahead of the switch): the longest frame interval per
 * tile (median / max, ms; video stalls only in brackets) at the `at − 1`-th join, over the window after it,
 * over the steady mesh of `at − 1` and across the switch, and the cores per browser in that steady mesh.
 */
function momentsTable(switches: readonly Switch[]): string[] {
  const at = switches[0]!.at;
  const cell = (xs: number[], video: number[]) =>
    xs.length === 0
      ? '–'
      : `${fmt(median(xs))} / ${fmt(Math.max(...xs))} (${fmt(median(video))} / ${fmt(Math.max(...video))})`;
  const out = [
    '',
    `**The switch's moments per build** (longest frame interval per tile, median / max ms, video stalls only in ` +
      `brackets; "the 5 s after it" is the window after the ${at - 1}th one's media flows, where work ahead of the ` +
      `switch would land; CPU per browser over the steady mesh of ${at - 1} after it, median (range)):`,
    '',
    `| build | switches | at the ${at - 1}th join | the 5 s after it | steady mesh of ${at - 1} | across the switch | CPU per browser in the steady mesh of ${at - 1}, cores |`,
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const variant of [...new Set(switches.map((s) => s.variant))]) {
    const mine = switches.filter((s) => s.variant === variant);
    const all = (k: keyof Switch) => mine.flatMap((s) => s[k] as number[]);
    const cores = all('steadyCores');
    out.push(
      `| ${variant === 'ours' ? 'this build' : 'SFU_BENCH_BEFORE build'} | ${mine.length} | ` +
        `${cell(all('joined'), all('joinedVideo'))} | ${cell(all('prepared'), all('preparedVideo'))} | ` +
        `${cell(all('steady'), all('steadyVideo'))} | ${cell(all('across'), all('acrossVideo'))} | ` +
        `${fmt(median(cores), 2)} (${fmt(Math.min(...cores), 2)}–${fmt(Math.max(...cores), 2)}) |`,
    );
  }
  return out;
}

/** The section's text after its heading and run note. */
export function sfuMarkdown(
  windows: readonly Window[],
  switches: readonly Switch[],
  failures: readonly string[],
  p: SfuParameters,
): string {
  const sizes = [...new Set([...p.sizes, ...windows.map((w) => w.size)])].sort((a, b) => b - a);
  const out: string[] = [
    `Five Chromium processes (the e2e harness's: headless, fake camera and microphone, the camera asked for ${CAMERA.join('×')} at ` +
      `15 fps by the benchmark), one page each with the script-tag bundle; one real Janus (test/e2e/janus.ts) and two ` +
      'relays: one without `--janus-url` (mesh), one with `--janus-url` and `--sfu-from 2` (every room on the SFU). ' +
      `${p.rounds} rounds; each round measures a room of ${sizes.join(' and of ')} participants in each mode, the mode ` +
      'order alternating from round to round. Each room: everyone shows everyone with video decoding and audio ' +
      `arriving, the connections are the mode's (SFU: the publishing and the subscribing one; mesh: one per other ` +
      `participant), ${p.settleMs / 1000} s more, then a ${p.windowMs / 1000} s window. CPU is each browser's process ` +
      "tree from /proc (1 = one core); uplink is all of a participant's `outbound-rtp` `bytesSent` (audio and video); " +
      "fps is `framesDecoded` per received video stream; CPU per received frame is all browsers' CPU over all frames " +
      'they decoded. Absolute figures are medians over the rounds (range in brackets); ratios are mesh ÷ SFU per ' +
      'round, median (range).',
    '',
    '| participants | mode | CPU per browser, cores | uplink per participant, kbps | of which retransmitted | key frames/s sent | received fps per stream (min) | received width px | CPU ms per received frame | same, with Janus | Janus CPU, cores | relay CPU, cores | video encodings sent per participant (widest px) | received streams |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const size of sizes) {
    for (const mode of ['mesh', 'sfu'] as const) {
      const fs = [...select(windows, mode, size).values()];
      if (fs.length === 0) continue;
      out.push(
        `| ${size} | ${mode === 'sfu' ? 'SFU' : 'mesh'} | ${fmt(medianOf(fs, 'cores'), 2)} (${rangeOf(fs, 'cores', 2)}) | ` +
          `${fmt(medianOf(fs, 'uplink'))} (${rangeOf(fs, 'uplink')}) | ${fmt(medianOf(fs, 'retransmit'))} | ` +
          `${fmt(medianOf(fs, 'keyFrames'), 2)} | ${fmt(medianOf(fs, 'fps'))} (${fmt(Math.min(...fs.map((f) => f.fpsMin)))}) | ` +
          `${fmt(medianOf(fs, 'width'))} | ${fmt(medianOf(fs, 'msPerFrame'))} (${rangeOf(fs, 'msPerFrame')}) | ` +
          `${fmt(medianOf(fs, 'msPerFrameJanus'))} | ${fmt(medianOf(fs, 'janus'), 2)} (${rangeOf(fs, 'janus', 2)}) | ` +
          `${fmt(medianOf(fs, 'relay'), 2)} | ${fmt(medianOf(fs, 'encodings'), 2)} (${fmt(medianOf(fs, 'sentWidth'))}) | ` +
          `${fmt(medianOf(fs, 'streams'))} |`,
      );
    }
  }
  out.push(
    '',
    `**Mesh ÷ SFU** (per round, median and range over ${p.rounds} rounds):`,
    '',
    `| figure | ${sizes.map((s) => `${s} participants`).join(' | ')} |`,
    `|---|${sizes.map(() => '---:').join('|')}|`,
  );
  const rows: [string, Key][] = [
    ['CPU per browser', 'cores'],
    ['uplink per participant', 'uplink'],
    ['received fps per stream', 'fps'],
    ['CPU per received frame (browsers)', 'msPerFrame'],
    ['CPU per received frame (browsers + Janus)', 'msPerFrameJanus'],
  ];
  for (const [label, key] of rows) {
    out.push(
      `| ${label} | ${sizes.map((s) => x(ratioOf(select(windows, 'mesh', s), select(windows, 'sfu', s), key))).join(' | ')} |`,
    );
  }
  const big = Math.max(...sizes);
  const small = Math.min(...sizes);
  const flat = (mode: Window['mode']) => ratioOf(select(windows, mode, big), select(windows, mode, small), 'uplink');
  const sfuFlat = flat('sfu');
  const meshFlat = flat('mesh');
  const cpu = ratioOf(select(windows, 'mesh', big), select(windows, 'sfu', big), 'cores');
  out.push(
    '',
    `**Uplink flatness** (uplink per participant at ${big} ÷ at ${small}, per round, median and range): SFU ${x(sfuFlat)}; ` +
      `mesh ${x(meshFlat)} (for contrast).`,
    '',
    '**Goals (issue 12):**',
    '',
    `- SFU uplink per participant flat as the room grows (${big} ÷ ${small} within 0.85–1.15×): ` +
      (sfuFlat.rounds === 0
        ? '**not measured** (no round measured both sizes on the SFU)'
        : `${sfuFlat.median >= 0.85 && sfuFlat.median <= 1.15 ? 'met' : '**missed**'} (${x(sfuFlat)})`),
    `- CPU per browser at ${big} participants below the mesh's (mesh ÷ SFU above 1): ` +
      (cpu.rounds === 0
        ? `**not measured** (0 of ${p.rounds} rounds measured in both modes)`
        : `${cpu.median > 1 ? 'met' : '**missed**'} (${x(cpu)}; ${cpu.min > 1 ? 'in every round' : 'not in every round'}, ` +
          `${cpu.rounds} of ${p.rounds} rounds measured in both modes)`),
  );
  if (switches.length === 0) out.push('', '**Mesh→SFU switch gap**: no switch case completed (reasons below).');
  if (switches.length > 0) {
    const steady = switches.flatMap((s) => s.steady).sort((a, b) => a - b);
    const across = switches.flatMap((s) => s.across).sort((a, b) => a - b);
    const variants = [...new Set(switches.map((s) => s.variant))];
    const at = switches[0]!.at;
    const steadyVideo = switches.flatMap((s) => s.steadyVideo);
    const acrossVideo = switches.flatMap((s) => s.acrossVideo);
    const rows =
      variants.length < 2
        ? []
        : [false, true].flatMap((video) =>
            variants.map((v) => switchRow(v, switches, median(video ? steadyVideo : steady), video)),
          );
    out.push(
      '',
      `**Mesh→SFU switch gap** (a third relay with \`--sfu-from ${at}\`: ${at - 1} participants in a mesh, the last ` +
        `one joining makes the room switch; ${switches.length} switches). Per original tile (each original page's view ` +
        `of the other originals), the longest interval between two frames presented (\`requestVideoFrameCallback\` on ` +
        `the tile's \`<video>\`, followed by participant ID): over ${p.steadyMs / 1000} s of steady mesh just before (the ` +
        "baseline), and from the last one's join until every page holds only its two SFU connections, shows every other " +
        'participants with media flowing, and 1 s more. "Video stalls only" counts only the intervals in which the ' +
        'page presented no other frame of that tile (`presentedFrames` advanced by one): a longer interval with frames ' +
        "presented meanwhile is the measuring page's main thread starved, not the picture. No goal is asserted (the " +
        'e2e test checks that no tile goes dark and the order of the switch).',
      '',
      '| window | tiles | median ms | max ms | ÷ steady (median, max) |',
      '|---|---:|---:|---:|---:|',
      `| steady mesh (baseline) | ${steady.length} | ${fmt(median(steady))} | ${fmt(Math.max(...steady))} | 1 |`,
      `| across the switch | ${across.length} | ${fmt(median(across))} | ${fmt(Math.max(...across))} | ` +
        `${(median(across) / median(steady)).toFixed(2)}×, ${(Math.max(...across) / Math.max(...steady)).toFixed(2)}× |`,
      `| steady mesh, video stalls only | ${steadyVideo.length} | ${fmt(median(steadyVideo))} | ` +
        `${fmt(Math.max(...steadyVideo))} | 1 |`,
      `| across the switch, video stalls only | ${acrossVideo.length} | ${fmt(median(acrossVideo))} | ` +
        `${fmt(Math.max(...acrossVideo))} | ${(median(acrossVideo) / median(steadyVideo)).toFixed(2)}×, ` +
        `${(Math.max(...acrossVideo) / Math.max(...steadyVideo)).toFixed(2)}× |`,
      ...rows,
      ...momentsTable(switches),
      '',
      `Switch time (the last one's join → every page on its two SFU connections): ` +
        `${switches.map((s) => `${fmt(s.switchMs)} ms${variants.length > 1 ? ` (${s.variant})` : ''}`).join(', ')}; ` +
        `cores per browser over it (mean over the browsers): ` +
        `${switches.map((s) => fmt(s.switchCores.reduce((a, b) => a + b, 0) / s.switchCores.length, 2)).join(', ')}.`,
    );
  }
  out.push(
    '',
    failures.length === 0
      ? 'Every room got going at the first attempt.'
      : `**Rooms that did not get going** (everyone showing everyone with media flowing within ${p.readyMs / 1000} s, or the switch ` +
          `finishing; each room retried once in a fresh room): ${failures.length}.\n\n` +
          failures.map((f) => `- ${f.length > 240 ? `${f.slice(0, 240)}…` : f}`).join('\n'),
  );
  return out.join('\n');
}
