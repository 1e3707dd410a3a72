/**
 * Rate limit of the warnings about one peer (`vc-warning`): a hostile or broken peer can make every message it sends
 * fail, and the page must not get one event per message. On-demand engine chunk. No DOM.
 *
 * @module
 */
import type { VideoChatWarningCode, Warning } from '../errors.js';

/** Within this many ms of a warning, more of the same code about the same peer are dropped. */
export const WARNING_INTERVAL_MS = 5000;

/**
 * A reporter for one peer that passes at most one warning of each code per `intervalMs` (ms) on to `report` and drops
 * the others.
 */
export function warningGate(
  report: (warning: Warning) => void,
  intervalMs = WARNING_INTERVAL_MS,
): (warning: Warning) => void {
  const last = new Map<VideoChatWarningCode, number>();
  return (warning) => {
    const now = performance.now();
    if (now - (last.get(warning.code) ?? -Infinity) < intervalMs) return;
    last.set(warning.code, now);
    report(warning);
  };
}
