/**
 * The data channel wire: what two `<video-chat>` elements say to each other over their RTCDataChannel (W3C WebRTC
 * §6; one negotiated channel per peer connection, `DATA_CHANNEL` in `./negotiation.ts`). The relay never sees these
 * messages. JSON text messages; every received one goes through {@link parsePeerMessage}. No DOM, no Node.
 *
 * - `state`: the sender's microphone and camera are on or off. Sent when the channel opens and on every change, so the
 *   receiver always shows the current state (a newer `state` replaces the older one).
 * - `chat`: a text chat message. `text` is plain text (never interpreted as HTML), 1–{@link MAX_CHAT_LENGTH}
 *   characters; `sentAt` is the sender's clock in ms since the epoch (for display only).
 * - `signal`: a negotiation message for this pair (`data`: exactly what a relay `signal.data` would carry, see
 *   `./negotiation.ts`; parsed there by the receiving session). Once the pair's channel is open, their offers, answers,
 *   candidates and restart requests travel here instead of through the relay, which is then only the fallback.
 * - `rebind`: "I am now `id`": the sender lost its place at the relay (a relay restart, a resume refused) and joined
 *   again under the new relay ID `id` (a peer ID, `PEER_ID_PATTERN`). Sent once on each open channel after that fresh
 *   `welcome`, so that the receiver keeps this connection under the new ID instead of rebuilding it
 *   (`call/roster.ts`; docs/decisions/0006-rebind-after-a-relay-restart.md).
 * - `view`: how large the receiver shows the sender's camera video, in device pixels (`width` × `height`, each
 *   rounded up to one of a few sizes by the receiver: `VIEW_SIZES` of `ui/view-observer.ts`), or `hidden: true` when it shows none of it (tile not
 *   rendered, scrolled away, background tab, audio-only). The sender fits that connection's camera encoding to it
 *   (`call/receiver-view.ts`); a peer that never sends one gets the governor's caps alone. Debounced by the receiver.
 * - `hand`, `lower-hand`, `reaction` (docs/protocol.md "Hosts and guests"): the sender raised or lowered its hand; a
 *   host asks everyone to show participant `id`'s hand lowered (receivers check the sender is a host); a reaction of
 *   1–{@link MAX_REACTION_LENGTH} characters shown briefly on the sender's tile. `call/hosts.ts` handles them.
 *
 * @module
 */
import { bad, isObject, type ParseResult } from './parse.js';
import { MAX_MESSAGE_BYTES, PEER_ID_PATTERN, type SignalData } from './relay.js';

/** Longest chat message, in characters (UTF-16 code units). */
export const MAX_CHAT_LENGTH = 2000;

/** Largest data channel message accepted, in bytes of JSON: a full chat message plus its envelope. */
export const MAX_PEER_MESSAGE_BYTES = 16 * 1024;

/** Largest `signal` message accepted, in bytes of JSON: the relay's own frame limit (an SDP offer fits in either). */
export const MAX_PEER_SIGNAL_BYTES = MAX_MESSAGE_BYTES;

/** Largest accepted distance between a chat message's `sentAt` and the receive time: one day, in ms. */
export const MAX_CLOCK_SKEW_MS = 86_400_000;

/** Longest chat message ID, in characters. */
export const MAX_CHAT_ID_LENGTH = 64;

/**
 * Receive rate limit per peer and message type (`chat`, `state`, `view`, `rebind`): a token bucket of `burst` messages refilled at
 * `perSecond` messages per second. Messages beyond it are dropped (and reported once per burst of drops).
 */
export const PEER_RECEIVE_LIMIT = { perSecond: 10, burst: 20 } as const;

/**
 * Receive rate limit of `signal` messages per peer (a token bucket as {@link PEER_RECEIVE_LIMIT}): an ICE restart or a
 * renegotiation is an offer, an answer and some tens of candidates at most, well within the burst.
 */
export const SIGNAL_RECEIVE_LIMIT = { perSecond: 20, burst: 100 } as const;

export interface PeerStateMessage {
  type: 'state';
  microphone: boolean;
  camera: boolean;
}

export interface PeerChatMessage {
  type: 'chat';
  /** Sender-chosen ID, unique per sender (for de-duplication and keys). */
  id: string;
  text: string;
  /** Sender's clock, ms since the epoch; on receipt, within {@link MAX_CLOCK_SKEW_MS} of the receiver's clock. */
  sentAt: number;
}

export interface PeerSignalMessage {
  type: 'signal';
  /** A negotiation message (`NegotiationMessage` of `./negotiation.ts`), unparsed: the receiving session parses it. */
  data: SignalData;
}

export interface PeerRebindMessage {
  type: 'rebind';
  /** The sender's new relay ID (from its fresh `welcome`), a peer ID as `PEER_ID_PATTERN` of `./relay.ts`. */
  id: string;
}

/** Largest `view.width`/`view.height` accepted, in device pixels (8K). */
export const MAX_VIEW_PX = 8192;

export interface PeerViewMessage {
  type: 'view';
  /** Shown size of the sender's camera video, device pixels, 1–{@link MAX_VIEW_PX}; 0 × 0 when `hidden`. */
  width: number;
  height: number;
  /** The receiver shows none of it: the sender may pause that connection's camera. */
  hidden: boolean;
}

