/**
 * Glare: two peers already in a call renegotiate at the same moment (both add, then both remove, a screen track),
 * 20 times. Every trial must end with both connections stable and media flowing. Real relay, real RTCPeerConnections,
 * real perfect negotiation; only the UI is left out.
 */
import { expect } from '@open-wc/testing';
import { PeerSession } from '../../../src/negotiation/peer-session.js';
import type { TrackKind } from '../../../src/protocol/negotiation.js';
import type { SignalData, ServerMessage } from '../../../src/protocol/relay.js';
import { SignalingClient } from '../../../src/signaling/signaling-client.js';
import { canvasTrack, inbound, relayUrl, uniqueRoom, waitFor, waitForGrowth } from '../helpers.js';

const TRIALS = 20;

interface Side {
  name: string;
  client: SignalingClient;
  id: string;
  session?: PeerSession;
  camera: MediaStreamTrack;
  /** Offers this side has sent. */
  offers: number;
}

/** Joins `room` and wires one PeerSession to the first other peer (the newcomer initiates, as the element does). */
async function joinSide(name: string, room: string, camera: MediaStreamTrack): Promise<Side> {
  const side = { name, camera, offers: 0 } as Side;
  const welcome = new Promise<void>((resolve) => {
    side.client = new SignalingClient({
      url: relayUrl(),
      onStateChange: (state) => state === 'open' && side.client.send({ type: 'join', room, name }),
      onMessage: (message: ServerMessage) => {
        if (message.type === 'welcome') {
          side.id = message.id;
          const peer = message.peers[0];
          if (peer) side.session = createSession(side, peer.id, true);
          resolve();
        } else if (message.type === 'peer-joined') {
          side.session = createSession(side, message.peer.id, false);
        } else if (message.type === 'signal') {
          side.session?.receive(message.data); // the session parses it
        }
      },
    });
    side.client.connect();
  });
  await welcome;
  return side;
}

/** Whether a negotiation message (the session's own, well-formed) carries an offer. */
function isOffer(data: SignalData): boolean {
  const description = data['description'];
  return (
    typeof description === 'object' && description !== null && 'type' in description && description.type === 'offer'
  );
}

function createSession(side: Side, peerId: string, initiator: boolean): PeerSession {
  return new PeerSession({
    peerId,
    initiator,
    iceServers: [],
    tracks: { video: side.camera },
    send: (data) => {
      if (isOffer(data)) side.offers += 1;
      side.client.send({ type: 'signal', to: peerId, data });
    },
    onError: (error) => console.warn(`${side.name}:`, error),
  });
}

const session = (side: Side): PeerSession => side.session as PeerSession;
const framesOf = async (side: Side, kind: TrackKind): Promise<number> => {
  const track = session(side).remoteTracks.get(kind);
  return track ? inbound(await session(side).getStats(), track.id).framesDecoded : 0;
};

describe('perfect negotiation under glare', function () {
  this.timeout(TRIALS * 30_000);

  it(`both sides add and remove a track at the same moment, ${TRIALS} times: stable with media every time`, async () => {
    const room = uniqueRoom('glare');
    const a = await joinSide('a', room, canvasTrack('#c00'));
    const b = await joinSide('b', room, canvasTrack('#00c'));
    try {
      await waitFor('sessions', () => a.session && b.session);
      await waitFor('connected', () => session(a).state === 'connected' && session(b).state === 'connected');
      await waitForGrowth('camera frames at a', () => framesOf(a, 'video'));

      for (let trial = 1; trial <= TRIALS; trial++) {
        const screens = [canvasTrack('#0c0'), canvasTrack('#cc0')];
        const offersBefore = [a.offers, b.offers];
        // Same task, no await between: both offers are in flight at once.
        await Promise.all([
          session(a).setTrack('screen', screens[0] as MediaStreamTrack),
          session(b).setTrack('screen', screens[1] as MediaStreamTrack),
        ]);
        await waitFor(
          `trial ${trial}: screens received and stable`,
          () => [a, b].every((s) => session(s).signalingState === 'stable' && session(s).remoteTracks.has('screen')),
          15_000,
        );
        await waitForGrowth(`trial ${trial}: screen frames at a`, () => framesOf(a, 'screen'));
        await waitForGrowth(`trial ${trial}: screen frames at b`, () => framesOf(b, 'screen'));

        await Promise.all([session(a).setTrack('screen', null), session(b).setTrack('screen', null)]);
        await waitFor(
          `trial ${trial}: screens removed and stable`,
          () => [a, b].every((s) => session(s).signalingState === 'stable' && !session(s).remoteTracks.has('screen')),
          15_000,
        );
        await waitForGrowth(`trial ${trial}: camera frames at a`, () => framesOf(a, 'video'));
        await waitForGrowth(`trial ${trial}: camera frames at b`, () => framesOf(b, 'video'));
        for (const track of screens) track.stop();
        // Both sides offered in this trial: glare was resolved, not avoided.
        expect(a.offers - (offersBefore[0] as number)).to.be.at.least(2, `trial ${trial}: offers from a`);
        expect(b.offers - (offersBefore[1] as number)).to.be.at.least(2, `trial ${trial}: offers from b`);
        expect(session(a).state).to.equal('connected');
        expect(session(b).state).to.equal('connected');
      }
      expect(session(a).generation).to.equal(0, 'no watchdog restart was needed');
    } finally {
      for (const side of [a, b]) {
        side.session?.close();
        side.client.close();
        side.camera.stop();
      }
    }
  });
});
