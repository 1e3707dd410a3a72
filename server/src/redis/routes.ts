/**
 * Cross-node signals when rooms are shared through Redis: the route cache, the fast path and the drain markers
 * (`docs/decisions/0008-rooms-in-redis.md` point 3).
 *
 * - **Route cache.** Per room this node has participants in, the node of every other member it heard is live there
 *   (`joined`, the members in a `join` or `resume` reply, `moved`); dropped on `left`, on a bounce, and when this node
 *   has nobody left in the room.
 * - **Fast path.** A signal for a cached member is one bare `PUBLISH` to its node's channel
 *   (`f<to> <from> <from node> <room>\n<frame>`) on the command connection; without a cached route it goes through
 *   `route.lua` (queued during a grace period, or `unknown-peer`). The receiving node delivers only to its own live
 *   member of the sender's room, and otherwise re-routes through `route.lua` with the room checked (a detour); if that
 *   finds nobody, or the addressee's resume queue is full, it tells the sender's node (`e<from> <to>`,
 *   `e<from> <to> full`), which answers exactly as `route.lua` would have (`unknown-peer` with the same message).
 *   A live addressee above the push-back mark is not sent the frame either: `e<from> <to> slow` makes the sender's
 *   node answer `rate-limited` as one relay does (decision 0003).
 * - **Batches.** Everything this module publishes to another node goes through `outbox.ts`: one `PUBLISH` per
 *   destination per event-loop turn, in order, each message keeping its own outcome.
 * - **Drain markers.** Switching away from a used route (`moved`, `left`, a bounce) must not reorder one sender's
 *   signals: that addressee's new signals are held while a marker (`m<to> <node> <token>`) goes to the old node behind
 *   the frames already there; the old node echoes it (`r<to> <token>`) after re-routing them (on one command
 *   connection, so in order), and only then do the held signals go. Bounded: {@link DRAIN_TIMEOUT_MS},
 *   {@link HOLD_MAX}. A `PUBLISH` that reached nobody (the node died or took a new ID) is re-sent through `route.lua`,
 *   and later ones wait until every earlier one has answered.
 *
 * @module
 */
import { randomToken, type Link } from '../participants.js';
import { asNumber, type Member, type NodeState } from './node-state.js';
import { ROUTE } from './scripts.js';

/**
 * A cached route to a participant another node serves. Only a shortcut: the receiving node checks, so a stale route
 * costs a detour, never a misdelivery.
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

/** How long a switch waits for the old node's echo at most, in ms (a node that died meanwhile never echoes). */
export const DRAIN_TIMEOUT_MS = 1_000;
/** Signals held during one switch at most; beyond, the switch ends at once (the order may then suffer). */
export const HOLD_MAX = 1_000;

/** The `unknown-peer` messages, the same as one relay's (`participants.ts`). */
export const noSuchPeer = (to: string): string => `no other peer ${JSON.stringify(to)} in this room`;
export const queueFull = (to: string): string => `peer ${JSON.stringify(to)} is reconnecting and its queue is full`;
/** The push-back answer (`rate-limited`, decision 0003), the same as one relay's. */
export const notReading = (to: string): string =>
  `peer ${JSON.stringify(to)} is not reading fast enough: signal not delivered, send it again later`;

/** The route cache, the fast path and the drain markers of one node (see the module comment). */
export class Routes {
  readonly #state: NodeState;
  /** Cached routes to participants other nodes serve, by room (only rooms this node has participants in), then ID. */
  readonly #remote = new Map<string, Map<string, Remote>>();
  /** When the last "cross-node signal dropped" warning was logged (once a second at most). */
  #droppedLogged = 0;

  constructor(state: NodeState) {
    this.#state = state;
  }

