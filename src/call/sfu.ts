/**
 * The call's SFU topology, its own on-demand chunk (`video-chat-sfu-<hash>.js`): loaded by {@link CallController}
 * only when the relay says the room runs on the SFU (an SFU `mode` message, `src/protocol/sfu.ts`), so a mesh call
 * never downloads it. It owns one {@link SfuSession} (one publishing and one subscribing connection) and puts what it
 * receives into the same {@link RemotePeer}s the mesh fills: tiles, events and the API stay keyed by participant ID.
 *
 * Make-before-break, per direction (issue 12's switch gap): a participant's tile keeps the mesh's audio and video
 * until its video through the SFU decodes here; then the tile takes the SFU's tracks at once and we tell that
 * participant (a relay `signal` `{ sfu: { decodes: true, shown: true } }`). Hearing the same from it, we stop sending
 * it our mesh copy (`replaceTrack(null)` on that mesh connection's camera and microphone: its encoder stops here and
 * its decoder there) — it shows us through the SFU already. The mesh connection closes once both ends show each other through the SFU, or {@link MESH_LINGER_MS} after ours decoded.
 * A `decodes` without `shown` (an element before this change, which keeps our mesh video on its tile until it hears
 * ours) leaves our mesh copy running until the connection closes. Room for the switch: from the `mode` on, our mesh
 * copies are held small ({@link HELD_SHORT_SIDE} px, {@link HELD_FPS} fps, the floor bitrate, through the governor's
 * `switching`) for at most {@link SWITCH_HOLD_MS}, and the SFU connections are made once they are: five pages on two
 * cores each encoding 3–4 mesh copies while making two connections stalled the pictures (docs/benchmarks.md).
 *
 * Simulcast (issue 12): the camera's three layers are capped from the call's bandwidth budget (`simulcast-caps.ts`),
 * and each tile receives the layer it needs (`sfu-layers.ts`: pinned or full screen high, grid medium, many tiles or
 * a poor connection low), re-chosen every {@link LAYER_POLL_MS} from `CallController.focus` (set by the element) and
 * the quality the stats loop measured, asked for at most every 1.5 s per tile and confirmed by the media server. Each
 * participant tells the others which layers its camera really sends (read from its `outbound-rtp` statistics every
 * {@link LAYER_POLL_MS} × 2, sent once per participant and again on a change, in its relayed `state`:
 * `sfu-announce.ts`), and a layer not sent is never asked for. A screen share re-caps the camera's layers (the share's part of the budget).
 *
 * A second `mode` message (a resume on another relay process) starts over: the old connections close and this
 * participant publishes and subscribes again. After a relay restart the call closes the whole topology as it joins
 * afresh (`call-controller.ts`): a `mode` before the fresh welcome makes a new one, none leaves the room a mesh.
 *
 * Chat and microphone/camera state: a room on the SFU has no data channel between two participants, so what two
 * elements say over it (`src/protocol/data-channel.ts`) travels as relay `signal`s instead, `{ "sfu": "<the same
 * text>" }`, through a {@link PeerChannel} per participant (same parser, same receive limits). It stands in the call's
 * map of channels, so chat and state go out as in a mesh.
 *
 * @module
 */
import type { VideoChatWarningCode } from '../errors.js';
import { VideoChatWarningEvent } from '../events.js';
import { DEFAULT_BUDGET } from '../negotiation/bandwidth.js';
import { SfuSession } from '../negotiation/sfu-session.js';
import { simulcastCaps } from '../negotiation/simulcast-caps.js';
import type { QualityLevel } from '../types.js';
import { switching } from './governor.js';
import { chooseLayer, LayerRequests, layerToAsk, parseLayers, RID_LAYER } from './sfu-layers.js';
import { layersIn, layersText } from './sfu-announce.js';
import type { PeerSession } from '../negotiation/peer-session.js';
import { SFU_PEER_ID, type SfuRequest, type SfuSubstream } from '../protocol/sfu.js';
import type { SignalingClient } from '../signaling/signaling-client.js';
import type { PeerMessage } from '../protocol/data-channel.js';
import { PeerChannel } from './peer-channel.js';
import type { CallHost, CallOptions, RemotePeer } from './types.js';

/**
 * Most time (ms) a mesh connection outlives the moment its participant's video through the SFU decodes here, when that
 * participant never says it decodes ours (`{ sfu: { decodes: true } }`).
 */
