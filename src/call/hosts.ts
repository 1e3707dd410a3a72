/**
 * Hosts and guests on the call's side (docs/protocol.md "Hosts and guests"): this visitor's role, the room's lock and
 * hosts, the waiting queue (hosts), the wait outside (a knocking guest), raised hands in order, reactions, and the
 * requests to unmute a host sent. No DOM: the templates in `ui/room.ts` read it, the element's methods call it.
 *
 * Its own on-demand chunk (`video-chat-hosts-<hash>.js`), loaded through the engine's `loadHosts` by the
 * {@link CallController} on the first message that needs it (a `welcome`, a message of `protocol/hosts.ts`, a hand or
 * a reaction), so the script-tag file and the engine carry none of it.
 *
 * The relay enforces every host action; this model only sends them. Hands and reactions travel between elements
 * (`protocol/data-channel.ts`): a hand is kept in the order this element received it; a host's `lower-hand` counts
 * only from a participant the latest `room-state` lists as host; reactions are sent at most once per
 * {@link REACTION_INTERVAL_MS} and shown for {@link REACTION_SHOWN_MS}.
 *
 * @module
 */
import { VideoChatError, type VideoChatErrorCode } from '../errors.js';
import {
  AdmittedEvent,
  DeniedEvent,
  HandEvent,
  KnockEvent,
  LockedEvent,
  ReactionEvent,
  RemovedEvent,
  type Knock,
} from '../hosts-events.js';
import { VideoChatErrorEvent } from '../events.js';
import type { PeerMessage } from '../protocol/data-channel.js';
import { HOST_SERVER_TYPES } from '../protocol/hosts.js';
import { parseHostServerMessage } from '../protocol/hosts-server.js';
import {
  CloseCode,
  type AskDelivery,
  type ClientMessage,
  type MediaKind,
  type Role,
  type ServerMessage,
  type WaitingMessage,
  type WelcomeMessage,
} from '../protocol/relay.js';
import type { CallHost, RemotePeer } from './types.js';

/** Least time between two reactions this visitor sends, in ms (docs/protocol.md: at most one per second). */
export const REACTION_INTERVAL_MS = 1000;
/** How long a reaction stays on the sender's tile, in ms (its animation is shorter; see `ui/reactions.ts`). */
export const REACTION_SHOWN_MS = 3000;

/** What the model reads from and asks of the call (public parts of `CallController`). */
export interface HostsCall {
  readonly selfId: string | null;
  readonly peers: readonly RemotePeer[];
  setMicrophoneEnabled(enabled: boolean): void;
  setCameraEnabled(enabled: boolean): void;
}

/** The call's wires, handed over by the {@link CallController}. */
export interface HostsLink {
  /** Sends to the relay (dropped when not connected). */
  send(message: ClientMessage): void;
  /** The data channel (or its SFU stand-in) of each peer, by peer ID. */
  readonly channels: ReadonlyMap<string, { send(message: PeerMessage): void }>;
  /** Ends the call with `error` (state `error`, `vc-error`), without retrying. */
  refuse(error: VideoChatError): void;
}

/** Something the live region announces, in the UI's words (`ui/room.ts`). */
export interface Notice {
  readonly kind: 'knock' | 'admitted' | 'hand' | 'locked' | 'unlocked' | 'ask-unmute' | 'mute-request';
  readonly name: string;
  /** For a request: about the camera (else the microphone). */
  readonly camera?: boolean;
}

/** The reason of a `denied` as the error the knocker sees, with its English message. */
const DENIED: Record<string, [VideoChatErrorCode, string]> = {
  denied: ['denied', 'The host did not let you in.'],
  timeout: ['knock-timeout', 'Nobody let you in in time. Try again later.'],
  locked: ['room-locked', 'The host has locked this room.'],
  ended: ['call-ended', 'The host ended the call.'],
  removed: ['removed', 'A host removed you from this call.'],
};

