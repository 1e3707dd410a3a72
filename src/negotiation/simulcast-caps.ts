/**
 * The bandwidth governor in a room on the SFU (issue 12): one upload with three simulcast layers (RFC 8853, rids
 * `h`/`m`/`l`) instead of one copy per peer, so the budget is not divided among copies: each layer gets a share of it.
 * With `DEFAULT_BUDGET` (2,500 kbps) that is 1,500 / 500 / 150 kbps (2,150 kbps in all, ../shared/scale-out.md §B.5),
 * whatever the size of the room. While a screen is shared the camera's layers share what the screen leaves
 * (`1 - screenShare`). Applied as `RTCRtpEncodingParameters` (W3C WebRTC §5.2: `maxBitrate` in bps,
 * `scaleResolutionDownBy`) through `sendEncodings` and `RTCRtpSender.setParameters`. Reasons: docs/bandwidth.md.
 *
 * Pure: no WebRTC call, no DOM.
 *
 * @module
 */
import { DEFAULT_BUDGET, type BandwidthBudget } from './bandwidth.js';

/** Share of the camera's budget per layer, and its least kbps. */
export const LAYER_SHARES = [
  { rid: 'h', share: 0.6, floorKbps: 0, downscale: 1 },
  { rid: 'm', share: 0.2, floorKbps: 100, downscale: 2 },
  { rid: 'l', share: 0.06, floorKbps: 50, downscale: 4 },
] as const;

/** The shorter side (px) the high layer is sent at, at most: a larger camera is scaled down to it. */
export const HIGH_LAYER_SHORT_SIDE = 720;

/**
 * The camera's three simulcast encodings with their caps, highest first (as Janus expects).
 * @param budget the governor's budgets, kbps (defaults `DEFAULT_BUDGET`).
 * @param options.sharingScreen whether a screen share also uses the uplink.
 * @param options.sourceShortSide the camera's shorter side in px, if known: above {@link HIGH_LAYER_SHORT_SIDE} the
 *   high layer is scaled down to it (the others in proportion).
 * @returns `[{ rid: 'h', maxBitrate, scaleResolutionDownBy }, { rid: 'm', … }, { rid: 'l', … }]`, `maxBitrate` in bps;
 *   the high one within `[cameraFloorKbps, cameraCeilingKbps]`, each lower one at least its floor (100 / 50 kbps) and
 *   at most half the one above it (the half wins over the floor).
 */
export function simulcastCaps(
  budget: Readonly<BandwidthBudget> = DEFAULT_BUDGET,
  options: { sharingScreen?: boolean; sourceShortSide?: number | undefined } = {},
): RTCRtpEncodingParameters[] {
  const total = budget.uplinkKbps * (options.sharingScreen ? 1 - budget.screenShare : 1);
  const source = options.sourceShortSide;
  const base = source && source > HIGH_LAYER_SHORT_SIDE ? source / HIGH_LAYER_SHORT_SIDE : 1;
  let above = budget.cameraCeilingKbps;
  return LAYER_SHARES.map(({ rid, share, floorKbps, downscale }) => {
    const floor = rid === 'h' ? budget.cameraFloorKbps : floorKbps;
    const kbps = Math.round(Math.min(above, Math.max(floor, total * share)));
    above = kbps / 2;
    return { rid, maxBitrate: kbps * 1000, scaleResolutionDownBy: Math.round(base * downscale * 100) / 100 };
  });
}
