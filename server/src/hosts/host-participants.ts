/**
 * Hosts and guests: a {@link Participants} around the relay's own one (in memory, with or without the SFU) that
 * enforces the rules of `docs/protocol.md` "Hosts and guests". Everything else is the inner implementation's.
 *
 * - Roles from the token's `role` claim (absent: guest); version 1 clients are guests and are sent no host message.
 * - A guest whose token says `knock: true`, or any guest on a `--knock` relay unless its token says `knock: false`,
 *   waits outside ({@link Knock}): `waiting` to it, `knocking` to the hosts (hosts joining later get the queue), until
 *   a host admits or denies it, it cancels or disconnects, or `knockTimeoutMs` runs out. Knocks are limited per
 *   address and room ({@link KnockLimiter}) and per room ({@link MAX_KNOCKS_PER_ROOM}).
 * - Only a host may `admit`, `deny`, `remove`, `lock`, `unlock`, `end`, `ask-unmute` or `mute-request`: from a
 *   guest, `forbidden`. A locked room refuses guests' joins and knocks (`room-locked`), never hosts'. A removed
 *   participant's token ID is refused (`removed`) for the room's lifetime.
 *
 * The state is per process ({@link RoomPolicy}); with rooms shared through Redis, `shared-host-participants.ts` keeps it
 * in Redis instead.
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import {
  CloseCode,
  type HostClientMessage,
  type HostServerMessage,
  type KnockOutcome,
  type ResumeCredentials,
  type SignalRequest,
  type WelcomeMessage,
} from '../../../src/protocol/relay.js';
import type { Logger } from '../log.js';
import {
  randomToken,
  type JoinDetails,
  type Joined,
  type Link,
  type ParticipantCounts,
  type Participants,
} from '../participants.js';
import type { HostMetrics } from './host-metrics.js';
import { actor, addRole, decideJoin, knocking, OPEN, putOut, refuseWaiting, toHosts } from './host-rules.js';
import type { Entry, HostAction } from './host-rules.js';
import { KnockLimiter, MAX_KNOCKS_PER_ROOM } from './knock-limit.js';
import type { ResolvedHostOptions } from './options.js';
import { reachable, RoomPolicy, type HostMember, type Knock } from './room-policy.js';

/** Participants with hosts and guests; see the module documentation. */
export class HostParticipants implements Participants {
  readonly #inner: Participants;
  readonly #config: ResolvedHostOptions;
  readonly #log: Logger;
  readonly #metrics: HostMetrics;
  readonly #rooms = new Map<string, RoomPolicy>();
  /** Links waiting outside a room, and their knock. */
  readonly #knockOf = new Map<Link, Knock>();
  /** What each link being admitted or resumed will be, read by {@link welcome}. */
  readonly #pending = new Map<Link, Entry>();
  readonly #limiter = new KnockLimiter();

  /**
   * @param inner the relay's participants, whose context's `departed` calls {@link departed} and `welcome` calls
   *   {@link welcome}.
   */
  constructor(inner: Participants, config: ResolvedHostOptions, log: Logger, metrics: HostMetrics) {
    this.#inner = inner;
    this.#config = config;
    this.#log = log;
    this.#metrics = metrics;
  }

