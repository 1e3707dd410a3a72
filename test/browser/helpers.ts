/** Helpers for in-browser tests: the real relay is mounted on the test server at `/relay` (web-test-runner.config). */
import { fixture, html } from '@open-wc/testing';
import '../../src/index.js';
import type { VideoChatWarningEvent } from '../../src/events.js';
import type { VideoChatElement } from '../../src/video-chat.js';

/** URL of the real relay mounted on the test server. */
export const relayUrl = (): string => `ws://${location.host}/relay`;

let counter = 0;
/** A room name no other test uses. */
export const uniqueRoom = (prefix = 'room'): string =>
  `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

/** Polls `predicate` every 50 ms until it returns a truthy value; rejects after `timeoutMs` naming `what`. */
export async function waitFor<T>(
  what: string,
  predicate: () => T | Promise<T>,
  timeoutMs = 10_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Resolves with the next event of `type` on `target`; rejects after `timeoutMs`. */
export function nextEvent<E extends Event>(target: EventTarget, type: string, timeoutMs = 10_000): Promise<E> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} event within ${timeoutMs} ms`)), timeoutMs);
    target.addEventListener(
      type,
      (event) => {
        clearTimeout(timer);
        resolve(event as E);
      },
      { once: true },
    );
  });
}

/** Sums of inbound RTP counters in a stats report, by kind (W3C WebRTC Statistics `inbound-rtp`). */
export function inbound(
  report: RTCStatsReport | undefined,
  trackId?: string,
): { framesDecoded: number; audioPackets: number } {
  let framesDecoded = 0;
  let audioPackets = 0;
  report?.forEach((s: Record<string, unknown>) => {
    if (s['type'] !== 'inbound-rtp') return;
    if (trackId !== undefined && s['trackIdentifier'] !== trackId) return;
    if (s['kind'] === 'video') framesDecoded += Number(s['framesDecoded'] ?? 0);
    if (s['kind'] === 'audio') audioPackets += Number(s['packetsReceived'] ?? 0);
  });
  return { framesDecoded, audioPackets };
}

