/**
 * What the tiles cost to draw (diagnostic for the mesh layout case, issue 16; not in the report): one Chromium
 * process (the e2e harness's flags: software compositing, fake camera) shows the layout case's tiles with the
 * element's own styles (`styles` of src/video-chat.styles.ts, read from lib/): a large pinned tile and a strip with
 * the self-view and two thumbnails, each fed a local copy of the fake camera at the size and rate a call gives it
 * (pinned 640 × 480 at the camera's rate, thumbnails 180 × 135 and the self-view as `media/preview.ts` makes it).
 * No WebRTC: only the drawing differs between variants. Variants are extra CSS (and frame rates) on top of the styles,
 * run in turns (`ROUNDS` × every variant, windows of `HOLD_MS`); per variant, the CPU of the GPU process
 * (`VizCompositorThread`: software compositing) and of the renderer (`VideoFrameCompositor`, `Compositor`, main)
 * from /proc (bench/mesh-profile.ts `threadCpu`), and the frames each video presented
 * (`requestVideoFrameCallback`), so a variant that drew fewer frames under load is seen as such.
 *
 * Run (inside the network namespace): `npm run build && bash scripts/netns.sh node lib/bench/mesh-render.js`;
 * `BENCH_RENDER_VARIANTS=now,video-radius` picks variants, `BENCH_HOLD_MS`, `BENCH_ROUNDS` shorten it.
 *
 * @module
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { styles } from '../src/video-chat.styles.js';
import { closeAll, launchChromium } from '../test/e2e/harness.js';
import { cpuDelta, threadCpu } from './mesh-profile.js';
import { fmt, progress, sleep } from './util.js';

const HOLD_MS = Number(process.env['BENCH_HOLD_MS']) || 6_000;
const ROUNDS = Number(process.env['BENCH_ROUNDS']) || 3;

interface Variant {
  /** CSS added after the element's styles. */
  css: string;
  /** Frame rates of the thumbnails' and the self-view's copies (fps). */
  thumbFps: number;
  previewFps: number;
  /** Shorter side of the self-view's copy, px. */
  previewSide: number;
  /** Shorter side of the pinned tile's copy, px (a 640 × 480 camera: 480 is the camera itself). */
  pinnedSide?: number;
  /** Size of the thumbnails' copies, px (width × height). */
  thumb?: [number, number];
  /** Without the element's styles: only `css` (a bare page's videos, as the minimal page shows them). */
  bare?: boolean;
}

