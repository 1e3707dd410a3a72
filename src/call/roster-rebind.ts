/**
 * Who is in the call, by relay ID, once a relay restart renamed peers: their re-association (issue 10;
 * docs/decisions/0006-rebind-after-a-relay-restart.md). Its own chunk (`video-chat-roster-rebind-<hash>.js`), loaded
 * by `roster.ts` (in the engine chunk) on the first fresh `welcome` that finds peers from before, or the first
 * `rebind` from a peer; from then on it is the call's roster. No DOM.
 *
 * A relay that restarts has lost every participant: each element's resume is refused and it joins afresh with a new
 * ID, while its peer connections are still up (media and the data channel are peer to peer). So after a fresh
 * `welcome` that follows a lost place, the call keeps every peer whose connection is up (`PeerSession.direct`) as
 * **stale** (keyed by an ID the current relay never announced) and tells each of them, on its data channel,
 * `{ type: 'rebind', id: <my new ID> }`. A stale peer that says the same to us is **re-keyed** to its new ID: same
 * `RemotePeer`, `PeerSession`, `PeerChannel` and tile, no renegotiation, no `vc-peer-left`/`vc-peer-joined`.
 *
 * Rules (the anti-spoofing ones first):
 * - A `rebind` re-keys only the peer whose channel it arrived on, only while that peer is stale, only to an ID the
 *   current relay announced (`welcome.peers`, `peer-joined`, less `peer-left`), never to one already in use. One
 *   that arrives before the relay announced its ID (before my own fresh `welcome`, or before the `peer-joined`) is
 *   held (one per peer, the latest) and applied when the ID is announced.
 * - An announced ID nobody is known by yet **waits** for a `rebind`, at most {@link REBIND_WAIT_MS}, while a stale
 *   peer is left that could send it; then, or at once when no stale peer is left, or when a relay `signal` comes from
 *   it (a newcomer's offer: see {@link Roster.stranger}), it is met as a stranger (a new session; the one of us who
 *   was not in the room first makes the offer, as on any join).
 * - A stale peer that does not rebind within {@link REBIND_WINDOW_MS} of the fresh `welcome` has left: it is removed
 *   (`vc-peer-left`). One whose connection is down at the fresh `welcome` (its channel closed: it cannot rebind) is
 *   removed at once, unless it already sent its `rebind`; so is one listed under its old ID (the relay did not
 *   restart, only this participant's grace period ran out, and that peer closed its side when told we left).
 *
 * @module
 */
import type { PeerRebindMessage, PeerSignalMessage } from '../protocol/data-channel.js';
import type {
  PeerInfo,
  PeerJoinedMessage,
  PeerLeftMessage,
  SignalDelivery,
  WelcomeMessage,
} from '../protocol/relay.js';
import type { RemotePeer } from './types.js';
import type { RosterHost } from './roster.js';

/**
 * How long an announced ID waits for a `rebind` before it is met as a stranger, in ms. Its owner sent the `rebind` as
 * it got its welcome, the moment the relay announced it, and the channel is peer to peer: this only covers a slow
 * event loop.
 */
export const REBIND_WAIT_MS = 3000;

/**
 * How long a stale peer is kept for its `rebind` after a fresh `welcome`, in ms: as long as the relay's default grace
 * period (a peer may still be in its reconnect backoff, at most 10 s).
 */
export const REBIND_WINDOW_MS = 15_000;

/** The call's peers by relay ID across relay sessions. See the module comment. */
export class RebindRoster {
  #host: RosterHost;
  /** IDs the current relay session announced: `welcome.peers`, then `peer-joined`, less `peer-left`. */
  #announced: Set<string>;
  /** `rebind`s not applied yet: peer → the ID it says it has now. */
  #claims = new Map<RemotePeer, string>();
  /** Announced IDs nobody is known by yet, waiting for a `rebind`: ID → how to meet it as a stranger. */
  #waiting = new Map<string, [PeerInfo, boolean]>();
  /** Ends the window in which stale peers may rebind; set while one is open. */
  #window: ReturnType<typeof setTimeout> | undefined;

  /** `announced`: the IDs the current relay session announced so far (kept by `roster.ts` until now). */
  constructor(host: RosterHost, announced: Set<string>) {
    this.#host = host;
    this.#announced = announced;
  }

