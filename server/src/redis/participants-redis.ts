/**
 * Rooms shared by several relay processes through Redis: the {@link Participants} of a relay started with
 * `--redis-url`. The rules are those of `participants.ts` (`docs/protocol.md`: join order, capacity, resume with the
 * latest secret, the grace period and its queue, `peer-joined`/`peer-left`); what changes is where the truth lives.
 *
 * - **Redis holds the shared truth** (`scripts.ts`): room membership in join order, each participant's record (room,
 *   node, state, secret digest), the grace deadlines and queues, and every node's lease. Each change is one Lua
 *   script, atomic, and publishes its announcement in the same step.
 * - **This node holds its sockets** and a cache of the participants it serves (`Held`, `node-state.ts`). A `signal`
 *   between two participants on this node is delivered in-process, exactly as in one relay, never touching Redis. Any
 *   other goes to the addressee's node (`routes.ts`: a cached route's one `PUBLISH`, or `route`): once, in send order
 *   per sender (one command connection, one channel per node, see `connection.ts`), `from` stamped here before
 *   encoding. What arrives on this node's channel is handled by `inbox.ts`.
 * - **Only Redis state decides who is gone**: a node whose lease ran out is swept by any node; its participants enter
 *   their grace period, resume on any node (their record moves), or leave when it ends. A node never removes a
 *   participant it does not serve. The lease, the sweep and the write-back are `upkeep.ts`.
 *
 * While Redis is unreachable, signals between this node's participants go on; cross-node signals are dropped and
 * counted (`video_chat_route_total{outcome="dropped"}`); a `join` or `resume` is closed with 1013 "Try Again Later"
 * (`CloseCode.TryAgainLater`), on which the element reconnects with backoff. When Redis is back, the node writes back
 * what it holds (`restore`, idempotent, keeps the join order).
 *
 * @module
 */
import {
  CloseCode,
  encode,
  PROTOCOL_VERSION,
  type PeerInfo,
  type ResumeCredentials,
  type SignalRequest,
  type WelcomeMessage,
} from '../../../src/protocol/relay.js';
import type { Logger } from '../log.js';
import { createClusterMetrics } from '../metrics.js';
import { displayName, randomToken, type Link, type ParticipantCounts, type Participants } from '../participants.js';
import { RedisConnection } from './connection.js';
import {
  asArray,
  asNumber,
  digestOf,
  membersOf,
  NodeState,
  type Held,
  type Member,
  type RedisParticipantsContext,
  type SharedConfig,
} from './node-state.js';
import { noSuchPeer, notReading, Routes } from './routes.js';
import { Inbox } from './inbox.js';
import { GRACE, JOIN, LEASE, LEAVE, RESUME, RETIRE } from './scripts.js';
import { Upkeep } from './upkeep.js';

export type { RedisParticipantsContext } from './node-state.js';

/** The one answer to every failed resume, whatever the reason (as in `participants.ts`). */
const RESUME_FAILED = 'cannot resume: join again without resume';

/**
 * Rooms in Redis. {@link RedisParticipants.connect} opens the connections (or throws naming the URL); the relay then
 * hands its context with {@link RedisParticipants.bind}.
 */
export class RedisParticipants implements Participants {
  readonly #state: NodeState;
  readonly #routes: Routes;
  readonly #upkeep: Upkeep;
  readonly #inbox: Inbox;
  /** Links whose join is in flight, and the ID they will get. */
  readonly #joining = new Map<Link, string>();

  private constructor(config: SharedConfig, log: Logger) {
    this.#state = new NodeState(config, log);
    this.#routes = new Routes(this.#state);
    this.#upkeep = new Upkeep(this.#state);
    this.#inbox = new Inbox(this.#state, this.#routes);
    this.#state.roomGone = (room) => this.#routes.dropRoom(room);
  }

