/**
 * The typed DOM events of hosts and guests, raised hands and reactions (docs/protocol.md "Hosts and guests"), as
 * `events.ts` has them for the rest: one class per event, all bubbling and composed, none cancelable, declared on
 * `GlobalEventHandlersEventMap` in `events.ts`.
 *
 * A module of their own, not in `events.ts`: only the call's hosts chunk (`call/hosts.ts`) constructs them, so the
 * script-tag file does not carry their classes; `events.ts` re-exports their types.
 *
 * @module
 */
import type { KnockOutcome } from './protocol/relay.js';
import type { PeerInfo } from './protocol/relay.js';

const init = { bubbles: true, composed: true } as const;

/** A guest waiting outside the room (knocking): `id` is the knock ID for `admit()`/`deny()`, not a peer ID. */
export interface Knock {
  readonly id: string;
  /** The display name it gave ('' when none). */
  readonly name: string;
}

/**
 * Fired on hosts when a guest knocks (`outcome` null: it is now in the waiting queue, `knocks` on the element), and
 * when a knock leaves the queue (`outcome`: `admitted`, `denied`, `cancelled`, `left`, `timeout` or `ended`).
 */
export class KnockEvent extends Event {
  static readonly eventName = 'vc-knock';
  readonly knock: Knock;
  readonly outcome: KnockOutcome | null;
  constructor(knock: Knock, outcome: KnockOutcome | null) {
    super(KnockEvent.eventName, init);
    this.knock = knock;
    this.outcome = outcome;
  }
}

/**
 * Fired when a knocking guest was let in: on that guest (`knock` null; `vc-joined` follows or precedes it) and on
 * every host (`knock`, the one admitted).
 */
export class AdmittedEvent extends Event {
  static readonly eventName = 'vc-admitted';
  readonly knock: Knock | null;
  constructor(knock: Knock | null) {
    super(AdmittedEvent.eventName, init);
    this.knock = knock;
  }
}

/**
 * Fired when a knock was refused: on the guest (`knock` null) and on every host (`knock`). `reason`: `denied` (a host
 * said no), `timeout` (nobody let it in within the relay's waiting time), `locked` or `ended` (a host ended the call).
 */
export class DeniedEvent extends Event {
  static readonly eventName = 'vc-denied';
  readonly knock: Knock | null;
  readonly reason: 'denied' | 'timeout' | 'locked' | 'ended';
  constructor(knock: Knock | null, reason: DeniedEvent['reason']) {
    super(DeniedEvent.eventName, init);
    this.knock = knock;
    this.reason = reason;
  }
}

/**
 * Fired when a participant was removed by a host: on that participant (`peer` null: closed with 4004, or its token
 * refused on rejoining with `removed`) and on the host who removed `peer` (when it asked the relay).
 */
export class RemovedEvent extends Event {
  static readonly eventName = 'vc-removed';
  readonly peer: PeerInfo | null;
  constructor(peer: PeerInfo | null) {
    super(RemovedEvent.eventName, init);
    this.peer = peer;
  }
}

/** Fired when a host locked (`locked` true: no new joins or knocks, hosts excepted) or unlocked the room. */
export class LockedEvent extends Event {
  static readonly eventName = 'vc-locked';
  readonly locked: boolean;
  constructor(locked: boolean) {
    super(LockedEvent.eventName, init);
    this.locked = locked;
  }
}

/**
 * Fired when a hand is raised or lowered: this visitor's (`peerId` null) or another participant's. `hands`: the raised
 * hands now, in the order this element saw them raised (peer IDs; null for this visitor).
 */
export class HandEvent extends Event {
  static readonly eventName = 'vc-hand';
  readonly peerId: string | null;
  readonly raised: boolean;
  readonly hands: readonly (string | null)[];
  constructor(peerId: string | null, raised: boolean, hands: readonly (string | null)[]) {
    super(HandEvent.eventName, init);
    this.peerId = peerId;
    this.raised = raised;
    this.hands = hands;
  }
}

/** Fired for every reaction shown: this visitor's own (`peerId` null) or another participant's; `emoji` as sent. */
export class ReactionEvent extends Event {
  static readonly eventName = 'vc-reaction';
  readonly peerId: string | null;
  readonly emoji: string;
  constructor(peerId: string | null, emoji: string) {
    super(ReactionEvent.eventName, init);
    this.peerId = peerId;
    this.emoji = emoji;
  }
}
