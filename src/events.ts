/**
 * Typed DOM events `<video-chat>` fires for the host page. All bubble and are composed (they cross shadow roots), so
 * a page can listen on the element or any ancestor. None is cancelable.
 */
import type { VideoChatError, VideoChatWarningCode } from './errors.js';
import type { PeerInfo } from './protocol/relay.js';
import type { CallState, ChatEntry, ConnectionQuality, QualityLevel } from './types.js';
import type * as Hosts from './hosts-events.js';

// Hosts and guests, hands and reactions: classes in hosts-events.ts (only the hosts chunk constructs them), types here.
export type * from './hosts-events.js';

const init = { bubbles: true, composed: true } as const;

/** Fired when the relay has admitted this participant to `room`. */
export class JoinedEvent extends Event {
  static readonly eventName = 'vc-joined';
  readonly room: string;
  readonly peerId: string;
  constructor(room: string, peerId: string) {
    super(JoinedEvent.eventName, init);
    this.room = room;
    this.peerId = peerId;
  }
}

/** Fired when this participant has left the room (by `leave()`, removal, or a room change). */
export class LeftEvent extends Event {
  static readonly eventName = 'vc-left';
  readonly room: string;
  constructor(room: string) {
    super(LeftEvent.eventName, init);
    this.room = room;
  }
}

/** Fired when another peer enters the room (including those already there at join). */
export class PeerJoinedEvent extends Event {
  static readonly eventName = 'vc-peer-joined';
  readonly peer: PeerInfo;
  constructor(peer: PeerInfo) {
    super(PeerJoinedEvent.eventName, init);
    this.peer = peer;
  }
}

/** Fired when another peer leaves the room or its connection to the relay dies. */
export class PeerLeftEvent extends Event {
  static readonly eventName = 'vc-peer-left';
  readonly peer: PeerInfo;
  constructor(peer: PeerInfo) {
    super(PeerLeftEvent.eventName, init);
    this.peer = peer;
  }
}

/** Fired on every change of {@link CallState}. */
export class StateChangeEvent extends Event {
  static readonly eventName = 'vc-state-change';
  readonly state: CallState;
  constructor(state: CallState) {
    super(StateChangeEvent.eventName, init);
    this.state = state;
  }
}

/** Fired for every error shown to the visitor; `error.code` tells which (see `VideoChatErrorCode`). */
export class VideoChatErrorEvent extends Event {
  static readonly eventName = 'vc-error';
  readonly error: VideoChatError;
  constructor(error: VideoChatError) {
    super(VideoChatErrorEvent.eventName, init);
    this.error = error;
  }
}

/**
 * Fired for a non-fatal failure with one peer that the call survives and the visitor is not shown: a malformed or
 * flooding message from that peer, a negotiation step or setting the browser refused (`code`, see
 * `VideoChatWarningCode`). At most once per `code` and peer every few seconds, so a hostile peer cannot flood the page.
 * - `peerId`: the peer concerned;
 * - `message`: what failed, in English, for developers: the parser's reason for a malformed message, the browser
 *   method that threw (e.g. `addIceCandidate`) for a refused step, the message type (`chat`, `state`) for a flood;
 * - `cause`: the browser's exception (a `DOMException`) or the parser's error (`{ code, message }`), if any.
 */
export class VideoChatWarningEvent extends Event {
  static readonly eventName = 'vc-warning';
  readonly code: VideoChatWarningCode;
  readonly peerId: string;
  readonly message: string;
  readonly cause: unknown;
  constructor(code: VideoChatWarningCode, peerId: string, message: string, cause?: unknown) {
    super(VideoChatWarningEvent.eventName, init);
    this.code = code;
    this.peerId = peerId;
    this.message = message;
    this.cause = cause;
  }
}

/** Fired when a screen share starts or stops: this visitor's own (`peerId` null) or another peer's. */
export class ScreenShareEvent extends Event {
  static readonly eventName = 'vc-screen-share';
  readonly peerId: string | null;
  readonly active: boolean;
  constructor(peerId: string | null, active: boolean) {
    super(ScreenShareEvent.eventName, init);
    this.peerId = peerId;
    this.active = active;
  }
}

