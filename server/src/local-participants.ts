/**
 * One relay's participants in memory ({@link LocalParticipants}, the {@link Participants} of a relay without Redis):
 * join (admit), resume, the resume grace period, departure, and delivery of relay messages (`welcome`, `peer-joined`,
 * `peer-left`, `signal`), as `docs/protocol.md` describes them.
 *
 * Every membership fact lives in **one** structure, the {@link RoomRegistry} (`rooms.ts`), which stores the
 * {@link Member} objects themselves: there is no second map by ID. Its rules are unit-tested with fake links
 * (`test/node/relay/participants.test.ts`).
 *
 * The grace period: a participant whose connection was lost stays in its room for everyone for
 * `resumeGraceMs`; signals to it are queued (bounded per participant and relay-wide) and flushed after its welcome when
 * it resumes with its ID and latest secret; without a resume it leaves when the timer fires.
 *
 * One piece (half of it documentation): admission, resume, the grace timer, the queues and departure all read and
 * write the same per-member state and the two relay-wide counts (participants in grace, bytes queued); spread over
 * files, that one state machine would have no single place to read it.
 *
 * @module
 */
import {
  CloseCode,
  encode,
  PROTOCOL_VERSION,
  type PeerInfo,
  type ResumeCredentials,
  type ServerMessage,
  type SignalRequest,
  type WelcomeMessage,
} from '../../src/protocol/relay.js';
import { displayName, randomToken, sameSecret } from './identities.js';
import type { Joined, Link, ParticipantCounts, Participants, ParticipantsContext } from './participants.js';
import { RoomRegistry } from './rooms.js';

/**
 * A participant: in a room from its `join` until it leaves, with or without a link. Without one it is in its resume
 * grace period: still in the room for everyone, signals to it queued.
 */
export interface Member extends Joined, PeerInfo {
  readonly id: string;
  readonly name: string;
  /** The address of its latest link: it counts against it while in its grace period. */
  ip: string;
  /** The latest resume secret handed out (base64url of 16 random bytes); only this one is valid. */
  secret: string;
  /** The link serving it, or `undefined` during the grace period. */
  link: Link | undefined;
  /** Runs during the grace period; the participant leaves when it fires. */
  graceTimer: NodeJS.Timeout | undefined;
  /** Encoded frames for it, kept during the grace period. */
  queue: string[];
  /** Bytes in {@link queue} (UTF-8). */
  queueBytes: number;
}

/** The one answer to every failed resume, whatever the reason. */
const RESUME_FAILED = 'cannot resume: join again without resume';

/**
 * One relay's participants, in memory, over one {@link RoomRegistry} of {@link Member}s.
 */
export class LocalParticipants implements Participants {
  readonly #rooms: RoomRegistry<Member>;
  readonly #ctx: ParticipantsContext;
  /** Participants in their grace period, and the bytes queued for all of them (see `maxResumeQueueTotalBytes`). */
  #resuming = 0;
  #queuedBytes = 0;

  /** @param ctx options, logger, metrics and the relay's hooks. */
  constructor(ctx: ParticipantsContext) {
    this.#ctx = ctx;
    this.#rooms = new RoomRegistry<Member>(ctx.config.maxPeersPerRoom);
  }

  admit(link: Link, room: string, name: string): void {
    // 128 random bits: an ID is all it takes to address a peer, so it must not be guessable or enumerable.
    const id = randomToken();
    const member: Member = {
      id,
      room,
      name: displayName(name),
      ip: link.ip,
      secret: '',
      link: undefined,
      graceTimer: undefined,
      queue: [],
      queueBytes: 0,
    };
    const result = this.#rooms.join(room, member);
    if (!result.ok) {
      link.fail('room-full', `room ${JSON.stringify(room)} is full (${this.#rooms.capacity} participants)`);
      return;
    }
    this.#ctx.log.debug({ ip: link.ip, id, room }, 'joined');
    // Welcome first: anyone reacting to peer-joined may signal the newcomer at once, and it must know its ID by then.
    this.#attach(link, member, result.peers, false);
    this.#broadcast(room, { type: 'peer-joined', peer: { id, name: member.name } }, id);
  }

