import { expect, fixtureCleanup } from '@open-wc/testing';
import '../../../src/index.js';
import type { ChatMessageEvent, MediaStateEvent } from '../../../src/events.js';
import type { VideoChatElement } from '../../../src/video-chat.js';
import { joined, nextEvent, part, shadow, uniqueRoom, waitFor } from '../helpers.js';

const tileOf = (el: VideoChatElement, peerId: string) =>
  shadow(el).querySelector<HTMLElement>(`[part~="remote-tile"][data-peer-id="${peerId}"]`) as HTMLElement;

/** Which element has heard which peer's media state (events bubble and are composed: one listener sees all). */
const heard = new Set<string>();
document.addEventListener('vc-media-state', (event) => {
  const e = event as MediaStateEvent;
  if (e.peerId) heard.add(`${(e.target as VideoChatElement).peerId}<-${e.peerId}`);
});

/** Two elements in a call whose data channels are open (each has heard the other's media state). */
async function connectedPair(): Promise<[VideoChatElement, VideoChatElement]> {
  const room = uniqueRoom('chat');
  const a = await joined(room, 'Ada');
  const b = await joined(room, 'Grace');
  await waitFor(
    'each to hear the other over the data channel',
    () => heard.has(`${a.peerId}<-${b.peerId}`) && heard.has(`${b.peerId}<-${a.peerId}`),
  );
  return [a, b];
}

describe('remote media state', () => {
  afterEach(() => fixtureCleanup());

  it('shows the peer’s muted microphone and camera-off on its tile, and clears them when turned back on', async () => {
    const [a, b] = await connectedPair();
    const tile = () => tileOf(b, a.peerId as string);
    const micEvent = nextEvent<MediaStateEvent>(b, 'vc-media-state');
    a.setMicrophoneEnabled(false);
    const event = await micEvent;
    expect([event.peerId, event.microphone, event.camera]).to.deep.equal([a.peerId, false, true]);
    await waitFor('mic-off mark', () => part(b, 'mic-off', tile()));
    expect(part(b, 'mic-off', tile())?.getAttribute('aria-label')).to.equal('Microphone off');

    a.setCameraEnabled(false);
    const placeholder = await waitFor('camera-off placeholder', () => tile().querySelector('.placeholder'));
    expect(placeholder.textContent).to.equal('A');
    expect(placeholder.getAttribute('aria-label')).to.contain('camera off');
    await expect(b).to.be.accessible();

    a.setMicrophoneEnabled(true);
    a.setCameraEnabled(true);
    await waitFor('marks cleared', () => !part(b, 'mic-off', tile()) && !tile().querySelector('.placeholder'));
  });
});

describe('chat', () => {
  afterEach(() => fixtureCleanup());

  it('round-trips a message with name and time, counts unread messages while the chat is closed', async () => {
    const [a, b] = await connectedPair();
    const received = nextEvent<ChatMessageEvent>(b, 'vc-chat-message');
    const sent = a.sendChatMessage('  Hello, Grace!  ');
    expect(sent.text).to.equal('Hello, Grace!');
    const { message } = await received;
    expect([message.peerId, message.name, message.text, message.id]).to.deep.equal([
      a.peerId,
      'Ada',
      'Hello, Grace!',
      sent.id,
    ]);
    await b.updateComplete;
    expect(b.unreadCount).to.equal(1);
    expect(part(b, 'unread')?.textContent).to.contain('1');

    part<HTMLButtonElement>(b, 'chat-button')?.click();
    await waitFor('the chat panel (fetched when first opened)', () => part(b, 'chat-message'));
    expect(b.unreadCount).to.equal(0);
    expect(part(b, 'chat-button')?.getAttribute('aria-expanded')).to.equal('true');
    const item = part(b, 'chat-message') as HTMLElement;
    expect(part(b, 'chat-name', item)?.textContent).to.equal('Ada');
    expect(part(b, 'chat-time', item)?.getAttribute('datetime')).to.equal(new Date(message.sentAt).toISOString());
    expect(item.querySelector('p')?.textContent).to.equal('Hello, Grace!');
    await expect(b).to.be.accessible();

    // The log is a window of the last 500 entries: once it is full, a new message still counts as unread.
    for (let i = 0; i < 500; i++) b.sendChatMessage(`note ${i}`);
    await b.updateComplete;
    expect(b.chatMessages.length).to.equal(500);
    part<HTMLButtonElement>(b, 'chat-button')?.click(); // closed
    await b.updateComplete;
    const late = nextEvent<ChatMessageEvent>(b, 'vc-chat-message');
    a.sendChatMessage('Still there?');
    await late;
    await b.updateComplete;
    expect(b.unreadCount).to.equal(1);
  });

  it('sends from the form and never interprets HTML', async () => {
    const [a, b] = await connectedPair();
    part<HTMLButtonElement>(a, 'chat-button')?.click();
    part<HTMLButtonElement>(b, 'chat-button')?.click();
    await waitFor('both chat panels', () => part(a, 'chat-input') && part(b, 'chat'));
    const input = part<HTMLInputElement>(a, 'chat-input') as HTMLInputElement;
    const evil = '<img src=x onerror="window.__pwned = true"><b>bold</b>';
    input.value = evil;
    const received = nextEvent<ChatMessageEvent>(b, 'vc-chat-message');
    part<HTMLButtonElement>(a, 'chat-send')?.click();
    expect((await received).message.text).to.equal(evil);
    expect(input.value).to.equal('');
    await b.updateComplete;
    const shown = shadow(b).querySelector('[part~="chat-message"] p') as HTMLElement;
    expect(shown.textContent).to.equal(evil);
    expect(shown.querySelector('img, b')).to.equal(null);
    expect((window as unknown as { __pwned?: boolean }).__pwned).to.equal(undefined);
  });

  it('rejects blank and over-long messages', async () => {
    const [a] = await connectedPair();
    expect(() => a.sendChatMessage('   ')).to.throw(RangeError);
    expect(() => a.sendChatMessage('x'.repeat(2001))).to.throw(RangeError);
    expect(a.sendChatMessage('x'.repeat(2000)).text.length).to.equal(2000);
    await a.updateComplete;
    part<HTMLButtonElement>(a, 'chat-button')?.click();
    await waitFor('the chat panel', () => part(a, 'chat-input'));
    expect(part<HTMLInputElement>(a, 'chat-input')?.maxLength).to.equal(2000);
  });
});
