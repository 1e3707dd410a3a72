/**
 * The local preview (`MediaController.preview`, `media/preview.ts`) in Chromium and Firefox with their fake camera and
 * microphone: the camera alone (no microphone in the self-view's stream), and in a call a smaller, slower clone where
 * the browser can scale a track, while the camera track that is sent keeps its size. Settings are read back from the
 * tracks (`getSettings()`) and from a `<video>` playing the preview (`videoWidth`), what a person would see.
 */
import { expect } from '@open-wc/testing';
import { MediaController } from '../../../src/media/media-controller.js';
import { PREVIEW_FPS, PREVIEW_SHORT_SIDE, shrinkPreview } from '../../../src/media/preview.js';
import { waitFor } from '../helpers.js';

/** Whether this browser scales a cloned camera track: Chromium does; Firefox ESR 153 keeps the camera's size and rate. */
const scales = (): boolean => !navigator.userAgent.includes('Firefox');
const shortSide = (s: MediaTrackSettings) => Math.min(s.width ?? 0, s.height ?? 0);

describe('local preview', function () {
  this.timeout(20_000);
  let media: MediaController | undefined;
  let video: HTMLVideoElement | undefined;
  afterEach(() => {
    media?.stop();
    video?.remove();
    media = video = undefined;
  });

  async function started(): Promise<MediaController> {
    media = new MediaController(() => undefined);
    await media.start();
    expect(media.track('video'), 'a camera').to.not.equal(null);
    return media;
  }

  /** Plays `stream` in a muted `<video>` of thumbnail size; resolves once it has a picture. */
  async function play(stream: MediaStream): Promise<HTMLVideoElement> {
    video?.remove();
    video = Object.assign(document.createElement('video'), { muted: true, autoplay: true, playsInline: true });
    video.style.cssText = 'width:160px;height:120px;object-fit:cover';
    document.body.append(video);
    video.srcObject = stream;
    const shown = video;
    await waitFor('a picture', () => shown.videoWidth > 0);
    return shown;
  }

  it('shows the camera alone: no microphone in the preview, the sent stream keeps both', async () => {
    const m = await started();
    expect(m.preview?.getAudioTracks()).to.have.length(0);
    expect(m.preview?.getVideoTracks()[0]?.id).to.equal(m.track('video')?.id);
    expect(m.stream?.getAudioTracks()).to.have.length(1);
    const shown = await play(m.preview as MediaStream);
    expect(shown.videoWidth).to.equal(m.track('video')?.getSettings().width);
  });

  it('in a call, a smaller, slower clone where the browser scales tracks; the sent camera keeps its size', async () => {
    const m = await started();
    const camera = m.track('video') as MediaStreamTrack;
    const before = camera.getSettings();
    shrinkPreview(m);
    const preview = m.preview?.getVideoTracks()[0] as MediaStreamTrack;
    if (!scales()) {
      // A clone that came back unscaled saves nothing: the preview is the camera itself again, the clone stopped.
      await waitFor('the camera itself again', () => m.preview?.getVideoTracks()[0]?.id === camera.id);
      expect(preview.readyState).to.equal(preview.id === camera.id ? 'live' : 'ended');
      shrinkPreview(m);
      expect(m.preview?.getVideoTracks()[0]?.id, 'no clone from then on').to.equal(camera.id);
      return;
    }
    expect(preview.id, 'a clone').to.not.equal(camera.id);
    await waitFor('the clone scaled', () => shortSide(preview.getSettings()) <= PREVIEW_SHORT_SIDE);
    const settings = preview.getSettings();
    expect(settings.frameRate).to.be.at.most(PREVIEW_FPS);
    expect(settings.frameRate, 'a tile among others: 10 fps (each frame shown is a draw)').to.be.at.most(10);
    expect(settings.width! / settings.height!).to.be.closeTo(before.width! / before.height!, 0.02, 'aspect kept');
    const after = camera.getSettings();
    expect([after.width, after.height, after.frameRate]).to.deep.equal([before.width, before.height, before.frameRate]);
    expect(shortSide(before)).to.be.greaterThan(PREVIEW_SHORT_SIDE, 'the fake camera is larger than the preview');
    const shown = await play(m.preview as MediaStream);
    await waitFor(
      'the picture at the clone size',
      () => Math.min(shown.videoWidth, shown.videoHeight) <= PREVIEW_SHORT_SIDE,
    );
  });

  it('the clone is made again for a new camera, shows a picture after the camera was off, is stopped when replaced or released; setPreview() brings the camera back', async function () {
    const m = await started();
    if (!scales()) this.skip();
    shrinkPreview(m);
    const first = m.preview?.getVideoTracks()[0] as MediaStreamTrack;
    m.setCameraEnabled(false);
    expect(m.track('video')?.enabled, 'camera off: black frames sent').to.equal(false);
    m.setCameraEnabled(true);
    // A clone made while the camera was off shows a picture once it is on again (the tile hides it while off).
    m.setCameraEnabled(false);
    shrinkPreview(m);
    const made = m.preview?.getVideoTracks()[0] as MediaStreamTrack;
    expect(first.readyState, 'the clone it replaced stopped').to.equal('ended');
    m.setCameraEnabled(true);
    expect([made.enabled, m.track('video')?.enabled]).to.deep.equal([true, true]);
    const shown = await play(m.preview as MediaStream);
    expect(shown.videoWidth).to.be.greaterThan(0);
    // A camera switch (setDevice) makes a new camera track: the preview is a new clone of it.
    const camera = (await navigator.mediaDevices.enumerateDevices()).find((d) => d.kind === 'videoinput');
    await m.setDevice('videoinput', camera?.deviceId as string);
    const second = m.preview?.getVideoTracks()[0] as MediaStreamTrack;
    expect(second.id).to.not.equal(made.id);
    expect(second.id).to.not.equal(m.track('video')?.id);
    expect(made.readyState, 'the old clone stopped').to.equal('ended');
    expect(second.readyState).to.equal('live');
    m.setPreview();
    expect(m.preview?.getVideoTracks()[0]?.id, 'the camera itself again').to.equal(m.track('video')?.id);
    expect(second.readyState, 'the clone stopped').to.equal('ended');
    shrinkPreview(m);
    const third = m.preview?.getVideoTracks()[0] as MediaStreamTrack;
    m.stop();
    expect([third.readyState, m.preview]).to.deep.equal(['ended', null]);
  });

  it('a camera that goes away takes the clone with it', async function () {
    const m = await started();
    if (!scales()) this.skip();
    shrinkPreview(m);
    const clone = m.preview?.getVideoTracks()[0] as MediaStreamTrack;
    m.track('video')?.dispatchEvent(new Event('ended')); // what an unplugged camera does
    expect(m.preview).to.equal(null);
    expect(clone.readyState).to.equal('ended');
  });
});