export class Hosts {
  /** This visitor's role (`welcome.role`, or listed in `room-state.hosts`); `guest` without tokens. */
  role: Role = 'guest';
  /** No new joins or knocks, hosts excepted (`room-state`). */
  locked = false;
  /** The hosts in the room by peer ID, this visitor's own included (`room-state`). */
  hostIds: readonly string[] = [];
  /** While this visitor waits outside: the relay's latest `waiting` (how many hosts are there, the time allowed). */
  waiting: WaitingMessage | null = null;
  /** The waiting queue, oldest first (hosts only). */
  knocks: Knock[] = [];
  /** The latest request of each kind from a host to turn this visitor's microphone or camera on or off. */
  asks: AskDelivery[] = [];
  /** The latest thing to announce, and a counter that changes with each (so the same text is announced again). */
  notice: Notice | null = null;
  notices = 0;
  /** The reaction shown on each tile (null: this visitor's own), with a key that changes with each reaction. */
  readonly reactions = new Map<string | null, { emoji: string; key: number }>();

  readonly #call: HostsCall;
  readonly #host: CallHost;
  readonly #link: HostsLink;
  /** Raised hands in the order received (null: this visitor's). */
  #hands: (string | null)[] = [];
  /** When this visitor last sent a reaction (performance.now(), ms). */
  #reacted = -Infinity;

  constructor(call: HostsCall, host: CallHost, link: HostsLink) {
    this.#call = call;
    this.#host = host;
    this.#link = link;
  }

  /** The raised hands of those still in the call, in the order raised (null: this visitor's). */
  get hands(): readonly (string | null)[] {
    const here = new Set(this.#call.peers.map((p) => p.id));
    return this.#hands.filter((id) => id === null || here.has(id));
  }

  /** Whether `peerId` (null: this visitor) is a host. */
  isHost(peerId: string | null): boolean {
    return peerId === null ? this.role === 'host' : this.hostIds.includes(peerId);
  }

  // ---- from the relay ----

  /** A `welcome`: this visitor's role; a knocking visitor was let in. */
  welcome(message: WelcomeMessage): void {
    this.role = message.role ?? 'guest';
    if (message.resumed) return this.#changed();
    this.knocks = []; // hosts get the queue again after each fresh welcome
    if (this.waiting) {
      this.waiting = null;
      this.#host.dispatch(new AdmittedEvent(null));
    }
    this.#changed();
  }

  /**
   * A message of `protocol/hosts.ts`, or an `error` `room-locked` / `removed` answering this visitor's join. The
   * relay's parser checked only the type of a hosts message: its fields are checked here (`parseHostServerMessage`);
   * a malformed one changes nothing and fires `vc-error` `relay-error` naming the field (the call goes on).
   */
  relay(raw: ServerMessage): void {
    let message = raw;
    if (HOST_SERVER_TYPES.includes(raw.type)) {
      const parsed = parseHostServerMessage(raw);
      if (!parsed.ok) {
        const why = `The relay sent a message this widget does not understand: ${parsed.error.message}`;
        return void this.#host.dispatch(new VideoChatErrorEvent(new VideoChatError('relay-error', why)));
      }
      message = parsed.value;
    }
    switch (message.type) {
      case 'room-state': {
        const self = this.#call.selfId;
        if (self && message.hosts.includes(self)) this.role = 'host';
        this.hostIds = message.hosts;
        if (message.locked !== this.locked) {
          this.locked = message.locked;
          this.#host.dispatch(new LockedEvent(message.locked));
          this.#notify(message.locked ? 'locked' : 'unlocked', '');
        }
        break;
      }
      case 'knocking':
        this.knocks = [...this.knocks.filter((k) => k.id !== message.knock.id), message.knock];
        this.#host.dispatch(new KnockEvent(message.knock, null));
        this.#notify('knock', message.knock.name);
        break;
      case 'knock-ended': {
        const knock = this.knocks.find((k) => k.id === message.knock) ?? { id: message.knock, name: '' };
        this.knocks = this.knocks.filter((k) => k !== knock);
        const outcome = message.outcome;
        this.#host.dispatch(new KnockEvent(knock, outcome));
        if (outcome === 'admitted') {
          this.#host.dispatch(new AdmittedEvent(knock));
          this.#notify('admitted', knock.name);
        } else if (outcome !== 'cancelled' && outcome !== 'left') {
          this.#host.dispatch(new DeniedEvent(knock, outcome));
        }
        break;
      }
      case 'waiting':
        this.waiting = message;
        break;
      case 'denied':
        this.waiting = null;
        this.#host.dispatch(new DeniedEvent(null, message.reason));
        this.#refuse(message.reason);
        break;
      case 'ask-unmute':
      case 'mute-request': {
        this.asks = [...this.asks.filter((a) => a.media !== message.media), message];
        this.#notify(message.type, this.#name(message.from), message.media === 'camera');
        break;
      }
      case 'error':
        if (message.code === 'removed' || message.code === 'room-locked') {
          this.waiting = null;
          if (message.code === 'removed') this.#host.dispatch(new RemovedEvent(null));
          this.#refuse(message.code === 'removed' ? 'removed' : 'locked');
        } else {
          // Any other refusal (`forbidden`, `unknown-peer`, …): said, and the call goes on.
          this.#host.dispatch(
            new VideoChatErrorEvent(
              new VideoChatError('relay-error', `The video chat server refused a message: ${message.message}`),
            ),
          );
        }
        break;
      default:
        return; // not ours
    }
    this.#changed();
  }

