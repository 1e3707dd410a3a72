/**
 * One RTCPeerConnection to one remote peer, negotiated with "perfect negotiation" (W3C WebRTC §10 example, MDN
 * "Perfect negotiation"): the same code runs on both sides; the only way out is the `send` function and the only way in
 * is {@link PeerSession.receive}. No DOM, no WebSocket.
 *
 * Rules this session follows, and why:
 * - **At (re)start only the initiator offers.** Both sides offering at once while the connection is being set up was
 *   measured to wedge Chromium 156 in about one call in three, so the other side creates its RTCPeerConnection only
 *   when the first offer arrives. The initiator makes that offer as soon as its connection exists (not on
 *   `negotiationneeded`, a task later), with the transceivers and the data channel in it: one round trip. Later renegotiations (a screen share, a track added) may come from either side at
 *   any moment; perfect negotiation resolves their glare (the polite side rolls back, the impolite one ignores).
 * - **Fixed transceivers.** The initiator creates one audio and one video transceiver (`recvonly` when it has no such
 *   track), so a visitor without camera still receives. Every description carries `media` (mid → {@link TrackKind}
 *   of what the sender sends on that mid) so the far side can tell a camera from a screen.
 * - **Bandwidth caps.** Each video sender's encoding gets the caps `encodingCaps` returns (`maxBitrate`,
 *   `scaleResolutionDownBy`, `maxFramerate`; the policy lives in `bandwidth.ts`), applied with
 *   `RTCRtpSender.setParameters` after every completed negotiation, after a track change and on
 *   {@link PeerSession.applyEncodingCaps}.
 * - **Trickle ICE** with candidates held until the remote description is set (RFC 8838, JSEP RFC 8829 §5.7).
 * - **ICE faults, in escalating steps** (W3C WebRTC RTCPeerConnectionState, RFC 8445 §9 ICE restart):
 *   1. `disconnected` is often transient (a burst of lost packets, a TURN server pausing): the session reports
 *      `reconnecting` and gives the connection a grace period of `watchdogMs` to come back by itself, untouched.
 *   2. `failed`: an ICE restart on the same connection (new ICE credentials, new candidates, no new media setup). Only
 *      the initiator offers, so it calls `restartIce()`; the other side asks it with `restart: 'ice'`.
 *   3. **Watchdog.** A connection that is not `connected` within `watchdogMs` of its (re)creation, or that stays
 *      `disconnected`/`failed` that long, is closed and recreated with a higher generation `gen` (the initiator does
 *      it; the other side asks with `restart: true`).
 *   Separately, an offer left unanswered for `watchdogMs` (lost on the way, e.g. while a relay was away), whatever
 *   the connection state, is rolled back (`setLocalDescription({type: 'rollback'})`) and made again: the
 *   connection is never left in `have-local-offer`, where `negotiationneeded` would not fire again.
 *   4. After `maxRestarts` recreations in a row the session reports `failed` (the UI shows the peer as unreachable)
 *      but does not give up: it keeps recreating the connection every `retryMs`, so a peer that becomes reachable
 *      again (its network or TURN server back) reconnects by itself, within about `retryMs`. A `restart` request
 *      from the peer also recreates it at once. A session ends only with {@link PeerSession.close} (the peer left).
 * - **The peer is untrusted.** What arrives through {@link PeerSession.receive} is parsed here
 *   (`parseNegotiationMessage`); a malformed payload is dropped and reported. Its `restart: true` is honoured only
 *   while our connection is not `connected`, and at most once per `watchdogMs` (else a peer could make us build one
 *   RTCPeerConnection per message). A connection the browser refuses to create (e.g. Chromium's limit of 500) is a
 *   failed attempt: reported, retried by the watchdog, never thrown.
 * - **Failures are reported, never thrown**: every non-fatal failure (a malformed payload, a rejected candidate, a
 *   failed description or `setParameters`, a refused connection) goes to `onError` as a {@link Warning} with its code.
 * - **The data channel is text.** One negotiated channel per connection carries the caller's text both ways
 *   ({@link PeerSession.sendChannelText}, `onChannelText`); what the text means (and its limits) is the call layer's.
 *
 * The tracks and transceivers it negotiates (and their bandwidth caps) are kept by `transceivers.ts`; what the data
 * channel's text means is the call layer's (`call/peer-channel.ts`). What stays here is one state machine over one
 * RTCPeerConnection and its generation (perfect negotiation, held candidates, the watchdog's escalation): every step
 * reads and writes the same `#pc`/`#gen`/`#makingOffer` fields, so it stays one file (about 400 lines of code; the
 * rest is the rules above and the option docs).
 *
 * @module
 */
