/**
 * Rooms shared by several relay processes through Redis: the {@link Participants} of a relay started with
 * `--redis-url`. The rules are those of `participants.ts` (`docs/protocol.md`: join order, capacity, resume with the
 * latest secret, the grace period and its queue, `peer-joined`/`peer-left`); what changes is where the truth lives.
 *
 * - **Redis holds the shared truth** (`scripts.ts`): room membership in join order, each participant's record (room,
 *   node, state, secret digest), the grace deadlines and queues, and every node's lease. Each change is one Lua
 *   script, atomic, and publishes its announcement in the same step.
 * - **This node holds its sockets** and a cache of the participants it serves ({@link Held}). A `signal` between two
 *   participants on this node is delivered in-process, exactly as in one relay, never touching Redis. Any other goes
 *   through `route` and the addressee node's channel: once, in send order per sender (one command connection, one
 *   channel per node, see `connection.ts`), `from` stamped here before encoding.
 * - **Only Redis state decides who is gone**: a node whose lease ran out is swept by any node; its participants enter
 *   their grace period, resume on any node (their record moves), or leave when it ends. A node never removes a
 *   participant it does not serve.
 *
 * While Redis is unreachable, signals between this node's participants go on; cross-node signals are dropped and
 * counted (`video_chat_route_total{outcome="dropped"}`); a `join` or `resume` is closed with 1013 "Try Again Later"
 * (`CloseCode.TryAgainLater`), on which the element reconnects with backoff. When Redis is back, the node writes back
 * what it holds (`restore`, idempotent, keeps the join order).
 *
 * @module
 */
import { createHash } from 'node:crypto';
import {
  CloseCode,
  encode,
  PROTOCOL_VERSION,
  type PeerInfo,
  type ResumeCredentials,
  type ServerMessage,
  type SignalRequest,
  type WelcomeMessage,
} from '../../../src/protocol/relay.js';
import type { Logger } from '../log.js';
import { createClusterMetrics, type ClusterMetrics, type RelayMetrics } from '../metrics.js';
import type { ResolvedRelayOptions } from '../options.js';
import {
  displayName,
  randomToken,
  type Link,
  type ParticipantCounts,
  type Participants,
  type ParticipantsContext,
} from '../participants.js';
import { RedisConnection, type ScriptReply } from './connection.js';
import { GRACE, JOIN, LEASE, LEAVE, RESTORE, RESUME, RETIRE, ROUTE, SWEEP } from './scripts.js';

/** The one answer to every failed resume, whatever the reason (as in `participants.ts`). */
const RESUME_FAILED = 'cannot resume: join again without resume';

/** Participants whose grace period ran out that one `sweep` call departs at most. */
const SWEEP_BATCH = 100;

/** What a {@link RedisParticipants} needs from the relay: the in-memory one's context, with all the metrics. */
export interface RedisParticipantsContext extends ParticipantsContext {
  readonly metrics: RelayMetrics;
}

/** A participant this node serves (its record in Redis says `node` = this node), or is admitting. */
interface Held {
  readonly id: string;
  readonly room: string;
  name: string;
  /** Its join order (`vc:seq`), kept for `restore`. */
  seq: number;
  /** SHA-256 hex of its latest resume secret (`''` with resume off). */
  digest: string;
  link: Link | undefined;
  /** `live` with a link; `grace` without. */
  state: 'live' | 'grace';
  /** The address it counts against during its grace period. */
  ip: string;
  /** Forgets it locally if no `left` or `moved` came (Redis unreachable): gives back its counts. */
  graceTimer: NodeJS.Timeout | undefined;
}

/**
 * A cached route to a participant another node serves, live there as far as this node heard (`joined`, the members in
 * a `join` or `resume` reply, `moved`); dropped on `left`, on an `unknown-peer` bounce, and when this node has nobody
 * left in the room. Only a shortcut: the receiving node checks the addressee is its own live member of the sender's
 * room and otherwise re-routes through `route` (which checks the room again), so a stale route costs a detour, never a
 * misdelivery.
 */
interface Remote {
  node: string;
  /** Fast-path frames published to `node` whose `PUBLISH` has not answered yet. */
  inflight: number;
  /** Whether a frame went to `node` by the fast path (it may still be re-routed there). */
  used: boolean;
  /**
   * Set while switching away from `node`: signals for this participant wait here, in send order, until `node` has
   * re-routed every earlier one (its echo of the drain marker), so that the switch cannot reorder them.
   */
  hold: (() => void)[] | undefined;
  /** The drain marker awaited, and the node to use once it is back (`''`: none, use `route`). */
  token: string;
  next: string;
  timer: NodeJS.Timeout | undefined;
}

