/**
 * End-to-end harness (node:test + puppeteer-core): starts the demo server (`video-chat-relay` CLI), launches one
 * browser process per participant (Debian's Chromium or Firefox ESR, fresh profile, fake camera and microphone),
 * opens the demo page as a participant and reads what a person would see through `<video-chat>`'s public surface.
 *
 * Every wait is bounded in time. Everything started here is registered and torn down by {@link closeAll}.
 * With CI set, browsers are only launched inside scripts/netns.sh's private network namespace.
 *
 * Needs the build (`npm run build`: lib/ and dist/video-chat.js).
 *
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { assertNetworkIsolation, CHROMIUM_ARGS, chromiumPath, FIREFOX_PREFS, firefoxPath } from './browsers.js';

// ---------------------------------------------------------------------------------------------------------------
// timing helpers

import { withTimeout } from '../with-timeout.js';

export { withTimeout };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------------------------
// resources and teardown

type Closer = () => Promise<void>;
const closers = new Set<Closer>();
/** Processes to SIGKILL if the test process exits without closeAll (crash, timeout). */
const processes = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of processes) child.kill('SIGKILL');
});

function track(close: Closer): Closer {
  const once: Closer = async () => {
    if (!closers.delete(once)) return;
    await close();
  };
  closers.add(once);
  return once;
}

/** Registers `close` to run in {@link closeAll} (for resources other modules start, e.g. coturn in ./coturn.ts). */
export function onTeardown(close: Closer): void {
  track(close);
}

/** Closes every page, browser and server started through this module (most recent first), each within 15 s. */
export async function closeAll(): Promise<void> {
  const errors: unknown[] = [];
  for (const close of [...closers].reverse()) {
    try {
      await withTimeout(close(), 15_000, 'teardown');
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, 'teardown failed');
}

/** The project root: the nearest directory above this module with this package's package.json. */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'video-chat-element') {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the project root (package.json of video-chat-element)');
    dir = parent;
  }
}

/** Ends `child`: SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
async function stopProcess(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  try {
    await withTimeout(exited, graceMs, 'stopping a process');
  } catch {
    child.kill('SIGKILL');
    await withTimeout(exited, 5_000, 'killing a process');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// the demo server

export interface RelayServer {
  /** `http://127.0.0.1:PORT/`: the demo page; the relay is at `ws://127.0.0.1:PORT/`. */
  url: string;
  process: ChildProcess;
  /** What the server wrote to stderr so far. */
  stderr(): string;
  close(): Promise<void>;
}

/**
 * Starts `node lib/server/src/cli.js --port 0 --host 127.0.0.1` and resolves once it printed its URL (≤ 15 s).
 * Extra CLI flags may be appended (e.g. `--max-peers-per-room 3`); `root` is the build whose relay runs (default this
 * project's; the SFU benchmark's `SFU_BENCH_BEFORE_RELAY` runs another build's).
 */
