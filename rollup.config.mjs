// Builds the script-tag bundle from the TypeScript output (lib/): Lit inlined, minified. The markup and
// CSS inside html`` / css`` templates are minified too (Lit's own plugin: html-minifier-next and lightningcss), since
// terser leaves template strings as they are.
import minifyHTML from '@lit-labs/rollup-plugin-minify-html-literals';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import { rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { brotliCompress, constants } from 'node:zlib';
import compress from 'rollup-plugin-gzip';

// Start from an empty dist/: a chunk left from an older build would still be served and counted.
rmSync('dist', { recursive: true, force: true });

export default {
  input: 'lib/src/index.js',
  // Lazy chunks (the device UI) import Lit and shared helpers from video-chat.js itself, which may export them for that.
  preserveEntrySignatures: 'allow-extension',
  // Code splitting: the entry is dist/video-chat.js; each dynamic import becomes its own file next to it,
  // video-chat-<name>-<hash>.js, fetched relative to video-chat.js when needed: the negotiation engine when a call
  // starts (src/call/call-controller.ts), the device settings panel, each non-English locale (src/ui/strings.ts).
  // The entry keeps its stable name (pages put it in a script tag; the relay serves it with no-cache and validators);
  // the chunks' names carry a hash of their content (8 hex digits), so the relay serves them as immutable.
  output: {
    dir: 'dist',
    entryFileNames: 'video-chat.js',
    chunkFileNames: 'video-chat-[name]-[hash].js',
    hashCharacters: 'hex',
    format: 'es',
    sourcemap: true,
  },
  plugins: [
    minifyHTML({ include: ['lib/src/**'], failOnError: true }),
    nodeResolve({ browser: true }),
    terser({ ecma: 2022, module: true, format: { comments: false } }),
    // Precompressed copies next to every file, video-chat.js.gz and video-chat.js.br, …: the relay sends the one the
    // client accepts (server/src/static.ts) instead of compressing on every request.
    compress({ filter: /\.(js|map)$/, gzipOptions: { level: 9 } }),
    compress({
      filter: /\.(js|map)$/,
      fileName: '.br',
      customCompression: (content) =>
        promisify(brotliCompress)(Buffer.from(content), {
          params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY },
        }),
    }),
  ],
};