  /**
   * Connects to Redis, registers this node's lease and subscribes to its channel.
   * @throws Error `cannot reach Redis at <url>: <reason>` (the password hidden) if Redis does not answer within 5 s.
   */
  static async connect(config: SharedConfig, log: Logger): Promise<RedisParticipants> {
    const url = config.redisUrl;
    if (url === undefined) throw new TypeError('redisUrl is not set');
    const rooms = new RedisParticipants(config, log);
    const state = rooms.#state;
    state.conn = await RedisConnection.open(url, state.channelOf(state.node), log, {
      message: (text) => rooms.#inbox.message(text),
      reconnected: () => rooms.#upkeep.reconnected(),
      lost: () => rooms.#upkeep.lost(),
    });
    await state.conn.run(LEASE, [state.prefix, state.node, config.nodeLeaseMs]);
    log.info({ node: state.node }, 'sharing rooms through Redis');
    return rooms;
  }

  /**
   * Takes the relay's context and starts the lease and sweep timers.
   * @returns this, as the relay's {@link Participants}.
   */
  bind(ctx: RedisParticipantsContext): this {
    this.#state.ctx = ctx;
    this.#state.useMetrics(createClusterMetrics(ctx.metrics.registry, () => this.#state.conn.up));
    this.#upkeep.start();
    return this;
  }

  /** This node's ID (its incarnation), as in the `vc:nodes` lease set. */
  /** Hears this node's channel messages of kind `x` (the SFU's shared rooms, `sfu/shared-participants.ts`). */
  get onExtension(): ((text: string) => void) | undefined {
    return this.#inbox.onExtension;
  }
  set onExtension(listener: ((text: string) => void) | undefined) {
    this.#inbox.onExtension = listener;
  }

  get node(): string {
    return this.#state.node;
  }

  /** Whether Redis is reachable (`/healthz` and `video_chat_redis_up`). */
  get redisUp(): boolean {
    return this.#state.conn.up;
  }

