/**
 * Raised hands and reactions as drawn: the row of reactions the react button opens, and the marks on a tile (its hand
 * with its place in the order, its latest reaction floating up once). The reaction's movement is a CSS animation, so
 * `prefers-reduced-motion: reduce` (the element's styles turn every animation off) shows it still, for as long as
 * the model keeps it (`REACTION_SHOWN_MS`).
 * @module
 */
import { html, nothing, type TemplateResult } from 'lit';
import { keyed } from 'lit/directives/keyed.js';
import type { Hosts } from '../call/hosts.js';
import type { HostsStrings } from './strings.js';
import { staticCss } from './static-css.js';
import type { View } from './view.js';

/** The reactions offered (any 1–16 characters may arrive from others: shown as text). */
export const REACTIONS = ['👍', '👏', '❤️', '😂', '😮', '🎉'] as const;

export function renderReactions(_v: View, s: HostsStrings, hosts: Hosts): TemplateResult {
  return html`<div part="reactions" id="reactions" class="controls" role="toolbar" aria-label=${s.reactions}>
    ${REACTIONS.map(
      (emoji) =>
        html`<button part="control-button reaction-button" @click=${() => hosts.react(emoji)}>${emoji}</button>`,
    )}
  </div>`;
}

/** The hand mark of `peerId` (null: this visitor), with its place in the order; nothing when its hand is down. */
export function handMark(s: HostsStrings, hosts: Hosts, peerId: string | null): TemplateResult | typeof nothing {
  const place = hosts.hands.indexOf(peerId) + 1;
  return place
    ? html`<span part="hand" class="hand" role="img" aria-label=${s.handRaised(place)}>✋ ${place}</span>`
    : nothing;
}

export function tileMarks(s: HostsStrings, hosts: Hosts, peerId: string | null): TemplateResult {
  const reaction = hosts.reactions.get(peerId);
  return html`${handMark(s, hosts, peerId)}${
    reaction
      ? keyed(reaction.key, html`<bdi part="reaction" class="reaction" aria-hidden="true">${reaction.emoji}</bdi>`)
      : nothing
  }`;
}

export const reactionsStyles = staticCss`
  .hand {
    position: absolute;
    right: 8px;
    top: 40px;
    padding: 2px 8px;
    border-radius: 999px;
    background: #fdb022;
    color: #111418;
    font-weight: 600;
  }
  .reaction {
    position: absolute;
    left: 50%;
    bottom: 25%;
    font-size: 2.5em;
    pointer-events: none;
    transform: translateX(-50%);
    animation: vc-react 1.6s ease-out both;
  }
  @keyframes vc-react {
    from {
      opacity: 0;
      transform: translate(-50%, 40%) scale(0.6);
    }
    20% {
      opacity: 1;
      transform: translate(-50%, 0) scale(1.15);
    }
    to {
      opacity: 0;
      transform: translate(-50%, -160%);
    }
  }
`;
