// Builds the self-contained script-tag bundle from the TypeScript output (lib/): Lit inlined, minified. The markup and
// CSS inside html`` / css`` templates are minified too (Lit's own plugin: html-minifier-next and lightningcss), since
// terser leaves template strings as they are.
import minifyHTML from '@lit-labs/rollup-plugin-minify-html-literals';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';

export default {
  input: 'lib/src/index.js',
  output: {
    file: 'dist/video-chat.js',
    format: 'es',
    sourcemap: true,
  },
  plugins: [
    minifyHTML({ include: ['lib/src/**'], failOnError: true }),
    nodeResolve({ browser: true }),
    terser({ ecma: 2022, module: true, format: { comments: false } }),
  ],
};
