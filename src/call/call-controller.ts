/**
 * The call: the one place that composes the relay connection ({@link SignalingClient}), one {@link PeerSession} and
 * one {@link PeerChannel} per remote peer (a full mesh) and local media ({@link MediaController}). It owns the
 * {@link CallState} and reports changes through its {@link CallHost}, so it needs no DOM and can be driven by any UI.
 * The parts it composes live beside it: the chat (`chat-log.ts`), its options and shapes (`types.ts`), and in the
 * on-demand engine chunk the data channel wire (`peer-channel.ts`), who is in the room by relay ID (`roster.ts`: it
 * turns `welcome`, `peer-joined` and `peer-left` into peers met and removed through this controller, and keeps the
 * peers still connected after a relay restart under their new IDs), the bandwidth governor's inputs (`governor.ts`),
 * the warnings' rate limit (`warning-gate.ts`) and the stats loop (`call-stats.ts`).
 *
 * Why the rest stays one file (over the ~400-line rule): it is one state machine over one set of private fields.
 * Relay states and messages (welcome, resume, peers coming and going, refusals) move the call between its
 * {@link CallState}s and create or close the peers' sessions, and the public methods act on the same peers. A `Mesh`
 * class for the peers was tried (issue 9): it only forwards the same calls, and costs about 180 B gzip wherever it
 * lives (in the script-tag file, or in the engine chunk through cross-chunk imports), which the budgets of
 * test/node/build/bundle-size.test.ts (20 KiB script-tag file, 26 KiB per call) do not have.
 *
 * @module
 */
import { originRefusedError, VideoChatError, type Warning } from '../errors.js';
import {
  DeviceChangeEvent,
  JoinedEvent,
  MediaStateEvent,
  LeftEvent,
  PeerJoinedEvent,
  PeerLeftEvent,
  ScreenShareEvent,
  StateChangeEvent,
  VideoChatErrorEvent,
  VideoChatWarningEvent,
} from '../events.js';
import { Latest } from '../latest.js';
import type { CallState, ChatEntry } from '../types.js';
import type { CallStats } from './call-stats.js';
import type { SfuTopology } from './sfu.js';
import type { Hosts } from './hosts.js';
import type { PeerChannel } from './peer-channel.js';
import type { Roster } from './roster.js';
import type { PeerMessage, PeerViewMessage } from '../protocol/data-channel.js';
import { MediaController } from '../media/media-controller.js';
import type { PeerSession } from '../negotiation/peer-session.js';
import type { TrackKind } from '../protocol/negotiation.js';
import { CloseCode, PROTOCOL_VERSION } from '../protocol/relay-codes.js';
import type { JoinMessage, PeerInfo, ServerMessage } from '../protocol/relay.js';
import type { SignalingClient, SignalingState } from '../signaling/signaling-client.js';
import { ChatLog, MAX_CHAT_LENGTH } from './chat-log.js';
import type { CallHost, CallOptions, RemotePeer } from './types.js';

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
export class CallController {
  /** This visitor's camera, microphone and screen share. */
  readonly media: MediaController;
  /** Active speaker and connection quality (call/engine.ts's stats loop once a call started). */
  get stats(): CallStats {
    return this.#stats;
  }

  #stats: CallStats = { speaker: undefined, quality: new Map(), uplink: new Map(), start() {}, stop() {} };
  #host: CallHost;
  #options: CallOptions | undefined;
  #signaling: SignalingClient | undefined;
  #sessions = new Map<string, PeerSession>();
  /** The data channel wire of each peer, by peer ID (beside its session). */
  #channels = new Map<string, PeerChannel>();
  /** call/engine.ts, loaded by the first join (its own chunk in the script-tag build). */
  #engine: typeof import('./engine.js') | undefined;
  #peers = new Map<string, RemotePeer>();
  /** Who is in the room by relay ID, and the re-association after a relay restart (engine chunk, with the engine). */
  #roster: Roster | undefined;
  #state: CallState = 'idle';
  #error: VideoChatError | null = null;
  #selfId: string | null = null;
  /** Secret from the last welcome: lets a dropped connection resume the same participant (relay grace period). */
  #resumeSecret: string | null = null;
  #iceServers: RTCIceServer[] = [];
  #screenShared = false;
  #chat: ChatLog;
  #chatCounter = 0;
  /** The microphone/camera state last announced (`vc-media-state` fires on changes only). */
  #announced = '';
  /** One run per join, stopped by leave: late async results of an abandoned join are ignored. */
  #runs = new Latest();
  /** The SFU topology (call/sfu.ts, its own chunk), once the relay said the room runs on the SFU. */
  #sfu: Promise<SfuTopology> | undefined;
  /** Each peer's last `view` of our camera (receiver-view.ts). */
  #views = new WeakMap<RemotePeer, PeerViewMessage>();
  #audioOnly = false;
  /** Hosts, hands and reactions (call/hosts.ts, its own chunk): loaded on the first welcome or message of theirs. */
  hosts: Hosts | undefined;
  #hosts: Promise<Hosts> | undefined;
  /** The peer shown large (pinned or full screen), set by the element: on the SFU it gets the high layer. */
  focus: string | null = null;

