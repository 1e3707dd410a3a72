/**
 * The self-view in a call (two real `<video-chat>` on the real relay, fake cameras): its clone of the camera is drawn at
 * what its tile needs (ui/self-view.ts, run by the view observer: size, and a lower frame rate in a tiny tile) and
 * follows the tile's size, while the camera
 * track itself is what every connection sends (the peer still receives a copy larger than the self-view). A camera
 * switch gives a new fitted clone that shows frames; leaving stops every clone. Settings read back with `getSettings()`,
 * the sent track from each `RTCRtpSender`, the pictures from `videoWidth`. Firefox ESR does not scale a cloned track
 * (media/preview.ts): there the self-view is the camera itself and only that is checked.
 */
import { expect } from '@open-wc/testing';
import '../../../src/index.js';
import type { VideoChatElement } from '../../../src/video-chat.js';
import { selfViewSide, TINY_SELF_VIEW_FPS, TINY_SELF_VIEW_SIDE } from '../../../src/ui/self-view.js';
import { captured, part, relayUrl, shadow, uniqueRoom, waitFor, recordConnections } from '../helpers.js';

/** Every RTCPeerConnection the page creates (real ones). */
const connections = recordConnections();

const scales = (): boolean => !navigator.userAgent.includes('Firefox');
const shortSide = (s: { width?: number | undefined; height?: number | undefined }) =>
  Math.min(s.width ?? 0, s.height ?? 0);

const placed: HTMLElement[] = [];

/** A `<video-chat>` of `width` × `height` CSS px, fixed at the page's top left (so on screen), admitted to `room`. */
async function element(room: string, name: string, width: number, height: number): Promise<VideoChatElement> {
  const el = document.createElement('video-chat');
  el.setAttribute('room', room);
  el.setAttribute('signal-url', relayUrl());
  el.setAttribute('name', name);
  el.style.cssText = `position:fixed;left:0;top:${placed.length * 10}px;display:block;width:${width}px;height:${height}px`;
  document.body.append(el);
  placed.push(el);
  await waitFor(`${name} to be admitted`, () => el.peerId, 15_000);
  return el;
}

const selfView = (el: VideoChatElement) => part<HTMLVideoElement>(el, 'local-video');
const shownTrack = (el: VideoChatElement) =>
  (selfView(el)?.srcObject as MediaStream | null | undefined)?.getVideoTracks()[0];
const camera = (el: VideoChatElement) => captured(el)?.getVideoTracks()[0] as MediaStreamTrack;

/** The shorter side (px) the self-view of `el` should get now: its box in device px, at most the clone's 240. */
function wanted(el: VideoChatElement): number {
  const box = (selfView(el) as HTMLVideoElement).getBoundingClientRect();
  const cam = camera(el).getSettings();
  const side = selfViewSide(
    { width: box.width * devicePixelRatio, height: box.height * devicePixelRatio },
    { width: cam.width ?? 0, height: cam.height ?? 0 },
  );
  return Math.min(side, 240);
}

/** The remote video `viewer` shows of `peer`. */
const remoteVideo = (viewer: VideoChatElement, peer: VideoChatElement) =>
  shadow(viewer).querySelector<HTMLVideoElement>(`video[part~="remote-video"][data-peer-id="${peer.peerId}"]`);

