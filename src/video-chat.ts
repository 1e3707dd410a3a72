import { LitElement, html, nothing, svg, type PropertyValues, type TemplateResult } from 'lit';
import { live } from 'lit/directives/live.js';
import { CallController, type RemotePeer } from './call/call-controller.js';
import { VideoChatError } from './errors.js';
import { VideoChatErrorEvent, type CallState, type ChatEntry } from './events.js';
import { MAX_CHAT_LENGTH } from './peer-messages.js';
import { isIceServer, type PeerInfo } from './protocol.js';
import { styles } from './video-chat.styles.js';

const icons = {
  mic: svg`<path d="M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.9V21h2v-3.1A7 7 0 0 0 19 11z"/>`,
  camera: svg`<path d="M17 10.5V7a1 1 0 0 0-1-1H4a1 1 0 0 0-1 1v10a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1v-3.5l4 4v-11z"/>`,
  chat: svg`<path d="M4 3h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V5a2 2 0 0 1 0-2z"/>`,
  micOff: svg`<path d="M19 11a7 7 0 0 1-1.2 3.9l-1.5-1.5c.4-.7.7-1.5.7-2.4zm-4 .2L9 5.2V5a3 3 0 0 1 6 0zM4.3 3 3 4.3l6 6V11a3 3 0 0 0 4.5 2.6l1.6 1.6A5 5 0 0 1 7 11H5a7 7 0 0 0 6 6.9V21h2v-3.1a7 7 0 0 0 3.5-1.3l3.2 3.2 1.3-1.3z"/>`,
  screen: svg`<path d="M20 3H4a2 2 0 0 0-2 2v11a2 2 0 0 0 2 2h6v2H8v2h8v-2h-2v-2h6a2 2 0 0 0 2-2V5a2 2 0 0 0-2-2zm0 13H4V5h16z"/>`,
  leave: svg`<path d="M12 9c-1.6 0-3.2.3-4.6.7v3.1c0 .4-.2.7-.6.9-1 .5-1.9 1.1-2.7 1.8a1 1 0 0 1-1.4 0L.3 13.1a1 1 0 0 1 0-1.4A16.9 16.9 0 0 1 12 7c4.5 0 8.6 1.7 11.7 4.7a1 1 0 0 1 0 1.4l-2.5 2.5a1 1 0 0 1-1.4 0c-.8-.7-1.7-1.3-2.7-1.8a1 1 0 0 1-.6-.9V9.7C15.2 9.3 13.6 9 12 9z"/>`,
};

const initials = (name: string): string =>
  name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => [...w][0]?.toUpperCase() ?? '').join('') || '?';

