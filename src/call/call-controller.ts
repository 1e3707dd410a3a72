/**
 * The call: the one place that composes the relay connection ({@link SignalingClient}), one {@link PeerSession} and
 * one {@link PeerChannel} per remote peer (a full mesh) and local media ({@link MediaController}). It owns the
 * {@link CallState} and reports changes through its {@link CallHost}, so it needs no DOM and can be driven by any UI.
 * Its base class `call-media.ts` ({@link CallMedia}) is the media and data-channel side (tracks to every peer, their
 * announced state, chat, audio-only and receivers' views), and `call-parts.ts` ({@link CallParts}, between the two)
 * the on-demand parts (hosts and guests, the SFU topology) with the dispatch of what peers say; this module is the
 * state machine: joining and leaving, the relay's states and messages (welcome, resume, peers coming and going,
 * refusals), the peers' lifecycle, and the engine loaded by the first join. The parts it composes live beside it: its
 * options and shapes (`types.ts`), and in the on-demand engine chunk the relay client, the data channel wire
 * (`peer-channel.ts`), who is in the room by relay ID (`roster.ts`: `welcome`, `peer-joined` and `peer-left` turned
 * into peers met and removed through this controller; after a relay restart, `roster-rebind.ts`, its own chunk, keeps
 * the peers still connected under their new IDs), a mesh peer's session and channel (`mesh-peer.ts`), the bandwidth
 * governor's inputs (`governor.ts`), the warnings' rate limit (`warning-gate.ts`) and the stats loop
 * (`call-stats.ts`). Hosts and guests (`hosts.ts`) and the SFU topology (`sfu.ts`) are chunks of their own, loaded
 * only in rooms that need them (or, for hosts, on first use).
 *
 * @module
 */
import { chunk } from '../chunk.js';
import { originRefusedError, VideoChatError } from '../errors.js';
import {
  JoinedEvent,
  LeftEvent,
  PeerJoinedEvent,
  PeerLeftEvent,
  StateChangeEvent,
  VideoChatErrorEvent,
  VideoChatWarningEvent,
} from '../events.js';
import { Latest } from '../latest.js';
import type { CallState } from '../types.js';
import { CallParts } from './call-parts.js';
import type { MeshCall } from './mesh-peer.js';
import { CloseCode, PROTOCOL_VERSION } from '../protocol/relay-codes.js';
import type { JoinMessage, PeerInfo, ServerMessage } from '../protocol/relay.js';
import type { SignalingClient, SignalingState } from '../signaling/signaling-client.js';
import type { CallOptions, RemotePeer } from './types.js';

export { MAX_CHAT_HISTORY, MAX_CHAT_LENGTH } from './chat-log.js';
export type { CallOptions } from './types.js';

/**
 * Failed relay connection attempts (`SignalingClient` reconnect attempts) before a call that never got in fails with
 * `relay-unreachable` (attempts go on in the background).
 */
export const RELAY_ATTEMPTS_BEFORE_ERROR = 3;

/**
 * One call at a time: {@link join} a room, {@link leave} it. Fires, through its {@link CallHost}, the typed events of
 * `events.ts` (`vc-joined`, `vc-left`, `vc-peer-joined`, `vc-peer-left`, `vc-state-change`, `vc-error`, `vc-warning`,
 * `vc-screen-share`, `vc-chat-message`, `vc-media-state`, `vc-device-change`, `vc-active-speaker`,
 * `vc-quality-change`).
 */
export class CallController extends CallParts {
  #signaling: SignalingClient | undefined;
  #peers = new Map<string, RemotePeer>();
  #state: CallState = 'idle';
  #error: VideoChatError | null = null;
  #selfId: string | null = null;
  /** Secret from the last welcome: lets a dropped connection resume the same participant (relay grace period). */
  #resumeSecret: string | null = null;
  /** One run per join, stopped by leave: late async results of an abandoned join are ignored. */
  #runs = new Latest();
  /** What a mesh connection needs of this call (mesh-peer.ts), made with the engine. */
  #mesh: MeshCall | undefined;

  /**
   * Where the call is: `idle`, `connecting`, `knocking` (a guest waiting for a host to let it in), `waiting` (alone in
   * the room), `in-call`, `reconnecting` or `error`.
   */
  get state(): CallState {
    return this.#state;
  }

