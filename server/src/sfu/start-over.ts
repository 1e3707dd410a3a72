/**
 * A participant that starts over on this relay (it resumed here from a relay that brokered it: `mode` follows its
 * resumed `welcome`, `shared-participants.ts`) may still send what its element's previous SFU session said: the
 * element's relay client queues `signal`s while the relay is away and sends them right after the resumed `welcome`,
 * before the `mode` that follows is handled. They belong to connections this relay never negotiated: a `layer`
 * request would be answered with an SFU `error` (a `sfu-failed` warning about nothing the user did), and candidates
 * would be trickled to the new Janus handles. Which ones they are follows from the order of the new session
 * (`src/negotiation/sfu-session.ts`): its first message is its `publish` (its publishing connection's candidates come
 * after it), and it answers, trickles for and asks layers of its subscribing connection only once this relay sent it
 * an `offer`. So, until then, the others are the old session's and are dropped (logged at debug).
 *
 * A `publish` of the old session (queued when the relay went away between its `mode` and its publish) names the
 * `epoch` of that earlier `mode`, not of the one sent at the start-over: dropped too. An element that sends no epoch
 * (before this change) has its publishes taken as the new session's.
 *
 * @module
 */
import type { SfuDelivery, SfuRequest } from '../../../src/protocol/sfu.js';

/** What a participant that started over has done since: its new session's publish, this relay's first offer. */
export class StartOver {
  readonly #epoch: string | undefined;
  #published = false;
  #offered = false;

  /** @param epoch the `epoch` of the `mode` sent at the start-over. */
  constructor(epoch?: string) {
    this.#epoch = epoch;
  }

  /** Whether the participant's new session is under way on both connections (nothing left to drop). */
  get done(): boolean {
    return this.#published && this.#offered;
  }

  /** Whether `request` can only be the previous session's (drop it); notes the new session's `publish`. */
  stale(request: SfuRequest): boolean {
    if (request.op === 'publish') {
      if (request.epoch !== undefined && this.#epoch !== undefined && request.epoch !== this.#epoch) return true;
      this.#published = true;
      return false;
    }
    if (request.op === 'candidate' && request.pc === 'pub') return !this.#published;
    return !this.#offered; // `answer`, `candidate` of `sub`, `layer`: the subscribing connection's
  }

  /** Notes what this relay sends the participant: its first `offer` opens the subscribing connection's exchange. */
  sent(data: SfuDelivery): void {
    if (data.op === 'offer') this.#offered = true;
  }
}
