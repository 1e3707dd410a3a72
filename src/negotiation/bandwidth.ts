/**
 * The bandwidth governor's policy: how much each video sender may use, from the number of remote peers.
 *
 * In a mesh every participant uploads one copy of its camera (and of its screen share) per remote peer, so the uplink
 * is what runs out first: left alone, each copy ramps up to ~1.5–2.5 Mbps and six people need 7–12 Mbps of upload
 * each. This module divides a fixed uplink budget among the copies, with a floor (below it video is not worth
 * sending) and a ceiling (above it one copy gains nothing visible), and picks the resolution and frame rate that
 * bitrate can carry. The result is applied per sender with `RTCRtpSender.setParameters` (W3C WebRTC §5.2,
 * `RTCRtpEncodingParameters.maxBitrate`, `scaleResolutionDownBy`, `maxFramerate`). Budgets and reasons: docs/bandwidth.md.
 *
 * Pure: no WebRTC, no DOM.
 *
 * @module
 */

/** Caps for one video sender's (single) encoding. */
export interface EncodingCaps {
  /** Most bits per second the encoder may send (RTP payload), in bps. */
  maxBitrate: number;
  /** Source resolution divided by this (≥ 1) in each dimension. */
  scaleResolutionDownBy: number;
  /** Most frames per second. */
  maxFramerate: number;
  /**
   * Whether the encoding is sent at all (W3C WebRTC `RTCRtpEncodingParameters.active`); unset: as it is now. False
   * for a receiver that shows none of it, or in audio-only (`call/receiver-view.ts`, `call/governor.ts`).
   */
  active?: boolean;
}

/** The budgets, in kbps. */
export interface BandwidthBudget {
  /** Upload for all video this participant sends (every copy of camera and screen), in kbps. Default 2500. */
  uplinkKbps: number;
  /** Share of {@link uplinkKbps} that goes to the screen while one is shared, 0–1. Default 0.6. */
  screenShare: number;
  /** Least and most one camera copy gets, in kbps. Defaults 150 and 1500. */
  cameraFloorKbps: number;
  cameraCeilingKbps: number;
  /** Least and most one screen copy gets, in kbps. Defaults 250 and 1500. */
  screenFloorKbps: number;
  screenCeilingKbps: number;
}

export const DEFAULT_BUDGET: Readonly<BandwidthBudget> = {
  uplinkKbps: 2500,
  screenShare: 0.6,
  cameraFloorKbps: 150,
  cameraCeilingKbps: 1500,
  screenFloorKbps: 250,
  screenCeilingKbps: 1500,
};

interface CameraTier {
  minKbps: number;
  maxShortSide: number;
  maxFramerate: number;
}
/** The tier every bitrate reaches: the floor of {@link CAMERA_TIERS}. */
const LOWEST_TIER: CameraTier = { minKbps: 0, maxShortSide: 240, maxFramerate: 15 };
/**
 * Camera tiers: the largest picture (shorter side, px) and frame rate worth sending at a given per-copy bitrate, for
 * VP8/H.264 at talking-head complexity. First tier whose `minKbps` is met wins.
 */
const CAMERA_TIERS: readonly CameraTier[] = [
  { minKbps: 1000, maxShortSide: 720, maxFramerate: 30 },
  { minKbps: 600, maxShortSide: 480, maxFramerate: 30 },
  { minKbps: 300, maxShortSide: 360, maxFramerate: 24 },
  LOWEST_TIER,
];

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

/**
 * Steps (kbps) a link's measured available bitrate is rounded down to (`linkKbps` of {@link cameraCaps}), so that the
 * caps change only when the measure crosses one, not on every stats poll.
 */
export const LINK_STEPS = [150, 200, 300, 450, 600, 800, 1000, 1500, 2500] as const;

