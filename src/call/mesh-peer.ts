/**
 * One mesh connection with a remote peer: its {@link PeerSession} (perfect negotiation, the first offer, trickle ICE,
 * the watchdog) and its {@link PeerChannel} (the data channel wire), wired to the call: the governor's caps for that
 * copy of our streams, negotiation messages through the relay until the pair's channel is open and over the channel
 * after, the remote tracks into the peer's one `MediaStream`, its connection state, and every failure the call
 * survives as a rate-limited `vc-warning`. In the engine chunk: only a running call makes one. No DOM.
 *
 * **While the call sets up a connection** (a peer met less than {@link SETUP_HOLD_MS} ago and not yet connected), what
 * needs no first frame waits (issue 16: in a 4-peer call the caps following each receiver's `view` and each link's
 * ramping bandwidth estimate cost ~40 `getParameters` per call, each blocking the main thread on the browser's WebRTC
 * signaling thread, which the stats loop's `getStats` keeps busy): every connection's caps keep the copies, views and
 * measured link they last had (a new one starts from the copies alone), and the stats loop does not start. When the
 * last such peer connects (or its hold ends) every connection's caps are applied with what holds then, and the loop
 * starts. The caller's own changes (audio-only, a screen share, the budget) apply at once.
 *
 * @module
 */
import { VideoChatError, type Warning } from '../errors.js';
import { ScreenShareEvent, VideoChatErrorEvent, VideoChatWarningEvent } from '../events.js';
import type { MediaController } from '../media/media-controller.js';
import { PeerSession } from '../negotiation/peer-session.js';
import type { PeerMessage } from '../protocol/data-channel.js';
import type { TrackKind } from '../protocol/negotiation.js';
import type { SignalData } from '../protocol/relay.js';
import type { CallStats } from './call-stats.js';
import { encodingCaps, type CallLoad } from './governor.js';
import { PeerChannel } from './peer-channel.js';
import type { CallHost, CallOptions, RemotePeer } from './types.js';
import { warningGate } from './warning-gate.js';

/** What a mesh connection needs of the call (the call controller hands it over once its engine is loaded). */
export interface MeshCall {
  readonly host: CallHost;
  readonly media: MediaController;
  readonly stats: CallStats;
  /** The call's options and ICE servers now (they change with each join and each welcome). */
  config(): { options: CallOptions | undefined; iceServers: RTCIceServer[] };
  /** What the governor's caps for the copy of our streams sent to `peer` depend on now. */
  load(peer: RemotePeer): CallLoad;
  /** Sends `data` to `peer` through the relay (queued while the relay is away). */
  relay(peer: RemotePeer, data: SignalData): void;
  /** A message from `peer`'s data channel, parsed. */
  message(peer: RemotePeer, message: PeerMessage): void;
}

/** How long a peer not yet connected holds back the rest of the call's caps changes and stats loop, ms. */
export const SETUP_HOLD_MS = 5000;

/** The mesh connections of each call: when each was made, for {@link setting}. */
const connections = new WeakMap<MeshCall, Map<PeerSession, number>>();

/** Whether `call` is setting up a connection (see the module comment). */
const setting = (call: MeshCall): boolean =>
  [...(connections.get(call) ?? [])].some(
    ([s, at]) => s.state == 'connecting' && performance.now() - at < SETUP_HOLD_MS,
  );

