// ESLint flat config. `npm run lint` = `eslint --max-warnings 0 .` (plus the formatter's check): every warning fails
// the build.
//
// - typescript-eslint `recommended` for every TypeScript and JavaScript file; `recommendedTypeChecked` (type-aware:
//   no-floating-promises, no-misused-promises, unbound-method, no-unsafe-*) for the shipped code, src/ and server/;
//   the promise rules for the tests and benchmarks;
// - for the element sources (src/**): eslint-plugin-lit and eslint-plugin-wc `flat/recommended`, and
//   eslint-plugin-lit-a11y `recommended`;
// - the layer rules of docs/architecture.md, as `no-restricted-imports` per folder (each arrow of the diagram that
//   must not exist is a pattern below). TypeScript enforces the runtimes: src/tsconfig.json has no Node types and
//   server/tsconfig.json no DOM.
import { defineConfig, globalIgnores } from 'eslint/config';
import { configs as litConfigs } from 'eslint-plugin-lit';
import litA11y from 'eslint-plugin-lit-a11y';
import { configs as wcConfigs } from 'eslint-plugin-wc';
import tseslint from 'typescript-eslint';

const root = import.meta.dirname;

/** `no-restricted-imports` with the given regex patterns (matched against the import specifier), one message each. */
const forbid = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });
/** Anything reached through `../` from a folder directly under src/: the layer it belongs to, by folder. */
const up = (what) => `^\\.\\./(?:\\.\\./)*${what}`;
const NODE = { regex: '^node:', message: 'Browser code: no Node modules (docs/architecture.md).' };

/** node:test's describe/it/… return promises that the runner awaits; not awaiting them is how node:test is used. */
const NODE_TEST_CALLS = {
  from: 'package',
  name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
  package: 'node:test',
};

export default defineConfig([
  // Build output, dependencies, coverage, and the git-ignored scratch directory.
  globalIgnores(['lib/', 'server/lib/', 'dist/', 'node_modules/', 'coverage/', 'tmp/']),

  {
    files: ['**/*.{ts,mts,cts,js,mjs,cjs}'],
    extends: [tseslint.configs.recommended],
    rules: {
      // Rest destructuring that drops properties (`const { PORT: _port, ...rest } = env`) is intended, not unused.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },

  // Type-aware rules. The project service finds each file's project (src, server, test, bench: tsconfig.json).
  {
    files: ['{src,server,test,bench}/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: root } },
  },
  {
    files: ['{src,server}/**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    rules: { '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }] },
  },
  {
    files: ['{test,bench}/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [NODE_TEST_CALLS] }],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    // @open-wc/testing's chai plugins type every `expect(…)` chain as a thenable, so the rule would flag each
    // synchronous assertion. The awaited ones (`await expect(el).to.be.accessible()`) are awaited by hand.
    files: ['test/browser/**/*.ts'],
    rules: { '@typescript-eslint/no-floating-promises': 'off' },
  },

  {
    files: ['src/**/*.ts'],
    extends: [litConfigs['flat/recommended'], wcConfigs['flat/recommended'], litA11y.configs.recommended],
    // Without this, eslint-plugin-wc only recognises classes extending HTMLElement as custom elements.
    settings: { wc: { elementBaseClasses: ['LitElement'] } },
  },

  // ---- layers (docs/architecture.md): protocol → signaling, negotiation, media → call → ui → element ----
  {
    files: ['src/**/*.ts'],
    rules: forbid(NODE),
  },
  {
    files: ['src/protocol/**/*.ts'],
    rules: forbid({ regex: '^(?!\\./)', message: 'src/protocol/ imports nothing but its own files.' }),
  },
  {
    files: ['src/{signaling,negotiation,media}/**/*.ts'],
    rules: forbid(NODE, {
      regex: `${up('(?:call|ui)/')}|${up('(?:video-chat|events|index)(?:\\.styles)?\\.js$')}|^lit`,
      message: 'signaling/, negotiation/ and media/ sit below the call layer: no call/, ui/, events, element or Lit.',
    }),
  },
  {
    // The embed doctor's probes: Web APIs only (WebSocket, RTCPeerConnection, enumerateDevices), like the layers above.
    files: ['src/diagnose/**/*.ts'],
    rules: forbid(NODE, {
      regex: `${up('(?:call|ui|signaling|negotiation|media)/')}|${up('(?:video-chat|events|index|doctor)(?:\\.styles)?\\.js$')}|^lit`,
      message: 'src/diagnose/ probes with Web APIs: no call/, ui/, other layers, events, element or Lit.',
    }),
  },
  {
    files: ['src/call/**/*.ts'],
    rules: forbid(NODE, {
      regex: `${up('ui/')}|${up('(?:video-chat|index)(?:\\.styles)?\\.js$')}|^lit`,
      message: 'call/ sits below the UI: no ui/, no element, no Lit.',
    }),
  },
  {
    files: ['src/ui/**/*.ts'],
    rules: forbid(NODE, {
      regex: `${up('(?:video-chat|index)(?:\\.styles)?\\.js$')}|${up('(?:signaling|negotiation|media)/')}`,
      message: 'Templates render what the call layer exposes: no element, no signaling/negotiation/media.',
    }),
  },
  {
    files: ['server/**/*.ts'],
    rules: forbid(
      {
        regex: '^(?:\\.\\./)+src/(?!protocol/(?:relay|sfu)\\.js$)',
        message:
          'The relay imports only the client↔relay wire (src/protocol/relay.ts and its SFU part, sfu.ts) from the element.',
      },
      { regex: '^lit', message: 'No DOM in the relay.' },
    ),
  },
  {
    // Rooms shared through Redis are loaded with a dynamic import() only when --redis-url is given: no static import
    // of the Redis client or of server/src/redis/ from the rest of the relay, but for redis/lua.ts (the Lua scripts'
    // definition and EVALSHA helper, which loads no client: the hosts' and the SFU's script modules use it).
    files: ['server/**/*.ts'],
    ignores: ['server/src/redis/**'],
    rules: forbid(
      {
        regex: '^(?:\\.\\./)+src/(?!protocol/(?:relay|sfu)\\.js$)',
        message:
          'The relay imports only the client↔relay wire (src/protocol/relay.ts and its SFU part, sfu.ts) from the element.',
      },
      { regex: '^lit', message: 'No DOM in the relay.' },
      {
        regex: '^@redis/|(?:^|/)redis/(?!lua\\.js$)',
        message: 'Redis is loaded on demand: import("./redis/…") only when redisUrl is set (docs/architecture.md).',
      },
    ),
  },
]);
