/**
 * What a node receives on its channel when rooms are shared through Redis (`vc:ch:<node>`, formats in `scripts.ts`):
 * signals routed to its participants (`s`, `S`), the membership announcements of the scripts (`j`: `joined`, `left`,
 * `moved`), and the fast path's messages, which go to `routes.ts` (`f`, `e`, `m`, `r`), alone or in a batch (`b`,
 * `outbox.ts`: split here, in order). A `signal` frame reaches only a participant this node serves live; otherwise it
 * is kept for a join or resume in flight here, or routed once more. A participant that is not reading fast enough
 * (above the push-back mark) is not sent it: its sender's node is told (`slow`, decision 0003).
 *
 * @module
 */
import { CloseCode } from '../../../src/protocol/relay.js';
import type { NodeState } from './node-state.js';
import { splitBatch } from './outbox.js';
import type { Routes } from './routes.js';
import { ROUTE } from './scripts.js';

/** The handler of one node's channel (see the module comment). */
export class Inbox {
  readonly #state: NodeState;
  readonly #routes: Routes;
  /** Hears this node's channel messages of kind `x` (the SFU's shared rooms, `sfu/shared-participants.ts`). */
  onExtension: ((text: string) => void) | undefined = undefined;
  /** When an undeliverable routed signal was last logged (once a second at most). */
  #slowLogged = 0;

  constructor(state: NodeState, routes: Routes) {
    this.#state = state;
    this.#routes = routes;
  }

  /** A message on this node's channel. */
  message(text: string): void {
    const state = this.#state;
    if (!state.ctx) return;
    const kind = text.charAt(0);
    if (kind === 's' || kind === 'S') {
      const cut = text.indexOf('\n');
      if (cut < 0) return;
      this.#deliver(text.slice(1, cut), text.slice(cut + 1), kind === 'S');
      return;
    }
    if (kind === 'b') {
      // A batch of fast-path messages from one node (`outbox.ts`): each in order, as if it had come alone.
      splitBatch(text, (message) => {
        if (message.charAt(0) !== 'b') this.message(message);
      });
      return;
    }
    if (kind === 'x') {
      this.onExtension?.(text.slice(1));
      return;
    }
    if (this.#routes.onMessage(kind, text) || kind !== 'j') return;
    let event: { k?: unknown; r?: unknown; id?: unknown; m?: unknown; s?: unknown; n?: unknown; node?: unknown };
    try {
      event = JSON.parse(text.slice(1)) as typeof event;
    } catch {
      return;
    }
    const id = typeof event.id === 'string' ? event.id : undefined;
    if (id === undefined) return;
    if (event.k === 'joined' && typeof event.r === 'string') {
      if (typeof event.n === 'string') {
        this.#routes.remember(event.r, id, event.n);
        state.tell(event.r, id, typeof event.m === 'string' ? event.m : '', Number(event.s), event.n);
      }
      state.broadcast(
        event.r,
        { type: 'peer-joined', peer: { id, name: typeof event.m === 'string' ? event.m : '' } },
        id,
      );
    } else if (event.k === 'left' && typeof event.r === 'string') {
      const held = state.held.get(id);
      if (held) {
        if (held.state === 'grace') state.context().metrics.resumes.inc({ outcome: 'expired' });
        const link = held.link;
        state.forget(held, 'left');
        // Redis says it left while its connection is open here (its node was declared gone): the client rejoins.
        link?.close(CloseCode.ServiceRestart, 'participant expired, join again');
      }
      this.#routes.invalidate(event.r, id, '');
      state.told.get(event.r)?.delete(id);
      state.broadcast(event.r, { type: 'peer-left', id }, id);
    } else if (event.k === 'moved') {
      // It resumed on another node: a connection still open here is closed with 4001.
      const held = state.held.get(id);
      if (held) state.forget(held, 'replaced');
      if (typeof event.r === 'string') {
        this.#routes.invalidate(event.r, id, typeof event.node === 'string' ? event.node : '');
        const told = state.told.get(event.r)?.get(id);
        if (told && typeof event.node === 'string') told.node = event.node;
      }
    }
  }

  /** A signal frame for `to` from another node (or re-routed): to its live link, or kept while its join is in flight. */
  #deliver(to: string, frame: string, rerouted: boolean): void {
    const state = this.#state;
    const held = state.held.get(to);
    if (held?.link) {
      if (held.link.congested) {
        this.#slow(held.room, to, frame);
        return;
      }
      if (held.link.sendEncoded(frame)) {
        state.context().metrics.relayed += 1;
        state.countIn();
      }
      return;
    }
    const pending = state.inflight.get(to);
    if (pending) {
      pending.push(frame);
      return;
    }
    // It went into its grace period (or moved) after Redis routed this: route once more, to its queue or new node.
    if (!rerouted && state.conn.up) {
      state.conn.run(ROUTE, [state.prefix, to, '', frame, state.config.resumeQueueBytes, 'S']).catch(() => {
        this.#routes.dropped(to);
      });
    } else {
      this.#routes.dropped(to);
    }
  }

  /**
   * A routed signal for `to`, live here but not reading fast enough: not delivered (decision 0003). Its sender (the
   * `from` this relay's peer stamped first in the frame) is told through its node, as on the fast path, when this node
   * knows that node (its clients were told about the sender); otherwise the drop is logged.
   */
  #slow(room: string, to: string, frame: string): void {
    const state = this.#state;
    const from = SENDER.exec(frame)?.[1];
    const node = from === undefined ? undefined : state.told.get(room)?.get(from)?.node;
    if (from !== undefined && node !== undefined) {
      this.#routes.bounceSlow(node, from, to);
      return;
    }
    const now = Date.now();
    if (now - this.#slowLogged < 1000) return;
    this.#slowLogged = now;
    state.log.warn({ to, from }, 'signal not delivered: addressee not reading fast enough, sender unknown here');
  }
}

/** The sender of an encoded `signal` frame (`encode({ type: 'signal', from, data })` puts `from` second). */
const SENDER = /^\{"type":"signal","from":"([^"\\]+)"/;