import type { Warning } from '../errors.js';
import {
  DATA_CHANNEL,
  parseNegotiationMessage,
  type IceCandidate,
  type NegotiationMessage,
  type TrackKind,
} from '../protocol/negotiation.js';
import type { SignalData } from '../protocol/relay.js';
import type { EncodingCaps } from './bandwidth.js';
import { Transceivers } from './transceivers.js';

/**
 * Coarse state of the session, for the UI: `connecting` until first connected; `connected`; `reconnecting` while a
 * connection that was up is disconnected or being restarted; `failed` when quick recovery gave up (slow retries go
 * on, and the session returns to `connected` if one succeeds); `closed` after {@link PeerSession.close}.
 */
export type PeerSessionState = 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'closed';

export interface PeerSessionOptions {
  /** The remote peer's ID (for logs and errors only). */
  peerId: string;
  /** True when this side makes the first offer (the newcomer). */
  initiator: boolean;
  /** Polite side of perfect negotiation: rolls back its own offer on glare. Default: `initiator`. */
  polite?: boolean;
  /** ICE servers for the RTCPeerConnection (W3C WebRTC RTCConfiguration.iceServers). */
  iceServers: RTCIceServer[];
  /** Restricts ICE candidates, e.g. `'relay'` for TURN only. Default `'all'`. */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /**
   * Delivers a negotiation message (the relay's opaque `signal.data`, see `protocol/negotiation.ts`) to the
   * counterpart session, whose {@link PeerSession.receive} takes it. Must not throw.
   */
  send: (data: SignalData) => void;
  /** Local tracks to send from the start, by kind. */
  tracks?: Partial<Record<TrackKind, MediaStreamTrack | null>>;
  /**
   * How long a connection may make no progress (not yet connected, or `disconnected`/`failed`) before it is
   * recreated, in ms; also the grace period of a transient `disconnected`. Default 10000.
   */
  watchdogMs?: number;
  /** How many times in a row the watchdog may recreate the connection before the session is `failed`. Default 3. */
  maxRestarts?: number;
  /** Once `failed`, how often the connection is recreated again (slow retry), in ms. Default 15000. */
  retryMs?: number;
  /**
   * The caps for the sender of `kind` now sending `track` (see `bandwidth.ts`), or undefined to leave it alone.
   * Asked after every completed negotiation, after {@link PeerSession.setTrack} and on
   * {@link PeerSession.applyEncodingCaps}.
   */
  encodingCaps?: (kind: TrackKind, track: MediaStreamTrack | null) => EncodingCaps | undefined;
  /** Called when the set of remote tracks changes; `tracks` maps kind → live remote track. */
  onRemoteTracks?: (tracks: ReadonlyMap<TrackKind, MediaStreamTrack>) => void;
  /** Called on every {@link PeerSessionState} change. */
  onStateChange?: (state: PeerSessionState) => void;
  /**
   * Called with every text message from the peer's data channel, unparsed (binary messages are dropped and reported
   * as `bad-peer-message`).
   */
  onChannelText?: (text: string) => void;
  /** Called each time the data channel opens (also after the connection was recreated). */
  onChannelOpen?: () => void;
  /**
   * Called for every failure that does not end the session, with its code: `bad-signal` (a malformed payload, dropped),
   * `bad-peer-message` (a binary data channel message), `negotiation-failed` (setLocalDescription or
   * setRemoteDescription rejected), `candidate-rejected` (addIceCandidate rejected), `encoding-failed`
   * (setParameters rejected), `connection-refused` (the browser would not create the RTCPeerConnection). Must not
   * throw.
   */
  onError?: (warning: Warning) => void;
}

