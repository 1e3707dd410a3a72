/**
 * The self-view in a call drawn at what its tile needs: the clone of the camera that `media/preview.ts` makes for it
 * (at most 240 px on its shorter side, 10 fps) is scaled further down to the picture its tile draws, in device px,
 * rounded up to {@link SELF_VIEW_SIZES}, and slowed to {@link TINY_SELF_VIEW_FPS} in a tiny tile. W3C Media Capture and Streams `applyConstraints` with `resizeMode:
 * 'crop-and-scale'`: Chromium scales the clone in the renderer's track adapter, the camera track itself (the one sent to
 * every peer) keeps its constraints, size and rate. Only a clone is touched: the camera itself (the pre-join preview,
 * alone in a room, a browser that cannot scale a track) is never constrained here.
 *
 * Why: each camera frame the self-view shows is converted and copied for the compositor at the clone's size; a strip
 * tile (147 × 85 CSS px in the mesh bench) drew a 320 × 240 clone (docs/benchmarks.md, "Mesh, layout case").
 * Run by the view observer (`view-observer.ts`, its chunk) after each render and resize, so a new clone (a camera
 * switch, the camera back on) is fitted within its debounce.
 *
 * @module
 */

/** Sizes (device px) the self-view picture's shorter side is rounded up to (few steps: few `applyConstraints`). */
export const SELF_VIEW_SIZES = [90, 120, 180, 240, 360, 480, 720, 1080] as const;

/**
 * A self-view whose tile is tiny (its picture's shorter side, device px, below this: a strip tile under a pinned one,
 * the corner of a small box) is shown at most {@link TINY_SELF_VIEW_FPS} frames per second.
 */
export const TINY_SELF_VIEW_SIDE = 150;
/**
 * Most frames per second of a tiny self-view. Each frame shown is a draw (software compositing: ~0.8 ms of the GPU
 * process's compositor per frame, whatever its size; docs/benchmarks.md "Mesh, layout case"); a visible change: the
 * person's own picture in the strip moves at 5 fps (as do the others' strip tiles, `call/receiver-view.ts` `TINY_FPS`).
 */
export const TINY_SELF_VIEW_FPS = 5;

/** The constraints each clone had before it was first fitted here (its maker's caps: never exceeded). */
const caps = new WeakMap<MediaStreamTrack, MediaTrackConstraints>();
/** The shorter side last asked of each clone (px; negative at the tiny rate), so an unchanged fit asks nothing. */
const asked = new WeakMap<MediaStreamTrack, number>();

const max = (c: MediaTrackConstraints[keyof MediaTrackConstraints]): number =>
  typeof c === 'number' ? c : ((c as ConstrainULongRange | undefined)?.max ?? Infinity);

/**
 * The shorter side (px) of the picture the self-view needs: `object-fit: cover` (the tile's style) fills a `box` (device
 * px) with a `camera`-shaped picture, so the picture covers the box in both directions; rounded up to
 * {@link SELF_VIEW_SIZES} (the last one beyond it). 0 when the box or the camera has no size.
 */
export function selfViewSide(
  box: { width: number; height: number },
  camera: { width: number; height: number },
): number {
  if (!box.width || !box.height || !camera.width || !camera.height) return 0;
  const scale = Math.max(box.width / camera.width, box.height / camera.height);
  const side = Math.min(camera.width, camera.height) * scale;
  return SELF_VIEW_SIZES.find((s) => s >= side) ?? (SELF_VIEW_SIZES.at(-1) as number);
}

/**
 * Fits `shown` (the self-view's track) to a `box` of device px when it is a clone of `camera`: its width and height
 * at most the picture covering the box ({@link selfViewSide}), never above the clone's own first constraints; its frame
 * rate the clone's own, or at most {@link TINY_SELF_VIEW_FPS} when the picture is tiny ({@link TINY_SELF_VIEW_SIDE}).
 * Nothing when `shown` is the camera, is not live, has no constraints of its maker's yet, or was already asked that
 * size and rate. A refusal (`OverconstrainedError`) leaves the clone as it was: what was shown before.
 * @returns the `applyConstraints` promise when constraints were asked, else undefined.
 */
export function fitSelfView(
  shown: MediaStreamTrack,
  camera: MediaStreamTrack | null,
  box: { width: number; height: number },
): Promise<void> | undefined {
  if (!camera || shown === camera || shown.readyState !== 'live') return;
  const { width = 0, height = 0 } = camera.getSettings();
  let side = selfViewSide(box, { width, height });
  // Its maker's constraints apply asynchronously: until they read back, the clone is left alone (asked at a later run).
  const first = caps.get(shown) ?? shown.getConstraints();
  if (first.width === undefined || first.height === undefined) return;
  caps.set(shown, first);
  const scale = Math.min(1, max(first.width) / width, max(first.height) / height);
  const tiny = side > 0 && side < TINY_SELF_VIEW_SIDE;
  side = Math.min(side, Math.round(Math.min(width, height) * scale));
  const key = side * (tiny ? -1 : 1);
  if (!side || asked.get(shown) === key) return;
  asked.set(shown, key);
  const ratio = side / Math.min(width, height);
  return shown
    .applyConstraints({
      ...first,
      width: { max: Math.round(width * ratio) },
      height: { max: Math.round(height * ratio) },
      ...(tiny && { frameRate: { max: Math.min(TINY_SELF_VIEW_FPS, max(first.frameRate)) } }),
      resizeMode: 'crop-and-scale',
    } as MediaTrackConstraints)
    .catch(() => undefined);
}
