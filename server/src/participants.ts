/**
 * Participants: who is in which room, from a `join` until they leave, with or without a connection: the
 * {@link Participants} interface (admit, resume, signal, leave, detach into the grace period, clear, counts) that the
 * relay's connections call, the {@link Link} through which an implementation reaches a connection, and what the relay
 * hands an implementation ({@link ParticipantsContext}).
 *
 * No sockets here. A participant's connection is reached through a {@link Link} (`connection.ts` implements it for
 * one WebSocket), so the rules are unit-tested with fake links. Implementations: `local-participants.ts` (in memory),
 * `redis/participants-redis.ts` (rooms shared through Redis), and the layers around them (`sfu/`, `hosts/`).
 *
 * @module
 */
import type {
  ErrorCode,
  HostClientMessage,
  IceServer,
  ResumeCredentials,
  ServerMessage,
  SignalRequest,
  WelcomeMessage,
} from '../../src/protocol/relay.js';
import type { RoomGrant } from './auth.js';
import type { Logger } from './log.js';
import type { RelayMetrics } from './metrics.js';
import type { ResolvedRelayOptions } from './options.js';

/** What a {@link Link} knows of the participant it serves: enough to log it and to route from it. */
export interface Joined {
  readonly id: string;
  readonly room: string;
}

/**
 * One connection as participants see it. `connection.ts` implements it over a WebSocket; tests over an array.
 * Participants set and clear {@link member}; the connection only reads it.
 */
export interface Link {
  /** The client address the connection counts against (see `address.ts`), also used in logs. */
  readonly ip: string;
  /** The participant this link serves, `undefined` while in no room. Written by {@link Participants} only. */
  member: Joined | undefined;
  /** Whether the link's outgoing buffer is above the push-back mark (`pushBackBufferedBytes`). */
  readonly congested: boolean;
  /**
   * Sends a message (encoded as JSON text).
   * @returns whether it was handed to the socket (false if closed, or dropped for not reading).
   */
  send(message: ServerMessage): boolean;
  /**
   * Sends an already encoded frame (a signal queued during the grace period).
   * @returns whether it was handed to the socket.
   */
  sendEncoded(frame: string): boolean;
  /** Replies with an `error` message (counted by code), keeping the connection. */
  fail(code: ErrorCode, message: string): void;
  /** Closes the connection with `code` and `reason` (counted, logged at `info`). */
  close(code: number, reason: string): void;
  /**
   * Set by the host layer (`hosts/`) while the link waits outside a room (knock): it is in no room, but the join
   * timeout does not close it.
   */
  waiting?: boolean;
}

/** What a `join` brought besides room and name: the wire version and, on a relay with tokens, the verified grant. */
export interface JoinDetails {
  /** `join.protocol` (1 when absent). */
  protocol: number;
  /** The verified room token's grant; `undefined` on a relay without tokens. */
  grant?: RoomGrant;
}

/**
 * The participant operations, behind which one relay's in-memory rooms (`LocalParticipants`,
 * `local-participants.ts`) or rooms shared between relays (`redis/participants-redis.ts`) can sit. No method throws
 * for a client's mistake: it replies on the link instead (`room-full`, `resume-failed`, `unknown-peer`,
 * `rate-limited`). The in-memory one is synchronous; the shared one's {@link admit} and {@link resume} return a
 * promise (the connection holds the link's later frames until it settles, and it never rejects) and its cross-node
 * replies come later.
 */
export interface Participants {
  /**
   * Enters `room` as a new participant: `welcome` on `link`, then `peer-joined` to the others; or `room-full`.
   * @param link a link in no room.
   * @param room the room's name, as validated by the wire parser.
   * @param name the display name as given; control and bidi formatting characters are removed (`displayName`,
   *   `identities.ts`).
   * @param caps the client's `join.caps` (what it can do beyond the mesh); used by the SFU's rooms
   *   (`sfu/sfu-participants.ts`), ignored here.
   * @param join the wire version and token grant; used by the host layer (`hosts/host-participants.ts`: roles,
   *   waiting room, lock, removals), ignored here.
   */
  admit(link: Link, room: string, name: string, caps?: readonly string[], join?: JoinDetails): void | Promise<void>;
  /**
   * Serves an existing participant on `link` (same ID, no `peer-left`/`peer-joined` for the others), or replies
   * `resume-failed` and changes nothing.
   * @param link a link in no room.
   * @param room the room the client says it was in.
   * @param credentials the ID and the latest secret from the participant's last welcome.
   */
  resume(link: Link, room: string, credentials: ResumeCredentials): void | Promise<void>;
  /**
   * Forwards a signal from the participant on `link` to `to` in the same room (`from` stamped here).
   * @param link a link in a room.
   * @param to the addressee's ID.
   * @param data the opaque payload.
   */
  signal(link: Link, to: string, data: SignalRequest['data']): void;
  /** The participant on `link`, if any, leaves its room for good (`peer-left` to the others). */
  leave(link: Link): void;
  /**
   * The link of a participant is gone.
   * @param link the closed link.
   * @param code the close code as ws reports it (1005 without one, 1006 without a closing handshake).
   * @param noResume the link was closed for abuse: leave at once.
   * @returns whether the participant stays in its grace period (it then keeps its place in its address's count).
   */
  detach(link: Link, code: number, noResume: boolean): boolean;
  /** Every participant leaves (the relay is closing). */
  clear(): void;
  /** @returns the current counts. */
  counts(): ParticipantCounts;
  /** Releases what the implementation holds outside this process (rooms shared through Redis); after {@link clear}. */
  close?(): Promise<void>;
  /** Rooms shared through Redis: whether Redis is reachable now (`/healthz`). Absent for in-memory rooms. */
  readonly redisUp?: boolean;
  /**
   * A host action or `cancel` from `link` (`hosts/host-participants.ts` enforces who may do what). Absent: the
   * connection answers `forbidden`.
   */
  host?(link: Link, message: HostClientMessage): void;
}

/** Counts from {@link Participants.counts}. */
export interface ParticipantCounts {
  /** Non-empty rooms. */
  rooms: number;
  /** Participants in all rooms, in their grace period or not. */
  peers: number;
  /** Participants in their grace period. */
  resuming: number;
  /** Bytes of signals queued for participants in their grace period. */
  queuedBytes: number;
}

/** What `LocalParticipants` (`local-participants.ts`) needs from the relay. */
export interface ParticipantsContext {
  readonly config: Pick<
    ResolvedRelayOptions,
    'maxPeersPerRoom' | 'resumeGraceMs' | 'resumeQueueBytes' | 'maxResumingPeers' | 'maxResumeQueueTotalBytes'
  >;
  readonly log: Logger;
  readonly metrics: Pick<RelayMetrics, 'resumes' | 'relayed'>;
  /**
   * @param id the participant's ID.
   * @returns the ICE servers for its welcome (TURN credentials are minted per participant and per welcome).
   */
  iceServers(id: string): IceServer[];
  /** @returns whether the relay is closing: a lost link then leaves at once. */
  isClosing(): boolean;
  /** @param address one connection or participant in grace less for this client address. */
  release(address: string): void;
  /** Called once a participant has left its room for good (after `peer-left` went out): the SFU's rooms follow. */
  departed?(joined: Joined): void;
  /** Called with every welcome before it is sent: the host layer adds the role (`hosts/host-participants.ts`). */
  welcome?(link: Link, welcome: WelcomeMessage): void;
}

export { displayName, randomToken, sameSecret } from './identities.js';
export { LocalParticipants, type Member } from './local-participants.js';
