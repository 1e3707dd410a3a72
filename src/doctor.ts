/**
 * The embed doctor's chunk (`video-chat-doctor-<hash>.js` in the script-tag build): the probes (src/diagnose/) and the
 * list the `debug` attribute draws (src/ui/diagnosis.ts), loaded together when `diagnose()` is called or `debug` set.
 * At the element's level, since only the element may import both the UI and the layers below the call; everything
 * the element would otherwise do for it is here, so that the script-tag file keeps two `import()` calls and no more.
 * @module
 */
import { nothing, type TemplateResult } from 'lit';
import { chunk } from './chunk.js';
import type { EmbedDiagnosis } from './diagnosis.js';
import type { VideoChatError } from './errors.js';
import { VideoChatErrorEvent } from './events.js';
import { diagnose as run } from './diagnose/index.js';
import { renderDiagnosis } from './ui/diagnosis.js';
import type { View } from './ui/view.js';
import type { VideoChatElement } from './video-chat.js';

export { styles } from './ui/diagnosis.js';

/**
 * Runs the checks with the element's configuration: `signal-url`, `room`, `name`, `token`, and the `ice-servers` the
 * element parsed (`options.iceServers`; undefined: the relay's servers are checked). With
 * `debug` set, hands `show` the list to draw inside the element (first "Checking this page…", then the result) and
 * logs the result with `console.info`.
 */
export async function diagnose(
  el: VideoChatElement,
  options: { iceServers?: RTCIceServer[]; timeoutMs?: number },
  show: (report: (v: View) => TemplateResult | typeof nothing) => void,
): Promise<EmbedDiagnosis> {
  // Drawn while `debug` is set (the attribute may go away later: the list with it).
  const draw = (diagnosis?: EmbedDiagnosis) =>
    el.debug && show((v) => (el.debug ? renderDiagnosis(v, diagnosis) : nothing));
  draw();
  const { signalUrl, room, name, token } = el;
  // The relay wire's parser lives in the call engine's chunk (one copy for calls and the doctor).
  // Not fetched (`chunk-failed`, fired as `vc-error`): the relay check says the relay's answer could not be read.
  const wire = await chunk('engine', () => import('./call/engine.js')).catch(
    (error: VideoChatError) => void el.dispatchEvent(new VideoChatErrorEvent(error)),
  );
  const diagnosis = await run({ signalUrl, room, name, token, wire, ...options });
  if (el.debug) console.info('video-chat: diagnosis', diagnosis);
  draw(diagnosis);
  return diagnosis;
}
