/**
 * "Only the latest run wins": the one pattern for async work that a later call (or a stop) makes stale, such as a
 * join whose camera is still starting when the visitor leaves, or a stats poll still awaiting `getStats()` when the
 * call ended. The shape of Lit's `Task` (`const key = ++this._callId; await …; if (this._callId === key) …`), with
 * the key as an `AbortSignal` (DOM Standard §3.1) so that it can also be handed to anything that takes one.
 *
 * At the root of src/ (like `errors.ts`) so that media/, negotiation/ and call/ can all use it. No DOM beyond
 * `AbortController`.
 *
 * @example
 * const run = this.#runs.start(); // every earlier run is aborted
 * const stream = await getUserMedia();
 * if (run.aborted) return stream.getTracks().forEach((t) => t.stop()); // stopped or restarted meanwhile
 *
 * @module
 */

/** The runs of one piece of work: at most one is current; starting another or stopping aborts it. */
export class Latest {
  #controller: AbortController | undefined;

  /** The current run's signal (not aborted), or undefined when none was started or the last was stopped. */
  get current(): AbortSignal | undefined {
    return this.#controller?.signal;
  }

  /** Starts a run: aborts the current one (its results are stale from now on) and returns the new one's signal. */
  start(): AbortSignal {
    this.stop();
    this.#controller = new AbortController();
    return this.#controller.signal;
  }

  /** Aborts the current run, if any; none is current until the next {@link start}. Idempotent. */
  stop(): void {
    this.#controller?.abort();
    this.#controller = undefined;
  }
}
