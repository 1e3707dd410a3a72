/**
 * The embed doctor's chunk (`video-chat-doctor-<hash>.js` in the script-tag build): the probes (src/diagnose/) and the
 * list the `debug` attribute draws (src/ui/diagnosis.ts), loaded together when `diagnose()` is called or `debug` set.
 * At the element's level, since only the element may import both the UI and the layers below the call; everything
 * the element would otherwise do for it is here, so that the script-tag file keeps two `import()` calls and no more.
 * @module
 */
import { nothing } from 'lit';
import { chunk } from './chunk.js';
import type { EmbedDiagnosis } from './diagnosis.js';
import type { VideoChatError } from './errors.js';
import { VideoChatErrorEvent } from './events.js';
import { diagnose as run } from './diagnose/index.js';
import { parseIceServers } from './element-attributes.js';
import { renderDiagnosis, styles } from './ui/diagnosis.js';
import type { Panels } from './ui/panels.js';
import type { VideoChatElement } from './video-chat.js';

/**
 * Runs the checks with the element's configuration: `signal-url`, `room`, `name`, `token`, and its `ice-servers`
 * (one that is not a JSON array of RTCIceServer fires `bad-config`; then the relay's servers are checked). With
 * `debug` set, draws the list inside the element (`panels.report`, its styles adopted: first "Checking this page…",
 * then the result) and logs the result with `console.info`.
 */
export async function diagnose(
  el: VideoChatElement,
  panels: Pick<Panels, 'adopt' | 'report'>,
  options: { timeoutMs?: number },
): Promise<EmbedDiagnosis> {
  // Drawn while `debug` is set (the attribute may go away later: the list with it).
  const draw = (diagnosis?: EmbedDiagnosis) => {
    if (!el.debug) return;
    panels.adopt(styles);
    panels.report = (v) => (el.debug ? renderDiagnosis(v, diagnosis) : nothing);
    el.requestUpdate();
  };
  draw();
  const iceServers = parseIceServers(el) ?? undefined;
  const { signalUrl, room, name, token } = el;
  // The relay wire's parser lives in the call engine's chunk (one copy for calls and the doctor).
  // Not fetched (`chunk-failed`, fired as `vc-error`): the relay check says the relay's answer could not be read.
  const wire = await chunk('engine', () => import('./call/engine.js')).catch(
    (error: VideoChatError) => void el.dispatchEvent(new VideoChatErrorEvent(error)),
  );
  const diagnosis = await run({ signalUrl, room, name, token, wire, iceServers, ...options });
  if (el.debug) console.info('video-chat: diagnosis', diagnosis);
  draw(diagnosis);
  return diagnosis;
}
