/**
 * Accessibility beyond the axe audits of video-chat.test.ts (idle, waiting, in call, relay unreachable, room full):
 * axe with the chat open and with a peer muted, camera off and sharing a screen; every control reached and operated
 * by the keyboard alone with a visible focus ring; toggles with `aria-pressed` and a name; joins, leaves and mutes
 * announced in the polite live region; no transition or animation under `prefers-reduced-motion: reduce`.
 */
import { expect, fixtureCleanup } from '@open-wc/testing';
import { emulateMedia, sendKeys } from '@web/test-runner-commands';
import '../../../src/index.js';
import type { VideoChatElement } from '../../../src/video-chat.js';
import { canvasTrack, inCall, joined, part, shadow, uniqueRoom, waitFor } from '../helpers.js';

/** The polite live region's text. */
const announced = (el: VideoChatElement) =>
  shadow(el).querySelector('[role="status"][aria-live="polite"]')?.textContent?.trim();

/** The control bar's buttons a person sees. */
const controlButtons = (el: VideoChatElement) =>
  [...shadow(el).querySelectorAll<HTMLButtonElement>('[part~="controls"] button')].filter(
    (b) => b.getClientRects().length > 0,
  );

/** The focused element inside the element's shadow root. */
const focused = (el: VideoChatElement) => shadow(el).activeElement as HTMLElement | null;