/**
 * What a link not measured yet is taken to carry for video, kbps (`linkKbps` of {@link cameraCaps} until the call's
 * stats have a measure: call/governor.ts): libwebrtc's start bitrate, 300 kbps, less 40 for audio. Congestion control
 * sends no faster at first anyway. A copy capped to it (the 200 kbps step: 240 px at {@link START_FPS} fps) is a
 * small encode, a small first key frame and a small decode while the call is set up (the 4-peer setup on 2 cores
 * is CPU-bound: issue 16). It is raised once the link is measured (docs/bandwidth.md, "Start caps").
 */
export const START_LINK_KBPS = 260;

/**
 * The frame rate of the start caps, fps: the 200 kbps step's tier. A measured link's frame rate stays the budget's
 * share's (see {@link cameraCaps}: a measure may read low while the copy is small); the start is no measure, and half
 * the frames is half the encoding and decoding while the call is set up.
 */
export const START_FPS = LOWEST_TIER.maxFramerate;

/** Per-copy kbps: `totalKbps` divided among `copies`, clamped to [floor, ceiling]. */
function perCopy(totalKbps: number, copies: number, floor: number, ceiling: number): number {
  return Math.round(clamp(totalKbps / Math.max(1, copies), floor, ceiling));
}

/**
 * Caps for each camera copy.
 * @param remotePeers how many peers receive a copy (the mesh fan-out), ≥ 0; 0 is treated as 1.
 * @param options.sharingScreen whether a screen share also uses the uplink (the camera then gets the rest).
 * @param options.sourceShortSide the camera's shorter side in px (`min(width, height)` of the track settings), if
 *   known; without it the resolution is not scaled.
 * @param options.linkKbps what this copy's connection measured as available for video, in kbps (W3C WebRTC
 *   Statistics, selected candidate pair's `availableOutgoingBitrate` less audio), if known: the copy gets at most
 *   that, rounded down to {@link LINK_STEPS}, never below the floor, and the picture that bitrate carries (the frame
 *   rate stays the budget's). Unknown (Firefox reports none): the budget alone.
 */
export function cameraCaps(
  remotePeers: number,
  options: { sharingScreen?: boolean; sourceShortSide?: number | undefined; linkKbps?: number | undefined } = {},
  budget: Readonly<BandwidthBudget> = DEFAULT_BUDGET,
): EncodingCaps {
  const total = budget.uplinkKbps * (options.sharingScreen ? 1 - budget.screenShare : 1);
  const link = options.linkKbps ?? Infinity;
  const share = perCopy(total, remotePeers, budget.cameraFloorKbps, budget.cameraCeilingKbps);
  const kbps = Math.min(
    share,
    Math.max(budget.cameraFloorKbps, [...LINK_STEPS].reverse().find((step) => step <= link) ?? 0),
  );
  const tierOf = (k: number) => CAMERA_TIERS.find((t) => k >= t.minKbps) ?? LOWEST_TIER;
  const tier = tierOf(kbps);
  const source = options.sourceShortSide;
  const scale = source && source > tier.maxShortSide ? source / tier.maxShortSide : 1;
  return {
    maxBitrate: kbps * 1000,
    scaleResolutionDownBy: Math.round(scale * 100) / 100,
    // The frame rate follows the budget's share, not the measured link: a link measured while its copy was small
    // (a thumbnail, app-limited) reads low, and a copy shown large then kept the thumbnail's rate until the measure
    // caught up (docs/benchmarks.md, "Mesh, layout case"); on a link that is really thin the encoder drops frames itself.
    maxFramerate: tierOf(share).maxFramerate,
  };
}

/**
 * Caps for each screen-share copy. Text must stay legible, so the resolution is never scaled down; the frame rate
 * drops instead (a slide or a document changes rarely).
 * @param remotePeers how many peers receive a copy, ≥ 0; 0 is treated as 1.
 */
export function screenCaps(remotePeers: number, budget: Readonly<BandwidthBudget> = DEFAULT_BUDGET): EncodingCaps {
  const kbps = perCopy(
    budget.uplinkKbps * budget.screenShare,
    remotePeers,
    budget.screenFloorKbps,
    budget.screenCeilingKbps,
  );
  return { maxBitrate: kbps * 1000, scaleResolutionDownBy: 1, maxFramerate: kbps >= 600 ? 15 : 5 };
}
