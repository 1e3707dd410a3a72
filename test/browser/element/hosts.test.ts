/**
 * Hosts and guests in `<video-chat>`, on the real relay requiring room tokens (/relay-token, tokens minted here with
 * its test secret): the waiting screen and its cancel, the waiting queue shown to hosts only, admit and deny as the
 * guest sees them, raised hands in order and a host lowering one, a reaction's animation on the sender's tile and
 * `prefers-reduced-motion`, and axe on the waiting screen and the participant list.
 */
import { expect, fixture, fixtureCleanup, html } from '@open-wc/testing';
import { emulateMedia } from '@web/test-runner-commands';
import '../../../src/index.js';
import type { AdmittedEvent, DeniedEvent, KnockEvent, VideoChatErrorEvent } from '../../../src/events.js';
import type { VideoChatElement } from '../../../src/video-chat.js';
import { mintToken, nextEvent as next, part, shadow, tokenRelayUrl, uniqueRoom, waitFor as poll } from '../helpers.js';

/** A `<video-chat>` on /relay-token with a token of `claims` for `room` (valid one minute). */
async function enter(
  room: string,
  name: string,
  claims: Record<string, unknown> = {},
  controls?: string,
): Promise<VideoChatElement> {
  const token = await mintToken({ room, exp: Math.floor(Date.now() / 1000) + 60, ...claims });
  const el = await fixture<VideoChatElement>(
    html`<video-chat room=${room} name=${name} signal-url=${tokenRelayUrl()} token=${token}></video-chat>`,
  );
  if (controls !== undefined) el.controls = controls;
  return el;
}

/** The call's hosts model, if its chunk was loaded (the test reads the element's protected `call`). */
const hostsModel = (el: VideoChatElement) => (el as unknown as { call: { hosts?: unknown } }).call.hosts;

/** Waits until `el` is in the room (a peer ID) and its hosts chunk and UI arrived (the people button is drawn). */
async function admitted(el: VideoChatElement, name: string): Promise<VideoChatElement> {
  await waitFor(`${name} admitted, with the people button`, () => el.peerId && part(el, 'people-button'));
  return el;
}

/** Bounded waits, generous for a loaded machine (2 shared cores). */
const WAIT_MS = 30_000;
const waitFor = <T>(what: string, predicate: () => T | Promise<T>) => poll(what, predicate, WAIT_MS);
const nextEvent = <E extends Event>(target: EventTarget, type: string) => next<E>(target, type, WAIT_MS);

const text = (el: Element | null | undefined) => el?.textContent?.replace(/\s+/g, ' ').trim() ?? '';

