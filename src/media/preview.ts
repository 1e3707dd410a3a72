/**
 * The self-view in a call as a smaller, slower copy of the camera: a clone of the camera track (W3C Media Capture and
 * Streams `MediaStreamTrack.clone()`) whose `applyConstraints` asks the browser to scale it down (`resizeMode:
 * 'crop-and-scale'`) to at most {@link PREVIEW_SHORT_SIDE} px on its shorter side and {@link PREVIEW_FPS} frames per
 * second. The clone has its own constraints, so the camera track that is sent keeps its size and rate.
 *
 * Why: the local `<video>` decodes nothing but the browser still converts and composites every camera frame; at 640×480
 * and 24 fps that was about a fifth of one page's rendering threads (`VizCompositorThread`, `VideoFrameCompositor`)
 * while the tile shows it at thumbnail size (docs/benchmarks.md, mesh). Given to `MediaController.setPreview` by the
 * call's stats chunk (`call/call-stats.ts`) once a first peer is connected, when the self-view becomes one tile among
 * others; before that (the pre-join screen, waiting alone) the tile is large and shows the camera itself.
 *
 * Only where it saves: a browser that cannot scale a track (no `resizeMode` in `getSupportedConstraints()`) or a
 * camera already that small and slow gets the camera itself back (no clone).
 *
 * @module
 */

/** Most pixels on the preview's shorter side (a thumbnail tile's, ~4:3 320 × 240 from a 640 × 480 camera). */
export const PREVIEW_SHORT_SIDE = 240;
/** Most frames per second of the preview. */
export const PREVIEW_FPS = 15;

/**
 * The preview track for `camera`: a clone scaled to at most {@link PREVIEW_SHORT_SIDE} px and {@link PREVIEW_FPS}
 * fps (the constraints apply asynchronously: the first frames may come at the camera's size), or `camera` itself where
 * that would save nothing. A clone the browser refuses to scale stays a full-size clone (the picture is the same).
 */
export function smallPreview(camera: MediaStreamTrack): MediaStreamTrack {
  const { width = 0, height = 0, frameRate = 0 } = camera.getSettings();
  const scale = Math.min(1, PREVIEW_SHORT_SIDE / Math.min(width, height));
  if (
    !(navigator.mediaDevices.getSupportedConstraints() as Record<string, boolean>)['resizeMode'] ||
    (scale === 1 && frameRate <= PREVIEW_FPS)
  )
    return camera;
  const clone = camera.clone();
  clone
    .applyConstraints({
      width: { max: Math.round(width * scale) },
      height: { max: Math.round(height * scale) },
      frameRate: { max: PREVIEW_FPS },
      resizeMode: 'crop-and-scale',
    } as MediaTrackConstraints)
    .catch(() => undefined); // OverconstrainedError: the clone stays as the camera is, which is what was shown before
  return clone;
}
