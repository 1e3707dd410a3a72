import { expect, fixtureCleanup } from '@open-wc/testing';
import '../../../src/index.js';
import type { StateChangeEvent } from '../../../src/events.js';
import { inbound, uniqueRoom, waitFor, waitForGrowth, watchRelaySockets } from '../helpers.js';

/** Every WebSocket the page opens (a spy: the real class is used), so a test can drop one as a network would. */
const { sockets, joinedWithSocket: joined } = watchRelaySockets();

describe('relay connection lost and resumed', () => {
  afterEach(() => fixtureCleanup());

  it('keeps its ID and its peer connections; the other side sees nothing', async () => {
    const room = uniqueRoom('resume');
    const { el: a, socket } = await joined(room, 'Ada');
    const { el: b } = await joined(room, 'Grace');
    await waitFor('in call', () => a.state === 'in-call' && b.state === 'in-call');
    const bId = b.peerId as string;
    const aId = a.peerId as string;
    await waitForGrowth('frames at a', async () => inbound(await a.getStats(bId)).framesDecoded);

    const seenByB: string[] = [];
    b.addEventListener('vc-peer-left', () => seenByB.push('peer-left'));
    b.addEventListener('vc-peer-joined', () => seenByB.push('peer-joined'));
    const statesOfA: string[] = [];
    a.addEventListener('vc-state-change', (e: StateChangeEvent) => statesOfA.push(e.state));
    let joinedAgain = 0;
    a.addEventListener('vc-joined', () => joinedAgain++);

    // A lost connection (not a deliberate close): the relay keeps Ada for its grace period.
    socket.close(4999, 'test: connection lost');
    await waitFor(
      'reconnecting then back in the call',
      () => statesOfA.includes('reconnecting') && a.state === 'in-call',
    );
    expect(a.peerId).to.equal(aId);
    expect(sockets.at(-1)).to.not.equal(socket);
    expect(joinedAgain).to.equal(0, 'a resume is not a new join');
    expect(seenByB).to.deep.equal([]);
    expect(b.peers.map((p) => p.id)).to.deep.equal([aId]);
    // The same RTCPeerConnection still carries media (frames counters keep growing, they did not restart from 0).
    const frames = inbound(await a.getStats(bId)).framesDecoded;
    await waitForGrowth('frames at a after resume', async () => inbound(await a.getStats(bId)).framesDecoded);
    expect(inbound(await a.getStats(bId)).framesDecoded).to.be.greaterThan(frames);
    // And negotiation still works through the resumed connection: a screen share reaches b.
    const canvas = document.createElement('canvas');
    canvas.getContext('2d')?.fillRect(0, 0, 10, 10);
    const source = canvas.captureStream(5);
    await a.startScreenShare(source);
    await waitFor('b sees the screen', () => b.shadowRoot?.querySelector('[part~="screen-video"]'));
    source.getTracks().forEach((t) => t.stop());
  });
});