  /**
   * The relay closed the connection for good with `code` (not 4003, which the call says itself): removed (4004), the
   * call ended (4005), or `relay-error` naming the code. No more attempts either way.
   */
  closed(code: number): void {
    if (code === CloseCode.Removed) this.#host.dispatch(new RemovedEvent(null));
    if (code === CloseCode.Removed || code === CloseCode.Ended)
      this.#refuse(code === CloseCode.Removed ? 'removed' : 'ended');
    else
      this.#link.refuse(
        new VideoChatError('relay-error', `The video chat server closed the connection (code ${code}).`),
      );
  }

  /** Someone entered the call: a raised hand is shown to newcomers too. */
  met(peerId: string): void {
    if (this.#hands.includes(null)) this.#link.channels.get(peerId)?.send({ type: 'hand', raised: true });
  }

  // ---- from a peer (data channel) ----

  /** A `hand`, `lower-hand` or `reaction` from `peer`. */
  peer(peer: RemotePeer, message: PeerMessage): void {
    if (message.type === 'hand') {
      this.#setHand(peer.id, message.raised);
    } else if (message.type === 'lower-hand') {
      if (!this.hostIds.includes(peer.id)) return; // only a host may lower someone else's hand
      if (message.id === this.#call.selfId) this.lowerHand();
      else this.#setHand(message.id, false);
    } else if (message.type === 'reaction') {
      this.#show(peer.id, message.emoji);
    }
  }

  // ---- this visitor's actions ----

  /** Host: lets the guest of knock `knockId` in. */
  admit(knockId: string): void {
    this.#link.send({ type: 'admit', knock: knockId });
  }

  /** Host: refuses the guest of knock `knockId` (it sees why). */
  deny(knockId: string): void {
    this.#link.send({ type: 'deny', knock: knockId });
  }

  /** Host: removes participant `peerId` from the call; its token cannot join this room again. */
  remove(peerId: string): void {
    this.#link.send({ type: 'remove', id: peerId });
    this.#host.dispatch(new RemovedEvent({ id: peerId, name: this.#name(peerId) }));
  }

  /** Host: locks (`true`) or unlocks the room. */
  lock(locked: boolean): void {
    this.#link.send({ type: locked ? 'lock' : 'unlock' });
  }

  /** Host: ends the call for everyone. */
  end(): void {
    this.#link.send({ type: 'end' });
  }

  /** Host: asks participant `peerId` to turn its microphone (or camera) on; the participant decides. */
  askUnmute(peerId: string, media: MediaKind = 'microphone'): void {
    this.#link.send({ type: 'ask-unmute', to: peerId, media });
  }

  /** Host: asks participant `peerId` to turn its microphone (or camera) off; the participant decides. */
  requestMute(peerId: string, media: MediaKind = 'microphone'): void {
    this.#link.send({ type: 'mute-request', to: peerId, media });
  }

  /** Answers a host's request: `accept` turns the device on (`ask-unmute`) or off (`mute-request`); either way it goes. */
  answer(ask: AskDelivery, accept: boolean): void {
    this.asks = this.asks.filter((a) => a !== ask);
    if (accept) {
      const on = ask.type === 'ask-unmute';
      if (ask.media === 'camera') this.#call.setCameraEnabled(on);
      else this.#call.setMicrophoneEnabled(on);
    }
    this.#changed();
  }

  /** Raises this visitor's hand (after the hands already raised). */
  raiseHand(): void {
    if (this.#hands.includes(null)) return;
    this.#setHand(null, true);
    this.#broadcast({ type: 'hand', raised: true });
  }

  /**
   * Lowers this visitor's hand (`peerId` omitted, null or its own ID) or, for a host, another participant's (everyone
   * is told; the participant lowers it). A guest cannot lower someone else's: nothing happens.
   */
  lowerHand(peerId: string | null = null): void {
    if (peerId === null || peerId === this.#call.selfId) {
      if (!this.#hands.includes(null)) return;
      this.#setHand(null, false);
      this.#broadcast({ type: 'hand', raised: false });
    } else if (this.role === 'host') {
      this.#broadcast({ type: 'lower-hand', id: peerId });
      this.#setHand(peerId, false);
    }
  }

  /**
   * Sends a reaction to everyone and shows it on this visitor's tile.
   * @returns false when one was sent less than {@link REACTION_INTERVAL_MS} ago (nothing sent) or `emoji` is blank or
   *   longer than 16 characters.
   */
  react(emoji: string): boolean {
    const now = performance.now();
    if (now - this.#reacted < REACTION_INTERVAL_MS || !emoji.trim() || emoji.length > 16) return false;
    this.#reacted = now;
    this.#broadcast({ type: 'reaction', emoji });
    this.#show(null, emoji);
    return true;
  }

  // ---- inside ----

  #setHand(peerId: string | null, raised: boolean): void {
    if (this.#hands.includes(peerId) === raised) return;
    this.#hands = raised ? [...this.#hands, peerId] : this.#hands.filter((id) => id !== peerId);
    this.#host.dispatch(new HandEvent(peerId, raised, this.hands));
    if (raised && peerId !== null) this.#notify('hand', this.#name(peerId));
    this.#changed();
  }

  #show(peerId: string | null, emoji: string): void {
    const shown = { emoji, key: this.notices + Math.random() };
    this.reactions.set(peerId, shown);
    this.#host.dispatch(new ReactionEvent(peerId, emoji));
    this.#changed();
    setTimeout(() => {
      if (this.reactions.get(peerId) !== shown) return; // replaced by a newer one
      this.reactions.delete(peerId);
      this.#changed();
    }, REACTION_SHOWN_MS);
  }

  #broadcast(message: PeerMessage): void {
    for (const channel of this.#link.channels.values()) channel.send(message);
  }

  #refuse(reason: string): void {
    const [code, message] = DENIED[reason] ?? DENIED['denied']!;
    this.#link.refuse(new VideoChatError(code, message));
  }

  #notify(kind: Notice['kind'], name: string, camera = false): void {
    this.notice = { kind, name, camera };
    this.notices++;
  }

  #name(peerId: string): string {
    return this.#call.peers.find((p) => p.id === peerId)?.name ?? '';
  }

  /** Asks the element to draw again (the UI's own state changed). */
  refresh(): void {
    this.#host.requestUpdate();
  }

  #changed(): void {
    this.#host.requestUpdate();
  }
}
