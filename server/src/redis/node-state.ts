/**
 * What one relay process holds when rooms are shared through Redis, shared by the modules of `redis/`: its
 * incarnation (node ID), its connection, the participants it serves ({@link Held}) by ID and by room, the frames kept
 * for joins and resumes in flight, and what its clients were told about the members other nodes serve
 * ({@link Told}, for the reconcile after an empty Redis restart). It holds no rule: `participants-redis.ts` decides,
 * `routes.ts` routes, `upkeep.ts` keeps the lease.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { CloseCode, type ServerMessage } from '../../../src/protocol/relay.js';
import type { Logger } from '../log.js';
import type { ClusterMetrics, RelayMetrics } from '../metrics.js';
import type { ResolvedRelayOptions } from '../options.js';
import { randomToken, type Link, type ParticipantsContext } from '../participants.js';
import type { RedisConnection, ScriptReply } from './connection.js';
import { Outbox } from './outbox.js';
import type { Script } from './scripts.js';

/** What a `RedisParticipants` needs from the relay: the in-memory one's context, with all the metrics. */
export interface RedisParticipantsContext extends ParticipantsContext {
  readonly metrics: RelayMetrics;
}

/** The Redis-side settings. */
export type SharedConfig = Pick<
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

/** A participant this node serves (its record in Redis says `node` = this node), or is admitting. */
export interface Held {
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

/** A member another node serves that this node's clients were told about (`welcome`, `peer-joined`). */
export interface Told {
  name: string;
  seq: number;
  /** The node that served it when last heard of. */
  node: string;
}

export const digestOf = (secret: string): string =>
  secret === '' ? '' : createHash('sha256').update(secret).digest('hex');

export const asArray = (reply: ScriptReply): ScriptReply[] => (Array.isArray(reply) ? reply : []);
export const asNumber = (reply: ScriptReply | undefined): number => Number(reply ?? 0);

/** A room member as a script reply lists it. */
export interface Member {
  id: string;
  name: string;
  seq: number;
  node: string;
}

/** Room members from a script reply, from `offset` on, four fields each (id, name, seq, node), in join order. */
export function membersOf(reply: ScriptReply[], offset: number): Member[] {
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

/** This node's state, shared by the modules of `redis/` (see the module comment). */
export class NodeState {
  readonly config: SharedConfig;
  readonly log: Logger;
  readonly prefix: string;
  /** This process's incarnation: a restarted process never inherits the lease or channel of its previous life. */
  node = randomToken();
  conn!: RedisConnection;
  /** What this node publishes to other nodes' channels, batched per destination (`outbox.ts`). */
  readonly outbox = new Outbox(() => this.conn);
  ctx: RedisParticipantsContext | undefined;
  cluster: ClusterMetrics | undefined;
  /** The participants this node serves, by ID. */
  readonly held = new Map<string, Held>();
  /** This node's participants by room. */
  readonly rooms = new Map<string, Set<Held>>();
  /** Frames for IDs whose join or resume is in flight here (the script's reply and the channel race). */
  readonly inflight = new Map<string, string[]>();
  /** Members other nodes serve that this node's clients were told about, by room (rooms it has participants in). */
  readonly told = new Map<string, Map<string, Told>>();
  /** Participants of this node in their grace period. */
  resuming = 0;
  closed = false;
  /** The per-signal counters, bound to their labels once (prom-client hashes the labels on every `inc` otherwise). */
  #sent: { inc(): void } | undefined;
  #out: { inc(): void } | undefined;
  #in: { inc(): void } | undefined;
  /** Called when this node has nobody left in `room` (it hears no more announcements for it). */
  roomGone: (room: string) => void = () => {};

  constructor(config: SharedConfig, log: Logger) {
    this.config = config;
    this.log = log;
    this.prefix = config.redisPrefix;
  }

  /** Takes the cluster metrics (at bind). */
  useMetrics(cluster: ClusterMetrics): void {
    this.cluster = cluster;
    this.#sent = cluster.route.labels({ outcome: 'sent' });
    this.#out = cluster.crossNode.labels({ direction: 'out' });
    this.#in = cluster.crossNode.labels({ direction: 'in' });
  }

  /** Counts a signal handed to another node (`route_total{outcome="sent"}`, `cross_node_messages_total{out}`). */
  countSent(): void {
    this.#sent?.inc();
    this.#out?.inc();
  }

  /** Counts a signal from another node delivered here (`cross_node_messages_total{direction="in"}`). */
  countIn(): void {
    this.#in?.inc();
  }

  context(): RedisParticipantsContext {
    if (!this.ctx) throw new Error('RedisParticipants used before bind()');
    return this.ctx;
  }

  channelOf(node: string): string {
    return `${this.prefix}ch:${node}`;
  }

  /**
   * Runs a script whose reply is not needed (prefix first); a failure is logged. The batches pending in the outbox go
   * first: a departure (`leave`, `grace`) must not overtake the signals its participant sent before it.
   */
  script(script: Script, args: (string | number)[]): void {
    this.outbox.flush();
    if (!this.conn.up) return;
    this.conn.run(script, [this.prefix, ...args]).catch((error: unknown) => {
      this.log.warn({ err: error instanceof Error ? error.message : String(error) }, `Redis: ${script.name} failed`);
    });
  }

  /** Sends `message` to this node's live participants in `room` but `except`. */
  broadcast(room: string, message: ServerMessage, except: string): void {
    const members = this.rooms.get(room);
    if (!members) return;
    for (const held of members) if (held.id !== except && held.link) held.link.send(message);
  }

  add(held: Held): void {
    this.held.set(held.id, held);
    let members = this.rooms.get(held.room);
    if (!members) this.rooms.set(held.room, (members = new Set()));
    members.add(held);
  }

  /**
   * Drops `held` from this node's cache (it left, or moved to another node or connection), giving back its grace
   * period's counts; its link, if still open, is closed with 4001 when `why` is `replaced`. When it was the last one
   * of its room here, the room's remote state goes too (this node hears no more announcements for it).
   */
  forget(held: Held, why: 'left' | 'replaced'): void {
    if (this.held.get(held.id) === held) this.held.delete(held.id);
    const members = this.rooms.get(held.room);
    members?.delete(held);
    if (members?.size === 0) {
      this.rooms.delete(held.room);
      this.told.delete(held.room);
      this.roomGone(held.room);
    }
    if (held.graceTimer !== undefined) {
      clearTimeout(held.graceTimer);
      held.graceTimer = undefined;
      this.resuming--;
      this.context().release(held.ip);
    }
    const link = held.link;
    held.link = undefined;
    if (link && link.member?.id === held.id) {
      link.member = undefined;
      if (why === 'replaced') link.close(CloseCode.Replaced, 'resumed on another connection');
    }
  }

  /** Notes that this node's clients in `room` were told about `id`, served by `node` (not this node). */
  tell(room: string, id: string, name: string, seq: number, node: string): void {
    if (!this.rooms.has(room) || node === this.node || this.held.has(id)) return;
    let members = this.told.get(room);
    if (!members) this.told.set(room, (members = new Map<string, Told>()));
    members.set(id, { name, seq, node });
  }
}
