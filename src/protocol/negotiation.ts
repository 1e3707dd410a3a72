/**
 * The peer↔peer negotiation wire: what two peer sessions put inside `signal.data` (relay-opaque; the relay forwards
 * it without reading it). Offers and answers (RFC 8829 JSEP), trickle ICE candidates (RFC 8838) and restart requests,
 * each stamped with the connection generation. Also the one negotiated data channel both sides create. No DOM, no
 * Node; the prose version is the "Negotiation payload" section of `docs/protocol.md`.
 *
 * @module
 */
import { bad, isObject, isString, ok, type ParseResult } from './parse.js';
import type { SignalData } from './relay.js';

/** Data channel label and id (W3C WebRTC §6, negotiated out of band: both sides create it, no extra offer/answer). */
export const DATA_CHANNEL = { label: 'video-chat', id: 0 } as const;

/** Which local source a transceiver carries. Sent with descriptions so the far side can tell camera from screen. */
export const TRACK_KINDS = ['audio', 'video', 'screen'] as const;
export type TrackKind = (typeof TRACK_KINDS)[number];

/** An SDP description (RFC 8829 JSEP). */
export interface SessionDescription {
  type: 'offer' | 'answer';
  sdp: string;
}

/** An ICE candidate as in W3C WebRTC `RTCIceCandidateInit`. */
export interface IceCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

/**
 * What one peer session sends to its counterpart through `signal.data`.
 * - `gen`: connection generation. A peer connection that is recreated (watchdog) gets a higher one; messages of an
 *   older generation are stale and dropped, a newer one makes the receiver recreate its side too. Absent on the
 *   wire means 0 (a peer that never recreates its connection need not send it); `null` or any non-integer is refused.
 * - exactly one of `description` (with `media`: mid → {@link TrackKind}; absent means `{}`, and a mid it does not
 *   name is taken for what its track's kind says, see `transceivers.ts`), `candidate` (`null` = end of candidates),
 *   or `restart`: `true` asks the offering side to recreate the connection, `'ice'` asks it for an ICE restart
 *   (W3C WebRTC `restartIce()`, RFC 8445 §9) after the asker's connection failed.
 */
export interface NegotiationMessage {
  gen: number;
  description?: SessionDescription;
  media?: Record<string, TrackKind>;
  candidate?: IceCandidate | null;
  restart?: true | 'ice';
}

// ---- parsing ----

function isCandidate(v: unknown): v is IceCandidate {
  if (!isObject(v) || !isString(v['candidate'])) return false;
  const mid = v['sdpMid'],
    index = v['sdpMLineIndex'],
    ufrag = v['usernameFragment'];
  return (
    (mid === undefined || mid === null || isString(mid)) &&
    (index === undefined || index === null || (Number.isInteger(index) && (index as number) >= 0)) &&
    (ufrag === undefined || ufrag === null || isString(ufrag))
  );
}

/** Parses the `data` of a signal from another peer into a {@link NegotiationMessage}. */
export function parseNegotiationMessage(data: SignalData): ParseResult<NegotiationMessage> {
  // A peer that does not recreate connections may leave `gen` out: it means generation 0 (docs/protocol.md).
  const gen = data['gen'] === undefined ? 0 : data['gen'];
  if (!Number.isSafeInteger(gen) || (gen as number) < 0) return bad('negotiation.gen must be a non-negative integer');
  const message: NegotiationMessage = { gen: gen as number };
  const parts = ['description', 'candidate', 'restart'].filter((k) => data[k] !== undefined);
  if (parts.length !== 1) return bad('negotiation message needs exactly one of description, candidate, restart');
  if (data['description'] !== undefined) {
    const d = data['description'];
    if (!isObject(d) || (d['type'] !== 'offer' && d['type'] !== 'answer') || !isString(d['sdp'])) {
      return bad('negotiation.description must be an offer or answer with sdp');
    }
    message.description = { type: d['type'], sdp: d['sdp'] };
    const media = data['media'] ?? {};
    if (!isObject(media) || !Object.values(media).every((k) => (TRACK_KINDS as readonly unknown[]).includes(k))) {
      return bad('negotiation.media must map mids to track kinds');
    }
    message.media = media as Record<string, TrackKind>;
  } else if (data['candidate'] !== undefined) {
    const c = data['candidate'];
    if (c !== null && !isCandidate(c)) return bad('negotiation.candidate must be an ICE candidate or null');
    message.candidate = c;
  } else {
    const restart = data['restart'];
    if (restart !== true && restart !== 'ice') return bad("negotiation.restart must be true or 'ice'");
    message.restart = restart;
  }
  return ok(message);
}
