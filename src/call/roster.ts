/**
 * Who is in the call, by relay ID: `welcome`, `peer-joined` and `peer-left` turned into peers met and removed, and
 * relay `signal`s handed to the sender's session. In the call's on-demand engine chunk. No DOM.
 *
 * After a relay restart the peers still connected keep their connections under their new IDs (issue 10,
 * docs/decisions/0006-rebind-after-a-relay-restart.md). That re-association is `roster-rebind.ts`, a chunk of its
 * own that most calls never need: it is loaded on the first fresh `welcome` that finds peers from before (a lost
 * place) or the first `rebind` a peer sends, is handed the IDs announced so far, and from then on every message goes
 * to it, in order (those that arrive while it loads wait for it). Until then a peer is met as soon as the relay
 * announces it, which is what the full rules do when no peer can claim an ID. A chunk that cannot be fetched is
 * reported (`failed`) and those plain rules go on for the rest of the call: peers from before are met anew.
 *
 * @module
 */
import { chunk } from '../chunk.js';
import type { VideoChatError } from '../errors.js';
import type { PeerSession } from '../negotiation/peer-session.js';
import type { PeerRebindMessage, PeerSignalMessage } from '../protocol/data-channel.js';
import type {
  PeerInfo,
  PeerJoinedMessage,
  PeerLeftMessage,
  SignalDelivery,
  WelcomeMessage,
} from '../protocol/relay.js';
import type { PeerChannel } from './peer-channel.js';
import type { RebindRoster } from './roster-rebind.js';
import type { RemotePeer } from './types.js';

/** The parts of the call the roster drives: the call controller's maps (by peer ID) and its peer lifecycle. */
export interface RosterHost {
  /** Remote peers by ID, in joining order: re-keyed in place, order kept (tiles are drawn in this order). */
  peers: Map<string, RemotePeer>;
  /** The peers' sessions by ID: re-keyed with `peers`; `direct` tells a connection that is up; relay signals go to `receive`. */
  sessions: Map<string, Pick<PeerSession, 'direct' | 'receive'>>;
  /** The peers' data channel wires by ID: re-keyed with `peers`; carries the `rebind`. */
  channels: Map<string, Pick<PeerChannel, 'send'>>;
  /** Meets a peer: a new session (`initiator`: we make the offer), `vc-peer-joined`. */
  add(info: PeerInfo, initiator: boolean): void;
  /** Removes a peer: its session closed, `vc-peer-left`. */
  remove(id: string): void;
  /** The peers changed outside a relay message (a timer, a `rebind`): the call state may have to follow. */
  changed(): void;
  /** The re-association's chunk could not be fetched (`chunk-failed`): reported, the call goes on without it. */
  failed?(error: VideoChatError): void;
}

/** The call's peers by relay ID. See the module comment. */
export class Roster {
  #host: RosterHost;
  /** IDs the current relay session announced: `welcome.peers`, then `peer-joined`, less `peer-left`. */
  #announced = new Set<string>();
  /** The re-association's roster, once a lost place or a `rebind` asked for it (loading, then loaded). */
  #rebind: Promise<RebindRoster> | undefined;
  /** The same once it has run (for a synchronous {@link clear}). */
  #loaded: RebindRoster | undefined;
  /** Its chunk could not be fetched: the plain rules until the call ends (peers from before are met anew). */
  #plain = false;
  #meeting = 0;

  constructor(host: RosterHost) {
    this.#host = host;
  }

  /**
   * While a `welcome`'s peers are being met (one session after the other, synchronously, inside {@link welcome}): how
   * many peers the room has once they all are; else 0. The governor counts that many copies from the first session on
   * (`mesh-peer.ts`, through `MeshCall.roster`), so that a newcomer's first caps (its offers' `sendEncodings`) are
   * those of the room it enters and need no re-cap.
   */
  get meeting(): number {
    return this.#meeting;
  }

  /** Whether the re-association's chunk was asked for (this call had a lost place or got a `rebind`). */
  get rebinding(): boolean {
    return !!this.#rebind;
  }

  /**
   * A `welcome`. Fresh (a new ID) with peers from before: a lost place, handed to `roster-rebind.ts`. Otherwise the
   * listed peers are met (after a fresh welcome we make the offers) and, after a resumed one, peers not listed left
   * meanwhile and are removed.
   */
  welcome(message: WelcomeMessage, fresh: boolean): void {
    const { peers } = this.#host;
    if (!this.#plain && (this.#rebind || (fresh && peers.size))) return this.#later((r) => r.welcome(message, fresh));
    this.#announced = new Set(message.peers.map((p) => p.id));
    for (const id of [...peers.keys()]) if (!this.#announced.has(id)) this.#host.remove(id);
    this.#meeting = this.#announced.size;
    for (const info of message.peers) if (!peers.has(info.id)) this.#host.add(info, fresh);
    this.#meeting = 0;
  }

  /** The relay's `peer-joined` (met: it makes the offer), `peer-left` (removed) and `signal` (to the sender's session). */
  relay(message: PeerJoinedMessage | PeerLeftMessage | SignalDelivery): void {
    if (this.#rebind && !this.#plain) return this.#later((r) => r.relay(message));
    if (message.type === 'signal') return this.#host.sessions.get(message.from)?.receive(message.data);
    if (message.type === 'peer-left') {
      this.#announced.delete(message.id);
      this.#host.remove(message.id);
    } else {
      this.#announced.add(message.peer.id);
      if (!this.#host.peers.has(message.peer.id)) this.#host.add(message.peer, false);
    }
    this.#host.changed();
  }

  /** A `signal` (to `peer`'s session) or a `rebind` (handed to `roster-rebind.ts`) from `peer`'s data channel. */
  peer(peer: RemotePeer, message: PeerSignalMessage | PeerRebindMessage): void {
    if (!this.#plain && (this.#rebind || message.type === 'rebind')) return this.#later((r) => r.peer(peer, message));
    if (message.type != 'rebind') this.#host.sessions.get(peer.id)?.receive(message.data);
  }

  /** The call ended: removes every peer and forgets everything (a re-association still loading is dropped). */
  clear(): void {
    this.#loaded?.clear(); // its timers and holds
    this.#rebind = this.#loaded = undefined;
    this.#plain = false; // the next call tries the chunk again (src/chunk.ts: once more at most)
    this.#announced = new Set();
    for (const id of [...this.#host.peers.keys()]) this.#host.remove(id);
  }

  /**
   * Runs `fn` on the re-association's roster, loading its chunk first; dropped if the call was cleared meanwhile. When
   * the chunk cannot be fetched, the host is told once (`chunk-failed`) and `fn` runs on this roster instead: the same
   * message under the plain rules, in the same order.
   */
  #later(fn: (roster: Pick<RebindRoster, 'welcome' | 'relay' | 'peer'>) => void): void {
    const rebind = (this.#rebind ??= chunk('roster-rebind', () => import('./roster-rebind.js')).then(
      (m) => new m.RebindRoster(this.#host, this.#announced),
    ));
    void rebind.then(
      (r) => {
        if (this.#rebind !== rebind) return;
        this.#loaded = r;
        fn(r);
      },
      (error: VideoChatError) => {
        if (this.#rebind !== rebind) return;
        if (!this.#plain) this.#host.failed?.(error);
        this.#plain = true;
        fn(this);
      },
    );
  }
}
