/**
 * What a viewer sees of a remote participant in `<video-chat>`, shared by the element's tests: the tile and camera
 * `<video>` of a peer, and waits for its media to be decoded (W3C WebRTC Statistics `inbound-rtp`).
 */
import type { VideoChatElement } from '../../../src/video-chat.js';
import { inbound, shadow, waitFor, waitForGrowth } from '../helpers.js';

/** The camera `<video>` of `peerId`'s tile in `viewer`, if shown. */
export const remoteVideo = (viewer: VideoChatElement, peerId: string | null): HTMLVideoElement | null =>
  shadow(viewer).querySelector<HTMLVideoElement>(`video[part~="remote-video"][data-peer-id="${peerId}"]`);

/** The tile of `peerId` in `viewer`, if shown. */
export const remoteTile = (viewer: VideoChatElement, peerId: string | null): HTMLElement | null =>
  shadow(viewer).querySelector<HTMLElement>(`[part~="remote-tile"][data-peer-id="${peerId}"]`);

/**
 * `viewer` shows `sender`'s camera as a person looking at its tile would see it: the tile is scrolled into view (a
 * tile scrolled out of the viewport is `hidden` in the viewer's `view`, and receiver-driven sending then pauses that
 * copy of the camera: docs/bandwidth.md), the placeholder is gone, framesDecoded of that track grows and its `<video>`
 * has a picture. Bounded by the waits' timeouts (10 s each, 15 s for the frames).
 */
export async function expectVideoFrom(viewer: VideoChatElement, sender: VideoChatElement): Promise<void> {
  const id = sender.peerId;
  await waitFor('camera placeholder gone', () => !remoteTile(viewer, id)?.querySelector('.placeholder'));
  const video = await waitFor('remote video', () => remoteVideo(viewer, id));
  video.scrollIntoView({ block: 'nearest' });
  const track = await waitFor('remote video track', () => (video.srcObject as MediaStream).getVideoTracks()[0]);
  await waitForGrowth(
    'frames from the sender',
    async () => inbound(await viewer.getStats(id as string), track.id).framesDecoded,
  );
  await waitFor('remote video to have a size', () => video.videoWidth > 0);
}

/** `el` decodes video frames and receives audio packets from `peerId`, and the peer's `<video>` has a picture. */
export async function expectMediaFrom(el: VideoChatElement, peerId: string): Promise<void> {
  await waitForGrowth(`video frames from ${peerId}`, async () => inbound(await el.getStats(peerId)).framesDecoded);
  await waitForGrowth(`audio packets from ${peerId}`, async () => inbound(await el.getStats(peerId)).audioPackets);
  await waitFor('remote <video> to have a size', () => (remoteVideo(el, peerId)?.videoWidth ?? 0) > 0);
}
