/**
 * The element's side of a room on the SFU: one publishing `RTCPeerConnection` (audio, and video with three simulcast
 * layers, RFC 8853, rids `h`/`m`/`l`) and one subscribing `RTCPeerConnection` that carries every other participant's
 * feeds, negotiated through the relay (`src/protocol/sfu.ts`): we offer to publish and the relay answers with the
 * media server's answer; the relay offers every change of our subscription (Janus VideoRoom multistream) and we
 * answer. Candidates trickle both ways through the relay (RFC 8838); the media server's are in its SDP.
 *
 * Tracks are reported by participant ID (the feed ID is the publisher's relay ID), so tiles stay keyed by
 * participant. A participant's video is reported once it decodes (`framesDecoded > 0` in its `inbound-rtp`, W3C
 * WebRTC Statistics), so that whoever shows it can keep an older picture (its mesh connection) until then.
 *
 * No DOM: only the WebRTC API. Every failure the call survives goes to `onError` as a `sfu-failed` warning.
 *
 * @module
 */
import type { Warning } from '../errors.js';
import { parseSfuDelivery, type SfuRequest, type SfuStream, type SfuSubstream } from '../protocol/sfu.js';
import { simulcastCaps } from './simulcast-caps.js';

/** How often (ms) and how many times a new feed's `framesDecoded` is read before it is shown anyway. */
const DECODE_POLL_MS = 200;
const DECODE_POLLS = 50;

/** What an {@link SfuSession} needs. */
export interface SfuSessionOptions {
  iceServers: RTCIceServer[];
  /** W3C WebRTC `RTCConfiguration.iceTransportPolicy` of both connections (`relay`: TURN only). Default `all`. */
  iceTransportPolicy?: RTCIceTransportPolicy | undefined;
  /**
   * The camera's three simulcast encodings (rids `h`, `m`, `l`, highest first as Janus expects) with their caps
   * (`simulcast-caps.ts`). Default: `simulcastCaps()` (the default budget).
   */
  layers?: RTCRtpEncodingParameters[] | undefined;
  /** The media server now forwards simulcast layer `substream` of `peerId`'s video (its `layer` message). */
  onLayer?(peerId: string, substream: SfuSubstream): void;
  /** The camera and microphone to publish (either may be null: nothing is sent for it until {@link setTrack}). */
  tracks: { audio: MediaStreamTrack | null; video: MediaStreamTrack | null };
  /** Sends an SFU request to the relay (a `signal` to `"sfu"`). */
  send(request: SfuRequest): void;
  /** The `epoch` of the `mode` that started this session, repeated in its `publish` (`src/protocol/sfu.ts`). */
  epoch?: string | undefined;
  /** A participant's media through the SFU: its tracks by kind (video once it decodes). */
  onRemoteTracks(peerId: string, tracks: ReadonlyMap<'audio' | 'video', MediaStreamTrack>): void;
  /** A failure the call survives. */
  onError(warning: Warning): void;
}

/** One publishing and one subscribing connection to the SFU; see the module documentation. */
export class SfuSession {
  readonly #o: SfuSessionOptions;
  readonly #pub: RTCPeerConnection;
  readonly #senders = new Map<'audio' | 'video', RTCRtpSender>();
  #sub: RTCPeerConnection | undefined;
  /** The subscription's streams by mid, from the latest offer. */
  #streams = new Map<string, SfuStream>();
  /** Tracks received and shown, per participant. */
  #feeds = new Map<string, Map<'audio' | 'video', MediaStreamTrack>>();
  #closed = false;
  /** The subscribing connection's report shared by its readers ({@link #subReport}). */
  #report: Promise<RTCStatsReport> | undefined;
  /** `framesEncoded` per rid at the latest {@link sentRids}. */
  readonly #encoded = new Map<string, number>();

  constructor(options: SfuSessionOptions) {
    this.#o = options;
    this.#pub = new RTCPeerConnection(this.#config());
    this.#pub.onicecandidate = ({ candidate }) => this.#candidate('pub', candidate);
    for (const kind of ['audio', 'video'] as const) {
      const init: RTCRtpTransceiverInit = { direction: 'sendonly' };
      if (kind === 'video') init.sendEncodings = options.layers ?? simulcastCaps();
      this.#senders.set(kind, this.#pub.addTransceiver(options.tracks[kind] ?? kind, init).sender);
    }
  }

