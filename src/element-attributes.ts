/**
 * The attributes of `<video-chat>` and what they mean before the element uses them: the reactive properties with
 * their attribute names and defaults, the `ice-servers` JSON checked (`bad-config` otherwise), the key of the
 * configuration that decides whether a change moves the call to another room. `VideoChatElement` (video-chat.ts) extends it and decides when to
 * join, leave and render; the Custom Elements Manifest gives the element what it inherits from here.
 * @module
 */
import { VideoChatError } from './errors.js';
import { VideoChatErrorEvent } from './events.js';
import { HostsPageApi } from './hosts-api.js';
import { isIceServer } from './protocol/relay-codes.js';
import type { VideoChatStrings } from './ui/strings.js';

/**
 * The attributes of `<video-chat>` (see the module comment); `VideoChatElement` extends it.
 *
 * @attr {string} room - Room name: 1–64 characters of `A-Z a-z 0-9 _ - .`.
 * @attr {string} signal-url - `ws://` or `wss://` URL of the relay.
 * @attr {string} name - This visitor's display name (at most 64 characters), shown to the others.
 * @attr {string} token - Room token (JWT, HS256) from the site's backend, when the relay requires one.
 * @attr {string} ice-servers - JSON array of RTCIceServer; overrides the relay's list.
 * @attr {'all'|'relay'} ice-transport-policy - `relay` forces TURN (W3C WebRTC RTCIceTransportPolicy). Default `all`.
 * @attr {boolean} prejoin - Before joining, show a camera preview, the device choice and a name field (pre-filled from
 *   `name`) with a "Join call" button; joining uses that name and those devices.
 * @attr {boolean} microphone-off - Join with the microphone off (muted; the others see it). The visitor can turn it on.
 * @attr {boolean} camera-off - Join with the camera off (the others see the initials). The visitor can turn it on.
 * @attr {string} controls - Which buttons the control bar shows: a space-separated list of `microphone`, `camera`,
 *   `screen`, `chat`, `settings`, `fullscreen`, `people` (the participant list), `hand` (raise hand), `react`
 *   (reactions), `leave`. Unknown tokens are ignored; `controls=""` hides them all. Default
 *   (no attribute): all, but `people`, `hand` and `react` only in a room with hosts (room tokens with a `role`
 *   claim). "Join call" and "Try again" are always shown.
 * @attr {number} max-peers - The most people (this visitor included) the element joins a call with: finding that many
 *   already in the room, it leaves again and shows the `room-full` error. A hint checked by each newcomer (two arriving
 *   at once may both get in); the relay's `--max-peers-per-room` is the hard limit. Unset, 0 or not a number: no limit.
 * @attr {string} lang - The language of the built-in text (BCP 47 primary subtag: `en`, `de`), from the element's own
 *   `lang` or its closest ancestor's; changing either re-renders. Non-English locales are loaded on first use
 *   (`video-chat-de.js` next to `video-chat.js`); English is shown until they arrive. The `strings` property overrides
 *   any entry.
 * @attr {'auto'|'mesh'} media-mode - `mesh`: never join a room on the relay's SFU (the room stays peer to peer, or
 *   this visitor is refused with `room-full` from a room already on it). `auto` (default): the relay decides; on an
 *   SFU the media server sees the media, see docs/protocol.md.
 * @attr {boolean} audio-only - For a poor network: send no camera video (the others see this visitor's initials) and
 *   ask every peer to send none (the tiles show their initials); audio goes on. Removing it turns the camera back on.
 *   Also the `audioOnly` property. See docs/bandwidth.md.
 * @attr {boolean} debug - For development: log to the console (`console.warn`, prefixed `video-chat:`) every
 *   `vc-warning` and `vc-error` this element fires, and show the embed doctor's result ({@link diagnose}) inside the
 *   element: each check with OK, Problem or Unknown and the fix.
 *
 *
 */
