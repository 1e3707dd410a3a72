/**
 * The call's page API of `<video-chat>`: the base class that owns the element's {@link CallController} and exposes
 * what a page reads of the call and asks of it (state, peers, statistics, devices, chat), each a documented
 * delegation, with the events the call fires. The element's own state (panels, pin, pre-join, announcements) and its
 * attributes are `video-chat.ts`'s; hosts and guests are `hosts-api.ts`'s.
 *
 * @module
 */
import { LitElement } from 'lit';
import { CallController } from './call/call-controller.js';
import type { VideoChatError } from './errors.js';
import type { PeerInfo } from './protocol/relay.js';
import type { CallState, ChatEntry, ConnectionQuality } from './types.js';

/**
 * What a page reads of the call and asks of it (see the module comment); `VideoChatElement` extends it.
 *
 * @fires {JoinedEvent} vc-joined - The relay admitted this visitor (`room`, `peerId`).
 * @fires {LeftEvent} vc-left - This visitor left the room (`room`).
 * @fires {PeerJoinedEvent} vc-peer-joined - Another peer is in the room (`peer: {id, name}`).
 * @fires {PeerLeftEvent} vc-peer-left - Another peer left (`peer: {id, name}`).
 * @fires {StateChangeEvent} vc-state-change - `state` changed.
 * @fires {VideoChatErrorEvent} vc-error - Something went wrong (`error.code`, `error.message`).
 * @fires {VideoChatWarningEvent} vc-warning - A non-fatal negotiation failure with one peer (a rejected candidate, a
 *   failed `setRemoteDescription` or `setParameters`, a malformed payload): `code`, `peerId`, `message`, `cause`. The
 *   call goes on; logged with the `debug` attribute.
 * @fires {ChatMessageEvent} vc-chat-message - A chat message was sent or received (`message: {id, peerId, name, text, sentAt}`).
 * @fires {MediaStateEvent} vc-media-state - A microphone or camera went on or off (`peerId`: null for this visitor).
 * @fires {DeviceChangeEvent} vc-device-change - A camera, microphone or speaker was chosen (`kind`: `videoinput`,
 *   `audioinput` or `audiooutput`; `deviceId`).
 * @fires {ScreenShareEvent} vc-screen-share - A screen share started or stopped (`peerId`: null for this visitor, `active`).
 * @fires {ActiveSpeakerEvent} vc-active-speaker - Someone else became the active speaker (`peerId`: null for this
 *   visitor), from getStats `audioLevel` polled every 400 ms, with hysteresis (see `src/call/call-stats.ts`).
 * @fires {QualityChangeEvent} vc-quality-change - A peer's connection quality became known or changed (`peerId`,
 *   `quality`: `good`, `fair` or `poor`; `figures`: `{level, rttMs, loss, kbps}`). Good: round trip under 300 ms and
 *   loss under 2 %; poor: 600 ms or more, 8 % or more, or nothing received; fair between.
 */
export class CallPageApi extends LitElement {
  /** The call this element shows: one at a time, joined and left by the element. */
  protected readonly call = new CallController({
    requestUpdate: () => this.requestUpdate(),
    dispatch: (event) => this.dispatchEvent(event),
  });

  /**
   * The visible state of the call: `idle`, `connecting`, `knocking` (a guest waiting to be let in by a host),
   * `waiting` (in the room, alone), `in-call`, `reconnecting` or `error` (also the custom states `:state(…)`).
   */
  get state(): CallState {
    return this.call.state;
  }

  /** Everyone else in the room, in joining order. */
  get peers(): readonly PeerInfo[] {
    return this.call.peers.map(({ id, name }) => ({ id, name }));
  }

  /** Why the call is in `error`, or a non-fatal media problem (e.g. receive-only); null when all is well. */
  get error(): VideoChatError | null {
    return this.call.error;
  }

  /** This visitor's peer ID once joined, else null. */
  get peerId(): string | null {
    return this.call.selfId;
  }

  /**
   * Statistics of the connection to one peer (W3C WebRTC Statistics: `inbound-rtp`, `candidate-pair`, …).
   * @returns undefined for an unknown peer or before its connection exists.
   */
  getStats(peerId: string): Promise<RTCStatsReport | undefined> {
    return this.call.getStats(peerId);
  }

  /**
   * The latest connection figures of a peer, refreshed every 400 ms: `level` (`good`, `fair`, `poor`), `rttMs`
   * (round-trip time, ms; null when unknown), `loss` (fraction 0–1), `kbps` (media received; null when it sends none).
   * @returns undefined for an unknown peer or before its connection is up.
   */
  getConnectionQuality(peerId: string): ConnectionQuality | undefined {
    return this.call.stats.quality.get(peerId);
  }

  /** The active speaker's peer ID, null for this visitor, undefined when nobody has spoken yet (see `vc-active-speaker`). */
  get activeSpeaker(): string | null | undefined {
    return this.call.stats.speaker;
  }

  /**
   * Cameras, microphones and speakers (W3C Media Capture and Streams `enumerateDevices`; labels are empty until camera
   * or microphone access was granted once). The lists in the UI follow `devicechange` by themselves.
   */
  getDevices(): Promise<MediaDeviceInfo[]> {
    return this.call.media.refreshDevices();
  }

  /** The chosen `deviceId`s by `MediaDeviceInfo.kind` (`videoinput`, …); a kind not there uses the browser's default. */
  get selectedDevices(): Partial<Record<MediaDeviceKind, string>> {
    return { ...this.call.media.chosen };
  }

  /**
   * Switches the camera (`videoinput`) or microphone (`audioinput`): the new device's track replaces the old one in the
   * preview and in every peer connection (`RTCRtpSender.replaceTrack`, no renegotiation); mute and camera-off state and
   * a screen share go on. `audiooutput` plays every remote video on that speaker (`HTMLMediaElement.setSinkId`). Before
   * joining the choice is kept for the call. Fires `vc-device-change`.
   * @throws {VideoChatError} `no-device`, `device-busy` or `permission-denied` (also fired as `vc-error`; the old
   *   device goes on).
   */
  setDevice(kind: MediaDeviceKind, deviceId: string): Promise<void> {
    return this.call.setDevice(kind, deviceId);
  }

  /**
   * Asks for camera and microphone again after a media fault (`permission-denied`, `no-device`, `device-busy`,
   * `device-lost`) and sends them to everyone in the call (a visitor who was receive-only starts sending: the
   * connections renegotiate). The error banner's "Try again" button calls it.
   * @returns true when both were captured; else `error` says why (also fired as `vc-error`).
   */
  retryMedia(): Promise<boolean> {
    return this.call.retryMedia();
  }

  /** The chat of the current call, oldest first. */
  get chatMessages(): readonly ChatEntry[] {
    return this.call.chat;
  }

  /**
   * Sends a text chat message to everyone in the call. Fires `vc-chat-message`.
   * @throws {RangeError} when `text` is blank or longer than 2000 characters.
   */
  sendChatMessage(text: string): ChatEntry {
    return this.call.sendChatMessage(text);
  }

  /** True while this visitor shares a screen. */
  get screenSharing(): boolean {
    return this.call.media.screen !== null;
  }
}