/** A session and data channel with `peer` (`initiator`: we make the first offer). See the module comment. */
export function meshPeer(
  call: MeshCall,
  peer: RemotePeer,
  initiator: boolean,
): { session: PeerSession; channel: PeerChannel } {
  const { host, media } = call;
  const { options, iceServers } = call.config();
  // Every failure with this peer that the call survives, from its session or its channel: one vc-warning per code
  // every few seconds at most.
  const warn = warningGate((w: Warning) =>
    host.dispatch(new VideoChatWarningEvent(w.code, peer.id, w.message, w.cause)),
  );
  const channel = new PeerChannel({
    send: (text) => session.sendChannelText(text),
    onMessage: (message) => call.message(peer, message),
    onWarning: warn,
  });
  const all = connections.get(call) ?? connections.set(call, new Map()).get(call)!;
  // What this connection's caps last took of the call (kept while the call sets up another connection).
  let held: Pick<CallLoad, 'copies' | 'view' | 'views' | 'linkKbps'> | undefined;
  let made = false;
  const load = (): CallLoad => {
    const now = call.load(peer);
    // While the session is being made (its first offer's caps, transceivers.ts) it is not among the call's sessions
    // yet, but it is one more copy of our streams.
    const { copies, view, views, linkKbps } = { ...now, copies: now.copies + (made ? 0 : 1) };
    if (!setting(call)) held = { copies, view, views, linkKbps };
    return { ...now, ...(held ??= { copies, view: undefined, views: undefined, linkKbps: undefined }) };
  };
  /** After a connection's state changed: the call done setting up applies every caps and starts the stats loop. */
  const settle = (): void => {
    if (setting(call)) return;
    for (const s of all.keys()) void s.applyEncodingCaps();
    if ([...all.keys()].some((s) => s.state == 'connected')) call.stats.start();
  };
  const session: PeerSession = new PeerSession({
    peerId: peer.id,
    initiator,
    iceServers,
    ...(options?.iceTransportPolicy ? { iceTransportPolicy: options.iceTransportPolicy } : {}),
    ...(options?.watchdogMs ? { watchdogMs: options.watchdogMs } : {}),
    encodingCaps: (kind, track) => encodingCaps(kind, track, load()),
    tracks: {
      audio: media.track('audio'),
      video: media.track('video'),
      screen: media.screen?.getVideoTracks()[0] ?? null,
    },
    // Peer to peer once the pair's channel is open; the relay (queued while it is away) before that and as fallback.
    send: (data) => (session.direct ? channel.send({ type: 'signal', data }) : call.relay(peer, data)),
    onRemoteTracks: (tracks) => showRemoteTracks(host, peer, tracks),
    onChannelText: (text) => channel.receive(text),
    onError: warn,
    onChannelOpen: () =>
      channel.send({ type: 'state', microphone: media.microphoneEnabled, camera: media.cameraEnabled }),
    onStateChange: (state) => {
      peer.connection = state;
      if (state == 'closed') all.delete(session);
      // The stats loop (getStats of every peer every 400 ms) waits for a first connection and for the call's setup:
      // before it there is nothing to read, and its work would delay the setup.
      settle();
      if (state === 'failed') {
        host.dispatch(
          new VideoChatErrorEvent(
            new VideoChatError('peer-unreachable', `Could not connect to ${peer.name || 'a participant'}.`),
          ),
        );
      }
      host.requestUpdate();
    },
  });
  made = true;
  all.set(session, performance.now());
  setTimeout(settle, SETUP_HOLD_MS); // a peer that never connects holds the others back no longer
  return { session, channel };
}

/** Keeps one MediaStream per peer (so `<video>` elements are not reset) in step with its live tracks. */
function showRemoteTracks(host: CallHost, peer: RemotePeer, tracks: ReadonlyMap<TrackKind, MediaStreamTrack>): void {
  const wanted = [tracks.get('audio'), tracks.get('video')].filter((t): t is MediaStreamTrack => t !== undefined);
  for (const track of peer.stream.getTracks()) if (!wanted.includes(track)) peer.stream.removeTrack(track);
  for (const track of wanted) if (!peer.stream.getTrackById(track.id)) peer.stream.addTrack(track);
  const screen = tracks.get('screen');
  const was = peer.screen?.getVideoTracks()[0];
  if (screen !== was) {
    peer.screen = screen ? new MediaStream([screen]) : null;
    if (Boolean(screen) !== Boolean(was)) host.dispatch(new ScreenShareEvent(peer.id, Boolean(screen)));
  }
  host.requestUpdate();
}
