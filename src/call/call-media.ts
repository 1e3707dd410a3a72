/**
 * The call's media and data-channel side, the base class of {@link CallController}: this visitor's camera,
 * microphone and screen share sent to every peer (`RTCRtpSender.replaceTrack`, or a renegotiation for a kind not sent
 * before), the announcements of their state, the chat over the data channels, audio-only and each receiver's `view`
 * (receiver-driven sending, docs/bandwidth.md), and the bandwidth governor's re-application. It holds the peers'
 * sessions and channels by peer ID; who they are, and the call's state, relay and peers' lifecycle, are the
 * controller's. No DOM.
 *
 * @module
 */
import { VideoChatError } from '../errors.js';
import { DeviceChangeEvent, MediaStateEvent, ScreenShareEvent, VideoChatErrorEvent } from '../events.js';
import { MediaController } from '../media/media-controller.js';
import type { PeerSession } from '../negotiation/peer-session.js';
import type { PeerMessage, PeerViewMessage } from '../protocol/data-channel.js';
import type { TrackKind } from '../protocol/negotiation.js';
import type { ChatEntry } from '../types.js';
import type { CallStats } from './call-stats.js';
import { ChatLog, MAX_CHAT_LENGTH } from './chat-log.js';
import type { PeerChannel } from './peer-channel.js';
import type { SfuTopology } from './sfu.js';
import type { CallHost, CallOptions, RemotePeer } from './types.js';

/** See the module comment. Events through its {@link CallHost}: `vc-screen-share`, `vc-chat-message`, `vc-media-state`, `vc-device-change`, `vc-error` (media). */
export abstract class CallMedia {
  /** This visitor's camera, microphone and screen share. */
  readonly media: MediaController;
  /** The call's options while in a call. */
  protected options: CallOptions | undefined;
  protected readonly host: CallHost;
  protected readonly sessions = new Map<string, PeerSession>();
  /** The data channel wire of each peer, by peer ID (beside its session). */
  protected readonly channels = new Map<string, PeerChannel>();
  /** The SFU topology (call/sfu.ts, its own chunk), once the relay said the room runs on the SFU. */
  protected sfuRoom: Promise<SfuTopology> | undefined;
  /** The stats loop (call/engine.ts's) once a call started; a stand-in before. */
  protected statsLoop: CallStats = { speaker: undefined, quality: new Map(), uplink: new Map(), start() {}, stop() {} };
  protected screenShared = false;
  protected readonly chatLog: ChatLog;
  /** The microphone/camera state last announced (`vc-media-state` fires on changes only). */
  protected announced = '';
  /** Each peer's last `view` of our camera (receiver-view.ts). */
  protected readonly views = new WeakMap<RemotePeer, PeerViewMessage>();
  #chatCounter = 0;
  #audioOnly = false;

  /** This participant's ID, once the relay admitted it. */
  abstract get selfId(): string | null;

  constructor(host: CallHost) {
    this.host = host;
    this.chatLog = new ChatLog(host);
    this.media = new MediaController(
      () => host.requestUpdate(),
      () => this.stopScreenShare(),
      (kind, track) => {
        this.sendTrack(kind, track);
        if (!track) this.mediaFault(); // unplugged: the others see "camera off" (or "microphone off"), not a frozen tile
      },
    );
  }

  /** Active speaker and connection quality (call/engine.ts's stats loop once a call started). */
  get stats(): CallStats {
    return this.statsLoop;
  }