describe('the self-view in a call', function () {
  this.timeout(45_000);
  afterEach(() => {
    for (const el of placed.splice(0)) el.remove();
  });

  it('is a clone fitted to its tile that follows a resize, while every sender sends the camera itself', async () => {
    const room = uniqueRoom('self');
    const a = await element(room, 'Ada', 320, 420); // two people: the self-view small in a corner
    const b = await element(room, 'Grace', 900, 600);
    await waitFor('Grace shows Ada', () => (remoteVideo(b, a)?.videoWidth ?? 0) > 0, 20_000);
    const cam = camera(a);
    const before = cam.getSettings();
    if (!scales()) {
      await waitFor('the camera itself', () => shownTrack(a) === cam);
    } else {
      const small = await waitFor('a clone fitted to the small tile', () => {
        const shown = shownTrack(a);
        const side = wanted(a);
        return shown && shown !== cam && side && shortSide(shown.getSettings()) === side ? side : 0;
      });
      expect(small, 'smaller than the clone it was made as').to.be.below(240);
      expect(small, 'a tiny tile').to.be.below(TINY_SELF_VIEW_SIDE);
      await waitFor(
        'a tiny self-view at its lower rate',
        () => (shownTrack(a)?.getSettings().frameRate ?? Infinity) <= TINY_SELF_VIEW_FPS,
      );
      await waitFor(
        'the picture drawn at that size',
        () =>
          shortSide({
            width: selfView(a)?.videoWidth,
            height: selfView(a)?.videoHeight,
          }) === small,
      );
      a.style.width = '900px';
      a.style.height = '700px';
      const large = await waitFor('the clone grown with its tile', () => {
        const side = wanted(a);
        const shown = shownTrack(a);
        return side > small && shown && shortSide(shown.getSettings()) === side ? side : 0;
      });
      expect(large).to.be.at.most(240, 'never above the clone it was made as');
      expect(large).to.be.at.least(TINY_SELF_VIEW_SIDE);
      await waitFor(
        'a larger self-view at the clone rate again',
        () => (shownTrack(a)?.getSettings().frameRate ?? 0) > TINY_SELF_VIEW_FPS,
      );
    }
    const after = cam.getSettings();
    expect([after.width, after.height, after.frameRate]).to.deep.equal([before.width, before.height, before.frameRate]);
    const senders = connections
      .filter((pc) => pc.connectionState !== 'closed')
      .flatMap((pc) => pc.getSenders())
      .filter((s) => s.track?.kind === 'video');
    expect(senders.length, 'both sides send video').to.be.at.least(2);
    const ours = senders.filter((s) => s.track === cam);
    expect(ours.length, "Ada's connection sends the camera track itself").to.equal(1);
    expect(senders.some((s) => s.track === shownTrack(a))).to.equal(scales() ? false : true);
    await waitFor(
      "Grace's picture of Ada larger than Ada's self-view",
      () => (remoteVideo(b, a)?.videoWidth ?? 0) > (scales() ? (shownTrack(a)?.getSettings().width ?? 0) : 0),
    );
  });

  it('a camera switch gives a new fitted clone that shows frames; leaving stops every clone and the camera', async () => {
    const room = uniqueRoom('self');
    const a = await element(room, 'Ada', 320, 420);
    const b = await element(room, 'Grace', 600, 420);
    await waitFor('Grace shows Ada', () => (remoteVideo(b, a)?.videoWidth ?? 0) > 0, 20_000);
    const fitted = () => {
      const shown = shownTrack(a);
      return shown && shown !== camera(a) && wanted(a) && shortSide(shown.getSettings()) === wanted(a) ? shown : null;
    };
    const first = scales() ? await waitFor('a fitted clone', fitted) : (shownTrack(a) as MediaStreamTrack);
    const oldCamera = camera(a);
    const device = (await navigator.mediaDevices.enumerateDevices()).find((d) => d.kind === 'videoinput');
    await a.setDevice('videoinput', device?.deviceId as string);
    await waitFor('a new camera track', () => camera(a) !== oldCamera && camera(a)?.readyState === 'live');
    const second = scales()
      ? await waitFor('a new fitted clone', () => (fitted() !== first ? fitted() : null))
      : (shownTrack(a) as MediaStreamTrack);
    expect([first.readyState, second.readyState]).to.deep.equal(['ended', 'live']);
    const video = selfView(a) as HTMLVideoElement;
    const t0 = video.currentTime;
    await waitFor('the self-view plays', () => video.videoWidth > 0 && video.currentTime > t0);
    const cam = camera(a);
    a.remove();
    placed.splice(placed.indexOf(a), 1);
    await waitFor('every clone and the camera stopped', () =>
      [first, second, cam].every((t) => t.readyState === 'ended'),
    );
  });
});
