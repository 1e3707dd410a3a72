/**
 * The rules of hosts and guests that do not depend on where a room's host state lives (`docs/protocol.md` "Hosts and
 * guests"): both host layers, `host-participants.ts` (state in this process) and `shared-host-participants.ts` (state
 * in Redis), decide a join, check a host's action, add the role to a `welcome` and put a participant out with these.
 *
 * @module
 */
import type { ErrorCode, HostClientMessage, HostServerMessage, WelcomeMessage } from '../../../src/protocol/relay.js';
import type { Logger } from '../log.js';
import { displayName, type JoinDetails, type Joined, type Link, type Participants } from '../participants.js';
import type { HostMetrics } from './host-metrics.js';
import { reachable, type HostMember } from './room-policy.js';

/** What a member will be once its welcome goes out. */
export type Entry = Pick<HostMember, 'role' | 'protocol' | 'tokenId'>;

/** A host's action other than a knocker's `cancel`. */
export type HostAction = Exclude<HostClientMessage, { type: 'cancel' }>;

/** The room's host state a join is decided on: whether it is locked, and whether the joiner's token was removed. */
export interface RoomGate {
  readonly locked: boolean;
  readonly removed: boolean;
}

/** A room without a lock or removals (a join without a token, or a room with no host state). */
export const OPEN: RoomGate = { locked: false, removed: false };

/**
 * How a join goes: refused (the error reply went out), waits outside (a knock with this join), or enters as `entry`.
 */
export type Admission =
  | { readonly kind: 'refused' }
  | { readonly kind: 'knock'; readonly join: JoinDetails }
  | { readonly kind: 'enter'; readonly entry: Entry };

/**
 * Decides a join: the role from the token (version 1 clients are guests), a removed token refused (`removed`), a
 * guest refused by a lock (`room-locked`), a guest who must knock (its token's `knock` claim, else `knockByDefault`)
 * waits outside; version 1 clients get `unauthorized` instead, as they know neither code nor the waiting room.
 * @param gate the room's lock and whether `join.grant.tokenId` was removed from it.
 */
export function decideJoin(
  link: Link,
  room: string,
  join: JoinDetails | undefined,
  gate: RoomGate,
  knockByDefault: boolean,
  log: Logger,
): Admission {
  const protocol = join?.protocol ?? 1;
  const grant = join?.grant;
  const v2 = protocol >= 2;
  const role = v2 && grant?.role === 'host' ? 'host' : 'guest';
  const refused = (code: ErrorCode, message: string): Admission => {
    refuse(link, room, v2 ? code : 'unauthorized', message, log);
    return { kind: 'refused' };
  };
  if (grant && gate.removed) return refused('removed', 'a host removed this participant from the room');
  if (role === 'guest' && gate.locked)
    return refused('room-locked', `room ${JSON.stringify(room)} is locked by a host`);
  if (role === 'guest' && grant !== undefined && (grant.knock ?? knockByDefault)) {
    if (!v2) return refused('unauthorized', 'this room has a waiting room, which protocol 1 clients cannot use');
    return { kind: 'knock', join: { protocol, grant } };
  }
  return { kind: 'enter', entry: { role, protocol, tokenId: grant?.tokenId } };
}

/**
 * A `join` or `resume` from a link still waiting outside a room (its knock not answered): refused with
 * `already-joined`, the socket kept.
 * @param waiting whether `link` waits outside a room.
 * @returns `waiting`: true when refused.
 */
export function refuseWaiting(link: Link, waiting: boolean): boolean {
  if (waiting) link.fail('already-joined', 'waiting to enter a room: send cancel first');
  return waiting;
}

/** A join refused by the room: logged, and an `error` with `code` to the client. */
export function refuse(link: Link, room: string, code: ErrorCode, message: string, log: Logger): void {
  log.info({ ip: link.ip, room, code }, 'join refused by the room');
  link.fail(code, message);
}

/**
 * The `welcome` hook of a host layer: a version 2 member's role, and the version this connection speaks.
 * @param entry what the member being admitted or resumed will be (`undefined`: not one of this layer's).
 */
export function addRole(entry: Entry | undefined, welcome: WelcomeMessage): void {
  if (!entry) return;
  welcome.protocol = Math.min(entry.protocol, welcome.protocol ?? entry.protocol);
  if (entry.protocol >= 2) welcome.role = entry.role;
}

/**
 * Who sends a host's action: the member, or `undefined` after an `error` (`not-joined` outside a room, `forbidden`
 * from a guest, counted and logged).
 * @param isHost whether that member is a host of its room.
 */
export function actor(
  link: Link,
  message: HostAction,
  isHost: (joined: Joined) => boolean,
  metrics: HostMetrics,
  log: Logger,
): Joined | undefined {
  const joined = link.member;
  if (!joined) {
    link.fail('not-joined', `join a room before sending ${message.type}`);
    return undefined;
  }
  if (!isHost(joined)) {
    metrics.actions.inc({ action: message.type, outcome: 'forbidden' });
    log.info({ id: joined.id, room: joined.room, action: message.type }, 'host action from a guest refused');
    link.fail('forbidden', `only a host may send ${message.type}`);
    return undefined;
  }
  return joined;
}

/**
 * A removal or the end: `member` leaves through `layer` now (`peer-left` to the others at once) and, if connected, is
 * closed with `code`. One in its grace period leaves at once too: its last link stands for it, so leaving through it
 * ends the grace period.
 */
export function putOut(
  layer: Pick<Participants, 'leave'>,
  member: HostMember,
  room: string,
  code: number,
  reason: string,
): void {
  const link = member.link;
  const connected = link.member?.id === member.id;
  if (!connected) link.member = { id: member.id, room };
  layer.leave(link);
  if (connected) link.close(code, reason);
}

/** Sends `message` to the reachable hosts among `members`. */
export function toHosts(members: Iterable<HostMember>, message: HostServerMessage): void {
  for (const member of members) {
    if (member.role === 'host' && reachable(member)) member.link.send(message);
  }
}

/** The `knocking` message for a knock (the name sanitised). */
export function knocking(id: string, name: string): HostServerMessage {
  return { type: 'knocking', knock: { id, name: displayName(name) } };
}
