/**
 * One RTCPeerConnection to one remote peer, negotiated with "perfect negotiation" (W3C WebRTC §10 example, MDN
 * "Perfect negotiation"): the same code runs on both sides; the only way out is the `send` function and the only way in
 * is {@link PeerSession.receive}. No DOM, no WebSocket.
 *
 * Rules this session follows, and why:
 * - **At (re)start only the initiator offers.** Both sides offering at once while the connection is being set up was
 *   measured to wedge Chromium 156 in about one call in three, so the other side creates its RTCPeerConnection only
 *   when the first offer arrives. Later renegotiations (a screen share, a track added) may come from either side at
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
 *   4. After `maxRestarts` recreations in a row the session reports `failed` (the UI shows the peer as unreachable)
 *      but does not give up: it keeps recreating the connection every `retryMs`, so a peer that becomes reachable
 *      again (its network or TURN server back) reconnects by itself, within about `retryMs`. A `restart` request
 *      from the peer also recreates it at once. A session ends only with {@link PeerSession.close} (the peer left).
 * - **The peer is untrusted.** Its `restart: true` is honoured only while our connection is not `connected`, and at
 *   most once per `watchdogMs` (else a peer could make us build one RTCPeerConnection per message). A connection the
 *   browser refuses to create (e.g. Chromium's limit of 500) is a failed attempt: reported to `onError`, retried by
 *   the watchdog, never thrown. Data channel messages go through `parsePeerMessage` and a per-type receive limit
 *   ({@link PEER_RECEIVE_LIMIT}); messages beyond it are dropped and `onFlood` is called once per burst of drops.
 *
 * @module
 */
import { PEER_RECEIVE_LIMIT, parsePeerMessage, type PeerMessage } from '../protocol/data-channel.js';
import { DATA_CHANNEL, type IceCandidate, type NegotiationMessage, type TrackKind } from '../protocol/negotiation.js';
import type { EncodingCaps } from './bandwidth.js';

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
  /** Delivers a message to the counterpart session (through the relay). Must not throw. */
  send: (message: NegotiationMessage) => void;
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
  /** Called with every valid message from the peer's data channel (see `protocol/data-channel.ts`). */
  onPeerMessage?: (message: PeerMessage) => void;
  /** Called each time the data channel opens (also after the connection was recreated). */
  onChannelOpen?: () => void;
  /**
   * Called for errors that do not end the session (a failed renegotiation step, a bad message, a connection the
   * browser refused to create).
   */
  onError?: (error: unknown) => void;
  /**
   * Called when the peer's data channel messages of type `type` start being dropped by the receive limit
   * ({@link PEER_RECEIVE_LIMIT}): once per flood (again only after the peer kept within the limit long enough for
   * the bucket to refill, `burst / perSecond` s: 2 s).
   */
  onFlood?: (type: PeerMessage['type']) => void;
}

/** Most peer messages held while the data channel is not open. */
const MAX_OUTBOX = 100;

/** Most candidates held while waiting for a remote description. */
const MAX_PENDING_CANDIDATES = 200;

const MEDIA_KIND: Record<TrackKind, 'audio' | 'video'> = { audio: 'audio', video: 'video', screen: 'video' };

