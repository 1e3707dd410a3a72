/**
 * The site owner's attributes: `controls` (which buttons the bar shows), `max-peers` (refuse a call with too many
 * people), `lang` (the built-in locale, from the element or its closest ancestor; German loads on demand), plus
 * the `strings` overrides on top of a locale, and `debug` (the element's `vc-warning` and `vc-error` on the console).
 */
import { expect, fixture, fixtureCleanup, html } from '@open-wc/testing';
import { VideoChatError } from '../../../src/errors.js';
import '../../../src/index.js';
import { VideoChatErrorEvent } from '../../../src/events.js';
import type { VideoChatElement } from '../../../src/video-chat.js';
import { joined, nextEvent, part, relayUrl, shadow, uniqueRoom, waitFor } from '../helpers.js';

/** The control buttons a person sees (rendered and not hidden), by part name. */
const visibleButtons = (el: VideoChatElement): string[] =>
  [...shadow(el).querySelectorAll<HTMLElement>('[part~="controls"] button')]
    .filter((b) => b.getClientRects().length > 0)
    .map((b) => (b.getAttribute('part') ?? '').replace('control-button', '').trim());

const statusText = (el: VideoChatElement) => part(el, 'status')?.textContent?.trim() ?? '';

describe('attributes', () => {
  afterEach(() => fixtureCleanup());

  it('controls shows only the listed buttons, ignores unknown tokens, and shows all again without the attribute', async () => {
    const el = await joined(uniqueRoom('controls'), 'Ada');
    await waitFor('the control bar', () => visibleButtons(el).includes('leave-button'));
    const all = visibleButtons(el);
    expect(all).to.include.members(['mic-button', 'camera-button', 'chat-button', 'leave-button']);

    el.setAttribute('controls', 'microphone  bogus leave');
    await el.updateComplete;
    expect(visibleButtons(el)).to.deep.equal(['mic-button', 'leave-button']);
    const camera = part(el, 'camera-button') as HTMLButtonElement;
    camera.focus();
    expect(shadow(el).activeElement).to.not.equal(camera, 'a hidden button cannot take focus');

    el.setAttribute('controls', '');
    await el.updateComplete;
    expect(visibleButtons(el)).to.deep.equal([]);

    el.removeAttribute('controls');
    await el.updateComplete;
    expect(visibleButtons(el)).to.deep.equal(all);
  });

  it('max-peers: a newcomer finding the room at that size leaves with room-full; below it joins', async () => {
    const room = uniqueRoom('max');
    const first = await joined(room, 'Ada');
    const full = await fixture<VideoChatElement>(html`<video-chat max-peers="1"></video-chat>`);
    const error = nextEvent<VideoChatErrorEvent>(full, 'vc-error');
    full.name = 'Grace';
    full.signalUrl = relayUrl();
    full.room = room;
    expect((await error).error.code).to.equal('room-full');
    await waitFor('the error state', () => full.state === 'error');
    expect(part(full, 'error')?.textContent).to.contain('This room is full');
    expect(full.peers).to.deep.equal([]);
    await waitFor('Ada alone again', () => first.peers.length === 0 && first.state === 'waiting');

    const fits = await fixture<VideoChatElement>(
      html`<video-chat max-peers="2" name="Linus" room=${room} signal-url=${relayUrl()}></video-chat>`,
    );
    await waitFor('Linus in the call', () => fits.state === 'in-call');
    expect(fits.peers.map((p) => p.name)).to.deep.equal(['Ada']);
    await waitFor('Ada sees Linus', () => first.peers.length === 1);
  });

  it("lang: German from the closest ancestor (loaded on demand), English again when it changes, the element's own wins", async () => {
    const wrapper = await fixture<HTMLDivElement>(html`<div lang="de-AT"><video-chat></video-chat></div>`);
    const el = wrapper.querySelector('video-chat') as VideoChatElement;
    await waitFor(
      'German status',
      () => statusText(el) === 'Setzen Sie die Attribute room und signal-url, um zu beginnen.',
    );

    wrapper.setAttribute('lang', 'en');
    await waitFor('English status', () => statusText(el) === 'Set the room and signal-url attributes to start.');

    el.lang = 'de';
    await waitFor('German again, from the element', () => statusText(el).startsWith('Setzen Sie'));

    el.strings = { statusNoConfig: 'Bitte einrichten.' };
    await el.updateComplete;
    expect(statusText(el)).to.equal('Bitte einrichten.');

    el.strings = {};
    el.removeAttribute('lang');
    wrapper.setAttribute('lang', 'fr');
    await waitFor(
      'English for a language without a locale',
      () => statusText(el) === 'Set the room and signal-url attributes to start.',
    );
  });

  it('lang: the call in German, with the error texts of the German table', async () => {
    const el = await fixture<VideoChatElement>(html`<video-chat lang="de" max-peers="1"></video-chat>`);
    const room = uniqueRoom('de');
    await joined(room, 'Ada');
    el.name = 'Grace';
    el.signalUrl = relayUrl();
    el.room = room;
    await waitFor('the error state', () => el.state === 'error');
    await waitFor('the German error', () => part(el, 'error')?.textContent?.includes('Dieser Raum ist voll'));
    expect(part(el, 'retry-button')?.textContent?.trim()).to.equal('Erneut versuchen');
  });

  it('debug: logs each vc-warning and vc-error of the element once with console.warn; without it, nothing', async () => {
    const el = await fixture<VideoChatElement>(html`<video-chat></video-chat>`);
    const original = console.warn;
    const logged: unknown[][] = [];
    console.warn = (...args: unknown[]) => void logged.push(args);
    // What the call layer fires for a non-fatal negotiation failure (VideoChatWarningEvent), built from a plain Event.
    const warning = () =>
      Object.assign(new Event('vc-warning', { bubbles: true, composed: true }), {
        code: 'ice-candidate',
        peerId: 'p1',
        message: 'addIceCandidate failed',
        cause: new Error('bad candidate'),
      });
    try {
      el.dispatchEvent(warning());
      expect(logged).to.deep.equal([], 'nothing without debug');

      el.setAttribute('debug', '');
      await el.updateComplete;
      expect(el.debug).to.equal(true);
      el.dispatchEvent(warning());
      expect(logged.length).to.equal(1);
      const [prefix, fields] = logged[0] as [string, Record<string, unknown>];
      expect(prefix).to.equal('video-chat: vc-warning');
      expect(fields).to.include({ code: 'ice-candidate', peerId: 'p1', message: 'addIceCandidate failed' });

      const error = new VideoChatError('relay-unreachable', 'The relay cannot be reached.');
      el.dispatchEvent(new VideoChatErrorEvent(error));
      expect(logged.length).to.equal(2);
      expect(logged[1]).to.deep.equal(['video-chat: vc-error', error]);

      el.debug = false;
      el.dispatchEvent(warning());
      expect(logged.length).to.equal(2, 'nothing once debug is off again');
    } finally {
      console.warn = original;
    }
  });
});
