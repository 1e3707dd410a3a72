/**
 * The waiting screen of a guest who knocked (docs/protocol.md "Hosts and guests": `waiting`): what it waits for,
 * whether a host is there to let it in, how long it may wait, and "Cancel" (which leaves). Shown instead of the call
 * (ui/room.ts hides the tiles and the control bar while it is there); a refusal, a timeout or a removal is the error
 * banner's (src/ui/status.ts), with the reason.
 * @module
 */
import { html, type TemplateResult } from 'lit';
import type { WaitingMessage } from '../protocol/relay.js';
import type { HostsStrings } from './strings.js';
import type { View } from './view.js';

export function renderWaiting(v: View, s: HostsStrings, waiting: WaitingMessage): TemplateResult {
  return html`<section part="waiting" class="knock" role="status" aria-labelledby="knock-title">
    <h2 id="knock-title">${s.waitingTitle}</h2>
    <p>${s.waitingDetail(waiting.hosts, Math.max(1, Math.round(waiting.timeoutMs / 60_000)))}</p>
    <button part="control-button cancel-button" @click=${v.actions.leave}>${s.cancel}</button>
  </section>`;
}
