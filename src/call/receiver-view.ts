/**
 * Receiver-driven sending in the mesh, on the sender's side: fits the caps the governor gives one connection's camera
 * encoding (`governor.ts`) to what that receiver shows of it, from its last data-channel `view` message
 * (`protocol/data-channel.ts`; the receiver's side is `ui/view-observer.ts`). W3C WebRTC §5.2
 * `RTCRtpEncodingParameters`: `scaleResolutionDownBy` from the camera's size to the shown size, `maxBitrate` scaled
 * by the pixels left, `maxFramerate` lowered for a thumbnail, `active: false` while hidden. Never above the
 * governor's caps. The screen share is not fitted (legibility): only the camera follows a `view`.
 *
 * Pure (engine chunk): no DOM, no WebRTC. Reasons and figures: docs/bandwidth.md "Receiver-driven sending".
 *
 * @module
 */
import type { EncodingCaps } from '../negotiation/bandwidth.js';
import type { PeerViewMessage } from '../protocol/data-channel.js';

/** Least `maxBitrate` a shown (not hidden) camera copy is fitted down to, in bps: a 160×120 picture at 15 fps. */
export const VIEW_FLOOR_BPS = 100_000;

/** A shown picture whose shorter side is below this (device px) is a thumbnail: at most {@link THUMB_FPS}. */
export const THUMB_SHORT_SIDE = 270;
export const THUMB_FPS = 15;

/**
 * The camera caps for one receiver.
 * @param caps the governor's caps for this copy (`active` unset or true).
 * @param view the receiver's last `view`, or undefined when it never sent one (then `caps` as they are).
 * @param source the camera track's size in px (`getSettings()`), if known; without it only `hidden` applies.
 * @returns caps with `active` set: false when hidden, else true with a larger `scaleResolutionDownBy` (≥ the
 *   governor's; the picture keeps at least the shown size in both directions, as `object-fit: cover` shows it), a
 *   `maxBitrate` scaled by the share of pixels left (≥ {@link VIEW_FLOOR_BPS}, ≤ the governor's) and at most
 *   {@link THUMB_FPS} for a thumbnail.
 */
export function viewCaps(
  caps: EncodingCaps,
  view: Pick<PeerViewMessage, 'width' | 'height' | 'hidden'> | undefined,
  source?: { width?: number | undefined; height?: number | undefined },
): EncodingCaps {
  if (!view) return caps;
  if (view.hidden) return { ...caps, active: false };
  const { width, height } = source ?? {};
  // object-fit: cover fills the box, so the picture needs the box's size in its smaller ratio's direction.
  const fit = width && height ? Math.min(width / view.width, height / view.height) : 1;
  const scale = Math.max(caps.scaleResolutionDownBy, fit);
  const pixels = (caps.scaleResolutionDownBy / scale) ** 2;
  return {
    maxBitrate: Math.round(Math.min(caps.maxBitrate, Math.max(VIEW_FLOOR_BPS, caps.maxBitrate * pixels))),
    scaleResolutionDownBy: Math.round(scale * 100) / 100,
    maxFramerate:
      Math.min(view.width, view.height) < THUMB_SHORT_SIDE ? Math.min(caps.maxFramerate, THUMB_FPS) : caps.maxFramerate,
    active: true,
  };
}
