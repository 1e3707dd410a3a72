/**
 * Rooms that switch from the mesh to the SFU when several relay processes share them through Redis (`--redis-url`
 * with `--janus-url`): the {@link Participants} around the relay's Redis participants (`redis/participants-redis.ts`).
 * The rules are those of one process (`sfu-participants.ts`, `docs/protocol.md` "Rooms on an SFU"); what changes is
 * where the room's mode lives: in Redis (`shared-rooms.ts`), decided by one script per join, before the relay's own
 * join script runs.
 *
 * - **Join**: `admit` decides (refused: `room-full`; admitted with the mode, perhaps switching the room) and holds a
 *   reservation; the mode goes to the newcomer before its welcome; on a switch, this relay's members hear `mode` at
 *   once and every other relay's through its channel (`x` messages, before that relay hears the newcomer's
 *   `joined`: both travel on its one channel, in order); then the relay's participants admit it, and the reservation
 *   is confirmed with its ID and capability.
 * - **Brokering**: each relay brokers its own participants (`broker.ts`) into the one Janus room whose ID, pin and
 *   secret the room state holds; publishers another relay brokers are learnt from Janus's events.
 * - **Leaving this relay** (left, its grace period ran out, or it resumed on another relay): its Janus session goes;
 *   `release` removes the room state when nobody is left on any relay, and the relay that wins that claim destroys the
 *   Janus room. Every `JANITOR_MS` each relay checks its participants in their grace period against Redis and claims
 *   rooms that emptied unclaimed (a relay that died, or the last two leaving at once on two relays).
 *
 * - **Resuming**: the relay records in Redis that it brokers the participant from now on (`take`), and learns which
 *   relay did before. On the relay that brokers it, nothing changes (its Janus sessions went on). On another relay
 *   (or on this one after a participant it never brokered, or one that moved to another relay and came back before
 *   this relay's janitor noticed): the relay reads the room's state (and its claim), enters the participant fresh
 *   (`broker.ts`: a publisher Janus still holds under its ID is kicked) and sends it `mode` after its welcome, on which
 *   the element publishes and subscribes again.
 * - **Fenced** (this relay's lease was lost, `redis/upkeep.ts`): the relay closes its connections and goes on under a
 *   new node ID; its members stay brokered here, in their grace period, while Redis holds them under the old ID, and
 *   leave this relay only once Redis says they moved or left.
 * - **Redis restarted empty**: after the relay wrote back its participants (`redis/upkeep.ts`'s write-back hook), the
 *   rooms' SFU keys follow (`SharedRooms.writeBack`).
 *
 * Redis unreachable: a join or resume is closed with 1013 (the element retries), as the relay's Redis participants do.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { SFU_CAPABILITY, SFU_PEER_ID, parseSfuRequest, type SfuDelivery } from '../../../src/protocol/sfu.js';
import { CloseCode, type ResumeCredentials, type SignalRequest } from '../../../src/protocol/relay.js';
import type { Logger } from '../log.js';
import type { JoinDetails, Link, ParticipantCounts, Participants } from '../participants.js';
import type { SfuBroker } from './broker.js';
import { newJanusRoom, type JanusRoom } from './janus-rooms.js';
import { parseModeMessage, SharedRooms, type SharedRules } from './shared-rooms.js';
import { StartOver } from './start-over.js';
import type { Joining, LocalRoom, Member, RedisInner } from './shared-local.js';

export { isRedisInner, type RedisInner } from './shared-local.js';

/** How often, in ms, a relay checks its participants in their grace period and claims rooms that emptied unclaimed. */
export const JANITOR_MS = 2_000;

/** An SFU `mode` message with a new `epoch` (src/protocol/sfu.ts; a start-over tells its sessions apart by it). */
const mode = (): SfuDelivery & { epoch: string } => ({
  op: 'mode',
  mode: 'sfu',
  epoch: randomBytes(9).toString('base64url'),
});
const TRY_LATER = 'shared rooms unavailable, try again later';

