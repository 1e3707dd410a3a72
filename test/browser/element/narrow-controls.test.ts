/**
 * Issue 14's leftover: in a room with hosts the people, hand and react buttons join the control bar; in a narrow box
 * (320 px wide) the bar still keeps to one row, and every action stays reachable, by pointer and by keyboard:
 * - the bar's height is one button row, every button in it is inside the box and is what a click at its centre hits;
 * - people, hand and react sit behind "More" (a disclosure button: `aria-expanded`, `aria-controls` naming a group
 *   with an accessible name), which opens them labelled above the bar, each hit at its centre; using one (the hand)
 *   does its action and closes the group with focus back on "More";
 * - by keyboard: Enter on "More" opens the group, Tab reaches its first button, Escape closes it and focus returns;
 * - axe finds nothing with the group open;
 * - in a wider box (600, 1000, 1300 px) there is no "More": the three buttons are in the bar, which keeps one row
 *   (icon-only below 1200 px, as the bar without them is below 900 px).
 * On the real relay requiring room tokens (/relay-token), a host alone in the room.
 */
import { expect, fixture, fixtureCleanup, html } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import '../../../src/index.js';
import type { VideoChatElement } from '../../../src/video-chat.js';
import { mintToken, part, shadow, tokenRelayUrl, uniqueRoom, waitFor as poll } from '../helpers.js';

const WAIT_MS = 30_000;
const waitFor = <T>(what: string, predicate: () => T | Promise<T>) => poll(what, predicate, WAIT_MS);

/** A host (room token with `role: host`) in a fixed `width`×420 box, once its hosts' buttons are drawn. */
async function hostIn(width: number): Promise<VideoChatElement> {
  const room = uniqueRoom('narrow');
  const token = await mintToken({ room, exp: Math.floor(Date.now() / 1000) + 60, role: 'host' });
  const el = await fixture<VideoChatElement>(
    html`<video-chat room=${room} name="Hana" signal-url=${tokenRelayUrl()} token=${token}></video-chat>`,
  );
  el.style.setProperty('width', `${width}px`);
  el.style.setProperty('height', '420px');
  el.scrollIntoView({ block: 'start' });
  await waitFor('admitted, with the hosts buttons', () => el.peerId && part(el, 'people-button'));
  await el.updateComplete;
  return el;
}

const drawn = (button: Element | null): button is HTMLButtonElement =>
  button instanceof HTMLButtonElement && button.getClientRects().length > 0;

/** The control bar's buttons that are drawn, by their first part name after `control-button`. */
function barButtons(el: VideoChatElement): Map<string, HTMLButtonElement> {
  const found = new Map<string, HTMLButtonElement>();
  for (const button of shadow(el).querySelectorAll('[part~="controls"] button')) {
    if (drawn(button)) found.set(button.getAttribute('part')!.split(' ')[1] ?? button.className, button);
  }
  return found;
}

/** Asserts that `button` is inside the host's box and is what a click at its centre hits. */
function expectClickable(el: VideoChatElement, button: HTMLButtonElement): void {
  const host = el.getBoundingClientRect();
  const r = button.getBoundingClientRect();
  const [x, y] = [r.left + r.width / 2, r.top + r.height / 2];
  const name = button.getAttribute('part');
  expect(x > host.left && x < host.right && y > host.top && y < host.bottom, `${name} inside the box`).to.equal(true);
  const hit = shadow(el).elementFromPoint(x, y);
  expect(hit !== null && button.contains(hit), `${name} is what a click at its centre hits`).to.equal(true);
}

/** Asserts that the bar's drawn buttons form one row: the bar is as high as its highest button, all on one line. */
function expectOneRow(el: VideoChatElement): void {
  const bar = (part(el, 'controls') as HTMLElement).getBoundingClientRect();
  const rows = [...barButtons(el).values()]
    .filter((b) => !b.closest('.more.open'))
    .map((b) => b.getBoundingClientRect());
  const tallest = Math.max(...rows.map((r) => r.height));
  expect(bar.height, `the bar (${bar.height} px) is one button row (${tallest} px)`).to.be.at.most(tallest + 1);
  for (const r of rows) expect(Math.abs(r.top - rows[0]!.top), 'every button on the same row').to.be.at.most(1);
}