/** Most data channel messages held while the channel is not open. */
const MAX_OUTBOX = 100;

/** Most candidates held while waiting for a remote description. */
const MAX_PENDING_CANDIDATES = 200;

/** Defaults of {@link PeerSessionOptions}: `watchdogMs`, `maxRestarts`, `retryMs`. */
export const SESSION_DEFAULTS = { watchdogMs: 10_000, maxRestarts: 3, retryMs: 15_000 } as const;

/** One peer connection with perfect negotiation. See the module comment for the rules. */
export class PeerSession {
  readonly peerId: string;
  readonly initiator: boolean;
  readonly polite: boolean;
  #options: PeerSessionOptions;
  #pc: RTCPeerConnection | undefined;
  #gen = 0;
  #state: PeerSessionState = 'connecting';
  #restarts = 0;
  /** Whether any connection of this session was ever `connected` (`reconnecting` rather than `connecting`). */
  #wasConnected = false;
  #makingOffer = false;
  #ignoreOffer = false;
  /** Candidates that arrived before the remote description they belong to, with their generation. */
  #pendingCandidates: Array<{ gen: number; candidate: IceCandidate }> = [];
  /** Serializes incoming messages: each is fully applied before the next (descriptions are async). */
  #inbox: Promise<void> = Promise.resolve();
  /** What we send and receive on which transceiver. */
  #tracks: Transceivers;
  #watchdog: ReturnType<typeof setTimeout> | undefined;
  /** Runs while the connection is in `have-local-offer` (see {@link PeerSession.#reoffer}). */
  #offerTimer: ReturnType<typeof setTimeout> | undefined;
  #channel: RTCDataChannel | undefined;
  /**
   * Whether the peer has sent anything on the current channel. A negotiated channel opens on our side even when the
   * peer never created its own (a peer written from the docs may leave the channel out), so only a message from it
   * proves it reads the channel.
   */
  #heard = false;
  #outbox: string[] = [];
  /** Serializes setParameters calls (a second one before the first settles is refused by the browser). */
  #capsQueue: Promise<void> = Promise.resolve();
  /** When the peer's last honoured `restart: true` was (performance.now(), ms). */
  #peerRestartAt = -Infinity;
  /** When the peer's last honoured `restart: 'ice'` was (performance.now(), ms). */
  #peerIceRestartAt = -Infinity;

  constructor(options: PeerSessionOptions) {
    this.#options = options;
    this.peerId = options.peerId;
    this.initiator = options.initiator;
    this.polite = options.polite ?? options.initiator;
    // Caps travel with the first description (transceivers.ts): no setParameters at `stable` on the setup path.
    this.#tracks = new Transceivers(options.onRemoteTracks, (kind, track) => this.#options.encodingCaps?.(kind, track));
    for (const [kind, track] of Object.entries(options.tracks ?? {})) this.#tracks.local.set(kind as TrackKind, track);
    if (this.initiator) this.#createConnection(0);
    this.#armWatchdog();
  }

  /** Current state. */
  get state(): PeerSessionState {
    return this.#state;
  }

  /**
   * Connection generation: raised each time the connection is recreated.
   * @internal For tests.
   */
  get generation(): number {
    return this.#gen;
  }

  /**
   * The connection's signaling state (`stable` when no offer/answer exchange is under way), or undefined.
   * @internal For tests.
   */
  get signalingState(): RTCSignalingState | undefined {
    return this.#pc?.signalingState;
  }

  /**
   * Whether the connection is `connected` with its data channel open and the peer heard on it: negotiation messages
   * may then travel on the channel (the call layer's choice) rather than through the relay.
   */
  get direct(): boolean {
    return this.#heard && this.#channel?.readyState === 'open' && this.#pc?.connectionState === 'connected';
  }

  /**
   * Uses `iceServers` (e.g. fresh TURN credentials) from now on: for the connection as it is
   * (`RTCPeerConnection.setConfiguration`, used by its next ICE restart) and for any recreated one. A browser that
   * refuses reports `negotiation-failed`; the next recreation uses them anyway.
   */
  setIceServers(iceServers: RTCIceServer[]): void {
    this.#options = { ...this.#options, iceServers };
    try {
      this.#pc?.setConfiguration({ ...this.#pc.getConfiguration(), iceServers });
    } catch (cause) {
      this.#warn('negotiation-failed', 'setConfiguration', cause);
    }
  }

