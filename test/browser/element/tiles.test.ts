/**
 * Tiles in a real call (in-page peers on the real relay): the active speaker's outline, the connection quality
 * indicator, pinning, full screen (a tile and the whole element) and Picture-in-Picture, and axe with those controls.
 *
 * Sound: each element's microphone is replaced, where the test says so, by a generated track. Loud is a Web Audio
 * oscillator where an AudioContext runs (Chromium); headless Firefox ESR here has no audio output and keeps every
 * AudioContext `suspended`, so there loud is its fake microphone (a continuous tone). Silent is a Web Audio
 * destination with nothing connected, in both. (No motion under prefers-reduced-motion, the outline's fade included, is
 * checked for every part by accessibility.test.ts.)
 */
import { sendMouse } from '@web/test-runner-commands';
import { expect, fixtureCleanup } from '@open-wc/testing';
import type { VideoChatElement } from '../../../src/video-chat.js';
import type { ActiveSpeakerEvent, QualityChangeEvent } from '../../../src/events.js';
import { joined, nextEvent, part, shadow, uniqueRoom, waitFor } from '../helpers.js';

const audio = new AudioContext();
const realGetUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
/** The sound the next element to capture gets instead of the fake microphone (undefined: the fake microphone). */
let nextSound: 'loud' | 'silent' | undefined;
navigator.mediaDevices.getUserMedia = async (constraints) => {
  const stream = await realGetUserMedia(constraints);
  const sound = nextSound;
  const mic = stream.getAudioTracks()[0];
  if (!mic || !sound || (sound === 'loud' && audio.state !== 'running')) return stream;
  const destination = audio.createMediaStreamDestination();
  if (sound === 'loud') {
    const oscillator = audio.createOscillator();
    oscillator.connect(destination);
    oscillator.start();
  }
  stream.removeTrack(mic);
  mic.stop();
  stream.addTrack(destination.stream.getAudioTracks()[0] as MediaStreamTrack);
  return stream;
};

async function joinedWith(sound: 'loud' | 'silent', room: string, name: string): Promise<VideoChatElement> {
  nextSound = sound;
  try {
    return await joined(room, name);
  } finally {
    nextSound = undefined;
  }
}

const tileOf = (el: VideoChatElement, peerId: string) =>
  shadow(el).querySelector<HTMLElement>(`[part~="remote-tile"][data-peer-id="${peerId}"]`) as HTMLElement;
const parts = (el: Element | null | undefined) => [...(el?.part ?? [])];

/** Two elements in a call, each showing the other's tile with video. */
async function inCall(): Promise<[VideoChatElement, VideoChatElement]> {
  const room = uniqueRoom('tiles');
  const a = await joined(room, 'Ada');
  const b = await joined(room, 'Grace');
  await waitFor(
    'both tiles with video',
    () =>
      (tileOf(a, b.peerId as string)?.querySelector('video')?.videoWidth ?? 0) > 0 &&
      (tileOf(b, a.peerId as string)?.querySelector('video')?.videoWidth ?? 0) > 0,
    15_000,
  );
  return [a, b];
}

/** A real mouse click (a user gesture, which the Fullscreen and Picture-in-Picture APIs require) in the middle of `el`. */
async function click(el: Element): Promise<void> {
  el.scrollIntoView({ block: 'center' });
  const r = el.getBoundingClientRect();
  await sendMouse({ type: 'click', position: [Math.round(r.x + r.width / 2), Math.round(r.y + r.height / 2)] });
}

