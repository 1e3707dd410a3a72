// Builds the script-tag bundle from the TypeScript output (lib/): Lit inlined, minified. The markup and
// CSS inside html`` / css`` templates are minified too (Lit's own plugin: html-minifier-next and lightningcss), since
// terser leaves template strings as they are.
import minifyHTML from '@lit-labs/rollup-plugin-minify-html-literals';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import { rmSync } from 'node:fs';

// Start from an empty dist/: a chunk left from an older build would still be served and counted.
rmSync('dist', { recursive: true, force: true });

export default {
  input: 'lib/src/index.js',
  // Lazy chunks (the device UI) import Lit and shared helpers from video-chat.js itself, which may export them for that.
  preserveEntrySignatures: 'allow-extension',
  // Code splitting: the entry is dist/video-chat.js; each dynamic import becomes its own file next to it,
  // video-chat-<name>.js, fetched relative to video-chat.js when needed: the negotiation engine when a call starts
  // (src/call/call-controller.ts), the device settings panel, each non-English locale (src/ui/strings.ts).
  output: {
    dir: 'dist',
    entryFileNames: 'video-chat.js',
    chunkFileNames: 'video-chat-[name].js',
    format: 'es',
    sourcemap: true,
  },
  plugins: [
    minifyHTML({ include: ['lib/src/**'], failOnError: true }),
    nodeResolve({ browser: true }),
    terser({ ecma: 2022, module: true, format: { comments: false } }),
  ],
};