export const MESH_LINGER_MS = 10_000;

/**
 * Most time (ms) our mesh copies are held small (`governor.ts` `switching`) from the room's move to the SFU: by then
 * each has stopped (its receiver shows us through the SFU) or its connection closed, unless that receiver never
 * decodes us through the SFU, and then its copy gets its usual caps back.
 */
export const SWITCH_HOLD_MS = MESH_LINGER_MS;

/**
 * Our mesh copies while they are held small ({@link SWITCH_HOLD_MS}): at most this many px on the picture's shorter
 * side and frames per second, and the budget's floor bitrate (`cameraFloorKbps`, 150 kbps by default). Their tiles
 * keep moving, at an interval of 100 ms.
 */
export const HELD_SHORT_SIDE = 120;
export const HELD_FPS = 10;

/** Most time (ms) the SFU connections wait for the mesh copies to be held small ({@link SWITCH_HOLD_MS}). */
const HOLD_WAIT_MS = 500;

/** How often (ms) the topology re-chooses each tile's simulcast layer. */
export const LAYER_POLL_MS = 500;

/** Every this many {@link LAYER_POLL_MS}, the layers the camera sends are read and, when they changed, announced. */
const ANNOUNCE_POLLS = 2;

/** The warning of a screen shared in a room on the SFU (its connections carry one camera per participant). */
const NO_SCREEN = 'a screen share is not forwarded in a room on the SFU';

/** A mesh connection's remote camera and microphone (what its tile showed before the SFU's). */
const meshTracks = (tracks: ReadonlyMap<string, MediaStreamTrack>): Map<'audio' | 'video', MediaStreamTrack> =>
  new Map([...tracks].filter((e): e is ['audio' | 'video', MediaStreamTrack] => e[0] === 'audio' || e[0] === 'video'));

/** What the topology reads from the call (public parts of `CallController`). */
export interface SfuCall {
  readonly peers: readonly RemotePeer[];
  /** This participant's relay ID, once admitted. */
  readonly selfId: string | null;
  readonly media: {
    track(kind: 'audio' | 'video'): MediaStreamTrack | null;
    /** The screen shared now, if any. */
    readonly screen?: MediaStream | null;
    readonly microphoneEnabled: boolean;
    readonly cameraEnabled: boolean;
  };
  /** The participant shown large (pinned or full screen), set by the element; null or undefined for none. */
  readonly focus?: string | null | undefined;
  /** Each participant's connection quality (the stats loop). */
  readonly stats: { readonly quality: ReadonlyMap<string, { level: QualityLevel }> };
}

/** The SFU topology as the call controller drives it. */
export interface SfuTopology {
  /** Handles a `signal.data` from `"sfu"`. */
  receive(data: unknown): void;
  /** Handles a participant's data-channel text carried by the relay (`signal.data.sfu`). */
  peer(from: string, data: Record<string, unknown>): void;
  /** The camera or microphone changed. */
  setTrack(kind: string, track: MediaStreamTrack | null): void;
  /** Statistics of what comes from one participant through the SFU (see `SfuSession.getStats`). */
  getStats(peerId: string): Promise<RTCStatsReport | undefined> | undefined;
  /** Leaves the SFU: both connections close. */
  close(): void;
}

/**
 * @param call the call (its peers and media).
 * @param host where updates and warnings go.
 * @param iceServers the ICE servers of the latest welcome (TURN included), read when the connections are made.
 * @param signaling the relay connection (SFU requests are `signal`s to `"sfu"`).
 * @param sessions the call's mesh sessions by peer ID, and `channels` their data channels: a participant's are closed
 *   and removed once both ends show each other through the SFU; its camera and microphone are swapped for nothing
 *   (`setTrack`) once it shows us through the SFU.
 * @param options the call's bandwidth budget (caps of the simulcast layers) and ICE transport policy (both SFU
 *   connections follow it: `relay` means TURN only).
 */
