// ESLint flat config. `npm run lint` = `eslint --max-warnings 0 .`: every warning fails the build.
//
// - typescript-eslint `recommended` (syntactic, not type-aware) for every TypeScript and JavaScript file;
// - for the element sources (src/**): eslint-plugin-lit and eslint-plugin-wc `flat/recommended`, and
//   eslint-plugin-lit-a11y `recommended` (flat-config native since its 5.0.0: `configs.recommended` carries
//   `plugins` as an object).
import { defineConfig, globalIgnores } from 'eslint/config';
import { configs as litConfigs } from 'eslint-plugin-lit';
import litA11y from 'eslint-plugin-lit-a11y';
import { configs as wcConfigs } from 'eslint-plugin-wc';
import tseslint from 'typescript-eslint';

export default defineConfig([
  // Build output, dependencies, coverage, and the git-ignored scratch directory.
  globalIgnores(['lib/', 'dist/', 'node_modules/', 'coverage/', 'tmp/']),

  {
    files: ['**/*.{ts,mts,cts,js,mjs,cjs}'],
    extends: [tseslint.configs.recommended],
    rules: {
      // Rest destructuring that drops properties (`const { PORT: _port, ...rest } = env`) is intended, not unused.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },

  {
    files: ['src/**/*.ts'],
    extends: [litConfigs['flat/recommended'], wcConfigs['flat/recommended'], litA11y.configs.recommended],
    // Without this, eslint-plugin-wc only recognises classes extending HTMLElement as custom elements.
    settings: { wc: { elementBaseClasses: ['LitElement'] } },
  },
]);
