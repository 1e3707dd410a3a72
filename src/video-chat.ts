/**
 * `<video-chat>`: the element class, its public contract, and the wiring between the call (src/call/) and the
 * templates (src/ui/).
 *
 * The class JSDoc (parts, custom properties, states, and the events of the call's own methods here) is the contract
 * the Custom Elements Manifest is generated from and the README is checked against; the analyzer adds what the
 * element inherits. Its base classes: `element-attributes.ts` declares and reads the attributes (with their JSDoc),
 * `call-api.ts` owns the {@link CallController} and what a page reads of the call and asks of it, `hosts-api.ts` the
 * methods of hosts and guests, hands and reactions. This module keeps the element's own state (pin, pre-join, open
 * panels, announcements), the actions its templates trigger, joining and leaving as the attributes say, and
 * rendering. Every on-demand chunk it loads goes through `chunk.ts` (a failure is `vc-error` `chunk-failed`).
 * Everything else lives in src/ui/ beside it, as Lit controllers and template modules: the language of the text
 * (`LocaleController`), starting the videos and "click to enable sound" (`PlaybackController`), the on-demand panels
 * and the view observer (`Panels`), the status line and error banner, tiles, controls, devices and chat. The
 * screen-reader announcements and the `debug` log listen to the element's own events, as a page would.
 * @module
 */