export function sfuTopology(
  call: SfuCall,
  host: CallHost,
  iceServers: () => RTCIceServer[],
  signaling: Pick<SignalingClient, 'send'>,
  sessions: Map<string, Pick<PeerSession, 'close' | 'setTrack' | 'remoteTracks' | 'applyEncodingCaps'>>,
  channels: Map<string, unknown>,
  onPeerMessage: (peer: RemotePeer, message: PeerMessage) => void,
  options?: Pick<CallOptions, 'bandwidth' | 'iceTransportPolicy'>,
): SfuTopology {
  const relayed = new Map<string, PeerChannel>();
  const warn = (peerId: string) => (w: { code: VideoChatWarningCode; message: string; cause?: unknown }) =>
    host.dispatch(new VideoChatWarningEvent(w.code, peerId, w.message, w.cause));
  /** The relayed channel with a participant (made on first use, announcing our state like a channel that opens). */
  const channelFor = (id: string): PeerChannel | undefined => {
    const peer = call.peers.find((p) => p.id === id);
    if (!peer) return undefined;
    let channel = relayed.get(id);
    if (!channel) {
      channel = new PeerChannel({
        send: (text) => signaling.send({ type: 'signal', to: id, data: { sfu: text } }),
        onMessage: (message) => onPeerMessage(peer, message),
        onWarning: warn(id),
        report: host,
      });
      relayed.set(id, channel);
      channel.send({ type: 'state', microphone: call.media.microphoneEnabled, camera: call.media.cameraEnabled });
    }
    if (!sessions.has(id)) channels.set(id, channel);
    return channel;
  };
  const send = (data: SfuRequest): void => {
    signaling.send({ type: 'signal', to: SFU_PEER_ID, data });
  };
  const dropMesh = (id: string): void => {
    sessions.get(id)?.close();
    sessions.delete(id);
    channels.delete(id);
    channelFor(id);
  };
  /** The simulcast layers each participant said its camera sends (`{ sfu: { layers } }`). */
  const sentBy = new Map<string, SfuSubstream[]>();
  /** Participants whose video through the SFU decodes here, and those that said they decode ours. */
  const decodedHere = new Set<string>();
  const decodedThere = new Set<string>();
  /** SFU tracks of participants still shown through the mesh. */
  const waiting = new Map<string, ReadonlyMap<'audio' | 'video', MediaStreamTrack>>();
  /** A participant's tile shows what the SFU brings (`tracks`). */
  const show = (id: string, tracks: ReadonlyMap<'audio' | 'video', MediaStreamTrack>): void => {
    const peer = call.peers.find((p) => p.id === id);
    if (!peer) return;
    channelFor(id);
    const wanted = [...tracks.values()];
    for (const t of peer.stream.getTracks()) if (!wanted.includes(t)) peer.stream.removeTrack(t);
    for (const t of wanted) if (!peer.stream.getTrackById(t.id)) peer.stream.addTrack(t);
    if (wanted.length > 0) peer.connection = 'connected';
    host.requestUpdate();
  };
  /** The mesh connection with `id` closes and its tile takes the SFU's tracks (both ends decode, or the linger ran out). */
  const switchOver = (id: string): void => {
    const tracks = waiting.get(id);
    if (!tracks || !sessions.has(id)) return;
    waiting.delete(id);
    dropMesh(id);
    show(id, tracks);
  };
  let closed = false;
  /**
   * The camera whose mesh copies are held small (`governor.ts` `switching`: {@link HELD_SHORT_SIDE}, {@link HELD_FPS}),
   * none once {@link SWITCH_HOLD_MS} passed or we left.
   */
  let held: MediaStreamTrack | null = null;
  let release: ReturnType<typeof setTimeout> | undefined;
  const hold = (camera: MediaStreamTrack | null): Promise<unknown> => {
    if (held) switching.delete(held);
    held = camera;
    const { width, height } = camera?.getSettings() ?? {};
    if (camera)
      switching.set(camera, {
        maxBitrate: (options?.bandwidth?.cameraFloorKbps ?? DEFAULT_BUDGET.cameraFloorKbps) * 1000,
        scaleResolutionDownBy: width && height ? Math.max(1, Math.min(width, height) / HELD_SHORT_SIDE) : 1,
        maxFramerate: HELD_FPS,
      });
    return Promise.all([...sessions.values()].map((mesh) => mesh.applyEncodingCaps())); // never rejects
  };
  /**
   * The camera's simulcast layers capped from the budget, the camera's size and whether a screen is shared (the camera
   * then gets `1 − screenShare` of the uplink: docs/bandwidth.md "On the SFU").
   */
  const layers = (track: MediaStreamTrack | null, sharing = !!call.media.screen) => {
    const { width, height } = track?.getSettings() ?? {};
    return simulcastCaps(
      { ...DEFAULT_BUDGET, ...options?.bandwidth },
      { sourceShortSide: width && height ? Math.min(width, height) : undefined, sharingScreen: sharing },
    );
  };
  let requests: LayerRequests | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  /**
   * The SFU connections, made once this participant is admitted: a newcomer hears the mode before its welcome, whose
   * ICE servers (fresh TURN credentials) the connections need. `undefined` if no welcome came within 5 s or the call
   * left meanwhile.
   */
  const start = async (): Promise<SfuSession | undefined> => {
    // Make room for the switch: our mesh copies go small at once (their tiles keep moving, at 10 fps) while the SFU
    // connections are made; each still stops when its receiver shows us through the SFU.
    if (sessions.size > 0 && !held) {
      release = setTimeout(() => void hold(null), SWITCH_HOLD_MS);
      // Before the SFU connections are made: Chromium's `getParameters` (in each re-cap) waits for the WebRTC
      // signaling thread, which making them keeps busy (the main thread held 30–290 ms per call when they overlapped).
      await Promise.race([hold(call.media.track('video')), new Promise((r) => setTimeout(r, HOLD_WAIT_MS))]);
    }
    for (let i = 0; i < 200 && call.selfId === null && !closed; i++) await new Promise((r) => setTimeout(r, 25));
    if (call.selfId === null || closed) return undefined;
    // A session speaks for the ID it was made under: after a fresh welcome (a relay restart) the relay knows nobody by
    // it, and the room may not be on the SFU yet there (it answers `unknown-peer`). Until the next `mode` replaces it, a
    // stale session keeps showing what Janus still forwards, and says nothing.
    const self = call.selfId;
    const stale = () => call.selfId !== self;
    const session: SfuSession = new SfuSession({
      iceServers: iceServers(),
      iceTransportPolicy: options?.iceTransportPolicy,
      layers: layers(call.media.track('video')),
      onLayer: (peerId, substream) => requests?.confirmed(peerId, substream, Date.now()),
      tracks: { audio: call.media.track('audio'), video: call.media.track('video') },
      send: (request) => void (stale() || send(request)),
      epoch,
      onRemoteTracks: (peerId, tracks) => {
        const mesh = sessions.get(peerId);
        if (!mesh) return show(peerId, tracks);
        // Make-before-break: while the mesh connection lives, the tile keeps the mesh's audio and video (an SFU audio
        // track alone would take the mesh video off the tile) until the SFU's video decodes here; then it shows the
        // SFU's at once. Without it again (the feed went), the mesh's come back.
        waiting.set(peerId, tracks);
        if (!tracks.has('video')) {
          if (decodedHere.has(peerId)) show(peerId, meshTracks(mesh.remoteTracks));
          return;
        }
        show(peerId, tracks);
        if (decodedHere.has(peerId)) return;
        decodedHere.add(peerId);
        // The other end keeps sending us its mesh copy until it hears this.
        signaling.send({ type: 'signal', to: peerId, data: { sfu: { decodes: true, shown: true } } });
        setTimeout(() => switchOver(peerId), MESH_LINGER_MS);
        if (decodedThere.has(peerId)) switchOver(peerId);
      },
      onError: warn('sfu'),
    });
    void session.publish();
    if (call.media.screen) warn('sfu')({ code: 'sfu-failed', message: NO_SCREEN });
    const asked = new LayerRequests((peerId, substream) => session.requestLayer(peerId, substream));
    requests = asked;
    // The layers our camera sends, told to each participant once and again when they change: a receiver then never
    // asks for one the browser does not send (Chromium drops the lowest ones of a small camera).
    let sending = '';
    const told = new Set<string>();
    const announce = async () => {
      const layers = (await session.sentRids()).map((rid) => RID_LAYER[rid]).filter((l) => l !== undefined);
      if (layers.length === 0 || stale()) return; // nothing encoded (camera off): the last announcement stands
      layers.sort((a, b) => b - a);
      if (layers.join() !== sending) told.clear();
      sending = layers.join();
      for (const { id } of call.peers) {
        if (told.has(id)) continue;
        told.add(id);
        signaling.send({ type: 'signal', to: id, data: { sfu: layersText(call.media, layers) } }); // sfu-announce.ts
      }
    };
    let polls = 0;
    clearInterval(timer);
    /** When each feed was first seen subscribed (ms, `Date.now()`). */
    const since = new Map<string, number>();
    timer = setInterval(() => {
      if (stale()) return;
      const feeds = session.videoFeeds;
      const now = Date.now();
      // A feed that went: subscribed again later, it starts over on the lowest layer (sfu-layers.ts `layerToAsk`).
      for (const id of since.keys()) {
        if (feeds.includes(id)) continue;
        since.delete(id);
        asked.delete(id);
      }
      for (const id of feeds) {
        const focused = call.focus === id;
        const tile = chooseLayer({ focused, tiles: feeds.length, quality: call.stats.quality.get(id)?.level });
        if (!since.has(id)) since.set(id, now);
        const layer = layerToAsk(tile, sentBy.get(id), now - since.get(id)!, asked.layer(id) !== undefined);
        if (layer !== undefined) asked.want(id, layer, now);
      }
      if (++polls % ANNOUNCE_POLLS === 0) void announce();
    }, LAYER_POLL_MS);
    host.requestUpdate();
    return session;
  };
  let session: Promise<SfuSession | undefined> | undefined;
  /** The `epoch` of the latest `mode` (`src/protocol/sfu.ts`): the session it starts says it in its `publish`. */
  let epoch: string | undefined;
  return {
    receive(data) {
      const mode = (data as { op?: unknown } | null)?.op === 'mode';
      if (mode) epoch = (data as { epoch?: string }).epoch; // checked by the session's parser as it arrives
      if (session && mode) {
        // The relay forgot us (a fresh welcome follows): publish and subscribe again under the new ID.
        void session.then((s) => s?.close());
        session = undefined;
      }
      // In order: every message waits for the same start.
      void (session ??= start()).then((s) => s?.receive(data));
    },
    peer(from, data) {
      const text = data['sfu'];
      const announced = typeof text === 'string' ? layersIn(text) : undefined; // a `state` with `layers`
      if (announced) sentBy.set(from, announced);
      else if (announced === false)
        warn(from)({ code: 'bad-peer-message', message: 'state.layers must list layers 0-2' });
      if (typeof text === 'string') channelFor(from)?.receive(text);
      else if ((text as { layers?: unknown } | null)?.layers !== undefined) {
        const layers = parseLayers((text as { layers: unknown }).layers);
        if (layers) sentBy.set(from, layers);
        else warn(from)({ code: 'bad-peer-message', message: 'signal.data.sfu.layers must list layers 0-2' });
      } else if ((text as { decodes?: unknown } | null)?.decodes === true) {
        decodedThere.add(from); // it decodes us through the SFU
        const mesh = sessions.get(from);
        if ((text as { shown?: unknown }).shown === true && mesh) {
          // … and shows that: our mesh copy is no longer needed there (its encoder here, its decoder there stop). Best
          // effort: a connection closed meanwhile refuses, and nothing is lost then.
          for (const kind of ['video', 'audio'] as const) mesh.setTrack(kind, null).catch(() => undefined);
        }
        if (decodedHere.has(from)) switchOver(from);
      } else warn(from)({ code: 'bad-peer-message', message: 'signal.data.sfu must be the text of a peer message' });
    },
    setTrack: (kind, track) => {
      if (held && kind === 'video') void hold(track); // a new camera during the switch is held small too
      void session?.then((s) => {
        s?.setTrack(kind, track);
        const camera = kind === 'video' ? track : call.media.track('video');
        if (camera && kind === 'video') void s?.setLayers(layers(camera));
        if (kind !== 'screen') return;
        if (camera) void s?.setLayers(layers(camera, !!track));
        // The SFU connections carry no screen yet (one publisher stream per participant): say so, not silently.
        if (track) warn('sfu')({ code: 'sfu-failed', message: NO_SCREEN });
      });
    },
    getStats: (peerId) => session?.then((s) => s?.getStats(peerId)),
    close: () => {
      closed = true;
      clearInterval(timer);
      clearTimeout(release);
      if (held) void hold(null); // a mesh again (a fresh welcome without `mode`): the usual caps
      void session?.then((s) => s?.close());
    },
  };
}
