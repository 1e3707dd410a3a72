/**
 * The page's queue of native `RTCPeerConnection.close()` calls left over from the mesh→SFU switch (issue 12), part of
 * the SFU chunk. Chromium's `close()` is synchronous and waits on the WebRTC threads: a mesh connection's held a page's
 * main thread 24–253 ms in the switch's traces (docs/benchmarks.md, section 8), stacked with the SFU connections'
 * `new RTCPeerConnection` / `addTransceiver` / `getParameters`. By the time `call/sfu.ts` drops a mesh connection its
 * copies are stopped at both ends (`replaceTrack(null)`) and its session is closed for the call
 * (`PeerSession.close(later)`), so the native close can wait a little:
 *
 * - the first waits until no connection was queued for {@link QUIET_MS} (the switch's busiest phase: tiles still moving
 *   to the SFU's copies), then one connection is closed at a time, {@link SPACING_MS} apart;
 * - each is closed at the latest {@link BOUND_MS} after it was queued, whatever else is queued;
 * - {@link CloseQueue.flush} closes at once everything one owner (a call's SFU topology, when it closes) queued.
 *
 * A close that throws is ignored (the connection is gone for the call already; nothing the user can see).
 *
 * @module
 */

/** Quiet time (ms) after the latest connection queued before the first close. */
export const QUIET_MS = 1_000;
/** Time (ms) between two closes of the queue. */
export const SPACING_MS = 300;
/** Most time (ms) a queued connection waits for its close. */
export const BOUND_MS = 4_000;

interface Entry {
  close: () => void;
  owner: unknown;
  bound: ReturnType<typeof setTimeout>;
}

/** Native closes, one at a time (see the module comment). */
export class CloseQueue {
  #entries: Entry[] = [];
  #next: ReturnType<typeof setTimeout> | undefined;

  /** Connections queued and not closed yet. */
  get size(): number {
    return this.#entries.length;
  }

  /** Queues `close` (a connection's native close) for `owner` (what {@link flush} names). */
  add(close: () => void, owner?: unknown): void {
    const entry: Entry = { close, owner, bound: setTimeout(() => this.#run(entry), BOUND_MS) };
    this.#entries.push(entry);
    this.#schedule(QUIET_MS);
  }

  /** Closes at once every connection `owner` queued (every one, without `owner`). */
  flush(owner?: unknown): void {
    for (const entry of this.#entries.filter((e) => owner === undefined || e.owner === owner)) this.#run(entry);
  }

  #schedule(ms: number): void {
    clearTimeout(this.#next);
    this.#next = this.#entries.length > 0 ? setTimeout(() => this.#step(), ms) : undefined;
  }

  #step(): void {
    const entry = this.#entries[0];
    if (entry) this.#run(entry);
    this.#schedule(SPACING_MS);
  }

  #run(entry: Entry): void {
    const i = this.#entries.indexOf(entry);
    if (i < 0) return;
    this.#entries.splice(i, 1);
    clearTimeout(entry.bound);
    if (this.#entries.length === 0) this.#schedule(0);
    try {
      entry.close();
    } catch {
      // already closed, or the page is going: nothing left to release
    }
  }
}

/** The page's queue (the SFU chunk is loaded once per page, whatever the number of calls). */
export const pageCloses = new CloseQueue();
