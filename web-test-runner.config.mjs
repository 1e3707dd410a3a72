// @web/test-runner configuration for the browser tests (test/browser, run from the compiled lib/test/browser): the
// element, and the negotiation, media and call modules that need a real browser.
//
// Runs every test file in Debian's Chromium and Firefox ESR, both driven by puppeteer-core (nothing downloads a
// browser), with fake camera/microphone, served from 127.0.0.1 (a secure context). The real signaling relay is
// mounted on the test server itself at /relay, so in-page tests connect to `ws://${location.host}/relay`.
//
// Needs `npm run build` (or `npx tsc -b`) first, and is meant to run inside scripts/netns.sh:
//   scripts/netns.sh npx web-test-runner --config web-test-runner.config.mjs
// Run it from the project root (globs and paths are relative to the working directory). With CI set it refuses to
// start outside that namespace.
import { existsSync, readdirSync } from 'node:fs';
import { relative } from 'node:path';
import { defaultReporter } from '@web/test-runner';
import { chromeLauncher } from '@web/test-runner-chrome';
import * as puppeteerCore from 'puppeteer-core';
import {
  assertNetworkIsolation,
  CHROMIUM_ARGS,
  chromiumPath,
  FIREFOX_PREFS,
  firefoxPath,
} from './lib/test/e2e/browsers.js';

assertNetworkIsolation();

const TESTS = 'lib/test/browser';
/** Compiled tests whose TypeScript source is gone (tsc never deletes outputs): excluded from the run. */
const stale = existsSync(TESTS)
  ? readdirSync(TESTS, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.test.js') && !existsSync(`test/browser/${f.slice(0, -3)}.ts`))
      .map((f) => `!${TESTS}/${f}`)
  : [];

/**
 * Mounts the relay (lib/server/src/index.js) on wtr's own HTTP server at /relay with default options, a second one
 * with room capacity 1 at /relay-capacity-1 (room-full tests) and a third requiring room tokens at /relay-token.
 */
function relayPlugin() {
  /** @type {{ close(): Promise<void> }[]} */
  let relays = [];
  return {
    name: 'video-chat-relay',
    async serverStart({ server }) {
      const { createRelay } = await import('./lib/server/src/index.js');
      const standard = createRelay();
      standard.attach(server, { path: '/relay' });
      const small = createRelay({ maxPeersPerRoom: 1 });
      small.attach(server, { path: '/relay-capacity-1' });
      // Requires room tokens; the secret is a test fixture, also in test/browser/element/token.test.ts.
      const tokens = createRelay({ tokenSecret: 'element-tests-token-secret-0123456789abcdef' });
      tokens.attach(server, { path: '/relay-token' });
      relays = [standard, small, tokens];
    },
    async serverStop() {
      await Promise.all(relays.map((relay) => relay.close()));
      relays = [];
    },
  };
}

/**
 * Repeats every failed test, with its browser, file and error, as the run's last lines: the default reporter prints a
 * failure when its file ends, which a long log (or a CI excerpt that keeps only the tail) can lose.
 * @returns {import('@web/test-runner').Reporter}
 */
function failureRecap() {
  return {
    stop({ sessions }) {
      /** @type {string[]} */
      const lines = [];
      /** @param {string} where @param {import('@web/test-runner').TestSuiteResult} suite @param {string[]} path */
      const walk = (where, suite, path) => {
        for (const test of suite.tests) {
          if (!test.passed && !test.skipped) {
            lines.push(`  ${where} › ${[...path, test.name].join(' › ')}: ${test.error?.message ?? 'failed'}`);
          }
        }
        for (const inner of suite.suites) walk(where, inner, [...path, inner.name]);
      };
      for (const session of sessions) {
        const where = `[${session.browser.name}] ${relative(process.cwd(), session.testFile)}`;
        for (const error of session.errors) lines.push(`  ${where}: ${error.message}`);
        if (session.testResults) walk(where, session.testResults, []);
      }
      if (lines.length > 0) console.log(`\nFailed (${lines.length}):\n${lines.join('\n')}\n`);
    },
  };
}

/** @type {import('@web/test-runner').TestRunnerConfig} */
export default {
  reporters: [defaultReporter(), failureRecap()],
  files: [`${TESTS}/**/*.test.js`, ...stale],
  nodeResolve: true,
  hostname: '127.0.0.1',
  concurrency: 1,
  // Plain line-by-line output where nobody watches a terminal (CI logs).
  staticLogging: !process.stdout.isTTY,
  browserStartTimeout: 60_000,
  testsStartTimeout: 60_000,
  testsFinishTimeout: 180_000,
  testFramework: {
    config: { timeout: 20_000 },
  },
  browsers: [
    chromeLauncher({
      puppeteer: puppeteerCore, // reports as "Chromium" (without it: "Chrome")
      concurrency: 1,
      launchOptions: {
        browser: 'chrome',
        executablePath: chromiumPath(),
        headless: true,
        args: [...CHROMIUM_ARGS],
      },
    }),
    chromeLauncher({
      puppeteer: puppeteerCore,
      concurrency: 1,
      launchOptions: {
        browser: 'firefox',
        executablePath: firefoxPath(),
        headless: true,
        extraPrefsFirefox: { ...FIREFOX_PREFS },
      },
    }),
  ],
  plugins: [relayPlugin()],
};
