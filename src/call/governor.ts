/**
 * How the call applies the bandwidth governor (`negotiation/bandwidth.ts`, reasons in docs/bandwidth.md): the caps
 * for one video sender from the call as it is now (how many peers each stream is copied to, whether a screen is
 * shared, the camera's size). On-demand engine chunk. No DOM.
 *
 * @module
 */
import {
  cameraCaps,
  DEFAULT_BUDGET,
  screenCaps,
  type BandwidthBudget,
  type EncodingCaps,
} from '../negotiation/bandwidth.js';
import type { TrackKind } from '../protocol/negotiation.js';

/** What the caps depend on besides the sender. */
export interface CallLoad {
  /** Peer connections each local stream is sent on. */
  copies: number;
  /** Whether this visitor shares a screen (the camera gets less). */
  sharingScreen: boolean;
  /** Budgets overriding `DEFAULT_BUDGET` (kbps). */
  bandwidth?: Partial<BandwidthBudget> | undefined;
}

/** Caps for the sender of `kind` sending `track`; undefined for audio. */
export function encodingCaps(
  kind: TrackKind,
  track: MediaStreamTrack | null,
  load: CallLoad,
): EncodingCaps | undefined {
  const budget = { ...DEFAULT_BUDGET, ...load.bandwidth };
  if (kind === 'screen') return screenCaps(load.copies, budget);
  if (kind !== 'video') return undefined;
  const { width, height } = track?.getSettings() ?? {};
  const sourceShortSide = width && height ? Math.min(width, height) : undefined;
  return cameraCaps(load.copies, { sharingScreen: load.sharingScreen, sourceShortSide }, budget);
}