  resume(link: Link, room: string, credentials: ResumeCredentials): void {
    const { config, metrics, log } = this.#ctx;
    const member = this.#rooms.get(credentials.id);
    if (
      config.resumeGraceMs === 0 ||
      !member ||
      member.room !== room ||
      !sameSecret(member.secret, credentials.secret)
    ) {
      metrics.resumes.inc({ outcome: 'failed' });
      log.info({ ip: link.ip, room }, 'resume refused');
      link.fail('resume-failed', RESUME_FAILED);
      return;
    }
    this.#endGrace(member);
    const previous = member.link;
    if (previous) {
      // The old connection is still open as far as we know (a half-open TCP connection is only noticed by the
      // heartbeat): the client has moved on, so the new connection takes over and the old one is closed without
      // taking the participant with it.
      previous.member = undefined;
      member.link = undefined;
      previous.close(CloseCode.Replaced, 'resumed on another connection');
    }
    metrics.resumes.inc({ outcome: 'resumed' });
    log.debug({ ip: link.ip, id: member.id, room, queued: member.queue.length }, 'resumed');
    this.#attach(link, member, this.#rooms.peersOf(member.id), true);
  }

  signal(link: Link, to: string, data: SignalRequest['data']): void {
    const sender = link.member;
    if (sender === undefined) return;
    const target = to === sender.id ? undefined : this.#rooms.get(to);
    // Routing is scoped to the sender's own room: an ID from elsewhere is as unknown as a made-up one.
    if (!target || target.room !== sender.room) {
      link.fail('unknown-peer', `no other peer ${JSON.stringify(to)} in this room`);
      return;
    }
    // Push back on the sender, not the addressee: a member that reads slowly is not dropped because another one sends
    // it more than it can take (and a signal is small enough that the queue stays under maxBufferedBytes).
    if (target.link?.congested) {
      link.fail(
        'rate-limited',
        `peer ${JSON.stringify(to)} is not reading fast enough: signal not delivered, ` + 'send it again later',
      );
      return;
    }
    // `from` is stamped here, from the link, never taken from the client: it cannot be spoofed.
    if (this.#deliver(target, { type: 'signal', from: sender.id, data })) {
      if (target.link) this.#ctx.metrics.relayed += 1;
    } else if (!target.link) {
      link.fail('unknown-peer', `peer ${JSON.stringify(to)} is reconnecting and its queue is full`);
    }
  }

  leave(link: Link): void {
    const member = link.member === undefined ? undefined : this.#rooms.get(link.member.id);
    if (member) this.#depart(member);
    link.member = undefined;
  }

