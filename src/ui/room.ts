/**
 * Hosts and guests, hands and reactions in the element (docs/protocol.md "Hosts and guests"): the chunk
 * `video-chat-room-<hash>.js`, fetched by the element once the call loaded their model (`call/hosts.ts`), so the
 * script-tag file carries none of it. This module is the chunk's face ({@link RoomUi}): the English text, the
 * per-element view state (which panel is open), the control bar's buttons and what is drawn above the controls:
 * the waiting screen (`waiting.ts`), the participant list (`people.ts`), the row of reactions and the marks on the
 * tiles (`reactions.ts`), a host's requests to this visitor, and a polite live region for knocks, admissions, hands
 * and the lock.
 * @module
 */
import { html, nothing, type TemplateResult } from 'lit';
import type { Hosts } from '../call/hosts.js';
import { formStyles } from './form-styles.js';
import { renderPeople } from './people.js';
import { handMark, reactionsStyles, renderReactions, tileMarks } from './reactions.js';
import type { HostsStrings } from './strings.js';
import { staticCss } from './static-css.js';
import type { RoomUi, View } from './view.js';
import { renderWaiting } from './waiting.js';

export type { RoomUi };

/** English (the default); a locale's `hosts` entries and the page's `strings.hosts` go on top. */
export const en: HostsStrings = {
  people: 'People',
  hand: 'Hand',
  raiseHand: 'Raise your hand',
  lowerHand: 'Lower your hand',
  react: 'React',
  reactions: 'Reactions',
  more: 'More',
  waitingTitle: 'Waiting for the host to let you in',
  waitingDetail: (hosts, minutes) =>
    `${hosts ? 'The host knows you are here.' : 'No host is here yet.'} You can wait up to ${minutes} minutes.`,
  cancel: 'Cancel',
  knocks: (n) => `Waiting to join (${n})`,
  admit: 'Admit',
  deny: 'Deny',
  host: 'Host',
  handRaised: (n) => `Hand raised (${n})`,
  remove: 'Remove',
  askUnmute: 'Ask to unmute',
  lock: 'Lock room',
  locked: 'The room is locked: nobody new can join.',
  endCall: 'End call for everyone',
  asked: (host, on, camera) =>
    `${host || 'A host'} asks you to turn your ${camera ? 'camera' : 'microphone'} ${on ? 'on' : 'off'}.`,
  turnOn: 'Turn on',
  turnOff: 'Turn off',
  notNow: 'Not now',
  knocked: (name) => `${name || 'A guest'} is waiting to join`,
  admitted: (name) => `${name || 'A guest'} was let in`,
  handUp: (name) => `${name || 'A guest'} raised their hand`,
  roomLocked: 'Room locked',
  roomUnlocked: 'Room unlocked',
};

/** What one element shows of the room: its open panels. Kept per model, so a new call starts closed. */
export interface RoomView {
  people: boolean;
  picker: boolean;
  /** The "More" group of a narrow box's control bar. */
  more: boolean;
}
const views = new WeakMap<Hosts, RoomView>();

/** The view state of the call's model (created closed). */
export function viewOf(hosts: Hosts): RoomView {
  let view = views.get(hosts);
  if (!view) views.set(hosts, (view = { people: false, picker: false, more: false }));
  return view;
}

/** The text, merged over English. */
export const text = (v: View): HostsStrings => ({ ...en, ...v.t.hosts });

/**
 * Whether a button of this chunk is hidden: as the `controls` list says; without one, shown only in a room with hosts
 * (room tokens with a `role` claim). A room without hosts looks as it did before hosts existed (and its control bar
 * keeps to one row in a small box); a page can still list `people`, `hand` or `react` in `controls`.
 */
const off = (v: View, control: string) =>
  v.controls ? !v.controls.includes(control) : !(v.call.hosts?.role === 'host' || v.call.hosts?.hostIds.length);

const icon = (d: string) => html`<svg viewBox="0 0 24 24" aria-hidden="true"><path d=${d} /></svg>`;
const PEOPLE =
  'M16 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6zm-8 0a3 3 0 1 0 0-6 3 3 0 0 0 0 6zm0 2c-2.3 0-7 1.2-7 3.5V19h14v-2.5C15 14.2 10.3 13 8 13zm8 0h-1.1A4.2 4.2 0 0 1 17 16.5V19h6v-2.5c0-2.3-4.7-3.5-7-3.5z';
