/**
 * The one error type of the widget: a fixed set of codes, a readable message for people, and the underlying cause.
 */

/**
 * Every code a {@link VideoChatError} may carry.
 * - `permission-denied`: the visitor (or the browser policy) refused camera/microphone access.
 * - `insecure-context`: the page is not a secure context (W3C Secure Contexts: plain `http:` on a host other than
 *   localhost), where browsers offer no camera or microphone at all. The site must be served over HTTPS.
 * - `blocked-by-page`: the page's Permissions-Policy allows neither camera nor microphone (e.g. an `<iframe>` without
 *   `allow="camera; microphone"`). The site owner must allow them; the visitor cannot.
 * - `no-device`: no camera or microphone exists.
 * - `device-busy`: the device exists but could not be started (in use by another program).
 * - `device-lost`: the camera or microphone stopped during the call (unplugged, or taken by the system).
 * - `relay-unreachable`: the WebSocket to the relay could not be opened or kept.
 * - `origin-refused`: the relay has an origin allowlist and this page's origin is not on it (close code 4003). Its
 *   operator must add the origin (`--allowed-origins`).
 * - `room-full`: the room is at capacity.
 * - `unauthorized`: the relay requires a room token and the `token` attribute is missing, expired or for another room.
 * - `relay-error`: the relay answered with any other error (see `cause`).
 * - `bad-config`: missing or invalid attributes (e.g. a non-JSON `ice-servers`).
 * - `peer-unreachable`: a connection to one peer could not be established after retries.
 * - `denied`, `knock-timeout`: this guest knocked and a host refused it, or nobody let it in within the relay's
 *   waiting time. `room-locked`: a host locked the room. `removed`: a host removed this visitor (or its token, when
 *   rejoining); no "Try again". `call-ended`: a host ended the call for everyone (docs/protocol.md "Hosts and guests").
 * - `chunk-failed`: a file of the element that is loaded on demand (`video-chat-<name>-<hash>.js`: the call engine, a
 *   panel, a language, …) could not be fetched; the message names its URL. Every file of `dist/` (one build) must be
 *   served next to `video-chat.js`, and a Content-Security-Policy must allow them (`script-src`). Fatal for the call
 *   when the call needs it (the engine, the SFU); otherwise only that part is missing. Tried once more on next use
 *   (src/chunk.ts).
 */
export type VideoChatErrorCode =
  | 'permission-denied'
  | 'insecure-context'
  | 'blocked-by-page'
  | 'no-device'
  | 'device-busy'
  | 'device-lost'
  | 'relay-unreachable'
  | 'origin-refused'
  | 'room-full'
  | 'unauthorized'
  | 'relay-error'
  | 'bad-config'
  | 'peer-unreachable'
  | 'denied'
  | 'knock-timeout'
  | 'room-locked'
  | 'removed'
  | 'call-ended'
  | 'chunk-failed';

/** An error with a machine-readable {@link VideoChatErrorCode}, a human-readable message and an optional cause. */
export class VideoChatError extends Error {
  override readonly name = 'VideoChatError';
  readonly code: VideoChatErrorCode;

