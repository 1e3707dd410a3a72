/**
 * The packages as a site owner gets them: the two tarballs `npm pack` makes (`video-chat-element`,
 * `video-chat-relay`), installed into an empty folder, the relay started there with `npx video-chat-relay`, and a page
 * on another origin that loads the element by one script tag from that relay (which serves the installed element
 * package's bundle) gets a call between Chromium and Firefox, remote video decoding both ways.
 *
 * The install needs the npm registry (or its cache) and this test runs inside the network namespace, which has
 * neither: scripts/test.sh packs and installs before this stage and passes the folder in VIDEO_CHAT_PACKAGE_DIR
 * (see its header). Without it the test fails under CI and is skipped elsewhere (a single-file run), saying how to
 * make the folder.
 *
 * @module
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import {
  closeAll,
  launchChromium,
  launchFirefox,
  onTeardown,
  openParticipant,
  uniqueRoom,
  waitForMediaFlowing,
  withTimeout,
} from './harness.js';

const PACKAGE_DIR = process.env['VIDEO_CHAT_PACKAGE_DIR'];
const HOW =
  'VIDEO_CHAT_PACKAGE_DIR (a folder where both packed tarballs are installed) is not set: `npm test` ' +
  '(scripts/test.sh, stage "packages") makes it; by hand: npm pack in the root and in server/, then ' +
  '`npm install <both .tgz>` in an empty folder, and VIDEO_CHAT_PACKAGE_DIR=<that folder>';

/** A running `npx video-chat-relay`: its URL and what it printed on stderr. */
interface InstalledRelay {
  url: string;
  stderr(): string;
}

/** Ends the process group `child` leads (npx and the relay it runs): SIGTERM, then SIGKILL after 5 s. */
async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(-child.pid, 'SIGTERM');
  try {
    await withTimeout(exited, 5_000, 'stopping npx video-chat-relay');
  } catch {
    process.kill(-child.pid, 'SIGKILL');
    await withTimeout(exited, 5_000, 'killing npx video-chat-relay');
  }
}

/** `npx --no-install video-chat-relay --port 0 --host 127.0.0.1` in `dir`; resolves with its URL (≤ 30 s). */
async function startInstalledRelay(dir: string): Promise<InstalledRelay> {
  const child = spawn('npx', ['--no-install', 'video-chat-relay', '--port', '0', '--host', '127.0.0.1'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so that stopping it stops the relay npx started too
  });
  onTeardown(() => stopGroup(child));
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-20_000);
  });
  const url = new Promise<string>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(stdout);
      if (match) resolve(match[0]);
    });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(new Error(`npx video-chat-relay exited (${signal ?? code}) before printing its URL; stderr: ${stderr}`)),
    );
  });
  return { url: await withTimeout(url, 30_000, 'starting npx video-chat-relay'), stderr: () => stderr };
}

/** A site on its own origin (another port): a page with the relay's script tag and the element, nothing else. */
async function startSite(relayUrl: string): Promise<string> {
  const relay = new URL(relayUrl);
  const server: Server = createServer((req, res) => {
    const params = new URL(req.url ?? '/', 'http://site.invalid').searchParams;
    const attr = (s: string | null) => (s ?? '').replace(/[^A-Za-z0-9_. -]/g, '');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="en"><head><title>A site</title></head><body>
      <script type="module" src="${relay.origin}/video-chat.js"></script>
      <video-chat room="${attr(params.get('room'))}" name="${attr(params.get('name'))}"
        signal-url="ws://${relay.host}/"></video-chat></body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTeardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

describe('the packed packages, installed from their tarballs', { timeout: 180_000 }, () => {
  afterEach(closeAll);

  it('npx video-chat-relay serves the installed element to a page on another origin, and a call connects', async (t) => {
    if (!PACKAGE_DIR) {
      if (process.env['CI']) assert.fail(HOW);
      t.skip(HOW);
      return;
    }
    const installed = (path: string) => join(PACKAGE_DIR, 'node_modules', path);
    assert.ok(existsSync(join(PACKAGE_DIR, 'node_modules/.bin/video-chat-relay')), `${PACKAGE_DIR}: no relay bin`);
    const bundle = installed('video-chat-element/dist/video-chat.js');
    assert.ok(existsSync(bundle), `${bundle} is missing`);
    // The relay found the element through its dependency: nothing of this repository is on its way.
    assert.ok(!existsSync(join(PACKAGE_DIR, 'node_modules/video-chat-relay/demo')), 'the relay ships no demo copy');

    const relay = await startInstalledRelay(PACKAGE_DIR);
    const served = await fetch(new URL('video-chat.js', relay.url), { headers: { 'accept-encoding': 'identity' } });
    assert.equal(served.status, 200);
    assert.equal(served.headers.get('access-control-allow-origin'), '*');
    assert.equal(await served.text(), readFileSync(bundle, 'utf8'), 'the relay serves the installed bundle');

    const site = await startSite(relay.url);
    assert.notEqual(new URL(site).origin, new URL(relay.url).origin);
    const room = uniqueRoom('package');
    const [chromium, firefox] = await Promise.all([launchChromium(), launchFirefox()]);
    const ada = await openParticipant(chromium, site, { room, name: 'Ada' });
    const grace = await openParticipant(firefox, site, { room, name: 'Grace' });
    try {
      const [atAda, atGrace] = await Promise.all([
        waitForMediaFlowing(ada, 1, 45_000),
        waitForMediaFlowing(grace, 1, 45_000),
      ]);
      assert.equal(atAda[0]?.name, 'Grace');
      assert.equal(atGrace[0]?.name, 'Ada');
      assert.ok((atAda[0]?.videoWidth ?? 0) > 0 && (atGrace[0]?.videoWidth ?? 0) > 0, 'both show a picture');
    } catch (error) {
      throw new Error(`${String(error)}\nrelay stderr:\n${relay.stderr()}`, { cause: error });
    }
  });
});