const NOW: Variant = { css: '', thumbFps: 10, previewFps: 10, previewSide: 240, thumb: [180, 135] };
const VARIANTS: Record<string, Variant> = {
  now: NOW,
  /** The pinned picture whole (letterboxed) and its copy no larger than drawn (a 768 × 250 tile: 333 × 250). */
  contain: { ...NOW, css: '.pinned video{object-fit:contain}', pinnedSide: 250 },
  /** The pinned picture whole, its copy at the camera's size (what the drawing alone costs). */
  'contain-full': { ...NOW, css: '.pinned video{object-fit:contain}' },
  /** Every copy at the size it is drawn (device px: no scaling when drawn): pinned 341 × 256, others 147 × 110. */
  exact: { ...NOW, css: '.pinned video{object-fit:contain}', pinnedSide: 256, thumb: [147, 110], previewSide: 110 },
  /** The same, the self-view not mirrored. */
  'exact-nomirror': {
    ...NOW,
    css: '.pinned video{object-fit:contain} .local video{transform:none}',
    pinnedSide: 256,
    thumb: [147, 110],
    previewSide: 110,
  },
  /** Nothing drawn over the videos (names, buttons, quality). */
  'no-overlays': { ...NOW, css: '.name,.tools,.quality{display:none}' },
  /** The tiles' buttons not drawn while hidden (visibility instead of opacity 0). */
  'tools-hidden': { ...NOW, css: '.tile:not(:hover) .tools:not(:focus-within){visibility:hidden}' },
  /** No rounded, filled box around the call. */
  'no-call-box': { ...NOW, css: '.call{background:none;border-radius:0}' },
  /** No clip on the tiles (square, overflow visible: a cover picture spills out). */
  'no-clip': { ...NOW, css: '.tile{overflow:visible;border-radius:0}' },
  /** No clip, every copy drawn at its own size (no scaling) and not mirrored: the element's layout only. */
  'no-clip-exact': {
    ...NOW,
    css: '.tile{overflow:visible;border-radius:0} video{object-fit:none} .local video{transform:none}',
    pinnedSide: 256,
    thumb: [147, 85],
    previewSide: 85,
  },
  /** The minimal page's drawing: no styles, videos at their own size one after the other. */
  bare: { ...NOW, bare: true, css: 'video{display:inline}' },
  /** The rounded clip on each video instead of the tile (overflow visible): no clip around a group of layers. */
  'video-radius': { ...NOW, css: '.tile{overflow:visible} .tile video{border-radius:inherit}' },
  /** No rounded corners at all on tiles (square clip). */
  square: { ...NOW, css: '.tile{border-radius:0}' },
  /** object-fit fill instead of cover (no crop). */
  fill: { ...NOW, css: 'video{object-fit:fill}' },
  /** Thumbnails and the self-view at the rate they had before (15 fps). */
  'fast-thumbs': { ...NOW, thumbFps: 15, previewFps: 15 },
  /** The self-view smaller (the strip's tile is ~150 × 85 CSS px). */
  'small-preview': { ...NOW, previewSide: 120 },
  /** No mirrored self-view. */
  'no-mirror': { ...NOW, css: '.local video{transform:none}' },
  /** No outline (speaker ring) and no transition on tiles. */
  'no-outline': { ...NOW, css: '.tile{outline:0;transition:none}' },
  /** As `contain` (the call's drawing since stop 22), the self-view at 5 fps. */
  'preview-5': { ...NOW, css: '.pinned video{object-fit:contain}', pinnedSide: 250, previewFps: 5 },
  /** As `contain`, the self-view not drawn (what it costs at most). */
  'no-preview': { ...NOW, css: '.pinned video{object-fit:contain} .local video{display:none}', pinnedSide: 250 },
  /** As `contain`, each tile a paint and layout containment boundary. */
  /** As `contain` with nothing but the layout: no clip, radius, outline, backgrounds, overlays, mirroring, fitting. */
  flat: {
    ...NOW,
    css:
      '.pinned video{object-fit:contain} .tile{overflow:visible;border-radius:0;outline:none;transition:none;background:none}' +
      ' .call{background:none;border-radius:0} .name,.tools,.quality{display:none} .local video{transform:none}',
    pinnedSide: 250,
  },
  /** The minimal page's drawing, each video in the box the element gives it (scaled as the element scales it). */
  'bare-sized': {
    ...NOW,
    bare: true,
    css: 'video{display:inline-block;width:147px;height:85px;object-fit:cover} .pinned video{width:768px;height:256px;object-fit:contain}',
    pinnedSide: 250,
  },
  /** As `contain`, every video drawn at its own size (no scaling; cropped or bordered, centred). */
  'none-all': {
    ...NOW,
    css: '.pinned video{object-fit:contain} video, .pinned video{object-fit:none}',
    pinnedSide: 250,
  },
  /** The same, each picture at its box's top left corner (whole pixels). */
  'none-all-tl': {
    ...NOW,
    css: '.pinned video{object-fit:contain} video, .pinned video{object-fit:none;object-position:0 0}',
    pinnedSide: 250,
  },
  /** The same, not mirrored. */
  'none-all-tl-nomirror': {
    ...NOW,
    css: '.pinned video{object-fit:contain} video, .pinned video{object-fit:none;object-position:0 0} .local video{transform:none}',
    pinnedSide: 250,
  },
  /** As `contain`, the pinned video element only as wide as its letterboxed picture (centred): a smaller layer. */
  'pinned-fit': {
    ...NOW,
    css: '.pinned video{object-fit:contain} .pinned{display:flex;justify-content:center} .pinned video{width:auto;max-width:100%}',
    pinnedSide: 250,
  },
  containment: { ...NOW, css: '.pinned video{object-fit:contain} .tile{contain:strict}', pinnedSide: 250 },
};

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head>
<body style="margin:8px"><div id="host"></div><script type="module">
window.setup = async (css, v) => {
  const host = document.getElementById('host');
  const root = host.shadowRoot ?? host.attachShadow({ mode: 'open' });
  for (const s of window.__streams ?? []) for (const t of s.getTracks()) t.stop();
  const cam = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480, frameRate: 24 } });
  const copy = async (w, h, fps) => {
    const t = cam.getVideoTracks()[0].clone();
    await t.applyConstraints({ width: { max: w }, height: { max: h }, frameRate: { max: fps }, resizeMode: 'crop-and-scale' });
    return new MediaStream([t]);
  };
  const side = v.previewSide;
  const pinned = v.pinnedSide ? await copy(Math.round(v.pinnedSide * 4 / 3), v.pinnedSide, 30) : cam;
  const streams = [await copy(side * 4 / 3, side, v.previewFps), pinned, await copy(...v.thumb, v.thumbFps), await copy(...v.thumb, v.thumbFps)];
  window.__streams = streams;
  const tools = '<div class="tools"><button class="toggle-on"><svg viewBox="0 0 24 24"></svg></button><button class="toggle-on"><svg viewBox="0 0 24 24"></svg></button></div><span class="quality good">▂▄▆</span>';
  root.innerHTML = '<style>' + css + '</style><div class="call"><p class="status"></p><div class="grid strip">' +
    '<figure class="tile local"><video muted autoplay playsinline></video><figcaption class="name">You</figcaption></figure>' +
    '<figure class="tile pinned"><video muted autoplay playsinline></video><figcaption class="name">A</figcaption>' + tools + '</figure>' +
    '<figure class="tile"><video muted autoplay playsinline></video><figcaption class="name">B</figcaption>' + tools + '</figure>' +
    '<figure class="tile"><video muted autoplay playsinline></video><figcaption class="name">C</figcaption>' + tools + '</figure>' +
    '</div><div class="controls"><button>Mic</button><button>Camera</button><button>Leave</button></div></div>';
  const videos = [...root.querySelectorAll('video')];
  window.__frames = videos.map(() => 0);
  videos.forEach((video, i) => {
    video.srcObject = streams[i];
    const count = () => { window.__frames[i]++; video.requestVideoFrameCallback(count); };
    video.requestVideoFrameCallback(count);
  });
  await Promise.all(videos.map((video) => new Promise((r) => video.readyState >= 2 ? r() : video.addEventListener('loadeddata', r, { once: true }))));
  return videos.map((video) => [Math.round(video.getBoundingClientRect().width), Math.round(video.getBoundingClientRect().height), video.videoWidth, video.videoHeight].join('x'));
};
</script></body></html>`;

async function main(): Promise<void> {
  const names = process.env['BENCH_RENDER_VARIANTS']?.split(',') ?? Object.keys(VARIANTS);
  for (const n of names) if (!VARIANTS[n]) throw new Error(`unknown variant ${n}: ${Object.keys(VARIANTS).join(', ')}`);
  const server = createServer((_, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const totals = new Map<string, { threads: Map<string, number>; frames: number[]; seconds: number }>();
  try {
    const browser = await launchChromium();
    const page = await browser.newPage();
    await page.setViewport({ width: 800, height: 600 });
    await page.goto(url);
    const pid = browser.process()?.pid ?? -1;
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of names) {
        const v = VARIANTS[name] as Variant;
        const boxes = await page.evaluate(
          (css: string, vv: Variant) =>
            (window as unknown as { setup(c: string, x: Variant): Promise<string[]> }).setup(css, vv),
          (v.bare ? '' : styles.cssText) + v.css,
          v,
        );
        await sleep(1_000);
        const f0 = await page.evaluate(() => [...(window as unknown as { __frames: number[] }).__frames]);
        const c0 = threadCpu(pid);
        const t0 = performance.now();
        await sleep(HOLD_MS);
        const delta = cpuDelta(c0, threadCpu(pid));
        const f1 = await page.evaluate(() => [...(window as unknown as { __frames: number[] }).__frames]);
        const seconds = (performance.now() - t0) / 1000;
        const t = totals.get(name) ?? { threads: new Map(), frames: [0, 0, 0, 0], seconds: 0 };
        for (const [k, us] of delta) t.threads.set(k, (t.threads.get(k) ?? 0) + us);
        t.frames = t.frames.map((x, i) => x + ((f1[i] as number) - (f0[i] as number)));
        t.seconds += seconds;
        totals.set(name, t);
        progress(
          `render: ${name} round ${round + 1}: boxes (css w×h×decoded) ${boxes.join(' ')}; fps ${f1.map((x, i) => fmt((x - (f0[i] as number)) / seconds, 3)).join(', ')}`,
        );
      }
    }
  } finally {
    await closeAll();
    server.close();
  }
  const keys = [
    'gpu-process · VizCompositorTh',
    'renderer · VideoFrameCompo',
    'renderer · Compositor',
    'renderer · main',
  ];
  const line = (cells: string[]) => cells.map((c, i) => (i ? c.padStart(14) : c.padEnd(16))).join('');
  const out = [
    line(['variant', 'all ms/s', ...keys.map((k) => k.split(' · ')[1] as string), 'frames/s', 'viz µs/frame']),
  ];
  for (const [name, t] of totals) {
    const rate = (k: string) => (t.threads.get(k) ?? 0) / 1000 / t.seconds;
    const all = [...t.threads.values()].reduce((a, b) => a + b, 0) / 1000 / t.seconds;
    const fps = t.frames.reduce((a, b) => a + b, 0) / t.seconds;
    out.push(
      line([name, fmt(all), ...keys.map((k) => fmt(rate(k))), fmt(fps), fmt((rate(keys[0] as string) * 1000) / fps)]),
    );
  }
  progress(
    `render: ms of CPU per s of window (one browser), ${ROUNDS} × ${HOLD_MS / 1000} s per variant:\n${out.join('\n')}`,
  );
}

await main();
