/**
 * Receiver-driven sending between real elements (three `<video-chat>` in one page, the real relay, fake cameras):
 * each element tells each peer how large it shows its video (data-channel `view`, ui/view-observer.ts), and the
 * sender fits that one connection's camera encoding to it (call/receiver-view.ts). Read back from the sender's
 * `outbound-rtp` stats (W3C WebRTC Statistics: `frameWidth`, `framesEncoded`) and the receiver's tiles.
 *
 * The three elements are laid out side by side in the viewport (an element scrolled away counts as hidden).
 */
import { expect } from '@open-wc/testing';
import '../../../src/index.js';
import type { VideoChatElement } from '../../../src/video-chat.js';
import { VIEW_SIZES } from '../../../src/ui/view-observer.js';
import { inbound, relayUrl, shadow, uniqueRoom, waitFor } from '../helpers.js';

let stage: HTMLDivElement | undefined;

/** A `<video-chat>` in the page's stage (fixed, wrapping), admitted to `room`. */
async function element(room: string, name: string): Promise<VideoChatElement> {
  if (!stage) {
    stage = document.createElement('div');
    stage.style.cssText = 'position:fixed;inset:0;display:flex;flex-wrap:wrap;align-content:flex-start;gap:4px';
    document.body.append(stage);
  }
  const el = document.createElement('video-chat');
  el.setAttribute('room', room);
  el.setAttribute('signal-url', relayUrl());
  el.setAttribute('name', name);
  const width = Math.floor(innerWidth / 2) - 8;
  el.style.cssText = `display:block;width:${width}px;height:${Math.floor(innerHeight / 2) - 8}px`;
  stage.append(el);
  await waitFor(`${name} to be admitted`, () => el.peerId, 15_000);
  return el;
}

const video = (el: VideoChatElement, peerId: string) =>
  shadow(el).querySelector<HTMLVideoElement>(`video[part~="remote-video"][data-peer-id="${peerId}"]`);
const tile = (el: VideoChatElement, peerId: string) =>
  shadow(el).querySelector<HTMLElement>(`[part~="remote-tile"][data-peer-id="${peerId}"]`);

/** The camera's `outbound-rtp` towards `to`: frames encoded so far and the width sent. */
async function outbound(from: VideoChatElement, to: VideoChatElement): Promise<{ frames: number; width: number }> {
  let frames = 0;
  let width = 0;
  (await from.getStats(to.peerId as string))?.forEach((s: Record<string, unknown>) => {
    if (s['type'] !== 'outbound-rtp' || s['kind'] !== 'video') return;
    frames += Number(s['framesEncoded'] ?? s['framesSent'] ?? 0);
    width = Math.max(width, Number(s['frameWidth'] ?? 0));
  });
  return { frames, width };
}

/** The camera encoding `from` sends `to` (its first `RTCRtpEncodingParameters`, read back with `getParameters`). */
const cameraEncoding = (from: VideoChatElement, to: VideoChatElement) =>
  (
    from as unknown as {
      call: { getSendParameters(id: string): Map<string, RTCRtpSendParameters> };
    }
  ).call
    .getSendParameters(to.peerId as string)
    .get('video')?.encodings[0];

/** The camera's frames per second sent `to` (`outbound-rtp` `framesPerSecond`, else frames encoded over 2 s). */
async function sentFps(from: VideoChatElement, to: VideoChatElement): Promise<number> {
  let fps: number | undefined;
  (await from.getStats(to.peerId as string))?.forEach((s: Record<string, unknown>) => {
    if (s['type'] === 'outbound-rtp' && s['kind'] === 'video' && s['framesPerSecond'] !== undefined)
      fps = Number(s['framesPerSecond']);
  });
  return fps ?? (await framesOver(from, to, 2000)) / 2;
}

/** Frames encoded towards `to` over `ms` (after the change had time to take effect). */
async function framesOver(from: VideoChatElement, to: VideoChatElement, ms = 1500): Promise<number> {
  const before = (await outbound(from, to)).frames;
  await new Promise((resolve) => setTimeout(resolve, ms));
  return (await outbound(from, to)).frames - before;
}

/** Three elements, each showing both others' video. */
async function three(): Promise<[VideoChatElement, VideoChatElement, VideoChatElement]> {
  const room = uniqueRoom('view');
  const els = [await element(room, 'Ada'), await element(room, 'Bob'), await element(room, 'Cy')] as const;
  for (const el of els) {
    for (const other of els) {
      if (other === el) continue;
      await waitFor(
        `${el.name} shows ${other.name}`,
        () => (video(el, other.peerId as string)?.videoWidth ?? 0) > 0,
        40_000,
      );
    }
  }
  return [...els];
}

