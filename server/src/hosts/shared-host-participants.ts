/**
 * Hosts and guests when several relay processes share rooms through Redis (`--redis-url` with room tokens): the
 * outermost {@link Participants}, with the rules of `host-participants.ts` (`docs/protocol.md` "Hosts and guests"),
 * where the room's host state is room state, not process state (`shared-state.ts`: lock, removed token IDs, waiting
 * queue, roles, in Redis; each decision one Lua script).
 *
 * - A relay keeps only what it serves: its members' links and roles, and the knockers whose sockets it holds (their
 *   timeout timers run here).
 * - Every effect on participants travels as an event on the channel of the relays concerned, this relay's own
 *   included, and each relay delivers it to its own participants ({@link SharedHostParticipants.heard}): the room
 *   state, knocks and their ends to hosts, an admission to the knocker's relay, a removal or a host's request to the
 *   participant's relay, the end to everyone.
 * - A removal or the end is gone now: a connected participant leaves (`peer-left` at once) and is closed with 4004 or
 *   4005; one in its grace period on this relay leaves at once too; its resume is refused on every relay.
 * - Knock flood limits are per address and room on each relay process (`knock-limit.ts`); the per-room queue limit is
 *   shared.
 *
 * Redis unreachable: a join or resume is closed with 1013 (the element retries), a host action is answered with an
 * `error` and logged.
 *
 * @module
 */
import {
  CloseCode,
  type HostClientMessage,
  type HostServerMessage,
  type KnockOutcome,
  type MediaKind,
  type ResumeCredentials,
  type SignalRequest,
  type WelcomeMessage,
} from '../../../src/protocol/relay.js';
import type { Logger } from '../log.js';
import type { JoinDetails, Joined, Link, ParticipantCounts, Participants } from '../participants.js';
import type { HostMetrics } from './host-metrics.js';
import { actor, addRole, decideJoin, knocking, OPEN, putOut, refuseWaiting, toHosts } from './host-rules.js';
import type { Entry, HostAction } from './host-rules.js';
import { SharedKnocks } from './shared-knocks.js';
import type { ResolvedHostOptions } from './options.js';
import { reachable, type HostMember, type Knock } from './room-policy.js';
import { parseHostEvent, SharedHostState, type HostEvent, type RoomSnapshot } from './shared-state.js';

/** What the relay's Redis participants offer this module (`redis/participants-redis.ts`). */
export interface RedisSide {
  /** This relay's node ID in Redis. */
  readonly node: string;
  /** Hears this node's channel messages of kind `x`. */
  onExtension: ((text: string) => void) | undefined;
}

/** Whether `inner` is the relay's Redis participants. */
export function isRedisSide(inner: Participants): inner is Participants & RedisSide {
  return 'onExtension' in inner && typeof (inner as Partial<RedisSide>).node === 'string';
}

/** The settings this layer reads. */
export interface SharedHostConfig extends ResolvedHostOptions {
  readonly redisUrl: string;
  readonly redisPrefix: string;
  /** After this long without its link (ms), a member in its grace period is forgotten here. */
  readonly forgetAfterMs: number;
}

/** How often, in ms, each relay runs the janitor (`shared-state.ts`). */
export const HOSTS_JANITOR_MS = 2_000;

const RESUME_FAILED = 'cannot resume: join again without resume';
const TRY_LATER = 'shared rooms unavailable, try again later';

/** One room as this relay serves it. */
interface LocalRoom {
  readonly members: Map<string, HostMember>;
}

/** Participants with hosts and guests whose room state is in Redis; see the module documentation. */
export class SharedHostParticipants implements Participants {
  readonly #inner: Participants;
  readonly #config: SharedHostConfig;
  readonly #log: Logger;
  readonly #metrics: HostMetrics;
  readonly #store: SharedHostState;
  readonly #rooms = new Map<string, LocalRoom>();
  readonly #pending = new Map<Link, Entry>();
  readonly #knocks: SharedKnocks;
  readonly #timer: NodeJS.Timeout;

