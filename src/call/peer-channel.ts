/**
 * The data channel wire of one peer, on the call's side (`protocol/data-channel.ts`): encodes what the call sends
 * (`state`, `chat`, `signal`, `rebind`) as JSON text, and parses every text that arrives with `parsePeerMessage` behind a
 * per-type receive limit ({@link PEER_RECEIVE_LIMIT}; {@link SIGNAL_RECEIVE_LIMIT} for `signal`). The {@link PeerSession} underneath carries the text and knows nothing of it.
 *
 * In the call's on-demand engine chunk (exported by `engine.ts`, like PeerSession), so that the script-tag file does
 * not carry the parser. No DOM.
 *
 * @module
 */
import type { Warning } from '../errors.js';
import {
  PEER_RECEIVE_LIMIT,
  SIGNAL_RECEIVE_LIMIT,
  parsePeerMessage,
  type PeerMessage,
} from '../protocol/data-channel.js';

export interface PeerChannelOptions {
  /** Sends one text message on the peer's data channel (`PeerSession.sendChannelText`). */
  send: (text: string) => void;
  /** Called with every valid message that passed the receive limit. */
  onMessage: (message: PeerMessage) => void;
  /**
   * Called with `bad-peer-message` for each malformed message (dropped), and with `peer-flood` when messages of one
   * type start being dropped by the receive limit: once per flood (again only after the peer kept within the limit
   * long enough for the bucket to refill, `burst / perSecond` s: 2 s).
   */
  onWarning: (warning: Warning) => void;
}

/** A token bucket of the receive limit of one message type; `flooding` from a drop until it is full again. */
interface Bucket {
  tokens: number;
  /** performance.now() of the last refill, ms. */
  at: number;
  flooding: boolean;
}

/** The `state`/`chat`/`signal`/`rebind` messages of one peer's data channel. */
export class PeerChannel {
  #options: PeerChannelOptions;
  /** Receive limit per message type (for the peer, across connection generations). */
  #buckets = new Map<PeerMessage['type'], Bucket>();

  constructor(options: PeerChannelOptions) {
    this.#options = options;
  }

  /** Sends a message (queued by the session until the channel is open). */
  send(message: PeerMessage): void {
    this.#options.send(JSON.stringify(message));
  }

  /** Takes one text message from the peer's data channel (untrusted). Never throws. */
  receive(text: string): void {
    const parsed = parsePeerMessage(text);
    if (!parsed.ok) {
      this.#options.onWarning({ code: 'bad-peer-message', message: parsed.error.message, cause: parsed.error });
    } else if (this.#admit(parsed.value.type)) {
      this.#options.onMessage(parsed.value);
    }
  }

  /** The receive limit: whether one more message of `type` may pass now; reports the first drop of a burst. */
  #admit(type: PeerMessage['type']): boolean {
    const now = performance.now();
    const { perSecond, burst } = type === 'signal' ? SIGNAL_RECEIVE_LIMIT : PEER_RECEIVE_LIMIT;
    const bucket = this.#buckets.get(type) ?? { tokens: burst, at: now, flooding: false };
    this.#buckets.set(type, bucket);
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) * perSecond) / 1000);
    bucket.at = now;
    if (bucket.tokens === burst) bucket.flooding = false; // quiet long enough to refill: a new burst may be reported
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return true;
    }
    if (!bucket.flooding) {
      this.#options.onWarning({ code: 'peer-flood', message: type }); // the type whose excess is dropped
    }
    bucket.flooding = true;
    return false;
  }
}