  admit(link: Link, room: string, name: string): Promise<void> | void {
    const state = this.#state;
    const ctx = state.context();
    if (!this.#available(link)) return;
    const id = randomToken();
    const secret = state.config.resumeGraceMs > 0 ? randomToken() : '';
    const shown = displayName(name);
    state.inflight.set(id, []);
    this.#joining.set(link, id);
    const args = [state.prefix, room, id, state.node, shown, state.config.maxPeersPerRoom, digestOf(secret)];
    return state.conn.run(JOIN, args).then(
      (reply) => {
        const pending = state.inflight.get(id) ?? [];
        state.inflight.delete(id);
        const abandoned = this.#joining.get(link) !== id;
        this.#joining.delete(link);
        const out = asArray(reply);
        if (asNumber(out[0]) !== 1) {
          link.fail('room-full', `room ${JSON.stringify(room)} is full (${state.config.maxPeersPerRoom} participants)`);
          return;
        }
        if (abandoned) {
          // The connection closed while joining: it leaves again (the others may have heard peer-joined).
          state.script(LEAVE, [id, state.node]);
          return;
        }
        const held: Held = {
          id,
          room,
          name: shown,
          seq: asNumber(out[1]),
          digest: digestOf(secret),
          link,
          state: 'live',
          ip: link.ip,
          graceTimer: undefined,
        };
        state.add(held);
        ctx.log.debug({ ip: link.ip, id, room }, 'joined');
        const members = membersOf(out, 2);
        this.#learn(room, members);
        this.#welcome(held, link, members, secret, false, [], pending);
        state.broadcast(room, { type: 'peer-joined', peer: { id, name: shown } }, id);
      },
      (error: unknown) => {
        state.inflight.delete(id);
        this.#joining.delete(link);
        this.#unavailable(link, error, 'join');
      },
    );
  }

  resume(link: Link, room: string, credentials: ResumeCredentials): Promise<void> | void {
    const state = this.#state;
    const ctx = state.context();
    const { id, secret } = credentials;
    if (state.config.resumeGraceMs === 0) {
      this.#refuseResume(link, room);
      return;
    }
    if (!this.#available(link)) return;
    const fresh = randomToken();
    const ownPending = !state.inflight.has(id);
    if (ownPending) state.inflight.set(id, []);
    this.#joining.set(link, id);
    const args = [state.prefix, id, room, digestOf(secret), digestOf(fresh), state.node];
    return state.conn.run(RESUME, args).then(
      (reply) => {
        const pending = ownPending ? (state.inflight.get(id) ?? []) : [];
        if (ownPending) state.inflight.delete(id);
        const abandoned = this.#joining.get(link) !== id;
        this.#joining.delete(link);
        const out = asArray(reply);
        if (asNumber(out[0]) !== 1) {
          this.#refuseResume(link, room);
          return;
        }
        const queued = asNumber(out[4]);
        const frames = out.slice(5, 5 + queued).map(String);
        const previous = state.held.get(id);
        if (previous) state.forget(previous, 'replaced');
        if (abandoned) {
          // Closed while resuming: back into the grace period it came from (its connection's counts are given back).
          state.script(GRACE, [id, state.node, state.config.resumeGraceMs]);
          return;
        }
        const held: Held = {
          id,
          room,
          name: String(out[2]),
          seq: asNumber(out[3]),
          digest: digestOf(fresh),
          link,
          state: 'live',
          ip: link.ip,
          graceTimer: undefined,
        };
        state.add(held);
        ctx.metrics.resumes.inc({ outcome: 'resumed' });
        ctx.log.debug({ ip: link.ip, id, room, queued, from: String(out[1]) }, 'resumed');
        const members = membersOf(out, 5 + queued);
        this.#learn(room, members);
        this.#welcome(held, link, members, fresh, true, frames, pending);
      },
      (error: unknown) => {
        if (ownPending) state.inflight.delete(id);
        this.#joining.delete(link);
        this.#unavailable(link, error, 'resume');
      },
    );
  }

  signal(link: Link, to: string, data: SignalRequest['data']): void {
    const sender = link.member;
    if (sender === undefined) return;
    const target = this.#state.held.get(to);
    if (to === sender.id) {
      link.fail('unknown-peer', noSuchPeer(to));
      return;
    }
    // The same node, live: in-process, exactly as a single relay (no Redis on this path).
    if (target?.link !== undefined && target.room === sender.room) {
      if (target.link.congested) {
        link.fail('rate-limited', notReading(to));
        return;
      }
      if (target.link.send({ type: 'signal', from: sender.id, data })) this.#state.context().metrics.relayed += 1;
      return;
    }
    // `from` is stamped here, from the link, before the frame is encoded: it cannot be spoofed across nodes either.
    this.#routes.send(link, sender.id, to, sender.room, encode({ type: 'signal', from: sender.id, data }));
  }

  leave(link: Link): void {
    const joined = link.member;
    link.member = undefined;
    const held = joined === undefined ? undefined : this.#state.held.get(joined.id);
    if (held) this.#depart(held);
  }

  detach(link: Link, code: number, noResume: boolean): boolean {
    const state = this.#state;
    const joined = link.member;
    if (joined === undefined) {
      // A join or resume in flight: it is undone when the script answers.
      this.#joining.delete(link);
      return false;
    }
    link.member = undefined;
    const held = state.held.get(joined.id);
    if (!held || held.link !== link) return false;
    const ctx = state.context();
    const onPurpose = code === CloseCode.Normal || code === CloseCode.GoingAway || code === 1005;
    // A relay that is closing (SIGTERM) puts its participants into their grace period, so that they resume on
    // another node without anyone seeing peer-left: a rolling deploy is invisible to calls.
    if (state.config.resumeGraceMs === 0 || noResume || onPurpose) {
      this.#depart(held);
      return false;
    }
    if (!ctx.isClosing() && state.resuming >= state.config.maxResumingPeers) {
      ctx.log.warn({ id: held.id, resuming: state.resuming }, 'too many participants in their grace period');
      this.#depart(held);
      return false;
    }
    this.#toGrace(held);
    return true;
  }

  clear(): void {
    // Called once every connection of a closing relay is closed: they are in their grace period already (detach).
    for (const held of this.#state.held.values()) {
      clearTimeout(held.graceTimer);
      held.graceTimer = undefined;
    }
  }

  /**
   * Stops the timers, withdraws this node's lease with its live participants put into their grace period (`retire`),
   * and closes the Redis connections.
   */
  async close(): Promise<void> {
    const state = this.#state;
    if (state.closed) return;
    state.closed = true;
    this.#upkeep.stop();
    state.outbox.flush();
    if (state.conn.up) {
      await state.conn
        .run(RETIRE, [state.prefix, state.node, state.config.resumeGraceMs])
        .catch((error: unknown) => state.log.warn({ err: String(error) }, 'Redis: retire failed'));
    }
    for (const held of state.held.values()) clearTimeout(held.graceTimer);
    await state.conn.close();
  }

  counts(): ParticipantCounts {
    const state = this.#state;
    return { rooms: state.rooms.size, peers: state.held.size, resuming: state.resuming, queuedBytes: 0 };
  }

  /** @returns whether Redis is up; if not, closes `link` with 1013 (the element reconnects with backoff). */
  #available(link: Link): boolean {
    if (this.#state.conn.up) return true;
    link.close(CloseCode.TryAgainLater, 'shared rooms unavailable, try again later');
    return false;
  }

  #unavailable(link: Link, error: unknown, what: string): void {
    this.#state.log.warn(
      { ip: link.ip, err: error instanceof Error ? error.message : String(error) },
      `${what}: Redis failed`,
    );
    link.close(CloseCode.TryAgainLater, 'shared rooms unavailable, try again later');
  }