describe('hosts and guests', function () {
  // Three elements with camera and microphone in one page, each step waiting on the real relay: allow a loaded machine.
  this.timeout(90_000);
  let emulated = false;
  afterEach(async () => {
    fixtureCleanup();
    if (emulated) await emulateMedia({ reducedMotion: 'no-preference' });
    emulated = false;
  });

  it('a knocking guest sees the waiting screen (no host yet), passes axe, and Cancel leaves', async () => {
    const room = uniqueRoom('knock');
    const guest = await enter(room, 'Kim', { knock: true });
    const waiting = await waitFor('the waiting screen', () => part(guest, 'waiting'));
    expect(text(waiting)).to.contain('Waiting for the host to let you in');
    expect(text(waiting)).to.contain('No host is here yet');
    expect(guest.peerId).to.equal(null);
    // The state says it waits to be let in, also as a custom state.
    expect(guest.state).to.equal('knocking');
    expect(guest.matches(':state(knocking)')).to.equal(true);
    // The call's tiles and control bar are not shown meanwhile.
    expect(part(guest, 'grid')?.getClientRects().length ?? 0).to.equal(0);
    expect(part(guest, 'controls')?.getClientRects().length ?? 0).to.equal(0);
    await expect(guest).to.be.accessible();
    (part(guest, 'cancel-button') as HTMLButtonElement).click();
    await waitFor('idle after Cancel', () => guest.state === 'idle' && !part(guest, 'waiting'));
  });

  it('hosts see the waiting queue and admit; a guest in the room sees none of it; the admitted guest joins', async () => {
    const room = uniqueRoom('admit');
    const host = await admitted(await enter(room, 'Hana', { role: 'host' }), 'Hana');
    const inside = await admitted(await enter(room, 'Ida'), 'Ida');
    const knock = nextEvent<KnockEvent>(host, 'vc-knock');
    const guest = await enter(room, 'Kim', { knock: true });
    expect((await knock).knock.name).to.equal('Kim');
    await waitFor('"The host knows you are here"', () => text(part(guest, 'waiting')).includes('host knows'));

    for (const el of [host, inside]) (part(el, 'people-button') as HTMLButtonElement).click();
    await waitFor('the queue in the host list', () => part(host, 'knock'));
    await waitFor('the list for the guest inside', () => part(inside, 'people'));
    expect(text(part(host, 'knock'))).to.contain('Kim');
    expect(text(part(host, 'people-button'))).to.contain('1'); // the queue's size on the button
    // The guest inside: the participant list, no queue, no host buttons.
    expect(part(inside, 'knock')).to.equal(null);
    expect(part(inside, 'admit-button')).to.equal(null);
    expect(part(inside, 'remove-button')).to.equal(null);
    expect(text(part(inside, 'people'))).to.contain('Host'); // Hana is marked as host
    await expect(host).to.be.accessible();
    await expect(inside).to.be.accessible();

    const guestAdmitted = nextEvent<AdmittedEvent>(guest, 'vc-admitted');
    (part(host, 'admit-button') as HTMLButtonElement).click();
    expect((await guestAdmitted).knock).to.equal(null);
    await waitFor(
      'the admitted guest in the call with both',
      () => guest.state === 'in-call' && guest.peers.length === 2,
    );
    expect(part(guest, 'waiting')).to.equal(null);
    await waitFor('the queue empty', () => !part(host, 'knock'));
    await waitFor('the host announces the admission', () =>
      [...shadow(host).querySelectorAll('[role="status"]')].some((r) => text(r).includes('Kim was let in')),
    );
  });

  it('a denied guest is told why, with "Try again"', async () => {
    const room = uniqueRoom('deny');
    const host = await admitted(await enter(room, 'Hana', { role: 'host' }), 'Hana');
    const knock = nextEvent<KnockEvent>(host, 'vc-knock');
    const guest = await enter(room, 'Kim', { knock: true });
    const denied = nextEvent<DeniedEvent>(guest, 'vc-denied');
    host.deny((await knock).knock.id);
    expect((await denied).reason).to.equal('denied');
    await waitFor('the error state', () => guest.state === 'error');
    await guest.updateComplete;
    expect(guest.error?.code).to.equal('denied');
    expect(text(part(guest, 'error'))).to.contain('did not let you in');
    expect(part(guest, 'retry-button')).to.not.equal(null);
    expect(part(guest, 'waiting')).to.equal(null);
  });

  it('keeps raised hands in order; a host lowers one; the hand marks show the places', async () => {
    const room = uniqueRoom('hands');
    const host = await admitted(await enter(room, 'Hana', { role: 'host' }), 'Hana');
    const a = await admitted(await enter(room, 'Ada'), 'Ada');
    const b = await admitted(await enter(room, 'Bea'), 'Bea');
    await waitFor('all in call', () => [host, a, b].every((el) => el.peers.length === 2));
    const order = (el: VideoChatElement) =>
      [...shadow(el).querySelectorAll('[part~="remote-tile"]')]
        .map((tile) => [tile.getAttribute('data-peer-id'), text(tile.querySelector('[part~="hand"]'))] as const)
        .filter(([, mark]) => mark)
        .sort((x, y) => x[1].localeCompare(y[1]))
        .map(([id]) => id);
    b.raiseHand();
    // Each element keeps hands in the order it received them: Ada raises hers once she saw Bea's.
    await waitFor("Bea's hand at the host and at Ada", () => order(host).length === 1 && order(a).length === 1);
    (part(a, 'hand-button') as HTMLButtonElement).click();
    await waitFor('two hands at the host, Bea first', () => order(host).join() === [b.peerId, a.peerId].join());
    expect(part(a, 'hand-button')?.getAttribute('aria-pressed')).to.equal('true');
    expect(text(shadow(a).querySelector('[part~="local-tile"] [part~="hand"]'))).to.contain('2');
    // A guest cannot lower someone else's hand; a host can, and everyone sees it go.
    a.lowerHand(b.peerId as string);
    host.lowerHand(b.peerId as string);
    await waitFor("Bea's hand down at Bea", () => part(b, 'hand-button')?.getAttribute('aria-pressed') === 'false');
    await waitFor('only Ada left, at the host and at Bea', () =>
      [host, b].every((el) => order(el).join() === String(a.peerId)),
    );
  });

  it('shows a reaction on the sender tile with an animation, still under prefers-reduced-motion', async function () {
    // A room without hosts: nobody loads the hosts chunk until a button the page lists (Bea's) or a reaction
    // received (Ada's) needs it.
    const room = uniqueRoom('react');
    const a = await enter(room, 'Ada');
    const b = await admitted(await enter(room, 'Bea', {}, 'microphone camera react leave'), 'Bea');
    await waitFor('in call', () => a.peers.length === 1 && b.peers.length === 1);
    expect(hostsModel(a), 'no hosts model at Ada before anything needs it').to.equal(undefined);
    (part(b, 'react-button') as HTMLButtonElement).click();
    const thumbs = await waitFor('the row of reactions', () =>
      [...shadow(b).querySelectorAll<HTMLButtonElement>('[part~="reaction-button"]')].find(
        (x) => x.textContent === '👍',
      ),
    );
    await expect(b).to.be.accessible();
    thumbs.click();
    const shown = (el: VideoChatElement, tile: string) =>
      shadow(el).querySelector<HTMLElement>(`${tile} [part~="reaction"]`);
    const atA = await waitFor("the reaction on Bea's tile at Ada", () =>
      shown(a, `[part~="remote-tile"][data-peer-id="${b.peerId}"]`),
    );
    expect(atA.textContent).to.equal('👍');
    expect(getComputedStyle(atA).animationName).to.equal('vc-react');
    expect(shown(b, '[part~="local-tile"]')?.textContent).to.equal('👍');
    b.react('🎈'); // sent or not, depending on the time since the click: the next one, at once, is not
    expect(b.react('🎉'), 'a second reaction within a second is not sent').to.equal(false);

    // Firefox through WebDriver BiDi cannot emulate media features (puppeteer needs CDP): the rest in Chromium only.
    try {
      await emulateMedia({ reducedMotion: 'reduce' });
    } catch (error) {
      if (String(error).includes('CDP support is required')) this.skip();
      throw error;
    }
    emulated = true;
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(b.react('🎉')).to.equal(true);
    const still = await waitFor('the second reaction at Ada', () => {
      const el = shown(a, `[part~="remote-tile"][data-peer-id="${b.peerId}"]`);
      return el?.textContent === '🎉' ? el : null;
    });
    expect(getComputedStyle(still).animationName).to.equal('none');
    expect(getComputedStyle(still).opacity).to.equal('1');
  });

  it('host methods: ask to unmute and request mute (the participant decides), refused for a guest, end the call for everyone', async () => {
    const room = uniqueRoom('end');
    const host = await admitted(await enter(room, 'Hana', { role: 'host' }), 'Hana');
    const guest = await admitted(await enter(room, 'Ida'), 'Ida');
    await waitFor('in call', () => host.peers.length === 1 && guest.peers.length === 1);
    const mic = (on: boolean) => () =>
      host.peers.length === 1 && // the host's view of Ida's microphone, as Ida announced it
      [...shadow(host).querySelectorAll(`[part~="remote-tile"][data-peer-id="${guest.peerId}"] [part~="mic-off"]`)]
        .length === (on ? 0 : 1);
    guest.setMicrophoneEnabled(false);
    await waitFor("Ida's microphone off at the host", mic(false));

    host.askToUnmute(guest.peerId as string);
    const ask = await waitFor('the request at Ida', () => part(guest, 'ask'));
    expect(text(ask)).to.contain('Hana asks you to turn your microphone on');
    expect(part(guest, 'mic-button')?.getAttribute('aria-pressed'), 'nothing switched on for her').to.equal('false');
    (part(guest, 'ask-accept-button') as HTMLButtonElement).click();
    await waitFor("Ida's microphone on at the host", mic(true));

    host.requestMute(guest.peerId as string, 'microphone');
    await waitFor('the mute request at Ida', () => text(part(guest, 'ask')).includes('turn your microphone off'));
    (part(guest, 'ask-dismiss-button') as HTMLButtonElement).click();
    await waitFor('the request gone', () => !part(guest, 'ask'));
    expect(part(guest, 'mic-button')?.getAttribute('aria-pressed')).to.equal('true'); // she said "Not now"

    // A guest's host action: the relay refuses it, the guest is told, the call goes on.
    const refused = nextEvent<VideoChatErrorEvent>(guest, 'vc-error');
    guest.askToUnmute(host.peerId as string);
    expect((await refused).error.code).to.equal('relay-error');
    expect(guest.state).to.equal('in-call');

    const ended = [host, guest].map((el) => nextEvent<VideoChatErrorEvent>(el, 'vc-error'));
    host.endCallForEveryone();
    for (const event of await Promise.all(ended)) expect(event.error.code).to.equal('call-ended');
    for (const el of [host, guest]) {
      await waitFor('the error state', () => el.state === 'error');
      await el.updateComplete;
      expect(text(part(el, 'error'))).to.contain('The host ended the call');
      expect(part(el, 'retry-button')).to.equal(null);
    }
  });
});