  constructor(host: CallHost) {
    this.#host = host;
    this.#chat = new ChatLog(host);
    this.media = new MediaController(
      () => host.requestUpdate(),
      () => this.stopScreenShare(),
      (kind, track) => {
        this.#sendTrack(kind, track);
        if (!track) this.#mediaFault(); // unplugged: the others see "camera off" (or "microphone off"), not a frozen tile
      },
    );
  }

  /** Where the call is: `idle`, `connecting`, `waiting` (alone in the room), `in-call`, `reconnecting` or `error`. */
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

  /** Whether the room runs on the relay's SFU (the media server sees the media) rather than peer to peer. */
  get sfu(): boolean {
    return !!this.#sfu;
  }

  /** Remote peers in joining order. */
  get peers(): readonly RemotePeer[] {
    return [...this.#peers.values()];
  }

  /** The chat of this call, oldest first (at most {@link MAX_CHAT_HISTORY}). */
  get chat(): readonly ChatEntry[] {
    return this.#chat.entries;
  }

  /**
   * Sends a chat message to everyone in the call (over each peer's data channel) and adds it to {@link chat}.
   * @throws {RangeError} when `text` is blank or longer than {@link MAX_CHAT_LENGTH} characters.
   */
  sendChatMessage(text: string): ChatEntry {
    const trimmed = text.trim();
    if (trimmed.length === 0 || trimmed.length > MAX_CHAT_LENGTH) {
      throw new RangeError(`a chat message must be 1-${MAX_CHAT_LENGTH} characters`);
    }
    const entry: ChatEntry = {
      id: `${this.#selfId ?? 'me'}-${++this.#chatCounter}`,
      peerId: null,
      name: this.#options?.name ?? '',
      text: trimmed,
      sentAt: Date.now(),
    };
    this.#broadcast({ type: 'chat', id: entry.id, text: entry.text, sentAt: entry.sentAt });
    this.#chat.add(entry);
    return entry;
  }

  /** Statistics of the connection to one peer (W3C WebRTC Statistics), or undefined for an unknown peer. */
  async getStats(peerId: string): Promise<RTCStatsReport | undefined> {
    return this.#sessions.get(peerId)?.getStats() ?? (await this.#sfu)?.getStats(peerId);
  }

  /**
   * Send parameters (W3C WebRTC `RTCRtpSendParameters`) of each sender to one peer, by kind: the caps the bandwidth
   * governor set are in `encodings[0]`. Empty for an unknown peer.
   * @internal For tests.
   */
  getSendParameters(peerId: string): Map<TrackKind, RTCRtpSendParameters> {
    return this.#sessions.get(peerId)?.sendParameters() ?? new Map<TrackKind, RTCRtpSendParameters>();
  }

  /**
   * Captures media, connects to the relay and joins the room. Leaves the current room first. Resolves once media is
   * settled and the relay connection is under way; the outcome arrives as state changes and events. Never rejects: a
   * signal URL that is not ws:/wss: or an engine chunk that cannot be loaded puts the call in `error` (`bad-config`,
   * also fired as `vc-error`).
   */
  async join(options: CallOptions): Promise<void> {
    this.leave(true);
    const run = this.#runs.start();
    this.#options = options;
    this.#setState('connecting');
    const engine = this.#engine ? Promise.resolve(this.#engine) : import('./engine.js');
    // else: the preview (pre-join) or the last room's capture goes on
    const [loaded] = await Promise.allSettled([engine, this.media.stream ? undefined : this.media.start()]);
    if (run.aborted) return; // left or moved while the camera was starting
    if (loaded.status === 'rejected') {
      this.#fail(
        new VideoChatError(
          'bad-config',
          'Could not load video-chat-engine.js: host every file of dist/ next to video-chat.js.',
          { cause: loaded.reason },
        ),
        true,
      );
      return;
    }
    if (!this.#engine) {
      this.#engine = loaded.value;
      this.#stats = loaded.value.callStats(this, this.#host, () => this.#applyBandwidth());
      this.#roster = new loaded.value.Roster({
        peers: this.#peers,
        sessions: this.#sessions,
        channels: this.#channels,
        add: (info, initiator) => this.#addPeer(info, initiator),
        remove: (id) => this.#removePeer(id),
        changed: () => this.#updateCallState(),
      });
    }
    if (this.media.error) this.#host.dispatch(new VideoChatErrorEvent(this.media.error));
    try {
      // The relay client is in the engine chunk too (loaded above): the script-tag file does not carry it.
      this.#signaling = new loaded.value.SignalingClient({
        url: options.signalUrl,
        onMessage: (message) => !run.aborted && this.#onMessage(message),
        onStateChange: (state, detail) => !run.aborted && this.#onSignalingState(state, detail),
        onDropped: (dropped, reason) => {
          for (const to of new Set(dropped.map((m) => m.to))) {
            this.#host.dispatch(new VideoChatWarningEvent('signal-dropped', to, reason));
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
    const room = this.#options?.room;
    const wasJoined = this.#selfId !== null;
    if (this.#signaling?.state === 'open') this.#signaling.send({ type: 'leave' });
    this.#signaling?.close();
    this.#signaling = undefined;
    void this.#sfu?.then((t) => t.close());
    this.#sfu = undefined;
    this.hosts = this.#hosts = undefined;
    this.#roster?.clear(); // every peer removed (none before the engine, with the roster, is loaded)
    this.stats.stop();
    if (keepMedia) this.media.stopScreenShare();
    else this.media.stop();
    this.#screenShared = false;
    this.#announced = '';
    this.#chat.clear();
    this.#selfId = null;
    this.#resumeSecret = null;
    this.#error = null;
    this.#options = undefined;
    this.#setState('idle');
    if (wasJoined && room) this.#host.dispatch(new LeftEvent(room));
  }

  /**
   * Shares the screen (or `source`) with everyone in the call, now and with whoever joins later.
   * @returns false when the visitor cancelled the picker.
   * @throws {VideoChatError} when the screen cannot be captured (also fired as `vc-error`).
   */
  async startScreenShare(source?: MediaStream): Promise<boolean> {
    let track: MediaStreamTrack | null;
    try {
      track = await this.media.startScreenShare(source);
    } catch (error) {
      if (error instanceof VideoChatError) this.#host.dispatch(new VideoChatErrorEvent(error));
      throw error;
    }
    if (!track) return false;
    this.#screenShared = true;
    this.#sendTrack('screen', track);
    this.#host.dispatch(new ScreenShareEvent(null, true));
    return true;
  }

  /** Stops sharing the screen. Does nothing when not sharing. */
  stopScreenShare(): void {
    this.media.stopScreenShare(); // already stopped when the share ended by itself
    if (!this.#screenShared) return;
    this.#screenShared = false;
    this.#sendTrack('screen', null);
    this.#host.dispatch(new ScreenShareEvent(null, false));
  }

  /**
   * Switches the camera, microphone or speaker (see {@link MediaController.setDevice}); a new camera or microphone
   * track replaces the old one in every peer connection with `RTCRtpSender.replaceTrack` (no renegotiation). Fires
   * `vc-device-change`.
   * @throws {VideoChatError} when the device cannot be started (also fired as `vc-error`; the old one goes on).
   */
  async setDevice(kind: MediaDeviceKind, deviceId: string): Promise<void> {
    try {
      await this.media.setDevice(kind, deviceId);
    } catch (error) {
      this.#mediaFault();
      throw error;
    }
    this.#announceMediaState(); // a camera that was lost is back
    this.#host.dispatch(new DeviceChangeEvent(kind, deviceId));
  }

  /**
   * Asks for camera and microphone again (after a refusal, a missing, busy or unplugged device) and sends the new
   * tracks to every peer; a kind that was not sent before (receive-only) is added, which renegotiates.
   * @returns true when both were captured; else `error` says why (also fired as `vc-error`).
   */
  async retryMedia(): Promise<boolean> {
    await this.media.start();
    for (const kind of ['audio', 'video'] as const) this.#sendTrack(kind, this.media.track(kind));
    this.#mediaFault();
    return !this.media.error;
  }

  /** Audio-only: our camera is sent to nobody and off (the others see our initials); see {@link setAudioOnly}. */
  get audioOnly(): boolean {
    return this.#audioOnly;
  }

  /**
   * Audio-only on a poor network: sends no camera video (every camera encoding `active: false`, the camera off, so
   * the others show our initials); the element also asks every peer for none (`ui/view-observer.ts`). Off: the camera
   * is on and sent again.
   */
  setAudioOnly(on: boolean): void {
    if (on === this.#audioOnly) return;
    this.#audioOnly = on;
    this.setCameraEnabled(!on);
    this.#applyBandwidth();
  }

  /**
   * Tells a peer how large we show its camera video (device px), or (null) that we show none of it: a data-channel
   * `view` (docs/protocol.md), which it fits its encoding for us to.
   */
  sendView(peerId: string, size: { width: number; height: number } | null): void {
    this.#channels.get(peerId)?.send({ type: 'view', width: 0, height: 0, ...size, hidden: !size });
  }

  /** Mutes (`false`) or unmutes the microphone; tells every peer and fires `vc-media-state` when that changed. */
  setMicrophoneEnabled(enabled: boolean): void {
    this.media.setMicrophoneEnabled(enabled);
    this.#announceMediaState();
  }

  /** Turns the camera picture off (`false`) or on; tells every peer and fires `vc-media-state` when that changed. */
  setCameraEnabled(enabled: boolean): void {
    this.media.setCameraEnabled(enabled);
    this.#announceMediaState();
  }

  #freshJoin(options: CallOptions): JoinMessage {
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

  #sendTrack(kind: TrackKind, track: MediaStreamTrack | null): void {
    this.#forEachSession((s) => void s.setTrack(kind, track));
    void this.#sfu?.then((t) => t.setTrack(kind, track));
  }

  #mediaFault(): void {
    if (this.media.error) this.#host.dispatch(new VideoChatErrorEvent(this.media.error));
    this.#announceMediaState();
  }

  /** Tells every peer (and the page) the state of our microphone and camera, when it changed. */
  #announceMediaState(): void {
    const state = {
      type: 'state',
      microphone: this.media.microphoneEnabled,
      camera: this.media.cameraEnabled,
    } as const;
    const key = `${state.microphone}${state.camera}`;
    if (key === this.#announced) return;
    this.#announced = key;
    this.#broadcast(state);
    this.#host.dispatch(new MediaStateEvent(null, state.microphone, state.camera));
  }

  #onPeerMessage(peer: RemotePeer, message: PeerMessage): void {
    if (message.type === 'signal' || message.type === 'rebind') {
      this.#roster!.peer(peer, message); // a signal goes to the session, as one from the relay
    } else if (message.type === 'state') {
      if (peer.microphone === message.microphone && peer.camera === message.camera) return;
      peer.microphone = message.microphone;
      peer.camera = message.camera;
      this.#host.dispatch(new MediaStateEvent(peer.id, message.microphone, message.camera));
      this.#host.requestUpdate();
    } else if (message.type === 'view') {
      this.#views.set(peer, message);
      void this.#engine!.loadAdaptive().then(() => this.#applyBandwidth()); // every copy's share follows the views
    } else if (message.type != 'chat') {
      this.#room((h) => h.peer(peer, message)); // hand, lower-hand, reaction
    } else if (!this.#chat.has(peer.id, message.id)) {
      this.#chat.add({ id: message.id, peerId: peer.id, name: peer.name, text: message.text, sentAt: message.sentAt });
    }
  }

  // ---- relay ----

  #onSignalingState(state: SignalingState, detail: { attempt: number; closeCode?: number }): void {
    const options = this.#options;
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
          this.#fail(originRefusedError(globalThis.location?.origin ?? ''), true);
          this.#stopTrying();
        } else if (detail.closeCode !== undefined) {
          // Removed (4004), call ended (4005) or another final close: said by the hosts chunk (call/hosts.ts).
          this.#room((h) => h.closed(detail.closeCode!));
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
        this.#iceServers = this.#options?.iceServers ?? message.iceServers;
        this.#forEachSession((s) => s.setIceServers(this.#iceServers));
        // Resumed: same ID, every peer connection kept. Any other welcome is a fresh start with a new ID: after a lost
        // place (a relay restart) the peers still connected to us keep their connections under their new IDs
        // (roster.ts, which also reconciles who left or came meanwhile).
        const fresh = !message.resumed || message.id !== this.#selfId;
        if (fresh) {
          if (message.peers.length >= (this.#options?.maxPeers || Infinity)) {
            this.#signaling?.send({ type: 'leave' });
            this.#roomFull();
            break;
          }
          this.#error = null;
          this.#selfId = message.id;
          this.#host.dispatch(new JoinedEvent(message.room, message.id));
        }
        this.#roster!.welcome(message, fresh);
        this.#room((h) => h.welcome(message));
        this.#updateCallState(); // also clears a 'relay-unreachable' error (#error is null now)
        break;
      }
      case 'peer-joined':
      case 'peer-left':
        this.#roster!.relay(message);
        break;
      case 'signal':
        if (message.from == 'sfu') {
          // The room runs on the SFU: its chunk is loaded once, and handles this and every later SFU message.
          void (this.#sfu ??= this.#engine!.loadSfu().then((m) =>
            m.sfuTopology(
              this,
              this.#host,
              () => this.#iceServers,
              this.#signaling!,
              this.#sessions,
              this.#channels,
              (p, m) => this.#onPeerMessage(p, m),
              this.#options,
            ),
          )).then((t) => t.receive(message.data));
        } else if (this.#sfu && message.data['sfu'] !== undefined) {
          void this.#sfu.then((t) => t.peer(message.from, message.data)); // chat and state of a room on the SFU
        } else this.#roster!.relay(message); // opaque here: the peer's session parses it
        break;
      case 'error':
        if (message.code === 'resume-failed') {
          // Too late or the relay restarted: join afresh (the welcome that follows starts over).
          this.#selfId = null;
          this.#resumeSecret = null;
          const options = this.#options;
          if (options) this.#signaling?.send(this.#freshJoin(options));
        } else if (message.code === 'unauthorized') {
          this.#fail(
            new VideoChatError(
              'unauthorized',
              'You are not allowed to join this room (the invitation is missing, expired or for another room).',
            ),
            true,
          );
          this.#stopTrying();
        } else if (message.code === 'room-full') {
          this.#roomFull();
        } else this.#room((h) => h.relay(message)); // `room-locked`, `removed`, and any other refusal
        break;
      default:
        this.#room((h) => h.relay(message)); // hosts and guests (protocol/hosts.ts)
    }
  }

  /** Runs `fn` on the hosts model, loading its chunk first (once per call; calls keep their order). */
  #room(fn: (hosts: Hosts) => void): void {
    void (this.#hosts ??= this.#engine!.loadHosts().then(
      (m) =>
        (this.hosts = new m.Hosts(this, this.#host, {
          send: (message) => this.#signaling?.send(message),
          channels: this.#channels,
          refuse: (error) => this.#refuse(error),
        })),
    )).then(fn);
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
    // The stats loop (getStats of every peer every 400 ms) waits for a first connection in the mesh: before it there
    // is nothing to read, and its work would delay the setup.
    if (!this.#sfu) this.#meshPeer(peer, info, initiator);
    else this.stats.start();
    this.#host.dispatch(new PeerJoinedEvent({ id: info.id, name: info.name }));
    this.#room((h) => h.met(info.id));
  }

  /** A mesh connection with a new peer: its session and data channel (not in a room on the SFU). */
  #meshPeer(peer: RemotePeer, info: PeerInfo, initiator: boolean): void {
    const options = this.#options;
    const engine = this.#engine!;
    // Every failure with this peer that the call survives, from its session or its channel: one vc-warning per code
    // every few seconds at most.
    const warn = engine.warningGate((w: Warning) =>
      this.#host.dispatch(new VideoChatWarningEvent(w.code, peer.id, w.message, w.cause)),
    );
    const channel = new engine.PeerChannel({
      send: (text) => session.sendChannelText(text),
      onMessage: (message) => this.#onPeerMessage(peer, message),
      onWarning: warn,
    });
    const session: PeerSession = new engine.PeerSession({
      peerId: info.id,
      initiator,
      iceServers: this.#iceServers,
      ...(options?.iceTransportPolicy ? { iceTransportPolicy: options.iceTransportPolicy } : {}),
      ...(options?.watchdogMs ? { watchdogMs: options.watchdogMs } : {}),
      encodingCaps: (kind, track) =>
        engine.encodingCaps(kind, track, {
          copies: this.#sessions.size,
          sharingScreen: this.#screenShared,
          bandwidth: this.#options?.bandwidth,
          view: this.#views.get(peer),
          views: this.peers.map((p) => this.#views.get(p)),
          linkKbps: this.#stats.uplink.get(peer.id),
          audioOnly: this.#audioOnly,
        }),
      tracks: {
        audio: this.media.track('audio'),
        video: this.media.track('video'),
        screen: this.media.screen?.getVideoTracks()[0] ?? null,
      },
      // Peer to peer once the pair's channel is open; the relay (queued while it is away) before that and as fallback.
      send: (data) =>
        session.direct
          ? channel.send({ type: 'signal', data })
          : this.#signaling?.send({ type: 'signal', to: peer.id, data }), // peer.id: re-keyed by a rebind
      onRemoteTracks: (tracks) => this.#showRemoteTracks(peer, tracks),
      onChannelText: (text) => channel.receive(text),
      onError: warn,
      onChannelOpen: () =>
        channel.send({
          type: 'state',
          microphone: this.media.microphoneEnabled,
          camera: this.media.cameraEnabled,
        }),
      onStateChange: (state) => {
        peer.connection = state;
        if (state === 'connected') this.stats.start();
        if (state === 'failed') {
          this.#host.dispatch(
            new VideoChatErrorEvent(
              new VideoChatError('peer-unreachable', `Could not connect to ${info.name || 'a participant'}.`),
            ),
          );
        }
        this.#host.requestUpdate();
      },
    });
    this.#sessions.set(info.id, session);
    this.#channels.set(info.id, channel);
    this.#applyBandwidth(); // one more copy of each stream: everyone's share shrinks
  }

  #removePeer(id: string): void {
    const peer = this.#peers.get(id);
    this.#sessions.get(id)?.close();
    this.#sessions.delete(id);
    this.#channels.delete(id);
    this.#applyBandwidth();
    this.#peers.delete(id);
    if (peer) this.#host.dispatch(new PeerLeftEvent({ id: peer.id, name: peer.name }));
  }

  /** Keeps one MediaStream per peer (so `<video>` elements are not reset) in step with its live tracks. */
  #showRemoteTracks(peer: RemotePeer, tracks: ReadonlyMap<TrackKind, MediaStreamTrack>): void {
    const wanted = [tracks.get('audio'), tracks.get('video')].filter((t): t is MediaStreamTrack => t !== undefined);
    for (const track of peer.stream.getTracks()) if (!wanted.includes(track)) peer.stream.removeTrack(track);
    for (const track of wanted) if (!peer.stream.getTrackById(track.id)) peer.stream.addTrack(track);
    const screen = tracks.get('screen');
    const was = peer.screen?.getVideoTracks()[0];
    if (screen !== was) {
      peer.screen = screen ? new MediaStream([screen]) : null;
      if (Boolean(screen) !== Boolean(was)) this.#host.dispatch(new ScreenShareEvent(peer.id, Boolean(screen)));
    }
    this.#host.requestUpdate();
  }

  /** After a refusal that retrying cannot fix: no more relay attempts, camera and microphone released. */
  #roomFull(): void {
    this.#refuse(new VideoChatError('room-full', 'This room is full. Try again later.'));
  }

  #refuse(error: VideoChatError): void {
    this.#fail(error, true);
    this.#stopTrying();
  }

  #stopTrying(): void {
    this.#signaling?.close();
    this.#roster?.clear();
    this.media.stop();
    this.#host.requestUpdate();
  }

  #applyBandwidth(): void {
    this.#forEachSession((s) => void s.applyEncodingCaps());
  }

  #forEachSession(fn: (session: PeerSession) => void): void {
    for (const session of this.#sessions.values()) fn(session);
  }

  /** Sends a message on every peer's data channel. */
  #broadcast(message: PeerMessage): void {
    for (const channel of this.#channels.values()) channel.send(message);
  }

  // ---- state ----

  /** `in-call` or `waiting` by the number of peers, once admitted and unless the call failed. */
  #updateCallState(): void {
    if (this.#selfId === null || this.#error) return;
    this.#setState(this.#peers.size > 0 ? 'in-call' : 'waiting');
  }

  /** Reports an error; `fatal` puts the call in the `error` state (shown instead of the call). */
  #fail(error: VideoChatError, fatal: boolean): void {
    this.#host.dispatch(new VideoChatErrorEvent(error));
    if (fatal) {
      this.#error = error;
      this.#setState('error');
    }
  }

  #setState(state: CallState): void {
    if (state === this.#state) {
      this.#host.requestUpdate();
      return;
    }
    this.#state = state;
    this.#host.dispatch(new StateChangeEvent(state));
    this.#host.requestUpdate();
  }
}
