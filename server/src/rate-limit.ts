/**
 * A token bucket per socket, with an overdraft that ends in a close.
 *
 * The bucket holds up to `burst` tokens and refills continuously at `perSecond`. A message that finds a whole token
 * takes it and passes. One that does not is refused (`rate-limited`) and still takes a token, so the balance goes
 * negative: a sender that keeps going faster than the refill sinks further, and once it owes `closeAfter` tokens it
 * is closed (1008). A sender that pauses pays the debt back at the refill rate and is served again. So:
 * - bursts up to `burst` messages pass untouched (a mesh join with trickle ICE is a burst of a few hundred),
 * - a sustained rate above `perSecond` is refused message by message, then closed,
 * - the number of `rate-limited` answers a socket can draw is bounded by `closeAfter` (no amplification).
 *
 * Pure arithmetic on a caller-supplied clock, so it is tested without timers.
 *
 * @module
 */

export interface RateLimit {
  /** Sustained messages per second. */
  perSecond: number;
  /** Bucket size: messages that may arrive at once after a quiet period. */
  burst: number;
  /** Refused messages (net of refill) after which the socket is closed. */
  closeAfter: number;
}

/** What {@link TokenBucket.take} decided. */
export type Verdict = 'pass' | 'refuse' | 'close';

export class TokenBucket {
  readonly #limit: RateLimit;
  #tokens: number;
  #last: number;

  /** @param now the current time in ms (e.g. `performance.now()`); the bucket starts full. */
  constructor(limit: RateLimit, now: number) {
    this.#limit = limit;
    this.#tokens = limit.burst;
    this.#last = now;
  }

  /** Accounts one message arriving at `now` (ms, never decreasing). */
  take(now: number): Verdict {
    const elapsed = now - this.#last;
    if (elapsed > 0) {
      this.#tokens = Math.min(this.#limit.burst, this.#tokens + (elapsed * this.#limit.perSecond) / 1000);
      this.#last = now;
    }
    const had = this.#tokens;
    this.#tokens -= 1;
    if (had >= 1) return 'pass';
    return this.#tokens <= -this.#limit.closeAfter ? 'close' : 'refuse';
  }

  /** Current balance (negative: debt). */
  get tokens(): number {
    return this.#tokens;
  }
}