/** How long a switch waits for the old node's echo at most (a node that died meanwhile never echoes). */
const DRAIN_TIMEOUT_MS = 1_000;
/** Signals held during one switch at most; beyond, the switch ends at once (the order may then suffer). */
const HOLD_MAX = 1_000;

/** The Redis-side settings. */
type SharedConfig = Pick<
  ResolvedRelayOptions,
  | 'redisUrl'
  | 'redisPrefix'
  | 'nodeLeaseMs'
  | 'sweepIntervalMs'
  | 'maxPeersPerRoom'
  | 'resumeGraceMs'
  | 'resumeQueueBytes'
  | 'maxResumingPeers'
>;

const digestOf = (secret: string): string => (secret === '' ? '' : createHash('sha256').update(secret).digest('hex'));

const asArray = (reply: ScriptReply): ScriptReply[] => (Array.isArray(reply) ? reply : []);
const asNumber = (reply: ScriptReply | undefined): number => Number(reply ?? 0);

/** Room members from a script reply, from `offset` on, four fields each (id, name, seq, node), in join order. */
function membersOf(reply: ScriptReply[], offset: number): { id: string; name: string; seq: number; node: string }[] {
  const out = [];
  for (let i = offset; i + 3 < reply.length; i += 4) {
    out.push({
      id: String(reply[i]),
      name: String(reply[i + 1]),
      seq: Number(reply[i + 2]),
      node: String(reply[i + 3]),
    });
  }
  return out.sort((a, b) => a.seq - b.seq);
}

/**
 * Rooms in Redis. {@link RedisParticipants.connect} opens the connections (or throws naming the URL); the relay then
 * hands its context with {@link RedisParticipants.bind}.
 */
export class RedisParticipants implements Participants {
  readonly #config: SharedConfig;
  readonly #log: Logger;
  readonly #prefix: string;
  /** This process's incarnation: a restarted process never inherits the lease or channel of its previous life. */
  #node = randomToken();
  #conn!: RedisConnection;
  #ctx: RedisParticipantsContext | undefined;
  #cluster: ClusterMetrics | undefined;
  /** The participants this node serves, by ID. */
  readonly #held = new Map<string, Held>();
  /** This node's participants by room. */
  readonly #rooms = new Map<string, Set<Held>>();
  /** Frames for IDs whose join or resume is in flight here (the script's reply and the channel race). */
  readonly #inflight = new Map<string, string[]>();
  /** Links whose join is in flight, and the ID they will get. */
  readonly #joining = new Map<Link, string>();
  #resuming = 0;
  #leaseTimer: NodeJS.Timeout | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Cached routes to participants other nodes serve, by room (only rooms this node has participants in), then ID. */
  readonly #remote = new Map<string, Map<string, Remote>>();
  /** When the last "cross-node signal dropped" warning was logged (once a second at most). */
  #droppedLogged = 0;
  /** Hears this node's channel messages of kind `x` (the SFU's shared rooms, `sfu/shared-participants.ts`). */
  onExtension: ((text: string) => void) | undefined = undefined;

  private constructor(config: SharedConfig, log: Logger) {
    this.#config = config;
    this.#log = log;
    this.#prefix = config.redisPrefix;
  }

