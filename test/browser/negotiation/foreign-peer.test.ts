/**
 * A peer that is not this element (another WebRTC stack: a bot, a recorder, a Node or Python peer) calls a
 * `<video-chat>`, written only from the "Writing your own peer" section of docs/protocol.md: a raw WebSocket to the
 * real relay and a raw RTCPeerConnection. It writes its JSON by hand, never sends `gen` or `media`, creates no data
 * channel, and uses nothing of src/ (neither PeerSession nor the protocol module's parsers). Video must decode both
 * ways, whether the foreign peer joins second (it offers) or is there first (it answers the element's offer).
 */
import { expect, fixtureCleanup } from '@open-wc/testing';
import type { VideoChatElement } from '../../../src/video-chat.js';
import { canvasTrack, inbound, joined, relayUrl, shadow, uniqueRoom, waitFor, waitForGrowth } from '../helpers.js';

/** What the foreign peer reads from the relay: only the fields the docs section says it needs. */
interface RelayMessage {
  type: string;
  id?: string;
  peers?: { id: string }[];
  from?: string;
  data?: { description?: RTCSessionDescriptionInit; candidate?: RTCIceCandidateInit | null };
}

interface ForeignPeer {
  /** Its peer ID, from `welcome`. */
  readonly id: Promise<string>;
  /** Its one RTCPeerConnection, once it has one. */
  connection(): RTCPeerConnection | undefined;
  close(): void;
}

/** An oscillator as a microphone: a live audio track that needs no device. */
function oscillatorTrack(context: AudioContext): MediaStreamTrack {
  const oscillator = context.createOscillator();
  const destination = context.createMediaStreamDestination();
  oscillator.connect(destination);
  oscillator.start();
  return destination.stream.getAudioTracks()[0] as MediaStreamTrack;
}

/** Joins `room` and calls the one other participant, as docs/protocol.md "Writing your own peer" says. */
function foreignPeer(room: string): ForeignPeer {
  const audioContext = new AudioContext();
  const tracks = [oscillatorTrack(audioContext), canvasTrack('#0a0')];
  const stream = new MediaStream(tracks);
  const ws = new WebSocket(relayUrl());
  let pc: RTCPeerConnection | undefined;
  let resolveId: (id: string) => void = () => undefined;
  const id = new Promise<string>((resolve) => (resolveId = resolve));

  const signal = (to: string, data: object) => ws.send(JSON.stringify({ type: 'signal', to, data }));
  /** One connection to `to`, sending our audio and video; our candidates trickle to it. */
  const connect = (to: string): RTCPeerConnection => {
    const connection = new RTCPeerConnection();
    connection.onicecandidate = ({ candidate }) => signal(to, { candidate: candidate ? candidate.toJSON() : null });
    for (const track of tracks) connection.addTrack(track, stream);
    pc = connection;
    return connection;
  };

  const handle = async (message: RelayMessage): Promise<void> => {
    if (message.type === 'welcome') {
      resolveId(message.id as string);
      const first = message.peers?.[0];
      if (!first) return; // first in the room: wait for the newcomer's offer
      const connection = connect(first.id); // the newcomer offers
      await connection.setLocalDescription();
      signal(first.id, { description: { type: 'offer', sdp: connection.localDescription?.sdp } });
    } else if (message.type === 'signal' && message.from && message.data) {
      const { description, candidate } = message.data;
      const connection = pc ?? connect(message.from);
      if (description) {
        // An offer while ours is outstanding: we are the newcomer, the polite side; this rolls ours back.
        await connection.setRemoteDescription(description);
        if (description.type === 'offer') {
          await connection.setLocalDescription();
          signal(message.from, { description: { type: 'answer', sdp: connection.localDescription?.sdp } });
        }
      } else if (candidate) {
        await connection.addIceCandidate(candidate);
      }
    }
  };
  // One message at a time, in order (a candidate must not overtake the description before it).
  let queue = Promise.resolve();
  ws.onopen = () => ws.send(JSON.stringify({ type: 'join', room, name: 'Bot' }));
  ws.onmessage = ({ data }: MessageEvent<string>) => {
    const message = JSON.parse(data) as RelayMessage;
    queue = queue.then(() => handle(message)).catch((error: unknown) => console.warn('foreign peer:', error));
  };

  return {
    id,
    connection: () => pc,
    close() {
      ws.close();
      pc?.close();
      for (const track of tracks) track.stop();
      void audioContext.close();
    },
  };
}

/** Video decodes both ways between `el` and `peer`, and the element shows the peer's video and audio. */
async function expectVideoBothWays(el: VideoChatElement, peer: ForeignPeer): Promise<void> {
  const peerId = await peer.id;
  await waitForGrowth('the element decoding the foreign video', async () => {
    return inbound(await el.getStats(peerId)).framesDecoded;
  });
  await waitForGrowth('the foreign peer decoding the element’s video', async () => {
    return inbound(await peer.connection()?.getStats()).framesDecoded;
  });
  const video = await waitFor('the foreign peer’s video with a size', () => {
    const v = shadow(el).querySelector<HTMLVideoElement>(`video[part~="remote-video"][data-peer-id="${peerId}"]`);
    return v && v.videoWidth > 0 ? v : undefined;
  });
  const shown = video.srcObject as MediaStream;
  expect(shown.getVideoTracks()).to.have.length(1);
  expect(shown.getAudioTracks()).to.have.length(1);
}

describe('a foreign peer written from docs/protocol.md (no gen, no media, no data channel)', function () {
  this.timeout(60_000);
  let peer: ForeignPeer | undefined;
  afterEach(() => {
    peer?.close();
    peer = undefined;
    fixtureCleanup();
  });

  it('joins after the element, offers, and video decodes both ways', async () => {
    const room = uniqueRoom('foreign');
    const el = await joined(room, 'Ada');
    peer = foreignPeer(room);
    await expectVideoBothWays(el, peer);
  });

  it('is in the room first, answers the element’s offer, and video decodes both ways', async () => {
    const room = uniqueRoom('foreign');
    peer = foreignPeer(room);
    await peer.id;
    const el = await joined(room, 'Ada');
    await expectVideoBothWays(el, peer);
  });
});
