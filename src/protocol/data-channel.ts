/**
 * The peer-to-peer wire: what two `<video-chat>` elements say to each other over their RTCDataChannel (W3C WebRTC §6,
 * one negotiated channel per peer connection: `DATA_CHANNEL` in `./negotiation.ts`). The relay never sees these messages. JSON
 * text messages; every received one goes through {@link parsePeerMessage}. No DOM, no Node.
 *
 * - `state`: the sender's microphone and camera are on or off. Sent when the channel opens and on every change, so the
 *   receiver always shows the current state (a newer `state` replaces the older one).
 * - `chat`: a text chat message. `text` is plain text (never interpreted as HTML), 1–{@link MAX_CHAT_LENGTH}
 *   characters; `sentAt` is the sender's clock in ms since the epoch (for display only).
 *
 * @module
 */
import { bad, type ParseResult } from './parse.js';

/** Longest chat message, in characters (UTF-16 code units). */
export const MAX_CHAT_LENGTH = 2000;

/** Largest data channel message accepted, in bytes of JSON: a full chat message plus its envelope. */
export const MAX_PEER_MESSAGE_BYTES = 16 * 1024;

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
  /** Sender's clock, ms since the epoch. */
  sentAt: number;
}

export type PeerMessage = PeerStateMessage | PeerChatMessage;

/** Parses one data channel message from a peer. */
export function parsePeerMessage(raw: unknown): ParseResult<PeerMessage> {
  if (typeof raw !== 'string') return bad('peer messages must be JSON text');
  if (raw.length > MAX_PEER_MESSAGE_BYTES) return bad('peer message is too large');
  let m: unknown;
  try {
    m = JSON.parse(raw);
  } catch {
    return bad('peer message is not valid JSON');
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return bad('peer message must be a JSON object');
  const o = m as Record<string, unknown>;
  switch (o['type']) {
    case 'state':
      if (typeof o['microphone'] !== 'boolean' || typeof o['camera'] !== 'boolean') {
        return bad('state.microphone and state.camera must be booleans');
      }
      return { ok: true, value: { type: 'state', microphone: o['microphone'], camera: o['camera'] } };
    case 'chat': {
      const { id, text, sentAt } = o;
      if (typeof id !== 'string' || id.length === 0 || id.length > 64) return bad('chat.id must be 1-64 characters');
      if (typeof text !== 'string' || text.trim().length === 0 || text.length > MAX_CHAT_LENGTH) {
        return bad(`chat.text must be 1-${MAX_CHAT_LENGTH} characters`);
      }
      if (typeof sentAt !== 'number' || !Number.isFinite(sentAt)) return bad('chat.sentAt must be a number');
      return { ok: true, value: { type: 'chat', id, text, sentAt } };
    }
    default:
      return bad('unknown peer message type');
  }
}
