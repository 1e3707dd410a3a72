/**
 * The stats loop (./call-stats.ts, its own chunk in the script-tag bundle: `video-chat-call-stats.js`) loaded when the
 * first peer arrives, so a page that never gets into a call does not pay for it.
 *
 * @module
 */
import type { CallStats, StatsSource } from './call-stats.js';
import type { CallHost } from './call-controller.js';

const none: CallStats['quality'] = new Map();

/** A {@link CallStats} that loads the loop on the first `start()`; nothing to read until then. */
export function lazyStats(source: StatsSource, host: CallHost): CallStats {
  let loop: CallStats | undefined;
  let loading: Promise<void> | undefined;
  let on = false;
  return {
    get speaker() {
      return loop?.speaker;
    },
    get quality() {
      return loop?.quality ?? none;
    },
    start() {
      on = true;
      if (loop) loop.start();
      else loading ??= import('./call-stats.js').then((m) => {
        loop = m.callStats(source, host);
        if (on) loop.start();
      }, () => undefined); // offline or blocked: the call goes on without speaker and quality
    },
    stop() {
      on = false;
      loop?.stop();
    },
  };
}