  /**
   * Connects to Redis, registers this node's lease and subscribes to its channel.
   * @throws Error `cannot reach Redis at <url>: <reason>` (the password hidden) if Redis does not answer within 5 s.
   */
  static async connect(config: SharedConfig, log: Logger): Promise<RedisParticipants> {
    const url = config.redisUrl;
    if (url === undefined) throw new TypeError('redisUrl is not set');
    const rooms = new RedisParticipants(config, log);
    rooms.#conn = await RedisConnection.open(url, rooms.#channelOf(rooms.#node), log, {
      message: (text) => rooms.#onMessage(text),
      reconnected: () => rooms.#onReconnected(),
      lost: () => rooms.#onLost(),
    });
    await rooms.#conn.run(LEASE, [rooms.#prefix, rooms.#node, config.nodeLeaseMs]);
    log.info({ node: rooms.#node }, 'sharing rooms through Redis');
    return rooms;
  }

  /**
   * Takes the relay's context and starts the lease and sweep timers.
   * @returns this, as the relay's {@link Participants}.
   */
  bind(ctx: RedisParticipantsContext): this {
    this.#ctx = ctx;
    this.#cluster = createClusterMetrics(ctx.metrics.registry, () => this.#conn.up);
    const { nodeLeaseMs, sweepIntervalMs } = this.#config;
    this.#leaseTimer = setInterval(() => this.#renew(), Math.max(1, Math.floor(nodeLeaseMs / 3)));
    this.#sweepTimer = setInterval(() => this.#sweep(), sweepIntervalMs);
    this.#leaseTimer.unref();
    this.#sweepTimer.unref();
    return this;
  }

  /** This node's ID (its incarnation), as in the `vc:nodes` lease set. */
  get node(): string {
    return this.#node;
  }

  /** Whether Redis is reachable (`/healthz` and `video_chat_redis_up`). */
  get redisUp(): boolean {
    return this.#conn.up;
  }

  admit(link: Link, room: string, name: string): Promise<void> | void {
    const ctx = this.#context();
    if (!this.#available(link)) return;
    const id = randomToken();
    const secret = this.#config.resumeGraceMs > 0 ? randomToken() : '';
    const shown = displayName(name);
    this.#inflight.set(id, []);
    this.#joining.set(link, id);
    const args = [this.#prefix, room, id, this.#node, shown, this.#config.maxPeersPerRoom, digestOf(secret)];
    return this.#conn.run(JOIN, args).then(
      (reply) => {
        const pending = this.#inflight.get(id) ?? [];
        this.#inflight.delete(id);
        const abandoned = this.#joining.get(link) !== id;
        this.#joining.delete(link);
        const out = asArray(reply);
        if (asNumber(out[0]) !== 1) {
          link.fail('room-full', `room ${JSON.stringify(room)} is full (${this.#config.maxPeersPerRoom} participants)`);
          return;
        }
        if (abandoned) {
          // The connection closed while joining: it leaves again (the others may have heard peer-joined).
          this.#script(LEAVE, [id, this.#node]);
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
        this.#add(held);
        ctx.log.debug({ ip: link.ip, id, room }, 'joined');
        const members = membersOf(out, 2);
        this.#learn(room, members);
        this.#welcome(held, link, members, secret, false, [], pending);
        this.#broadcast(room, { type: 'peer-joined', peer: { id, name: shown } }, id);
      },
      (error: unknown) => {
        this.#inflight.delete(id);
        this.#joining.delete(link);
        this.#unavailable(link, error, 'join');
      },
    );
  }

  resume(link: Link, room: string, credentials: ResumeCredentials): Promise<void> | void {
    const ctx = this.#context();
    const { id, secret } = credentials;
    if (this.#config.resumeGraceMs === 0) {
      this.#refuseResume(link, room);
      return;
    }
    if (!this.#available(link)) return;
    const fresh = randomToken();
    const ownPending = !this.#inflight.has(id);
    if (ownPending) this.#inflight.set(id, []);
    this.#joining.set(link, id);
    const args = [this.#prefix, id, room, digestOf(secret), digestOf(fresh), this.#node];
    return this.#conn.run(RESUME, args).then(
      (reply) => {
        const pending = ownPending ? (this.#inflight.get(id) ?? []) : [];
        if (ownPending) this.#inflight.delete(id);
        const abandoned = this.#joining.get(link) !== id;
        this.#joining.delete(link);
        const out = asArray(reply);
        if (asNumber(out[0]) !== 1) {
          this.#refuseResume(link, room);
          return;
        }
        const queued = asNumber(out[4]);
        const frames = out.slice(5, 5 + queued).map(String);
        const previous = this.#held.get(id);
        if (previous) this.#forget(previous, 'replaced');
        if (abandoned) {
          // Closed while resuming: back into the grace period it came from (its connection's counts are given back).
          this.#script(GRACE, [id, this.#node, this.#config.resumeGraceMs]);
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
        this.#add(held);
        ctx.metrics.resumes.inc({ outcome: 'resumed' });
        ctx.log.debug({ ip: link.ip, id, room, queued, from: String(out[1]) }, 'resumed');
        const members = membersOf(out, 5 + queued);
        this.#learn(room, members);
        this.#welcome(held, link, members, fresh, true, frames, pending);
      },
      (error: unknown) => {
        if (ownPending) this.#inflight.delete(id);
        this.#joining.delete(link);
        this.#unavailable(link, error, 'resume');
      },
    );
  }

  signal(link: Link, to: string, data: SignalRequest['data']): void {
    const sender = link.member;
    if (sender === undefined) return;
    const target = this.#held.get(to);
    if (to === sender.id) {
      link.fail('unknown-peer', `no other peer ${JSON.stringify(to)} in this room`);
      return;
    }
    // The same node, live: in-process, exactly as a single relay (no Redis on this path).
    if (target?.link !== undefined && target.room === sender.room) {
      if (target.link.congested) {
        link.fail(
          'rate-limited',
          `peer ${JSON.stringify(to)} is not reading fast enough: signal not delivered, ` + 'send it again later',
        );
        return;
      }
      if (target.link.send({ type: 'signal', from: sender.id, data })) this.#context().metrics.relayed += 1;
      return;
    }
    // `from` is stamped here, from the link, before the frame is encoded: it cannot be spoofed across nodes either.
    this.#send(link, sender.id, to, sender.room, encode({ type: 'signal', from: sender.id, data }));
  }

  /**
   * A signal for a participant not live on this node: straight to the node a cached route names (one `PUBLISH`), or
   * held while that route is being switched, or through `route` (no cached route).
   */
  #send(link: Link, from: string, to: string, room: string, frame: string): void {
    const remote = this.#remote.get(room)?.get(to);
    if (remote === undefined) {
      this.#route(link, to, room, frame);
      return;
    }
    if (remote.hold !== undefined) {
      if (remote.hold.length < HOLD_MAX) {
        remote.hold.push(() => this.#send(link, from, to, room, frame));
        return;
      }
      this.#release(room, to, remote);
      this.#send(link, from, to, room, frame);
      return;
    }
    if (!this.#conn.up) {
      this.#dropped(to);
      return;
    }
    const node = remote.node;
    remote.inflight++;
    remote.used = true;
    this.#conn.publish(this.#channelOf(node), `f${to} ${from} ${this.#node} ${room}\n${frame}`).then(
      (received) => {
        remote.inflight--;
        if (received > 0) {
          this.#cluster?.route.inc({ outcome: 'sent' });
          this.#cluster?.crossNode.inc({ direction: 'out' });
          this.#settle(room, to, remote);
          return;
        }
        // Nobody listens there (that node died or took a new ID): this one and any later one still in flight go
        // through `route`, in order; new ones wait until they are all answered.
        remote.hold ??= [];
        remote.next = '';
        remote.token = '';
        this.#route(link, to, room, frame);
        this.#settle(room, to, remote);
      },
      () => {
        remote.inflight--;
        this.#dropped(to);
        this.#settle(room, to, remote);
      },
    );
  }

  /** A switch with no marker awaited ends once every fast-path frame in flight is answered. */
  #settle(room: string, to: string, remote: Remote): void {
    if (remote.hold !== undefined && remote.token === '' && remote.inflight === 0) this.#release(room, to, remote);
  }

  /** Remembers where the members of `room` (this node's participants excluded) are live. */
  #learn(room: string, members: readonly { id: string; node: string }[]): void {
    for (const { id, node } of members) if (node !== this.#node) this.#remember(room, id, node);
  }

  #remember(room: string, id: string, node: string): void {
    if (!this.#rooms.has(room) || node === this.#node || node === '') return;
    let routes = this.#remote.get(room);
    if (!routes) this.#remote.set(room, (routes = new Map<string, Remote>()));
    if (!routes.has(id)) {
      routes.set(id, { node, inflight: 0, used: false, hold: undefined, token: '', next: '', timer: undefined });
    }
  }

  /**
   * The cached route to `id` is wrong from now on (it left, moved to `next`, or `''`: unknown): switch without
   * reordering. If no frame went by it, at once; otherwise its signals are held while a drain marker goes to the old
   * node behind the frames already sent there, and released when it comes back (every earlier frame re-routed).
   */
  #invalidate(room: string, id: string, next: string): void {
    const remote = this.#remote.get(room)?.get(id);
    if (!remote) return;
    if (next === this.#node) next = '';
    if (!remote.used && remote.hold === undefined) {
      if (next === '') this.#remote.get(room)?.delete(id);
      else remote.node = next;
      return;
    }
    remote.next = next;
    if (remote.hold !== undefined && remote.token !== '') return;
    remote.hold ??= [];
    const token = randomToken();
    remote.token = token;
    clearTimeout(remote.timer);
    remote.timer = setTimeout(() => this.#release(room, id, remote), DRAIN_TIMEOUT_MS);
    remote.timer.unref();
    if (!this.#conn.up) {
      this.#release(room, id, remote);
      return;
    }
    this.#conn.publish(this.#channelOf(remote.node), `m${id} ${this.#node} ${token}`).then(
      (received) => {
        // Nobody there: nothing can be re-routed from there any more.
        if (received === 0 && remote.token === token) {
          remote.token = '';
          this.#settle(room, id, remote);
        }
      },
      () => this.#release(room, id, remote),
    );
  }

  /** Ends a switch: the route points to its next node (or is dropped), and the held signals go, in order. */
  #release(room: string, id: string, remote: Remote): void {
    clearTimeout(remote.timer);
    remote.timer = undefined;
    remote.token = '';
    const held = remote.hold ?? [];
    remote.hold = undefined;
    const routes = this.#remote.get(room);
    if (remote.next === '') {
      if (routes?.get(id) === remote) routes.delete(id);
    } else {
      remote.node = remote.next;
      remote.next = '';
      remote.used = false;
    }
    for (const send of held) send();
  }

  leave(link: Link): void {
    const joined = link.member;
    link.member = undefined;
    const held = joined === undefined ? undefined : this.#held.get(joined.id);
    if (held) this.#depart(held);
  }

  detach(link: Link, code: number, noResume: boolean): boolean {
    const joined = link.member;
    if (joined === undefined) {
      // A join or resume in flight: it is undone when the script answers.
      this.#joining.delete(link);
      return false;
    }
    link.member = undefined;
    const held = this.#held.get(joined.id);
    if (!held || held.link !== link) return false;
    const ctx = this.#context();
    const onPurpose = code === CloseCode.Normal || code === CloseCode.GoingAway || code === 1005;
    // A relay that is closing (SIGTERM) puts its participants into their grace period, so that they resume on
    // another node without anyone seeing peer-left: a rolling deploy is invisible to calls.
    if (this.#config.resumeGraceMs === 0 || noResume || onPurpose) {
      this.#depart(held);
      return false;
    }
    if (!ctx.isClosing() && this.#resuming >= this.#config.maxResumingPeers) {
      ctx.log.warn({ id: held.id, resuming: this.#resuming }, 'too many participants in their grace period');
      this.#depart(held);
      return false;
    }
    this.#toGrace(held);
    return true;
  }

  clear(): void {
    // Called once every connection of a closing relay is closed: they are in their grace period already (detach).
    for (const held of this.#held.values()) {
      clearTimeout(held.graceTimer);
      held.graceTimer = undefined;
    }
  }

  /**
   * Stops the timers, withdraws this node's lease with its live participants put into their grace period (`retire`),
   * and closes the Redis connections.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#leaseTimer);
    clearInterval(this.#sweepTimer);
    if (this.#conn.up) {
      await this.#conn
        .run(RETIRE, [this.#prefix, this.#node, this.#config.resumeGraceMs])
        .catch((error: unknown) => this.#log.warn({ err: String(error) }, 'Redis: retire failed'));
    }
    for (const held of this.#held.values()) clearTimeout(held.graceTimer);
    await this.#conn.close();
  }

  counts(): ParticipantCounts {
    return { rooms: this.#rooms.size, peers: this.#held.size, resuming: this.#resuming, queuedBytes: 0 };
  }

  #context(): RedisParticipantsContext {
    if (!this.#ctx) throw new Error('RedisParticipants used before bind()');
    return this.#ctx;
  }

  #channelOf(node: string): string {
    return `${this.#prefix}ch:${node}`;
  }

  /** @returns whether Redis is up; if not, closes `link` with 1013 (the element reconnects with backoff). */
  #available(link: Link): boolean {
    if (this.#conn.up) return true;
    link.close(CloseCode.TryAgainLater, 'shared rooms unavailable, try again later');
    return false;
  }

  #unavailable(link: Link, error: unknown, what: string): void {
    this.#log.warn(
      { ip: link.ip, err: error instanceof Error ? error.message : String(error) },
      `${what}: Redis failed`,
    );
    link.close(CloseCode.TryAgainLater, 'shared rooms unavailable, try again later');
  }

  #refuseResume(link: Link, room: string): void {
    const ctx = this.#context();
    ctx.metrics.resumes.inc({ outcome: 'failed' });
    ctx.log.info({ ip: link.ip, room }, 'resume refused');
    link.fail('resume-failed', RESUME_FAILED);
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
    const ctx = this.#context();
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
    link.send(welcome);
    for (const frame of [...queued, ...pending]) {
      if (!link.sendEncoded(frame)) break;
      ctx.metrics.relayed += 1;
    }
  }

  #add(held: Held): void {
    this.#held.set(held.id, held);
    let members = this.#rooms.get(held.room);
    if (!members) this.#rooms.set(held.room, (members = new Set()));
    members.add(held);
  }

  /**
   * Drops `held` from this node's cache (it left, or moved to another node or connection), giving back its grace
   * period's counts; its link, if still open, is closed with 4001 when `why` is `replaced`.
   */
  #forget(held: Held, why: 'left' | 'replaced'): void {
    if (this.#held.get(held.id) === held) this.#held.delete(held.id);
    const members = this.#rooms.get(held.room);
    members?.delete(held);
    if (members?.size === 0) {
      this.#rooms.delete(held.room);
      // No announcement for this room reaches this node any more: its cached routes would go stale.
      const routes = this.#remote.get(held.room);
      this.#remote.delete(held.room);
      for (const remote of routes?.values() ?? []) clearTimeout(remote.timer);
    }
    if (held.graceTimer !== undefined) {
      clearTimeout(held.graceTimer);
      held.graceTimer = undefined;
      this.#resuming--;
      this.#context().release(held.ip);
    }
    const link = held.link;
    held.link = undefined;
    if (link && link.member?.id === held.id) {
      link.member = undefined;
      if (why === 'replaced') link.close(CloseCode.Replaced, 'resumed on another connection');
    }
  }

  /** A participant of this node leaves for good: peer-left here, and `leave` tells the room's other nodes. */
  #depart(held: Held): void {
    this.#forget(held, 'left');
    this.#broadcast(held.room, { type: 'peer-left', id: held.id }, held.id);
    this.#script(LEAVE, [held.id, this.#node]);
    this.#context().log.debug({ id: held.id, room: held.room }, 'left');
  }

  /** Its link is gone: grace in Redis (`grace`), and a local timer that gives back its counts should nothing come. */
  #toGrace(held: Held): void {
    const ctx = this.#context();
    held.link = undefined;
    held.state = 'grace';
    this.#resuming++;
    this.#script(GRACE, [held.id, this.#node, this.#config.resumeGraceMs]);
    held.graceTimer = setTimeout(
      () => {
        held.graceTimer = undefined;
        this.#resuming--;
        ctx.release(held.ip);
        if (this.#held.get(held.id) === held && held.state === 'grace') this.#forget(held, 'left');
      },
      this.#config.resumeGraceMs + this.#config.nodeLeaseMs + this.#config.sweepIntervalMs,
    );
    held.graceTimer.unref();
    ctx.log.debug({ id: held.id, room: held.room }, 'connection lost: grace period');
  }

  /** Sends `message` to this node's live participants in `room` but `except`. */
  #broadcast(room: string, message: ServerMessage, except: string): void {
    const members = this.#rooms.get(room);
    if (!members) return;
    for (const held of members) if (held.id !== except && held.link) held.link.send(message);
  }

  /** A signal for a participant not live on this node: `route` (published to its node, or queued, or refused). */
  #route(link: Link, to: string, room: string, frame: string): void {
    const cluster = this.#cluster;
    if (!this.#conn.up) {
      this.#dropped(to);
      return;
    }
    const args = [this.#prefix, to, room, frame, this.#config.resumeQueueBytes, 's'];
    this.#conn.run(ROUTE, args).then(
      (reply) => {
        const outcome = asNumber(reply);
        if (outcome === 1) {
          cluster?.route.inc({ outcome: 'sent' });
          cluster?.crossNode.inc({ direction: 'out' });
        } else if (outcome === 2) {
          cluster?.route.inc({ outcome: 'queued' });
        } else if (outcome === 3) {
          cluster?.route.inc({ outcome: 'full' });
          link.fail('unknown-peer', `peer ${JSON.stringify(to)} is reconnecting and its queue is full`);
        } else {
          cluster?.route.inc({ outcome: 'unknown' });
          link.fail('unknown-peer', `no other peer ${JSON.stringify(to)} in this room`);
        }
      },
      () => this.#dropped(to),
    );
  }

  /** A cross-node signal that could not be handed to Redis: counted, logged at most once a second. */
  #dropped(to: string): void {
    this.#cluster?.route.inc({ outcome: 'dropped' });
    const now = Date.now();
    if (now - this.#droppedLogged >= 1000) {
      this.#droppedLogged = now;
      this.#log.warn({ to }, 'Redis unreachable: cross-node signal dropped');
    }
  }

  /** Runs a script whose reply is not needed (prefix first); a failure is logged. */
  #script(script: typeof LEAVE, args: (string | number)[]): void {
    if (!this.#conn.up) return;
    this.#conn.run(script, [this.#prefix, ...args]).catch((error: unknown) => {
      this.#log.warn({ err: error instanceof Error ? error.message : String(error) }, `Redis: ${script.name} failed`);
    });
  }

  /** A message on this node's channel. */
  #onMessage(text: string): void {
    if (!this.#ctx) return;
    const kind = text.charAt(0);
    if (kind === 's' || kind === 'S') {
      const cut = text.indexOf('\n');
      if (cut < 0) return;
      this.#deliver(text.slice(1, cut), text.slice(cut + 1), kind === 'S');
      return;
    }
    if (kind === 'f') {
      const cut = text.indexOf('\n');
      const [to, from, node, room] = text.slice(1, cut < 0 ? 0 : cut).split(' ');
      if (cut < 0 || !to || !from || !node || !room) return;
      this.#deliverDirect(to, from, node, room, text.slice(cut + 1));
      return;
    }
    if (kind === 'e') {
      const [from, to] = text.slice(1).split(' ');
      const held = from === undefined ? undefined : this.#held.get(from);
      if (!held || to === undefined) return;
      this.#invalidate(held.room, to, '');
      this.#cluster?.route.inc({ outcome: 'unknown' });
      held.link?.fail('unknown-peer', `no other peer ${JSON.stringify(to)} in this room`);
      return;
    }
    if (kind === 'm') {
      // A drain marker: every frame that came before it from that node has been handed to Redis already (the
      // re-routes went on the command connection before this echo).
      const [to, node, token] = text.slice(1).split(' ');
      if (to && node && token && this.#conn.up)
        this.#conn.publish(this.#channelOf(node), `r${to} ${token}`).catch(() => {});
      return;
    }
    if (kind === 'r') {
      const [to, token] = text.slice(1).split(' ');
      for (const [room, routes] of this.#remote) {
        const remote = to === undefined ? undefined : routes.get(to);
        if (remote && remote.token === token && to !== undefined) {
          remote.token = '';
          this.#settle(room, to, remote);
        }
      }
      return;
    }
    if (kind === 'x') this.onExtension?.(text.slice(1));
    if (kind !== 'j') return;
    let event: { k?: unknown; r?: unknown; id?: unknown; m?: unknown; n?: unknown; node?: unknown };
    try {
      event = JSON.parse(text.slice(1)) as typeof event;
    } catch {
      return;
    }
    const id = typeof event.id === 'string' ? event.id : undefined;
    if (id === undefined) return;
    if (event.k === 'joined' && typeof event.r === 'string') {
      if (typeof event.n === 'string') this.#remember(event.r, id, event.n);
      this.#broadcast(
        event.r,
        { type: 'peer-joined', peer: { id, name: typeof event.m === 'string' ? event.m : '' } },
        id,
      );
    } else if (event.k === 'left' && typeof event.r === 'string') {
      const held = this.#held.get(id);
      if (held) {
        if (held.state === 'grace') this.#context().metrics.resumes.inc({ outcome: 'expired' });
        const link = held.link;
        this.#forget(held, 'left');
        // Redis says it left while its connection is open here (its node was declared gone): the client rejoins.
        link?.close(CloseCode.ServiceRestart, 'participant expired, join again');
      }
      this.#invalidate(event.r, id, '');
      this.#broadcast(event.r, { type: 'peer-left', id }, id);
    } else if (event.k === 'moved') {
      // It resumed on another node: a connection still open here is closed with 4001.
      const held = this.#held.get(id);
      if (held) this.#forget(held, 'replaced');
      if (typeof event.r === 'string') this.#invalidate(event.r, id, typeof event.node === 'string' ? event.node : '');
    }
  }

  /**
   * A fast-path frame: delivered only to `to` live here in the sender's `room`; anything else (a stale route: it left,
   * is in its grace period, moved) goes through `route` with the room checked, and if that finds nobody the sender's
   * node is told (`e`), which answers `unknown-peer` exactly as `route` would have.
   */
  #deliverDirect(to: string, from: string, node: string, room: string, frame: string): void {
    const ctx = this.#context();
    const held = this.#held.get(to);
    if (held?.link && held.room === room) {
      if (held.link.sendEncoded(frame)) {
        ctx.metrics.relayed += 1;
        this.#cluster?.crossNode.inc({ direction: 'in' });
      }
      return;
    }
    if (!this.#conn.up) {
      this.#dropped(to);
      return;
    }
    this.#cluster?.route.inc({ outcome: 'detour' });
    this.#conn.run(ROUTE, [this.#prefix, to, room, frame, this.#config.resumeQueueBytes, 'S']).then(
      (reply) => {
        const outcome = asNumber(reply);
        if (outcome === 0 || outcome === 3) this.#conn.publish(this.#channelOf(node), `e${from} ${to}`).catch(() => {});
      },
      () => this.#dropped(to),
    );
  }

  /** A signal frame for `to` from another node (or re-routed): to its live link, or kept while its join is in flight. */
  #deliver(to: string, frame: string, rerouted: boolean): void {
    const ctx = this.#context();
    const held = this.#held.get(to);
    if (held?.link) {
      if (held.link.sendEncoded(frame)) {
        ctx.metrics.relayed += 1;
        this.#cluster?.crossNode.inc({ direction: 'in' });
      }
      return;
    }
    const pending = this.#inflight.get(to);
    if (pending) {
      pending.push(frame);
      return;
    }
    // It went into its grace period (or moved) after Redis routed this: route once more, to its queue or new node.
    if (!rerouted && this.#conn.up) {
      this.#conn.run(ROUTE, [this.#prefix, to, '', frame, this.#config.resumeQueueBytes, 'S']).catch(() => {
        this.#dropped(to);
      });
    } else {
      this.#dropped(to);
    }
  }

  /** Every third of the lease: renew it, check the canary, and handle a lost or reset registration. */
  #renew(): void {
    if (this.#closed || !this.#conn.up) return;
    if (this.#conn.frozenFor(this.#config.nodeLeaseMs)) {
      this.#log.warn({ node: this.#node }, 'Redis subscriber stopped delivering: replacing it');
      this.#cluster?.subscriberReplaced.inc();
      this.#conn.resubscribe().catch((error: unknown) => {
        this.#log.error({ err: String(error) }, 'Redis: resubscribe failed');
      });
    }
    this.#conn.canary();
    this.#conn.run(LEASE, [this.#prefix, this.#node, this.#config.nodeLeaseMs]).then(
      (reply) => {
        const outcome = asNumber(reply);
        if (outcome === 0) this.#fence();
        else if (outcome === 2) this.#restore();
      },
      (error: unknown) => this.#log.warn({ err: String(error) }, 'Redis: lease renewal failed'),
    );
  }

  /** Every sweep interval: expired leases and grace periods (any node may do it; the script is idempotent). */
  #sweep(): void {
    if (this.#closed || !this.#conn.up) return;
    this.#conn.run(SWEEP, [this.#prefix, this.#config.resumeGraceMs, SWEEP_BATCH]).then(
      (reply) => {
        const [nodes, , left] = asArray(reply).map(asNumber);
        if (nodes) {
          this.#cluster?.sweeps.inc({ what: 'node' }, nodes);
          this.#log.warn({ nodes }, 'relay process lease expired: its participants are in their grace period');
        }
        if (left) this.#cluster?.sweeps.inc({ what: 'grace' }, left);
      },
      (error: unknown) => this.#log.warn({ err: String(error) }, 'Redis: sweep failed'),
    );
  }

  /**
   * This node was declared gone (its lease ran out: a long pause, or cut off from Redis longer than the lease) while
   * it still runs. Its participants' records are in their grace period, owned by the old ID: every connection is
   * closed with 1012 so that its client resumes (here or elsewhere), and the node goes on under a new ID.
   */
  #fence(): void {
    const ctx = this.#context();
    this.#cluster?.leasesLost.inc();
    this.#log.error({ node: this.#node }, 'lease lost: this relay was declared gone; reconnecting its clients');
    const links = [...this.#held.values()].map((held) => held.link);
    for (const held of [...this.#held.values()]) this.#forget(held, 'left');
    for (const link of links) link?.close(CloseCode.ServiceRestart, 'relay lease lost, reconnect');
    this.#node = randomToken();
    this.#conn
      .resubscribe(this.#channelOf(this.#node))
      .then(() => this.#conn.run(LEASE, [this.#prefix, this.#node, this.#config.nodeLeaseMs]))
      .catch((error: unknown) => ctx.log.error({ err: String(error) }, 'Redis: new registration failed'));
  }

  #onLost(): void {
    this.#log.warn({ held: this.#held.size }, 'Redis lost: same-node signaling goes on, joins wait');
  }

  /** Redis is back (or lost its data): write back what this node holds, then the lease. */
  #onReconnected(): void {
    this.#restore();
    this.#script(LEASE, [this.#node, this.#config.nodeLeaseMs]);
  }

  /** Writes back every participant this node serves (kept if Redis has it: idempotent, keeps the join order). */
  #restore(): void {
    let count = 0;
    for (const held of this.#held.values()) {
      count++;
      this.#script(RESTORE, [
        held.id,
        held.room,
        this.#node,
        held.name,
        held.seq,
        held.state,
        held.digest,
        this.#config.resumeGraceMs,
      ]);
    }
    this.#log.info({ participants: count }, 'Redis: restored what this relay holds');
  }
}
