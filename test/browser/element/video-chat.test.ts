import { expect, fixture, fixtureCleanup, html } from '@open-wc/testing';
import '../../../src/index.js';
import type { VideoChatElement } from '../../../src/video-chat.js';
import type {
  JoinedEvent,
  PeerJoinedEvent,
  PeerLeftEvent,
  StateChangeEvent,
  VideoChatErrorEvent,
} from '../../../src/events.js';
import {
  captured,
  joined,
  nextEvent,
  part,
  relayUrl,
  shadow,
  uniqueRoom,
  waitFor,
  recordConnections,
} from '../helpers.js';
import { expectMediaFrom } from './remote-media.js';

/** Every RTCPeerConnection the page creates, so cleanup can be checked (real ones). */
const connections = recordConnections();

describe('<video-chat>', () => {
  afterEach(() => fixtureCleanup());

  it('is idle and says what is missing without room and signal-url', async () => {
    const el = await fixture<VideoChatElement>(html`<video-chat></video-chat>`);
    expect(el.state).to.equal('idle');
    expect(part(el, 'status')?.textContent).to.contain('Set the room and signal-url');
    const error = nextEvent<VideoChatErrorEvent>(el, 'vc-error');
    el.join();
    expect((await error).error.code).to.equal('bad-config');
    await expect(el).to.be.accessible();
  });

  it('joins, reports connecting then waiting, and shows the mirrored local preview', async () => {
    const room = uniqueRoom();
    const states: string[] = [];
    const el = document.createElement('video-chat');
    el.addEventListener('vc-state-change', (e: StateChangeEvent) => states.push(e.state));
    const joinedEvent = nextEvent<JoinedEvent>(el, 'vc-joined');
    el.setAttribute('room', room);
    el.setAttribute('signal-url', relayUrl());
    el.setAttribute('name', 'Ada');
    await fixture(html`<div>${el}</div>`);
    const event = await joinedEvent;
    expect(event.room).to.equal(room);
    expect(event.peerId).to.equal(el.peerId);
    await waitFor('waiting state', () => el.state === 'waiting');
    expect(states).to.deep.equal(['connecting', 'waiting']);
    expect(part(el, 'status')?.textContent).to.contain('Waiting for others');
    const local = part<HTMLVideoElement>(el, 'local-video');
    const stream = local?.srcObject as MediaStream;
    expect(stream.getVideoTracks()[0]?.readyState).to.equal('live');
    // The self-view is the camera alone: given the microphone, a muted <video> would still run an audio output.
    expect(stream.getAudioTracks(), 'no microphone in the preview').to.have.length(0);
    expect(captured(el)?.getAudioTracks()[0]?.readyState).to.equal('live', 'the microphone is captured');
    expect(local?.muted).to.equal(true);
    expect(getComputedStyle(local as Element).transform).to.not.equal('none');
    expect(part(el, 'local-tile')?.textContent).to.contain('Ada (you)');
    await expect(el).to.be.accessible();
  });

  it('connects two elements: events, tiles with names, media flowing both ways', async () => {
    const room = uniqueRoom();
    const a = await joined(room, 'Ada');
    const peerJoined = nextEvent<PeerJoinedEvent>(a, 'vc-peer-joined');
    const b = await joined(room, 'Grace');
    expect((await peerJoined).peer).to.deep.equal({ id: b.peerId, name: 'Grace' });
    await waitFor('both in call', () => a.state === 'in-call' && b.state === 'in-call');
    expect(a.peers).to.deep.equal([{ id: b.peerId, name: 'Grace' }]);
    expect(b.peers).to.deep.equal([{ id: a.peerId, name: 'Ada' }]);
    await expectMediaFrom(a, b.peerId as string);
    await expectMediaFrom(b, a.peerId as string);
    const tile = shadow(a).querySelector(`[part~="remote-tile"][data-peer-id="${b.peerId}"]`);
    expect(tile?.querySelector('[part~="name"]')?.textContent).to.equal('Grace');
    expect(part(a, 'status')?.textContent).to.contain('In call with 1 other person');
    await expect(a).to.be.accessible();
  });

  it('mutes and unmutes microphone and camera from the buttons', async () => {
    const el = await joined(uniqueRoom(), 'Ada');
    const mic = part<HTMLButtonElement>(el, 'mic-button') as HTMLButtonElement;
    const camera = part<HTMLButtonElement>(el, 'camera-button') as HTMLButtonElement;
    const stream = captured(el) as MediaStream;
    expect(mic.getAttribute('aria-pressed')).to.equal('true');
    mic.click();
    await el.updateComplete;
    expect(mic.getAttribute('aria-pressed')).to.equal('false');
    expect(stream.getAudioTracks()[0]?.enabled).to.equal(false);
    camera.click();
    await el.updateComplete;
    expect(camera.getAttribute('aria-pressed')).to.equal('false');
    expect(stream.getVideoTracks()[0]?.enabled).to.equal(false);
    expect(shadow(el).querySelector('[role="status"][aria-live="polite"]')?.textContent).to.contain('Camera off');
    mic.click();
    camera.click();
    await el.updateComplete;
    expect(stream.getAudioTracks()[0]?.enabled).to.equal(true);
    expect(stream.getVideoTracks()[0]?.enabled).to.equal(true);
  });

  it('on removal stops every track, closes every connection and the others see it leave', async () => {
    const room = uniqueRoom();
    const a = await joined(room, 'Ada');
    const b = await joined(room, 'Grace');
    await expectMediaFrom(b, a.peerId as string);
    const stream = captured(a) as MediaStream;
    const preview = part<HTMLVideoElement>(a, 'local-video')?.srcObject as MediaStream;
    const mine = connections.slice(-2);
    const leaverId = a.peerId;
    const left = nextEvent(a, 'vc-left');
    const peerLeft = nextEvent<PeerLeftEvent>(b, 'vc-peer-left');
    a.remove();
    await left;
    expect((await peerLeft).peer.id).to.equal(leaverId);
    expect(stream.getTracks().every((t) => t.readyState === 'ended')).to.equal(true);
    expect(preview.getTracks()[0]?.readyState).to.equal('ended', 'the preview (a clone in a call) too');
    await waitFor('connections closed', () => mine.length === 2 && mine.every((pc) => pc.connectionState === 'closed'));
    expect(a.state).to.equal('idle');
    await waitFor('tile removed', () => shadow(b).querySelectorAll('[part~="remote-tile"]').length === 0);
    expect(b.state).to.equal('waiting');
  });

  it('the leave button leaves and offers to join again', async () => {
    const el = await joined(uniqueRoom(), 'Ada');
    const left = nextEvent(el, 'vc-left');
    part<HTMLButtonElement>(el, 'leave-button')?.click();
    await left;
    await el.updateComplete;
    expect(el.state).to.equal('idle');
    const join = part<HTMLButtonElement>(el, 'join-button') as HTMLButtonElement;
    expect(join.textContent).to.contain('Join');
    const rejoined = nextEvent(el, 'vc-joined');
    join.click();
    await rejoined;
  });

  it('moves to the new room when the room attribute changes', async () => {
    const first = uniqueRoom();
    const second = uniqueRoom();
    const other = await joined(second, 'Grace');
    const el = await joined(first, 'Ada');
    const left = nextEvent(el, 'vc-left');
    const joinedEvent = nextEvent<JoinedEvent>(el, 'vc-joined');
    el.setAttribute('room', second);
    expect(((await left) as unknown as { room: string }).room).to.equal(first);
    expect((await joinedEvent).room).to.equal(second);
    await waitFor('in call in the new room', () => el.state === 'in-call' && el.peers[0]?.id === other.peerId);
  });

  it('rejects ice-servers that are not JSON with a bad-config error', async () => {
    const el = document.createElement('video-chat');
    const error = nextEvent<VideoChatErrorEvent>(el, 'vc-error');
    el.setAttribute('ice-servers', 'stun:example.test');
    el.setAttribute('room', uniqueRoom());
    el.setAttribute('signal-url', relayUrl());
    await fixture(html`<div>${el}</div>`);
    expect((await error).error.code).to.equal('bad-config');
    expect(el.state).to.equal('idle');
  });

  it('shows "relay unreachable" once, without a retry button (it retries by itself), when the relay cannot be reached', async () => {
    const el = await fixture<VideoChatElement>(html`<video-chat room="r" signal-url="ws://127.0.0.1:9/"></video-chat>`);
    await waitFor('error state', () => el.state === 'error', 15_000);
    expect(el.error?.code).to.equal('relay-unreachable');
    await el.updateComplete;
    expect(part(el, 'error')?.getAttribute('role')).to.equal('alert');
    expect(part(el, 'error')?.textContent).to.contain('Cannot reach');
    expect(part(el, 'error')?.textContent).to.contain('Retrying');
    expect(part(el, 'retry-button')).to.equal(null, 'no "Try again" beside "Retrying…"');
    expect(part(el, 'status')?.textContent?.trim()).to.equal('', 'one message: the banner');
    await expect(el).to.be.accessible();
  });

  it('shows "room full" and does not join when the room is at capacity', async () => {
    const room = uniqueRoom();
    const url = `ws://${location.host}/relay-capacity-1`;
    const first = await fixture<VideoChatElement>(html`<video-chat room=${room} signal-url=${url}></video-chat>`);
    await waitFor('first admitted', () => first.state === 'waiting');
    const second = document.createElement('video-chat');
    const error = nextEvent<VideoChatErrorEvent>(second, 'vc-error');
    second.setAttribute('room', room);
    second.setAttribute('signal-url', url);
    await fixture(html`<div>${second}</div>`);
    expect((await error).error.code).to.equal('room-full');
    await waitFor('error state', () => second.state === 'error');
    await second.updateComplete;
    expect(part(second, 'error')?.textContent).to.contain('This room is full');
    expect(second.peerId).to.equal(null);
    expect(first.state).to.equal('waiting');
    await expect(second).to.be.accessible();
  });

  it('joins receive-only when camera permission is denied, and still sees the others', async () => {
    const room = uniqueRoom();
    const sender = await joined(room, 'Grace');
    const original = navigator.mediaDevices.getUserMedia;
    navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('denied', 'NotAllowedError'));
    let el: VideoChatElement;
    try {
      el = await joined(room, 'Ada');
    } finally {
      navigator.mediaDevices.getUserMedia = original;
    }
    expect(el.error?.code).to.equal('permission-denied');
    await el.updateComplete;
    expect(part(el, 'error')?.textContent).to.contain('denied');
    expect(part<HTMLButtonElement>(el, 'mic-button')?.disabled).to.equal(true);
    await expectMediaFrom(el, sender.peerId as string);
    await waitFor('sender sees a tile for the receive-only peer', () => sender.peers.length === 1);
  });

  it('offers "click to enable sound" when the browser blocks autoplay with sound', async () => {
    const room = uniqueRoom();
    const original = HTMLMediaElement.prototype.play;
    HTMLMediaElement.prototype.play = function play(this: HTMLMediaElement) {
      return this.muted ? original.call(this) : Promise.reject(new DOMException('blocked', 'NotAllowedError'));
    };
    try {
      const a = await joined(room, 'Ada');
      await joined(room, 'Grace');
      const button = await waitFor('sound button', () => part<HTMLButtonElement>(a, 'sound-button'));
      expect(button.textContent).to.contain('Click to enable sound');
      const video = shadow(a).querySelector<HTMLVideoElement>('video[part~="remote-video"]') as HTMLVideoElement;
      expect(video.muted).to.equal(true);
      HTMLMediaElement.prototype.play = original;
      button.click();
      await a.updateComplete;
      expect(video.muted).to.equal(false);
      expect(part(a, 'sound-button')).to.equal(null);
    } finally {
      HTMLMediaElement.prototype.play = original;
    }
  });

  it('keeps the host page CSS out', async () => {
    const style = document.createElement('style');
    style.textContent = 'button { display: none !important; } * { font-size: 40px; color: red; }';
    document.head.append(style);
    try {
      const el = await joined(uniqueRoom(), 'Ada');
      await el.updateComplete;
      const button = part(el, 'leave-button') as HTMLElement;
      expect(getComputedStyle(button).display).to.not.equal('none');
      expect(getComputedStyle(part(el, 'status') as Element).fontSize).to.equal('14px');
    } finally {
      style.remove();
    }
  });
});