/** Waits until `sample()` grows between two reads at least `gapMs` apart (media is flowing, not just flowed). */
export async function waitForGrowth(
  what: string,
  sample: () => Promise<number>,
  timeoutMs = 15_000,
  gapMs = 300,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let previous = await sample();
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, gapMs));
    const current = await sample();
    if (current > previous && previous > 0) return;
    previous = current;
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} to grow (last ${previous})`);
}

/** A live video track that paints a solid colour and a moving bar (canvas capture), for tests that add tracks. */
export function canvasTrack(color: string, width = 160, height = 120): MediaStreamTrack {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
  let x = 0;
  const stream = canvas.captureStream(15);
  const track = stream.getVideoTracks()[0] as MediaStreamTrack;
  const timer = setInterval(() => {
    if (track.readyState === 'ended') return clearInterval(timer);
    ctx.fillStyle = color;
    ctx.fillRect(0, 0, width, height);
    ctx.fillStyle = '#fff';
    ctx.fillRect((x = (x + 7) % width), 0, 10, height);
  }, 66);
  return track;
}

/** The element's shadow root. */
export const shadow = (el: VideoChatElement): ShadowRoot => el.shadowRoot as ShadowRoot;

/** The first element with CSS part `name` inside `root` (default: the element's shadow root). */
export const part = <T extends Element = HTMLElement>(
  el: VideoChatElement,
  name: string,
  root: ParentNode = shadow(el),
) => root.querySelector<T>(`[part~="${name}"]`);

/**
 * The camera and microphone the element captured and sends (its MediaController's `stream`). Not the local tile's
 * `srcObject`: that shows the camera alone, in a call as a smaller clone (media/preview.ts).
 */
export const captured = (el: VideoChatElement): MediaStream | null =>
  (el as unknown as { call: { media: { stream: MediaStream | null } } }).call.media.stream;

/** A `<video-chat>` on the real relay, resolved once the relay admitted it. */
/** Two elements, Ada and Grace, admitted to `room` and both `in-call`. */
export async function inCall(room: string): Promise<[VideoChatElement, VideoChatElement]> {
  const a = await joined(room, 'Ada');
  const b = await joined(room, 'Grace');
  await waitFor('both in call', () => a.state === 'in-call' && b.state === 'in-call');
  return [a, b];
}

export async function joined(room: string, name: string): Promise<VideoChatElement> {
  const el = await fixture<VideoChatElement>(
    html`<video-chat room=${room} signal-url=${relayUrl()} name=${name}></video-chat>`,
  );
  await waitFor(`${name} to be admitted`, () => el.peerId);
  return el;
}

/**
 * Patches `window.WebSocket` (call once per test file: each file has a page of its own) so that a test can reach
 * the relay socket of an element, as a network would: every socket opened is recorded, and `reroute` may change the
 * URL a new one opens (e.g. to a path where no relay listens, for an outage). The real class does the work.
 */
export function watchRelaySockets(reroute: (url: string) => string = (url) => url): {
  sockets: WebSocket[];
  joinedWithSocket(room: string, name: string): Promise<{ el: VideoChatElement; socket: WebSocket }>;
} {
  const sockets: WebSocket[] = [];
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(reroute(String(url)), protocols);
      sockets.push(this);
    }
  } as typeof WebSocket;
  return {
    sockets,
    /** Puts a `<video-chat>` in `room` as `name`; resolves once the relay admitted it, with the socket it joined on. */
    async joinedWithSocket(room, name) {
      const before = sockets.length;
      const el = await fixture<VideoChatElement>(
        html`<video-chat room=${room} signal-url=${relayUrl()} name=${name}></video-chat>`,
      );
      await waitFor(`${name} to be admitted`, () => el.peerId);
      return { el, socket: sockets[before] as WebSocket };
    },
  };
}

/**
 * Records every `vc-warning` of the page (they bubble to the document) during each test of the calling `describe`
 * (its own mocha beforeEach/afterEach). `events` is the current test's list; `shown()` a readable dump for messages.
 */
export function recordWarnings(): { readonly events: readonly VideoChatWarningEvent[]; shown(): string } {
  let events: VideoChatWarningEvent[] = [];
  const record = (event: VideoChatWarningEvent): void => void events.push(event);
  beforeEach(() => {
    events = [];
    document.addEventListener('vc-warning', record);
  });
  afterEach(() => document.removeEventListener('vc-warning', record));
  return {
    get events() {
      return events;
    },
    shown: () => events.map((w) => `${w.code} ${w.peerId}: ${w.message}`).join('\n'),
  };
}

/** The secret of the token-requiring relay at /relay-token (web-test-runner.config.mjs). */
export const TOKEN_SECRET = 'element-tests-token-secret-0123456789abcdef';
/** URL of the token-requiring relay mounted on the test server. */
export const tokenRelayUrl = (): string => `ws://${location.host}/relay-token`;

const b64url = (bytes: Uint8Array | string) =>
  btoa(typeof bytes === 'string' ? bytes : String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

/** Mints an HS256 room token (RFC 7519) for /relay-token as a site's backend would, here with WebCrypto. */
export async function mintToken(claims: Record<string, unknown>): Promise<string> {
  const input = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(TOKEN_SECRET),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const signature = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(input)));
  return `${input}.${b64url(signature)}`;
}

/**
 * Records every RTCPeerConnection the page creates from now on (a spy: `window.RTCPeerConnection` becomes a subclass
 * of the real class, so the connections are real). Call once per test file, at module level.
 */
export function recordConnections(): readonly RTCPeerConnection[] {
  const connections: RTCPeerConnection[] = [];
  const NativePC = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends NativePC {
    constructor(config?: RTCConfiguration) {
      super(config);
      connections.push(this);
    }
  } as typeof RTCPeerConnection;
  return connections;
}