  /** Why the call is in `error`, or a non-fatal media problem; null when all is well. */
  get error(): VideoChatError | null {
    return this.#error ?? this.media.error;
  }

  /** This participant's ID, once the relay admitted it. */
  get selfId(): string | null {
    return this.#selfId;
  }

  /** Remote peers in joining order. */
  get peers(): readonly RemotePeer[] {
    return [...this.#peers.values()];
  }

  /**
   * Captures media, connects to the relay and joins the room. Leaves the current room first. Resolves once media is
   * settled and the relay connection is under way; the outcome arrives as state changes and events. Never rejects: a
   * signal URL that is not ws:/wss: (`bad-config`) or an engine chunk that cannot be loaded (`chunk-failed`) puts
   * the call in `error` (also fired as `vc-error`).
   */
  async join(options: CallOptions): Promise<void> {
    this.leave(true);
    const run = this.#runs.start();
    this.options = options;
    this.#setState('connecting');
    const engine = this.engine ? Promise.resolve(this.engine) : chunk('engine', () => import('./engine.js'));
    // else: the preview (pre-join) or the last room's capture goes on
    const [loaded] = await Promise.allSettled([engine, this.media.stream ? undefined : this.media.start()]);
    if (run.aborted) return; // left or moved while the camera was starting
    if (loaded.status === 'rejected') return this.refuse(loaded.reason as VideoChatError); // chunk-failed, camera off
    if (!this.engine) {
      this.engine = loaded.value;
      this.statsLoop = loaded.value.lazyStats(this, this.host, () => this.applyBandwidth());
      this.roster = new loaded.value.Roster({
        peers: this.#peers,
        sessions: this.sessions,
        channels: this.channels,
        add: (info, initiator) => this.#addPeer(info, initiator),
        remove: (id) => this.#removePeer(id),
        changed: () => this.#updateCallState(),
        failed: (error) => this.#fail(error, false), // the re-association's chunk: the call goes on without it
      });
      this.#mesh = {
        host: this.host,
        media: this.media,
        stats: this.statsLoop,
        config: () => ({ options: this.options, iceServers: this.iceServers }),
        roster: this.roster, // its `meeting`: the room's size while a welcome's peers are met
        load: (peer) => ({
          copies: this.sessions.size,
          sharingScreen: this.screenShared,
          bandwidth: this.options?.bandwidth,
          view: this.views.get(peer),
          views: this.peers.map((p) => this.views.get(p)),
          linkKbps: this.statsLoop.uplink.get(peer.id),
          audioOnly: this.audioOnly,
        }),
        relay: (peer, data) => this.#signaling?.send({ type: 'signal', to: peer.id, data }), // peer.id: re-keyed by a rebind
        message: (peer, message) => this.onPeerMessage(peer, message),
      };
    }
    if (this.media.error) this.host.dispatch(new VideoChatErrorEvent(this.media.error));
    try {
      // The relay client is in the engine chunk too (loaded above): the script-tag file does not carry it.
      this.#signaling = new loaded.value.SignalingClient({
        url: options.signalUrl,
        onMessage: (message) => !run.aborted && this.#onMessage(message),
        onStateChange: (state, detail) => !run.aborted && this.#onSignalingState(state, detail),
        onDropped: (dropped, reason) => {
          for (const to of new Set(dropped.map((m) => m.to))) {
            this.host.dispatch(new VideoChatWarningEvent('signal-dropped', to, reason));
          }
        },
        onProtocolViolation: (violation) =>
          !run.aborted &&
          this.#fail(
            new VideoChatError(
              'relay-error',
              `The relay sent a message this widget does not understand: ${violation.message}`,
            ),
            false,
          ),
      });
    } catch (cause) {
      this.#fail(
        new VideoChatError('bad-config', 'The signal-url attribute must be a ws:// or wss:// URL.', { cause }),
        true,
      );
      return;
    }
    this.#signaling.connect();
  }

  /**
   * Leaves the room: tells the relay, closes every peer connection and stops every local track (with `keepMedia`, only
   * a screen share). Idempotent.
   */
  leave(keepMedia = false): void {
    this.#runs.stop();
    const room = this.options?.room;
    const wasJoined = this.#selfId !== null;
    if (this.#signaling?.state === 'open') this.#signaling.send({ type: 'leave' });
    this.#signaling?.close();
    this.#signaling = undefined;
    this.dropSfu();
    this.hosts = this.hostsChunk = undefined;
    this.roster?.clear(); // every peer removed (none before the engine, with the roster, is loaded)
    this.stats.stop();
    if (keepMedia) this.media.stopScreenShare();
    else this.media.stop();
    this.screenShared = false;
    this.announced = '';
    this.chatLog.clear();
    this.#selfId = null;
    this.#resumeSecret = null;
    this.#error = null;
    this.options = undefined;
    this.#setState('idle');
    if (wasJoined && room) this.host.dispatch(new LeftEvent(room));
  }

  #freshJoin(options: CallOptions): JoinMessage {
    // A fresh start (a new ID): the room is a mesh unless the relay says `mode` again, before the welcome.
    this.dropSfu();
    const join: JoinMessage = {
      type: 'join',
      room: options.room,
      name: options.name,
      protocol: PROTOCOL_VERSION,
      // `sfu` unless media-mode="mesh" (then `mesh`, which the relay does not know: no SFU for this visitor).
      caps: [options.mediaMode == 'mesh' ? 'mesh' : 'sfu'],
    };
    if (options.token) join.token = options.token;
    return join;
  }

  // ---- relay ----

  #onSignalingState(state: SignalingState, detail: { attempt: number; closeCode?: number }): void {
    const options = this.options;
    if (!options) return;
    switch (state) {
      case 'open':
        // After a drop, resume: same ID, the others see nothing and the peer connections stay as they are.
        this.#signaling?.send(
          this.#selfId && this.#resumeSecret
            ? {
                type: 'join',
                room: options.room,
                resume: { id: this.#selfId, secret: this.#resumeSecret },
                protocol: PROTOCOL_VERSION,
              }
            : this.#freshJoin(options),
        );
        break;
      case 'reconnecting':
        if (this.#selfId === null && detail.attempt >= RELAY_ATTEMPTS_BEFORE_ERROR && this.#state !== 'error') {
          // Never got in: say so rather than spin silently; attempts go on in the background.
          this.#fail(new VideoChatError('relay-unreachable', 'Cannot reach the video chat server. Retrying…'), true);
        } else if (this.#selfId !== null) {
          this.#setState('reconnecting');
        }
        break;
      case 'closed':
        if (detail.closeCode === CloseCode.OriginNotAllowed) {
          this.refuse(originRefusedError(globalThis.location?.origin ?? ''));
        } else if (detail.closeCode !== undefined) {
          // Removed (4004), call ended (4005) or another final close: said by the hosts chunk (call/hosts.ts).
          this.room((h) => h.closed(detail.closeCode!));
        }
        break;
      default:
        break;
    }
  }

  #onMessage(message: ServerMessage): void {
    switch (message.type) {
      case 'welcome': {
        this.#resumeSecret = message.resume ?? null;
        // Fresh TURN credentials (short TTLs): for the connections that stay, and for every one made from now on.
        this.iceServers = this.options?.iceServers ?? message.iceServers;
        this.forEachSession((s) => s.setIceServers(this.iceServers));
        // Resumed: same ID, every peer connection kept. Any other welcome is a fresh start with a new ID: after a lost
        // place (a relay restart) the peers still connected to us keep their connections under their new IDs
        // (roster.ts, which also reconciles who left or came meanwhile).
        const fresh = !message.resumed || message.id !== this.#selfId;
        if (fresh) {
          if (message.peers.length >= (this.options?.maxPeers || Infinity)) {
            this.#signaling?.send({ type: 'leave' });
            this.#roomFull();
            break;
          }
          this.#error = null;
          this.#selfId = message.id;
          this.host.dispatch(new JoinedEvent(message.room, message.id));
        }
        this.roster!.welcome(message, fresh);
        // The hosts chunk only in a room with hosts (or where it was used already): `room-state` says it otherwise.
        if (message.role == 'host' || this.hostsChunk) this.room((h) => h.welcome(message));
        this.#updateCallState(); // also clears a 'relay-unreachable' error (#error is null now)
        break;
      }
      case 'peer-joined':
      case 'peer-left':
        this.roster!.relay(message);
        break;
      case 'signal':
        this.signal(message); // to the SFU topology or the peer's session (call-parts.ts)
        break;
      case 'error':
        if (message.code === 'resume-failed') {
          // Too late or the relay restarted: join afresh (the welcome that follows starts over).
          this.#selfId = null;
          this.#resumeSecret = null;
          const options = this.options;
          if (options) this.#signaling?.send(this.#freshJoin(options));
        } else if (message.code === 'unauthorized') {
          this.refuse(
            new VideoChatError(
              'unauthorized',
              'You are not allowed to join this room (the invitation is missing, expired or for another room).',
            ),
          );
        } else if (message.code === 'room-full') {
          this.#roomFull();
        } else this.room((h) => h.relay(message)); // `room-locked`, `removed`, and any other refusal
        break;
      case 'room-state':
        // Sent after every welcome of protocol 2: a room without hosts, unlocked, needs no hosts model.
        if (message.hosts?.length || message.locked || this.hostsChunk) this.room((h) => h.relay(message));
        break;
      default:
        if (message.type == 'waiting') this.#setState('knocking'); // a guest outside, until a host lets it in
        this.room((h) => h.relay(message)); // hosts and guests (protocol/hosts.ts)
    }
  }

  protected get relay(): SignalingClient | undefined {
    return this.#signaling;
  }

  // ---- peers ----

  #addPeer(info: PeerInfo, initiator: boolean): void {
    if (this.#peers.has(info.id) || info.id === this.#selfId) return;
    const peer: RemotePeer = {
      id: info.id,
      name: info.name,
      stream: new MediaStream(),
      screen: null,
      connection: 'connecting',
      microphone: null,
      camera: null,
    };
    this.#peers.set(info.id, peer);
    // In the mesh the stats loop waits for a first connection (mesh-peer.ts).
    if (!this.sfuRoom) this.#meshPeer(peer, initiator);
    else this.stats.start();
    this.host.dispatch(new PeerJoinedEvent({ id: info.id, name: info.name }));
    void this.hostsChunk?.then((h) => h.met(info.id)); // our raised hand, if the model exists
  }

  /** A mesh connection with a new peer: its session and data channel (not in a room on the SFU; mesh-peer.ts). */
  #meshPeer(peer: RemotePeer, initiator: boolean): void {
    const { session, channel } = this.engine!.meshPeer(this.#mesh!, peer, initiator);
    this.sessions.set(peer.id, session);
    this.channels.set(peer.id, channel);
    this.applyBandwidth(); // one more copy of each stream: everyone's share shrinks
  }

  #removePeer(id: string): void {
    const peer = this.#peers.get(id);
    this.sessions.get(id)?.close();
    this.sessions.delete(id);
    this.channels.delete(id);
    this.applyBandwidth();
    this.#peers.delete(id);
    if (peer) this.host.dispatch(new PeerLeftEvent({ id: peer.id, name: peer.name }));
  }

  /** After a refusal that retrying cannot fix: no more relay attempts, camera and microphone released. */
  #roomFull(): void {
    this.refuse(new VideoChatError('room-full', 'This room is full. Try again later.'));
  }

  protected refuse(error: VideoChatError): void {
    this.#fail(error, true);
    this.#stopTrying();
  }

  #stopTrying(): void {
    this.#signaling?.close();
    this.roster?.clear();
    this.media.stop();
    this.host.requestUpdate();
  }

  // ---- state ----

  /** `in-call` or `waiting` by the number of peers, once admitted and unless the call failed. */
  #updateCallState(): void {
    if (this.#selfId === null || this.#error) return;
    this.#setState(this.#peers.size > 0 ? 'in-call' : 'waiting');
  }

  /** Reports an error; `fatal` puts the call in the `error` state (shown instead of the call). */
  #fail(error: VideoChatError, fatal: boolean): void {
    this.host.dispatch(new VideoChatErrorEvent(error));
    if (fatal) {
      this.#error = error;
      this.#setState('error');
    }
  }

  #setState(state: CallState): void {
    if (state === this.#state) {
      this.host.requestUpdate();
      return;
    }
    this.#state = state;
    this.host.dispatch(new StateChangeEvent(state));
    this.host.requestUpdate();
  }
}