const HAND =
  'M21 7v10a6 6 0 0 1-6 6h-2.6a6 6 0 0 1-4.3-1.8L2 15s1-1.3 2.5-1.3c.5 0 .9.2 1.3.4L8 15.5V4a1.5 1.5 0 0 1 3 0v7h1V2.5a1.5 1.5 0 0 1 3 0V11h1V3.5a1.5 1.5 0 0 1 3 0V11h1V7a1.5 1.5 0 0 1 3 0z';
const MORE = 'M6 10a2 2 0 1 0 0 4 2 2 0 0 0 0-4zm6 0a2 2 0 1 0 0 4 2 2 0 0 0 0-4zm6 0a2 2 0 1 0 0 4 2 2 0 0 0 0-4z';
const SMILE =
  'M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm-3.5 6a1.5 1.5 0 1 1 0 3 1.5 1.5 0 0 1 0-3zm7 0a1.5 1.5 0 1 1 0 3 1.5 1.5 0 0 1 0-3zM12 18a5.5 5.5 0 0 1-5.1-3.5h10.2A5.5 5.5 0 0 1 12 18z';

/**
 * The control bar's buttons of this chunk: people (with the waiting queue's size for hosts), hand, react. In a box
 * narrower than 480 px they sit behind one "More" disclosure button (`aria-expanded`, `aria-controls`; WAI-ARIA APG
 * "Disclosure"), so that the bar keeps to one row: the group opens above the bar with the buttons labelled, in the
 * tab order right after "More"; Escape closes it and so does using one of its buttons (focus back on "More"). In a
 * wider box the group is `display: contents` and "More" is not drawn: the buttons sit in the bar as before.
 */
export function buttons(v: View): TemplateResult {
  const hosts = v.call.hosts;
  if (!hosts || hosts.waiting) return html``;
  const s = text(v);
  const view = viewOf(hosts);
  const raised = hosts.hands.includes(null);
  const toggle = (key: keyof RoomView) => () => {
    view[key] = !view[key];
    hosts.refresh();
  };
  const knocks = hosts.role === 'host' ? hosts.knocks.length : 0;
  const badge = knocks
    ? html`<span part="unread" class="unread">${knocks}<span class="visually-hidden"> ${s.knocks(knocks)}</span></span>`
    : nothing;
  /** Closes the group (a button in it was used, or Escape) and puts focus back on "More" when it was inside. */
  const close = (event: Event) => {
    if (!view.more || (event instanceof KeyboardEvent && event.key !== 'Escape')) return;
    const group = event.currentTarget as HTMLElement;
    const inside = group.contains((group.getRootNode() as ShadowRoot).activeElement);
    view.more = false;
    hosts.refresh();
    const more = group.previousElementSibling as HTMLElement | null;
    if (inside && more?.getClientRects().length) more.focus();
  };
  const all = ['people', 'hand', 'react'].every((c) => off(v, c));
  return html`<button part="control-button" class="more-button" ?hidden=${all} aria-expanded=${String(view.more)}
      aria-controls="more" @click=${toggle('more')}>${icon(MORE)}<span>${s.more}</span>${badge}</button
    ><div id="more" class="more ${view.more ? 'open' : ''}" role="group" aria-label=${s.more} @click=${close} @keydown=${close}>
    <button part="control-button people-button" ?hidden=${off(v, 'people')} aria-expanded=${String(view.people)}
      aria-controls="people" @click=${toggle('people')}>${icon(PEOPLE)}<span>${s.people}</span>${badge}</button>
    <button part="control-button hand-button" class="toggle-on" ?hidden=${off(v, 'hand')} aria-pressed=${String(raised)}
      title=${raised ? s.lowerHand : s.raiseHand} @click=${() => (raised ? hosts.lowerHand() : hosts.raiseHand())}>${icon(HAND)}<span>${s.hand}</span></button>
    <button part="control-button react-button" ?hidden=${off(v, 'react')} aria-expanded=${String(view.picker)}
      aria-controls="reactions" @click=${toggle('picker')}>${icon(SMILE)}<span>${s.react}</span></button></div>`;
}