  /**
   * A client that closed on purpose (1000, 1001 as a browser sends when the page goes away, or 1005) leaves at
   * once. A link that was lost (1006: network gone, heartbeat failed, terminated for not reading) or closed with any
   * other code keeps its participant for the grace period, so that it can resume; except when resume is off, the
   * relay is closing, the link was closed for abuse, or `maxResumingPeers` are in their grace period already.
   */
  detach(link: Link, code: number, noResume: boolean): boolean {
    const joined = link.member;
    if (!joined) return false;
    link.member = undefined;
    const member = this.#rooms.get(joined.id);
    if (!member || member.link !== link) return false;
    const { config, log } = this.#ctx;
    const onPurpose = code === CloseCode.Normal || code === CloseCode.GoingAway || code === 1005;
    if (config.resumeGraceMs === 0 || this.#ctx.isClosing() || noResume || onPurpose) {
      this.#depart(member);
      return false;
    }
    if (this.#resuming >= config.maxResumingPeers) {
      log.warn(
        { id: member.id, room: member.room, resuming: this.#resuming },
        'too many participants in their grace period: leaving at once',
      );
      this.#depart(member);
      return false;
    }
    member.link = undefined;
    this.#resuming++;
    log.debug({ id: member.id, room: member.room, graceMs: config.resumeGraceMs }, 'connection lost: grace period');
    member.graceTimer = setTimeout(() => {
      // Fired, so endGrace (through depart) has nothing to stop: the grace period's counts are given back here.
      member.graceTimer = undefined;
      this.#resuming--;
      this.#ctx.release(member.ip);
      if (member.link === undefined && this.#rooms.get(member.id) === member) {
        this.#ctx.metrics.resumes.inc({ outcome: 'expired' });
        this.#depart(member);
      }
    }, config.resumeGraceMs);
    member.graceTimer.unref();
    return true;
  }

  clear(): void {
    for (const member of this.#rooms.all()) this.#depart(member);
  }

  counts(): ParticipantCounts {
    return {
      rooms: this.#rooms.roomCount,
      peers: this.#rooms.peerCount,
      resuming: this.#resuming,
      queuedBytes: this.#queuedBytes,
    };
  }

  /**
   * Serves `member` on `link` from now on and sends the welcome, with a fresh resume secret (the previous one stops
   * working) and, after a resume, the signals queued meanwhile.
   */
  #attach(link: Link, member: Member, peers: PeerInfo[], resumed: boolean): void {
    const { config, metrics } = this.#ctx;
    link.member = member;
    member.link = link;
    member.ip = link.ip;
    const welcome: WelcomeMessage = {
      type: 'welcome',
      id: member.id,
      room: member.room,
      peers,
      iceServers: this.#ctx.iceServers(member.id),
      protocol: PROTOCOL_VERSION,
    };
    if (config.resumeGraceMs > 0) {
      member.secret = randomToken();
      welcome.resume = member.secret;
    }
    if (resumed) welcome.resumed = true;
    this.#ctx.welcome?.(link, welcome);
    link.send(welcome);
    const queued = member.queue;
    this.#dropQueue(member);
    for (const frame of queued) {
      if (!link.sendEncoded(frame)) break;
      metrics.relayed += 1;
    }
  }

  /** A participant leaves its room for good: the others get peer-left. */
  #depart(member: Member): void {
    this.#endGrace(member);
    if (member.link) member.link.member = undefined;
    member.link = undefined;
    this.#dropQueue(member);
    const left = this.#rooms.leave(member.id);
    if (left) this.#broadcast(left.room, { type: 'peer-left', id: member.id }, member.id);
    this.#ctx.log.debug({ id: member.id, room: member.room }, 'left');
    if (left) this.#ctx.departed?.(member);
  }

  /**
   * Sends `message` to a participant: on its link, or (a signal) into its queue during the grace period.
   * @returns whether it was sent or queued.
   */
  #deliver(member: Member, message: ServerMessage): boolean {
    if (member.link) return member.link.send(message);
    // Membership changes are not queued: the resumed welcome carries the room as it is then.
    if (message.type !== 'signal') return false;
    const { config } = this.#ctx;
    const frame = encode(message);
    const bytes = Buffer.byteLength(frame);
    if (member.queueBytes + bytes > config.resumeQueueBytes) return false;
    if (this.#queuedBytes + bytes > config.maxResumeQueueTotalBytes) return false;
    member.queue.push(frame);
    member.queueBytes += bytes;
    this.#queuedBytes += bytes;
    return true;
  }

  /** {@link deliver}s `message` to everyone in `room` but `except`. */
  #broadcast(room: string, message: ServerMessage, except: string): void {
    for (const member of this.#rooms.each(room)) {
      if (member.id !== except) this.#deliver(member, message);
    }
  }

  /** Empties a participant's resume queue, keeping the relay-wide count of queued bytes. */
  #dropQueue(member: Member): void {
    this.#queuedBytes -= member.queueBytes;
    member.queue = [];
    member.queueBytes = 0;
  }

  /**
   * Ends a participant's grace period, if it is in one (it resumed or leaves): the timer stops and the participant no
   * longer counts against its address or `maxResumingPeers`.
   */
  #endGrace(member: Member): void {
    if (member.graceTimer === undefined) return;
    clearTimeout(member.graceTimer);
    member.graceTimer = undefined;
    this.#resuming--;
    this.#ctx.release(member.ip);
  }
}
