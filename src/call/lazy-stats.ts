/**
 * The stats loop (`call-stats.ts`: active speaker, connection quality, measured uplink) as a chunk of its own
 * (`video-chat-call-stats-<hash>.js`), fetched when the loop first starts: at the first connected peer in the mesh,
 * at the first peer on the SFU. Nothing reads stats before that, so the engine chunk (fetched on every join) does not
 * carry it. Until the chunk has arrived the call reads as a loop that has not polled yet: no speaker, no quality, no
 * measured uplink. A chunk that cannot be fetched (a deployment missing a file of `dist/`) leaves the call without
 * them and fires `vc-error` `chunk-failed` (src/chunk.ts); the next `start()` tries once more.
 *
 * @module
 */
import { chunk } from '../chunk.js';
import type { CallStats, callStats as load } from './call-stats.js';

/** {@link load callStats} of call-stats.ts, same arguments and result, loading it on the first `start()`. */
export function callStats(...args: Parameters<typeof load>): CallStats {
  let loop: CallStats | undefined;
  let on = false;
  const none = new Map<string, never>();
  return {
    get speaker() {
      return loop?.speaker;
    },
    get quality() {
      return loop?.quality ?? none;
    },
    get uplink() {
      return loop?.uplink ?? none;
    },
    start() {
      on = true;
      if (loop) loop.start();
      else
        void chunk('call-stats', () => import('./call-stats.js'), args[1]).then((m) => {
          loop ??= m.callStats(...args);
          if (on) loop.start();
        });
    },
    stop() {
      on = false;
      loop?.stop();
    },
  };
}
