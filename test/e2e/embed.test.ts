/**
 * A site owner's page on another origin embeds the widget with one script tag pointing at the relay's host, and
 * calls a visitor of the demo page. Proves the bundle's cross-origin headers and the self-contained bundle.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import {
  closeAll,
  launchChromium,
  openParticipant,
  startRelayServer,
  uniqueRoom,
  waitForMediaFlowing,
} from './harness.js';

/** A "blog" on its own origin (another port) whose page holds the script tag and the element, nothing else. */
async function startBlog(relayUrl: string): Promise<{ url: string; server: Server }> {
  const relay = new URL(relayUrl);
  const server = createServer((req, res) => {
    const params = new URL(req.url ?? '/', 'http://blog.invalid').searchParams;
    const attr = (s: string | null) => (s ?? '').replace(/[^A-Za-z0-9_. -]/g, '');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="en"><head><title>My blog</title>
      <style>* { font: 30px serif; color: red; } video { display: none; }</style></head><body>
      <h1>Our team page</h1>
      <script type="module" src="${relay.origin}/video-chat.js"></script>
      <video-chat room="${attr(params.get('room'))}" name="${attr(params.get('name'))}"
        signal-url="ws://${relay.host}/"></video-chat></body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, server };
}

describe('embedding from another origin', { timeout: 120_000 }, () => {
  let blog: Server | undefined;
  afterEach(async () => {
    await closeAll();
    blog?.close();
  });

  it('a page on another origin loads the bundle by script tag and calls a demo visitor', async () => {
    const relay = await startRelayServer();
    const site = await startBlog(relay.url);
    blog = site.server;
    assert.notEqual(new URL(site.url).origin, new URL(relay.url).origin);
    const room = uniqueRoom('embed');
    const [a, b] = await Promise.all([launchChromium(), launchChromium()]);
    const reader = await openParticipant(a, site.url, { room, name: 'Reader' });
    const host = await openParticipant(b, relay.url, { room, name: 'Host' });
    const [fromHost, fromReader] = await Promise.all([
      waitForMediaFlowing(reader, 1, 30_000),
      waitForMediaFlowing(host, 1, 30_000),
    ]);
    assert.equal(fromHost[0]?.name, 'Host');
    assert.equal(fromReader[0]?.name, 'Reader');
  });
});