/** Participants with a media mode per room, shared through Redis; see the module documentation. */
export class SharedSfuParticipants implements Participants {
  readonly #inner: RedisInner;
  readonly #broker: SfuBroker;
  readonly #store: SharedRooms;
  readonly #log: Logger;
  readonly #rooms = new Map<string, LocalRoom>();
  /** The room of each member in {@link #rooms}, and the member each link serves (kept after the relay forgets it). */
  readonly #roomOf = new Map<string, string>();
  readonly #byLink = new Map<Link, string>();
  readonly #timer: NodeJS.Timeout;
  /** Removes the write-back hook. */
  #unhook: (() => void) | undefined;
  #closed = false;

  constructor(
    inner: RedisInner,
    broker: SfuBroker,
    rules: SharedRules,
    redis: { url: string; prefix: string },
    log: Logger,
  ) {
    this.#inner = inner;
    this.#broker = broker;
    this.#log = log;
    this.#store = new SharedRooms(redis.url, redis.prefix, rules, log);
    inner.onExtension = (text) => this.#heard(text);
    this.#timer = setInterval(() => this.#tick(), JANITOR_MS);
    this.#timer.unref();
    // The relay's write-back after Redis came back (redis/upkeep.ts), loaded on demand as all of redis/ is.
    void import('../redis/upkeep.js').then(({ onWriteBack }) => {
      if (!this.#closed) this.#unhook = onWriteBack((node) => this.#writeBack(node));
    });
  }

  /** The media mode of `room` as this relay knows it, or `undefined` when it serves nobody there. */
  mode(room: string): 'mesh' | 'sfu' | undefined {
    return this.#rooms.get(room)?.mode;
  }

  get redisUp(): boolean | undefined {
    return this.#inner.redisUp;
  }

  async admit(link: Link, room: string, name: string, caps?: readonly string[], join?: JoinDetails): Promise<void> {
    const capable = caps?.includes(SFU_CAPABILITY) ?? false;
    const reservation = `${capable ? '1' : '0'}${this.#inner.node} ${randomBytes(12).toString('base64url')}`;
    const local = this.#room(room);
    const joining: Joining = { capable, decided: false, told: false };
    local.joining.set(link, joining);
    let decision;
    try {
      decision = await this.#store.admit({
        room,
        reservation,
        capable,
        claim: join?.grant?.media,
        janus: newJanusRoom(room),
        node: this.#inner.node,
      });
    } catch (error) {
      local.joining.delete(link);
      this.#tidy(room);
      this.#log.warn({ ip: link.ip, err: String(error) }, 'sfu: join: Redis failed');
      link.close(CloseCode.TryAgainLater, TRY_LATER);
      return;
    }
    const abandoned = !local.joining.has(link);
    if (!decision.ok || abandoned) {
      local.joining.delete(link);
      if (decision.ok) this.#confirm(room, reservation, undefined, capable);
      this.#tidy(room);
      if (abandoned) return;
      if (!decision.ok && decision.reason === 'sfu-only') {
        link.fail(
          'room-full',
          `room ${JSON.stringify(room)} runs on the SFU and this client cannot join it (no "sfu" in join.caps)`,
        );
      } else if (!decision.ok) {
        link.fail('room-full', `room ${JSON.stringify(room)} is full (${decision.capacity} participants)`);
      }
      return;
    }
    if (decision.stale) void this.#broker.destroyRoom(room, decision.stale);
    local.claim = decision.claim;
    joining.decided = true;
    if (decision.mode === 'sfu' && local.mode !== 'sfu') {
      if (decision.switched) this.#log.info({ room }, 'sfu: room switches to the SFU');
      this.#switch(room, local, decision.janus);
    } else if (local.mode === 'sfu') {
      // It heard the switch before its own answer: the newcomer learns the mode before its welcome all the same.
      this.#tell(link, joining);
    }
    try {
      await this.#inner.admit(link, room, name, caps, join);
    } finally {
      local.joining.delete(link);
    }
    const joined = link.member;
    this.#confirm(room, reservation, joined?.id, capable);
    if (!joined) {
      this.#tidy(room);
      return;
    }
    local.members.set(joined.id, { link, name, capable, node: this.#inner.node, grace: false });
    this.#roomOf.set(joined.id, room);
    this.#byLink.set(link, joined.id);
    // Subscribed to everyone now, whatever becomes of its own publish (broker.ts "Entering").
    if (local.mode === 'sfu') this.#broker.enter(room, joined.id, name);
  }

  async resume(link: Link, room: string, credentials: ResumeCredentials): Promise<void> {
    await this.#inner.resume(link, room, credentials);
    const joined = link.member;
    if (!joined) return;
    // This relay brokers it from now on; Redis says who did before (and the room's state, for a newcomer here).
    const taken = await this.#store.take(joined.room, joined.id, this.#inner.node).catch((error: unknown) => {
      this.#log.warn({ room: joined.room, err: String(error) }, 'sfu: resume: room state unavailable');
      return undefined;
    });
    if (link.member?.id !== joined.id) return; // gone again meanwhile
    const local = this.#room(joined.room);
    const member = local.members.get(joined.id);
    const before = taken?.before;
    if (member && (before === undefined || before === this.#inner.node || before === member.node)) {
      // Still brokered here (its Janus sessions kept, even across this relay's lost lease): its media goes on.
      this.#byLink.delete(member.link);
      member.link = link;
      member.node = this.#inner.node;
      member.grace = false;
      this.#byLink.set(link, joined.id);
      return;
    }
    if (member) {
      // It moved to another relay and came back before this relay's janitor noticed: that relay brokered it since
      // (it kicked the publisher this relay made, and the element started over there). This relay's record of it is
      // stale: it starts over here as a participant that resumed from elsewhere.
      this.#log.info({ room: joined.room, id: joined.id, before }, 'sfu: resumed here again after another relay');
      local.members.delete(joined.id);
      this.#byLink.delete(member.link);
      if (local.mode === 'sfu') void this.#broker.leave(joined.room, joined.id);
    }
    // It resumed here from another relay: this relay learns the room's mode and brokers it from now on.
    const name = (joined as { name?: unknown }).name;
    const shown = typeof name === 'string' ? name : '';
    const here = this.#room(joined.room);
    here.claim ??= taken?.claim; // written back after Redis lost its data, as by a relay where a member joined
    if (taken?.mode === 'sfu' && here.mode !== 'sfu') this.#switch(joined.room, here, taken.janus, false);
    const capable = taken?.capable ?? here.mode === 'sfu';
    const told = mode();
    const startOver = here.mode === 'sfu' ? new StartOver(told.epoch) : undefined;
    here.members.set(joined.id, { link, name: shown, capable, node: this.#inner.node, grace: false, startOver });
    this.#roomOf.set(joined.id, joined.room);
    this.#byLink.set(link, joined.id);
    if (!startOver) return;
    // The relay that brokered it drops (or dropped) its Janus sessions: it starts over here (src/protocol/sfu.ts
    // `mode`), after any publisher Janus still holds under its ID is removed.
    this.#broker.enter(joined.room, joined.id, shown, true);
    link.send({ type: 'signal', from: SFU_PEER_ID, data: told });
  }

  signal(link: Link, to: string, data: SignalRequest['data']): void {
    if (to !== SFU_PEER_ID) {
      this.#inner.signal(link, to, data);
      return;
    }
    const joined = link.member;
    if (!joined) return;
    const local = this.#rooms.get(joined.room);
    const member = local?.members.get(joined.id);
    if (local?.mode !== 'sfu' || !member) {
      link.fail('unknown-peer', 'this room is not on the SFU: there is no peer "sfu"');
      return;
    }
    const request = parseSfuRequest(data);
    if (!request.ok) {
      link.fail('bad-message', request.error.message);
      return;
    }
    if (request.value.op === 'publish' && request.value.id !== undefined && request.value.id !== joined.id) {
      this.#log.warn({ id: joined.id, room: joined.room }, 'sfu: publish as another participant refused');
      link.fail('unauthorized', 'a participant publishes as itself only');
      return;
    }
    if (member.startOver?.stale(request.value)) {
      this.#log.debug(
        { id: joined.id, op: request.value.op },
        'sfu: dropped a request of the session before the start-over',
      );
      return;
    }
    this.#broker.handle(joined.room, joined.id, member.name, request.value);
  }

  leave(link: Link): void {
    this.#inner.leave(link);
    const id = this.#byLink.get(link);
    if (id !== undefined) this.#left(id, link);
  }

  detach(link: Link, code: number, noResume: boolean): boolean {
    for (const local of this.#rooms.values()) local.joining.delete(link); // a join in flight: undone when answered
    const stays = this.#inner.detach(link, code, noResume);
    const id = this.#byLink.get(link);
    if (id === undefined) return stays;
    const member = this.#member(id);
    if (stays && member?.link === link) member.grace = true;
    else if (!stays && member?.link === link && member.node !== this.#inner.node) {
      // This relay lost its lease (it closed every connection with 1012 and goes on under a new node ID): the member
      // is in its grace period in Redis and resumes here or elsewhere; its Janus sessions stay until Redis says
      // where it went (#tick). Only Redis decides who is gone.
      member.grace = true;
    }
    // Not kept: it left, or the relay forgot it already (it resumed on another relay; its old link closes here).
    else if (!stays) this.#left(id, link);
    return stays;
  }

  clear(): void {
    this.#inner.clear();
    this.#stop();
    // The rooms live on with the other relays: the last one to serve a room destroys its Janus room (or a janitor).
    void this.#broker.close(false);
  }

  async close(): Promise<void> {
    this.#stop();
    await this.#inner.close?.();
    await this.#store.close();
  }

  counts(): ParticipantCounts {
    return this.#inner.counts();
  }

  /** The relay's Redis participants never call the `departed` hook: departures are seen here (leave, detach, tick). */
  departed(): void {}

  /** Sends an SFU message to participant `id` (the broker's `send`). @returns whether it was handed on. */
  send(id: string, data: SfuDelivery): boolean {
    const member = this.#member(id);
    member?.startOver?.sent(data);
    if (member?.startOver?.done) member.startOver = undefined;
    return member?.link.member?.id === id && member.link.send({ type: 'signal', from: SFU_PEER_ID, data });
  }

  // ---- internals ----

  #stop(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#unhook?.();
  }

  /**
   * Redis came back, perhaps empty, and this relay (node `node`) wrote back its participants: the SFU's keys of every
   * room it serves follow (`shared-rooms.ts` `writeBack`), so that a room on the SFU stays there with its Janus room
   * and its members' capabilities.
   */
  #writeBack(node: string): void {
    this.#store.writeBack(() => {
      if (this.#closed || node !== this.#inner.node) return undefined;
      return [...this.#rooms]
        .filter(([, local]) => local.members.size > 0)
        .map(([room, local]) => ({
          room,
          mode: local.mode,
          claim: local.claim,
          janus: local.janus,
          members: [...local.members].map(([id, m]) => [id, m.capable] as const),
          node,
        }));
    });
  }