export class ElementAttributes extends HostsPageApi {
  static override properties = {
    // `type: String` is Lit's default (left out: bytes of the script-tag file).
    controls: {},
    maxPeers: { type: Number, attribute: 'max-peers' },
    room: {},
    signalUrl: { attribute: 'signal-url' },
    name: {},
    token: {},
    iceServers: { attribute: 'ice-servers' },
    iceTransportPolicy: { attribute: 'ice-transport-policy' },
    strings: { attribute: false },
    prejoin: { type: Boolean },
    microphoneOff: { type: Boolean, attribute: 'microphone-off' },
    cameraOff: { type: Boolean, attribute: 'camera-off' },
    debug: { type: Boolean },
    mediaMode: { attribute: 'media-mode' },
    audioOnly: { type: Boolean, attribute: 'audio-only' },
  };

  /** Show the pre-join screen before joining (attribute `prejoin`). */ declare prejoin: boolean;
  /** Join with the microphone off (attribute `microphone-off`). */ declare microphoneOff: boolean;
  /** Join with the camera off (attribute `camera-off`). */ declare cameraOff: boolean;
  /** Log `vc-warning` and `vc-error` to the console (attribute `debug`). */ declare debug: boolean;
  /** Send and receive no camera video (attribute `audio-only`). */ declare audioOnly: boolean;
  /** `mesh` keeps this visitor out of rooms on the SFU; `auto` (default) lets the relay decide (attribute `media-mode`). */
  declare mediaMode: string;

  /** The control bar's buttons, space-separated; null shows them all (attribute `controls`). */ declare controls:
    string | null;
  /** Join only calls with fewer people than this (attribute `max-peers`); see the attribute. */ declare maxPeers:
    number | undefined;
  /** Room name (attribute `room`). */ declare room: string;
  /** Relay URL (attribute `signal-url`). */ declare signalUrl: string;
  /** Display name (attribute `name`). */ declare name: string;
  /** Room token for relays that require one (attribute `token`). */ declare token: string;
  /** JSON array of RTCIceServer overriding the relay's (attribute `ice-servers`). */ declare iceServers: string;
  /** `all` (default) or `relay` (attribute `ice-transport-policy`). */ declare iceTransportPolicy: string;
  /**
   * Overrides of the user-visible text (see {@link VideoChatStrings}), merged over the built-in locale picked by `lang`;
   * e.g. `el.strings = { join: 'Enter', statusInCall: (n) => \`${n + 1} here\` }`.
   */
  declare strings: Partial<VideoChatStrings>;

  constructor() {
    super();
    this.room = '';
    this.signalUrl = '';
    this.name = '';
    this.iceServers = '';
    this.token = '';
    this.iceTransportPolicy = 'all';
    this.strings = {};
    this.prejoin = this.microphoneOff = this.cameraOff = this.debug = false;
  }
}

/** The attributes whose change moves the call to another room, as one comparable string. */
export const configKey = (el: ElementAttributes): string =>
  JSON.stringify([el.room, el.signalUrl, el.token, el.iceServers, el.iceTransportPolicy]);

/** Fires `vc-error` with `error` on `el` (outside the class: the manifest's events are the `@fires` tags). */
export const fireError = (el: EventTarget, error: VideoChatError): unknown =>
  el.dispatchEvent(new VideoChatErrorEvent(error));

/** Fires `vc-error` `bad-config` on `el` with `message` (what the site must set). */
export const reportConfig = (el: ElementAttributes, message: string): unknown =>
  fireError(el, new VideoChatError('bad-config', message));

/** The `ice-servers` attribute as RTCIceServer[]; undefined when unset; null (and `bad-config` fired) when invalid. */
export function parseIceServers(el: ElementAttributes): RTCIceServer[] | undefined | null {
  if (!el.iceServers) return undefined;
  try {
    const value: unknown = JSON.parse(el.iceServers);
    if (Array.isArray(value) && value.every(isIceServer)) return value;
  } catch {
    // reported below
  }
  reportConfig(el, 'The ice-servers attribute must be a JSON array of {"urls": …} objects.');
  return null;
}
