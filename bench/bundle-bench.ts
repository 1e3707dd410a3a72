/**
 * Benchmark 3: bytes of the script-tag bundle dist/video-chat.js (as `npm run build` makes it: Lit inlined, minified)
 * raw, gzip (level 9) and brotli (quality 11), next to Lit alone: `export * from 'lit'` bundled by rollup with the
 * same resolve and terser settings as rollup.config.mjs, into a temporary file. Sizes are deterministic; the ratio
 * says how much the widget adds on top of its framework.
 *
 * @module
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terserImport from '@rollup/plugin-terser';
import { rollup } from 'rollup';
import { runNote, SECTION_TITLES, type Section } from './report.js';
import { progress, ratio } from './util.js';

// The plugin's types describe a CommonJS module (the function under `.default`) while its ESM build, which Node
// loads here, default-exports the function itself: accept either.
type Terser = typeof terserImport.default;
const terser: Terser = typeof terserImport === 'function' ? (terserImport as Terser) : terserImport.default;

/** Budget of `npm test`'s size guard (test/node/build/bundle-size.test.ts): 20 KiB gzip. */
export const GZIP_BUDGET_BYTES = 20 * 1024;

export interface Sizes {
  raw: number;
  gzip: number;
  brotli: number;
}

/** Raw, gzip -9 and brotli -q 11 sizes of some bytes. */
export function sizesOf(bytes: Buffer): Sizes {
  return {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      },
    }).length,
  };
}

/** Lit alone, bundled and minified like our bundle. */
async function litAlone(root: string): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'video-chat-bench-lit-'));
  const entry = '\0lit-alone';
  try {
    const bundle = await rollup({
      input: entry,
      plugins: [
        {
          name: 'lit-alone-entry',
          resolveId: (id) => (id === entry ? entry : null),
          load: (id) => (id === entry ? "export * from 'lit';" : null),
        },
        nodeResolve({ browser: true, rootDir: root }),
        terser({ ecma: 2022, module: true, format: { comments: false } }),
      ],
      onwarn: () => {},
    });
    const file = join(dir, 'lit.js');
    await bundle.write({ file, format: 'es' });
    await bundle.close();
    return readFileSync(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchBundle(root: string): Promise<Section> {
  const startedAt = new Date();
  const ours = sizesOf(readFileSync(join(root, 'dist/video-chat.js')));
  // The on-demand chunks of the code-split build, and what a call loads in all (entry + engine with the stats loop).
  // Chunk names carry a content hash (video-chat-engine-1a2b3c4d.js); the table names them with `<hash>` so that it
  // stays comparable from build to build.
  const chunks = readdirSync(join(root, 'dist'))
    .filter((f) => /^video-chat-[\w-]+\.js$/.test(f))
    .sort();
  const chunkSizes = chunks.map(
    (f) => [f.replace(/-[0-9a-f]{8}\.js$/, '-<hash>.js'), sizesOf(readFileSync(join(root, 'dist', f)))] as const,
  );
  const callFiles = chunkSizes.filter(([f]) => f === 'video-chat-engine-<hash>.js');
  const sum = (list: readonly Sizes[]): Sizes => ({
    raw: list.reduce((a, s) => a + s.raw, 0),
    gzip: list.reduce((a, s) => a + s.gzip, 0),
    brotli: list.reduce((a, s) => a + s.brotli, 0),
  });
  const call = sum([ours, ...callFiles.map(([, s]) => s)]);
  const lit = sizesOf(await litAlone(root));
  progress(
    `bundle: ours ${ours.raw}/${ours.gzip}/${ours.brotli} B, Lit ${lit.raw}/${lit.gzip}/${lit.brotli} B (min/gzip/brotli)`,
  );
  const row = (name: string, s: Sizes, r: string[]): string =>
    `| ${name} | ${s.raw.toLocaleString('en-US')} | ${s.gzip.toLocaleString('en-US')} | ${s.brotli.toLocaleString('en-US')} | ${r.join(' | ')} |`;
  const out = [
    `## ${SECTION_TITLES['bundle']}`,
    '',
    runNote(startedAt, (Date.now() - startedAt.getTime()) / 1000),
    '',
    'Bytes of `dist/video-chat.js` as built by `npm run build` (the ES module a script tag loads, Lit inlined, terser), ' +
      'of its on-demand chunks (the negotiation engine with the speaker/quality loop, loaded while the camera starts; ' +
      'the device settings panel; German) and ' +
      "of Lit alone (`export * from 'lit'`, bundled by rollup with the same node-resolve and terser settings). gzip " +
      'level 9 and brotli quality 11 from node:zlib. Sizes are deterministic (no ratio needed against noise); the ratio ' +
      'is ours ÷ Lit alone.',
    '',
    '| bundle | minified B | gzip B | brotli B | ÷ Lit: min | gzip | brotli |',
    '|---|---:|---:|---:|---:|---:|---:|',
    row('`dist/video-chat.js` (ours, Lit included)', ours, [
      ratio(ours.raw, lit.raw),
      ratio(ours.gzip, lit.gzip),
      ratio(ours.brotli, lit.brotli),
    ]),
    ...chunkSizes.map(([f, s]) => row(`\`dist/${f}\` (on demand)`, s, ['', '', ''])),
    row('what a call loads: `video-chat.js` + `video-chat-engine-<hash>.js`', call, [
      ratio(call.raw, lit.raw),
      ratio(call.gzip, lit.gzip),
      ratio(call.brotli, lit.brotli),
    ]),
    row('Lit alone (baseline)', lit, ['1', '1', '1']),
    '',
    `**Goal:** at most 20 KiB (${GZIP_BUDGET_BYTES.toLocaleString('en-US')} B) gzip, enforced by ` +
      '`test/node/build/bundle-size.test.ts` in `npm test`: ' +
      (ours.gzip <= GZIP_BUDGET_BYTES
        ? `met (${ours.gzip.toLocaleString('en-US')} B, ${(GZIP_BUDGET_BYTES - ours.gzip).toLocaleString('en-US')} B of headroom).`
        : `**missed** by ${(ours.gzip - GZIP_BUDGET_BYTES).toLocaleString('en-US')} B.`) +
      ` What a call loads in all is ${call.gzip.toLocaleString('en-US')} B gzip (budget 26 KiB in the same test).`,
  ];
  return { id: 'bundle', markdown: out.join('\n') };
}
