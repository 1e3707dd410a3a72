/**
 * The public data shapes of `<video-chat>`: what its properties and events carry. Plain types, no code; the element,
 * its events and the call layer all take them from here.
 *
 * @module
 */

/** The visible state of the call. */
export type CallState =
  /** Not in a room: attributes missing, or after `leave()`. */
  | 'idle'
  /** Opening the relay connection and the camera. */
  | 'connecting'
  /**
   * A guest waiting outside the room for a host to let it in (it knocked: docs/protocol.md "Hosts and guests"); the
   * element shows the waiting screen. Admitted: `waiting` or `in-call`; refused: `error` (`denied`, `knock-timeout`).
   */
  | 'knocking'
  /** In the room, nobody else is there. */
  | 'waiting'
  /** In the room with at least one other peer. */
  | 'in-call'
  /** The relay connection dropped; trying again. Media between peers keeps flowing. */
  | 'reconnecting'
  /** Cannot go on (see the `vc-error` event or the element's `error`). */
  | 'error';

/** A chat message as shown: `peerId` null for this visitor's own messages. */
export interface ChatEntry {
  readonly id: string;
  readonly peerId: string | null;
  readonly name: string;
  /** Plain text, never HTML. */
  readonly text: string;
  /** When it was sent (sender's clock), ms since the epoch. */
  readonly sentAt: number;
}

/** A connection's quality at a glance, from the figures of {@link ConnectionQuality} (thresholds in `call/call-stats.ts`). */
export type QualityLevel = 'good' | 'fair' | 'poor';

/** One peer's connection over the last quality window (2 s: `QUALITY_WINDOW_MS` in `call/call-stats.ts`). */
export interface ConnectionQuality {
  level: QualityLevel;
  /**
   * Round-trip time in ms: the selected ICE candidate pair's `currentRoundTripTime`, else RTCP's (`remote-inbound-rtp`
   * `roundTripTime`); null while neither is known.
   */
  rttMs: number | null;
  /** Fraction (0–1) of the peer's RTP packets lost (`inbound-rtp` `packetsLost` / `packetsReceived` deltas). */
  loss: number;
  /** Media received from the peer in kbps (`inbound-rtp` `bytesReceived` deltas, all kinds); null when it sends none. */
  kbps: number | null;
}

/** The embed doctor's result (`diagnose()`): `EmbedDiagnosis`, `DiagnosisCheck`, `DiagnosisCode`, … (src/diagnosis.ts). */
export type * from './diagnosis.js';