/**
 * A peer-to-peer video call in one tag. Visitors whose `<video-chat>` elements share a `room` and a `signal-url` see
 * and hear each other: one RTCPeerConnection per remote peer (a mesh), negotiated through the relay.
 *
 * The element joins when it is in the document and both `room` and `signal-url` are set; it leaves (stopping every
 * track and closing every connection) when removed; changing `room`, `signal-url`, `ice-servers` or
 * `ice-transport-policy` moves it to the new room.
 *
 * @tag video-chat
 *
 * @attr {string} room - Room name: 1–64 characters of `A-Z a-z 0-9 _ - .`.
 * @attr {string} signal-url - `ws://` or `wss://` URL of the relay.
 * @attr {string} name - This visitor's display name (at most 64 characters), shown to the others.
 * @attr {string} token - Room token (JWT, HS256) from the site's backend, when the relay requires one.
 * @attr {string} ice-servers - JSON array of RTCIceServer; overrides the relay's list.
 * @attr {'all'|'relay'} ice-transport-policy - `relay` forces TURN (W3C WebRTC RTCIceTransportPolicy). Default `all`.
 *
 * @fires {JoinedEvent} vc-joined - The relay admitted this visitor (`room`, `peerId`).
 * @fires {LeftEvent} vc-left - This visitor left the room (`room`).
 * @fires {PeerJoinedEvent} vc-peer-joined - Another peer is in the room (`peer: {id, name}`).
 * @fires {PeerLeftEvent} vc-peer-left - Another peer left (`peer: {id, name}`).
 * @fires {StateChangeEvent} vc-state-change - `state` changed.
 * @fires {VideoChatErrorEvent} vc-error - Something went wrong (`error.code`, `error.message`).
 * @fires {ChatMessageEvent} vc-chat-message - A chat message was sent or received (`message: {id, peerId, name, text, sentAt}`).
 * @fires {MediaStateEvent} vc-media-state - A microphone or camera went on or off (`peerId`: null for this visitor).
 * @fires {ScreenShareEvent} vc-screen-share - A screen share started or stopped (`peerId`: null for this visitor, `active`).
 *
 * @csspart call - The whole call area.
 * @csspart status - The status line (also a polite live region).
 * @csspart error - The error banner (`role="alert"`).
 * @csspart spotlight - The large view of a screen another peer shares.
 * @csspart sharing-banner - "You are sharing your screen" with its stop button.
 * @csspart grid - The grid of tiles (a strip under the spotlight while a screen is shown).
 * @csspart tile - Every tile; also `local-tile` or `remote-tile`.
 * @csspart video - Every video; also `local-video`, `remote-video` or `screen-video`.
 * @csspart name - The name label of a tile.
 * @csspart mic-off - The "microphone off" mark on a remote tile.
 * @csspart chat - The chat panel; also `chat-log`, `chat-message`, `chat-name`, `chat-time`, `chat-input`, `chat-send`.
 * @csspart unread - The unread count on the chat button.
 * @csspart controls - The control bar.
 * @csspart control-button - Every control button; also `mic-button`, `camera-button`, `screen-button`, `chat-button`, `leave-button`,
 *   `join-button`, `stop-share-button`.
 * @csspart sound-button - The "click to enable sound" button shown when the browser blocks autoplay with sound.
 *
 * @cssprop --video-chat-background - Background of the element. Default `#111418`.
 * @cssprop --video-chat-foreground - Text colour. Default `#f2f4f7`.
 * @cssprop --video-chat-font - Font family.
 * @cssprop --video-chat-radius - Corner radius of the element and tiles. Default `12px`.
 * @cssprop --video-chat-gap - Spacing. Default `8px`.
 * @cssprop --video-chat-tile-min-width - Smallest tile width before the grid wraps. Default `220px`.
 * @cssprop --video-chat-tile-background - Tile background. Default `#20252c`.
 * @cssprop --video-chat-accent - Primary buttons. Default `#1858c8`.
 * @cssprop --video-chat-danger - Leave button. Default `#b42318`.
 * @cssprop --video-chat-control-background - Control buttons. Default `#2f3742`.
 * @cssprop --video-chat-control-off-background - A control that is off (muted mic, camera off). Default `#b42318`.
 * @cssprop --video-chat-focus-ring - Keyboard focus outline. Default `#7cb7ff`.
 * @cssprop --video-chat-error-background - Error banner. Default `#5c1a1a`.
 */
export class VideoChatElement extends LitElement {
  static override styles = styles;

  static override properties = {
    room: { type: String },
    signalUrl: { type: String, attribute: 'signal-url' },
    name: { type: String },
    token: { type: String },
    iceServers: { type: String, attribute: 'ice-servers' },
    iceTransportPolicy: { type: String, attribute: 'ice-transport-policy' },
  };

  /** Room name (attribute `room`). */
  declare room: string;
  /** Relay URL (attribute `signal-url`). */
  declare signalUrl: string;
  /** Display name (attribute `name`). */
  declare name: string;
  /** Room token for relays that require one (attribute `token`). */
  declare token: string;
  /** JSON array of RTCIceServer overriding the relay's (attribute `ice-servers`). */
  declare iceServers: string;
  /** `all` (default) or `relay` (attribute `ice-transport-policy`). */
  declare iceTransportPolicy: string;

