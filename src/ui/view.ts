/**
 * What the template functions of `src/ui/` receive from the element: the call to show, the strings, the element's
 * own view state, and the actions its controls trigger. Templates read; only actions change anything.
 *
 * @module
 */
import type { CSSResult, nothing, TemplateResult } from 'lit';
import type { CallController } from '../call/call-controller.js';
import type { VideoChatStrings } from './strings.js';

/**
 * The pre-join screen and the settings panel (src/ui/devices.ts): a chunk of their own, loaded when first needed. An
 * interface here, so that this module does not import the one that renders with it.
 */
export interface DeviceUi {
  renderPrejoin(v: View): TemplateResult;
  renderSettings(v: View): TemplateResult | typeof nothing;
  /** The panel's styles: adopted into the element's shadow root when the panel's chunk arrives. */
  readonly styles: readonly CSSResult[];
}

/** The chat panel (src/ui/chat.ts): a chunk of its own, fetched when a call starts. */
export interface ChatUi {
  renderChat(v: View): TemplateResult | typeof nothing;
  /** The panel's styles: adopted into the element's shadow root when the panel's chunk arrives. */
  readonly styles: readonly CSSResult[];
}

/**
 * Hosts and guests, hands and reactions (src/ui/room.ts): a chunk of its own, fetched once the call loaded their model
 * (`CallController.hosts`).
 */
export interface RoomUi {
  /** The waiting screen, the participant list, the row of reactions, hosts' requests, and their live region. */
  render(v: View): TemplateResult;
  /** The control bar's people, hand and reaction buttons. */
  buttons(v: View): TemplateResult;
  /** A tile's raised hand and reaction (`peerId` null: this visitor's tile). */
  tile(v: View, peerId: string | null): TemplateResult | typeof nothing;
  readonly styles: readonly CSSResult[];
}

/** What the controls do (bound once by the element, so listeners stay the same between renders). */
export interface ViewActions {
  readonly join: () => void;
  readonly leave: () => void;
  readonly toggleMicrophone: () => void;
  readonly toggleCamera: () => void;
  readonly toggleScreenShare: () => void;
  readonly stopScreenShare: () => void;
  readonly toggleChat: () => void;
  readonly submitChat: (event: SubmitEvent) => void;
  readonly enableSound: () => void;
  /** A tile's pin button: pins that tile, or unpins it. */
  readonly pin: (event: Event) => void;
  /** A full-screen button: the tile it is in (or the whole element) enters or leaves full screen. */
  readonly fullscreen: (event: Event) => void;
  /** A tile's Picture-in-Picture button: opens that tile's video in Picture-in-Picture, or closes the one open. */
  readonly pip: (event: Event) => void;
  /** A device `<select>` (with `data-kind`) changed. */
  readonly chooseDevice: (event: Event) => void;
  readonly toggleDevices: () => void;
  /** The pre-join form was submitted: join with its name. */
  readonly submitPrejoin: (event: SubmitEvent) => void;
  /** Capture camera and microphone again after a media fault. */
  readonly retryMedia: () => void;
}

export interface View {
  readonly call: CallController;
  readonly t: VideoChatStrings;
  /** This visitor's display name ('' when unset). */
  readonly name: string;
  readonly room: string;
  /** The element's language (for dates and times). */
  readonly lang: string;
  /** The control bar's buttons (tokens of the `controls` attribute), null for all. */
  readonly controls: readonly string[] | null;
  /** True when `room` and `signal-url` are set. */
  readonly configured: boolean;
  readonly chatOpen: boolean;
  /** The pre-join screen is shown. */
  readonly preview: boolean;
  /** The device settings panel is open. */
  readonly devicesOpen: boolean;
  /** The pre-join screen and the settings panel: a chunk of their own, loaded when first needed. */
  readonly deviceUi: DeviceUi | undefined;
  /** The browser blocked sound without a click: show the "enable sound" button. */
  readonly soundBlocked: boolean;
  /** Chat messages from others not seen yet. */
  readonly unread: number;
  /** The pinned peer's ID, or null. */
  readonly pinned: string | null;
  /** In full screen: a peer's tile (its ID), the whole element (''), or nothing (null). */
  readonly fullscreen: string | null;
  readonly actions: ViewActions;
  /** Hosts and guests, hands and reactions, once their chunk arrived (undefined before, and outside a call). */
  readonly hostsUi?: RoomUi | undefined;
}