  /**
   * A signal for a participant not live on this node: straight to the node a cached route names (one `PUBLISH`), or
   * held while that route is being switched, or through `route` (no cached route).
   */
  send(link: Link, from: string, to: string, room: string, frame: string): void {
    const state = this.#state;
    const remote = this.#remote.get(room)?.get(to);
    if (remote === undefined) {
      this.route(link, to, room, frame);
      return;
    }
    if (remote.hold !== undefined) {
      if (remote.hold.length < HOLD_MAX) {
        remote.hold.push(() => this.send(link, from, to, room, frame));
        return;
      }
      this.#release(room, to, remote);
      this.send(link, from, to, room, frame);
      return;
    }
    if (!state.conn.up) {
      this.dropped(to);
      return;
    }
    const node = remote.node;
    remote.inflight++;
    remote.used = true;
    // Batched with the other messages to that node in this turn (`outbox.ts`); the reply is the batch's.
    state.outbox.publish(state.channelOf(node), `f${to} ${from} ${state.node} ${room}\n${frame}`, (received) => {
      remote.inflight--;
      if (received === undefined) {
        this.dropped(to);
      } else if (received > 0) {
        state.countSent();
      } else {
        // Nobody listens there (that node died or took a new ID): this one and any later one still in flight go
        // through `route`, in order; new ones wait until they are all answered.
        remote.hold ??= [];
        remote.next = '';
        remote.token = '';
        this.route(link, to, room, frame);
      }
      this.#settle(room, to, remote);
    });
  }

  /** A signal for a participant not live on this node: `route` (published to its node, or queued, or refused). */
  route(link: Link, to: string, room: string, frame: string): void {
    const state = this.#state;
    const cluster = state.cluster;
    if (!state.conn.up) {
      this.dropped(to);
      return;
    }
    const args = [state.prefix, to, room, frame, state.config.resumeQueueBytes, 's'];
    state.conn.run(ROUTE, args).then(
      (reply) => {
        const outcome = asNumber(reply);
        if (outcome === 1) {
          state.countSent();
        } else if (outcome === 2) {
          cluster?.route.inc({ outcome: 'queued' });
        } else if (outcome === 3) {
          cluster?.route.inc({ outcome: 'full' });
          link.fail('unknown-peer', queueFull(to));
        } else {
          cluster?.route.inc({ outcome: 'unknown' });
          link.fail('unknown-peer', noSuchPeer(to));
        }
      },
      () => this.dropped(to),
    );
  }

  /** A cross-node signal that could not be handed to Redis: counted, logged at most once a second. */
  dropped(to: string): void {
    this.#state.cluster?.route.inc({ outcome: 'dropped' });
    const now = Date.now();
    if (now - this.#droppedLogged >= 1000) {
      this.#droppedLogged = now;
      this.#state.log.warn({ to }, 'Redis unreachable: cross-node signal dropped');
    }
  }