/** A token bucket of {@link PEER_RECEIVE_LIMIT} for one message type; `flooding` from a drop until it is full again. */
interface Bucket {
  tokens: number;
  /** performance.now() of the last refill, ms. */
  at: number;
  flooding: boolean;
}

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
  /** What we send, by kind; the transceiver that carries it. */
  #localTracks = new Map<TrackKind, MediaStreamTrack | null>();
  #senders = new Map<TrackKind, RTCRtpTransceiver>();
  /** What the far side sends on each mid, from its last description. */
  #remoteMedia = new Map<string, TrackKind>();
  #remoteTracks = new Map<TrackKind, MediaStreamTrack>();
  #watchdog: ReturnType<typeof setTimeout> | undefined;
  #channel: RTCDataChannel | undefined;
  #outbox: PeerMessage[] = [];
  /** Serializes setParameters calls (a second one before the first settles is refused by the browser). */
  #capsQueue: Promise<void> = Promise.resolve();
  /** When the peer's last honoured `restart: true` was (performance.now(), ms). */
  #peerRestartAt = -Infinity;
  /** Receive limit per message type (for the session, across connection generations). */
  #buckets = new Map<PeerMessage['type'], Bucket>();

  constructor(options: PeerSessionOptions) {
    this.#options = options;
    this.peerId = options.peerId;
    this.initiator = options.initiator;
    this.polite = options.polite ?? options.initiator;
    for (const [kind, track] of Object.entries(options.tracks ?? {})) this.#localTracks.set(kind as TrackKind, track);
    if (this.initiator) this.#createConnection(0);
    this.#armWatchdog();
  }

  /** Current state. */
  get state(): PeerSessionState {
    return this.#state;
  }

  /** Connection generation: raised each time the connection is recreated. */
  get generation(): number {
    return this.#gen;
  }

  /** The connection's signaling state (`stable` when no offer/answer exchange is under way), or undefined. */
  get signalingState(): RTCSignalingState | undefined {
    return this.#pc?.signalingState;
  }

  /** The live remote tracks by kind. */
  get remoteTracks(): ReadonlyMap<TrackKind, MediaStreamTrack> {
    return this.#remoteTracks;
  }

  /** The underlying connection's statistics (W3C WebRTC Statistics), or undefined before it exists. */
  async getStats(): Promise<RTCStatsReport | undefined> {
    return this.#pc?.getStats();
  }

  /**
   * Sends `track` as `kind` (or stops sending it with `null`). Camera and microphone swaps use `replaceTrack` and need
   * no renegotiation; a kind not sent before (e.g. the first `screen`) adds a transceiver and renegotiates.
   */
  async setTrack(kind: TrackKind, track: MediaStreamTrack | null): Promise<void> {
    this.#localTracks.set(kind, track);
    const pc = this.#pc;
    if (!pc) return; // applied when the connection is created
    const transceiver = this.#senderFor(pc, kind, track !== null);
    if (!transceiver) return;
    await transceiver.sender.replaceTrack(track);
    const direction = track ? 'sendrecv' : kind === 'screen' ? 'recvonly' : transceiver.direction;
    if (transceiver.direction !== direction) transceiver.direction = direction; // fires negotiationneeded
    void this.applyEncodingCaps(); // another source may need another scale
  }

  /**
   * Applies {@link PeerSessionOptions.encodingCaps} to every video sender (`RTCRtpSender.setParameters`, first
   * encoding). Senders not negotiated yet (no encodings) are skipped; they get their caps once negotiation completes.
   * Failures go to `onError`; never rejects.
   */
  applyEncodingCaps(): Promise<void> {
    const pc = this.#pc;
    const job = this.#capsQueue.then(async () => {
      if (!pc || this.#pc !== pc || pc.connectionState === 'closed') return;
      for (const [kind, transceiver] of this.#senders) {
        const caps = kind === 'audio' ? undefined : this.#options.encodingCaps?.(kind, transceiver.sender.track);
        if (!caps || transceiver.currentDirection === 'stopped') continue;
        const parameters = transceiver.sender.getParameters();
        const encoding = parameters.encodings?.[0];
        if (!encoding) continue;
        if (encoding.maxBitrate === caps.maxBitrate && encoding.maxFramerate === caps.maxFramerate &&
          (encoding.scaleResolutionDownBy ?? 1) === caps.scaleResolutionDownBy) continue;
        Object.assign(encoding, caps);
        await transceiver.sender.setParameters(parameters);
      }
    }).catch((error: unknown) => this.#options.onError?.(error));
    this.#capsQueue = job;
    return job;
  }

  /** The send parameters (W3C WebRTC `RTCRtpSendParameters`) of each sender, by kind; empty before a connection. */
  sendParameters(): Map<TrackKind, RTCRtpSendParameters> {
    return new Map([...this.#senders].map(([kind, t]) => [kind, t.sender.getParameters()]));
  }

  /**
   * Sends a message on the data channel. Messages sent before the channel is open wait in an outbox (at most
   * {@link MAX_OUTBOX} messages, then the oldest are dropped) and go out, in order, when it opens.
   */
  sendPeerMessage(message: PeerMessage): void {
    if (this.#channel?.readyState === 'open') {
      this.#channel.send(JSON.stringify(message));
      return;
    }
    this.#outbox = [...this.#outbox, message].slice(-MAX_OUTBOX);
  }

  /** Applies a message from the counterpart. Messages are applied strictly in arrival order. */
  receive(message: NegotiationMessage): void {
    this.#inbox = this.#inbox
      .then(() => this.#handle(message))
      .catch((error: unknown) => this.#options.onError?.(error));
  }

  /** Closes the connection and stops the watchdog. Remote tracks end. Idempotent. */
  close(): void {
    this.#clearWatchdog();
    this.#pc?.close();
    this.#pc = undefined;
    this.#setRemoteTracks(new Map());
    this.#setState('closed');
  }

  // ---- connection lifecycle ----

  /**
   * Replaces the connection with a new one of generation `gen`. When the browser refuses to create it, reports that to
   * `onError` and returns undefined (no connection until the watchdog's next attempt).
   */
  #createConnection(gen: number): RTCPeerConnection | undefined {
    this.#pc?.close();
    this.#pc = undefined;
    this.#gen = gen;
    this.#makingOffer = false;
    this.#ignoreOffer = false;
    this.#pendingCandidates = this.#pendingCandidates.filter((p) => p.gen >= gen);
    this.#senders.clear();
    this.#remoteMedia.clear();
    this.#setRemoteTracks(new Map());
    let pc: RTCPeerConnection;
    try {
      pc = new RTCPeerConnection({
        iceServers: this.#options.iceServers,
        iceTransportPolicy: this.#options.iceTransportPolicy ?? 'all',
        // One ICE transport for everything (RFC 8843 BUNDLE): fewer candidates to gather and check than 'balanced'.
        bundlePolicy: 'max-bundle',
      });
    } catch (error) {
      this.#options.onError?.(error); // e.g. "Cannot create so many PeerConnections": a failed attempt
      return undefined;
    }
    this.#pc = pc;
    const current = () => this.#pc === pc;

    pc.onnegotiationneeded = async () => {
      if (!current()) return;
      try {
        this.#makingOffer = true;
        await pc.setLocalDescription();
        if (current() && pc.localDescription) this.#sendDescription(pc, pc.localDescription);
      } catch (error) {
        if (current()) this.#options.onError?.(error);
      } finally {
        this.#makingOffer = false;
      }
    };
    pc.onicecandidate = ({ candidate }) => {
      if (current() && candidate?.candidate) this.#send({ candidate: candidate.toJSON() as IceCandidate });
    };
    pc.ontrack = () => current() && this.#refreshRemoteTracks(pc);
    pc.onsignalingstatechange = () => {
      if (!current() || pc.signalingState !== 'stable') return;
      this.#refreshRemoteTracks(pc);
      void this.applyEncodingCaps(); // a negotiation completed: new senders have encodings now
    };
    pc.onconnectionstatechange = () => current() && this.#onConnectionState(pc);

    // Negotiated (both sides create it with the same id): it rides on the first offer, no extra round trip.
    const channel = pc.createDataChannel(DATA_CHANNEL.label, { negotiated: true, id: DATA_CHANNEL.id });
    this.#channel = channel;
    channel.onopen = () => {
      if (!current()) return;
      const outbox = this.#outbox;
      this.#outbox = [];
      for (const message of outbox) channel.send(JSON.stringify(message));
      this.#options.onChannelOpen?.();
    };
    channel.onmessage = (event: MessageEvent) => {
      if (!current()) return;
      const parsed = parsePeerMessage(event.data);
      if (!parsed.ok) this.#options.onError?.(new Error(`bad message from peer ${this.peerId}: ${parsed.error.message}`));
      else if (this.#admit(parsed.value.type)) this.#options.onPeerMessage?.(parsed.value);
    };

    if (this.initiator) {
      // The initiator fixes the transceiver layout; adding them fires negotiationneeded → the first offer.
      for (const kind of ['audio', 'video'] as const) this.#senderFor(pc, kind, true);
      const screen = this.#localTracks.get('screen');
      if (screen) this.#senderFor(pc, 'screen', true);
    }
    return pc;
  }

  /** The receive limit: whether one more message of `type` may pass now; reports the first drop of a burst. */
  #admit(type: PeerMessage['type']): boolean {
    const now = performance.now();
    const { perSecond, burst } = PEER_RECEIVE_LIMIT;
    const bucket = this.#buckets.get(type) ?? { tokens: burst, at: now, flooding: false };
    this.#buckets.set(type, bucket);
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) * perSecond) / 1000);
    bucket.at = now;
    if (bucket.tokens === burst) bucket.flooding = false; // quiet long enough to refill: a new burst may be reported
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return true;
    }
    if (!bucket.flooding) this.#options.onFlood?.(type);
    bucket.flooding = true;
    return false;
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
    if (this.#restarts > (this.#options.maxRestarts ?? 3)) return 'failed';
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
    const ms = this.#state === 'failed' ? this.#options.retryMs ?? 15_000 : this.#options.watchdogMs ?? 10_000;
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
      if (message.restart === 'ice' && this.#pc) this.#iceRestart(this.#pc);
      else if (message.restart === true && this.#pc?.connectionState !== 'connected') {
        // At most once per watchdogMs: consecutive requests would each build a new RTCPeerConnection.
        const now = performance.now();
        if (now - this.#peerRestartAt < (this.#options.watchdogMs ?? 10_000)) return;
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
      this.#remoteMedia = new Map(Object.entries(message.media ?? {}));
      await pc.setRemoteDescription(description); // rolls back our own offer implicitly on the polite side
      await this.#flushCandidates(pc);
      if (description.type === 'offer') {
        this.#attachLocalTracks(pc);
        await pc.setLocalDescription();
        if (pc.localDescription) this.#sendDescription(pc, pc.localDescription);
        // A kind the offer had no transceiver for (our screen share, started before this connection existed) needs a
        // transceiver of its own; adding it renegotiates through onnegotiationneeded.
        for (const [kind, track] of this.#localTracks) {
          if (track && !this.#senders.has(kind)) await this.setTrack(kind, track);
        }
      }
      this.#refreshRemoteTracks(pc);
    } else if (message.candidate) {
      if (!pc.remoteDescription) {
        this.#holdCandidate(message.gen, message.candidate);
        return;
      }
      try {
        await pc.addIceCandidate(message.candidate);
      } catch (error) {
        if (!this.#ignoreOffer) throw error; // candidates of an offer we ignored are expected to fail
      }
    }
  }

  async #flushCandidates(pc: RTCPeerConnection): Promise<void> {
    const gen = this.#gen;
    const due = this.#pendingCandidates.filter((p) => p.gen === gen);
    this.#pendingCandidates = this.#pendingCandidates.filter((p) => p.gen > gen);
    for (const { candidate } of due) {
      await pc.addIceCandidate(candidate).catch((error: unknown) => this.#options.onError?.(error));
    }
  }

  #holdCandidate(gen: number, candidate: IceCandidate): void {
    // Bounded: a peer that floods candidates without ever sending a description must not grow memory without end.
    if (this.#pendingCandidates.length < MAX_PENDING_CANDIDATES) this.#pendingCandidates.push({ gen, candidate });
  }

  // ---- tracks and transceivers ----

  /**
   * The transceiver that sends `kind`: the one already used for it, else one the far side offered for the same kind
   * that we do not use yet, else (when `create`) a new one.
   */
  #senderFor(pc: RTCPeerConnection, kind: TrackKind, create: boolean): RTCRtpTransceiver | undefined {
    const known = this.#senders.get(kind);
    if (known && known.currentDirection !== 'stopped') return known;
    const used = new Set(this.#senders.values());
    let transceiver = pc.getTransceivers().find((t) =>
      !used.has(t) && t.currentDirection !== 'stopped' && t.mid !== null && this.#remoteMedia.get(t.mid) === kind);
    if (!transceiver && create) {
      const track = this.#localTracks.get(kind) ?? null;
      transceiver = pc.addTransceiver(track ?? MEDIA_KIND[kind], { direction: track ? 'sendrecv' : 'recvonly' });
    }
    if (transceiver) this.#senders.set(kind, transceiver);
    return transceiver;
  }

  /** Answerer side: puts our tracks on the transceivers the offer created, before the answer is made. */
  #attachLocalTracks(pc: RTCPeerConnection): void {
    for (const [kind, track] of this.#localTracks) {
      if (!track) continue;
      const transceiver = this.#senderFor(pc, kind, false);
      if (!transceiver || transceiver.sender.track === track) continue;
      void transceiver.sender.replaceTrack(track);
      transceiver.direction = 'sendrecv';
    }
  }

  #sendDescription(pc: RTCPeerConnection, description: RTCSessionDescription): void {
    const media: Record<string, TrackKind> = {};
    for (const [kind, transceiver] of this.#senders) {
      if (transceiver.mid !== null && pc.getTransceivers().includes(transceiver)) media[transceiver.mid] = kind;
    }
    this.#send({ description: { type: description.type as 'offer' | 'answer', sdp: description.sdp }, media });
  }

  #refreshRemoteTracks(pc: RTCPeerConnection): void {
    const tracks = new Map<TrackKind, MediaStreamTrack>();
    for (const t of pc.getTransceivers()) {
      const kind = t.mid === null ? undefined : this.#remoteMedia.get(t.mid);
      const receiving = t.currentDirection === 'sendrecv' || t.currentDirection === 'recvonly';
      if (kind && receiving && t.receiver.track.readyState === 'live') tracks.set(kind, t.receiver.track);
    }
    this.#setRemoteTracks(tracks);
  }

  #setRemoteTracks(tracks: Map<TrackKind, MediaStreamTrack>): void {
    const same = tracks.size === this.#remoteTracks.size &&
      [...tracks].every(([kind, track]) => this.#remoteTracks.get(kind) === track);
    if (same) return;
    this.#remoteTracks = tracks;
    this.#options.onRemoteTracks?.(tracks);
  }

  #setState(state: PeerSessionState): void {
    if (this.#state === state || this.#state === 'closed') return;
    this.#state = state;
    this.#options.onStateChange?.(state);
  }

  #send(message: Omit<NegotiationMessage, 'gen'>): void {
    this.#options.send({ gen: this.#gen, ...message });
  }
}
