/**
 * The options, states and defaults of a `PeerSession` (`peer-session.ts`, which re-exports them): the shapes a
 * caller gives and reads. Types and constants only, no DOM.
 *
 * @module
 */
import type { Warning } from '../errors.js';
import type { TrackKind } from '../protocol/negotiation.js';
import type { SignalData } from '../protocol/relay.js';
import type { EncodingCaps } from './bandwidth.js';

/**
 * Coarse state of the session, for the UI: `connecting` until first connected; `connected`; `reconnecting` while a
 * connection that was up is disconnected or being restarted; `failed` when quick recovery gave up (slow retries go
 * on, and the session returns to `connected` if one succeeds); `closed` after `PeerSession.close`.
 */
export type PeerSessionState = 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'closed';

export interface PeerSessionOptions {
  /** The remote peer's ID (for logs and errors only). */
  peerId: string;
  /** True when this side makes the first offer (the newcomer). */
  initiator: boolean;
  /** Polite side of perfect negotiation: rolls back its own offer on glare. Default: `initiator`. */
  polite?: boolean;
  /** ICE servers for the RTCPeerConnection (W3C WebRTC RTCConfiguration.iceServers). */
  iceServers: RTCIceServer[];
  /** Restricts ICE candidates, e.g. `'relay'` for TURN only. Default `'all'`. */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /**
   * Delivers a negotiation message (the relay's opaque `signal.data`, see `protocol/negotiation.ts`) to the
   * counterpart session, whose `PeerSession.receive` takes it. Must not throw.
   */
  send: (data: SignalData) => void;
  /** Local tracks to send from the start, by kind. */
  tracks?: Partial<Record<TrackKind, MediaStreamTrack | null>>;
  /**
   * How long a connection may make no progress (not yet connected and no description applied, or
   * `disconnected`/`failed`) before it is recreated, in ms; also the grace period of a transient `disconnected`, and
   * how long an offer waits for its answer before it is sent again. Default 10000.
   */
  watchdogMs?: number;
  /** How many times in a row the watchdog may recreate the connection before the session is `failed`. Default 3. */
  maxRestarts?: number;
  /** Once `failed`, how often the connection is recreated again (slow retry), in ms. Default 15000. */
  retryMs?: number;
  /**
   * The caps for the sender of `kind` now sending `track` (see `bandwidth.ts`), or undefined to leave it alone.
   * Asked after every completed negotiation, after `PeerSession.setTrack` and on
   * `PeerSession.applyEncodingCaps`.
   */
  encodingCaps?: (kind: TrackKind, track: MediaStreamTrack | null) => EncodingCaps | undefined;
  /** Called when the set of remote tracks changes; `tracks` maps kind → live remote track. */
  onRemoteTracks?: (tracks: ReadonlyMap<TrackKind, MediaStreamTrack>) => void;
  /** Called on every {@link PeerSessionState} change. */
  onStateChange?: (state: PeerSessionState) => void;
  /**
   * Called with every text message from the peer's data channel, unparsed (binary messages are dropped and reported
   * as `bad-peer-message`).
   */
  onChannelText?: (text: string) => void;
  /** Called each time the data channel opens (also after the connection was recreated). */
  onChannelOpen?: () => void;
  /**
   * Called for every failure that does not end the session, with its code: `bad-signal` (a malformed payload, dropped),
   * `bad-peer-message` (a binary data channel message), `negotiation-failed` (setLocalDescription or
   * setRemoteDescription rejected), `candidate-rejected` (addIceCandidate rejected), `encoding-failed`
   * (setParameters rejected), `connection-refused` (the browser would not create the RTCPeerConnection). Must not
   * throw.
   */
  onError?: (warning: Warning) => void;
}

/** Defaults of {@link PeerSessionOptions}: `watchdogMs`, `maxRestarts`, `retryMs`. */
export const SESSION_DEFAULTS = { watchdogMs: 10_000, maxRestarts: 3, retryMs: 15_000 } as const;