const HOSTS_BUTTONS = ['people-button', 'hand-button', 'react-button'];

/** The "More" button (part `control-button`, class `more-button`). */
const moreButton = (el: VideoChatElement) => shadow(el).querySelector<HTMLButtonElement>('.more-button');

describe('the control bar with hosts in a narrow box', function () {
  this.timeout(60_000);
  afterEach(() => fixtureCleanup());

  it('keeps one row at 320 px, people, hand and react behind "More", each reachable by pointer', async () => {
    const el = await hostIn(320);
    expectOneRow(el);
    const bar = barButtons(el);
    for (const name of HOSTS_BUTTONS) expect(bar.has(name), `${name} not in the bar row`).to.equal(false);
    for (const name of [
      'mic-button',
      'camera-button',
      'chat-button',
      'settings-button',
      'more-button',
      'leave-button',
    ]) {
      expect(bar.has(name), `${name} in the bar`).to.equal(true);
    }
    for (const button of bar.values()) expectClickable(el, button);

    const more = moreButton(el) as HTMLButtonElement;
    expect(more.getAttribute('aria-expanded')).to.equal('false');
    const group = shadow(el).getElementById(more.getAttribute('aria-controls')!)!;
    expect(group.getAttribute('role')).to.equal('group');
    expect(group.getAttribute('aria-label')).to.equal('More');
    expect(more.textContent?.trim()).to.equal('More'); // its accessible name (the label is hidden visually only)

    more.click();
    await waitFor('the group open', () => drawn(part(el, 'hand-button')));
    await el.updateComplete;
    expect(more.getAttribute('aria-expanded')).to.equal('true');
    expectOneRow(el); // the open group floats above the bar
    for (const name of HOSTS_BUTTONS) {
      const button = part(el, name) as HTMLButtonElement;
      expect(drawn(button), `${name} drawn`).to.equal(true);
      expectClickable(el, button);
      const label = button.querySelector('span')!;
      expect(label.getBoundingClientRect().width, `${name} labelled`).to.be.greaterThan(10);
    }
    await expect(el).to.be.accessible();

    // Using one does its action, closes the group and puts focus back on "More".
    const hand = part(el, 'hand-button') as HTMLButtonElement;
    hand.focus();
    hand.click();
    await waitFor('the hand raised', () => part(el, 'hand-button')?.getAttribute('aria-pressed') === 'true');
    await waitFor('the group closed', () => !drawn(part(el, 'hand-button')));
    expect(more.getAttribute('aria-expanded')).to.equal('false');
    expect(shadow(el).activeElement, 'focus back on More').to.equal(more);
  });

  it('by keyboard: Enter on "More" opens the group, Tab enters it, Escape closes it and focus returns', async () => {
    const el = await hostIn(320);
    const more = moreButton(el) as HTMLButtonElement;
    more.focus();
    await sendKeys({ press: 'Enter' });
    await waitFor('the group open', () => drawn(part(el, 'people-button')));
    expect(more.getAttribute('aria-expanded')).to.equal('true');
    await sendKeys({ press: 'Tab' });
    expect(shadow(el).activeElement?.getAttribute('part')).to.contain('people-button');
    await sendKeys({ press: 'Tab' });
    expect(shadow(el).activeElement?.getAttribute('part')).to.contain('hand-button');
    await sendKeys({ press: 'Escape' });
    await waitFor('the group closed', () => !drawn(part(el, 'people-button')));
    expect(more.getAttribute('aria-expanded')).to.equal('false');
    expect(shadow(el).activeElement, 'focus back on More').to.equal(more);
  });

  for (const width of [600, 1000, 1300]) {
    it(`in a ${width} px box there is no "More": people, hand and react are in the bar, on one row`, async () => {
      const el = await hostIn(width);
      const bar = barButtons(el);
      expect(bar.has('more-button')).to.equal(false);
      for (const name of HOSTS_BUTTONS) expect(bar.has(name), `${name} in the bar`).to.equal(true);
      expectOneRow(el);
      // Within the test page's viewport (a wider box reaches beyond it, where nothing can be hit).
      if (width === 600) for (const button of bar.values()) expectClickable(el, button);
    });
  }
});
