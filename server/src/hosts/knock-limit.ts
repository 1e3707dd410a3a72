/**
 * The knock flood limit: a token bucket per client address and room (`rate-limit.ts`'s {@link TokenBucket}), so
 * that one address cannot fill a room's waiting room or drown its hosts in `knocking` messages by knocking,
 * disconnecting and knocking again. Buckets that have refilled completely are forgotten, so the map stays bounded by
 * the addresses that knocked recently.
 *
 * @module
 */
import { TokenBucket } from '../rate-limit.js';

/** Knocks per address and room: a burst of 5, then one per 10 s. */
export const KNOCK_RATE = { perSecond: 0.1, burst: 5 } as const;

/** Knocks waiting in one room at most; one more is `rate-limited`. */
export const MAX_KNOCKS_PER_ROOM = 50;

/** Token buckets keyed by address and room. */
export class KnockLimiter {
  readonly #buckets = new Map<string, { bucket: TokenBucket; last: number }>();

  /**
   * Accounts one knock.
   * @param address the client address key (`address.ts`: IPv6 per /64, behind a trusted proxy the forwarded one).
   * @param room the room knocked on.
   * @param now the current time in ms (monotonic, e.g. `performance.now()`).
   * @returns whether the knock may go ahead.
   */
  take(address: string, room: string, now: number): boolean {
    if (this.#buckets.size >= 10_000) this.#prune(now);
    const key = `${address}\n${room}`;
    let entry = this.#buckets.get(key);
    if (!entry) {
      entry = { bucket: new TokenBucket({ ...KNOCK_RATE, closeAfter: Number.MAX_SAFE_INTEGER }, now), last: now };
      this.#buckets.set(key, entry);
    }
    entry.last = now;
    return entry.bucket.take(now) === 'pass';
  }

  /** Buckets in the map (for tests). */
  get size(): number {
    return this.#buckets.size;
  }

  #prune(now: number): void {
    // A bucket that has refilled completely (debt included) is the same as a new one: forget it.
    for (const [key, { bucket, last }] of this.#buckets) {
      if (bucket.tokens + ((now - last) * KNOCK_RATE.perSecond) / 1000 >= KNOCK_RATE.burst) this.#buckets.delete(key);
    }
  }
}
