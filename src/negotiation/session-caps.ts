/**
 * When a {@link PeerSession}'s bandwidth caps are applied (`RTCRtpSender.setParameters`, W3C WebRTC §5.2; the caps
 * themselves are `bandwidth.ts`'s, their bookkeeping `transceivers.ts`'s): one `setParameters` at a time, none while
 * an offer/answer exchange is under way (Chromium rejects it then). No DOM.
 *
 * @module
 */

/**
 * The caps queue of one session: the function returned runs `applyCaps` after the run before it settled, unless
 * `busy()` (an offer/answer under way, or no connection: `stable` asks again). It never rejects (a rejection goes
 * to `fail`: `encoding-failed`).
 * @param applyCaps sets the caps that differ from those last set (`Transceivers.applyCaps`).
 */
export function capsQueue(
  applyCaps: () => Promise<void>,
  busy: () => boolean,
  fail: (cause: unknown) => void,
): () => Promise<void> {
  let queue = Promise.resolve();
  return () => (queue = queue.then(() => (busy() ? undefined : applyCaps())).catch(fail));
}
