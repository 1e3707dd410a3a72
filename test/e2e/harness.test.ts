/**
 * Self-test of the end-to-end harness, independent of the real element: both browsers launch (inside the network
 * namespace when run through scripts/netns.sh), resolve no names, get fake media, and the page helpers read a
 * stand-in `<video-chat>` (an in-page loopback call) served by a tiny HTTP server. When call.test.ts fails, this
 * tells whether the harness or the product is at fault.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  closeAll,
  launchChromium,
  launchFirefox,
  openParticipant,
  remoteMedia,
  waitForMediaFlowing,
  waitForRemoteCount,
  waitForState,
  withTimeout,
} from './harness.js';

/**
 * A stand-in for the real element with the same public surface (state, peers, getStats, shadow parts): it sends its
 * own camera and microphone through a pair of RTCPeerConnections in the page and shows the received side as the one
 * remote peer.
 */
const FAKE_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fake video-chat</title><link rel="icon" href="data:,"></head>
<body><video-chat></video-chat>
<script type="module">
  class FakeVideoChat extends HTMLElement {
    state = 'idle';
    peers = [];
    #receiver;
    constructor() { super(); this.attachShadow({ mode: 'open' }); }
    async connectedCallback() {
      this.state = 'connecting';
      const name = new URLSearchParams(location.search).get('name') ?? '';
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
      const local = Object.assign(document.createElement('video'), { muted: true, autoplay: true, srcObject: stream });
      local.setAttribute('part', 'video local-video');
      const tile = document.createElement('figure');
      tile.setAttribute('part', 'tile remote-tile');
      tile.dataset.peerId = 'echo';
      const remote = Object.assign(document.createElement('video'), { muted: true, autoplay: true, playsInline: true });
      remote.setAttribute('part', 'video remote-video');
      remote.dataset.peerId = 'echo';
      tile.append(remote);
      this.shadowRoot.append(local, tile);

      const a = new RTCPeerConnection();
      const b = new RTCPeerConnection();
      a.onicecandidate = (e) => { if (e.candidate) b.addIceCandidate(e.candidate); };
      b.onicecandidate = (e) => { if (e.candidate) a.addIceCandidate(e.candidate); };
      b.ontrack = (e) => { remote.srcObject = e.streams[0]; };
      for (const track of stream.getTracks()) a.addTrack(track, stream);
      await a.setLocalDescription();
      await b.setRemoteDescription(a.localDescription);
      await b.setLocalDescription();
      await a.setRemoteDescription(b.localDescription);
      this.#receiver = b;
      this.peers = [{ id: 'echo', name: 'Echo of ' + name }];
      this.state = 'in-call';
    }
    getStats(peerId) {
      return peerId === 'echo' && this.#receiver ? this.#receiver.getStats() : Promise.resolve(undefined);
    }
  }
  customElements.define('video-chat', FakeVideoChat);
</script></body></html>`;

let server: Server;
let baseUrl: string;

before(async () => {
  server = createServer((req, res) => {
    if (req.url?.startsWith('/?') || req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(FAKE_PAGE);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
afterEach(closeAll);

describe('e2e harness', { timeout: 90_000 }, () => {
  it('refuses to launch a browser outside the namespace when CI is set', async () => {
    const saved = { CI: process.env['CI'], NETNS: process.env['VIDEO_CHAT_NETNS'] };
    process.env['CI'] = 'true';
    delete process.env['VIDEO_CHAT_NETNS'];
    try {
      await assert.rejects(launchChromium(), /refusing to start a browser/);
    } finally {
      for (const [key, value] of [
        ['CI', saved.CI],
        ['VIDEO_CHAT_NETNS', saved.NETNS],
      ] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  for (const [kind, launch] of [
    ['Chromium', launchChromium],
    ['Firefox ESR', launchFirefox],
  ] as const) {
    it(`${kind}: loads a page, gets fake media, reads the stand-in element`, async () => {
      const browser = await launch();
      const p = await openParticipant(browser, baseUrl, { room: 'r', name: 'Zoe' });
      await waitForState(p, ['in-call'], 15_000);
      await waitForRemoteCount(p, 1, 5_000);
      const media = await waitForMediaFlowing(p, 1, 20_000);
      assert.equal(media[0]?.name, 'Echo of Zoe');
      assert.ok(media[0]!.videoWidth > 0);
      assert.deepEqual(await remoteMedia(await browser.newPage()), [], 'a page without the element has no media');
    });

    it(`${kind}: resolves no host names`, async () => {
      const browser = await launch();
      const page = await browser.newPage();
      await page.goto(baseUrl, { waitUntil: 'load', timeout: 20_000 });
      const outcome = await withTimeout(
        page.evaluate(async () => {
          try {
            await fetch('http://example.com/', { mode: 'no-cors', cache: 'no-store' });
            return 'reached example.com';
          } catch (error) {
            return `failed: ${String(error)}`;
          }
        }),
        20_000,
        'fetching example.com',
      );
      assert.match(outcome, /^failed/);
    });
  }
});
