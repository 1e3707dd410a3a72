/**
 * How the call applies the bandwidth governor (`negotiation/bandwidth.ts`, reasons in docs/bandwidth.md): the caps
 * for one video sender from the call as it is now (how many peers each stream is copied to, whether a screen is
 * shared, the camera's size), fitted to what that receiver shows of the camera (`receiver-view.ts`), none in
 * audio-only. Copies count by what their receivers show (`shownCopies`): a copy shown large gets what thumbnails
 * and hidden tiles leave of the budget. On-demand engine chunk. No DOM.
 *
 * @module
 */
import {
  cameraCaps,
  DEFAULT_BUDGET,
  screenCaps,
  START_FPS,
  START_LINK_KBPS,
  type BandwidthBudget,
  type EncodingCaps,
} from '../negotiation/bandwidth.js';
import { chunk, type ChunkReport } from '../chunk.js';
import type { PeerViewMessage } from '../protocol/data-channel.js';
import type { TrackKind } from '../protocol/negotiation.js';

/** receiver-view.ts, its own chunk, once loaded. */
let adaptive: typeof import('./receiver-view.js') | undefined;
let loading: Promise<typeof import('./receiver-view.js')> | undefined; // once per page: its failure is told once

/**
 * Loads receiver-view.ts (`view` fitting, uplink watch) once: on the first `view` message or measured uplink. Until
 * then the caps are the governor's alone.
 */
export const loadAdaptive = async (report?: ChunkReport): Promise<typeof import('./receiver-view.js')> =>
  (adaptive ??= await (loading ??= chunk('receiver-view', () => import('./receiver-view.js'), report)));

/**
 * The caps of a camera's mesh copies while the room moves to the SFU, instead of the governor's (set and deleted by
 * `call/sfu.ts`, issue 12: small, so that their encoders and the receivers' decoders leave the CPU to the SFU
 * connections being made). A receiver's `view` and audio-only still apply on top.
 */
export const switching = new WeakMap<MediaStreamTrack, EncodingCaps>();

/** What the caps depend on besides the sender. */
export interface CallLoad {
  /** Peer connections each local stream is sent on. */
  copies: number;
  /** Whether this visitor shares a screen (the camera gets less). */
  sharingScreen: boolean;
  /** Budgets overriding `DEFAULT_BUDGET` (kbps). */
  bandwidth?: Partial<BandwidthBudget> | undefined;
  /** What this receiver shows of our camera (its last `view`), if it said. */
  view?: PeerViewMessage | undefined;
  /**
   * The last `view` of every receiver of our camera (this one too): the share of each copy follows what they show
   * (`receiver-view.ts` `shownCopies`). Unset: every copy counts.
   */
  views?: readonly (PeerViewMessage | undefined)[] | undefined;
  /**
   * Video kbps this copy's connection measured as available (`call-stats.ts` `uplink`; `Infinity`: not measurable).
   * Unset: not measured yet, taken as `START_LINK_KBPS` at no more than `START_FPS` (the start caps).
   */
  linkKbps?: number | undefined;
  /** Audio-only: our camera is sent to nobody (`active: false`). */
  audioOnly?: boolean | undefined;
}

/** Caps for the sender of `kind` sending `track` (`active` set for the camera); undefined for audio. */
export function encodingCaps(
  kind: TrackKind,
  track: MediaStreamTrack | null,
  load: CallLoad,
): EncodingCaps | undefined {
  const budget = { ...DEFAULT_BUDGET, ...load.bandwidth };
  if (kind === 'screen') return screenCaps(load.copies, budget);
  if (kind !== 'video') return undefined;
  const source = track?.getSettings() ?? {};
  const { width, height } = source;
  const sourceShortSide = width && height ? Math.min(width, height) : undefined;
  const options = { sharingScreen: load.sharingScreen, sourceShortSide, linkKbps: load.linkKbps ?? START_LINK_KBPS };
  let caps = cameraCaps(load.copies, options, budget);
  // A pinned receiver's copy gets what the thumbnails and hidden tiles leave, not an equal share.
  if (adaptive && load.views) caps = cameraCaps(adaptive.shownCopies(caps, load.views, source), options, budget);
  // Not measured yet: the start caps, their frame rate too (bandwidth.ts START_FPS).
  if (load.linkKbps === undefined) caps = { ...caps, maxFramerate: Math.min(caps.maxFramerate, START_FPS) };
  caps = switching.get(track!) ?? caps;
  return load.audioOnly
    ? { ...caps, active: false }
    : { active: true, ...(adaptive?.viewCaps(caps, load.view, source) ?? caps) };
}