import { html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { configKey, fireError, ElementAttributes, parseIceServers, reportConfig } from './element-attributes.js';
import { chunk } from './chunk.js';
import { VideoChatError } from './errors.js';
import type { ChatEntry } from './types.js';
import type { EmbedDiagnosis } from './diagnosis.js';
import { renderControls } from './ui/controls.js';
import { LocaleController } from './ui/locale-controller.js';
import { Panels, renderPanelError } from './ui/panels.js';
import { PlaybackController } from './ui/playback.js';
import { renderError, statusText } from './ui/status.js';
import { renderStage } from './ui/tiles.js';
import type { View, ViewActions } from './ui/view.js';
import { styles } from './video-chat.styles.js';

/**
 * A peer-to-peer video call in one tag. Visitors whose `<video-chat>` elements share a `room` and a `signal-url` see
 * and hear each other: one RTCPeerConnection per remote peer (a mesh), negotiated through the relay.
 *
 * The element joins when it is in the document and both `room` and `signal-url` are set; it leaves (stopping every
 * track and closing every connection) when removed; changing `room`, `signal-url`, `ice-servers` or
 * `ice-transport-policy` moves it to the new room. With `prejoin` it shows a camera preview, a name field and the device
 * choice first, and joins when the visitor presses "Join call".
 *
 * @tag video-chat
 *
 * Its attributes are documented and parsed in its base class `element-attributes.ts` (`ElementAttributes`).
 *
 * @csspart call - The whole call area.
 * @csspart status - The status line (also a polite live region).
 * @csspart error - The error banner (`role="alert"`).
 * @csspart panel-error - Where a panel (chat, devices, hosts' list) would be when its file could not be loaded
 *   (`chunk-failed`): says which file; asking for the panel again tries once more.
 * @csspart retry-button - "Try again" in the error banner: rejoins after a fatal error, asks for camera and microphone
 *   again after a media one.
 * @csspart prejoin - The pre-join form (attribute `prejoin`).
 * @csspart name-input - The name field of the pre-join form.
 * @csspart devices - The device settings panel, opened by the `settings-button`.
 * @csspart device-select - Every device `<select>`.
 * @csspart videoinput-select - The camera `<select>`.
 * @csspart audioinput-select - The microphone `<select>`.
 * @csspart audiooutput-select - The speaker `<select>` (where the browser has `setSinkId`).
 * @csspart spotlight - The large view of a screen another peer shares.
 * @csspart sharing-banner - "You are sharing your screen" with its stop button.
 * @csspart grid - The grid of tiles (a strip under the spotlight while a screen is shown).
 * @csspart tile - Every tile.
 * @csspart local-tile - This visitor's own tile.
 * @csspart remote-tile - The tile of another peer.
 * @csspart active-speaker - The active speaker's tile (outlined).
 * @csspart pinned - The pinned tile (large, above the others in a strip).
 * @csspart tile-button - Every icon button of a remote tile (toggles with `aria-pressed`).
 * @csspart pin-button - Pins the tile, or unpins it.
 * @csspart tile-fullscreen-button - Shows the tile full screen.
 * @csspart pip-button - Picture-in-Picture for the tile's video, where the browser has it.
 * @csspart quality - A remote tile's connection quality (three bars; class `good`, `fair` or `poor`); focusable, it
 *   shows its figures on hover and focus.
 * @csspart badge - A remote tile's connection badge ("Connecting…", "Could not connect").
 * @csspart video - Every video.
 * @csspart local-video - This visitor's camera preview (mirrored).
 * @csspart remote-video - The video of another peer.
 * @csspart screen-video - The video of a shared screen, in the spotlight.
 * @csspart name - The name label of a tile.
 * @csspart mic-off - The "microphone off" mark on a remote tile.
 * @csspart chat - The chat panel.
 * @csspart chat-log - The list of chat messages (a polite live region).
 * @csspart chat-message - One chat message.
 * @csspart chat-name - The sender's name in a chat message.
 * @csspart chat-time - The time of a chat message.
 * @csspart chat-input - The chat's text field.
 * @csspart chat-send - The chat's send button.
 * @csspart unread - The unread count on the chat button.
 * @csspart controls - The control bar.
 * @csspart control-button - Every button of the control bar, and the other text buttons (join, retry, send, stop
 *   sharing, sound).
 * @csspart mic-button - Microphone on/off (`aria-pressed`).
 * @csspart camera-button - Camera on/off (`aria-pressed`).
 * @csspart screen-button - Screen share on/off (`aria-pressed`), where the browser has `getDisplayMedia`.
 * @csspart chat-button - Opens and closes the chat (`aria-expanded`).
 * @csspart settings-button - Opens and closes the device settings (`aria-expanded`).
 * @csspart fullscreen-button - The whole element full screen (`aria-pressed`), where the browser allows it.
 * @csspart leave-button - Leaves the call.
 * @csspart join-button - "Join call", before the call.
 * @csspart stop-share-button - "Stop sharing" in the sharing banner.
 * @csspart sound-button - The "click to enable sound" button shown when the browser blocks autoplay with sound.
 * @csspart diagnosis - The embed doctor's list, shown with the `debug` attribute.
 *
 * @cssprop --video-chat-background - Background of the element. Default `#111418`.
 * @cssprop --video-chat-foreground - Text colour. Default `#f2f4f7`.
 * @cssprop --video-chat-muted-foreground - Secondary text (times, initials) and the chat field's border. Default `#98a2b3`.
 * @cssprop --video-chat-font - Font family.
 * @cssprop --video-chat-radius - Corner radius of the element and tiles. Default `12px`.
 * @cssprop --video-chat-gap - Spacing. Default `8px`.
 * @cssprop --video-chat-tile-min-width - Smallest tile width before the grid wraps. Default `220px`.
 * @cssprop --video-chat-tile-background - Tile background. Default `#20252c`.
 * @cssprop --video-chat-accent - Primary buttons. Default `#1858c8`.
 * @cssprop --video-chat-danger - Leave button. Default `#b42318`.
 * @cssprop --video-chat-control-background - Control buttons. Default `#2f3742`.
 * @cssprop --video-chat-control-off-background - A control that is off (muted mic, camera off). Default `#b42318`.
 * @cssprop --video-chat-speaking - Outline of the active speaker's tile. Default `#3ccb7f`.
 * @cssprop --video-chat-focus-ring - Keyboard focus outline. Default `#7cb7ff`.
 * @cssprop --video-chat-error-background - Error banner. Default `#5c1a1a`.
 *
 * @cssState idle - Not in a call (`state` is `idle`); e.g. `video-chat:state(idle)`.
 * @cssState connecting - Joining: camera, relay and room.
 * @cssState knocking - A guest waiting outside the room for a host to let it in (the waiting screen is shown).
 * @cssState waiting - In the room, alone.
 * @cssState in-call - In a call with at least one other person.
 * @cssState reconnecting - The relay connection dropped; trying again (the calls go on).
 * @cssState error - The call could not continue (`error` says why).
 * @cssState sfu - The room runs on the relay's SFU (its media server sees the media) instead of peer to peer.
 */
export class VideoChatElement extends ElementAttributes {
  static override styles = styles;

  /** The built-in text in the element's language (`lang`), with `strings` on top. */
  readonly #locale = new LocaleController(this);
  /** Remote videos playing, on the chosen speaker; "click to enable sound" where autoplay with sound is blocked. */
  readonly #playback = new PlaybackController(this, () => this.call.media.chosen.audiooutput);
  #internals: ElementInternals | undefined;
  #chatOpen = false;
  #pinned: string | null = null;
  #devicesOpen = false;
  /** The pre-join screen is shown (its camera preview runs). */
  #preview = false;
  /** The chat, device and room panels and the view observer: chunks of their own, loaded when needed (ui/panels.ts). */
  readonly #panels = new Panels(this, this.call, VideoChatElement.elementStyles);
  /** The last chat entry shown while the panel was open (an entry, not an index: the log is a sliding window). */
  #chatSeen: ChatEntry | undefined;
  #announcement = '';
  #actions: ViewActions = {
    join: () => this.#enter(),
    leave: () => this.leave(),
    toggleMicrophone: () => this.setMicrophoneEnabled(!this.call.media.microphoneEnabled),
    toggleCamera: () => this.setCameraEnabled(!this.call.media.cameraEnabled),
    toggleScreenShare: () =>
      this.screenSharing ? this.stopScreenShare() : void this.startScreenShare().catch(() => undefined),
    stopScreenShare: () => this.stopScreenShare(),
    toggleChat: () => {
      this.#chatOpen = !this.#chatOpen;
      if (this.#chatOpen) this.#panels.loadChat();
      this.requestUpdate();
    },
    // The panels' own actions travel in their chunks (ui/chat-panel.ts, ui/devices-panel.ts), loaded by now.
    submitChat: (event) => this.#panels.chat?.submitChat(event, this),
    chooseDevice: (event) => this.#panels.devices?.chooseDevice(event, this),
    toggleDevices: () => {
      this.#devicesOpen = !this.#devicesOpen;
      this.#panels.loadDevices();
    },
    submitPrejoin: (event) => this.#panels.devices?.submitPrejoin(event, this),
    retryMedia: () => void this.retryMedia(),
    pin: (event) => {
      const id = tileOf(event)?.dataset['peerId'] ?? null;
      this.pin(id === this.#pinned ? null : id);
    },
    fullscreen: (event) => {
      const target = tileOf(event) ?? this;
      if (this.#fullscreen() === target) void document.exitFullscreen();
      else target.requestFullscreen().catch(() => undefined); // refused (no user gesture, or not allowed in a frame)
    },
    pip: (event) => {
      // One of our videos in Picture-in-Picture: close it; else open this tile's (W3C Picture-in-Picture).
      if (document.pictureInPictureElement === this) void document.exitPictureInPicture();
      else
        tileOf(event)
          ?.querySelector('video')
          ?.requestPictureInPicture()
          .catch(() => undefined);
    },
    enableSound: this.#playback.enableSound,
  };
  #joinedKey = '';

  constructor() {
    super();
    try {
      this.#internals = this.attachInternals();
    } catch {
      this.#internals = undefined; // custom states are an enhancement
    }
    this.addEventListener('fullscreenchange', () => this.requestUpdate()); // composed: also for a tile inside
    // The live region announces what a page would hear of: the element's own events.
    const t = () => this.#locale.strings;
    this.addEventListener('vc-error', ({ error }) => this.#announce(t().errors[error.code] ?? error.message));
    this.addEventListener('vc-peer-joined', ({ peer }) => this.#announce(t().peerJoined(peer.name || t().guest)));
    this.addEventListener('vc-peer-left', ({ peer }) => this.#announce(t().peerLeft(peer.name || t().guest)));
    // `debug`: the console gets what went wrong: a vc-error's VideoChatError, or the vc-warning itself (a
    // VideoChatWarningEvent: a non-fatal negotiation failure with its `code`, `peerId`, `message` and `cause`).
    const log = (event: Event & { error?: unknown }) => {
      if (this.debug) console.warn(`video-chat: ${event.type}`, event.error ?? event);
    };
    this.addEventListener('vc-warning', log);
    this.addEventListener('vc-error', log);
  }

  /**
   * Pins a remote peer's tile: it is shown large, above the other tiles (a strip); `null` unpins. An ID that is not in
   * the call pins nothing. The tile's pin button does the same.
   */
  pin(peerId: string | null): void {
    this.#pinned = peerId;
    this.requestUpdate();
  }

  /**
   * Joins (or rejoins) the configured room, skipping the pre-join screen. Fires `vc-error` with `bad-config` when
   * `room`/`signal-url` are missing.
   */
  join(): void {
    const iceServers = parseIceServers(this);
    if (!this.room || !this.signalUrl || iceServers === null) {
      if (iceServers !== null) reportConfig(this, 'Set the room and signal-url attributes to join a call.');
      return;
    }
    if (!this.#preview) this.#applyStartState(); // after the preview, the visitor's own choice stands
    this.#preview = false;
    this.#joinedKey = configKey(this);
    void this.call.join({
      signalUrl: this.signalUrl,
      room: this.room,
      name: this.name,
      token: this.token || undefined,
      iceServers,
      iceTransportPolicy: this.iceTransportPolicy === 'relay' ? 'relay' : 'all',
      maxPeers: this.maxPeers,
      mediaMode: this.mediaMode,
    });
  }

  /**
   * The embed doctor: what blocks a call on this page, check by check (secure context, Permissions-Policy, the relay
   * and its CSP `connect-src`, origin and token checks, camera, microphone, UDP, TURN), each with a result (`pass`,
   * `fail`, `unknown`) and a code whose fix the README's "Troubleshooting an embed" gives. Loads its own chunk
   * (`video-chat-doctor-<hash>.js`); asks for no camera; opens one probe WebSocket (joining and leaving at once a room of
   * its own, or with a `token` this room) and one RTCPeerConnection that only gathers candidates.
   * An `ice-servers` that is not a JSON array of RTCIceServer fires `vc-error` `bad-config` (as joining would), and the
   * relay's servers are checked instead.
   * @param options.timeoutMs each check's time limit in ms (default 5000): past it the check is `unknown`, `timeout`.
   * @returns `ok` is false when a check failed (shapes in src/diagnosis.ts).
   * @throws {VideoChatError} `chunk-failed` (also fired as `vc-error`) only when the doctor's chunk cannot be fetched.
   */
  diagnose(options: { timeoutMs?: number } = {}): Promise<EmbedDiagnosis> {
    return chunk('doctor', () => import('./doctor.js')).then(
      (d) => d.diagnose(this, this.#panels, options), // the list drawn as panels.report, with `debug`
      (error: VideoChatError) => {
        fireError(this, error);
        throw error;
      },
    );
  }

  /** Leaves the room; stops the camera and microphone and closes every connection. */
  leave(): void {
    this.#joinedKey = '';
    this.#preview = false;
    this.call.leave();
  }

  /** Mutes (false) or unmutes (true) the microphone. The others hear silence while muted. */
  setMicrophoneEnabled(enabled: boolean): void {
    this.call.setMicrophoneEnabled(enabled);
    const t = this.#locale.strings;
    this.#announce(enabled ? t.microphoneOnNotice : t.microphoneOffNotice);
  }

  /** Chat messages from others that arrived while the chat panel was closed. */
  get unreadCount(): number {
    const chat = this.call.chat;
    return chat.slice(chat.indexOf(this.#chatSeen!) + 1).filter((m) => m.peerId !== null).length;
  }

  /**
   * Shares the screen with everyone in the call (W3C Screen Capture `getDisplayMedia`: the browser asks which screen or
   * window). Pass `source` to share something else instead, e.g. `canvas.captureStream()`. The share stops by
   * {@link stopScreenShare}, by leaving, or from the browser's own "Stop sharing" control. Fires `vc-screen-share`.
   * @returns false when the visitor closed the picker without choosing.
   * @throws {VideoChatError} `permission-denied` or `no-device` (also fired as `vc-error`).
   */
  async startScreenShare(source?: MediaStream): Promise<boolean> {
    const started = await this.call.startScreenShare(source);
    if (started) this.#announce(this.#locale.strings.sharing);
    return started;
  }

  /** Stops sharing the screen. Fires `vc-screen-share` when a share was on. */
  stopScreenShare(): void {
    if (!this.screenSharing) return;
    this.call.stopScreenShare();
    this.#announce(this.#locale.strings.sharingStopped);
  }

  /** Turns the camera picture on or off. The others see a black picture while off. */
  setCameraEnabled(enabled: boolean): void {
    this.call.setCameraEnabled(enabled);
    const t = this.#locale.strings;
    this.#announce(enabled ? t.cameraOnNotice : t.cameraOffNotice);
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.hasUpdated && this.room && this.signalUrl) this.#enter(); // re-inserted into the page
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.leave();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    // Joining here (not in updated) folds the resulting state change into this same render.
    const config = ['room', 'signalUrl', 'token', 'iceServers', 'iceTransportPolicy'] as const;
    if (config.some((key) => changed.has(key)) && this.isConnected && configKey(this) !== this.#joinedKey) {
      if (this.room && this.signalUrl) this.#enter();
      else if (this.#joinedKey) this.leave();
    }
    if (this.#chatOpen) this.#chatSeen = this.call.chat.at(-1); // what is shown counts as read
    if (changed.has('debug') && this.debug) this.diagnose().catch(() => undefined); // told as vc-error
    this.call.setAudioOnly(!!this.audioOnly);
    // Buttons of hosts and guests the page lists show in a room without hosts too: their chunks on first use.
    if (!this.call.hosts && this.call.selfId && /\b(people|hand|react)\b/.test(this.controls ?? ''))
      this.call.withHosts(() => undefined);
    this.#syncStates();
  }

  protected override render(): TemplateResult {
    const state = this.call.state;
    const view = this.#view();
    const inCall = !(state === 'idle' || (state === 'error' && this.call.peers.length === 0));
    return html`
      <div part="call" class="call">
        <p part="status" class="status">${statusText(view)}</p>
        <div class="visually-hidden" role="status" aria-live="polite">${this.#announcement}</div>
        ${renderError(view)} ${this.#panels.report?.(view)}
        ${inCall ? renderStage(view) : nothing}
        ${inCall && state !== 'error' ? this.#panels.chat?.renderChat(view) : nothing} ${view.hostsUi?.render(view)}
        ${renderPanelError(view, this.#panels.failed)}
        ${this.#preview && !this.#panels.failed ? this.#panels.devices?.renderPrejoin(view) : renderControls(view, inCall)}
      </div>
    `;
  }

  #view(): View {
    const fullscreen = ((f) => (f === this ? '' : (f?.dataset['peerId'] ?? null)))(this.#fullscreen());
    this.call.focus = fullscreen || this.#pinned; // the tile shown large (a room on the SFU sends it the high layer)
    return {
      call: this.call,
      t: this.#locale.strings,
      name: this.name,
      room: this.room,
      lang: this.#locale.lang,
      controls: this.controls?.split(/\s+/) ?? null,
      configured: Boolean(this.room && this.signalUrl),
      chatOpen: this.#chatOpen,
      preview: this.#preview,
      devicesOpen: this.#devicesOpen,
      deviceUi: this.#panels.devices,
      soundBlocked: this.#playback.soundBlocked,
      unread: this.unreadCount,
      pinned: this.#pinned,
      fullscreen,
      actions: this.#actions,
      hostsUi: this.#panels.room,
    };
  }

  #syncStates(): void {
    const states = this.#internals?.states;
    if (!states) return;
    for (const s of ['idle', 'connecting', 'knocking', 'waiting', 'in-call', 'reconnecting', 'error', 'sfu']) {
      if (s === this.call.state || (s == 'sfu' && this.call.sfu)) states.add(s);
      else states.delete(s);
    }
  }

  /** Joins, or shows the pre-join screen first (attribute `prejoin`, when not in a call). */
  #enter(): void {
    if (!this.prejoin || this.call.state !== 'idle') return this.join();
    this.#preview = true;
    this.#joinedKey = configKey(this);
    this.#applyStartState();
    void this.call.media.start();
    this.#panels.loadDevices();
  }

  /** Attributes `microphone-off` and `camera-off`. */
  #applyStartState(): void {
    if (this.microphoneOff) this.call.media.setMicrophoneEnabled(false);
    if (this.cameraOff) this.call.media.setCameraEnabled(false);
  }

  #announce(message: string): void {
    this.#announcement = message;
    this.requestUpdate();
  }

  /** This element (or a tile in it) when in full screen (W3C Fullscreen API), else null. */
  #fullscreen(): HTMLElement | null {
    return document.fullscreenElement === this
      ? ((this.shadowRoot?.fullscreenElement as HTMLElement | null) ?? this)
      : null;
  }
}

/** The tile a button is in, if any. */
const tileOf = (event: Event) => (event.currentTarget as Element).closest('figure');

declare global {
  interface HTMLElementTagNameMap {
    'video-chat': VideoChatElement;
  }
}