  #refuseResume(link: Link, room: string): void {
    const ctx = this.#state.context();
    ctx.metrics.resumes.inc({ outcome: 'failed' });
    ctx.log.info({ ip: link.ip, room }, 'resume refused');
    link.fail('resume-failed', RESUME_FAILED);
  }

  /** The members of `room` in a `join` or `resume` reply: where they are live (cached routes), what its clients know. */
  #learn(room: string, members: readonly Member[]): void {
    this.#routes.learn(room, members);
    for (const { id, name, seq, node } of members) this.#state.tell(room, id, name, seq, node);
  }

  /**
   * Sends the welcome (a fresh secret, the members in join order), then the frames kept for the participant: those
   * queued in Redis during its grace period, then those that arrived here while its join or resume was in flight.
   */
  #welcome(
    held: Held,
    link: Link,
    members: { id: string; name: string }[],
    secret: string,
    resumed: boolean,
    queued: string[],
    pending: string[],
  ): void {
    const ctx = this.#state.context();
    link.member = held;
    const peers: PeerInfo[] = members.map(({ id, name }) => ({ id, name }));
    const welcome: WelcomeMessage = {
      type: 'welcome',
      id: held.id,
      room: held.room,
      peers,
      iceServers: ctx.iceServers(held.id),
      protocol: PROTOCOL_VERSION,
    };
    if (secret !== '') welcome.resume = secret;
    if (resumed) welcome.resumed = true;
    ctx.welcome?.(link, welcome); // the host layer adds the role (hosts/)
    link.send(welcome);
    for (const frame of [...queued, ...pending]) {
      if (!link.sendEncoded(frame)) break;
      ctx.metrics.relayed += 1;
    }
  }

  /** A participant of this node leaves for good: peer-left here, and `leave` tells the room's other nodes. */
  #depart(held: Held): void {
    const state = this.#state;
    state.forget(held, 'left');
    state.broadcast(held.room, { type: 'peer-left', id: held.id }, held.id);
    state.script(LEAVE, [held.id, state.node]);
    state.context().log.debug({ id: held.id, room: held.room }, 'left');
  }

  /** Its link is gone: grace in Redis (`grace`), and a local timer that gives back its counts should nothing come. */
  #toGrace(held: Held): void {
    const state = this.#state;
    const ctx = state.context();
    held.link = undefined;
    held.state = 'grace';
    state.resuming++;
    state.script(GRACE, [held.id, state.node, state.config.resumeGraceMs]);
    held.graceTimer = setTimeout(
      () => {
        held.graceTimer = undefined;
        state.resuming--;
        ctx.release(held.ip);
        if (state.held.get(held.id) === held && held.state === 'grace') state.forget(held, 'left');
      },
      state.config.resumeGraceMs + state.config.nodeLeaseMs + state.config.sweepIntervalMs,
    );
    held.graceTimer.unref();
    ctx.log.debug({ id: held.id, room: held.room }, 'connection lost: grace period');
  }
}
