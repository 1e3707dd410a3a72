/**
 * What adapts each camera copy to its receiver and its link, in a chunk of its own (`video-chat-receiver-view-<hash>.js`,
 * loaded by `governor.ts` `loadAdaptive` on the first `view` message or the first measured uplink).
 *
 * Receiver-driven sending in the mesh, on the sender's side ({@link viewCaps}): fits the caps the governor gives one connection's camera
 * encoding (`governor.ts`) to what that receiver shows of it, from its last data-channel `view` message
 * (`protocol/data-channel.ts`; the receiver's side is `ui/view-observer.ts`). W3C WebRTC §5.2
 * `RTCRtpEncodingParameters`: `scaleResolutionDownBy` from the camera's size to the shown size, `maxBitrate` scaled
 * by the pixels left, `maxFramerate` lowered for a thumbnail, `active: false` while hidden. Never above the
 * governor's caps. The screen share is not fitted (legibility): only the camera follows a `view`.
 *
 * The measured uplink ({@link UplinkWatch}): each link's room for video as the stats loop reads it (`call-stats.ts`),
 * the governor's step it falls in, and a weak link reported.
 *
 * No DOM, no WebRTC. Reasons and figures: docs/bandwidth.md "Receiver-driven sending" and "Measured uplink".
 *
 * @module
 */
import { VideoChatWarningEvent } from '../events.js';
import { LINK_STEPS, type EncodingCaps } from '../negotiation/bandwidth.js';
import type { PeerViewMessage } from '../protocol/data-channel.js';
import type { CallHost } from './types.js';

/** Least `maxBitrate` a shown (not hidden) camera copy is fitted down to, in bps: a 160×120 picture at 15 fps. */
export const VIEW_FLOOR_BPS = 100_000;

/** A shown picture whose shorter side is below this (device px) is a thumbnail: at most {@link THUMB_FPS}. */
export const THUMB_SHORT_SIDE = 270;
export const THUMB_FPS = 15;
/** A shown picture whose shorter side is below this (device px), e.g. a tile of the strip under a pinned one, is tiny. */
export const TINY_SHORT_SIDE = 150;
/**
 * Most frames per second of a tiny picture's copy. Each frame shown costs its receiver a draw (software compositing:
 * about the same per frame whatever its size) besides its decoding and its sender's encoding, and at a tiny size these
 * per-frame costs are most of a copy's; at 5 a strip tile is still live, as the self-view beside it
 * (`ui/self-view.ts` `TINY_SELF_VIEW_FPS`), while a grid tile keeps {@link THUMB_FPS} (docs/benchmarks.md, "Mesh,
 * layout case").
 */
export const TINY_FPS = 5;

/**
 * The camera caps for one receiver.
 * @param caps the governor's caps for this copy (`active` unset or true).
 * @param view the receiver's last `view`, or undefined when it never sent one (then `caps` as they are).
 * @param source the camera track's size in px (`getSettings()`), if known; without it only `hidden` applies.
 * @returns caps with `active` set: false when hidden, else true with a larger `scaleResolutionDownBy` (≥ the
 *   governor's; the picture keeps at least the shown size in both directions, as `object-fit: cover` shows it), a
 *   `maxBitrate` scaled by the share of pixels left (≥ {@link VIEW_FLOOR_BPS}, ≤ the governor's) and at most
 *   {@link THUMB_FPS} for a thumbnail, {@link TINY_FPS} for a tiny picture.
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
  const shortSide = Math.min(view.width, view.height);
  return {
    maxBitrate: Math.round(Math.min(caps.maxBitrate, Math.max(VIEW_FLOOR_BPS, caps.maxBitrate * pixels))),
    scaleResolutionDownBy: Math.round(scale * 100) / 100,
    maxFramerate: Math.min(
      caps.maxFramerate,
      shortSide < TINY_SHORT_SIDE ? TINY_FPS : shortSide < THUMB_SHORT_SIDE ? THUMB_FPS : Infinity,
    ),
    active: true,
  };
}

/**
 * The camera copies weighted by what each receiver shows of them, for the governor's per-copy share
 * (`cameraCaps(remotePeers)` of negotiation/bandwidth.ts): a receiver that shows none counts 0, one whose view fits
 * the copy below the share `caps` counts the part of it that copy uses (a 270 × 180 px thumbnail of a 640 × 480
 * camera about 0.18), any other 1. So what thumbnails and hidden tiles leave of the uplink budget goes to the copies
 * shown large (a pinned tile gets up to the ceiling instead of an equal share), and the copies still add up to about
 * the budget: each fitted copy's `maxBitrate` scales with the share.
 * @param caps the governor's caps for one copy with every receiver counted as 1.
 * @param views the last `view` of every receiver of a copy (undefined: never said: counts 1).
 * @returns a number of copies, ≥ 0 and ≤ `views.length` (fractional).
 */