/** Fired for every chat message, sent or received. */
export class ChatMessageEvent extends Event {
  static readonly eventName = 'vc-chat-message';
  readonly message: ChatEntry;
  constructor(message: ChatEntry) {
    super(ChatMessageEvent.eventName, init);
    this.message = message;
  }
}

/** Fired when a microphone or camera is turned on or off: this visitor's (`peerId` null) or another peer's. */
export class MediaStateEvent extends Event {
  static readonly eventName = 'vc-media-state';
  readonly peerId: string | null;
  readonly microphone: boolean;
  readonly camera: boolean;
  constructor(peerId: string | null, microphone: boolean, camera: boolean) {
    super(MediaStateEvent.eventName, init);
    this.peerId = peerId;
    this.microphone = microphone;
    this.camera = camera;
  }
}

/**
 * Fired when this visitor's camera (`videoinput`), microphone (`audioinput`) or speaker (`audiooutput`) was switched
 * (`MediaDeviceInfo.kind` and `deviceId`, W3C Media Capture and Streams).
 */
export class DeviceChangeEvent extends Event {
  static readonly eventName = 'vc-device-change';
  readonly kind: MediaDeviceKind;
  readonly deviceId: string;
  constructor(kind: MediaDeviceKind, deviceId: string) {
    super(DeviceChangeEvent.eventName, init);
    this.kind = kind;
    this.deviceId = deviceId;
  }
}

/**
 * Fired when another participant becomes the active speaker (`peerId`; null for this visitor), judged from the audio
 * levels of W3C WebRTC Statistics (`inbound-rtp` / `media-source` `audioLevel`). The last speaker stays active through
 * silence; after they leave there is none until someone speaks.
 */
export class ActiveSpeakerEvent extends Event {
  static readonly eventName = 'vc-active-speaker';
  readonly peerId: string | null;
  constructor(peerId: string | null) {
    super(ActiveSpeakerEvent.eventName, init);
    this.peerId = peerId;
  }
}

/** Fired when the connection quality of a peer (`good`, `fair`, `poor`) is first known or changes, with its `figures`. */
export class QualityChangeEvent extends Event {
  static readonly eventName = 'vc-quality-change';
  readonly peerId: string;
  readonly quality: QualityLevel;
  /** Round-trip time (ms), loss (fraction) and bitrate (kbps) that gave this level. */
  readonly figures: ConnectionQuality;
  constructor(peerId: string, figures: ConnectionQuality) {
    super(QualityChangeEvent.eventName, init);
    this.peerId = peerId;
    this.quality = figures.level;
    this.figures = figures;
  }
}

declare global {
  // On the global handlers' map, which the element's, the document's and the window's maps all extend: every event
  // bubbles and is composed, so `document.addEventListener('vc-error', …)` is typed like a listener on the element.
  interface GlobalEventHandlersEventMap {
    'vc-joined': JoinedEvent;
    'vc-left': LeftEvent;
    'vc-peer-joined': PeerJoinedEvent;
    'vc-peer-left': PeerLeftEvent;
    'vc-state-change': StateChangeEvent;
    'vc-error': VideoChatErrorEvent;
    'vc-warning': VideoChatWarningEvent;
    'vc-screen-share': ScreenShareEvent;
    'vc-chat-message': ChatMessageEvent;
    'vc-media-state': MediaStateEvent;
    'vc-active-speaker': ActiveSpeakerEvent;
    'vc-quality-change': QualityChangeEvent;
    'vc-device-change': DeviceChangeEvent;
    'vc-knock': Hosts.KnockEvent;
    'vc-admitted': Hosts.AdmittedEvent;
    'vc-denied': Hosts.DeniedEvent;
    'vc-removed': Hosts.RemovedEvent;
    'vc-locked': Hosts.LockedEvent;
    'vc-hand': Hosts.HandEvent;
    'vc-reaction': Hosts.ReactionEvent;
  }
}
