/**
 * The element lives inside the box the page gives it (issue 13): in a fixed 320×420 box nothing it draws is outside
 * the box, with one, two and three tiles, and every control is inside it and clickable (`elementFromPoint` at its
 * centre hits it); without a height it takes a default 16:9 (at least 420 px); in a wide box two tiles sit side by
 * side; in a narrow box the self-view is small in a corner and the controls are icon-only (their labels still name
 * them); a remote tile's buttons show on hover and keyboard focus only; names are isolated in `<bdi>`; no element
 * carries a style attribute (a strict `style-src` would block it).
 */
import { sendMouse } from '@web/test-runner-commands';
import { expect, fixture, fixtureCleanup, html } from '@open-wc/testing';
import type { VideoChatElement } from '../../../src/video-chat.js';
import { canvasTrack, joined, part, relayUrl, shadow, uniqueRoom, waitFor } from '../helpers.js';

/** Puts `el` in a fixed box (the host's own size, as a page's sidebar rule would). */
function box(el: VideoChatElement, width: number, height?: number): void {
  el.style.setProperty('width', `${width}px`);
  if (height !== undefined) el.style.setProperty('height', `${height}px`);
  el.scrollIntoView({ block: 'start' });
}

/**
 * Every element of the shadow tree that is rendered, with where it draws: its box, clipped by the scrolling or clipping
 * boxes it is in (a chat log scrolls its older messages out of sight); left out when clipped away entirely.
 */
function drawn(el: VideoChatElement): Array<{ node: Element; rect: DOMRect }> {
  const visible = (node: Element): DOMRect | null => {
    const r = node.getBoundingClientRect();
    let [left, top, right, bottom] = [r.left, r.top, r.right, r.bottom];
    for (let up = node.parentElement; up; up = up.parentElement) {
      const style = getComputedStyle(up);
      if (style.overflowX === 'visible' && style.overflowY === 'visible') continue;
      const c = up.getBoundingClientRect();
      [left, top, right, bottom] = [
        Math.max(left, c.left),
        Math.max(top, c.top),
        Math.min(right, c.right),
        Math.min(bottom, c.bottom),
      ];
    }
    return right > left && bottom > top
      ? new DOMRect(left, top, right - left, bottom - top)
      : r.width && r.height
        ? null
        : r;
  };
  return [...shadow(el).querySelectorAll('*')]
    .filter((node) => node.getClientRects().length > 0 && !(node instanceof HTMLStyleElement))
    .map((node) => ({ node, rect: visible(node) }))
    .filter((d): d is { node: Element; rect: DOMRect } => d.rect !== null);
}

const describeNode = (node: Element) =>
  `<${node.localName}${node.getAttribute('part') ? ` part="${node.getAttribute('part')}"` : ''}${node.className && typeof node.className === 'string' ? ` class="${node.className}"` : ''}>`;

/** Asserts that nothing in the element draws outside the host's box (0.5 px for sub-pixel rounding). */
function expectInsideBox(el: VideoChatElement): void {
  const host = el.getBoundingClientRect();
  const outside = drawn(el).filter(
    ({ rect }) =>
      rect.left < host.left - 0.5 ||
      rect.top < host.top - 0.5 ||
      rect.right > host.right + 0.5 ||
      rect.bottom > host.bottom + 0.5,
  );
  expect(
    outside.map(({ node, rect }) => `${describeNode(node)} ${JSON.stringify(rect.toJSON())}`),
    `inside ${JSON.stringify(host.toJSON())}`,
  ).to.deep.equal([]);
}

/** Every button of the control bar (those shown) and of the tiles: inside the box and hit at its centre. */
function expectControlsClickable(el: VideoChatElement): void {
  const host = el.getBoundingClientRect();
  // Every button drawn (a tile's buttons scrolled or clipped out of sight with their tile are not).
  const buttons = drawn(el).filter(({ node }) => node instanceof HTMLButtonElement);
  expect(buttons.length).to.be.greaterThan(0);
  for (const { node: button, rect: r } of buttons) {
    const x = r.left + r.width / 2;
    const y = r.top + r.height / 2;
    const name = describeNode(button);
    expect(x > host.left && x < host.right && y > host.top && y < host.bottom, `${name} inside the box`).to.equal(true);
    const hit = shadow(el).elementFromPoint(x, y);
    expect(
      hit !== null && button.contains(hit),
      `${name} is what a click at its centre hits (hit ${hit && describeNode(hit)})`,
    ).to.equal(true);
  }
}

