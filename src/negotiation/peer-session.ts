/**
 * One RTCPeerConnection to one remote peer, negotiated with "perfect negotiation" (W3C WebRTC §10 example, MDN
 * "Perfect negotiation"): the same code runs on both sides; the only way out is the `send` function and the only way in
 * is {@link PeerSession.receive}. No DOM, no WebSocket.
 *
 * Rules this session follows, and why:
 * - **At (re)start only the initiator offers.** Both sides offering at once while the connection is being set up was
 *   measured to wedge Chromium 156 in about one call in three, so the other side creates its RTCPeerConnection only
 *   when the first offer arrives. The initiator makes that offer as soon as its connection exists (not on
 *   `negotiationneeded`, a task later), with the transceivers and the data channel in it: one round trip. Later
 *   renegotiations (a screen share, a track added) may come from either side at any moment; perfect negotiation
 *   resolves their glare (the polite side rolls back, the impolite one ignores).
 * - **Fixed transceivers.** The initiator creates one audio and one video transceiver (`recvonly` when it has no such
 *   track), so a visitor without camera still receives. Every description carries `media` (mid → {@link TrackKind}
 *   of what the sender sends on that mid) so the far side can tell a camera from a screen.
 * - **Bandwidth caps.** Each video sender gets the caps `encodingCaps` returns: in the first description, then after
 *   each negotiation, track change and {@link PeerSession.applyEncodingCaps} (`session-caps.ts`).
 * - **Trickle ICE** with candidates held until the remote description is set (`held-candidates.ts`).
 * - **ICE faults, in escalating steps** (`watchdog.ts`, whose module comment has the rules): wait out a transient
 *   `disconnected`; ICE restart on `failed`; the watchdog recreates a connection making no progress for `watchdogMs`
 *   (a description applied is progress); past `maxRestarts` the session is `failed` but retries every `retryMs`.
 *   An offer unanswered for `watchdogMs` is sent again as it is (not rolled back: see `Watchdog.armOffer`).
 * - **The peer is untrusted.** What arrives through {@link PeerSession.receive} is parsed here
 *   (`parseNegotiationMessage`); a malformed payload is dropped and reported. Its `restart: true` is honoured only
 *   while our connection is not `connected`, and at most once per `watchdogMs` (else a peer could make us build one
 *   RTCPeerConnection per message). A connection the browser refuses to create (e.g. Chromium's limit of 500) is a
 *   failed attempt: reported, retried by the watchdog, never thrown.
 * - **Failures are reported, never thrown**: every non-fatal failure (a malformed payload, a rejected candidate, a
 *   failed description or `setParameters`, a refused connection) goes to `onError` as a {@link Warning} with its code.
 *
 * Its parts: `transceivers.ts` (the tracks and transceivers it negotiates, their caps), `session-caps.ts` (when caps
 * are set), `watchdog.ts` (the escalation, the offer timer), `held-candidates.ts`, `session-channel.ts` (one
 * negotiated data channel per connection). Here: one state machine over one RTCPeerConnection and its generation.
 *
 * @module
 */
import type { Warning } from '../errors.js';
import {
  parseNegotiationMessage,
  type IceCandidate,
  type NegotiationMessage,
  type TrackKind,
} from '../protocol/negotiation.js';
import type { SignalData } from '../protocol/relay.js';
import { flush, hold, type HeldCandidates } from './held-candidates.js';
import { capsQueue } from './session-caps.js';
import { SessionChannel } from './session-channel.js';
import { SESSION_DEFAULTS, type PeerSessionOptions, type PeerSessionState } from './session-options.js';
import { Transceivers, type CapsFor } from './transceivers.js';
import { Watchdog } from './watchdog.js';

export { SESSION_DEFAULTS, type PeerSessionOptions, type PeerSessionState };

/** One peer connection with perfect negotiation. See the module comment for the rules. */
export class PeerSession {
  readonly peerId: string;
  readonly initiator: boolean;
  readonly polite: boolean;
  #options: PeerSessionOptions;
  #pc: RTCPeerConnection | undefined;
  #gen = 0;
  #state: PeerSessionState = 'connecting';
  /** Whether any connection of this session was ever `connected` (`reconnecting` rather than `connecting`). */
  #wasConnected = false;
  #makingOffer = false;
  #ignoreOffer = false;
  /** Candidates ahead of their remote description. */
  #held: HeldCandidates = [];
  /** Serializes incoming messages: each is fully applied before the next (descriptions are async). */
  #inbox: Promise<void> = Promise.resolve();
  /** What we send and receive on which transceiver. */
  #tracks: Transceivers;
  #watchdog: Watchdog;
  #channel: SessionChannel;
  /** When caps are set (session-caps.ts). */
  #caps: () => Promise<void>;

