/**
 * Issue 10's regression: a renegotiation started while one participant's relay connection is down. Ada's socket
 * drops and every reconnect attempt is pointed at a relay path that does not exist (the outage) while the pair stays
 * connected peer to peer; Ada starts a screen share during the outage. Grace must see it (decoded frames of the screen
 * track, a picture with a size) while the outage lasts, her camera video must keep flowing, and a second share made
 * after the relay is back must work too. Before issue 10 the offer was dropped by the closed socket and the pair
 * stayed in `have-local-offer` for the rest of the call: neither share ever arrived.
 */
import { expect, fixtureCleanup } from '@open-wc/testing';
import '../../../src/index.js';
import type { VideoChatElement } from '../../../src/video-chat.js';
import { canvasTrack, inbound, part, uniqueRoom, waitFor, waitForGrowth, watchRelaySockets } from '../helpers.js';

/** Every WebSocket the page opens (the real class), and the outage: while on, new sockets go to a dead path. */
let outage = false;
const { sockets, joinedWithSocket: joined } = watchRelaySockets((url) =>
  outage ? url.replace(/\/relay$/, '/relay-gone') : url,
);

/** Frames the viewer decodes of the presenter's camera (the inbound video that is not the screen). */
async function cameraFrames(viewer: VideoChatElement, presenter: VideoChatElement): Promise<number> {
  const video = viewer.shadowRoot?.querySelector<HTMLVideoElement>(
    `video[part~="remote-video"][data-peer-id="${presenter.peerId ?? ''}"]`,
  );
  const track = (video?.srcObject as MediaStream | null | undefined)?.getVideoTracks()[0];
  return track ? inbound(await viewer.getStats(presenter.peerId as string), track.id).framesDecoded : 0;
}

/** The viewer shows the presenter's screen and decodes it: a picture with a size, frames growing. */
async function seesScreen(
  viewer: VideoChatElement,
  presenter: VideoChatElement,
  what: string,
): Promise<MediaStreamTrack> {
  const video = await waitFor(`${what}: screen video`, () => part<HTMLVideoElement>(viewer, 'screen-video'));
  const track = (video.srcObject as MediaStream).getVideoTracks()[0] as MediaStreamTrack;
  await waitForGrowth(
    `${what}: screen frames`,
    async () => inbound(await viewer.getStats(presenter.peerId as string), track.id).framesDecoded,
  );
  await waitFor(`${what}: screen picture size`, () => video.videoWidth > 0);
  return track;
}

describe('relay connection away during a renegotiation', () => {
  // Both elements inside the viewport: a receiver asks its sender to pause the camera to a tile scrolled out of view
  // (receiver-driven sending, docs/bandwidth.md), and this test watches the camera flow on through the outage.
  const fit = document.head.appendChild(document.createElement('style'));
  fit.textContent = 'video-chat { display: block; width: 400px; height: 220px; }';
  after(() => fit.remove());

  afterEach(() => {
    outage = false;
    fixtureCleanup();
  });

  it('a screen share started while the relay is away reaches the other peer, and so does one after', async () => {
    const room = uniqueRoom('outage');
    const { el: a, socket } = await joined(room, 'Ada');
    const { el: b } = await joined(room, 'Grace');
    await waitFor('in call', () => a.state === 'in-call' && b.state === 'in-call');
    await waitForGrowth('camera frames at Grace', () => cameraFrames(b, a));
    const aId = a.peerId;

    outage = true;
    socket.close(4999, 'test: relay connection lost'); // not a clean close: the relay keeps Ada's place
    await waitFor('Ada reconnecting', () => a.state === 'reconnecting');
    const first = canvasTrack('#c30', 320, 180);
    expect(await a.startScreenShare(new MediaStream([first]))).to.equal(true);
    const seen = await seesScreen(b, a, 'share during the outage');
    expect(a.state).to.equal('reconnecting', 'the relay is still away');
    expect(sockets.filter((s) => s.url.endsWith('/relay-gone')).length).to.be.greaterThan(0);
    await waitForGrowth('camera frames at Grace during the outage', () => cameraFrames(b, a));

    outage = false; // the relay is reachable again: Ada resumes her place
    await waitFor('Ada back in the call', () => a.state === 'in-call', 15_000);
    expect(a.peerId).to.equal(aId);
    a.stopScreenShare();
    await waitFor('the first share ended at Grace', () => seen.readyState === 'ended' || !part(b, 'screen-video'));
    const second = canvasTrack('#3c6', 320, 180);
    expect(await a.startScreenShare(new MediaStream([second]))).to.equal(true);
    await seesScreen(b, a, 'share after the outage');
    await waitForGrowth('camera frames at Grace at the end', () => cameraFrames(b, a));
    second.stop();
    first.stop();
  });
});
