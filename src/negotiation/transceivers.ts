/**
 * Which transceiver of a {@link PeerSession}'s connection carries what: the local track sent for each
 * {@link TrackKind}, the transceiver that sends it, the far side's `media` map (mid → kind, from its last description)
 * and the live remote tracks by kind; and the bandwidth caps applied to the video senders
 * (`RTCRtpSender.setParameters`, W3C WebRTC §5.2). The negotiation state machine (offers, answers, candidates,
 * restarts) stays in `peer-session.ts`; this is the bookkeeping of tracks it negotiates. No DOM beyond WebRTC.
 *
 * **Initial caps travel with the first description** (issue 16: a `setParameters` at `stable` ran while the answer was
 * being set, and `getParameters` blocks the main thread on the browser's WebRTC signaling thread): a sender this
 * object creates gets its caps in `addTransceiver`'s `sendEncodings` (the offerer); one the far side's first offer
 * created gets them with `setParameters` in the same task as `getParameters`, before the answer is made
 * ({@link Transceivers.attachLocal}; the answerer). Both are remembered as applied, so the `applyCaps` that follows
 * at `stable` costs nothing unless the caps changed meanwhile. A pre-answer `setParameters` the browser rejects is
 * forgotten, so that `stable` sets it again (and reports a second failure).
 *
 * A mid the far side's `media` does not name (a peer written from `docs/protocol.md` may send no `media` at all) is
 * taken for what its track's kind says: audio is the peer's audio; the first such video is its camera and a second
 * one its screen (each only if `media` did not name one already); more than that are not shown. Such a transceiver
 * is also the one our own audio or camera answers on, as with a named one.
 *
 * @module
 */
import type { TrackKind } from '../protocol/negotiation.js';
import type { EncodingCaps } from './bandwidth.js';

const MEDIA_KIND: Record<TrackKind, 'audio' | 'video'> = { audio: 'audio', video: 'video', screen: 'video' };

/** The caps for the sender of `kind` now sending `track` (the session's `encodingCaps`), or undefined for none. */
export type CapsFor = (kind: TrackKind, track: MediaStreamTrack | null) => EncodingCaps | undefined;

/** The tracks and transceivers of one session; {@link reset} when its connection is replaced. */
export class Transceivers {
  /** What we send, by kind (null: nothing, but the transceiver stays). Kept across connections. */
  readonly local = new Map<TrackKind, MediaStreamTrack | null>();
  /** The transceiver that sends each kind, on the current connection. */
  readonly senders = new Map<TrackKind, RTCRtpTransceiver>();
  /** What the far side sends on each mid, from its last description. */
  remoteMedia = new Map<string, TrackKind>();
  /** The live remote tracks by kind (replaced, not changed, by {@link setRemoteTracks}). */
  remoteTracks: ReadonlyMap<TrackKind, MediaStreamTrack> = new Map();
  #onRemoteTracks: ((tracks: ReadonlyMap<TrackKind, MediaStreamTrack>) => void) | undefined;
  #capsFor: CapsFor | undefined;

  /**
   * @param onRemoteTracks called when the set of live remote tracks changes (kind → track).
   * @param capsFor the caps of a video sender as it is created or first answered on (see the module comment);
   *   without it senders start uncapped and only {@link applyCaps} sets caps.
   */
  constructor(onRemoteTracks?: (tracks: ReadonlyMap<TrackKind, MediaStreamTrack>) => void, capsFor?: CapsFor) {
    this.#onRemoteTracks = onRemoteTracks;
    this.#capsFor = capsFor;
  }

  /** Forgets the transceivers of a connection that is gone; its remote tracks end. Local tracks stay. */
  reset(): void {
    this.senders.clear();
    this.remoteMedia.clear();
    this.setRemoteTracks(new Map());
  }

  /**
   * The transceiver that sends `kind`: the one already used for it, else one the far side offered for the same kind
   * that we do not use yet, else (when `create`) a new one.
   */
  senderFor(pc: RTCPeerConnection, kind: TrackKind, create: boolean): RTCRtpTransceiver | undefined {
    const known = this.senders.get(kind);
    if (known && known.currentDirection !== 'stopped') return known;
    const used = new Set(this.senders.values());
    const free = pc.getTransceivers().filter((t) => !used.has(t) && t.currentDirection !== 'stopped' && t.mid !== null);
    let transceiver =
      free.find((t) => this.remoteMedia.get(t.mid as string) === kind) ??
      (kind === 'screen'
        ? undefined
        : free.find((t) => !this.remoteMedia.has(t.mid as string) && t.receiver.track.kind === kind));
    if (!transceiver && create) {
      const track = this.local.get(kind) ?? null;
      const caps = track ? this.#initialCaps(kind, track) : undefined;
      transceiver = pc.addTransceiver(track ?? MEDIA_KIND[kind], {
        direction: track ? 'sendrecv' : 'recvonly',
        ...(caps ? { sendEncodings: [{ ...caps }] } : {}),
      });
      if (caps) this.#applied.set(transceiver.sender, JSON.stringify(caps));
    }
    if (transceiver) this.senders.set(kind, transceiver);
    return transceiver;
  }