  /** The live remote tracks by kind. */
  get remoteTracks(): ReadonlyMap<TrackKind, MediaStreamTrack> {
    return this.#tracks.remoteTracks;
  }

  /** The underlying connection's statistics (W3C WebRTC Statistics), or undefined before it exists. */
  async getStats(): Promise<RTCStatsReport | undefined> {
    return this.#pc?.getStats();
  }

  /** The underlying connection's receivers (W3C WebRTC §5.3; e.g. their levels), none before it exists. */
  get receivers(): RTCRtpReceiver[] {
    return this.#pc?.getReceivers() ?? [];
  }

  /**
   * Sends `track` as `kind` (or stops sending it with `null`). Camera and microphone swaps use `replaceTrack` and need
   * no renegotiation; a kind not sent before (e.g. the first `screen`) adds a transceiver and renegotiates.
   */
  async setTrack(kind: TrackKind, track: MediaStreamTrack | null): Promise<void> {
    this.#tracks.local.set(kind, track);
    const pc = this.#pc;
    if (!pc) return; // applied when the connection is created
    const transceiver = this.#tracks.senderFor(pc, kind, track !== null);
    if (!transceiver) return;
    await transceiver.sender.replaceTrack(track);
    const direction = track ? 'sendrecv' : kind === 'screen' ? 'recvonly' : transceiver.direction;
    if (transceiver.direction !== direction) transceiver.direction = direction; // fires negotiationneeded
    void this.applyEncodingCaps(); // another source may need another scale
  }

