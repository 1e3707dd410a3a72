/**
 * Smoke test of the element-test setup itself (web-test-runner.config.mjs), in every configured browser: the page is
 * a secure context, the fake camera delivers frames, and the relay is mounted at /relay and speaks protocol v1.
 */
import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import { parseServerMessage } from '../../../src/protocol/relay.js';

/** Resolves once `ws` is open; rejects on error, close or after `timeoutMs`. */
function opened(ws: WebSocket, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`WebSocket not open after ${timeoutMs} ms`)), timeoutMs);
    ws.addEventListener('open', () => {
      clearTimeout(timer);
      resolve();
    });
    ws.addEventListener('error', () => {
      clearTimeout(timer);
      reject(new Error(`WebSocket to ${ws.url} failed`));
    });
  });
}

/** The next text frame `ws` receives, or a rejection after `timeoutMs`. */
function nextMessage(ws: WebSocket, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message within ${timeoutMs} ms`)), timeoutMs);
    ws.addEventListener(
      'message',
      (event: MessageEvent) => {
        clearTimeout(timer);
        resolve(event.data);
      },
      { once: true },
    );
    ws.addEventListener('close', (event: CloseEvent) => {
      clearTimeout(timer);
      reject(new Error(`socket closed (${event.code}) before a message arrived`));
    });
  });
}

describe('test setup smoke test', () => {
  it('runs in a secure context served from 127.0.0.1', () => {
    expect(window.isSecureContext).to.equal(true);
    expect(location.hostname).to.equal('127.0.0.1');
  });

  it('gets a live fake camera track that delivers frames', async () => {
    const stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    try {
      const [video] = stream.getVideoTracks();
      expect(video, 'video track').to.not.equal(undefined);
      expect(video!.readyState).to.equal('live');
      expect(stream.getAudioTracks()).to.have.length(1);

      const el = await fixture<HTMLVideoElement>(html`<video muted autoplay playsinline .srcObject=${stream}></video>`);
      await waitUntil(() => el.videoWidth > 0, 'the fake camera delivered no frame', { timeout: 10_000 });
      expect(el.videoHeight).to.be.greaterThan(0);
    } finally {
      for (const track of stream.getTracks()) track.stop();
    }
  });

  it('opens a WebSocket to the relay at /relay and joins a room', async () => {
    const ws = new WebSocket(`ws://${location.host}/relay`);
    try {
      await opened(ws, 10_000);
      const reply = nextMessage(ws, 10_000);
      ws.send(JSON.stringify({ type: 'join', room: `smoke-${Math.random().toString(36).slice(2)}`, name: 'smoke' }));
      const parsed = parseServerMessage(await reply);
      expect(parsed.ok, JSON.stringify(parsed)).to.equal(true);
      if (parsed.ok) {
        expect(parsed.value.type).to.equal('welcome');
        if (parsed.value.type === 'welcome') expect(parsed.value.peers).to.deep.equal([]);
      }
    } finally {
      ws.close();
    }
  });
});
