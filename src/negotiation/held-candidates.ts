/**
 * ICE candidates that arrived before the remote description they belong to (trickle ICE, RFC 8838; JSEP RFC 8829
 * §5.7), each with the generation of its connection, held until that description is applied. Bounded: a peer that
 * sends candidates and never a description cannot grow memory without end. No DOM, no WebRTC.
 *
 * @module
 */
import type { IceCandidate } from '../protocol/negotiation.js';

/** Most candidates held. */
const MAX_HELD = 200;

/** The candidates a {@link PeerSession} holds, by generation. */
export class HeldCandidates {
  #held: Array<{ gen: number; candidate: IceCandidate }> = [];

  /** Holds `candidate` of generation `gen` (dropped once {@link MAX_HELD} are held). */
  hold(gen: number, candidate: IceCandidate): void {
    if (this.#held.length < MAX_HELD) this.#held.push({ gen, candidate });
  }

  /** Forgets those of generations before `gen` (their connection is gone). */
  dropBefore(gen: number): void {
    this.#held = this.#held.filter((h) => h.gen >= gen);
  }

  /** Takes those of generation `gen`, in arrival order, and forgets those of older ones. */
  take(gen: number): IceCandidate[] {
    const due = this.#held.filter((h) => h.gen === gen).map((h) => h.candidate);
    this.#held = this.#held.filter((h) => h.gen > gen);
    return due;
  }
}
