/**
 * The chat panel: the log (a polite live region) and the form. Text is always rendered as text, never as HTML.
 * @module
 */
import { html, nothing, type TemplateResult } from 'lit';
import { MAX_CHAT_LENGTH } from '../protocol/data-channel.js';
import type { View } from './view.js';

export function renderChat(v: View): TemplateResult | typeof nothing {
  if (!v.chatOpen) return nothing;
  const { t } = v;
  const time = (ms: number) => new Date(ms).toLocaleTimeString(v.lang || undefined, { hour: '2-digit', minute: '2-digit' });
  return html`<section part="chat" class="chat" id="chat" aria-label=${t.chat}>
    <div part="chat-log" class="chat-log" role="log" aria-live="polite">
      <ol>
        ${v.call.chat.map((m) => html`<li part="chat-message" class="chat-message">
          <span part="chat-name" class="chat-name">${m.peerId === null ? t.you : m.name || t.guest}</span>
          <time part="chat-time" datetime=${new Date(m.sentAt).toISOString()}>${time(m.sentAt)}</time>
          <p>${m.text}</p>
        </li>`)}
      </ol>
    </div>
    <form class="chat-form" @submit=${v.actions.submitChat}>
      <input part="chat-input" name="message" maxlength=${MAX_CHAT_LENGTH} autocomplete="off" aria-label=${t.message}
        placeholder=${t.messagePlaceholder} required />
      <button part="control-button chat-send" class="primary">${t.send}</button>
    </form>
  </section>`;
}
