/**
 * When the broker brings a room's subscriptions up to date (`broker.ts` `#followRoom`): at once, unless some
 * participant's publish is on its way up (it entered the room on the SFU or sent its offer less than
 * {@link PUBLISH_PENDING_MS} ago, and its media is not up yet), in which case the change waits for it, at most
 * {@link GATHER_MAX_MS} after the first change held back. At a mesh→SFU switch every participant publishes within
 * about a second; following each publisher as it comes up made 3–4 subscriber renegotiations per page (issue 12's
 * trace), each one an offer, an answer and a `start`, set on a page busy with its mesh and its new connections.
 * Gathered, a page gets one or two. A feed that goes is followed at once ({@link Gather.now}): held together with its coming back under the same
 * ID (a participant starting over), it would look unchanged.
 *
 * @module
 */

/** Longest time (ms) a change of a room's published feeds waits for the publishes on their way up. */
export const GATHER_MAX_MS = 600;

/**
 * A participant that entered (or sent its publish) longer ago than this (ms) without its media coming up no longer
 * holds changes back (a receive-only participant, a publish that failed silently).
 */
export const PUBLISH_PENDING_MS = 3_000;

/** Gathers a room's changes of published feeds while publishes are on their way up; see the module documentation. */
export class Gather {
  readonly #run: () => void;
  readonly #pending: () => boolean;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param run brings every subscription of the room up to date (reads the feeds when it runs).
   * @param pending whether a publish is on its way up now.
   */
  constructor(run: () => void, pending: () => boolean) {
    this.#run = run;
    this.#pending = pending;
  }

  /** The room's published feeds changed (or a publish on its way up ended): run now, or once the publishes are up. */
  change(): void {
    if (this.#pending()) {
      this.#timer ??= setTimeout(() => this.#fire(), GATHER_MAX_MS);
      return;
    }
    this.#fire();
  }

  /** A feed went: run now (and with it any change held back). */
  now(): void {
    this.#fire();
  }

  /** A publish on its way up ended without coming up (failed, or its participant left): run if it was the last. */
  settle(): void {
    if (this.#timer !== undefined && !this.#pending()) this.#fire();
  }

  /** Drops a change held back (the room closed). */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #fire(): void {
    this.close();
    this.#run();
  }
}

/** Whether a publish that started at `since` (ms, `Date.now()`) is still on its way up at `now`. */
export const publishPending = (since: number | undefined, now: number): boolean =>
  since !== undefined && now - since < PUBLISH_PENDING_MS;

/** Whether any participant not gone has a publish on its way up (the `pending` test of a room's {@link Gather}). */
export const anyPublishPending = (members: Iterable<{ gone?: boolean; publishing?: number }>): boolean => {
  const now = Date.now();
  for (const m of members) if (!m.gone && publishPending(m.publishing, now)) return true;
  return false;
};