  constructor(code: VideoChatErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * Maps a getUserMedia rejection (W3C Media Capture and Streams §10: `NotAllowedError`, `NotFoundError`,
 * `NotReadableError`, `OverconstrainedError`, …) to a {@link VideoChatError}.
 */
export function mediaError(cause: unknown): VideoChatError {
  const name = cause instanceof Error ? cause.name : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return new VideoChatError(
        'permission-denied',
        'Camera and microphone access was denied. You can still watch and listen.',
        { cause },
      );
    case 'NotFoundError':
    case 'OverconstrainedError':
      return new VideoChatError('no-device', 'No camera or microphone was found. You can still watch and listen.', {
        cause,
      });
    default:
      return new VideoChatError(
        'device-busy',
        'The camera or microphone could not be started (is another program using it?). You can still watch and listen.',
        { cause },
      );
  }
}

/**
 * The codes no "Try again" can mend: the page or its configuration must change (HTTPS, the Permissions-Policy, the
 * element's attributes, the room token). The error banner shows no retry button for them.
 */
export const SITE_OWNER_ERRORS: ReadonlySet<VideoChatErrorCode> = new Set<VideoChatErrorCode>([
  'insecure-context',
  'blocked-by-page',
  'origin-refused',
  'bad-config',
  'unauthorized',
]);

/** The error for a page where browsers offer no camera or microphone (not a secure context). */
export function insecureContextError(): VideoChatError {
  return new VideoChatError(
    'insecure-context',
    'Camera and microphone need HTTPS: serve this site over https:// (or localhost). You can still watch and listen.',
  );
}

/** The error for a relay that refuses this page's origin (`origin`, e.g. `https://blog.example`). */
export function originRefusedError(origin: string): VideoChatError {
  return new VideoChatError(
    'origin-refused',
    `The video chat server does not accept calls from this site (${origin}): add it to its --allowed-origins.`,
  );
}

/** The error for a page whose Permissions-Policy allows neither camera nor microphone. */
export function blockedByPageError(): VideoChatError {
  return new VideoChatError(
    'blocked-by-page',
    'This page does not allow camera and microphone use (its Permissions-Policy, or an iframe without ' +
      'allow="camera; microphone"). You can still watch and listen.',
  );
}

/** The error for a camera (`video`) or microphone (`audio`) whose track ended by itself (W3C Media Capture §4.3.1.2). */
export function deviceLostError(kind: 'audio' | 'video'): VideoChatError {
  return new VideoChatError('device-lost', `Your ${kind === 'video' ? 'camera' : 'microphone'} stopped (unplugged?).`);
}

/** Maps a getDisplayMedia rejection (W3C Screen Capture §5.1) to a {@link VideoChatError} about screen sharing. */
export function screenShareError(cause: unknown): VideoChatError {
  const name = cause instanceof Error ? cause.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError') {
    return new VideoChatError('permission-denied', 'Screen sharing was blocked by the browser.', { cause });
  }
  if (name === 'InvalidStateError') {
    // Firefox: getDisplayMedia needs a fresh click (transient user activation).
    return new VideoChatError('permission-denied', 'Screen sharing must be started with a click on the share button.', {
      cause,
    });
  }
  if (name === 'NotFoundError' || name === 'NotSupportedError') {
    return new VideoChatError('no-device', 'There is no screen that can be shared here.', { cause });
  }
  return new VideoChatError('device-busy', `The screen could not be shared (${name || 'unknown error'}).`, { cause });
}

/**
 * Every code a warning (`vc-warning`, `VideoChatWarningEvent` in events.ts) may carry: something went wrong with one
 * peer that the call survives (it recovers by itself or ignores the input), which a visitor is not shown.
 * - `bad-signal`: a negotiation payload from the peer (inside a relay `signal`) was malformed; it was dropped.
 * - `bad-peer-message`: a data channel message from the peer was malformed; it was dropped.
 * - `peer-flood`: the peer sent more data channel messages of one type than the receive limit allows; the excess was
 *   dropped.
 * - `negotiation-failed`: setting a local or remote description failed (the watchdog recreates the connection if it
 *   stays down).
 * - `candidate-rejected`: an ICE candidate from the peer was rejected (`addIceCandidate`).
 * - `encoding-failed`: the bandwidth caps could not be applied to a sender (`RTCRtpSender.setParameters`).
 * - `connection-refused`: the browser refused to create an RTCPeerConnection (e.g. too many); the watchdog retries.
 * - `signal-dropped`: a negotiation message for the peer that had to go through the relay while it was away was
 *   dropped: its queue was full, or the relay lost our place (a fresh welcome); the watchdogs renegotiate.
 * - `sfu-failed`: in a room on the SFU (peer ID `"sfu"`), a step of the publishing or subscribing connection failed,
 *   or the relay reported that the media server refused or failed (the message says which).
 * - `weak-uplink`: the connection to the peer has measured (`availableOutgoingBitrate`) less room for our video than
 *   a camera copy's floor (150 kbps) for about a second; the peer's quality shows `poor` until it recovers. The
 *   message gives the kbps. The page may offer the visitor `audio-only` (docs/bandwidth.md).
 */
export type VideoChatWarningCode =
  | 'bad-signal'
  | 'bad-peer-message'
  | 'peer-flood'
  | 'negotiation-failed'
  | 'candidate-rejected'
  | 'encoding-failed'
  | 'connection-refused'
  | 'signal-dropped'
  | 'sfu-failed'
  | 'weak-uplink';

/** A non-fatal failure with one peer, as the lower layers report it (the call adds the peer and fires `vc-warning`). */
export interface Warning {
  readonly code: VideoChatWarningCode;
  /**
   * What failed, in English, for developers (logs, not the visitor): the parser's reason for a malformed message,
   * the browser method that threw (e.g. `addIceCandidate`) for a refused step, the message type (`chat`, `state`)
   * for a flood.
   */
  readonly message: string;
  /** The underlying exception (a `DOMException` from the browser) or the parser's error, if any. */
  readonly cause?: unknown;
}