  /** Remembers where the members of `room` (this node's participants excluded) are live. */
  learn(room: string, members: readonly Member[]): void {
    for (const { id, node } of members) if (node !== this.#state.node) this.remember(room, id, node);
  }

  remember(room: string, id: string, node: string): void {
    if (!this.#state.rooms.has(room) || node === this.#state.node || node === '') return;
    let routes = this.#remote.get(room);
    if (!routes) this.#remote.set(room, (routes = new Map<string, Remote>()));
    if (!routes.has(id)) {
      routes.set(id, { node, inflight: 0, used: false, hold: undefined, token: '', next: '', timer: undefined });
    }
  }

  /** This node has nobody left in `room`: no announcement for it reaches this node any more, its routes would go stale. */
  dropRoom(room: string): void {
    const routes = this.#remote.get(room);
    this.#remote.delete(room);
    for (const remote of routes?.values() ?? []) clearTimeout(remote.timer);
  }

  /**
   * The cached route to `id` is wrong from now on (it left, moved to `next`, or `''`: unknown): switch without
   * reordering. If no frame went by it, at once; otherwise its signals are held while a drain marker goes to the old
   * node behind the frames already sent there, and released when it comes back (every earlier frame re-routed).
   */
  invalidate(room: string, id: string, next: string): void {
    const state = this.#state;
    const remote = this.#remote.get(room)?.get(id);
    if (!remote) return;
    if (next === state.node) next = '';
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
    if (!state.conn.up) {
      this.#release(room, id, remote);
      return;
    }
    // Behind the frames already queued for that node: the same batch or a later one, on the same connection.
    state.outbox.publish(state.channelOf(remote.node), `m${id} ${state.node} ${token}`, (received) => {
      if (received === undefined) {
        this.#release(room, id, remote);
      } else if (received === 0 && remote.token === token) {
        // Nobody there: nothing can be re-routed from there any more.
        remote.token = '';
        this.#settle(room, id, remote);
      }
    });
  }

  /**
   * A message of the fast path on this node's channel (`f`, `e`, `m`, `r`; see the module comment).
   * @returns whether it was one.
   */
  onMessage(kind: string, text: string): boolean {
    const state = this.#state;
    if (kind === 'f') {
      const cut = text.indexOf('\n');
      const [to, from, node, room] = text.slice(1, cut < 0 ? 0 : cut).split(' ');
      if (cut < 0 || !to || !from || !node || !room) return true;
      this.#deliverDirect(to, from, node, room, text.slice(cut + 1));
    } else if (kind === 'e') {
      const [from, to, why] = text.slice(1).split(' ');
      const held = from === undefined ? undefined : state.held.get(from);
      if (!held || to === undefined) return true;
      if (why === 'slow') {
        // Push-back across nodes (decision 0003): the addressee is live there but not reading; the route stays.
        state.cluster?.route.inc({ outcome: 'slow' });
        held.link?.fail('rate-limited', notReading(to));
        return true;
      }
      this.invalidate(held.room, to, '');
      const full = why === 'full';
      state.cluster?.route.inc({ outcome: full ? 'full' : 'unknown' });
      held.link?.fail('unknown-peer', full ? queueFull(to) : noSuchPeer(to));
    } else if (kind === 'm') {
      // A drain marker: every frame that came before it from that node has been handed to Redis already (the
      // re-routes went on the command connection before this echo).
      const [to, node, token] = text.slice(1).split(' ');
      if (to && node && token) state.outbox.publish(state.channelOf(node), `r${to} ${token}`);
    } else if (kind === 'r') {
      const [to, token] = text.slice(1).split(' ');
      for (const [room, routes] of this.#remote) {
        const remote = to === undefined ? undefined : routes.get(to);
        if (remote && remote.token === token && to !== undefined) {
          remote.token = '';
          this.#settle(room, to, remote);
        }
      }
    } else {
      return false;
    }
    return true;
  }

  /**
   * A fast-path frame: delivered only to `to` live here in the sender's `room`; anything else (a stale route: it left,
   * is in its grace period, moved) goes through `route` with the room checked, and if that finds nobody or a full
   * queue the sender's node is told (`e`), which answers `unknown-peer` exactly as `route` would have.
   */
  #deliverDirect(to: string, from: string, node: string, room: string, frame: string): void {
    const state = this.#state;
    const held = state.held.get(to);
    if (held?.link && held.room === room) {
      if (held.link.congested) {
        // Not reading fast enough: not delivered, and the sender is told as in one relay (decision 0003).
        this.bounceSlow(node, from, to);
        return;
      }
      if (held.link.sendEncoded(frame)) {
        state.context().metrics.relayed += 1;
        state.countIn();
      }
      return;
    }
    if (!state.conn.up) {
      this.dropped(to);
      return;
    }
    state.cluster?.route.inc({ outcome: 'detour' });
    state.conn.run(ROUTE, [state.prefix, to, room, frame, state.config.resumeQueueBytes, 'S']).then(
      (reply) => {
        const outcome = asNumber(reply);
        if (outcome === 0 || outcome === 3) {
          // `route`'s own answer, told to the sender's node: nobody there, or a full queue (the same messages).
          const bounce = `e${from} ${to}${outcome === 3 ? ' full' : ''}`;
          state.outbox.publish(state.channelOf(node), bounce);
        }
      },
      () => this.dropped(to),
    );
  }

  /**
   * A signal from `from` (served by `node`) not delivered because its addressee `to`, live here, is not reading fast
   * enough (its socket's buffer is above `pushBackBufferedBytes`): `e<from> <to> slow` tells the sender's node, which
   * answers `rate-limited` exactly as one relay would (decision 0003), counted there as `route_total{outcome="slow"}`.
   */
  bounceSlow(node: string, from: string, to: string): void {
    const state = this.#state;
    state.outbox.publish(state.channelOf(node), `e${from} ${to} slow`);
  }

  /** A switch with no marker awaited ends once every fast-path frame in flight is answered. */
  #settle(room: string, to: string, remote: Remote): void {
    if (remote.hold !== undefined && remote.token === '' && remote.inflight === 0) this.#release(room, to, remote);
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
}