  #member(id: string): Member | undefined {
    const room = this.#roomOf.get(id);
    return room === undefined ? undefined : this.#rooms.get(room)?.members.get(id);
  }

  #room(room: string): LocalRoom {
    let local = this.#rooms.get(room);
    if (!local) {
      local = { mode: 'mesh', claim: undefined, janus: undefined, members: new Map(), joining: new Map() };
      this.#rooms.set(room, local);
    }
    return local;
  }

  /** The room went to the SFU: this relay's members and decided joiners hear it (unless `announce` is false). */
  #switch(room: string, local: LocalRoom, janus: JanusRoom | undefined, announce = true): void {
    local.mode = 'sfu';
    local.janus = janus;
    if (announce) {
      for (const member of local.members.values())
        member.link.send({ type: 'signal', from: SFU_PEER_ID, data: mode() });
      for (const [link, joining] of local.joining) this.#tell(link, joining);
    }
    if (!janus) {
      this.#log.error({ room }, 'sfu: room on the SFU without a Janus room in Redis');
      return;
    }
    this.#broker.openRoom(room, janus).catch(() => undefined); // failures reach the members as SFU errors
    for (const [id, member] of local.members) if (!member.grace) this.#broker.enter(room, id, member.name);
  }

  #tell(link: Link, joining: Joining): void {
    if (!joining.decided || joining.told || !joining.capable) return;
    joining.told = true;
    link.send({ type: 'signal', from: SFU_PEER_ID, data: mode() });
  }

  /** A message of kind `x` on this relay's channel: another relay switched a room this relay serves. */
  #heard(text: string): void {
    const message = parseModeMessage(text);
    const local = message && this.#rooms.get(message.room);
    if (!message || !local || local.mode === 'sfu') return;
    this.#log.info({ room: message.room }, 'sfu: room switched to the SFU by another relay');
    this.#switch(message.room, local, message.janus);
  }

  #confirm(room: string, reservation: string, id: string | undefined, capable: boolean): void {
    this.#store.confirm(room, reservation, id, capable).catch((error: unknown) => {
      this.#log.warn({ room, err: String(error) }, 'sfu: confirming a join failed (its reservation expires)');
    });
  }

  /** Participant `id` (served by `link`) is no longer served by this relay. */
  #left(id: string, link: Link): void {
    const room = this.#roomOf.get(id);
    const local = room === undefined ? undefined : this.#rooms.get(room);
    const member = local?.members.get(id);
    if (room === undefined || !local || member?.link !== link) return;
    local.members.delete(id);
    this.#roomOf.delete(id);
    this.#byLink.delete(link);
    if (local.mode === 'sfu') void this.#broker.leave(room, id);
    this.#tidy(room);
    this.#store.release(room, id, this.#inner.node).then(
      (gone) => {
        if (gone?.id) void this.#broker.destroyRoom(room, gone);
      },
      (error: unknown) => this.#log.warn({ room, err: String(error) }, 'sfu: release failed (the janitor retries)'),
    );
  }

  /** Forgets a room this relay serves nobody in any more (its Janus sessions go; the Janus room stays for others). */
  #tidy(room: string): void {
    const local = this.#rooms.get(room);
    if (!local || local.members.size > 0 || local.joining.size > 0) return;
    this.#rooms.delete(room);
    if (local.mode === 'sfu') void this.#broker.closeRoom(room, false);
  }

  /** Every {@link JANITOR_MS}: participants whose grace period ended (or who moved) leave; empty rooms are claimed. */
  #tick(): void {
    const node = this.#inner.node;
    for (const local of this.#rooms.values()) {
      for (const [id, member] of local.members) {
        if (!member.grace) continue;
        this.#store.nodeOf(id).then(
          (owner) => {
            // Gone from Redis (left, grace ran out) or served by another relay now. Still under this relay's
            // earlier node ID (its lease was lost): resuming, kept.
            if (owner !== node && owner !== member.node) this.#left(id, member.link);
          },
          () => undefined,
        );
      }
    }
    this.#store.janitor().then(
      (rooms) => {
        for (const { room, janus } of rooms) if (janus.id) void this.#broker.destroyRoom(room, janus);
      },
      () => undefined,
    );
  }
}