describe('tiles', () => {
  afterEach(async () => {
    if (document.fullscreenElement) await document.exitFullscreen();
    if (document.pictureInPictureElement) await document.exitPictureInPicture();
    fixtureCleanup();
  });

  it('outlines the tile of the peer who speaks, not the silent one, and fires vc-active-speaker', async function () {
    this.timeout(40_000);
    const room = uniqueRoom('speaker');
    const loud = await joinedWith('loud', room, 'Loud');
    const quiet = await joinedWith('silent', room, 'Quiet');
    const watcher = await joinedWith('silent', room, 'Watcher');
    const speakers: (string | null)[] = [];
    watcher.addEventListener('vc-active-speaker', (e: ActiveSpeakerEvent) => speakers.push(e.peerId));
    const loudId = loud.peerId as string;
    const quietId = quiet.peerId as string;

    await waitFor(
      'the loud peer outlined at the watcher',
      () => parts(tileOf(watcher, loudId)).includes('active-speaker'),
      20_000,
    );
    // A visible outline (after its 0.3 s fade) on the speaker's tile only.
    const outline = (peerId: string) => getComputedStyle(tileOf(watcher, peerId)).outlineColor;
    await waitFor('the outline faded in', () => outline(loudId) === 'rgb(60, 203, 127)');
    expect(getComputedStyle(tileOf(watcher, loudId)).outlineStyle).to.equal('solid');
    expect(outline(quietId)).to.equal('rgba(0, 0, 0, 0)');
    expect(speakers).to.deep.equal([loudId]);
    expect(watcher.activeSpeaker).to.equal(loudId);
    // The loud peer goes on speaking: the outline stays where it is (sampled over several polls), no flicker.
    for (let i = 0; i < 6; i++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(parts(tileOf(watcher, loudId))).to.include('active-speaker');
      expect(parts(tileOf(watcher, quietId))).to.not.include('active-speaker');
      expect(parts(part(watcher, 'local-tile'))).to.not.include('active-speaker');
    }
    expect(speakers).to.deep.equal([loudId]);
    // The silent peer sees the loud one speaking too.
    await waitFor('the loud peer outlined at the silent one', () =>
      parts(tileOf(quiet, loudId)).includes('active-speaker'),
    );
  });

  it('shows a good connection with its figures on hover or focus, fires vc-quality-change, passes axe', async function () {
    this.timeout(30_000);
    const room = uniqueRoom('quality');
    const a = await joined(room, 'Ada');
    const changed = nextEvent<QualityChangeEvent>(a, 'vc-quality-change', 20_000);
    const b = await joined(room, 'Grace');
    const bId = b.peerId as string;
    const event = await changed;
    expect(event.peerId).to.equal(bId);
    expect(event.quality).to.equal('good');
    expect(event.figures.kbps).to.be.greaterThan(0);
    expect(event.figures.loss).to.be.within(0, 0.02);

    const indicator = await waitFor('the quality indicator', () => part(a, 'quality', tileOf(a, bId)));
    expect(indicator.classList.contains('good')).to.equal(true);
    expect(indicator.textContent).to.equal('▂▄▆');
    expect(indicator.tabIndex).to.equal(0);
    const label = indicator.getAttribute('aria-label') as string;
    expect(label).to.match(/^Connection good: \d+ ms round trip, \d+% loss, \d+ kbps$/);
    // The figures appear next to the bars on focus (Firefox reports the ::after content unresolved: the pill's width
    // growing by a line of text is what a person sees in both).
    const narrow = indicator.getBoundingClientRect().width;
    expect(getComputedStyle(indicator, '::after').content).to.equal('none');
    indicator.focus();
    expect(shadow(a).activeElement).to.equal(indicator);
    expect(getComputedStyle(indicator, '::after').content).to.not.equal('none');
    expect(indicator.getBoundingClientRect().width).to.be.greaterThan(narrow + 60);

    const figures = a.getConnectionQuality(bId);
    expect(figures?.level).to.equal('good');
    expect(figures?.rttMs).to.be.a('number');
    expect(a.getConnectionQuality('nobody')).to.equal(undefined);
    await expect(a).to.be.accessible();
  });

  it('pins a tile into the spotlight with its button or pin(), and unpinning restores the grid', async () => {
    const [a, b] = await inCall();
    const bTile = tileOf(a, b.peerId as string);
    const local = part(a, 'local-tile') as HTMLElement;
    const width = (el: Element) => el.getBoundingClientRect().width;
    expect(Math.abs(width(bTile) - width(local))).to.be.lessThan(2, 'grid: equal tiles');

    const pin = part<HTMLButtonElement>(a, 'pin-button', bTile) as HTMLButtonElement;
    expect(pin.getAttribute('aria-pressed')).to.equal('false');
    pin.click();
    await a.updateComplete;
    expect(parts(bTile)).to.include('pinned');
    expect(pin.getAttribute('aria-pressed')).to.equal('true');
    expect(width(bTile)).to.be.greaterThan(width(local) * 2);
    expect(bTile.getBoundingClientRect().top).to.be.lessThan(
      local.getBoundingClientRect().top,
      'pinned tile above the strip',
    );

    pin.click(); // unpin with the same button
    await a.updateComplete;
    expect(parts(bTile)).to.not.include('pinned');
    expect(Math.abs(width(bTile) - width(local))).to.be.lessThan(2);

    a.pin(b.peerId);
    await a.updateComplete;
    expect(width(bTile)).to.be.greaterThan(width(local) * 2);
    a.pin(null);
    await a.updateComplete;
    expect(parts(bTile)).to.not.include('pinned');
    expect(Math.abs(width(bTile) - width(local))).to.be.lessThan(2);
  });

  it('shows a tile, then the whole element, full screen (Fullscreen API) and follows fullscreenchange', async function () {
    this.timeout(30_000);
    const [a, b] = await inCall();
    const bTile = tileOf(a, b.peerId as string);
    const button = part<HTMLButtonElement>(a, 'tile-fullscreen-button', bTile) as HTMLButtonElement;
    await click(button);
    await waitFor(
      'the tile in full screen',
      () => document.fullscreenElement === a && shadow(a).fullscreenElement === bTile,
    );
    await waitFor('the button pressed', () => button.getAttribute('aria-pressed') === 'true');
    await click(button);
    await waitFor('full screen left', () => document.fullscreenElement === null);
    await waitFor('the button released', () => button.getAttribute('aria-pressed') === 'false');

    const whole = part<HTMLButtonElement>(a, 'fullscreen-button') as HTMLButtonElement;
    await click(whole);
    await waitFor(
      'the element in full screen',
      () => document.fullscreenElement === a && shadow(a).fullscreenElement === null,
    );
    await waitFor('its button pressed', () => whole.getAttribute('aria-pressed') === 'true');
    await document.exitFullscreen(); // e.g. Esc: the element follows fullscreenchange
    await waitFor('its button released', () => whole.getAttribute('aria-pressed') === 'false');
  });

  it('opens a tile in Picture-in-Picture where the browser has it, and closes it again', async function () {
    this.timeout(30_000);
    const [a, b] = await inCall();
    const bTile = tileOf(a, b.peerId as string);
    const button = part<HTMLButtonElement>(a, 'pip-button', bTile);
    if (!document.pictureInPictureEnabled) {
      expect(button).to.equal(null);
      return;
    }
    const video = bTile.querySelector('video') as HTMLVideoElement;
    await click(button as HTMLButtonElement);
    await waitFor('the video in Picture-in-Picture', () => shadow(a).pictureInPictureElement === video);
    await click(button as HTMLButtonElement);
    await waitFor('Picture-in-Picture closed', () => document.pictureInPictureElement === null);
  });
});
