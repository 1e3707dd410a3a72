/**
 * The self-view in a call as a smaller, slower copy of the camera: a clone of the camera track (W3C Media Capture and
 * Streams `MediaStreamTrack.clone()`) whose `applyConstraints` asks the browser to scale it down (`resizeMode:
 * 'crop-and-scale'`) to at most {@link PREVIEW_SHORT_SIDE} px on its shorter side and {@link PREVIEW_FPS} frames per
 * second. The clone has its own constraints, so the camera track that is sent keeps its size and rate.
 *
 * Why: the local `<video>` decodes nothing, but the browser still converts and composites every camera frame
 * (`VizCompositorThread`, `VideoFrameCompositor`) while the tile shows it small. One Chromium page showing only the
 * preview (fake 640 × 480 camera at 24 fps, a 200 × 150 tile): 91 ms of CPU per s with the camera itself, 79 with
 * this clone (docs/benchmarks.md, mesh, for the whole call). Started by the call's stats chunk
 * (`call/call-stats.ts`) once a first peer is connected, when the self-view becomes one tile among others; before that
 * (the pre-join screen, waiting alone) the tile is large and shows the camera itself.
 *
 * @module
 */

import type { MediaController } from './media-controller.js';

/** Most pixels on the preview's shorter side (a thumbnail tile's, ~4:3 320 × 240 from a 640 × 480 camera). */
export const PREVIEW_SHORT_SIDE = 240;
/** Most frames per second of the preview (a tile among others: each frame shown is a draw, as a thumbnail's). */
export const PREVIEW_FPS = 10;

/** Set once a clone came back unscaled (Firefox ESR 153 accepts the constraints and keeps the camera's size and rate). */
let unscaled = false;

/**
 * Makes `media`'s preview (`MediaController.setPreview`) a clone of the camera scaled to at most
 * {@link PREVIEW_SHORT_SIDE} px and {@link PREVIEW_FPS} fps, for this camera and the next ones. Where that saves
 * nothing the preview is the camera itself: a browser that cannot scale a track (no `resizeMode` in
 * `getSupportedConstraints()`, or a clone whose settings still say the camera's size and rate once its constraints
 * applied: then the preview is made again, without a clone), or a camera already that small and slow. The constraints
 * apply asynchronously: the first frames of a clone may come at the camera's size.
 */
export function shrinkPreview(media: MediaController): void {
  const make = (camera: MediaStreamTrack): MediaStreamTrack => {
    const { width = 0, height = 0, frameRate = 0 } = camera.getSettings();
    const scale = Math.min(1, PREVIEW_SHORT_SIDE / Math.min(width, height));
    const supported = (navigator.mediaDevices.getSupportedConstraints() as Record<string, boolean>)['resizeMode'];
    if (unscaled || !supported || (scale === 1 && frameRate <= PREVIEW_FPS)) return camera;
    const clone = camera.clone();
    clone.enabled = true; // shown only while the camera is on (a clone of a muted camera would stay black)
    clone
      .applyConstraints({
        width: { max: Math.round(width * scale) },
        height: { max: Math.round(height * scale) },
        frameRate: { max: PREVIEW_FPS },
        resizeMode: 'crop-and-scale',
      } as MediaTrackConstraints)
      .then(() => {
        const now = clone.getSettings();
        if (Math.min(now.width ?? 0, now.height ?? 0) < Math.min(width, height) || (now.frameRate ?? 0) < frameRate)
          return;
        unscaled = true;
        if (media.preview?.getVideoTracks()[0] === clone) media.setPreview(make); // the camera itself, clone stopped
      })
      .catch(() => undefined); // OverconstrainedError: the clone stays as the camera is, what was shown before
    return clone;
  };
  media.setPreview(make);
}
