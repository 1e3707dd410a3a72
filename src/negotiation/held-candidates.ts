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

/** The candidates of a {@link PeerSession} waiting for their description, with their generation. */
export type HeldCandidates = Array<{ gen: number; candidate: IceCandidate }>;

/** Holds `candidate` of generation `gen` (dropped past {@link MAX_HELD}). */
export function hold(held: HeldCandidates, gen: number, candidate: IceCandidate): void {
  if (held.length < MAX_HELD) held.push({ gen, candidate });
}

/**
 * Takes the held candidates of generation `gen` out of `held` (older ones are dropped) and adds them to `pc` in
 * arrival order; a rejected one goes to `fail`.
 */
export async function flush(
  held: HeldCandidates,
  pc: RTCPeerConnection,
  gen: number,
  fail: (cause: unknown) => void,
): Promise<void> {
  const due = held.filter((p) => p.gen === gen);
  held.splice(0, held.length, ...held.filter((p) => p.gen > gen));
  for (const { candidate } of due) await pc.addIceCandidate(candidate).catch(fail);
}