  /**
   * Answerer side: puts our tracks on the transceivers the offer created, before the answer is made; a video sender
   * answering for the first time gets its caps now (see the module comment).
   */
  attachLocal(pc: RTCPeerConnection): void {
    for (const [kind, track] of this.local) {
      if (!track) continue;
      const transceiver = this.senderFor(pc, kind, false);
      if (!transceiver) continue;
      if (transceiver.sender.track !== track) {
        void transceiver.sender.replaceTrack(track);
        transceiver.direction = 'sendrecv';
      }
      if (transceiver.currentDirection === null) this.#presetCaps(transceiver.sender, kind, track);
    }
  }

  /** The caps a new video sender of `kind` starts with, or undefined (audio, or no caps function). */
  #initialCaps(kind: TrackKind, track: MediaStreamTrack): EncodingCaps | undefined {
    return kind === 'audio' ? undefined : this.#capsFor?.(kind, track);
  }

  /**
   * Sets the initial caps on a sender not negotiated yet, before the answer: `getParameters` and `setParameters` in
   * one task (a later `getParameters` would see the codecs the answer adds and the browser would refuse the change).
   * Not awaited: the browser applies it before the answer it is asked for next. Rejected: forgotten (see the module
   * comment).
   */
  #presetCaps(sender: RTCRtpSender, kind: TrackKind, track: MediaStreamTrack): void {
    const caps = this.#initialCaps(kind, track);
    const key = JSON.stringify(caps);
    if (!caps || this.#applied.get(sender) === key) return;
    const parameters = sender.getParameters();
    const encoding = parameters.encodings?.[0];
    if (!encoding) return;
    Object.assign(encoding, caps);
    this.#applied.set(sender, key);
    sender.setParameters(parameters).catch(() => {
      if (this.#applied.get(sender) === key) this.#applied.delete(sender);
    });
  }

  /** The `media` of our next description: mid → kind of each sender negotiated on `pc`. */
  media(pc: RTCPeerConnection): Record<string, TrackKind> {
    const media: Record<string, TrackKind> = {};
    for (const [kind, transceiver] of this.senders) {
      if (transceiver.mid !== null && pc.getTransceivers().includes(transceiver)) media[transceiver.mid] = kind;
    }
    return media;
  }

  /**
   * Reads the live remote tracks of `pc` by kind (from {@link remoteMedia}, else from the track's kind: see the module
   * comment) and reports a change.
   */
  refreshRemote(pc: RTCPeerConnection): void {
    const tracks = new Map<TrackKind, MediaStreamTrack>();
    const unnamed: MediaStreamTrack[] = [];
    for (const t of pc.getTransceivers()) {
      const receiving = t.currentDirection === 'sendrecv' || t.currentDirection === 'recvonly';
      if (t.mid === null || !receiving || t.receiver.track.readyState !== 'live') continue;
      const kind = this.remoteMedia.get(t.mid);
      if (kind) tracks.set(kind, t.receiver.track);
      else unnamed.push(t.receiver.track);
    }
    for (const track of unnamed) {
      const kinds: readonly TrackKind[] = track.kind === 'audio' ? ['audio'] : ['video', 'screen'];
      const kind = kinds.find((k) => !tracks.has(k));
      if (kind) tracks.set(kind, track);
    }
    this.setRemoteTracks(tracks);
  }

  setRemoteTracks(tracks: Map<TrackKind, MediaStreamTrack>): void {
    const same =
      tracks.size === this.remoteTracks.size &&
      [...tracks].every(([kind, track]) => this.remoteTracks.get(kind) === track);
    if (same) return;
    this.remoteTracks = tracks;
    this.#onRemoteTracks?.(tracks);
  }

  /** The send parameters (W3C WebRTC `RTCRtpSendParameters`) of each sender, by kind. */
  sendParameters(): Map<TrackKind, RTCRtpSendParameters> {
    return new Map([...this.senders].map(([kind, t]) => [kind, t.sender.getParameters()]));
  }

  /** The caps last set on each sender (JSON), so that unchanged caps cost no `getParameters` (issue 16's profile). */
  readonly #applied = new WeakMap<RTCRtpSender, string>();

  /**
   * Sets the caps `capsFor` gives on the first encoding of each video sender whose caps differ from those this
   * object last set on it (one `setParameters` at a time). Senders not negotiated yet (no encodings) are skipped.
   * @throws the browser's `setParameters` rejection (`InvalidModificationError`, `InvalidStateError`, …).
   */
  async applyCaps(capsFor: CapsFor): Promise<void> {
    for (const [kind, { sender, currentDirection }] of this.senders) {
      const caps = kind === 'audio' ? undefined : capsFor(kind, sender.track);
      const key = JSON.stringify(caps);
      if (!caps || currentDirection === 'stopped' || this.#applied.get(sender) === key) continue;
      const parameters = sender.getParameters();
      const encoding = parameters.encodings?.[0];
      if (!encoding) continue;
      Object.assign(encoding, caps);
      await sender.setParameters(parameters);
      this.#applied.set(sender, key);
    }
  }
}