  constructor(options: PeerSessionOptions) {
    this.#options = options;
    this.peerId = options.peerId;
    this.initiator = options.initiator;
    this.polite = options.polite ?? options.initiator;
    const capsFor: CapsFor = (kind, track) => this.#options.encodingCaps?.(kind, track);
    this.#tracks = new Transceivers(options.onRemoteTracks, capsFor);
    for (const [kind, track] of Object.entries(options.tracks ?? {})) this.#tracks.local.set(kind as TrackKind, track);
    this.#watchdog = new Watchdog(options, () => this.#restart());
    this.#channel = new SessionChannel(options, () => this.#warn('bad-peer-message', 'binary message'));
    // Not while an offer/answer exchange is under way (Chromium rejects setParameters then): applied at `stable`.
    const busy = (pc = this.#pc) =>
      !pc || pc.connectionState === 'closed' || this.#makingOffer || pc.signalingState !== 'stable';
    const fail = (cause: unknown) => this.#warn('encoding-failed', 'setParameters', cause);
    this.#caps = capsQueue(() => this.#tracks.applyCaps(capsFor), busy, fail);
    if (this.initiator) this.#createConnection(0);
    this.#watchdog.arm();
  }

  /** Current state. */
  get state(): PeerSessionState {
    return this.#state;
  }

  /** Connection generation: raised each time the connection is recreated. @internal For tests. */
  get generation(): number {
    return this.#gen;
  }

  /** The connection's signaling state (`stable`: no offer/answer under way), or undefined. @internal For tests. */
  get signalingState(): RTCSignalingState | undefined {
    return this.#pc?.signalingState;
  }

  /**
   * Whether the connection is `connected` with its data channel open and the peer heard on it: negotiation messages
   * may then travel on the channel (the call layer's choice) rather than through the relay.
   */
  get direct(): boolean {
    return this.#channel.heard && this.#pc?.connectionState === 'connected';
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
   * Applies {@link PeerSessionOptions.encodingCaps} to every video sender whose caps changed (`setParameters`, first
   * encoding): not while an offer/answer exchange is under way (at `stable` then; `session-caps.ts`). Failures go to `onError` (`encoding-failed`); never rejects.
   */
  applyEncodingCaps(): Promise<void> {
    return this.#caps();
  }

  /** The send parameters (W3C WebRTC `RTCRtpSendParameters`) of each sender, by kind; empty before a connection. */
  sendParameters(): Map<TrackKind, RTCRtpSendParameters> {
    return this.#tracks.sendParameters();
  }

  /** Sends `text` on the data channel, or, until it opens, holds it in order (the last 100 messages). */
  sendChannelText(text: string): void {
    this.#channel.send(text);
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
    this.#watchdog.clear();
    this.#watchdog.armOffer(() => false);
    this.#pc?.close();
    this.#pc = undefined;
    this.#tracks.setRemoteTracks(new Map());
    this.#setState('closed');
  }

  /**
   * Replaces the connection with a new one of generation `gen`. When the browser refuses to create it, reports that to
   * `onError` and returns undefined (no connection until the watchdog's next attempt).
   */
  #createConnection(gen: number): RTCPeerConnection | undefined {
    this.#watchdog.armOffer(() => false);
    this.#pc?.close();
    this.#pc = undefined;
    this.#gen = gen;
    this.#makingOffer = false;
    this.#ignoreOffer = false;
    this.#held = this.#held.filter((p) => p.gen >= gen);
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
      this.#watchdog.progress(); // a description applied
      this.#armOfferTimer(pc);
      if (pc.signalingState !== 'stable') return;
      this.#tracks.refreshRemote(pc);
      void this.applyEncodingCaps(); // a negotiation completed: new senders have encodings now
    };
    pc.onconnectionstatechange = () => current() && this.#onConnectionState(pc);

    this.#channel.open(pc, current);

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

  /** Makes and sends an offer on `pc` (negotiationneeded, or the initiator's first). */
  async #offer(pc: RTCPeerConnection): Promise<void> {
    if (this.#pc !== pc) return;
    try {
      this.#makingOffer = true;
      await pc.setLocalDescription();
      if (this.#pc === pc && pc.localDescription) this.#sendDescription(pc, pc.localDescription);
    } catch (cause) {
      if (this.#pc === pc) this.#warn('negotiation-failed', 'setLocalDescription', cause);
    } finally {
      if (this.#pc === pc) this.#makingOffer = false;
    }
  }

  /** The offer timer (`Watchdog.armOffer`): `pc`'s offer, unanswered for `watchdogMs`, sent again as it is. */
  #armOfferTimer(pc: RTCPeerConnection): void {
    const out = () => this.#pc === pc && pc.signalingState === 'have-local-offer' && pc.localDescription !== null;
    this.#watchdog.armOffer(out, () => {
      this.#warn('negotiation-failed', 'no answer: offer sent again');
      this.#sendDescription(pc, pc.localDescription!);
    });
  }

  /**
   * Recreates the connection with a higher generation (initiator) or asks the initiator to (the other side). Past
   * `maxRestarts` in a row the session is `failed` and this goes on every `retryMs` (see the module comment).
   */
  #restart(): void {
    if (this.#state === 'closed') return;
    this.#watchdog.restarts += 1;
    this.#setState(this.#troubleState());
    if (this.initiator) this.#createConnection(this.#gen + 1);
    else this.#send({ restart: true });
    this.#watchdog.arm();
  }

  /** What the session reports while its connection is not up. */
  #troubleState(): PeerSessionState {
    if (this.#watchdog.failed) return 'failed';
    return this.#wasConnected ? 'reconnecting' : 'connecting';
  }

  #onConnectionState(pc: RTCPeerConnection): void {
    switch (pc.connectionState) {
      case 'connected':
        this.#watchdog.clear();
        this.#watchdog.restarts = 0;
        this.#wasConnected = true;
        this.#setState('connected');
        break;
      case 'failed':
      case 'disconnected':
        // `disconnected` is often transient (a lost packet burst): the watchdog's grace period before acting. On
        // `failed`, an ICE restart first: cheap, it keeps the connection; the watchdog (running since `disconnected`, or
        // since the connection was made) recreates the connection if it does not help.
        if (pc.connectionState === 'failed') this.#iceRestart(pc);
        this.#setState(this.#troubleState());
        if (!this.#watchdog.timer) this.#watchdog.arm();
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

  async #handle(message: NegotiationMessage): Promise<void> {
    if (this.#state === 'closed' || message.gen < this.#gen) return; // stale: from a connection already replaced
    if (message.restart) {
      if (!this.initiator || message.gen !== this.#gen) return;
      if (message.restart === 'ice' && this.#pc) {
        if (this.#watchdog.honour('ice')) this.#iceRestart(this.#pc);
      } else if (message.restart === true && this.#pc?.connectionState !== 'connected') {
        if (this.#watchdog.honour('connection')) this.#restart();
      }
      return;
    }
    const newer = message.gen > this.#gen;
    if (newer || !this.#pc) {
      // Only the initiator starts a generation, and only with an offer. Candidates may overtake that offer: hold them.
      if (!this.initiator && message.candidate) hold(this.#held, message.gen, message.candidate);
      if (this.initiator || message.description?.type !== 'offer') return;
      this.#createConnection(message.gen);
      this.#watchdog.arm();
      // The connection that was up is gone: say so until the new one is (not `connected` for an older generation).
      if (this.#state === 'connected') this.#setState('reconnecting');
    }
    const pc = this.#pc;
    if (!pc) return; // the browser refused to create it (reported); the watchdog tries again

    if (message.description) {
      const description = message.description;
      // An answer to an offer already answered (it was sent again, see #armOfferTimer): nothing to apply.
      if (description.type === 'answer' && pc.signalingState !== 'have-local-offer') return;
      const offerCollision = description.type === 'offer' && (this.#makingOffer || pc.signalingState !== 'stable');
      this.#ignoreOffer = !this.polite && offerCollision;
      if (this.#ignoreOffer) return;
      this.#tracks.remoteMedia = new Map(Object.entries(message.media ?? {}));
      await pc.setRemoteDescription(description); // rolls back our own offer implicitly on the polite side
      await flush(this.#held, pc, this.#gen, (cause) => this.#warn('candidate-rejected', 'addIceCandidate', cause));
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
      if (!pc.remoteDescription) return hold(this.#held, message.gen, message.candidate);
      try {
        await pc.addIceCandidate(message.candidate);
      } catch (cause) {
        // Candidates of an offer we ignored are expected to fail.
        if (!this.#ignoreOffer) this.#warn('candidate-rejected', 'addIceCandidate', cause);
      }
    }
  }

  #sendDescription(pc: RTCPeerConnection, { type, sdp }: RTCSessionDescription): void {
    this.#send({ description: { type: type as 'offer' | 'answer', sdp }, media: this.#tracks.media(pc) });
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
