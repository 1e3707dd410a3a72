/**
 * The call layer's own shapes: a remote participant as the UI shows it, and what the call needs from its host (the
 * element). Types only, so that the call's parts (controller, stats loop) and the templates share them without
 * importing one another.
 *
 * @module
 */
import type { PeerSessionState } from '../negotiation/peer-session.js';
import type { PeerInfo } from '../protocol/relay.js';

/** A remote participant as the UI shows it. */
export interface RemotePeer extends PeerInfo {
  /** Camera and microphone of the peer (tracks come and go; the stream object stays). */
  readonly stream: MediaStream;
  /** The peer's screen share, or null. */
  screen: MediaStream | null;
  /**
   * The connection to this peer ({@link PeerSessionState}): `connecting` before it first connects; `connected`;
   * `reconnecting` while a connection that was up is interrupted and being recovered (ICE restart, recreation);
   * `failed` when it could not be (re)established (a `peer-unreachable` error was fired; retries go on every few
   * seconds and it returns to `connected` by itself if the peer becomes reachable). Other peers are not affected.
   */
  connection: PeerSessionState;
  /** The peer's microphone / camera as it last told us; null until it did. */
  microphone: boolean | null;
  camera: boolean | null;
}

/** What the call layer needs from the element that shows it. */
export interface CallHost {
  /** Something shown changed. */
  requestUpdate(): void;
  /** Fires one of the typed events of `events.ts`. */
  dispatch(event: Event): void;
}
