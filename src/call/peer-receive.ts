/**
 * The receiving half of one peer's data channel wire (`protocol/data-channel.ts`): every text that arrives is parsed
 * with `parsePeerMessage` and passed behind a per-type receive limit ({@link PEER_RECEIVE_LIMIT};
 * {@link SIGNAL_RECEIVE_LIMIT} for `signal`). Its own chunk, `video-chat-peer-receive-<hash>.js`, loaded by
 * `peer-channel.ts` at the first connection or the first text received (whichever comes first), so that the engine
 * does not carry the parser and nothing before the first frame waits for it. No DOM.
 *
 * @module
 */
import {
  PEER_RECEIVE_LIMIT,
  SIGNAL_RECEIVE_LIMIT,
  parsePeerMessage,
  type PeerMessage,
} from '../protocol/data-channel.js';
import type { PeerChannelOptions } from './peer-channel.js';

/** A token bucket of the receive limit of one message type; `flooding` from a drop until it is full again. */
interface Bucket {
  tokens: number;
  /** performance.now() of the last refill, ms. */
  at: number;
  flooding: boolean;
}

/**
 * The receiver of one peer's texts (untrusted; never throws): a valid message that passes the receive limit goes to
 * `onMessage`; a malformed one is dropped and reported as `bad-peer-message`, the first drop of a flood of one type as
 * `peer-flood` with the type (again only after the peer kept within the limit long enough for the bucket to refill,
 * `burst / perSecond` s: 2 s). The limit holds for the peer across connection generations.
 */
export function receiver({
  onMessage,
  onWarning,
}: Pick<PeerChannelOptions, 'onMessage' | 'onWarning'>): (text: string) => void {
  const buckets = new Map<PeerMessage['type'], Bucket>();
  /** The receive limit: whether one more message of `type` may pass now; reports the first drop of a burst. */
  const admit = (type: PeerMessage['type']): boolean => {
    const now = performance.now();
    const { perSecond, burst } = type === 'signal' ? SIGNAL_RECEIVE_LIMIT : PEER_RECEIVE_LIMIT;
    const bucket = buckets.get(type) ?? { tokens: burst, at: now, flooding: false };
    buckets.set(type, bucket);
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) * perSecond) / 1000);
    bucket.at = now;
    if (bucket.tokens === burst) bucket.flooding = false; // quiet long enough to refill: a new burst may be reported
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return true;
    }
    if (!bucket.flooding) onWarning({ code: 'peer-flood', message: type }); // the type whose excess is dropped
    bucket.flooding = true;
    return false;
  };
  return (text) => {
    const parsed = parsePeerMessage(text);
    if (!parsed.ok) onWarning({ code: 'bad-peer-message', message: parsed.error.message, cause: parsed.error });
    else if (admit(parsed.value.type)) onMessage(parsed.value);
  };
}
