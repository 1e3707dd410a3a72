/**
 * The call's SFU topology, its own on-demand chunk (`video-chat-sfu-<hash>.js`): loaded by {@link CallController}
 * only when the relay says the room runs on the SFU (an SFU `mode` message, `src/protocol/sfu.ts`), so a mesh call
 * never downloads it. It owns one {@link SfuSession} (one publishing and one subscribing connection) and puts what it
 * receives into the same {@link RemotePeer}s the mesh fills: tiles, events and the API stay keyed by participant ID.
 *
 * Make-before-break: a participant's mesh connection, if it has one (the room switched during the call), is closed
 * only once that participant's video through the SFU decodes; until then its tile shows the mesh video.
 *
 * @module
 */
import { VideoChatWarningEvent } from '../events.js';
import { SfuSession } from '../negotiation/sfu-session.js';
import type { PeerSession } from '../negotiation/peer-session.js';
import { SFU_PEER_ID, type SfuRequest } from '../protocol/sfu.js';
import type { SignalingClient } from '../signaling/signaling-client.js';
import type { CallHost, RemotePeer } from './types.js';

/** What the topology reads from the call (public parts of `CallController`). */
export interface SfuCall {
  readonly peers: readonly RemotePeer[];
  readonly media: { track(kind: 'audio' | 'video'): MediaStreamTrack | null };
}

/** The SFU topology as the call controller drives it. */
export interface SfuTopology {
  /** Handles a `signal.data` from `"sfu"`. */
  receive(data: unknown): void;
  /** The camera or microphone changed. */
  setTrack(kind: string, track: MediaStreamTrack | null): void;
  /** Statistics of the SFU connections. */
  getStats(): Promise<RTCStatsReport> | undefined;
  /** Leaves the SFU: both connections close. */
  close(): void;
}

/**
 * @param call the call (its peers and media).
 * @param host where updates and warnings go.
 * @param iceServers the relay's ICE servers (TURN included).
 * @param signaling the relay connection (SFU requests are `signal`s to `"sfu"`).
 * @param sessions the call's mesh sessions by peer ID, and `channels` their data channels: a participant's are closed
 *   and removed once its video through the SFU decodes.
 */
export function sfuTopology(
  call: SfuCall,
  host: CallHost,
  iceServers: RTCIceServer[],
  signaling: Pick<SignalingClient, 'send'>,
  sessions: Map<string, Pick<PeerSession, 'close'>>,
  channels: Map<string, unknown>,
): SfuTopology {
  let session: SfuSession | undefined;
  const send = (data: SfuRequest): void => {
    signaling.send({ type: 'signal', to: SFU_PEER_ID, data });
  };
  const dropMesh = (id: string): void => {
    sessions.get(id)?.close();
    sessions.delete(id);
    channels.delete(id);
  };
  return {
    receive(data) {
      if (!session) {
        session = new SfuSession({
          iceServers,
          tracks: { audio: call.media.track('audio'), video: call.media.track('video') },
          send,
          onRemoteTracks: (peerId, tracks) => {
            const peer = call.peers.find((p) => p.id === peerId);
            if (!peer) return;
            if (tracks.has('video')) dropMesh(peerId);
            const wanted = [...tracks.values()];
            for (const t of peer.stream.getTracks()) if (!wanted.includes(t)) peer.stream.removeTrack(t);
            for (const t of wanted) if (!peer.stream.getTrackById(t.id)) peer.stream.addTrack(t);
            if (wanted.length > 0) peer.connection = 'connected';
            host.requestUpdate();
          },
          onError: (w) => host.dispatch(new VideoChatWarningEvent(w.code, 'sfu', w.message, w.cause)),
        });
        void session.publish();
        host.requestUpdate();
      }
      void session.receive(data);
    },
    setTrack: (kind, track) => session?.setTrack(kind, track),
    getStats: () => session?.getStats(),
    close: () => session?.close(),
  };
}
