/**
 * Trickled ICE candidates that arrive ahead of the remote description they belong to (RFC 8838 §10, JSEP RFC 8829
 * §5.7: `addIceCandidate` needs it), held per connection generation and added once it is set. Bounded: a peer that
 * floods candidates and never sends a description must not grow memory without end. No DOM beyond WebRTC.
 *
 * @module
 */
import type { IceCandidate } from '../protocol/negotiation.js';

/** Most candidates held. */
const MAX_HELD = 200;

/** The candidates of a {@link PeerSession} waiting for their description. */
export class HeldCandidates {
  #held: Array<{ gen: number; candidate: IceCandidate }> = [];

  /** Holds `candidate` of generation `gen` (dropped past {@link MAX_HELD}). */
  hold(gen: number, candidate: IceCandidate): void {
    if (this.#held.length < MAX_HELD) this.#held.push({ gen, candidate });
  }

  /** Forgets the candidates of generations older than `gen` (their connection is gone). */
  drop(gen: number): void {
    this.#held = this.#held.filter((p) => p.gen >= gen);
  }

  /** Adds the held candidates of generation `gen` to `pc` in arrival order; a rejected one goes to `fail`. */
  async flush(pc: RTCPeerConnection, gen: number, fail: (cause: unknown) => void): Promise<void> {
    const due = this.#held.filter((p) => p.gen === gen);
    this.#held = this.#held.filter((p) => p.gen > gen);
    for (const { candidate } of due) await pc.addIceCandidate(candidate).catch(fail);
  }
}
