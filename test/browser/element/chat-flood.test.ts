/**
 * A chat flood from a hostile peer (red team D4): with the chat panel open, the element stays responsive. Counted,
 * not timed: renders of the element, animation frames until a later change shows, and date formatting calls.
 */
import { expect, fixtureCleanup } from '@open-wc/testing';
import type { VideoChatElement } from '../../../src/video-chat.js';
import { hostilePeer, type HostilePeer } from '../hostile-peer.js';
import { joined, part, shadow, uniqueRoom, waitFor, recordWarnings } from '../helpers.js';

/** `PEER_RECEIVE_LIMIT` of protocol/data-channel.ts: 10 messages per second and type, burst 20 (a literal here, so that this
 * test also runs, and fails, against code without the limit). */
const PEER_RECEIVE_LIMIT = { perSecond: 10, burst: 20 };

/** The victim (chat open) and a hostile peer whose data channel to it is open and whose tile it shows. */
async function victimAndAttacker(): Promise<[VideoChatElement, HostilePeer]> {
  const room = uniqueRoom('flood');
  const victim = await joined(room, 'Ada');
  part<HTMLButtonElement>(victim, 'chat-button')?.click();
  const attacker = await hostilePeer(room);
  await attacker.channelOpen;
  await waitFor('the attacker’s tile', () => tileOf(victim, attacker));
  await waitFor('the chat panel', () => part(victim, 'chat'));
  return [victim, attacker];
}

const tileOf = (victim: VideoChatElement, attacker: HostilePeer) =>
  shadow(victim).querySelector<HTMLElement>(`[part~="remote-tile"][data-peer-id="${attacker.id}"]`);
const shownMessages = (victim: VideoChatElement) => shadow(victim).querySelectorAll('[part~="chat-message"]').length;

/** Counts the element's renders (Lit calls `render()` once per update). */
function countRenders(el: VideoChatElement): { readonly count: number } {
  const target = el as unknown as { render(): unknown };
  const render = target.render.bind(el);
  const counter = { count: 0 };
  target.render = () => {
    counter.count += 1;
    return render();
  };
  return counter;
}

/** Counts animation frames from now until `stop()`. */
function countFrames(): { readonly count: number; stop(): void } {
  const counter = { count: 0, running: true, stop: () => void (counter.running = false) };
  const tick = () => {
    if (!counter.running) return;
    counter.count += 1;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  return counter;
}

describe('chat flood from a hostile peer (chat panel open)', function () {
  this.timeout(120_000);
  let attacker: HostilePeer | undefined;
  const warnings = recordWarnings();
  /** The flood reports about `attacker` (vc-warning bubbles to the document). */
  const floodReports = (attacker: HostilePeer) =>
    warnings.events.filter((w) => w.code === 'peer-flood' && w.peerId === attacker.id && w.message === 'chat');
  afterEach(() => {
    attacker?.close();
    attacker = undefined;
    fixtureCleanup();
  });

  it('300 messages at once: a later mute shows within a few frames, renders stay few, the drop is reported once', async () => {
    const [victim, evil] = await victimAndAttacker();
    attacker = evil;
    const renders = countRenders(victim);
    const frames = countFrames();
    const FLOOD = 300;
    for (let i = 0; i < FLOOD; i++)
      evil.send({ type: 'chat', id: `f${i}`, text: `flood ${i} ${'x'.repeat(200)}`, sentAt: Date.now() });
    evil.send({ type: 'state', microphone: false, camera: true }); // the change the person should see next
    await waitFor(
      'the attacker’s mute on its tile',
      () => part(victim, 'mic-off', tileOf(victim, evil) as HTMLElement),
      100_000,
    );
    frames.stop();
    const accepted = victim.chatMessages.length;
    await waitFor('the accepted messages rendered', () => shownMessages(victim) === victim.chatMessages.length);

    // Without limits every message renders the element (300 renders, ever longer) and the mute waits behind them.
    expect(renders.count, 'renders during the flood').to.be.at.most(20);
    expect(frames.count, 'animation frames until the mute showed').to.be.at.most(30);
    // The burst passes; far from all 300 do (the rest refills at 10/s while the flood is read).
    expect(accepted).to.be.at.least(PEER_RECEIVE_LIMIT.burst);
    expect(accepted).to.be.below(FLOOD / 2);
    expect(floodReports(evil), warnings.shown()).to.have.length(1);
  });

  it('a sustained flood (100 messages per second for 1.5 s) is reported once, and the limit holds throughout', async () => {
    const [victim, evil] = await victimAndAttacker();
    attacker = evil;
    let sent = 0;
    for (let round = 0; round < 15; round++) {
      for (let i = 0; i < 10; i++) evil.send({ type: 'chat', id: `s${sent++}`, text: 'spam', sentAt: Date.now() });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    evil.send({ type: 'state', microphone: false, camera: true });
    await waitFor('the attacker’s mute on its tile', () =>
      part(victim, 'mic-off', tileOf(victim, evil) as HTMLElement),
    );
    // The burst, plus about one per 100 ms refilled while it lasted: far from the 150 sent.
    expect(victim.chatMessages.length).to.be.within(PEER_RECEIVE_LIMIT.burst, sent / 2);
    expect(floodReports(evil), warnings.shown()).to.have.length(1);
  });

  it('a burst within the limit renders in full, coalesced; later renders do not format the log again', async () => {
    const [victim, evil] = await victimAndAttacker();
    attacker = evil;
    const renders = countRenders(victim);
    const BURST = PEER_RECEIVE_LIMIT.burst;
    for (let i = 0; i < BURST; i++) evil.send({ type: 'chat', id: `b${i}`, text: `burst ${i}`, sentAt: Date.now() });
    await waitFor('the whole burst rendered', () => shownMessages(victim) === BURST);
    // One per message without coalescing; with it, one per animation frame the messages spread over.
    expect(renders.count, `renders for a burst of ${BURST} messages`).to.be.at.most(BURST / 2);
    expect(
      warnings.events.filter((w) => w.peerId === evil.id),
      warnings.shown(),
    ).to.deep.equal([]);

    // A render for something else (a mute) formats no time again.
    let formatted = 0;
    const spied = [
      [Date.prototype, 'toLocaleTimeString'],
      [Date.prototype, 'toISOString'],
      [Intl.DateTimeFormat.prototype, 'format'],
    ] as const;
    const originals = spied.map(([proto, key]) => Object.getOwnPropertyDescriptor(proto, key) as PropertyDescriptor);
    try {
      spied.forEach(([proto, key], i) => {
        const original = originals[i] as PropertyDescriptor;
        const wrapped = function (this: unknown, ...args: unknown[]) {
          formatted += 1;
          const target = (original.value ?? original.get?.call(this)) as (...a: unknown[]) => unknown;
          return target.apply(this, args);
        };
        Object.defineProperty(
          proto,
          key,
          original.value ? { ...original, value: wrapped } : { ...original, get: () => wrapped },
        );
      });
      const before = renders.count;
      victim.setMicrophoneEnabled(false);
      await victim.updateComplete;
      expect(part(victim, 'mic-button')?.getAttribute('aria-pressed')).to.equal('false');
      expect(renders.count).to.be.above(before);
      expect(formatted, 'date formatting calls in a render that added no message').to.equal(0);
    } finally {
      spied.forEach(([proto, key], i) => Object.defineProperty(proto, key, originals[i] as PropertyDescriptor));
    }
  });
});
