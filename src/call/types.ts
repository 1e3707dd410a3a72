/**
 * The call layer's own shapes: the options of a call, a remote participant as the UI shows it, and what the call
 * needs from its host (the element). Types only, so that the call's parts (controller, stats loop) and the templates share them without
 * importing one another.
 *
 * @module
 */
import type { BandwidthBudget } from '../negotiation/bandwidth.js';
import type { PeerSessionState } from '../negotiation/peer-session.js';
import type { PeerInfo } from '../protocol/relay.js';

/**
 * A remote participant as the UI shows it. Its `id` is the one the current relay knows it by: after a relay restart
 * it changes in place when the peer rebinds (`roster.ts`), the object, its stream and its tile stay.
 */
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

/** What `CallController.join` needs to join a room. */
export interface CallOptions {
  /** `ws:`/`wss:` URL of the relay. */
  signalUrl: string;
  /** Room name (1–64 characters of `A-Z a-z 0-9 _ - .`, checked by the relay). */
  room: string;
  /** Display name, at most 64 characters. */
  name: string;
  /** Room token (a JWT from the site's backend) when the relay requires one. */
  token?: string | undefined;
  /** Overrides the relay's ICE servers when set. */
  iceServers?: RTCIceServer[] | undefined;
  /** Restricts ICE candidates (W3C WebRTC RTCConfiguration), e.g. `'relay'` for TURN only. Default `'all'`. */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /** Negotiation watchdog, in ms (see {@link PeerSession}). */
  watchdogMs?: number;
  /**
   * The bandwidth governor's budgets (kbps; defaults in `DEFAULT_BUDGET` of negotiation/bandwidth.ts, reasons in
   * docs/bandwidth.md): every video sender is capped from the number of peers in the call.
   */
  bandwidth?: Partial<BandwidthBudget> | undefined;
  /**
   * The most people (this visitor included) to join a call with: a welcome listing this many or more others is left
   * at once with a `room-full` error. Unset, 0 or NaN: no limit (the relay's own limit still applies).
   */
  maxPeers?: number | undefined;
  /**
   * `mesh`: never take part in a room on the relay's SFU (`join.caps` without `sfu`: the room stays a mesh, or this
   * visitor is refused from a room already on the SFU). Otherwise (`auto`, the default) the relay decides.
   */
  mediaMode?: string | undefined;
}