  /**
   * A `welcome`. `fresh` (a new ID, `id`) with peers from before (a lost place): they become stale, each whose
   * connection is up is told `rebind`, the others are removed; the listed peers are met, we make the offers. Resumed
   * (same ID): peers not listed left meanwhile and are removed (stale ones only when their window ends); new ones are
   * met, they make the offers.
   */
  welcome({ id, peers }: WelcomeMessage, fresh: boolean): void {
    this.#announced = new Set(peers.map((p) => p.id));
    const { peers: known, sessions, channels } = this.#host;
    if (fresh) {
      this.#waiting.clear();
      clearTimeout(this.#window);
      this.#window = undefined;
      for (const [key, peer] of [...known]) {
        // Listed under the same ID: the relay did not restart, only we lost our place (grace period over), and that
        // peer saw us leave and closed its side: meet it afresh.
        if (this.#stale(key) && (sessions.get(key)?.direct || this.#claims.has(peer))) {
          channels.get(key)?.send({ type: 'rebind', id } satisfies PeerRebindMessage);
        } else this.#host.remove(key);
      }
      if (known.size) this.#window = setTimeout(() => this.#close(), REBIND_WINDOW_MS);
    } else if (!this.#window) {
      for (const key of [...known.keys()]) if (this.#stale(key)) this.#host.remove(key);
    }
    for (const peer of peers) this.#meet(peer, fresh);
  }

  /**
   * The relay's `peer-joined` (a newcomer, or a stale peer under its new ID: then its `rebind` is awaited),
   * `peer-left`, and `signal` (to the sender's session; from an ID waiting for a `rebind`: see {@link stranger}).
   */
  relay(message: PeerJoinedMessage | PeerLeftMessage | SignalDelivery): void {
    if (message.type === 'signal') {
      this.stranger(message.from);
      this.#host.sessions.get(message.from)?.receive(message.data);
      return;
    }
    if (message.type === 'peer-left') {
      this.#announced.delete(message.id);
      this.#waiting.delete(message.id);
      this.#host.remove(message.id);
    } else {
      this.#announced.add(message.peer.id);
      this.#meet(message.peer, false);
    }
    this.#host.changed();
  }

  /**
   * A `signal` or a `rebind` from `peer`'s data channel (untrusted): the signal goes to its session (parsed there, as
   * one from the relay); the rebind says its relay ID is `id` now (applied by the rules of the module comment).
   */
  peer(peer: RemotePeer, message: PeerSignalMessage | PeerRebindMessage): void {
    if (message.type === 'signal') {
      this.#host.sessions.get(peer.id)?.receive(message.data);
      return;
    }
    this.#claims.set(peer, message.id);
    this.#settle();
    this.#host.changed();
  }

  /**
   * A relay `signal` from `id`: if that ID is waiting for a `rebind`, it is met now (a stale peer re-keyed to it
   * would have said so on the channel before, while a newcomer's first offer comes this way).
   */
  stranger(id: string): void {
    const waiting = this.#waiting.get(id);
    if (!waiting) return;
    this.#waiting.delete(id);
    this.#host.add(...waiting);
    this.#host.changed();
  }

  /** The call ended: removes every peer and forgets everything. */
  clear(): void {
    clearTimeout(this.#window);
    this.#window = undefined;
    this.#announced.clear();
    this.#claims.clear();
    this.#waiting.clear();
    for (const id of [...this.#host.peers.keys()]) this.#host.remove(id);
  }

  /** Whether the peer known as `id` is stale: kept from an earlier relay session, not (yet) re-keyed. */
  #stale(id: string): boolean {
    return !this.#announced.has(id);
  }

  /** An announced peer: known, or re-keyed from a held claim, or waiting, or met at once when nobody can claim it. */
  #meet(info: PeerInfo, initiator: boolean): void {
    const { id } = info;
    if (this.#host.peers.has(id) || this.#waiting.has(id)) return;
    this.#waiting.set(id, [info, initiator]);
    this.#settle();
    if (this.#waiting.has(id)) setTimeout(() => this.stranger(id), REBIND_WAIT_MS);
  }

  /** Applies the claims that may be applied; meets every waiting ID as a stranger once no stale peer is left. */
  #settle(): void {
    const { peers } = this.#host;
    for (const [peer, id] of this.#claims) {
      if (peers.get(peer.id) !== peer)
        this.#claims.delete(peer); // removed meanwhile
      else if (this.#stale(peer.id) && this.#announced.has(id) && !peers.has(id)) {
        this.#claims.delete(peer);
        this.#waiting.delete(id);
        for (const map of [peers, this.#host.sessions, this.#host.channels] as Map<string, unknown>[]) {
          const entries = [...map];
          map.clear();
          for (const [key, value] of entries) map.set(key === peer.id ? id : key, value);
        }
        peer.id = id;
      }
    }
    if (![...peers.keys()].some((id) => this.#stale(id))) for (const id of [...this.#waiting.keys()]) this.stranger(id);
  }

  /** The window ends: stale peers that did not rebind have left. */
  #close(): void {
    this.#window = undefined;
    for (const id of [...this.#host.peers.keys()]) if (this.#stale(id)) this.#host.remove(id);
    this.#settle();
    this.#host.changed();
  }
}