  /** Offers to publish (the relay answers with the media server's answer). */
  async publish(): Promise<void> {
    try {
      await this.#pub.setLocalDescription();
      const sdp = this.#pub.localDescription?.sdp;
      const epoch = this.#o.epoch;
      if (sdp && !this.#closed) this.#o.send(epoch ? { op: 'publish', sdp, epoch } : { op: 'publish', sdp });
    } catch (cause) {
      this.#fail('publish offer', cause);
    }
  }

  /** Replaces the published camera or microphone (`RTCRtpSender.replaceTrack`, no renegotiation). */
  setTrack(kind: string, track: MediaStreamTrack | null): void {
    this.#senders
      .get(kind as 'audio' | 'video')
      ?.replaceTrack(track)
      .catch((cause) => this.#fail('replaceTrack', cause));
  }

  /** Handles what the relay sent about the SFU (`signal.data` from `"sfu"`); malformed input is a warning. */
  async receive(data: unknown): Promise<void> {
    const parsed = parseSfuDelivery(data);
    if (!parsed.ok) return this.#fail(parsed.error.message, parsed.error);
    const m = parsed.value;
    try {
      if (m.op === 'answer') await this.#pub.setRemoteDescription({ type: 'answer', sdp: m.sdp });
      else if (m.op === 'offer') await this.#subscribe(m.sdp, m.streams);
      else if (m.op === 'layer') {
        const feed = this.#streams.get(m.mid)?.feed;
        if (feed !== undefined) this.#o.onLayer?.(feed, m.substream);
      } else if (m.op === 'error') this.#fail(`the SFU: ${m.message}`);
    } catch (cause) {
      this.#fail(`${m.op} from the SFU`, cause);
    }
  }

  /**
   * Statistics (W3C WebRTC Statistics) of what we receive from one participant: the subscribing connection's report
   * with only that participant's `inbound-rtp` entries (by `mid`) and every shared entry (transport, candidate pair,
   * codecs). `undefined` before there is a subscribing connection.
   */
  async getStats(peerId: string): Promise<RTCStatsReport | undefined> {
    if (!this.#sub) return undefined;
    const report = await this.#subReport();
    const mine = new Map<string, unknown>();
    report.forEach((s: { id: string; type: string; mid?: string }) => {
      if (s.type !== 'inbound-rtp' || (s.mid !== undefined && this.#streams.get(s.mid)?.feed === peerId))
        mine.set(s.id, s);
    });
    return mine; // an RTCStatsReport is a read-only maplike: a Map of the kept entries reads the same
  }

  /** The participants whose video the subscribing connection carries now. */
  get videoFeeds(): string[] {
    return [...this.#streams.values()].filter((s) => s.kind === 'video').map((s) => s.feed);
  }

  /**
   * Asks the media server for simulcast layer `substream` (0 low … 2 high) of `peerId`'s video (a `layer` request on
   * its `mid`; {@link SfuSessionOptions.onLayer} hears the switch). Nothing when that video is not subscribed.
   */
  requestLayer(peerId: string, substream: SfuSubstream): void {
    for (const s of this.#streams.values()) {
      if (s.feed === peerId && s.kind === 'video' && !this.#closed)
        this.#o.send({ op: 'layer', mid: s.mid, substream });
    }
  }

  /**
   * Caps the camera's simulcast encodings (`RTCRtpSender.setParameters`, W3C WebRTC §5.2): `maxBitrate` (bps) and
   * `scaleResolutionDownBy` per rid, from `simulcast-caps.ts`.
   */
  async setLayers(layers: RTCRtpEncodingParameters[]): Promise<void> {
    const sender = this.#senders.get('video');
    if (!sender) return;
    try {
      const params = sender.getParameters();
      for (const encoding of params.encodings ?? []) {
        const cap = layers.find((l) => l.rid === encoding.rid);
        if (cap?.maxBitrate !== undefined) encoding.maxBitrate = cap.maxBitrate;
        if (cap?.scaleResolutionDownBy !== undefined) encoding.scaleResolutionDownBy = cap.scaleResolutionDownBy;
      }
      await sender.setParameters(params);
    } catch (cause) {
      this.#fail('capping the simulcast layers', cause);
    }
  }

  /**
   * The rids of the camera's simulcast encodings that produced frames since the previous call (`framesEncoded` of
   * each `outbound-rtp` with a `rid`, W3C WebRTC Statistics): the browser may send fewer layers than asked (Chromium
   * sends one at 320×240, two at 640×480). Empty when the statistics cannot be read.
   */
  async sentRids(): Promise<string[]> {
    const sender = this.#senders.get('video');
    if (!sender || this.#closed) return [];
    const sent: string[] = [];
    try {
      (await sender.getStats()).forEach((s: { type: string; rid?: string; framesEncoded?: number }) => {
        if (s.type !== 'outbound-rtp' || !s.rid) return;
        const frames = s.framesEncoded ?? 0;
        if (frames > (this.#encoded.get(s.rid) ?? 0)) sent.push(s.rid);
        this.#encoded.set(s.rid, frames);
      });
    } catch {
      return []; // closed meanwhile
    }
    return sent;
  }

  /** Closes both connections. */
  close(): void {
    this.#closed = true;
    this.#pub.close();
    this.#sub?.close();
  }

  async #subscribe(sdp: string, streams: SfuStream[]): Promise<void> {
    this.#streams = new Map(streams.map((s) => [s.mid, s]));
    if (!this.#sub) {
      const sub = new RTCPeerConnection(this.#config());
      this.#sub = sub;
      sub.onicecandidate = ({ candidate }) => this.#candidate('sub', candidate);
      sub.ontrack = ({ transceiver, track }) => void this.#track(transceiver.mid, track);
    }
    await this.#sub.setRemoteDescription({ type: 'offer', sdp });
    await this.#sub.setLocalDescription();
    const answer = this.#sub.localDescription?.sdp;
    if (answer && !this.#closed) this.#o.send({ op: 'answer', sdp: answer });
    // Feeds no longer in the subscription: their tracks go (the participant left or stopped publishing).
    const present = new Set(streams.map((s) => s.feed));
    for (const [feed, tracks] of this.#feeds) {
      if (!present.has(feed)) {
        this.#feeds.delete(feed);
        tracks.clear();
        this.#o.onRemoteTracks(feed, tracks);
      }
    }
  }

  async #track(mid: string | null, track: MediaStreamTrack): Promise<void> {
    const stream = mid === null ? undefined : this.#streams.get(mid);
    if (!stream || !this.#sub) return;
    if (stream.kind === 'video') {
      // Shown once it decodes: until then the tile keeps what it had.
      for (let i = 0; i < DECODE_POLLS && !this.#closed; i++) {
        let decoded = 0;
        (await this.#subReport()).forEach((s: { type: string; framesDecoded?: number; trackIdentifier?: string }) => {
          if (s.type === 'inbound-rtp' && s.trackIdentifier === track.id) decoded += s.framesDecoded ?? 0;
        });
        if (decoded > 0) break;
        await new Promise((resolve) => setTimeout(resolve, DECODE_POLL_MS));
      }
    }
    if (this.#closed || this.#streams.get(mid!)?.feed !== stream.feed) return;
    const tracks = this.#feeds.get(stream.feed) ?? new Map<'audio' | 'video', MediaStreamTrack>();
    this.#feeds.set(stream.feed, tracks);
    tracks.set(stream.kind, track);
    this.#o.onRemoteTracks(stream.feed, tracks);
  }

  /**
   * The subscribing connection's statistics, one report shared by every reader within {@link DECODE_POLL_MS} / 2: the
   * tracks waiting for their first decoded frame (a switch brings 3–4 feeds at once) and {@link getStats} of each
   * participant (the stats loop asks for all of them in a row). Chromium collects the whole report even for a
   * `getStats(track)`, on the WebRTC threads that a switch keeps busy.
   */
  #subReport(): Promise<RTCStatsReport> {
    const report = (this.#report ??= this.#sub!.getStats());
    setTimeout(() => {
      if (this.#report === report) this.#report = undefined;
    }, DECODE_POLL_MS / 2);
    return report;
  }

  #config(): RTCConfiguration {
    const { iceServers, iceTransportPolicy } = this.#o;
    return iceTransportPolicy ? { iceServers, iceTransportPolicy } : { iceServers };
  }

  #candidate(pc: 'pub' | 'sub', candidate: RTCIceCandidate | null): void {
    if (this.#closed) return;
    this.#o.send({
      op: 'candidate',
      pc,
      candidate: candidate?.candidate
        ? {
            candidate: candidate.candidate,
            ...(candidate.sdpMid === null ? {} : { sdpMid: candidate.sdpMid }),
            ...(candidate.sdpMLineIndex === null ? {} : { sdpMLineIndex: candidate.sdpMLineIndex }),
          }
        : null,
    });
  }

  #fail(message: string, cause?: unknown): void {
    if (!this.#closed) this.#o.onError({ code: 'sfu-failed', message, cause });
  }
}
