/**
 * One room's host state on this relay process: who is host or guest, the waiting queue, the lock and the token IDs a
 * host removed. Pure data with small helpers; the rules that read and change it are in `host-participants.ts`.
 *
 * It lives as long as the room has members or knockers (`docs/protocol.md` "Hosts and guests": the room's lifetime)
 * and only in this process (rooms shared through Redis keep theirs there: `shared-state.ts`).
 *
 * @module
 */
import type { Role } from '../../../src/protocol/relay.js';
import type { JoinDetails, Link } from '../participants.js';

/** A participant of the room as the host layer knows it. */
export interface HostMember {
  readonly id: string;
  /** Its latest link (replaced on resume); it is connected while `link.member?.id === id`. */
  link: Link;
  readonly role: Role;
  /** The wire version it joined with: only version 2 and later are sent host messages. */
  readonly protocol: number;
  /** Its token's ID (`RoomGrant.tokenId`), or `undefined` on a relay without tokens. */
  readonly tokenId: string | undefined;
}

/** Someone waiting outside the room. */
export interface Knock {
  /** The knock ID (22 characters of base64url, random). */
  readonly id: string;
  readonly room: string;
  readonly link: Link;
  /** The display name as given (sanitised when sent). */
  readonly name: string;
  readonly caps: readonly string[] | undefined;
  readonly join: JoinDetails;
  /** Fires after `knockTimeoutMs`: the knock ends with `timeout`. */
  timer: NodeJS.Timeout | undefined;
}

/** The host state of one room. */
export class RoomPolicy {
  /** No new joins or knocks from guests. */
  locked = false;
  /** Token IDs a host removed: refused with `removed` for the room's lifetime. */
  readonly removed = new Set<string>();
  /** The room's participants by ID, in joining order. */
  readonly members = new Map<string, HostMember>();
  /** The waiting queue by knock ID, in knocking order. */
  readonly knocks = new Map<string, Knock>();

  /** IDs of the hosts in the room, in joining order. */
  hosts(): string[] {
    return [...this.members.values()].filter((m) => m.role === 'host').map((m) => m.id);
  }

  /** Whether nobody is in the room nor waiting outside: its state can go. */
  get empty(): boolean {
    return this.members.size === 0 && this.knocks.size === 0;
  }
}

/**
 * Whether `member` is connected and speaks version 2 or later, so that it may be sent host messages.
 * @param member a member of the room.
 */
export function reachable(member: HostMember): boolean {
  return member.protocol >= 2 && member.link.member?.id === member.id;
}
