/**
 * The chat panel: the log (a polite live region) and the form. Text is always rendered as text, never as HTML, and
 * isolated (`<bdi>` names, `dir="auto"` text) so a bidi control in a name or message cannot reorder what is around it.
 *
 * Rendering cost stays flat with a long log: each entry's time is formatted once (one cached `Intl.DateTimeFormat` per
 * language) and each entry's template is built once and reused, so a render caused by something else (the stats
 * loop, a mute) only compares unchanged values. Nothing a peer chose can make a render throw (the time formatting is
 * total; `parsePeerMessage` already bounds `sentAt`).
 * @module
 */
import { html, nothing, type CSSResult, type TemplateResult } from 'lit';
import { MAX_CHAT_LENGTH } from '../call/call-controller.js';
import type { ChatEntry } from '../types.js';
import type { VideoChatStrings } from './strings.js';
import { formStyles } from './form-styles.js';
import { staticCss } from './static-css.js';
import type { View } from './view.js';

/** One formatter per language ('' for the browser's), built on first use. */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(lang: string): Intl.DateTimeFormat {
  let format = formatters.get(lang);
  if (!format) {
    const options = { hour: '2-digit', minute: '2-digit' } as const;
    try {
      format = new Intl.DateTimeFormat(lang || undefined, options);
    } catch {
      format = new Intl.DateTimeFormat(undefined, options); // a `lang` that is no BCP 47 tag
    }
    if (formatters.size >= 16) formatters.clear(); // bounded, whatever the page does with `lang`
    formatters.set(lang, format);
  }
  return format;
}

/**
 * `ms` (since the epoch) as an ISO 8601 string for `datetime` and as the hour and minute in `lang`. Total: a time no
 * `Date` can hold (NaN, ±Infinity, |t| > 8.64e15) gives two empty strings instead of throwing.
 */
export function chatTime(ms: number, lang: string): { iso: string; label: string } {
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) return { iso: '', label: '' };
  return { iso: date.toISOString(), label: formatter(lang).format(date) };
}

/** Each entry's template for the strings and language it was built with. */
const items = new WeakMap<ChatEntry, { t: VideoChatStrings; lang: string; item: TemplateResult }>();

function item(m: ChatEntry, t: VideoChatStrings, lang: string): TemplateResult {
  const cached = items.get(m);
  if (cached?.t === t && cached.lang === lang) return cached.item;
  const { iso, label } = chatTime(m.sentAt, lang);
  const rendered = html`<li part="chat-message" class="chat-message">
    <bdi part="chat-name" class="chat-name">${m.peerId === null ? t.you : m.name || t.guest}</bdi>
    <time part="chat-time" datetime=${iso || nothing}>${label}</time>
    <p dir="auto">${m.text}</p>
  </li>`;
  items.set(m, { t, lang, item: rendered });
  return rendered;
}

export function renderChat(v: View): TemplateResult | typeof nothing {
  if (!v.chatOpen) return nothing;
  const { t, lang } = v;
  return html`<section part="chat" class="chat" id="chat" aria-label=${t.chat}>
    <div part="chat-log" class="chat-log" role="log" aria-live="polite">
      <ol>
        ${v.call.chat.map((m) => item(m, t, lang))}
      </ol>
    </div>
    <form class="chat-form" @submit=${v.actions.submitChat}>
      <input part="chat-input" name="message" maxlength=${MAX_CHAT_LENGTH} autocomplete="off" aria-label=${t.message}
        placeholder=${t.messagePlaceholder} required />
      <button part="control-button chat-send" class="primary">${t.send}</button>
    </form>
  </section>`;
}

/** The chat panel's styles, adopted by the element with the panel (the script-tag file does not carry them). */
export const styles: readonly CSSResult[] = [
  formStyles,
  staticCss`
  .chat {
    padding: var(--video-chat-gap, 8px);
    border-radius: calc(var(--video-chat-radius, 12px) / 2);
    background: var(--video-chat-tile-background, #20252c);
  }
  .chat-log {
    min-height: 0;
    max-height: 200px;
    overflow-y: auto;
    margin: 0 0 var(--video-chat-gap, 8px);
  }
  .chat-log ol {
    margin: 0;
    padding: 0;
    list-style: none;
  }
  .chat-message p {
    margin: 2px 0 6px;
    white-space: pre-wrap;
    overflow-wrap: anywhere;
  }
  .chat-name {
    font-weight: 600;
    margin-right: 6px;
  }
  .chat-message time {
    color: var(--video-chat-muted-foreground, #98a2b3);
    font-size: 0.85em;
  }
  .chat-form {
    display: flex;
    gap: var(--video-chat-gap, 8px);
  }
`,
];
