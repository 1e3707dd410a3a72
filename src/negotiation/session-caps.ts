/**
 * When a {@link PeerSession}'s bandwidth caps are applied (`RTCRtpSender.setParameters`, W3C WebRTC §5.2; the caps
 * themselves are `bandwidth.ts`'s, their bookkeeping `transceivers.ts`'s): one `setParameters` at a time, none while
 * an offer/answer exchange is under way (Chromium rejects it then), and few while the connection comes up.
 *
 * **The setup hold** (issue 16): each change costs a `getParameters`, which in Chromium blocks the main thread on the
 * WebRTC signaling thread, busy with every connection's descriptions and candidates while a call is set up (~16 ms
 * each in a 4-peer setup). Until the session's connection is first `connected`, the changes asked for (the copy count
 * growing as peers join, the answerer's first caps) wait, and are applied together, once, when it is: that is when
 * media can start to flow, so the governor's budget split (docs/bandwidth.md) holds from then on, and a connection
 * that never comes up sends nothing (its caps wait; a caller that must not wait bounds its own wait, as `call/sfu.ts`
 * does with 500 ms). The offerer's first caps travel with its offer instead (`transceivers.ts`). After the hold, every
 * change is applied at once. No DOM.
 *
 * @module
 */

/** One session's caps queue (see {@link capsQueue}). */
export interface CapsQueue {
  /**
   * Asks for the caps to be applied (now, or at the end of the setup hold); settles once they were (or skipped as
   * `busy`): during the hold, not before the connection is up. Never rejects.
   */
  request(): Promise<void>;
  /** The session's connection is `connected`: the setup hold ends (the first time), the held changes are applied. */
  connected(): void;
}

/**
 * The caps queue of one session: each run applies `applyCaps` after the run before it settled, unless `busy()` (an
 * offer/answer under way, or no connection: `stable` asks again); before the first `connected` requests are held
 * (see the module comment). A rejection goes to `fail` (`encoding-failed`).
 * @param applyCaps sets the caps that differ from those last set (`Transceivers.applyCaps`).
 */
export function capsQueue(
  applyCaps: () => Promise<void>,
  busy: () => boolean,
  fail: (cause: unknown) => void,
): CapsQueue {
  let queue = Promise.resolve();
  const run = () => (queue = queue.then(() => (busy() ? undefined : applyCaps())).catch(fail));
  /** The held requests' run, what starts it (the end of the hold), and whether the hold ended. */
  let held: Promise<void> | undefined;
  let release: (value: unknown) => void = () => {};
  let over = false;
  return {
    request: () => (over ? run() : (held ??= new Promise((r) => (release = r)).then(run))),
    connected: () => release((over = true)),
  };
}