  /** The chat of this call, oldest first (at most {@link MAX_CHAT_HISTORY}). */
  get chat(): readonly ChatEntry[] {
    return this.chatLog.entries;
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
      id: `${this.selfId ?? 'me'}-${++this.#chatCounter}`,
      peerId: null,
      name: this.options?.name ?? '',
      text: trimmed,
      sentAt: Date.now(),
    };
    this.broadcast({ type: 'chat', id: entry.id, text: entry.text, sentAt: entry.sentAt });
    this.chatLog.add(entry);
    return entry;
  }

  /** Statistics of the connection to one peer (W3C WebRTC Statistics), or undefined for an unknown peer. */
  async getStats(peerId: string): Promise<RTCStatsReport | undefined> {
    return this.sessions.get(peerId)?.getStats() ?? (await this.sfuRoom)?.getStats(peerId);
  }

  /** The receivers of the mesh connection to one peer (the stats loop's audio levels); none on the SFU. */
  receivers(peerId: string): RTCRtpReceiver[] {
    return this.sessions.get(peerId)?.receivers ?? [];
  }

  /**
   * Send parameters (W3C WebRTC `RTCRtpSendParameters`) of each sender to one peer, by kind: the caps the bandwidth
   * governor set are in `encodings[0]`. Empty for an unknown peer.
   * @internal For tests.
   */
  getSendParameters(peerId: string): Map<TrackKind, RTCRtpSendParameters> {
    return this.sessions.get(peerId)?.sendParameters() ?? new Map<TrackKind, RTCRtpSendParameters>();
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
      if (error instanceof VideoChatError) this.host.dispatch(new VideoChatErrorEvent(error));
      throw error;
    }
    if (!track) return false;
    this.screenShared = true;
    this.sendTrack('screen', track);
    this.host.dispatch(new ScreenShareEvent(null, true));
    return true;
  }

  /** Stops sharing the screen. Does nothing when not sharing. */
  stopScreenShare(): void {
    this.media.stopScreenShare(); // already stopped when the share ended by itself
    if (!this.screenShared) return;
    this.screenShared = false;
    this.sendTrack('screen', null);
    this.host.dispatch(new ScreenShareEvent(null, false));
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
      this.mediaFault();
      throw error;
    }
    this.announceMediaState(); // a camera that was lost is back
    this.host.dispatch(new DeviceChangeEvent(kind, deviceId));
  }

  /**
   * Asks for camera and microphone again (after a refusal, a missing, busy or unplugged device) and sends the new
   * tracks to every peer; a kind that was not sent before (receive-only) is added, which renegotiates.
   * @returns true when both were captured; else `error` says why (also fired as `vc-error`).
   */
  async retryMedia(): Promise<boolean> {
    await this.media.start();
    for (const kind of ['audio', 'video'] as const) this.sendTrack(kind, this.media.track(kind));
    this.mediaFault();
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
    this.applyBandwidth();
  }

  /**
   * Tells a peer how large we show its camera video (device px), or (null) that we show none of it: a data-channel
   * `view` (docs/protocol.md), which it fits its encoding for us to.
   */
  sendView(peerId: string, size: { width: number; height: number } | null): void {
    this.channels.get(peerId)?.send({ type: 'view', width: 0, height: 0, ...size, hidden: !size });
  }

  /** Mutes (`false`) or unmutes the microphone; tells every peer and fires `vc-media-state` when that changed. */
  setMicrophoneEnabled(enabled: boolean): void {
    this.media.setMicrophoneEnabled(enabled);
    this.announceMediaState();
  }

  /** Turns the camera picture off (`false`) or on; tells every peer and fires `vc-media-state` when that changed. */
  setCameraEnabled(enabled: boolean): void {
    this.media.setCameraEnabled(enabled);
    this.announceMediaState();
  }

  protected sendTrack(kind: TrackKind, track: MediaStreamTrack | null): void {
    this.forEachSession((s) => void s.setTrack(kind, track));
    void this.sfuRoom?.then((t) => t.setTrack(kind, track));
  }

  protected mediaFault(): void {
    if (this.media.error) this.host.dispatch(new VideoChatErrorEvent(this.media.error));
    this.announceMediaState();
  }

  /** Tells every peer (and the page) the state of our microphone and camera, when it changed. */
  protected announceMediaState(): void {
    const state = {
      type: 'state',
      microphone: this.media.microphoneEnabled,
      camera: this.media.cameraEnabled,
    } as const;
    const key = `${state.microphone}${state.camera}`;
    if (key === this.announced) return;
    this.announced = key;
    this.broadcast(state);
    this.host.dispatch(new MediaStateEvent(null, state.microphone, state.camera));
  }

  protected applyBandwidth(): void {
    this.forEachSession((s) => void s.applyEncodingCaps());
  }

  protected forEachSession(fn: (session: PeerSession) => void): void {
    for (const session of this.sessions.values()) fn(session);
  }

  /** Sends a message on every peer's data channel. */
  protected broadcast(message: PeerMessage): void {
    for (const channel of this.channels.values()) channel.send(message);
  }
}
