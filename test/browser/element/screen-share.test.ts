import { expect, fixtureCleanup } from '@open-wc/testing';
import '../../../src/index.js';
import type { ScreenShareEvent, VideoChatErrorEvent } from '../../../src/events.js';
import type { VideoChatElement } from '../../../src/video-chat.js';
import { inbound, inCall, joined, nextEvent, part, uniqueRoom, waitFor, waitForGrowth } from '../helpers.js';

const screenVideo = (el: VideoChatElement) => part<HTMLVideoElement>(el, 'screen-video');

/** A "screen": a canvas stream with a moving bar (what a page would pass as `source`). */
function canvasScreen(): MediaStream {
  const canvas = document.createElement('canvas');
  canvas.width = 320;
  canvas.height = 180;
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
  let x = 0;
  const stream = canvas.captureStream(15);
  const timer = setInterval(() => {
    if (stream.getVideoTracks()[0]?.readyState !== 'live') return clearInterval(timer);
    ctx.fillStyle = '#234';
    ctx.fillRect(0, 0, 320, 180);
    ctx.fillStyle = '#fc0';
    ctx.fillRect((x = (x + 9) % 320), 0, 20, 180);
  }, 66);
  return stream;
}

/** The viewer decodes frames of the presenter's screen in its spotlight. */
async function expectSpotlightFrom(viewer: VideoChatElement, presenter: VideoChatElement): Promise<void> {
  const video = await waitFor('spotlight video', () => screenVideo(viewer));
  expect(video.dataset['peerId']).to.equal(presenter.peerId);
  const track = (video.srcObject as MediaStream).getVideoTracks()[0] as MediaStreamTrack;
  await waitForGrowth(
    'screen frames',
    async () => inbound(await viewer.getStats(presenter.peerId as string), track.id).framesDecoded,
  );
  await waitFor('screen video to have a size', () => video.videoWidth > 0);
}

describe('screen share', () => {
  afterEach(() => fixtureCleanup());

  it('shares a source with the other peer, who sees it in the spotlight; stopping removes it', async () => {
    const [a, b] = await inCall(uniqueRoom('screen'));
    const localEvent = nextEvent<ScreenShareEvent>(a, 'vc-screen-share');
    const remoteEvent = nextEvent<ScreenShareEvent>(b, 'vc-screen-share');
    const source = canvasScreen();
    expect(await a.startScreenShare(source)).to.equal(true);
    expect((await localEvent).peerId).to.equal(null);
    const remote = await remoteEvent;
    expect([remote.peerId, remote.active]).to.deep.equal([a.peerId, true]);
    expect(a.screenSharing).to.equal(true);
    await a.updateComplete;
    expect(part(a, 'sharing-banner')?.textContent).to.contain('You are sharing your screen');
    expect(part(a, 'screen-button')?.getAttribute('aria-pressed')).to.equal('true');
    await expectSpotlightFrom(b, a);
    expect(part(b, 'spotlight')?.textContent).to.contain('Ada’s screen');
    expect(part(b, 'grid')?.classList.contains('strip')).to.equal(true);
    await expect(b).to.be.accessible();

    const stopped = nextEvent<ScreenShareEvent>(b, 'vc-screen-share');
    part<HTMLButtonElement>(a, 'stop-share-button')?.click();
    expect((await stopped).active).to.equal(false);
    await waitFor('spotlight gone', () => screenVideo(b) === null);
    expect(source.getVideoTracks()[0]?.readyState).to.equal('live', "a caller's source is not stopped");
    source.getVideoTracks()[0]?.stop();
  });

  it('a peer who joins during a share sees the screen', async () => {
    const room = uniqueRoom('late');
    const a = await joined(room, 'Ada');
    await a.startScreenShare(canvasScreen());
    const b = await joined(room, 'Grace');
    await expectSpotlightFrom(b, a);
  });

  it('a share that the browser ends (its own "Stop sharing") stops everywhere', async () => {
    const [a, b] = await inCall(uniqueRoom('ended'));
    const source = canvasScreen();
    await a.startScreenShare(source);
    await waitFor('spotlight', () => screenVideo(b));
    const stopped = nextEvent<ScreenShareEvent>(a, 'vc-screen-share');
    // What the browser does when its "Stop sharing" bar is used: the capture track ends.
    source.getVideoTracks()[0]?.dispatchEvent(new Event('ended'));
    expect((await stopped).active).to.equal(false);
    expect(a.screenSharing).to.equal(false);
    await waitFor('spotlight gone at the viewer', () => screenVideo(b) === null);
    source.getVideoTracks()[0]?.stop();
  });

  it('startScreenShare() captures the screen with getDisplayMedia (or reports why it cannot)', async () => {
    const [a, b] = await inCall(uniqueRoom('display'));
    if (navigator.userAgent.includes('Firefox')) {
      // Headless Firefox has no screen to capture: the visitor gets a readable error, the call goes on.
      const error = nextEvent<VideoChatErrorEvent>(a, 'vc-error');
      let code = '';
      await a.startScreenShare().catch((e: { code: string }) => (code = e.code));
      expect(['no-device', 'permission-denied', 'device-busy']).to.include(code);
      const event = await error;
      console.log(`Firefox screen share error: ${event.error.code}: ${event.error.message}`);
      expect(event.error.message.toLowerCase()).to.contain('screen');
      expect(a.screenSharing).to.equal(false);
      expect(a.state).to.equal('in-call');
      return;
    }
    expect(await a.startScreenShare()).to.equal(true);
    await expectSpotlightFrom(b, a);
    a.stopScreenShare();
    await waitFor('spotlight gone', () => screenVideo(b) === null);
  });
});