describe('receiver-driven sending', function () {
  this.timeout(180_000); // three peers in one page, beside the other browser's run, on a shared machine

  afterEach(() => {
    stage?.remove(); // every element leaves
    stage = undefined;
  });

  it('a tile shown smaller lowers the sender’s encoding for that receiver only', async () => {
    const [a, b, c] = await three();
    // Both receivers show Bob's video at a few hundred device pixels: Bob sends each of them more than 160 px wide.
    await waitFor(
      'Bob sends both over 160 px wide',
      async () => {
        const [toA, toC] = [await outbound(b, a), await outbound(b, c)];
        return toA.width > 160 && toC.width > 160;
      },
      20_000,
    );

    // Ada shows Bob in a 40×30 box: Bob's copy for Ada becomes a thumbnail (≤ 90 px rounded: 120×90 from 640×480).
    (video(a, b.peerId as string) as HTMLVideoElement).style.cssText = 'width:40px;height:30px;flex:none';
    await waitFor('Bob sends Ada at most 160 px wide', async () => (await outbound(b, a)).width <= 160, 15_000);
    expect((await outbound(b, c)).width, 'Bob still sends Cy the larger picture').to.be.greaterThan(160);
    expect(await framesOver(b, a), 'the thumbnail is still sent').to.be.greaterThan(0);
    // A tiny picture's copy at a tiny picture's rate (TINY_FPS, 5: each frame shown is a draw at the receiver, and
    // each a decode and an encode): held to it, and sent at it (the fake cameras run at 20–30 fps; a rate is read over
    // a window, so a little slack, though less than the 10 fps a tiny copy had before).
    expect(cameraEncoding(b, a)?.maxFramerate, "Bob's copy for Ada is held to a tiny picture's rate").to.equal(5);
    await waitFor('Bob sends Ada at most ~5 fps', async () => (await sentFps(b, a)) <= 7, 15_000);

    // Ada shows it large again: the picture comes back.
    (video(a, b.peerId as string) as HTMLVideoElement).style.cssText = '';
    await waitFor('Bob sends Ada over 160 px wide again', async () => (await outbound(b, a)).width > 160, 15_000);
  });

  it('a pinned tile shows the whole picture and gets a copy no larger than it draws', async () => {
    const [a, b, c] = await three();
    a.pin(b.peerId as string);
    const shown = video(a, b.peerId as string) as HTMLVideoElement;
    await waitFor('Bob is pinned at Ada', () => tile(a, b.peerId as string)?.classList.contains('pinned'), 5_000);
    // A pinned tile spans the element's width (a wide, low row): the picture is drawn whole in it, letterboxed.
    expect(getComputedStyle(shown).objectFit, 'the pinned picture is not cropped').to.equal('contain');
    const drawnWidth = () => {
      const box = shown.getBoundingClientRect();
      const scale = Math.min(box.width / shown.videoWidth, box.height / shown.videoHeight);
      return shown.videoWidth * scale * devicePixelRatio;
    };
    // Its sender fits the copy to the drawn picture (rounded up to VIEW_SIZES), not to the wider box: the width its
    // encoding asks for (camera ÷ scaleResolutionDownBy, read back, as the encoder rounds it) is at most that (the encoder may send less still,
    // e.g. when the machine is busy, so the encoding is what is read).
    const limit = () => VIEW_SIZES.find((s) => s >= drawnWidth()) ?? 2160;
    const cameraWidth = (b as unknown as { call: { media: { stream: MediaStream } } }).call.media.stream
      .getVideoTracks()[0]
      ?.getSettings().width as number;
    const asked = () => Math.floor(cameraWidth / (cameraEncoding(b, a)?.scaleResolutionDownBy ?? 1));
    await waitFor('Bob’s encoding for Ada asks no wider than the picture as drawn', () => asked() <= limit(), 15_000);
    expect(shown.getBoundingClientRect().width * devicePixelRatio, 'the tile is wider than that').to.be.greaterThan(
      limit(),
    );
    // The stats' frameWidth is the last frame encoded: one encoded before the new scale may still be the last read.
    await waitFor('and sends no wider', async () => (await outbound(b, a)).width <= limit(), 5_000);
    expect(await framesOver(b, a), 'the pinned picture is live').to.be.greaterThan(0);
    expect((await outbound(b, c)).width, 'Cy’s copy is its own').to.be.greaterThan(0);
  });

  it('a hidden element pauses sending to it, and only to it', async () => {
    const [a, b, c] = await three();
    c.style.display = 'none';
    await waitFor('Bob stopped encoding for Cy', async () => (await framesOver(b, c, 1000)) === 0, 20_000);
    expect(await framesOver(b, c), 'nothing for the hidden element').to.equal(0);
    expect(await framesOver(b, a), 'Ada still gets video').to.be.greaterThan(0);

    c.style.display = 'block';
    await waitFor('Bob encodes for Cy again', async () => (await framesOver(b, c, 1000)) > 0, 15_000);
  });

  it('audio-only sends no video, gets none, and shows initials; turning it off brings the video back', async () => {
    const [a, b, c] = await three();
    a.audioOnly = true;
    for (const other of [b, c]) {
      await waitFor(
        `Ada stopped encoding for ${other.name}`,
        async () => (await framesOver(a, other, 1000)) === 0,
        20_000,
      );
      await waitFor(
        `${other.name} stopped encoding for Ada`,
        async () => (await framesOver(other, a, 1000)) === 0,
        20_000,
      );
      // The others show Ada's initials, and Ada shows theirs.
      const initials = await waitFor(
        `${other.name} shows Ada's initials`,
        () => tile(other, a.peerId as string)?.querySelector('.placeholder'),
        15_000,
      );
      expect(initials.textContent).to.equal('A');
      expect(tile(a, other.peerId as string)?.querySelector('.placeholder')?.textContent).to.equal(other.name[0]);
    }
    const decoded = async () => inbound(await b.getStats(a.peerId as string)).framesDecoded;
    const before = await decoded();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await decoded(), 'Bob decodes nothing from Ada').to.equal(before);
    expect(await framesOver(b, c), 'Bob and Cy still see each other').to.be.greaterThan(0);

    a.audioOnly = false;
    await waitFor('Ada encodes for Bob again', async () => (await framesOver(a, b, 1000)) > 0, 15_000);
    await waitFor('Bob encodes for Ada again', async () => (await framesOver(b, a, 1000)) > 0, 15_000);
    await waitFor('Bob shows Ada’s video', () => !tile(b, a.peerId as string)?.querySelector('.placeholder'), 15_000);
  });
});