/** Everything above the control bar: the waiting screen alone while knocking, else the open panels and requests. */
export function render(v: View): TemplateResult {
  const hosts = v.call.hosts;
  if (!hosts) return html``;
  const s = text(v);
  const notice = hosts.notice;
  const said = notice
    ? notice.kind === 'knock'
      ? s.knocked(notice.name)
      : notice.kind === 'admitted'
        ? s.admitted(notice.name)
        : notice.kind === 'hand'
          ? s.handUp(notice.name)
          : notice.kind === 'locked'
            ? s.roomLocked
            : notice.kind === 'unlocked'
              ? s.roomUnlocked
              : s.asked(notice.name, notice.kind === 'ask-unmute', !!notice.camera)
    : '';
  const live = html`<div class="visually-hidden" role="status" aria-live="polite">${said}</div>`;
  if (hosts.waiting && v.call.state !== 'error') return html`${renderWaiting(v, s, hosts.waiting)}${live}`;
  const view = viewOf(hosts);
  return html`${hosts.asks.map((ask) => {
    const on = ask.type === 'ask-unmute';
    const name = v.call.peers.find((p) => p.id === ask.from)?.name ?? '';
    return html`<p part="ask" class="ask"><span>${s.asked(name, on, ask.media === 'camera')}</span>
      <button part="control-button ask-accept-button" class="primary" @click=${() => hosts.answer(ask, true)}>${on ? s.turnOn : s.turnOff}</button>
      <button part="control-button ask-dismiss-button" @click=${() => hosts.answer(ask, false)}>${s.notNow}</button></p>`;
  })}
    ${view.people ? renderPeople(v, s, hosts) : nothing}
    ${view.picker ? renderReactions(v, s, hosts) : nothing}${live}`;
}

/** A tile's marks: its raised hand (with its place) and its latest reaction. */
export const tile = (v: View, peerId: string | null): TemplateResult | typeof nothing =>
  v.call.hosts ? tileMarks(text(v), v.call.hosts, peerId) : nothing;

export { handMark };

export const styles = [
  formStyles,
  reactionsStyles,
  staticCss`
  /* The hosts' buttons in the control bar: in it as the others (the group draws no box of its own). With them the bar
     has ten buttons, so it goes icon-only (as it does without them below 900 px) below 1200 px; below 480 px they are
     behind "More" (see buttons()), with the bar's gaps and buttons a little tighter, so that eight buttons keep to one
     row in a 320 px box. */
  .more {
    display: contents;
  }
  .more-button {
    display: none;
  }
  @container (width < 1200px) {
    .controls:has(> .more-button:not([hidden])) > button,
    .more > button {
      padding: 8px;
    }
    .controls:has(> .more-button:not([hidden])) > button > span:not(.unread),
    .more > button > span:not(.unread) {
      position: absolute;
      width: 1px;
      height: 1px;
      overflow: hidden;
      clip-path: inset(50%);
      white-space: nowrap;
    }
  }
  @container (width < 480px) {
    .controls:has(> .more-button:not([hidden])) {
      position: relative;
      gap: 4px;
    }
    .controls:has(> .more-button:not([hidden])) > button {
      padding: 6px;
    }
    .more-button {
      display: inline-flex;
    }
    .more {
      display: none;
    }
    .more.open {
      display: flex;
      flex-direction: column;
      align-items: stretch;
      gap: 4px;
      position: absolute;
      right: 0;
      bottom: calc(100% + 4px);
      z-index: 2;
      padding: 4px;
      border-radius: calc(var(--video-chat-radius, 12px) / 2);
      background: var(--video-chat-tile-background, #20252c);
    }
    .more.open > button {
      padding: 8px 14px;
    }
    .more.open > button > span:not(.unread) {
      position: static;
      width: auto;
      height: auto;
      overflow: visible;
      clip-path: none;
    }
  }
  /* Knocking: the waiting screen instead of the call. */
  .call:has(> .knock) > :is(.grid, .controls) {
    display: none;
  }
  .knock,
  .people,
  .ask {
    margin: 0;
    padding: var(--video-chat-gap, 8px);
    border-radius: calc(var(--video-chat-radius, 12px) / 2);
    background: var(--video-chat-tile-background, #20252c);
  }
  .knock {
    flex: 1 1 0;
    display: grid;
    place-content: center;
    justify-items: center;
    gap: var(--video-chat-gap, 8px);
    text-align: center;
  }
  .knock h2 {
    margin: 0;
    font-size: 1.3em;
  }
  .people {
    display: flex;
    flex-direction: column;
    gap: var(--video-chat-gap, 8px);
    min-height: 0;
    max-height: 40%;
    overflow-y: auto;
  }
  .people h2,
  .people h3 {
    margin: 0;
    font-size: 1em;
  }
  .people ul {
    margin: 0;
    padding: 0;
    list-style: none;
  }
  .people li,
  .ask {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 6px;
    padding: 4px 0;
  }
  .people li > bdi {
    flex: 1 1 auto;
    font-weight: 600;
  }
  .role,
  .media-state {
    color: var(--video-chat-muted-foreground, #98a2b3);
    font-size: 0.85em;
  }
  .people button,
  .ask button {
    min-height: 32px;
    padding: 4px 10px;
  }
`,
];