  #call = new CallController({
    requestUpdate: () => this.requestUpdate(),
    dispatch: (event) => {
      if (event instanceof VideoChatErrorEvent) this.#announce(event.error.message);
      this.dispatchEvent(event);
    },
  });
  #internals: ElementInternals | undefined;
  #soundBlocked = false;
  #chatOpen = false;
  /** How many chat entries the visitor has seen (the chat was open when they arrived). */
  #chatSeen = 0;
  #announcement = '';
  #joinedKey = '';

  constructor() {
    super();
    this.room = '';
    this.signalUrl = '';
    this.name = '';
    this.iceServers = '';
    this.token = '';
    this.iceTransportPolicy = 'all';
    try {
      this.#internals = this.attachInternals();
    } catch {
      this.#internals = undefined; // custom states are an enhancement
    }
  }

  /** The visible state of the call. */
  get state(): CallState {
    return this.#call.state;
  }

  /** Everyone else in the room, in joining order. */
  get peers(): readonly PeerInfo[] {
    return this.#call.peers.map(({ id, name }) => ({ id, name }));
  }

  /** Why the call is in `error`, or a non-fatal media problem (e.g. receive-only); null when all is well. */
  get error(): VideoChatError | null {
    return this.#call.error;
  }

  /** This visitor's peer ID once joined, else null. */
  get peerId(): string | null {
    return this.#call.selfId;
  }

  /**
   * Statistics of the connection to one peer (W3C WebRTC Statistics: `inbound-rtp`, `candidate-pair`, …).
   * @returns undefined for an unknown peer or before its connection exists.
   */
  getStats(peerId: string): Promise<RTCStatsReport | undefined> {
    return this.#call.getStats(peerId);
  }

  /** Joins (or rejoins) the configured room. Fires `vc-error` with `bad-config` when `room`/`signal-url` are missing. */
  join(): void {
    const iceServers = this.#parseIceServers();
    if (!this.room || !this.signalUrl || iceServers === null) {
      if (iceServers !== null) this.#reportConfig('Set the room and signal-url attributes to join a call.');
      return;
    }
    this.#joinedKey = this.#configKey();
    void this.#call.join({
      signalUrl: this.signalUrl,
      room: this.room,
      name: this.name,
      token: this.token || undefined,
      iceServers,
      iceTransportPolicy: this.iceTransportPolicy === 'relay' ? 'relay' : 'all',
    });
  }

  /** Leaves the room; stops the camera and microphone and closes every connection. */
  leave(): void {
    this.#joinedKey = '';
    this.#call.leave();
  }

  /** Mutes (false) or unmutes (true) the microphone. The others hear silence while muted. */
  setMicrophoneEnabled(enabled: boolean): void {
    this.#call.setMicrophoneEnabled(enabled);
    this.#announce(enabled ? 'Microphone on' : 'Microphone off');
  }

  /** The chat of the current call, oldest first. */
  get chatMessages(): readonly ChatEntry[] {
    return this.#call.chat;
  }

  /** Chat messages from others that arrived while the chat panel was closed. */
  get unreadCount(): number {
    return this.#call.chat.slice(this.#chatSeen).filter((m) => m.peerId !== null).length;
  }

  /**
   * Sends a text chat message to everyone in the call. Fires `vc-chat-message`.
   * @throws {RangeError} when `text` is blank or longer than 2000 characters.
   */
  sendChatMessage(text: string): ChatEntry {
    return this.#call.sendChatMessage(text);
  }

  /** True while this visitor shares a screen. */
  get screenSharing(): boolean {
    return this.#call.media.screen !== null;
  }

  /**
   * Shares the screen with everyone in the call (W3C Screen Capture `getDisplayMedia`: the browser asks which screen or
   * window). Pass `source` to share something else instead, e.g. `canvas.captureStream()`. The share stops by
   * {@link stopScreenShare}, by leaving, or from the browser's own "Stop sharing" control. Fires `vc-screen-share`.
   * @returns false when the visitor closed the picker without choosing.
   * @throws {VideoChatError} `permission-denied` or `no-device` (also fired as `vc-error`).
   */
  async startScreenShare(source?: MediaStream): Promise<boolean> {
    const started = await this.#call.startScreenShare(source);
    if (started) this.#announce('You are sharing your screen');
    return started;
  }

  /** Stops sharing the screen. Fires `vc-screen-share` when a share was on. */
  stopScreenShare(): void {
    if (!this.screenSharing) return;
    this.#call.stopScreenShare();
    this.#announce('Screen sharing stopped');
  }

  /** Turns the camera picture on or off. The others see a black picture while off. */
  setCameraEnabled(enabled: boolean): void {
    this.#call.setCameraEnabled(enabled);
    this.#announce(enabled ? 'Camera on' : 'Camera off');
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.hasUpdated && this.room && this.signalUrl) this.join(); // re-inserted into the page
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.leave();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    // Joining here (not in updated) folds the resulting state change into this same render.
    const config = ['room', 'signalUrl', 'token', 'iceServers', 'iceTransportPolicy'] as const;
    if (config.some((key) => changed.has(key)) && this.isConnected && this.#configKey() !== this.#joinedKey) {
      if (this.room && this.signalUrl) this.join();
      else if (this.#joinedKey) this.leave();
    }
    if (this.#chatOpen) this.#chatSeen = this.#call.chat.length; // what is shown counts as read
    this.#syncStates();
  }

  protected override updated(): void {
    this.#playVideos();
  }

  // Videos bind `.srcObject` through live(): Lit commits object values on every render, and assigning srcObject (even
  // the same stream) restarts the element's load algorithm; live() compares with the element's current value instead.
  protected override render(): TemplateResult {
    const state = this.#call.state;
    return html`
      <div part="call" class="call">
        <p part="status" class="status">${this.#statusText(state)}</p>
        <div class="visually-hidden" role="status" aria-live="polite">${this.#announcement}</div>
        ${this.#renderError(state)}
        ${state === 'idle' || (state === 'error' && this.#call.peers.length === 0) ? nothing : this.#renderGrid()}
        ${state === 'idle' || state === 'error' ? nothing : this.#renderChat()}
        ${this.#renderControls(state)}
      </div>
    `;
  }

  #renderError(state: CallState): TemplateResult | typeof nothing {
    const error = this.#call.error;
    if (!error || state === 'idle') return nothing;
    return html`<div part="error" class="error" role="alert">
      <span>${error.message}</span>
      ${state === 'error'
        ? html`<button part="control-button retry-button" class="primary" @click=${() => this.join()}>Try again</button>`
        : nothing}
    </div>`;
  }

  #renderGrid(): TemplateResult {
    const media = this.#call.media;
    const presenter = this.#call.peers.find((peer) => peer.screen);
    return html`${presenter ? this.#renderSpotlight(presenter) : nothing}
    ${media.screen
      ? html`<p part="sharing-banner" class="sharing">You are sharing your screen.
          <button part="control-button stop-share-button" @click=${() => this.stopScreenShare()}>Stop sharing</button></p>`
      : nothing}
    <div part="grid" class=${presenter ? 'grid strip' : 'grid'}>
      <figure part="tile local-tile" class="tile local">
        ${media.stream && media.cameraEnabled
          ? html`<video part="video local-video" .srcObject=${live(media.stream)} .muted=${true} autoplay playsinline></video>`
          : html`<div class="placeholder" aria-hidden="true">${initials(this.name || 'You')}</div>`}
        <figcaption part="name" class="name">${this.name ? `${this.name} (you)` : 'You'}</figcaption>
      </figure>
      ${this.#call.peers.map((peer) => this.#renderRemoteTile(peer))}
    </div>`;
  }

  #renderSpotlight(peer: RemotePeer): TemplateResult {
    const label = `${peer.name || 'Guest'}’s screen`;
    return html`<figure part="spotlight" class="spotlight" data-peer-id=${peer.id}>
      <video part="video screen-video" data-peer-id=${peer.id} .srcObject=${live(peer.screen)} .muted=${true} autoplay playsinline
        aria-label=${label}></video>
      <figcaption part="name" class="name">${label}</figcaption>
    </figure>`;
  }

  #renderRemoteTile(peer: RemotePeer): TemplateResult {
    const hasVideo = peer.stream.getVideoTracks().length > 0;
    const label = peer.name || 'Guest';
    const badge = peer.connection === 'connecting' ? 'Connecting…' : peer.connection === 'failed' ? 'Could not connect' : '';
    return html`<figure part="tile remote-tile" class="tile" data-peer-id=${peer.id}>
      <video part="video remote-video" data-peer-id=${peer.id} .srcObject=${live(peer.stream)} autoplay playsinline
        aria-label=${`Video of ${label}`}></video>
      ${hasVideo && peer.camera !== false
        ? nothing
        : html`<div class="placeholder" role="img" aria-label=${`${label}: camera off`}>${initials(label)}</div>`}
      <figcaption part="name" class="name">${peer.microphone === false
        ? html`<svg part="mic-off" class="mic-off" viewBox="0 0 24 24" role="img" aria-label="Microphone off">${icons.micOff}</svg>`
        : nothing}${label}</figcaption>
      ${badge ? html`<span part="badge" class="badge">${badge}</span>` : nothing}
      ${this.#soundBlocked
        ? html`<button part="control-button sound-button" class="sound" @click=${this.#enableSound}>Click to enable sound</button>`
        : nothing}
    </figure>`;
  }

  #renderControls(state: CallState): TemplateResult {
    if (state === 'idle' || (state === 'error' && this.#call.peers.length === 0)) {
      return state === 'idle' && this.room && this.signalUrl
        ? html`<div part="controls" class="controls">
            <button part="control-button join-button" class="primary" @click=${() => this.join()}>Join call</button>
          </div>`
        : html``;
    }
    const media = this.#call.media;
    const mic = media.microphoneEnabled;
    const camera = media.cameraEnabled;
    return html`<div part="controls" class="controls" role="toolbar" aria-label="Call controls">
      <button part="control-button mic-button" aria-pressed=${mic ? 'true' : 'false'} ?disabled=${!media.track('audio')}
        title=${mic ? 'Mute microphone' : 'Unmute microphone'} @click=${() => this.setMicrophoneEnabled(!mic)}>
        <svg viewBox="0 0 24 24" aria-hidden="true">${icons.mic}</svg><span>Microphone</span>
      </button>
      <button part="control-button camera-button" aria-pressed=${camera ? 'true' : 'false'} ?disabled=${!media.track('video')}
        title=${camera ? 'Turn camera off' : 'Turn camera on'} @click=${() => this.setCameraEnabled(!camera)}>
        <svg viewBox="0 0 24 24" aria-hidden="true">${icons.camera}</svg><span>Camera</span>
      </button>
      ${navigator.mediaDevices && 'getDisplayMedia' in navigator.mediaDevices
        ? html`<button part="control-button screen-button" aria-pressed=${media.screen ? 'true' : 'false'} class="toggle-on"
            title=${media.screen ? 'Stop sharing your screen' : 'Share your screen'}
            @click=${() => (media.screen ? this.stopScreenShare() : void this.startScreenShare().catch(() => undefined))}>
            <svg viewBox="0 0 24 24" aria-hidden="true">${icons.screen}</svg><span>Share screen</span>
          </button>`
        : nothing}
      <button part="control-button chat-button" aria-expanded=${this.#chatOpen ? 'true' : 'false'} aria-controls="chat"
        @click=${this.#toggleChat}>
        <svg viewBox="0 0 24 24" aria-hidden="true">${icons.chat}</svg><span>Chat</span>
        ${this.unreadCount > 0
          ? html`<span part="unread" class="unread">${this.unreadCount}<span class="visually-hidden"> unread</span></span>`
          : nothing}
      </button>
      <button part="control-button leave-button" class="leave" @click=${() => this.leave()}>
        <svg viewBox="0 0 24 24" aria-hidden="true">${icons.leave}</svg><span>Leave</span>
      </button>
    </div>`;
  }

  #renderChat(): TemplateResult | typeof nothing {
    if (!this.#chatOpen) return nothing;
    const time = (ms: number) => new Date(ms).toLocaleTimeString(this.lang || undefined, { hour: '2-digit', minute: '2-digit' });
    return html`<section part="chat" class="chat" id="chat" aria-label="Chat">
      <div part="chat-log" class="chat-log" role="log" aria-live="polite">
        <ol>
          ${this.#call.chat.map((m) => html`<li part="chat-message" class="chat-message">
            <span part="chat-name" class="chat-name">${m.peerId === null ? 'You' : m.name || 'Guest'}</span>
            <time part="chat-time" datetime=${new Date(m.sentAt).toISOString()}>${time(m.sentAt)}</time>
            <p>${m.text}</p>
          </li>`)}
        </ol>
      </div>
      <form class="chat-form" @submit=${this.#submitChat}>
        <input part="chat-input" name="message" maxlength=${MAX_CHAT_LENGTH} autocomplete="off" aria-label="Message"
          placeholder="Message everyone" required />
        <button part="control-button chat-send" class="primary">Send</button>
      </form>
    </section>`;
  }

  #toggleChat = (): void => {
    this.#chatOpen = !this.#chatOpen;
    this.requestUpdate();
  };

  #submitChat = (event: SubmitEvent): void => {
    event.preventDefault();
    const input = (event.currentTarget as HTMLFormElement).elements.namedItem('message') as HTMLInputElement;
    if (!input.value.trim()) return;
    this.sendChatMessage(input.value);
    input.value = '';
  };

  #statusText(state: CallState): string {
    const others = this.#call.peers.length;
    switch (state) {
      case 'idle':
        return this.room && this.signalUrl ? 'You are not in the call.' : 'Set the room and signal-url attributes to start.';
      case 'connecting':
        return 'Connecting…';
      case 'waiting':
        return `Waiting for others to join “${this.room}”…`;
      case 'in-call':
        return `In call with ${others} ${others === 1 ? 'other person' : 'other people'}.`;
      case 'reconnecting':
        return 'Connection to the server lost. Reconnecting…';
      case 'error':
        return 'The call could not continue.';
    }
  }

  /** Starts remote videos; where the browser blocks sound without a click, plays them muted and offers a button. */
  #playVideos(): void {
    for (const video of this.renderRoot.querySelectorAll<HTMLVideoElement>('video[part~="remote-video"], video[part~="screen-video"]')) {
      if (!video.paused || video.dataset['starting']) continue;
      video.dataset['starting'] = '1';
      video.play().then(
        () => delete video.dataset['starting'],
        (error: unknown) => {
          delete video.dataset['starting'];
          if (!(error instanceof Error) || error.name !== 'NotAllowedError') return;
          video.muted = true;
          void video.play().catch(() => undefined);
          if (!this.#soundBlocked) {
            this.#soundBlocked = true;
            this.requestUpdate();
          }
        },
      );
    }
  }

  #enableSound = (): void => {
    this.#soundBlocked = false;
    for (const video of this.renderRoot.querySelectorAll<HTMLVideoElement>('video[part~="remote-video"]')) {
      video.muted = false;
      void video.play().catch(() => undefined);
    }
    this.requestUpdate();
  };

  #syncStates(): void {
    const states = this.#internals?.states;
    if (!states) return;
    for (const s of ['idle', 'connecting', 'waiting', 'in-call', 'reconnecting', 'error']) {
      if (s === this.#call.state) states.add(s);
      else states.delete(s);
    }
  }

  #announce(message: string): void {
    this.#announcement = message;
    this.requestUpdate();
  }

  #configKey(): string {
    return JSON.stringify([this.room, this.signalUrl, this.token, this.iceServers, this.iceTransportPolicy]);
  }

  /** The `ice-servers` attribute as RTCIceServer[]; undefined when unset; null (and an error fired) when invalid. */
  #parseIceServers(): RTCIceServer[] | undefined | null {
    if (!this.iceServers) return undefined;
    try {
      const value: unknown = JSON.parse(this.iceServers);
      if (Array.isArray(value) && value.every(isIceServer)) {
        return value as RTCIceServer[];
      }
    } catch {
      // reported below
    }
    this.#reportConfig('The ice-servers attribute must be a JSON array of {"urls": …} objects.');
    return null;
  }

  #reportConfig(message: string): void {
    this.dispatchEvent(new VideoChatErrorEvent(new VideoChatError('bad-config', message)));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'video-chat': VideoChatElement;
  }
}
