/**
 * When a {@link PeerSession}'s bandwidth caps are applied (`RTCRtpSender.setParameters`, W3C WebRTC §5.2; the caps
 * themselves are `bandwidth.ts`'s, their bookkeeping `transceivers.ts`'s): one `setParameters` at a time, none while
 * an offer/answer exchange is under way (Chromium rejects it then), and none while the page's connections are being
 * set up. No DOM.
 *
 * **The setup hold** (issue 16). In Chromium every `getParameters` blocks the main thread on the page's one WebRTC
 * signaling thread, which is busy with every connection's descriptions during setup: the 4-peer call bench traced 37
 * `getParameters` per call before the last first frame (the governor's caps following each new copy, each `view`,
 * each uplink reading), 1,340 ms of main thread over the four pages. So a caps change asked for while any session of
 * the page is setting up is held, and the held sessions apply their caps once, together, when none is. A session is
 * setting up from its creation until it is first `connected` with the peer's camera video arriving (its remote
 * track unmuted: packets flow) or closed, and for at most {@link SETUP_HOLD_MS} (a peer that never answers, or
 * sends no video, holds no one's caps longer). The first caps are not held: they travel with the first
 * description (`transceivers.ts`). Requests made while held are one request.
 *
 * @module
 */

/** Longest a session counts as setting up, ms (the hold's bound). */
export const SETUP_HOLD_MS = 4000;

/** Sessions of this page setting up now. */
const setting = new Set<object>();
/** Held caps changes, run when {@link setting} is empty. */
const held = new Set<() => unknown>();

/** Marks `session` as setting up (see the module comment); the function returned ends that (idempotent). */
export function settingUp(session: object): () => void {
  setting.add(session);
  const done = (): void => {
    clearTimeout(timer);
    if (!setting.delete(session) || setting.size > 0) return;
    const due = [...held];
    held.clear();
    for (const run of due) run();
  };
  const timer = setTimeout(done, SETUP_HOLD_MS);
  return done;
}

/** Calls `done` once `track` (a remote track) is unmuted (W3C Media Capture: its first packets arrived), or now. */
export function whenFlowing(track: MediaStreamTrack | undefined, done: () => void): void {
  if (track?.muted) track.addEventListener('unmute', done, { once: true });
  else done();
}

/** Whether a session of this page is setting up (caps changes are held). @internal For tests. */
export const holding = (): boolean => setting.size > 0;

/**
 * The caps queue of one session: the function returned runs `applyCaps` after the run before it settled, unless
 * `busy()` (an offer/answer under way, or no connection: `stable` asks again) or the setup hold (then once it ends).
 * It never rejects (a rejection goes to `fail`: `encoding-failed`) and resolves at once while held.
 * @param applyCaps sets the caps that differ from those last set (`Transceivers.applyCaps`).
 */
export function capsQueue(
  applyCaps: () => Promise<void>,
  busy: () => boolean,
  fail: (cause: unknown) => void,
): () => Promise<void> {
  let queue = Promise.resolve();
  const apply = (): Promise<void> => {
    if (setting.size > 0) return Promise.resolve(void held.add(apply));
    return (queue = queue.then(() => (busy() ? undefined : applyCaps())).catch(fail));
  };
  return apply;
}
