/**
 * One mesh connection with a remote peer: its {@link PeerSession} (perfect negotiation, the first offer, trickle ICE,
 * the watchdog) and its {@link PeerChannel} (the data channel wire), wired to the call: the governor's caps for that
 * copy of our streams, negotiation messages through the relay until the pair's channel is open and over the channel
 * after, the remote tracks into the peer's one `MediaStream`, its connection state, and every failure the call
 * survives as a rate-limited `vc-warning`. In the engine chunk: only a running call makes one. No DOM.
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
import type { Roster } from './roster.js';
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
  /**
   * The call's roster: its `meeting` is, while a `welcome`'s peers are being met, how many peers the room has once they
   * all are (else 0). Each new session counts that many copies for its first caps.
   */
  readonly roster: Pick<Roster, 'meeting'>;
  /** Sends `data` to `peer` through the relay (queued while the relay is away). */
  relay(peer: RemotePeer, data: SignalData): void;
  /** A message from `peer`'s data channel, parsed. */
  message(peer: RemotePeer, message: PeerMessage): void;
}

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
    report: host,
  });
  let made = false;
  const load = (): CallLoad => {
    const now = call.load(peer);
    // While the session is being made (its first offer's caps, transceivers.ts) it is not among the call's sessions
    // yet, but it is one more copy of our streams; while a welcome's peers are met, every one of them is (roster.ts).
    return { ...now, copies: Math.max(now.copies + +!made, call.roster.meeting) };
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
      // The stats loop (getStats of every peer every 400 ms) waits for a first connection: before it there is nothing
      // to read, and its work would delay the setup.
      // So does the data channel's receiver (its own chunk; texts that arrive before it wait for it, in order).
      if (state === 'connected') {
        void channel.load();
        call.stats.start();
      }
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