/** Longest reaction, in characters (UTF-16 code units): one emoji with its modifiers. */
export const MAX_REACTION_LENGTH = 16;

export interface PeerHandMessage {
  type: 'hand';
  raised: boolean;
}

export interface PeerLowerHandMessage {
  type: 'lower-hand';
  /** Whose hand (a peer ID): accepted only from a host. */
  id: string;
}

export interface PeerReactionMessage {
  type: 'reaction';
  /** 1–{@link MAX_REACTION_LENGTH} characters, shown as text. */
  emoji: string;
}

export type PeerMessage =
  | PeerStateMessage
  | PeerChatMessage
  | PeerSignalMessage
  | PeerRebindMessage
  | PeerHandMessage
  | PeerLowerHandMessage
  | PeerReactionMessage
  | PeerViewMessage;

/** The largest time a `Date` can hold, in ms from the epoch either way (ECMA-262 §21.4.1.1). */
const MAX_DATE_MS = 8.64e15;

/**
 * Parses one data channel message from a peer: JSON text of at most {@link MAX_PEER_MESSAGE_BYTES} characters
 * ({@link MAX_PEER_SIGNAL_BYTES} for a `signal`, whose `data` must be an object and is passed on as it is), an
 * object of a known `type` with fields of the right types and lengths (extra fields are dropped; the result is a new
 * plain object). Never throws.
 * @param now The receive time, ms since the epoch: a chat `sentAt` further than {@link MAX_CLOCK_SKEW_MS} from it is
 *   replaced by it. Default `Date.now()`.
 */
export function parsePeerMessage(raw: unknown, now: number = Date.now()): ParseResult<PeerMessage> {
  if (typeof raw !== 'string') return bad('peer messages must be JSON text');
  if (raw.length > MAX_PEER_SIGNAL_BYTES) return bad('peer message is too large');
  let m: unknown;
  try {
    m = JSON.parse(raw);
  } catch {
    return bad('peer message is not valid JSON');
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return bad('peer message must be a JSON object');
  const o = m as Record<string, unknown>;
  if (o['type'] === 'signal') {
    return isObject(o['data'])
      ? { ok: true, value: { type: 'signal', data: o['data'] } }
      : bad('signal.data must be an object');
  }
  if (raw.length > MAX_PEER_MESSAGE_BYTES) return bad('peer message is too large');
  switch (o['type']) {
    case 'state':
      if (typeof o['microphone'] !== 'boolean' || typeof o['camera'] !== 'boolean') {
        return bad('state.microphone and state.camera must be booleans');
      }
      return { ok: true, value: { type: 'state', microphone: o['microphone'], camera: o['camera'] } };
    case 'chat': {
      const { id, text, sentAt } = o;
      if (typeof id !== 'string' || id.length === 0 || id.length > MAX_CHAT_ID_LENGTH) {
        return bad(`chat.id must be 1-${MAX_CHAT_ID_LENGTH} characters`);
      }
      if (typeof text !== 'string' || text.trim().length === 0 || text.length > MAX_CHAT_LENGTH) {
        return bad(`chat.text must be 1-${MAX_CHAT_LENGTH} characters`);
      }
      if (typeof sentAt !== 'number' || !(Math.abs(sentAt) <= MAX_DATE_MS)) {
        return bad('chat.sentAt must be a time in ms since the epoch');
      }
      // The sender's clock is shown, not trusted: far off (or chosen to be), it becomes the receive time.
      const shown = Math.abs(sentAt - now) > MAX_CLOCK_SKEW_MS ? now : sentAt;
      return { ok: true, value: { type: 'chat', id, text, sentAt: shown } };
    }
    case 'rebind': {
      const { id } = o;
      return typeof id === 'string' && PEER_ID_PATTERN.test(id)
        ? { ok: true, value: { type: 'rebind', id } }
        : bad('rebind.id must be a peer id');
    }
    case 'view': {
      const { width, height } = o;
      if (o['hidden'] === true) return { ok: true, value: { type: 'view', width: 0, height: 0, hidden: true } };
      const size = (x: unknown): x is number =>
        Number.isInteger(x) && (x as number) > 0 && (x as number) <= MAX_VIEW_PX;
      return size(width) && size(height)
        ? { ok: true, value: { type: 'view', width, height, hidden: false } }
        : bad(`view.width and view.height must be integers 1-${MAX_VIEW_PX}, or view.hidden true`);
    }
    case 'hand':
      return typeof o['raised'] == 'boolean'
        ? { ok: true, value: { type: 'hand', raised: o['raised'] } }
        : bad('hand.raised must be a boolean');
    case 'lower-hand': {
      const { id } = o;
      return typeof id == 'string' && PEER_ID_PATTERN.test(id)
        ? { ok: true, value: { type: 'lower-hand', id } }
        : bad('lower-hand.id must be a peer id');
    }
    case 'reaction': {
      const { emoji } = o;
      return typeof emoji == 'string' && emoji.trim() && emoji.length <= MAX_REACTION_LENGTH
        ? { ok: true, value: { type: 'reaction', emoji } }
        : bad(`reaction.emoji must be 1-${MAX_REACTION_LENGTH} characters`);
    }
    default:
      return bad('unknown peer message type');
  }
}