  /**
   * Applies {@link PeerSessionOptions.encodingCaps} to every video sender (`RTCRtpSender.setParameters`, first
   * encoding). Senders not negotiated yet (no encodings) are skipped, and so is everything while an offer/answer
   * exchange is under way; they get their caps once negotiation completes (`stable`).
   * Failures go to `onError` (`encoding-failed`); never rejects.
   */
  applyEncodingCaps(): Promise<void> {
    const pc = this.#pc;
    const job = this.#capsQueue
      .then(async () => {
        if (!pc || this.#pc !== pc || pc.connectionState === 'closed') return;
        // Not while an offer/answer exchange is under way: Chromium rejects setParameters then (a vc-warning
        // encoding-failed in 4 of 10 bench calls once the first offer was made at once); applied again at `stable`.
        if (this.#makingOffer || pc.signalingState !== 'stable') return;
        await this.#tracks.applyCaps((kind, track) => this.#options.encodingCaps?.(kind, track));
      })
      .catch((cause: unknown) => this.#warn('encoding-failed', 'setParameters', cause));
    this.#capsQueue = job;
    return job;
  }

  /** The send parameters (W3C WebRTC `RTCRtpSendParameters`) of each sender, by kind; empty before a connection. */
  sendParameters(): Map<TrackKind, RTCRtpSendParameters> {
    return this.#tracks.sendParameters();
  }

  /**
   * Sends `text` on the data channel. Text sent before the channel is open waits in an outbox (at most
   * {@link MAX_OUTBOX} messages, then the oldest are dropped) and goes out, in order, when it opens.
   */
  sendChannelText(text: string): void {
    if (this.#channel?.readyState === 'open') {
      this.#channel.send(text);
      return;
    }
    this.#outbox = [...this.#outbox, text].slice(-MAX_OUTBOX);
  }

  /**
   * Applies a negotiation message from the counterpart (the `data` of a relay `signal`, untrusted): parsed with
   * `parseNegotiationMessage`, then applied strictly in arrival order. A malformed one is dropped and reported to
   * `onError` (`bad-signal`). Never throws.
   */
  receive(data: SignalData): void {
    const parsed = parseNegotiationMessage(data);
    if (!parsed.ok) {
      this.#warn('bad-signal', parsed.error.message, parsed.error);
      return;
    }
    this.#inbox = this.#inbox
      .then(() => this.#handle(parsed.value))
      .catch((cause: unknown) => this.#warn('negotiation-failed', 'setRemoteDescription/setLocalDescription', cause));
  }

  /** Closes the connection and stops the watchdog. Remote tracks end. Idempotent. */
  close(): void {
    this.#clearWatchdog();
    clearTimeout(this.#offerTimer);
    this.#pc?.close();
    this.#pc = undefined;
    this.#tracks.setRemoteTracks(new Map());
    this.#setState('closed');
  }

  // ---- connection lifecycle ----

  /**
   * Replaces the connection with a new one of generation `gen`. When the browser refuses to create it, reports that to
   * `onError` and returns undefined (no connection until the watchdog's next attempt).
   */
  #createConnection(gen: number): RTCPeerConnection | undefined {
    clearTimeout(this.#offerTimer);
    this.#pc?.close();
    this.#pc = undefined;
    this.#gen = gen;
    this.#makingOffer = false;
    this.#ignoreOffer = false;
    this.#pendingCandidates = this.#pendingCandidates.filter((p) => p.gen >= gen);
    this.#tracks.reset();
    let pc: RTCPeerConnection;
    try {
      pc = new RTCPeerConnection({
        iceServers: this.#options.iceServers,
        iceTransportPolicy: this.#options.iceTransportPolicy ?? 'all',
        // One ICE transport for everything (RFC 8843 BUNDLE): fewer candidates to gather and check than 'balanced'.
        bundlePolicy: 'max-bundle',
      });
    } catch (cause) {
      // e.g. "Cannot create so many PeerConnections": a failed attempt
      this.#warn('connection-refused', 'new RTCPeerConnection', cause);
      return undefined;
    }
    this.#pc = pc;
    const current = () => this.#pc === pc;

    // Not while an offer is being made or answered: the browser fires it again on the way back to `stable` if still
    // needed (W3C WebRTC §4.7.3, "update the negotiation-needed flag"), so this only skips duplicate offers.
    pc.onnegotiationneeded = () => !this.#makingOffer && pc.signalingState === 'stable' && this.#offer(pc);
    pc.onicecandidate = ({ candidate }) => {
      if (current() && candidate?.candidate) this.#send({ candidate: candidate.toJSON() as IceCandidate });
    };
    pc.ontrack = () => current() && this.#tracks.refreshRemote(pc);
    pc.onsignalingstatechange = () => {
      if (!current()) return;
      clearTimeout(this.#offerTimer);
      // An offer nobody answers (lost on the way, whatever the connection state): roll back and offer again.
      if (pc.signalingState === 'have-local-offer') {
        this.#offerTimer = setTimeout(
          () => void this.#reoffer(pc),
          this.#options.watchdogMs ?? SESSION_DEFAULTS.watchdogMs,
        );
      }
      if (pc.signalingState !== 'stable') return;
      this.#tracks.refreshRemote(pc);
      void this.applyEncodingCaps(); // a negotiation completed: new senders have encodings now
    };
    pc.onconnectionstatechange = () => current() && this.#onConnectionState(pc);

    // Negotiated (both sides create it with the same id): it rides on the first offer, no extra round trip.
    const channel = pc.createDataChannel(DATA_CHANNEL.label, { negotiated: true, id: DATA_CHANNEL.id });
    this.#channel = channel;
    this.#heard = false;
    channel.onopen = () => {
      if (!current()) return;
      const outbox = this.#outbox;
      this.#outbox = [];
      for (const text of outbox) channel.send(text);
      this.#options.onChannelOpen?.();
    };
    channel.onmessage = ({ data }: MessageEvent) => {
      if (!current()) return;
      this.#heard = true;
      if (typeof data === 'string') this.#options.onChannelText?.(data);
      else this.#warn('bad-peer-message', 'binary message');
    };

    if (this.initiator) {
      // The initiator fixes the transceiver layout and makes the first offer (tracks and data channel in one) at once,
      // not a task later on `negotiationneeded`: it knows it offers (JSEP, RFC 8829 §5.2: an offer may be made in
      // `stable` at any time), and the event, queued behind the page's other work, cost 10-80 ms of setup.
      for (const kind of ['audio', 'video'] as const) this.#tracks.senderFor(pc, kind, true);
      const screen = this.#tracks.local.get('screen');
      if (screen) this.#tracks.senderFor(pc, 'screen', true);
      void this.#offer(pc);
    }
    return pc;
  }

  /** Makes and sends an offer on `pc` (negotiationneeded, or again after a rollback). */
  async #offer(pc: RTCPeerConnection): Promise<void> {
    if (this.#pc !== pc) return;
    try {
      this.#makingOffer = true;
      await pc.setLocalDescription();
      if (this.#pc === pc && pc.localDescription) this.#sendDescription(pc, pc.localDescription);
    } catch (cause) {
      if (this.#pc === pc) this.#warn('negotiation-failed', 'setLocalDescription', cause);
    } finally {
      this.#makingOffer = false;
    }
  }

  /** The offer timer: `pc` stayed in `have-local-offer` for `watchdogMs`; rolls it back and offers again. */
  async #reoffer(pc: RTCPeerConnection): Promise<void> {
    if (this.#pc !== pc || pc.signalingState !== 'have-local-offer') return;
    this.#warn('negotiation-failed', 'no answer: rollback');
    try {
      await pc.setLocalDescription({ type: 'rollback' });
    } catch (cause) {
      this.#warn('negotiation-failed', 'rollback', cause);
      return;
    }
    await this.#offer(pc);
  }

  /**
   * Recreates the connection with a higher generation (initiator) or asks the initiator to (the other side). Past
   * `maxRestarts` in a row the session is `failed` and this goes on every `retryMs` (see the module comment).
   */
  #restart(): void {
    if (this.#state === 'closed') return;
    this.#restarts += 1;
    this.#setState(this.#troubleState());
    if (this.initiator) this.#createConnection(this.#gen + 1);
    else this.#send({ restart: true });
    this.#armWatchdog();
  }

  /** What the session reports while its connection is not up. */
  #troubleState(): PeerSessionState {
    if (this.#restarts > (this.#options.maxRestarts ?? SESSION_DEFAULTS.maxRestarts)) return 'failed';
    return this.#wasConnected ? 'reconnecting' : 'connecting';
  }

  #onConnectionState(pc: RTCPeerConnection): void {
    switch (pc.connectionState) {
      case 'connected':
        this.#clearWatchdog();
        this.#restarts = 0;
        this.#wasConnected = true;
        this.#setState('connected');
        break;
      case 'failed':
        // An ICE restart is cheap and keeps the connection; the watchdog (already running since `disconnected`, or
        // since the connection was made) recreates the connection if it does not help.
        this.#iceRestart(pc);
        this.#setState(this.#troubleState());
        if (this.#watchdog === undefined) this.#armWatchdog();
        break;
      case 'disconnected':
        // Often transient (a lost packet burst): the grace period of the watchdog before acting.
        this.#setState(this.#troubleState());
        if (this.#watchdog === undefined) this.#armWatchdog();
        break;
      default:
        break;
    }
  }

  /** ICE restart: the initiator offers one (`restartIce()`, fires negotiationneeded); the other side asks for it. */
  #iceRestart(pc: RTCPeerConnection): void {
    if (this.initiator) pc.restartIce();
    else this.#send({ restart: 'ice' });
  }

  /** (Re)starts the watchdog: `watchdogMs`, or `retryMs` once the session is `failed`. */
  #armWatchdog(): void {
    this.#clearWatchdog();
    const ms =
      this.#state === 'failed'
        ? (this.#options.retryMs ?? SESSION_DEFAULTS.retryMs)
        : (this.#options.watchdogMs ?? SESSION_DEFAULTS.watchdogMs);
    this.#watchdog = setTimeout(() => {
      this.#watchdog = undefined;
      this.#restart();
    }, ms);
  }

  #clearWatchdog(): void {
    if (this.#watchdog !== undefined) clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
  }

  // ---- incoming messages ----

  async #handle(message: NegotiationMessage): Promise<void> {
    if (this.#state === 'closed' || message.gen < this.#gen) return; // stale: from a connection already replaced
    if (message.restart) {
      if (!this.initiator || message.gen !== this.#gen) return;
      // Each honoured at most once per watchdogMs: an ICE restart costs both sides new candidates (and TURN
      // allocations), a restart a new RTCPeerConnection; a peer that asks again sooner is ignored.
      const now = performance.now();
      const period = this.#options.watchdogMs ?? SESSION_DEFAULTS.watchdogMs;
      if (message.restart === 'ice' && this.#pc) {
        if (now - this.#peerIceRestartAt < period) return;
        this.#peerIceRestartAt = now;
        this.#iceRestart(this.#pc);
      } else if (message.restart === true && this.#pc?.connectionState !== 'connected') {
        if (now - this.#peerRestartAt < period) return;
        this.#peerRestartAt = now;
        this.#restart();
      }
      return;
    }
    const newer = message.gen > this.#gen;
    if (newer || !this.#pc) {
      // Only the initiator starts a generation, and only with an offer. Candidates may overtake that offer: hold them.
      if (!this.initiator && message.candidate) this.#holdCandidate(message.gen, message.candidate);
      if (this.initiator || message.description?.type !== 'offer') return;
      this.#createConnection(message.gen);
      this.#armWatchdog();
    }
    const pc = this.#pc;
    if (!pc) return; // the browser refused to create it (reported); the watchdog tries again

    if (message.description) {
      const description = message.description;
      const offerCollision = description.type === 'offer' && (this.#makingOffer || pc.signalingState !== 'stable');
      this.#ignoreOffer = !this.polite && offerCollision;
      if (this.#ignoreOffer) return;
      this.#tracks.remoteMedia = new Map(Object.entries(message.media ?? {}));
      await pc.setRemoteDescription(description); // rolls back our own offer implicitly on the polite side
      await this.#flushCandidates(pc);
      if (description.type === 'offer') {
        this.#tracks.attachLocal(pc);
        await pc.setLocalDescription();
        if (pc.localDescription) this.#sendDescription(pc, pc.localDescription);
        // A kind the offer had no transceiver for (our screen share, started before this connection existed) needs a
        // transceiver of its own; adding it renegotiates through onnegotiationneeded.
        for (const [kind, track] of this.#tracks.local) {
          if (track && !this.#tracks.senders.has(kind)) await this.setTrack(kind, track);
        }
      }
      this.#tracks.refreshRemote(pc);
    } else if (message.candidate) {
      if (!pc.remoteDescription) {
        this.#holdCandidate(message.gen, message.candidate);
        return;
      }
      try {
        await pc.addIceCandidate(message.candidate);
      } catch (cause) {
        // Candidates of an offer we ignored are expected to fail.
        if (!this.#ignoreOffer) this.#warn('candidate-rejected', 'addIceCandidate', cause);
      }
    }
  }

  async #flushCandidates(pc: RTCPeerConnection): Promise<void> {
    const gen = this.#gen;
    const due = this.#pendingCandidates.filter((p) => p.gen === gen);
    this.#pendingCandidates = this.#pendingCandidates.filter((p) => p.gen > gen);
    for (const { candidate } of due) {
      await pc
        .addIceCandidate(candidate)
        .catch((cause: unknown) => this.#warn('candidate-rejected', 'addIceCandidate', cause));
    }
  }

  #holdCandidate(gen: number, candidate: IceCandidate): void {
    // Bounded: a peer that floods candidates without ever sending a description must not grow memory without end.
    if (this.#pendingCandidates.length < MAX_PENDING_CANDIDATES) this.#pendingCandidates.push({ gen, candidate });
  }

  // ---- output ----

  #sendDescription(pc: RTCPeerConnection, description: RTCSessionDescription): void {
    const media = this.#tracks.media(pc);
    this.#send({ description: { type: description.type as 'offer' | 'answer', sdp: description.sdp }, media });
  }

  #setState(state: PeerSessionState): void {
    if (this.#state === state || this.#state === 'closed') return;
    this.#state = state;
    this.#options.onStateChange?.(state);
  }

  #send(message: Omit<NegotiationMessage, 'gen'>): void {
    this.#options.send({ gen: this.#gen, ...message });
  }

  /** Reports a failure the session survives to `onError`. */
  #warn(code: Warning['code'], message: string, cause?: unknown): void {
    this.#options.onError?.({ code, message, cause });
  }
}
