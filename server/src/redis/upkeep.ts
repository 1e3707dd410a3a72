/**
 * A node's upkeep when rooms are shared through Redis: its lease (renewed every third of `--node-lease-ms`, with the
 * subscriber's canary), the sweep that any node runs every `--sweep-interval-ms` (expired leases and grace periods;
 * `sweep.lua` is idempotent, so racing sweepers are harmless), self-fencing when its lease was lost, and the
 * write-back of what it serves after Redis came back or lost its data (`restore.lua`, idempotent, keeps the join
 * order), and one lease period later the reconcile of what its clients were told against Redis (`ghost.lua`). Only
 * Redis state decides who is gone (`docs/decisions/0008-rooms-in-redis.md` point 5).
 *
 * @module
 */
import { CloseCode } from '../../../src/protocol/relay.js';
import { randomToken } from '../participants.js';
import { asArray, asNumber, type NodeState } from './node-state.js';
import { GHOST, LEASE, RESTORE, SWEEP } from './scripts.js';

/**
 * Write-back hooks: each is called with the node's ID right after a node wrote back what it serves (Redis came back,
 * perhaps without its data). The SFU's shared room state (`sfu/shared-participants.ts`) writes its keys back here.
 */
const writeBacks = new Set<(node: string) => void>();

/** Adds a write-back hook (see {@link writeBacks}). @returns its removal. */
export function onWriteBack(hook: (node: string) => void): () => void {
  writeBacks.add(hook);
  return () => writeBacks.delete(hook);
}

/** Participants whose grace period ran out that one `sweep` call departs at most. */
const SWEEP_BATCH = 100;

/** The lease and sweep timers of one node, and what happens when Redis comes back (see the module comment). */
export class Upkeep {
  readonly #state: NodeState;
  #leaseTimer: NodeJS.Timeout | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;
  #reconcileTimer: NodeJS.Timeout | undefined;

  constructor(state: NodeState) {
    this.#state = state;
  }

  /** Starts the lease and sweep timers. */
  start(): void {
    const { nodeLeaseMs, sweepIntervalMs } = this.#state.config;
    this.#leaseTimer = setInterval(() => this.#renew(), Math.max(1, Math.floor(nodeLeaseMs / 3)));
    this.#sweepTimer = setInterval(() => this.#sweep(), sweepIntervalMs);
    this.#leaseTimer.unref();
    this.#sweepTimer.unref();
  }

  stop(): void {
    clearInterval(this.#leaseTimer);
    clearInterval(this.#sweepTimer);
    clearTimeout(this.#reconcileTimer);
  }

  /** Redis became unreachable. */
  lost(): void {
    this.#state.log.warn({ held: this.#state.held.size }, 'Redis lost: same-node signaling goes on, joins wait');
  }

  /** Redis is back (or lost its data): write back what this node holds, then the lease. */
  reconnected(): void {
    this.#restore();
    this.#state.script(LEASE, [this.#state.node, this.#state.config.nodeLeaseMs]);
  }

  /** Every third of the lease: renew it, check the canary, and handle a lost or reset registration. */
  #renew(): void {
    const state = this.#state;
    if (state.closed || !state.conn.up) return;
    if (state.conn.frozenFor(state.config.nodeLeaseMs)) {
      state.log.warn({ node: state.node }, 'Redis subscriber stopped delivering: replacing it');
      state.cluster?.subscriberReplaced.inc();
      state.conn.resubscribe().catch((error: unknown) => {
        state.log.error({ err: String(error) }, 'Redis: resubscribe failed');
      });
    }
    state.conn.canary();
    state.conn.run(LEASE, [state.prefix, state.node, state.config.nodeLeaseMs]).then(
      (reply) => {
        const outcome = asNumber(reply);
        if (outcome === 0) this.#fence();
        else if (outcome === 2) this.#restore();
      },
      (error: unknown) => state.log.warn({ err: String(error) }, 'Redis: lease renewal failed'),
    );
  }

  /** Every sweep interval: expired leases and grace periods (any node may do it; the script is idempotent). */
  #sweep(): void {
    const state = this.#state;
    if (state.closed || !state.conn.up) return;
    state.conn.run(SWEEP, [state.prefix, state.config.resumeGraceMs, SWEEP_BATCH]).then(
      (reply) => {
        const [nodes, , left] = asArray(reply).map(asNumber);
        if (nodes) {
          state.cluster?.sweeps.inc({ what: 'node' }, nodes);
          state.log.warn({ nodes }, 'relay process lease expired: its participants are in their grace period');
        }
        if (left) state.cluster?.sweeps.inc({ what: 'grace' }, left);
      },
      (error: unknown) => state.log.warn({ err: String(error) }, 'Redis: sweep failed'),
    );
  }

  /**
   * This node was declared gone (its lease ran out: a long pause, or cut off from Redis longer than the lease) while
   * it still runs. Its participants' records are in their grace period, owned by the old ID: every connection is
   * closed with 1012 so that its client resumes (here or elsewhere), and the node goes on under a new ID.
   */
  #fence(): void {
    const state = this.#state;
    state.cluster?.leasesLost.inc();
    state.log.error({ node: state.node }, 'lease lost: this relay was declared gone; reconnecting its clients');
    const links = [...state.held.values()].map((held) => held.link);
    for (const held of [...state.held.values()]) state.forget(held, 'left');
    for (const link of links) link?.close(CloseCode.ServiceRestart, 'relay lease lost, reconnect');
    state.node = randomToken();
    state.conn
      .resubscribe(state.channelOf(state.node))
      .then(() => state.conn.run(LEASE, [state.prefix, state.node, state.config.nodeLeaseMs]))
      .catch((error: unknown) => state.log.error({ err: String(error) }, 'Redis: new registration failed'));
  }

  /** Writes back every participant this node serves (kept if Redis has it: idempotent, keeps the join order). */
  #restore(): void {
    const state = this.#state;
    let count = 0;
    for (const held of state.held.values()) {
      count++;
      state.script(RESTORE, [
        held.id,
        held.room,
        state.node,
        held.name,
        held.seq,
        held.state,
        held.digest,
        state.config.resumeGraceMs,
      ]);
    }
    state.log.info({ participants: count }, 'Redis: restored what this relay holds');
    for (const hook of writeBacks) hook(state.node);
    // One lease period later every living node has written back its own: what is still missing had no living node.
    clearTimeout(this.#reconcileTimer);
    this.#reconcileTimer = setTimeout(() => this.#reconcile(), state.config.nodeLeaseMs);
    this.#reconcileTimer.unref();
  }

  /**
   * After a write-back: the members of this node's rooms that its clients were told about and that no living node
   * wrote back (their node died while Redis was away and empty) are written back as ghosts (`ghost.lua`), in their
   * grace period; the sweep then makes them leave, so every node's clients see `peer-left`. Only Redis state decides:
   * a member whose node holds a lease, or that Redis has, is left alone.
   */
  #reconcile(): void {
    const state = this.#state;
    this.#reconcileTimer = undefined;
    if (state.closed || !state.conn.up) return;
    for (const [room, members] of state.told) {
      for (const [id, { name, seq, node }] of members) {
        if (state.held.has(id)) continue;
        const args = [state.prefix, id, room, node, name, seq, state.config.resumeGraceMs];
        state.conn.run(GHOST, args).then(
          (reply) => {
            if (asNumber(reply) === 1)
              state.log.warn(
                { id, room, node },
                'member of a relay gone while Redis was away: grace period, then peer-left',
              );
          },
          (error: unknown) => state.log.warn({ err: String(error) }, 'Redis: ghost failed'),
        );
      }
    }
  }
}