export function shownCopies(
  caps: EncodingCaps,
  views: readonly (PeerViewMessage | undefined)[],
  source?: { width?: number | undefined; height?: number | undefined },
): number {
  return views.reduce(
    (n, view) => n + (view?.hidden ? 0 : viewCaps(caps, view, source).maxBitrate / caps.maxBitrate),
    0,
  );
}

/**
 * Video kbps below which a link's uplink is weak: a camera copy cannot be sent at the governor's floor
 * (`cameraFloorKbps` of negotiation/bandwidth.ts). Weak on {@link WEAK_POLLS} polls in a row: `vc-warning`
 * `weak-uplink` (once per onset) and the peer's quality `poor` until it is back at or above it.
 */
export const WEAK_UPLINK_KBPS = 150;
export const WEAK_POLLS = 3;

/** The governor's step a link's kbps falls in (how many of `LINK_STEPS` it reaches). */
const step = (kbps: number | undefined): number => LINK_STEPS.filter((s) => s <= (kbps ?? Infinity)).length;

/**
 * Hysteresis of the caps that follow a link's measure (the governor set 9 `setParameters` in 8 s on a loaded link,
 * each a new encoder setting, as congestion control's estimate wobbled across a step): they go down at once only when
 * the measure is more than {@link LOWER_MARGIN} below the step they follow, and up only after the measure stayed on a
 * higher step for {@link RAISE_POLLS} readings in a row (then to the lowest of those readings).
 */
export const LOWER_MARGIN = 0.15;
export const RAISE_POLLS = 3;

/** Each link's measured room for video, kept by the stats loop. */
export class UplinkWatch {
  /**
   * Video kbps each link can carry as the caps follow it, by peer ID: the latest measure while it stays on the same
   * step of `LINK_STEPS`, else held as {@link LOWER_MARGIN} and {@link RAISE_POLLS} say.
   */
  readonly kbps = new Map<string, number>();
  /** Polls in a row each link was weak. */
  readonly #weak = new Map<string, number>();
  /** The readings in a row on a higher step than the held one, by peer ID. */
  readonly #higher = new Map<string, number[]>();

  /**
   * Takes one poll's measure of a link (kbps of video, `Reading.uplink`); fires `vc-warning` `weak-uplink` through
   * `host` on the {@link WEAK_POLLS}th weak poll in a row (from the measure itself, not the held figure).
   * @returns whether the held figure moved to another of the governor's steps (the caps should be re-applied).
   */
  update(peerId: string, kbps: number, host: CallHost): boolean {
    const held = this.kbps.get(peerId);
    const [now, was] = [step(kbps), step(held)];
    const higher = now > was && held !== undefined ? [...(this.#higher.get(peerId) ?? []), kbps] : [];
    const lower = now < was && kbps < (LINK_STEPS[was - 1] ?? 0) * (1 - LOWER_MARGIN);
    let next = held;
    if (held === undefined || now === was || lower) next = kbps;
    else if (higher.length >= RAISE_POLLS) next = Math.min(...higher);
    this.#higher.set(peerId, next === held ? higher : []);
    this.kbps.set(peerId, next as number);
    const polls = kbps < WEAK_UPLINK_KBPS ? (this.#weak.get(peerId) ?? 0) + 1 : 0;
    this.#weak.set(peerId, polls);
    if (polls === WEAK_POLLS) {
      const message = `${Math.round(kbps)} kbps of video can reach this peer`;
      host.dispatch(new VideoChatWarningEvent('weak-uplink', peerId, message));
    }
    return step(next) !== was;
  }

  /** Whether the link to `peerId` is weak now (reported). */
  weak(peerId: string): boolean {
    return (this.#weak.get(peerId) ?? 0) >= WEAK_POLLS;
  }

  /** Forgets the links of peers not in `peers`. */
  keep(peers: ReadonlyMap<string, unknown>): void {
    for (const id of this.kbps.keys()) {
      if (peers.has(id)) continue;
      this.kbps.delete(id);
      this.#weak.delete(id);
      this.#higher.delete(id);
    }
  }
}
