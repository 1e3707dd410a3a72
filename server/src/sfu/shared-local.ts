/**
 * What one relay holds of the rooms shared through Redis that it serves on the SFU (`shared-participants.ts`): its
 * members, the joins in flight, each room's mode, claim and Janus room as it knows them; and what it needs of the
 * relay's Redis participants.
 *
 * @module
 */
import type { Link, Participants } from '../participants.js';
import type { JanusRoom } from './janus-rooms.js';
import type { StartOver } from './start-over.js';

/** What the relay's Redis participants offer this module (`redis/participants-redis.ts`). */
export interface RedisInner extends Participants {
  /** This relay's node ID in Redis (it changes if the relay's lease was lost). */
  readonly node: string;
  /** Hears this node's channel messages of kind `x`. */
  onExtension: ((text: string) => void) | undefined;
}

/** Whether `inner` is the relay's Redis participants. */
export function isRedisInner(inner: Participants): inner is RedisInner {
  return 'onExtension' in inner && typeof (inner as Partial<RedisInner>).node === 'string';
}

export interface Member {
  link: Link;
  name: string;
  /** It announced the `sfu` capability (written back after Redis lost its data). */
  capable: boolean;
  /**
   * This relay's node ID (its incarnation in Redis) when it joined or resumed here: after a lost lease (fencing) the
   * relay goes on under a new ID while Redis keeps the member in its grace period under this one.
   */
  node: string;
  /** Its link is gone and the relay kept it in its grace period (or forgot it when its lease was lost). */
  grace: boolean;
  /** It started over here after a resume: its previous SFU session's requests are dropped (`start-over.ts`). */
  startOver?: StartOver | undefined;
}

export interface Joining {
  capable: boolean;
  /** Its admission came back (so it may hear `mode`). */
  decided: boolean;
  /** It heard `mode` already. */
  told: boolean;
}

/** A room with participants (or joins in flight) on this relay. */
export interface LocalRoom {
  mode: 'mesh' | 'sfu';
  /** The room token's `media` claim that decides (as Redis said at admission; written back). */
  claim: 'mesh' | 'sfu' | undefined;
  janus: JanusRoom | undefined;
  members: Map<string, Member>;
  joining: Map<Link, Joining>;
}
