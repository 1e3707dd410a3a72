/**
 * When a {@link PeerSession}'s bandwidth caps are applied (`RTCRtpSender.setParameters`, W3C WebRTC §5.2; the caps
 * themselves are `bandwidth.ts`'s, their bookkeeping `transceivers.ts`'s): one `setParameters` at a time, none while
 * an offer/answer exchange is under way (Chromium rejects it then), and few while the connection comes up.
 *
 * **The setup hold** (issue 16): each change costs a `getParameters`, which in Chromium blocks the main thread on the
 * WebRTC signaling thread, busy with every connection's descriptions and candidates while a call is set up (~16 ms
 * each in a 4-peer setup). Until the session's connection is first `connected`, the changes asked for (the copy count
 * growing as peers join, the answerer's first bitrate cap, a receiver's first `view`) wait and are applied together,
 * {@link SETTLE_MS} after `connected` (the receivers' first `view`s arrive then, over the data channel that opens
 * with it). What matters from the first frame on travels with the first description instead (`transceivers.ts`).
 * After the hold, every change is applied at once. The governor's budget split (docs/bandwidth.md) holds within
 * {@link SETTLE_MS} of the connection coming up: nothing is sent before it (a connection that never comes up sends
 * nothing, and its caps wait), and then the browser's bandwidth estimate starts far below a copy's share (~300 kbps
 * in Chromium). A caller that must not wait bounds its own wait (`call/sfu.ts` races it with 500 ms). No DOM.
 *
 * @module
 */

/** How long after the connection is first `connected` the changes held meanwhile are applied (ms). */
export const SETTLE_MS = 300;

/** One session's caps queue (see {@link capsQueue}). */
export interface CapsQueue {
  /**
   * Asks for the caps to be applied (now, or at the end of the setup hold); settles once they were (or skipped as
   * `busy`): during the hold, not before the connection is up. Never rejects.
   */
  request(): Promise<void>;
  /** The session's connection is `connected`: the setup hold ends {@link SETTLE_MS} from now (the first time). */
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
    connected: () => void (over || setTimeout(() => release((over = true)), SETTLE_MS)),
  };
}