describe('accessibility', () => {
  let emulated = false;
  afterEach(async () => {
    fixtureCleanup();
    if (emulated) await emulateMedia({ reducedMotion: 'no-preference' });
    emulated = false;
  });

  it('passes axe with the chat open and messages in it', async () => {
    const [a, b] = await inCall(uniqueRoom('a11y'));
    b.sendChatMessage('Hello <b>Ada</b>');
    part(a, 'chat-button')?.click();
    await waitFor('the message in the open chat', () =>
      part(a, 'chat-message')?.textContent?.includes('Hello <b>Ada</b>'),
    );
    a.sendChatMessage('Hi Grace');
    await a.updateComplete;
    await expect(a).to.be.accessible();
  });

  it('passes axe when the other peer is muted, has the camera off and shares a screen', async () => {
    const [a, b] = await inCall(uniqueRoom('a11y'));
    b.setMicrophoneEnabled(false);
    b.setCameraEnabled(false);
    await b.startScreenShare(new MediaStream([canvasTrack('#345')]));
    await waitFor(
      'the remote marks and the spotlight',
      () => part(a, 'mic-off') && part(a, 'spotlight') && part(b, 'sharing-banner'),
    );
    await expect(a).to.be.accessible();
    await expect(b).to.be.accessible();
  });

  it('reaches every control with Tab, shows a focus ring, and operates the toggles with the keyboard', async () => {
    const [a] = await inCall(uniqueRoom('a11y'));
    const buttons = controlButtons(a);
    expect(buttons.length).to.be.greaterThan(3);
    const reached = new Set<HTMLElement>();
    document.body.focus();
    for (let i = 0; i < 30 && reached.size < buttons.length; i++) {
      await sendKeys({ press: 'Tab' });
      const el = focused(a);
      if (!el || !buttons.includes(el as HTMLButtonElement)) continue;
      reached.add(el);
      expect(el.matches(':focus-visible'), `${el.getAttribute('part')} matches :focus-visible`).to.equal(true);
      const style = getComputedStyle(el);
      expect(style.outlineStyle, `${el.getAttribute('part')} has a focus outline`).to.not.equal('none');
      expect(parseFloat(style.outlineWidth)).to.be.greaterThan(1);
    }
    expect([...reached].map((b) => b.getAttribute('part'))).to.have.members(buttons.map((b) => b.getAttribute('part')));

    for (const name of ['mic-button', 'camera-button']) {
      const button = part<HTMLButtonElement>(a, name) as HTMLButtonElement;
      expect(button.getAttribute('aria-pressed'), name).to.equal('true');
      expect(button.textContent?.trim(), `${name} has a name`).to.not.equal('');
    }
    const screen = part<HTMLButtonElement>(a, 'screen-button');
    if (screen) expect(screen.getAttribute('aria-pressed')).to.equal('false');

    const mic = part<HTMLButtonElement>(a, 'mic-button') as HTMLButtonElement;
    mic.focus();
    await sendKeys({ press: 'Enter' });
    await waitFor('mic off by Enter', () => mic.getAttribute('aria-pressed') === 'false');
    expect(announced(a)).to.equal('Microphone off');
    await sendKeys({ press: ' ' });
    await waitFor('mic on by Space', () => mic.getAttribute('aria-pressed') === 'true');
    expect(announced(a)).to.equal('Microphone on');

    const camera = part<HTMLButtonElement>(a, 'camera-button') as HTMLButtonElement;
    camera.focus();
    await sendKeys({ press: 'Enter' });
    await waitFor('camera off by Enter', () => camera.getAttribute('aria-pressed') === 'false');
    expect(announced(a)).to.equal('Camera off');

    const chat = part<HTMLButtonElement>(a, 'chat-button') as HTMLButtonElement;
    chat.focus();
    await sendKeys({ press: 'Enter' });
    await waitFor('the chat opened by Enter', () => part(a, 'chat-input'));
    expect(chat.getAttribute('aria-expanded')).to.equal('true');
    (part(a, 'chat-input') as HTMLInputElement).focus();
    await sendKeys({ type: 'typed' });
    await sendKeys({ press: 'Enter' });
    await waitFor('the message sent by Enter', () => a.chatMessages.some((m) => m.text === 'typed'));
  });

  it('announces joins and leaves of others in the polite live region', async () => {
    const room = uniqueRoom('announce');
    const a = await joined(room, 'Ada');
    const b = await joined(room, 'Grace');
    await waitFor('"Grace joined"', () => announced(a) === 'Grace joined');
    // Every text the region shows, in order (a later announcement may replace this one before the next poll).
    const seen: string[] = [];
    const region = shadow(a).querySelector('[role="status"][aria-live="polite"]');
    const observer = new MutationObserver(() => seen.push(announced(a) ?? ''));
    if (region) observer.observe(region, { childList: true, characterData: true, subtree: true });
    b.remove();
    try {
      await waitFor('"Grace left"', () => seen.includes('Grace left'));
    } catch (error) {
      throw new Error(`${String(error)}; announced meanwhile: ${JSON.stringify(seen)}; peers: ${a.peers.length}`);
    } finally {
      observer.disconnect();
    }
  });

  it('has no transitions or animations under prefers-reduced-motion: reduce', async function () {
    // Firefox driven through WebDriver BiDi cannot emulate media features (puppeteer needs CDP for it): Chromium only.
    try {
      await emulateMedia({ reducedMotion: 'no-preference' });
    } catch (error) {
      if (String(error).includes('CDP support is required')) this.skip();
      throw error;
    }
    const [a] = await inCall(uniqueRoom('a11y'));
    const moving = () =>
      [a, ...shadow(a).querySelectorAll('*')].filter((el) => {
        const style = getComputedStyle(el);
        const durations = `${style.transitionDuration},${style.animationDuration}`
          .split(',')
          .map((d) => parseFloat(d) || 0);
        return durations.some((d) => d > 0) && (style.transitionProperty !== 'none' || style.animationName !== 'none');
      });
    expect(moving().length, 'something moves without the preference (else this test proves nothing)').to.be.greaterThan(
      0,
    );
    await emulateMedia({ reducedMotion: 'reduce' });
    emulated = true;
    expect(matchMedia('(prefers-reduced-motion: reduce)').matches).to.equal(true);
    expect(moving().map((el) => el.getAttribute('part') ?? el.localName)).to.deep.equal([]);
  });
});
