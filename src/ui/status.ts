/**
 * The status line (what the call is doing, in words) and the error banner with its "Try again" button.
 * @module
 */
import { html, nothing, type TemplateResult } from 'lit';
import { SITE_OWNER_ERRORS } from '../errors.js';
import type { View } from './view.js';

/** The status line's text for the call's state. */
export function statusText(v: View): string {
  const { t, call } = v;
  switch (call.state) {
    case 'idle':
      return v.configured ? t.statusIdle : t.statusNoConfig;
    case 'connecting':
      return t.statusConnecting;
    case 'waiting':
      return t.statusWaiting(v.room);
    case 'in-call':
      return t.statusInCall(call.peers.length);
    case 'reconnecting':
      return t.statusReconnecting;
    case 'error':
      return t.statusError;
  }
}

/**
 * The error banner, while there is an error to show (not when idle, unless on the pre-join screen): "Try again"
 * rejoins after a fatal error and captures camera and microphone again after a media one; none is offered where only
 * the site owner can help (`SITE_OWNER_ERRORS`: HTTPS, the Permissions-Policy, the attributes, the room token).
 */
export function renderError(v: View): TemplateResult | typeof nothing {
  const { t, call } = v;
  const error = call.error;
  if (!error || (call.state === 'idle' && !v.preview)) return nothing;
  return html`<div part="error" class="error" role="alert">
    <span>${t.errors[error.code] ?? error.message}</span>
    ${
      SITE_OWNER_ERRORS.has(error.code)
        ? nothing
        : html`<button part="control-button retry-button" class="primary"
      @click=${call.state === 'error' ? v.actions.join : v.actions.retryMedia}>${t.retry}</button>`
    }
  </div>`;
}