export async function startRelayServer(
  extraArgs: readonly string[] = [],
  root: string = projectRoot(),
): Promise<RelayServer> {
  const cli = join(root, 'lib/server/src/cli.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run the build first (npm run build)`);
  const child = spawn(process.execPath, [cli, '--port', '0', '--host', '127.0.0.1', ...extraArgs], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  processes.add(child);
  child.once('exit', () => processes.delete(child));
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-20_000);
  });

  const close = track(() => stopProcess(child, 5_000));
  const url = new Promise<string>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(stdout);
      if (match) resolve(match[0]);
    });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(new Error(`relay server exited (${signal ?? code}) before printing its URL; stderr: ${stderr}`)),
    );
  });
  try {
    return {
      url: await withTimeout(url, 15_000, 'starting the relay server'),
      process: child,
      stderr: () => stderr,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// browsers

export type BrowserKind = 'chromium' | 'firefox';

/** A fresh profile directory, removed when the browser closes. */
function profileDir(kind: BrowserKind): string {
  return mkdtempSync(join(tmpdir(), `video-chat-e2e-${kind}-`));
}

async function launch(kind: BrowserKind): Promise<Browser> {
  assertNetworkIsolation();
  const userDataDir = profileDir(kind);
  const common = { headless: true, userDataDir, timeout: 30_000, protocolTimeout: 30_000 } as const;
  let browser: Browser;
  try {
    browser = await puppeteer.launch(
      kind === 'chromium'
        ? { ...common, browser: 'chrome', executablePath: chromiumPath(), args: [...CHROMIUM_ARGS] }
        : { ...common, browser: 'firefox', executablePath: firefoxPath(), extraPrefsFirefox: { ...FIREFOX_PREFS } },
    );
  } catch (error) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw error;
  }
  const proc = browser.process();
  if (proc) {
    processes.add(proc);
    proc.once('exit', () => processes.delete(proc));
  }
  track(async () => {
    try {
      if (browser.connected) await withTimeout(browser.close(), 10_000, `closing ${kind}`);
    } catch {
      proc?.kill('SIGKILL');
    } finally {
      rmSync(userDataDir, { recursive: true, force: true, maxRetries: 3 });
    }
  });
  return browser;
}

/** Launches a Chromium process of its own (headless, fake devices, loopback-only). */
export function launchChromium(): Promise<Browser> {
  return launch('chromium');
}

/** Launches a Firefox ESR process of its own (headless, fake devices, no DNS). Takes 2.5–4.5 s. */
export function launchFirefox(): Promise<Browser> {
  return launch('firefox');
}

// ---------------------------------------------------------------------------------------------------------------
// participants

export interface Participant {
  name: string;
  room: string;
  browser: Browser;
  page: Page;
  /** Console messages and page errors of the page, most recent last (at most 200). */
  logs: string[];
}

/**
 * Opens `${baseUrl}?room=R&name=N` (the demo page joins that room as that name) in a new page of `browser` and waits
 * (≤ 20 s) until `<video-chat>` is defined. `init` runs in the page before any of its scripts (e.g. to observe
 * browser APIs the element uses).
 */
export async function openParticipant(
  browser: Browser,
  baseUrl: string,
  { room, name, init }: { room: string; name: string; init?: () => void },
): Promise<Participant> {
  const page = await withTimeout(browser.newPage(), 15_000, `${name}: opening a page`);
  track(async () => {
    if (!page.isClosed()) await page.close().catch(() => undefined);
  });
  const logs: string[] = [];
  const log = (line: string) => {
    logs.push(line);
    if (logs.length > 200) logs.shift();
  };
  page.on('console', (message) => log(`[${message.type()}] ${message.text()}`));
  page.on('pageerror', (error) => log(`[pageerror] ${error instanceof Error ? error.message : String(error)}`));

  if (init) await withTimeout(page.evaluateOnNewDocument(init), 10_000, `${name}: adding the init script`);
  const url = new URL(baseUrl);
  url.searchParams.set('room', room);
  url.searchParams.set('name', name);
  await page.goto(url.href, { waitUntil: 'load', timeout: 20_000 });
  try {
    await page.waitForFunction(() => customElements.get('video-chat') !== undefined, { timeout: 20_000, polling: 100 });
  } catch (error) {
    throw new Error(`${name}: <video-chat> was never defined on ${url.href}\n${logs.join('\n')}`, { cause: error });
  }
  return { name, room, browser, page, logs };
}

/** Closes the participant's page, as a person closing the tab. */
export async function leave(participant: Participant): Promise<void> {
  await withTimeout(participant.page.close(), 10_000, `${participant.name}: closing the page`);
}

// ---------------------------------------------------------------------------------------------------------------
// what a person sees (read in the page, through the element's public surface)

/** One remote participant as the page shows it. */
export interface RemoteMedia {
  peerId: string;
  name: string;
  /** Sum of `framesDecoded` over the video `inbound-rtp` stats of that peer's connection. */
  framesDecoded: number;
  /** Sum of `packetsReceived` over the audio `inbound-rtp` stats. */
  audioPacketsReceived: number;
  /** `videoWidth` of `video[part~="remote-video"][data-peer-id=<id>]`, 0 if there is none. */
  videoWidth: number;
}

/** The element's `state`, `peers` and remote tile ids (`[part~="tile"][data-peer-id]`). */
export interface ChatView {
  state: string;
  peers: { id: string; name: string }[];
  tiles: string[];
}

/** Reads state, peers and remote tiles of the page's `<video-chat>`. */
export async function chatView(page: Page): Promise<ChatView> {
  return withTimeout(
    page.evaluate(() => {
      type Chat = HTMLElement & { state: string; peers: readonly { id: string; name: string }[] };
      const chat = document.querySelector('video-chat') as Chat | null;
      if (!chat) return { state: 'missing', peers: [], tiles: [] };
      const tiles = [...(chat.shadowRoot?.querySelectorAll('[part~="tile"][data-peer-id]') ?? [])].map(
        (tile) => tile.getAttribute('data-peer-id') ?? '',
      );
      return { state: chat.state, peers: chat.peers.map(({ id, name }) => ({ id, name })), tiles };
    }),
    10_000,
    'reading <video-chat>',
  );
}

/** Per remote peer: inbound media counters (from `getStats(peerId)`) and the size of its `<video>`. */
export async function remoteMedia(page: Page): Promise<RemoteMedia[]> {
  return withTimeout(
    page.evaluate(async () => {
      type Chat = HTMLElement & {
        peers: readonly { id: string; name: string }[];
        getStats(peerId: string): Promise<RTCStatsReport | undefined>;
      };
      const chat = document.querySelector('video-chat') as Chat | null;
      if (!chat) return [];
      return Promise.all(
        chat.peers.map(async ({ id, name }) => {
          let framesDecoded = 0;
          let audioPacketsReceived = 0;
          const report = await chat.getStats(id);
          report?.forEach((s: Record<string, unknown>) => {
            if (s['type'] !== 'inbound-rtp') return;
            const kind = s['kind'] ?? s['mediaType'];
            if (kind === 'video') framesDecoded += Number(s['framesDecoded'] ?? 0);
            if (kind === 'audio') audioPacketsReceived += Number(s['packetsReceived'] ?? 0);
          });
          const video = chat.shadowRoot?.querySelector<HTMLVideoElement>(
            `video[part~="remote-video"][data-peer-id="${CSS.escape(id)}"]`,
          );
          return { peerId: id, name, framesDecoded, audioPacketsReceived, videoWidth: video?.videoWidth ?? 0 };
        }),
      );
    }),
    10_000,
    'reading remote media',
  );
}

function diagnose(participant: Participant | Page, view: ChatView | undefined, extra: string): string {
  const logs = 'logs' in participant ? `\nlast page logs:\n  ${participant.logs.slice(-20).join('\n  ')}` : '';
  return `${extra}\nlast view: ${JSON.stringify(view)}${logs}`;
}

const pageOf = (p: Participant | Page): Page => ('page' in p ? p.page : p);

/**
 * Polls (every 250 ms, ≤ `timeoutMs`) until the element is in one of `states`.
 */
export async function waitForState(
  who: Participant | Page,
  states: readonly string[],
  timeoutMs = 15_000,
): Promise<ChatView> {
  const deadline = Date.now() + timeoutMs;
  let view: ChatView | undefined;
  for (let i = 0; Date.now() < deadline && i < 10_000; i++) {
    view = await chatView(pageOf(who));
    if (states.includes(view.state)) return view;
    await sleep(250);
  }
  throw new Error(diagnose(who, view, `state never became ${states.join('|')} within ${timeoutMs} ms`));
}

/**
 * Polls (every 250 ms, ≤ `timeoutMs`) until the element lists exactly `count` peers and shows exactly `count` remote
 * tiles, for the same peer ids.
 */
export async function waitForRemoteCount(
  who: Participant | Page,
  count: number,
  timeoutMs = 15_000,
): Promise<ChatView> {
  const deadline = Date.now() + timeoutMs;
  let view: ChatView | undefined;
  for (let i = 0; Date.now() < deadline && i < 10_000; i++) {
    view = await chatView(pageOf(who));
    const ids = view.peers.map((p) => p.id).sort();
    if (ids.length === count && view.tiles.length === count && [...view.tiles].sort().join() === ids.join()) {
      return view;
    }
    await sleep(250);
  }
  throw new Error(diagnose(who, view, `never had exactly ${count} remote peers and tiles within ${timeoutMs} ms`));
}

/**
 * Polls until the page shows exactly `expectedRemoteCount` remote peers and, for every one of them, video frames are
 * being decoded (framesDecoded grew between two samples 400 ms apart), its `<video>` has a picture (videoWidth > 0)
 * and audio packets arrive (packetsReceived grew). At most `timeoutMs`, at most 1000 rounds.
 * @returns the last sample.
 */
export async function waitForMediaFlowing(
  who: Participant | Page,
  expectedRemoteCount: number,
  timeoutMs = 20_000,
): Promise<RemoteMedia[]> {
  const page = pageOf(who);
  const deadline = Date.now() + timeoutMs;
  let before = await remoteMedia(page);
  let after = before;
  for (let i = 0; Date.now() < deadline && i < 1000; i++) {
    await sleep(400);
    after = await remoteMedia(page);
    const flowing =
      after.length === expectedRemoteCount &&
      after.every((now) => {
        const then = before.find((b) => b.peerId === now.peerId);
        return (
          then !== undefined &&
          now.framesDecoded > then.framesDecoded &&
          now.videoWidth > 0 &&
          now.audioPacketsReceived > then.audioPacketsReceived
        );
      });
    if (flowing) return after;
    before = after;
  }
  const view = await chatView(page).catch(() => undefined);
  throw new Error(
    diagnose(
      who,
      view,
      `media from ${expectedRemoteCount} remote peer(s) not flowing within ${timeoutMs} ms; ` +
        `last samples: ${JSON.stringify(before)} -> ${JSON.stringify(after)}`,
    ),
  );
}

/** A room name no other test uses. */
export function uniqueRoom(prefix = 'e2e'): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
