/**
 * The knockers whose sockets this relay holds, when the waiting room is shared through Redis
 * (`shared-host-participants.ts`): each knock's entry in the room's queue in Redis (`shared-state.ts`), its timeout
 * timer (`--knock-timeout-ms`), its end (`denied` to the knocker), and the knock flood limit, which is per address and
 * room on each relay process (`knock-limit.ts`; the 50 per room are counted in Redis).
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import { CloseCode, type HostServerMessage, type KnockOutcome } from '../../../src/protocol/relay.js';
import type { Logger } from '../log.js';
import { displayName, randomToken, type JoinDetails, type Link } from '../participants.js';
import type { HostMetrics } from './host-metrics.js';
import { KnockLimiter, MAX_KNOCKS_PER_ROOM } from './knock-limit.js';
import type { ResolvedHostOptions } from './options.js';
import type { Knock } from './room-policy.js';
import type { SharedHostState } from './shared-state.js';

/** This relay's knocks by room and by link; see the module documentation. */
export class SharedKnocks {
  readonly #store: SharedHostState;
  readonly #config: ResolvedHostOptions;
  readonly #log: Logger;
  readonly #metrics: HostMetrics;
  readonly #node: () => string;
  readonly #rooms = new Map<string, Map<string, Knock>>();
  readonly #of = new Map<Link, Knock>();
  readonly #limiter = new KnockLimiter();

  /** @param node this relay's node ID in Redis now (the relay holding a knock is named in its queue entry). */
  constructor(
    store: SharedHostState,
    config: ResolvedHostOptions,
    log: Logger,
    metrics: HostMetrics,
    node: () => string,
  ) {
    this.#store = store;
    this.#config = config;
    this.#log = log;
    this.#metrics = metrics;
    this.#node = node;
  }

  /** The knock `link` waits with, if any. */
  of(link: Link): Knock | undefined {
    return this.#of.get(link);
  }

  /** Knock `id` of `room`, if this relay holds it. */
  get(room: string, id: string): Knock | undefined {
    return this.#rooms.get(room)?.get(id);
  }

  /** The knocks this relay holds for `room`. */
  inRoom(room: string): Iterable<Knock> {
    return this.#rooms.get(room)?.values() ?? [];
  }

  /** Forgets every knock (the relay is closing). */
  clear(): void {
    for (const knock of this.#of.values()) clearTimeout(knock.timer);
    this.#of.clear();
    this.#rooms.clear();
  }

  /** Puts `link` in the queue of `room` (`waiting` to it), or refuses it (`rate-limited`, `room-locked`, `removed`). */
  async knock(
    link: Link,
    room: string,
    name: string,
    caps: readonly string[] | undefined,
    join: JoinDetails,
  ): Promise<void> {
    if (!this.#limiter.take(link.ip, room, performance.now())) {
      this.#floodRefused(link, room);
      return;
    }
    const knock: Knock = { id: randomToken(), room, link, name, caps, join, timer: undefined };
    // Held before Redis answers: a disconnect meanwhile finds it (and takes it off the queue).
    this.#of.set(link, knock);
    link.waiting = true;
    let queued;
    try {
      queued = await this.#store.knock(
        room,
        {
          id: knock.id,
          node: this.#node(),
          name: displayName(name),
          timeoutMs: this.#config.knockTimeoutMs,
          tokenId: join.grant?.tokenId,
        },
        MAX_KNOCKS_PER_ROOM,
      );
    } catch (error) {
      this.#of.delete(link);
      link.waiting = false;
      this.#log.warn({ ip: link.ip, err: String(error) }, 'hosts: knock: Redis failed');
      link.close(CloseCode.TryAgainLater, 'shared rooms unavailable, try again later');
      return;
    }
    if (this.#of.get(link) !== knock) {
      // It disconnected or cancelled meanwhile: off the queue again.
      if (queued.ok) void this.#store.take(room, knock.id, 'left').catch(() => undefined);
      return;
    }
    if (!queued.ok) {
      this.#of.delete(link);
      link.waiting = false;
      if (queued.reason === 'full') this.#floodRefused(link, room);
      else if (queued.reason === 'locked')
        this.#refuse(link, room, 'room-locked', `room ${JSON.stringify(room)} is locked by a host`);
      else this.#refuse(link, room, 'removed', 'a host removed this participant from the room');
      return;
    }
    knock.timer = setTimeout(() => {
      knock.timer = undefined;
      this.#store.take(room, knock.id, 'timeout').catch(() => {
        if (this.#of.get(link) === knock) this.end(knock, 'timeout');
      });
    }, this.#config.knockTimeoutMs);
    knock.timer.unref();
    this.#room(room).set(knock.id, knock);
    this.#metrics.knocks.inc({ outcome: 'knocked' });
    this.#log.debug({ ip: link.ip, room, knock: knock.id }, 'knocking');
    link.send(this.waitingMessage(knock, queued.hosts));
  }

  /** The knocker cancels or disconnects: it leaves the queue here at once, and in Redis (the hosts hear `ke`). */
  async giveUp(knock: Knock, outcome: 'cancelled' | 'left'): Promise<void> {
    const queued = this.#rooms.get(knock.room)?.get(knock.id) === knock;
    this.end(knock, outcome);
    if (!queued) return; // its knock script is in flight: it takes it off the queue on its answer
    await this.#store.take(knock.room, knock.id, outcome).catch((error: unknown) => {
      this.#log.warn({ room: knock.room, err: String(error) }, 'hosts: knock not ended in Redis (it times out there)');
    });
  }

  /** A knock of this relay ends here: the knocker gets `denied` for denied, timeout, ended or locked. */
  end(knock: Knock, outcome: KnockOutcome | undefined): void {
    clearTimeout(knock.timer);
    const local = this.#rooms.get(knock.room);
    local?.delete(knock.id);
    if (this.#of.get(knock.link) === knock) this.#of.delete(knock.link);
    knock.link.waiting = false;
    if (local?.size === 0 && this.#rooms.get(knock.room) === local) this.#rooms.delete(knock.room);
    if (outcome === undefined || outcome === 'admitted') return;
    this.#metrics.knocks.inc({ outcome });
    if (outcome === 'denied' || outcome === 'timeout' || outcome === 'ended' || outcome === 'locked') {
      knock.link.send({ type: 'denied', reason: outcome });
    }
  }

  waitingMessage(knock: Knock, hosts: number): HostServerMessage {
    return { type: 'waiting', room: knock.room, hosts, timeoutMs: this.#config.knockTimeoutMs };
  }

  #floodRefused(link: Link, room: string): void {
    this.#metrics.knocks.inc({ outcome: 'rate-limited' });
    this.#log.warn({ ip: link.ip, room }, 'knock refused: too many knocks');
    link.fail('rate-limited', `too many knocks on room ${JSON.stringify(room)}: try again later`);
  }

  #refuse(link: Link, room: string, code: 'removed' | 'room-locked', message: string): void {
    this.#log.info({ ip: link.ip, room, code }, 'join refused by the room');
    link.fail(code, message);
  }

  #room(room: string): Map<string, Knock> {
    let local = this.#rooms.get(room);
    if (!local) {
      local = new Map();
      this.#rooms.set(room, local);
    }
    return local;
  }
}