  admit(link: Link, room: string, name: string, caps?: readonly string[], join?: JoinDetails): void | Promise<void> {
    if (refuseWaiting(link, this.#knockOf.has(link))) return;
    const policy = this.#rooms.get(room);
    const tokenId = join?.grant?.tokenId;
    const gate = policy
      ? { locked: policy.locked, removed: tokenId !== undefined && policy.removed.has(tokenId) }
      : OPEN;
    const admission = decideJoin(link, room, join, gate, this.#config.knock, this.#log);
    if (admission.kind === 'knock') this.#knock(link, room, name, caps, admission.join);
    else if (admission.kind === 'enter') return this.#enter(link, room, name, caps, admission.entry, join);
  }

  resume(link: Link, room: string, credentials: ResumeCredentials): void | Promise<void> {
    if (refuseWaiting(link, this.#knockOf.has(link))) return;
    const member = this.#rooms.get(room)?.members.get(credentials.id);
    if (member) this.#pending.set(link, member);
    const done = (): void => {
      this.#pending.delete(link);
      if (!member || link.member?.id !== member.id) return;
      member.link = link;
      this.#greet(member, room);
    };
    const pending = this.#inner.resume(link, room, credentials);
    if (pending) return pending.then(done);
    done();
  }

  signal(link: Link, to: string, data: SignalRequest['data']): void {
    this.#inner.signal(link, to, data);
  }

  leave(link: Link): void {
    const joined = link.member;
    this.#inner.leave(link);
    // Rooms shared through Redis do not call `departed`: follow the departure here too (a no-op when it did).
    if (joined) this.departed(joined);
  }

  detach(link: Link, code: number, noResume: boolean): boolean {
    const knock = this.#knockOf.get(link);
    if (knock) {
      this.#endKnock(knock, 'left');
      return false;
    }
    const joined = link.member;
    const kept = this.#inner.detach(link, code, noResume);
    if (joined && !kept) this.departed(joined);
    return kept;
  }

  clear(): void {
    for (const knock of this.#knockOf.values()) clearTimeout(knock.timer);
    this.#knockOf.clear();
    this.#rooms.clear();
    this.#inner.clear();
  }

  counts(): ParticipantCounts {
    return this.#inner.counts();
  }

  close(): Promise<void> {
    return this.#inner.close?.() ?? Promise.resolve();
  }

  get redisUp(): boolean | undefined {
    return this.#inner.redisUp;
  }

  /** The inner participants' `welcome` hook: the role (v2), and the version this connection speaks. */
  welcome(link: Link, welcome: WelcomeMessage): void {
    addRole(this.#pending.get(link), welcome);
  }

  /** The inner participants' `departed` hook: a participant left its room for good. */
  departed(joined: Joined): void {
    const policy = this.#rooms.get(joined.room);
    const member = policy?.members.get(joined.id);
    if (!policy || !member) return;
    policy.members.delete(joined.id);
    if (member.role === 'host') this.#hostsChanged(joined.room, policy);
    this.#forgetIfEmpty(joined.room, policy);
  }

  host(link: Link, message: HostClientMessage): void {
    if (message.type === 'cancel') {
      const knock = this.#knockOf.get(link);
      if (knock) this.#endKnock(knock, 'cancelled');
      else link.fail('not-joined', 'not waiting to enter a room: nothing to cancel');
      return;
    }
    const isHost = (j: Joined): boolean => this.#rooms.get(j.room)?.members.get(j.id)?.role === 'host';
    const joined = actor(link, message, isHost, this.#metrics, this.#log);
    const policy = joined && this.#rooms.get(joined.room);
    if (!joined || !policy) return;
    const done = this.#act(link, joined, policy, message);
    this.#metrics.actions.inc({ action: message.type, outcome: done ? 'done' : 'unknown' });
    if (done) this.#log.info({ id: joined.id, room: joined.room, action: message.type }, 'host action');
  }

  /** Carries out a host's action. @returns whether it named something that exists (else `unknown-peer` was sent). */
  #act(link: Link, by: Joined, policy: RoomPolicy, message: HostAction): boolean {
    const room = by.room;
    switch (message.type) {
      case 'admit':
      case 'deny': {
        const knock = policy.knocks.get(message.knock);
        if (!knock) {
          link.fail('unknown-peer', `no knock ${JSON.stringify(message.knock)} is waiting for this room`);
          return false;
        }
        if (message.type === 'deny') {
          this.#endKnock(knock, 'denied');
          return true;
        }
        this.#endKnock(knock, undefined);
        const { protocol, grant } = knock.join;
        const entry: Entry = { role: 'guest', protocol, tokenId: grant?.tokenId };
        const announce = (): void => {
          const outcome: KnockOutcome = knock.link.member ? 'admitted' : 'denied';
          this.#toHosts(room, { type: 'knock-ended', knock: knock.id, outcome });
          this.#metrics.knocks.inc({ outcome });
        };
        const pending = this.#enter(knock.link, room, knock.name, knock.caps, entry, knock.join);
        if (pending) void pending.then(announce);
        else announce();
        return true;
      }
      case 'remove':
      case 'ask-unmute':
      case 'mute-request': {
        const id = message.type === 'remove' ? message.id : message.to;
        const target = id === by.id ? undefined : policy.members.get(id);
        if (!target || (message.type !== 'remove' && !reachable(target))) {
          link.fail('unknown-peer', `no other participant ${JSON.stringify(id)} in this room can be sent this`);
          return false;
        }
        if (message.type === 'remove') this.#remove(target, policy, CloseCode.Removed, 'removed by a host', room);
        else target.link.send({ type: message.type, from: by.id, media: message.media });
        return true;
      }
      case 'lock':
      case 'unlock':
        policy.locked = message.type === 'lock';
        this.#roomState(policy);
        return true;
      case 'end':
        for (const knock of [...policy.knocks.values()]) this.#endKnock(knock, 'ended');
        for (const member of [...policy.members.values()]) {
          this.#remove(member, policy, CloseCode.Ended, 'the host ended the call', room);
        }
        return true;
    }
  }

  /**
   * A participant goes for good, now: its token ID is remembered (a `remove`), it leaves (`peer-left` to the others at
   * once) and its connection is closed with `code`. One in its grace period leaves at once too (no resume).
   */
  #remove(member: HostMember, policy: RoomPolicy, code: number, reason: string, room: string): void {
    if (code === CloseCode.Removed && member.tokenId !== undefined) policy.removed.add(member.tokenId);
    putOut(this, member, room, code, reason);
  }

  /** Admits `link` through the inner participants; on success records it and greets it. */
  #enter(
    link: Link,
    room: string,
    name: string,
    caps: readonly string[] | undefined,
    entry: Entry,
    join: JoinDetails | undefined,
  ): void | Promise<void> {
    this.#pending.set(link, entry);
    const done = (): void => {
      this.#pending.delete(link);
      const joined = link.member;
      if (!joined || joined.room !== room) return;
      const policy = this.#policy(room);
      const member: HostMember = { id: joined.id, link, ...entry };
      policy.members.set(joined.id, member);
      if (member.role === 'host') this.#hostsChanged(room, policy);
      else this.#greet(member, room);
    };
    const pending = this.#inner.admit(link, room, name, caps, join);
    if (pending) return pending.then(done);
    done();
  }

  /** After a member's welcome: the room state, and for a host the waiting queue. */
  #greet(member: HostMember, room: string): void {
    const policy = this.#rooms.get(room);
    if (!policy || !reachable(member)) return;
    member.link.send({ type: 'room-state', locked: policy.locked, hosts: policy.hosts() });
    if (member.role !== 'host') return;
    for (const knock of policy.knocks.values()) member.link.send(knocking(knock.id, knock.name));
  }

  /** The set of hosts changed: everyone gets the room state, a new host the queue, knockers the host count. */
  #hostsChanged(room: string, policy: RoomPolicy): void {
    for (const member of policy.members.values()) this.#greet(member, room);
    for (const knock of policy.knocks.values()) knock.link.send(this.#waiting(knock, policy));
  }

  /** Everyone reachable gets the room state. */
  #roomState(policy: RoomPolicy): void {
    const state: HostServerMessage = { type: 'room-state', locked: policy.locked, hosts: policy.hosts() };
    for (const member of policy.members.values()) if (reachable(member)) member.link.send(state);
  }

  #knock(link: Link, room: string, name: string, caps: readonly string[] | undefined, join: JoinDetails): void {
    const existing = this.#rooms.get(room);
    if (!this.#limiter.take(link.ip, room, performance.now()) || (existing?.knocks.size ?? 0) >= MAX_KNOCKS_PER_ROOM) {
      this.#metrics.knocks.inc({ outcome: 'rate-limited' });
      this.#log.warn({ ip: link.ip, room }, 'knock refused: too many knocks');
      link.fail('rate-limited', `too many knocks on room ${JSON.stringify(room)}: try again later`);
      return;
    }
    const policy = this.#policy(room);
    const knock: Knock = { id: randomToken(), room, link, name, caps, join, timer: undefined };
    knock.timer = setTimeout(() => {
      knock.timer = undefined;
      this.#endKnock(knock, 'timeout');
    }, this.#config.knockTimeoutMs);
    knock.timer.unref();
    policy.knocks.set(knock.id, knock);
    this.#knockOf.set(link, knock);
    link.waiting = true;
    this.#metrics.knocks.inc({ outcome: 'knocked' });
    this.#log.debug({ ip: link.ip, room, knock: knock.id }, 'knocking');
    link.send(this.#waiting(knock, policy));
    this.#toHosts(room, knocking(knock.id, knock.name));
  }

  /**
   * A knock leaves the queue. The knocker gets `denied` (for `denied`, `timeout`, `ended`), the hosts `knock-ended`
   * (unless `outcome` is `undefined`: an admission, announced once the welcome is out).
   */
  #endKnock(knock: Knock, outcome: Exclude<KnockOutcome, 'admitted'> | undefined): void {
    const policy = this.#rooms.get(knock.room);
    clearTimeout(knock.timer);
    policy?.knocks.delete(knock.id);
    this.#knockOf.delete(knock.link);
    knock.link.waiting = false;
    if (outcome === undefined) return;
    this.#metrics.knocks.inc({ outcome });
    if (outcome === 'denied' || outcome === 'timeout' || outcome === 'ended' || outcome === 'locked') {
      knock.link.send({ type: 'denied', reason: outcome });
    }
    if (policy) {
      this.#toHosts(knock.room, { type: 'knock-ended', knock: knock.id, outcome });
      this.#forgetIfEmpty(knock.room, policy);
    }
  }

  #waiting(knock: Knock, policy: RoomPolicy): HostServerMessage {
    return { type: 'waiting', room: knock.room, hosts: policy.hosts().length, timeoutMs: this.#config.knockTimeoutMs };
  }

  #toHosts(room: string, message: HostServerMessage): void {
    toHosts(this.#rooms.get(room)?.members.values() ?? [], message);
  }

  #policy(room: string): RoomPolicy {
    let policy = this.#rooms.get(room);
    if (!policy) {
      policy = new RoomPolicy();
      this.#rooms.set(room, policy);
    }
    return policy;
  }

  #forgetIfEmpty(room: string, policy: RoomPolicy): void {
    if (policy.empty && this.#rooms.get(room) === policy) this.#rooms.delete(room);
  }
}
