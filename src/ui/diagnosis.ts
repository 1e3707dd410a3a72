/**
 * The embed doctor's list, drawn inside the element with the `debug` attribute: each check with its result and, where
 * it did not pass, the fix a site owner can act on. An on-demand chunk (with the probes of src/diagnose/, through
 * src/doctor.ts): its English text and its styles stay out of the script-tag file.
 * @module
 */
import { html, nothing, type TemplateResult } from 'lit';
import type { EmbedDiagnosis } from '../diagnosis.js';
import { staticCss } from './static-css.js';
import type { DiagnosisStrings } from './strings.js';
import type { View } from './view.js';

/** English, the base every locale's `diagnosis` table is merged over. */
export const en: DiagnosisStrings = {
  title: 'Embed check (debug)',
  running: 'Checking this page…',
  checks: {
    'secure-context': 'Secure context (HTTPS)',
    'permissions-policy': 'Permissions-Policy',
    relay: 'Video chat server',
    camera: 'Camera',
    microphone: 'Microphone',
    udp: 'UDP (STUN)',
    turn: 'TURN server',
  },
  results: { pass: 'OK', fail: 'Problem', unknown: 'Unknown' },
  fixes: {
    'insecure-context':
      'Serve this page over HTTPS (or localhost while developing): elsewhere browsers offer no camera.',
    'blocked-by-page':
      'Allow camera and microphone: give the iframe allow="camera; microphone" and check the Permissions-Policy header.',
    'csp-connect-src': 'Add the relay to the page’s Content-Security-Policy: connect-src wss://your-relay.example.',
    'relay-unreachable': 'Check signal-url, that the relay runs, and that proxies pass WebSocket upgrades.',
    'origin-refused': 'Add this site’s origin to the relay’s --allowed-origins.',
    unauthorized: 'Set a valid token attribute: signed with the relay’s --token-secret, for this room, not expired.',
    'relay-error': 'The relay refused the join: see the detail (room name, relay version).',
    'no-camera': 'No camera found: connect one (without one, visitors can still watch and talk).',
    'no-microphone': 'No microphone found: connect one (without one, visitors can still watch and listen).',
    'permission-denied': 'The browser denies this device to this site: allow it in the site settings.',
    'udp-blocked':
      'UDP is blocked or the STUN server is unreachable: give the relay a TURN server (turns: on port 443).',
    'turn-refused':
      'The TURN server refused the credentials: the relay’s --turn-secret must be coturn’s static-auth-secret.',
    'turn-unreachable': 'The TURN server cannot be reached: check --turn-urls, its ports and the firewall.',
    'not-configured': 'Nothing to check: set signal-url; give the relay STUN/TURN servers for visitors behind NAT.',
    unsupported: 'This browser cannot tell; check in Chromium.',
    timeout: 'No answer in time: check again; if it stays, treat it as blocked.',
    skipped: 'Depends on the server check: fix that first.',
  },
};

export const styles = [
  staticCss`
    .diagnosis {
      flex: none;
      max-height: 45%;
      overflow: auto;
      padding: 8px 12px;
      border: 1px dashed var(--video-chat-muted-foreground, #98a2b3);
      border-radius: var(--video-chat-radius, 12px);
      font-size: 0.875rem;
    }
    .diagnosis h2 {
      margin: 0 0 4px;
      font-size: 1rem;
    }
    .diagnosis ul {
      margin: 0;
      padding: 0;
      list-style: none;
    }
    .diagnosis li {
      margin: 4px 0;
    }
    .diagnosis .fail b {
      color: #ff8a80;
    }
    .diagnosis .pass b {
      color: var(--video-chat-speaking, #3ccb7f);
    }
    .diagnosis small {
      display: block;
      color: var(--video-chat-muted-foreground, #98a2b3);
      overflow-wrap: anywhere;
    }
  `,
];

/** The list for `diagnosis`, or "Checking this page…" while it is undefined. */
export function renderDiagnosis(v: View, diagnosis: EmbedDiagnosis | undefined): TemplateResult {
  const t = { ...en, ...v.t.diagnosis };
  // Focusable: it scrolls in a small box (keyboard users reach its end too).
  return html`<section part="diagnosis" class="diagnosis" tabindex="0" aria-label=${t.title}>
    <h2>${t.title}</h2>
    ${
      diagnosis
        ? html`<ul>
          ${diagnosis.checks.map(
            (c) =>
              html`<li class=${c.result} data-check=${c.check} data-result=${c.result}>
                <b>${t.results[c.result]}</b> ${t.checks[c.check]}${c.code ? html`: ${t.fixes[c.code]}` : nothing}
                <small>${c.detail}</small>
              </li>`,
          )}
        </ul>`
        : html`<p>${t.running}</p>`
    }
  </section>`;
}
