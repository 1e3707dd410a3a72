/**
 * The status line and the error banner: one message per state of the call and its relay, and a "Try again" button
 * only where trying again can help.
 *
 * | state                                  | shown                                                  | Try again       |
 * |----------------------------------------|--------------------------------------------------------|-----------------|
 * | idle, connecting, waiting, in-call     | the status line                                        | none            |
 * | knocking (a guest waiting to be let in) | nothing: the waiting screen says it (ui/waiting.ts)  | none            |
 * | reconnecting (relay dropped mid-call)  | the status line ("Reconnecting…")                      | none: it is     |
 * | error `relay-unreachable`              | the banner ("Retrying…": attempts go on by themselves) | none: it is     |
 * | error `origin-refused`, `unauthorized`, `bad-config`   | the banner, naming what the site must change | none    |
 * | error `room-full`, `relay-error` (closed by the relay), `peer-unreachable` | the banner | rejoins     |
 * | error `denied`, `knock-timeout`, `room-locked` (hosts and guests) | the banner | knocks / joins again |
 * | error `removed`, `call-ended` (a host removed this visitor, ended the call) | the banner | none: not wanted |
 * | a media error beside any other state   | the status line and the banner about the camera        | captures again, except where only the site can help (HTTPS, Permissions-Policy) |
 *
 * In the `error` state the status line is empty: the banner says what happened (no "could not continue" beside it).
 * @module
 */
import { html, nothing, type TemplateResult } from 'lit';
import { SITE_OWNER_ERRORS, type VideoChatErrorCode } from '../errors.js';
import type { CallState } from '../types.js';
import type { View } from './view.js';

/** What "Try again" does: rejoin, capture camera and microphone again, or there is no button. */
export type Retry = 'join' | 'media' | null;

/**
 * The "Try again" an error in `state` offers: none where only the site owner can help ({@link SITE_OWNER_ERRORS}) or
 * the call already retries by itself (`relay-unreachable`); a rejoin after a fatal error; a new capture after a media one.
 */
export function retryFor(state: CallState, code: VideoChatErrorCode): Retry {
  if (SITE_OWNER_ERRORS.has(code) || code === 'relay-unreachable' || code == 'removed' || code == 'call-ended')
    return null;
  return state === 'error' ? 'join' : 'media';
}

/** The status line's text for the call's state; empty in `error`, where the banner says what happened. */
export function statusText(v: Pick<View, 't' | 'call' | 'configured' | 'room'>): string {
  const { t, call } = v;
  const state = call.state;
  return state === 'idle'
    ? v.configured
      ? t.statusIdle
      : t.statusNoConfig
    : state === 'waiting'
      ? t.statusWaiting(v.room)
      : state === 'in-call'
        ? t.statusInCall(call.peers.length)
        : state === 'error' || state === 'knocking' // the waiting screen says it (ui/waiting.ts)
          ? ''
          : t[state === 'connecting' ? 'statusConnecting' : 'statusReconnecting'];
}

/** The error banner, while there is an error to show (not when idle, unless on the pre-join screen). */
export function renderError(v: View): TemplateResult | typeof nothing {
  const { t, call } = v;
  const error = call.error;
  if (!error || (call.state === 'idle' && !v.preview)) return nothing;
  const retry = retryFor(call.state, error.code);
  return html`<div part="error" class="error" role="alert">
    <span>${t.errors[error.code] ?? error.message}</span>
    ${
      retry
        ? html`<button part="control-button retry-button" class="primary"
      @click=${retry === 'join' ? v.actions.join : v.actions.retryMedia}>${t.retry}</button>`
        : nothing
    }
  </div>`;
}
