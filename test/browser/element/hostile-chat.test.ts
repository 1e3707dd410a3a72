/**
 * A hostile peer's chat (red team D3, L10): the element goes on updating whatever `sentAt` a peer sends, and names and
 * text are isolated so a bidi override cannot reorder what is around them. The peer talks to a real `<video-chat>`
 * through the real relay and a real data channel.
 */
import { expect, fixtureCleanup } from '@open-wc/testing';
import type { ChatMessageEvent } from '../../../src/events.js';
import type { VideoChatElement } from '../../../src/video-chat.js';
import { hostilePeer, type HostilePeer } from '../hostile-peer.js';
import { joined, part, shadow, uniqueRoom, waitFor } from '../helpers.js';

const DAY_MS = 86_400_000;

/** The victim (chat open) and a hostile peer whose data channel to it is open and whose tile it shows. */
async function victimAndAttacker(name?: string): Promise<[VideoChatElement, HostilePeer]> {
  const room = uniqueRoom('hostile-chat');
  const victim = await joined(room, 'Ada');
  part<HTMLButtonElement>(victim, 'chat-button')?.click();
  const attacker = await hostilePeer(room, name);
  await attacker.channelOpen;
  await waitFor('the attacker’s tile', () =>
    shadow(victim).querySelector(`[part~="remote-tile"][data-peer-id="${attacker.id}"]`),
  );
  await waitFor('the chat panel', () => part(victim, 'chat'));
  return [victim, attacker];
}

describe('chat from a hostile peer', function () {
  this.timeout(40_000);
  let attacker: HostilePeer | undefined;
  afterEach(() => {
    attacker?.close();
    attacker = undefined;
    fixtureCleanup();
  });

  it('a sentAt no Date can hold (1e16) or one far off neither breaks rendering nor shows a made-up time (D3)', async () => {
    const [victim, evil] = await victimAndAttacker();
    attacker = evil;
    const events: ChatMessageEvent[] = [];
    victim.addEventListener('vc-chat-message', (e) => events.push(e as ChatMessageEvent));
    const before = Date.now();
    // No Date holds these: refused. The channel is ordered, so once the later ones show, these were handled.
    evil.send({ type: 'chat', id: 'x1', text: 'beyond time', sentAt: 1e16 });
    evil.send({ type: 'chat', id: 'x2', text: 'before time', sentAt: -1e16 });
    // A Date holds these, but they are far from now: shown with the receive time.
    evil.send({ type: 'chat', id: 'x3', text: 'edge of time', sentAt: 8.64e15 });
    evil.send({ type: 'chat', id: 'x4', text: 'a year ago', sentAt: Date.now() - 365 * DAY_MS });
    evil.send({ type: 'chat', id: 'x5', text: 'now', sentAt: Date.now() });
    await waitFor(
      'three messages rendered',
      () => shadow(victim).querySelectorAll('[part~="chat-message"]').length === 3,
    );

    // What the person sees goes on changing: muting shows on the mic button, as in a control run.
    expect(part(victim, 'mic-button')?.getAttribute('aria-pressed')).to.equal('true');
    victim.setMicrophoneEnabled(false);
    await victim.updateComplete;
    await waitFor(
      'the mic button to show the mute',
      () => part(victim, 'mic-button')?.getAttribute('aria-pressed') === 'false',
      3000,
    );

    const items = [...shadow(victim).querySelectorAll('[part~="chat-message"]')];
    expect(items.map((li) => li.querySelector('p')?.textContent)).to.deep.equal(['edge of time', 'a year ago', 'now']);
    for (const li of items) {
      // Shown with the receive time: within a day of now, and the same instant in `datetime` and the event.
      const datetime = part(victim, 'chat-time', li)?.getAttribute('datetime') as string;
      expect(Math.abs(Date.parse(datetime) - before)).to.be.below(DAY_MS);
      expect(part(victim, 'chat-time', li)?.textContent?.trim()).to.not.equal('');
    }
    expect(events.map((e) => Math.abs(e.message.sentAt - before) < DAY_MS)).to.deep.equal([true, true, true]);
  });

  it('isolates names and text, so a bidi override cannot flip the text around them (L10, L2)', async () => {
    const [victim, evil] = await victimAndAttacker('\u202Eevil');
    attacker = evil;
    evil.send({ type: 'chat', id: 'b1', text: '\u202Egnirts desrever', sentAt: Date.now() });
    const item = await waitFor('the message', () => part(victim, 'chat-message'));
    const name = part(victim, 'chat-name', item) as HTMLElement;
    // Two defences: the relay strips bidi controls from names (issue 15, L2), and the element isolates them anyway.
    expect(name.textContent).to.equal('evil');
    expect(name.localName).to.equal('bdi');
    const text = item.querySelector('p') as HTMLElement;
    expect(text.textContent).to.equal('\u202Egnirts desrever');
    expect(text.getAttribute('dir')).to.equal('auto');
    expect(getComputedStyle(text).unicodeBidi).to.be.oneOf(['isolate', 'plaintext']);
    expect(getComputedStyle(name).unicodeBidi).to.equal('isolate');
  });
});
