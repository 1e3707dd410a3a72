/**
 * How the test suites launch browsers: executable lookup, Chromium flags, Firefox prefs and the network-isolation
 * guard. Shared by the end-to-end harness (./harness.ts) and web-test-runner.config.mjs (which imports the compiled
 * lib/test/e2e/browsers.js), so both suites run the browsers the same way.
 *
 * Everything here follows the project's browser-testing notes: browsers only ever talk to loopback (or to addresses
 * made inside the private network namespace of scripts/netns.sh), never resolve names, and use fake media devices.
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { isAbsolute, resolve } from 'node:path';

/**
 * Chromium command-line flags (headless mode is set through puppeteer's `headless` option, the profile through its
 * `userDataDir`/temporary profile).
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Three fake cameras, so switching the camera mid-call is tested for real: fake_device_0 (I420, the default) and
  // fake_device_2 (MJPEG) both reach the far side; fake_device_1 is a Y16 depth camera whose frames WebRTC does not send.
  '--use-fake-device-for-media-stream=device-count=3',
  '--use-fake-ui-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
  // No DNS lookups at all; only the literal loopback address is reachable.
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
  // In a namespace with only loopback Chromium would otherwise gather no ICE candidates.
  '--allow-loopback-in-peer-connection',
  // getDisplayMedia() picks the (virtual) screen without a picker, so screen share runs the real capture path.
  '--auto-select-desktop-capture-source=Entire screen',
];

/** Firefox ESR preferences: fake media without prompts, autoplay, plain host candidates, no DNS. */
export const FIREFOX_PREFS: Readonly<Record<string, boolean | number | string>> = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  // Otherwise host candidates are mDNS `.local` names, which nothing here resolves.
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  'network.dns.native-is-localhost': true,
  // Not from the notes, only for speed: exit right after the profile is written instead of a full XPCOM shutdown.
  // Closing Firefox ESR 153 otherwise takes about 4 s more (measured); the profiles are throwaway anyway.
  'toolkit.shutdown.fastShutdownStage': 3,
};

/** Interfaces scripts/netns.sh creates; anything else means the process is not in that namespace. */
const NETNS_INTERFACES = new Set(['lo', 'dflt0', 'dflt1']);

let warnedNotIsolated = false;

/**
 * Throws unless it is safe to start a browser here: when `CI` is set the process must run inside scripts/netns.sh
 * (`VIDEO_CHAT_NETNS=1`). When VIDEO_CHAT_NETNS=1 claims isolation, the interface list must match it. Outside CI
 * without isolation it only warns (once).
 */
export function assertNetworkIsolation(): void {
  const isolated = process.env['VIDEO_CHAT_NETNS'] === '1';
  if (!isolated) {
    if (process.env['CI']) {
      throw new Error(
        'refusing to start a browser: CI is set but this process is not inside the private network namespace ' +
          '(run it through scripts/netns.sh)',
      );
    }
    if (!warnedNotIsolated) {
      warnedNotIsolated = true;
      console.warn('warning: running browsers WITHOUT network isolation (not started through scripts/netns.sh)');
    }
    return;
  }
  const unexpected = Object.keys(networkInterfaces()).filter((name) => !NETNS_INTERFACES.has(name));
  if (unexpected.length > 0) {
    throw new Error(
      `VIDEO_CHAT_NETNS=1 but this process sees the network interfaces ${unexpected.join(', ')}: ` +
        'it is not inside the namespace scripts/netns.sh makes',
    );
  }
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Absolute path of an executable: `envVar` when set, else `command -v` of the candidates in order. */
function findExecutable(envVar: string, candidates: readonly string[]): string {
  const fromEnv = process.env[envVar];
  if (fromEnv) {
    const path = isAbsolute(fromEnv) ? fromEnv : resolve(fromEnv);
    if (!isExecutableFile(path)) throw new Error(`${envVar}=${fromEnv} is not an executable file`);
    return path;
  }
  for (const name of candidates) {
    try {
      const found = execFileSync('sh', ['-c', 'command -v "$1"', 'sh', name], { encoding: 'utf8' }).trim();
      if (found && isAbsolute(found)) return found;
    } catch {
      // not found: try the next candidate
    }
  }
  throw new Error(
    `cannot find ${candidates.join(' or ')}: install it (scripts/ensure-system-deps.sh) or set ${envVar}`,
  );
}

/** Chromium's absolute path: CHROME_PATH, else `command -v chromium`. */
export function chromiumPath(): string {
  return findExecutable('CHROME_PATH', ['chromium']);
}

/** Firefox ESR's absolute path: FIREFOX_PATH, else `command -v firefox-esr`. */
export function firefoxPath(): string {
  return findExecutable('FIREFOX_PATH', ['firefox-esr']);
}