  constructor(inner: Participants, redis: RedisSide, config: SharedHostConfig, log: Logger, metrics: HostMetrics) {
    this.#inner = inner;
    this.#config = config;
    this.#log = log;
    this.#metrics = metrics;
    this.#store = new SharedHostState(config.redisUrl, config.redisPrefix, log);
    this.#knocks = new SharedKnocks(this.#store, config, log, metrics, () => redis.node);
    // The SFU's shared rooms may listen already: their `x` messages go on to them.
    const previous = redis.onExtension;
    redis.onExtension = (text) => {
      const event = parseHostEvent(text);
      if (event) this.heard(event);
      else previous?.(text);
    };
    this.#timer = setInterval(() => {
      this.#store.janitor().catch((error: unknown) => log.debug({ err: String(error) }, 'hosts: janitor failed'));
    }, HOSTS_JANITOR_MS);
    this.#timer.unref();
  }

  async admit(link: Link, room: string, name: string, caps?: readonly string[], join?: JoinDetails): Promise<void> {
    if (refuseWaiting(link, !!this.#knocks.of(link))) return;
    let gate = OPEN;
    if (join?.grant) {
      try {
        gate = await this.#store.check(room, join.grant.tokenId);
      } catch (error) {
        this.#unavailable(link, error, 'join');
        return;
      }
    }
    const admission = decideJoin(link, room, join, gate, this.#config.knock, this.#log);
    if (admission.kind === 'knock') await this.#knocks.knock(link, room, name, caps, admission.join);
    else if (admission.kind === 'enter') await this.#enter(link, room, name, caps, admission.entry, join);
  }

  async resume(link: Link, room: string, credentials: ResumeCredentials): Promise<void> {
    if (refuseWaiting(link, !!this.#knocks.of(link))) return;
    let known;
    try {
      known = await this.#store.resume(room, credentials.id);
    } catch (error) {
      this.#unavailable(link, error, 'resume');
      return;
    }
    if (known.out) {
      link.fail('resume-failed', RESUME_FAILED);
      return;
    }
    const was = this.#rooms.get(room)?.members.get(credentials.id) ?? known.entry;
    const entry: Entry = { role: was?.role ?? 'guest', protocol: was?.protocol ?? 1, tokenId: was?.tokenId };
    this.#pending.set(link, entry);
    try {
      await this.#inner.resume(link, room, credentials);
    } finally {
      this.#pending.delete(link);
    }
    const joined = link.member;
    if (!joined || joined.id !== credentials.id) return;
    const member: HostMember = { id: joined.id, link, ...entry };
    this.#room(room).members.set(joined.id, member);
    await this.#greet(member, room, () => this.#store.state(room));
  }

  signal(link: Link, to: string, data: SignalRequest['data']): void {
    this.#inner.signal(link, to, data);
  }

  leave(link: Link): void {
    const joined = link.member;
    this.#inner.leave(link);
    if (joined) this.departed(joined);
  }

  detach(link: Link, code: number, noResume: boolean): boolean {
    const knock = this.#knocks.of(link);
    if (knock) {
      void this.#knocks.giveUp(knock, 'left');
      return false;
    }
    const joined = link.member;
    const kept = this.#inner.detach(link, code, noResume);
    if (joined && !kept) this.departed(joined);
    else if (joined) {
      // In its grace period: it resumes here (a new member record), on another relay, or leaves; forgotten here later.
      const member = this.#rooms.get(joined.room)?.members.get(joined.id);
      setTimeout(() => {
        if (member && this.#rooms.get(joined.room)?.members.get(joined.id) === member && member.link === link) {
          this.#forget(joined.room, joined.id);
        }
      }, this.#config.forgetAfterMs).unref();
    }
    return kept;
  }

  clear(): void {
    this.#knocks.clear();
    this.#rooms.clear();
    this.#inner.clear();
  }

  counts(): ParticipantCounts {
    return this.#inner.counts();
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#inner.close?.();
    await this.#store.close();
  }

  get redisUp(): boolean | undefined {
    return this.#inner.redisUp;
  }

  /** The inner participants' `welcome` hook: the role (v2), and the version this connection speaks. */
  welcome(link: Link, welcome: WelcomeMessage): void {
    addRole(this.#pending.get(link), welcome);
  }

  /** A participant of this relay left its room for good (its leave, or a lost link without grace). */
  departed(joined: Joined): void {
    if (!this.#forget(joined.room, joined.id)) return;
    this.#store.left(joined.room, joined.id).catch((error: unknown) => {
      this.#log.warn({ room: joined.room, err: String(error) }, 'hosts: departure not recorded (the janitor will)');
    });
  }

  host(link: Link, message: HostClientMessage): void {
    if (message.type === 'cancel') {
      const knock = this.#knocks.of(link);
      if (knock) void this.#knocks.giveUp(knock, 'cancelled');
      else link.fail('not-joined', 'not waiting to enter a room: nothing to cancel');
      return;
    }
    const isHost = (j: Joined): boolean => this.#rooms.get(j.room)?.members.get(j.id)?.role === 'host';
    const joined = actor(link, message, isHost, this.#metrics, this.#log);
    if (!joined) return;
    this.#act(joined, message).then(
      (done) => {
        this.#metrics.actions.inc({ action: message.type, outcome: done ? 'done' : 'unknown' });
        if (done) this.#log.info({ id: joined.id, room: joined.room, action: message.type }, 'host action');
        else link.fail('unknown-peer', `no such knock or other participant in this room for ${message.type}`);
      },
      (error: unknown) => {
        this.#log.warn({ room: joined.room, action: message.type, err: String(error) }, 'hosts: Redis failed');
        link.fail('rate-limited', `${message.type} not done: shared rooms unavailable, try again later`);
      },
    );
  }

  /**
   * An event from Redis for this relay's participants (see `shared-state.ts` {@link HostEvent}).
   */
  heard(event: HostEvent): void {
    const local = this.#rooms.get(event.r);
    switch (event.k) {
      case 'rs': {
        const state: HostServerMessage = { type: 'room-state', locked: event.l, hosts: event.h };
        for (const member of local?.members.values() ?? []) {
          if (!reachable(member)) continue;
          member.link.send(state);
          if (event.q && member.role === 'host') {
            for (let i = 0; i + 1 < event.q.length; i += 2) {
              member.link.send(knocking(event.q[i] ?? '', event.q[i + 1] ?? ''));
            }
          }
        }
        if (event.q)
          for (const knock of this.#knocks.inRoom(event.r))
            knock.link.send(this.#knocks.waitingMessage(knock, event.h.length));
        return;
      }
      case 'kn':
        this.#toHosts(event.r, knocking(event.id, event.n));
        return;
      case 'ke': {
        const knock = this.#knocks.get(event.r, event.id);
        if (knock) this.#knocks.end(knock, event.o as KnockOutcome);
        this.#toHosts(event.r, { type: 'knock-ended', knock: event.id, outcome: event.o as KnockOutcome });
        return;
      }
      case 'ad': {
        const knock = this.#knocks.get(event.r, event.id);
        if (!knock) {
          void this.#store.announce(event.r, event.id, 'left').catch(() => undefined);
          return;
        }
        this.#knocks.end(knock, undefined);
        void this.#letIn(knock);
        return;
      }
      case 'rm': {
        const member = local?.members.get(event.id);
        if (member) this.#goNow(member, CloseCode.Removed, 'removed by a host');
        return;
      }
      case 'ask': {
        const member = local?.members.get(event.id);
        if (member && reachable(member) && (event.t === 'ask-unmute' || event.t === 'mute-request')) {
          member.link.send({ type: event.t, from: event.by, media: event.m as MediaKind });
        }
        return;
      }
      case 'end':
        for (const id of event.ks) {
          const knock = this.#knocks.get(event.r, id);
          if (knock) this.#knocks.end(knock, 'ended');
          this.#toHosts(event.r, { type: 'knock-ended', knock: id, outcome: 'ended' });
        }
        for (const member of [...(local?.members.values() ?? [])]) {
          this.#goNow(member, CloseCode.Ended, 'the host ended the call');
        }
        return;
    }
  }

  /** Carries out a host's action in Redis. @returns whether it named something that exists. */
  async #act(by: Joined, message: HostAction): Promise<boolean> {
    const room = by.room;
    switch (message.type) {
      case 'admit':
      case 'deny':
        return this.#store.take(room, message.knock, message.type === 'admit' ? 'admitted' : 'denied');
      case 'remove':
        return this.#store.target(room, by.id, message.id, 'remove');
      case 'ask-unmute':
      case 'mute-request':
        return this.#store.target(room, by.id, message.to, message.type, message.media);
      case 'lock':
      case 'unlock':
        await this.#store.lock(room, message.type === 'lock');
        return true;
      case 'end':
        await this.#store.end(room);
        return true;
    }
  }

  /** Removal or end: gone now, `peer-left` at once, whether connected (closed with `code`) or in its grace period. */
  #goNow(member: HostMember, code: number, reason: string): void {
    putOut(this, member, this.#roomOf(member), code, reason);
  }

  #roomOf(member: HostMember): string {
    for (const [room, local] of this.#rooms) if (local.members.get(member.id) === member) return room;
    return '';
  }

  /** An admitted knocker (of this relay) enters; the hosts of every relay hear the outcome. */
  async #letIn(knock: Knock): Promise<void> {
    const { protocol, grant } = knock.join;
    await this.#enter(
      knock.link,
      knock.room,
      knock.name,
      knock.caps,
      { role: 'guest', protocol, tokenId: grant?.tokenId },
      knock.join,
    );
    const outcome: KnockOutcome = knock.link.member ? 'admitted' : 'denied';
    this.#metrics.knocks.inc({ outcome });
    await this.#store.announce(knock.room, knock.id, outcome).catch((error: unknown) => {
      this.#log.warn({ room: knock.room, err: String(error) }, 'hosts: admission not announced');
    });
  }

  /** Admits `link` through the inner participants; on success records its role in Redis and greets it. */
  async #enter(
    link: Link,
    room: string,
    name: string,
    caps: readonly string[] | undefined,
    entry: Entry,
    join: JoinDetails | undefined,
  ): Promise<void> {
    this.#pending.set(link, entry);
    try {
      await this.#inner.admit(link, room, name, caps, join);
    } finally {
      this.#pending.delete(link);
    }
    const joined = link.member;
    if (!joined || joined.room !== room) return;
    const member: HostMember = { id: joined.id, link, ...entry };
    this.#room(room).members.set(joined.id, member);
    // A host's arrival reaches every relay (this one included) as `rs` with the queue: nothing more to send here.
    const snapshot = () => this.#store.enter(room, joined.id, entry);
    if (entry.role === 'host') await snapshot().catch((error: unknown) => this.#lost(room, error));
    else await this.#greet(member, room, snapshot);
  }

  /** After a member's welcome: the room state, and for a host the waiting queue. */
  async #greet(member: HostMember, room: string, read: () => Promise<RoomSnapshot>): Promise<void> {
    let snapshot;
    try {
      snapshot = await read();
    } catch (error) {
      this.#lost(room, error);
      return;
    }
    if (!reachable(member)) return;
    member.link.send({ type: 'room-state', locked: snapshot.locked, hosts: snapshot.hosts });
    if (member.role !== 'host') return;
    for (const { id, name } of snapshot.knocks) member.link.send(knocking(id, name));
  }

  #toHosts(room: string, message: HostServerMessage): void {
    toHosts(this.#rooms.get(room)?.members.values() ?? [], message);
  }

  #unavailable(link: Link, error: unknown, what: string): void {
    this.#log.warn({ ip: link.ip, err: String(error) }, `hosts: ${what}: Redis failed`);
    link.close(CloseCode.TryAgainLater, TRY_LATER);
  }

  #lost(room: string, error: unknown): void {
    this.#log.warn({ room, err: String(error) }, 'hosts: room state unavailable');
  }

  #room(room: string): LocalRoom {
    let local = this.#rooms.get(room);
    if (!local) {
      local = { members: new Map() };
      this.#rooms.set(room, local);
    }
    return local;
  }

  /** Forgets a member here. @returns whether it was known. */
  #forget(room: string, id: string): boolean {
    const local = this.#rooms.get(room);
    if (!local?.members.delete(id)) return false;
    this.#tidy(room, local);
    return true;
  }

  #tidy(room: string, local: LocalRoom): void {
    if (local.members.size === 0 && this.#rooms.get(room) === local) this.#rooms.delete(room);
  }
}