const tiles = (el: VideoChatElement) => [...shadow(el).querySelectorAll<HTMLElement>('[part~="tile"]')];
const remoteTiles = (el: VideoChatElement) => [...shadow(el).querySelectorAll<HTMLElement>('[part~="remote-tile"]')];

/** Resolves once `el` shows `count` remote tiles. */
const remotes = (el: VideoChatElement, count: number) =>
  waitFor(
    `${count} remote tiles`,
    () => remoteTiles(el).length === count && el.updateComplete.then(() => true),
    15_000,
  );

describe('layout inside the host box', () => {
  afterEach(() => fixtureCleanup());

  it('alone in a 320×420 box: one tile and the controls inside the box and clickable', async () => {
    const a = await joined(uniqueRoom('box1'), 'Ada');
    box(a, 320, 420);
    await waitFor('waiting', () => a.state === 'waiting');
    await a.updateComplete;
    expect(Math.round(a.getBoundingClientRect().height)).to.equal(420);
    expect(tiles(a)).to.have.length(1);
    expectInsideBox(a);
    expectControlsClickable(a);
  });

  it('two people in a 320×420 box: the self-view small in a corner, icon-only controls, all inside and clickable', async () => {
    const room = uniqueRoom('box2');
    const a = await joined(room, 'Ada');
    await joined(room, 'Grace');
    box(a, 320, 420);
    await remotes(a, 1);
    expectInsideBox(a);
    expectControlsClickable(a);
    const local = (part(a, 'local-tile') as HTMLElement).getBoundingClientRect();
    const remote = (remoteTiles(a)[0] as HTMLElement).getBoundingClientRect();
    expect(local.width * local.height, 'the self-view is small').to.be.lessThan((remote.width * remote.height) / 4);
    expect(local.right, "in the remote tile's top right corner").to.be.closeTo(remote.right - 8, 1);
    // Icon-only: the labels take no room, yet still name the buttons.
    for (const button of shadow(a).querySelectorAll<HTMLButtonElement>('[part~="controls"] button')) {
      const label = button.querySelector('span') as HTMLElement;
      expect(label.getBoundingClientRect().width, `${button.getAttribute('part')} icon-only`).to.be.at.most(1);
      expect(label.textContent?.trim()).to.not.equal('');
    }
    const controls = (part(a, 'controls') as HTMLElement).getBoundingClientRect();
    expect(controls.height, 'the control bar is one row').to.be.lessThan(50);
  });

  it('three people in a 320×420 box: every tile and control inside the box and clickable', async function () {
    this.timeout(40_000);
    const room = uniqueRoom('box3');
    const a = await joined(room, 'Ada');
    await joined(room, 'Grace');
    await joined(room, 'Linus');
    box(a, 320, 420);
    await remotes(a, 2);
    expect(tiles(a)).to.have.length(3);
    expectInsideBox(a);
    expectControlsClickable(a);
  });

  it('the pre-join screen in a 320×420 box: preview, fields and "Join call" inside the box and clickable', async () => {
    const a =
      await fixture<VideoChatElement>(html`<video-chat prejoin room=${uniqueRoom('prejoin')} signal-url=${relayUrl()}
      name="Ada"></video-chat>`);
    box(a, 320, 420);
    await waitFor(
      'the pre-join form',
      () => part(a, 'prejoin') && part(a, 'join-button') && part(a, 'videoinput-select'),
    );
    await a.updateComplete;
    expectInsideBox(a);
    expectControlsClickable(a);
  });

  it('a 320×420 box with the chat and the device settings open, and a shared screen: all inside the box', async function () {
    this.timeout(30_000);
    const room = uniqueRoom('panels');
    const a = await joined(room, 'Ada');
    const b = await joined(room, 'Grace');
    box(a, 320, 420);
    await remotes(a, 1);
    part(a, 'chat-button')?.click();
    part(a, 'settings-button')?.click();
    for (let i = 0; i < 8; i++) b.sendChatMessage(`Message number ${i} with some words in it`);
    await b.startScreenShare(new MediaStream([canvasTrack('#345')]));
    await waitFor(
      'the chat, the settings and the spotlight',
      () =>
        part(a, 'chat-log')?.querySelectorAll('li').length === 8 &&
        part(a, 'videoinput-select') &&
        part(a, 'spotlight'),
      15_000,
    );
    await a.updateComplete;
    expectInsideBox(a);
    expectControlsClickable(a);
  });

  it('without a height: 16:9 of its width (at least 420 px); two tiles side by side in a wide box', async () => {
    const room = uniqueRoom('wide');
    const a = await joined(room, 'Ada');
    await joined(room, 'Grace');
    box(a, 760);
    await remotes(a, 1);
    expect(a.getBoundingClientRect().height).to.be.closeTo(Math.max((760 * 9) / 16, 420), 1);
    const [local, remote] = tiles(a).map((t) => t.getBoundingClientRect()) as [DOMRect, DOMRect];
    expect(local.top).to.be.closeTo(remote.top, 1);
    expect(local.right).to.be.lessThan(remote.left);
    expect(local.width).to.be.closeTo(remote.width, 1);
    expect(local.height).to.be.closeTo(remote.height, 1);
    expectInsideBox(a);
    expectControlsClickable(a);
    // Icon-only controls on one row below 900 px, labelled ones in a box wide enough for them.
    const label = () =>
      (part(a, 'leave-button') as HTMLElement).querySelector('span')?.getBoundingClientRect().width ?? 0;
    expect(label()).to.be.at.most(1);
    box(a, 1000);
    await waitFor('labelled controls', () => label() > 10);
    expectInsideBox(a);
  });

  it("shows a remote tile's buttons on hover and keyboard focus only, isolates names, writes no style attribute", async () => {
    const room = uniqueRoom('tools');
    const a = await joined(room, 'Ada');
    const b = await joined(room, '\u202Eevil');
    box(a, 760, 420);
    await remotes(a, 1);
    const tile = remoteTiles(a)[0] as HTMLElement;
    const tools = tile.querySelector('.tools') as HTMLElement;
    const pin = part<HTMLButtonElement>(a, 'pin-button', tile) as HTMLButtonElement;
    if (matchMedia('(hover: hover)').matches) {
      await sendMouse({ type: 'move', position: [0, 0] });
      await waitFor('the tile buttons hidden', () => getComputedStyle(tools).opacity === '0');
      const r = tile.getBoundingClientRect();
      await sendMouse({ type: 'move', position: [Math.round(r.x + r.width / 2), Math.round(r.y + r.height / 2)] });
      await waitFor('shown on hover', () => getComputedStyle(tools).opacity === '1');
      await sendMouse({ type: 'move', position: [0, 0] });
      await waitFor('hidden again', () => getComputedStyle(tools).opacity === '0');
    }
    pin.focus();
    await waitFor('shown on keyboard focus', () => getComputedStyle(tools).opacity === '1');
    pin.blur();

    // The remote name, and this visitor's own name in "Ada (you)", each in a <bdi>.
    const name = part(a, 'name', tile) as HTMLElement;
    // The relay strips the bidi override from names (issue 15, L2); the <bdi> isolates whatever a name holds.
    expect(name.querySelector('bdi')?.textContent).to.equal('evil');
    expect(name.textContent).to.equal('evil');
    const own = part(a, 'name', part(a, 'local-tile') as HTMLElement) as HTMLElement;
    expect(own.querySelector('bdi')?.textContent).to.equal('Ada');
    expect(own.textContent).to.equal('Ada (you)');
    expect(b.peerId).to.be.a('string');

    expect(shadow(a).querySelectorAll('[style]').length, 'no style attribute').to.equal(0);
  });
});
