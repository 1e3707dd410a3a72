/**
 * Devices, pre-join, start-muted attributes and media faults, in the real browsers with their fake devices (Chromium
 * runs with two fake cameras, Firefox ESR has one) against the real relay. Faults (a refused or missing camera, an
 * unplugged one) are injected in the page: getUserMedia made to reject, a capture track's `ended` event dispatched.
 */
import { expect, fixture, fixtureCleanup, html } from '@open-wc/testing';
import '../../../src/index.js';
import type { DeviceChangeEvent, VideoChatErrorEvent } from '../../../src/events.js';
import type { VideoChatElement } from '../../../src/video-chat.js';
import { captured, canvasTrack, inCall, joined, nextEvent, part, relayUrl, uniqueRoom, waitFor } from '../helpers.js';
import { expectVideoFrom, remoteTile, remoteVideo } from './remote-media.js';

/** The camera or microphone track the element captured and sends. */
const localTrack = (el: VideoChatElement, kind: 'audio' | 'video'): MediaStreamTrack | undefined =>
  captured(el)
    ?.getTracks()
    .find((t) => t.kind === kind);

/** Opens the settings panel (unless open) and returns the device `<select>` of `kind`. */
async function deviceSelect(el: VideoChatElement, kind: MediaDeviceKind): Promise<HTMLSelectElement> {
  if (!part(el, 'devices') && part(el, 'settings-button')) part(el, 'settings-button')?.click();
  return waitFor(`${kind} select`, () => part<HTMLSelectElement>(el, `${kind}-select`));
}

/** Picks `deviceId` in the `<select>` of `kind`, as a person does, and waits for `vc-device-change`. */
async function choose(el: VideoChatElement, kind: MediaDeviceKind, deviceId: string): Promise<void> {
  const select = await deviceSelect(el, kind);
  const changed = nextEvent<DeviceChangeEvent>(el, 'vc-device-change');
  select.value = deviceId;
  select.dispatchEvent(new Event('change'));
  const event = await changed;
  expect([event.kind, event.deviceId]).to.deep.equal([kind, deviceId]);
}

/**
 * The camera to switch to: the last one listed. In Chromium (test/e2e/browsers.ts) that is fake_device_2, another
 * camera than the default fake_device_0 (fake_device_1 is a depth camera whose frames WebRTC does not send); Firefox
 * ESR has one camera, so it is the same one again (a new capture all the same).
 */
async function otherCamera(): Promise<string> {
  const cameras = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput');
  return (cameras.at(-1) as MediaDeviceInfo).deviceId;
}

/** Makes getUserMedia reject with `name` until the returned function is called. */
function failCapture(name: string): () => void {
  const devices = navigator.mediaDevices;
  devices.getUserMedia = () => Promise.reject(new DOMException(`injected ${name}`, name));
  return () => delete (devices as Partial<MediaDevices>).getUserMedia; // the prototype's method shows through again
}

/**
 * Counts RTCPeerConnections created and offers/answers sent while installed, to the relay or (once a pair is
 * connected) over its data channel (real objects, observed).
 */
function observeNegotiation() {
  const connections: RTCPeerConnection[] = [];
  const descriptions: string[] = [];
  const Original = window.RTCPeerConnection;
  const send = WebSocket.prototype.send;
  const sendOnChannel = RTCDataChannel.prototype.send;
  window.RTCPeerConnection = class extends Original {
    constructor(config?: RTCConfiguration) {
      super(config);
      connections.push(this);
    }
  } as typeof RTCPeerConnection;
  WebSocket.prototype.send = function (this: WebSocket, data: string | ArrayBufferLike | Blob | ArrayBufferView) {
    if (typeof data === 'string' && data.includes('"description"')) descriptions.push(data);
    return send.call(this, data);
  };
  RTCDataChannel.prototype.send = function (this: RTCDataChannel, data: string | Blob | ArrayBuffer | ArrayBufferView) {
    if (typeof data === 'string' && data.includes('"description"')) descriptions.push(data);
    Reflect.apply(sendOnChannel, this, [data]);
  };
  return {
    connections,
    descriptions,
    restore: () => {
      window.RTCPeerConnection = Original;
      WebSocket.prototype.send = send;
      RTCDataChannel.prototype.send = sendOnChannel;
    },
  };
}

describe('devices', () => {
  afterEach(() => fixtureCleanup());

  it('lists the cameras, microphones and speakers of enumerateDevices in labelled selects; devicechange refreshes them', async () => {
    const a = await joined(uniqueRoom('list'), 'Ada');
    await waitFor('camera captured', () => localTrack(a, 'video'));
    const devices = await navigator.mediaDevices.enumerateDevices();
    const kinds: MediaDeviceKind[] = ['videoinput', 'audioinput', 'audiooutput'];
    for (const kind of kinds) {
      const listed = devices.filter((d) => d.kind === kind);
      if (listed.length === 0) {
        expect(part(a, `${kind}-select`), `no ${kind} select without such devices`).to.equal(null);
        continue;
      }
      const select = await deviceSelect(a, kind);
      expect([...select.options].map((o) => [o.value, o.textContent])).to.deep.equal(
        listed.map((d) => [d.deviceId, d.label]),
      );
      expect(listed.every((d) => d.label)).to.equal(true, 'labels after access was granted');
      expect(select.closest('label')?.textContent).to.match(/Camera|Microphone|Speaker/);
    }
    expect((await a.getDevices()).map((d) => d.deviceId)).to.deep.equal(devices.map((d) => d.deviceId));
    expect(part(a, 'settings-button')?.getAttribute('aria-expanded')).to.equal('true');
    await expect(a).to.be.accessible();

    // A camera plugged in: the browser fires devicechange and enumerateDevices lists it.
    const plugged = {
      deviceId: 'plugged-in',
      kind: 'videoinput',
      label: 'USB camera',
      groupId: 'g',
    } as MediaDeviceInfo;
    const original = navigator.mediaDevices.enumerateDevices;
    navigator.mediaDevices.enumerateDevices = async () => [...(await original.call(navigator.mediaDevices)), plugged];
    try {
      navigator.mediaDevices.dispatchEvent(new Event('devicechange'));
      const select = await deviceSelect(a, 'videoinput');
      await waitFor('the new camera listed', () => [...select.options].some((o) => o.textContent === 'USB camera'));
    } finally {
      delete (navigator.mediaDevices as Partial<MediaDevices>).enumerateDevices;
    }
  });

  it('switching camera and microphone mid-call replaces the tracks on the same connection, with no new offer/answer', async function () {
    // Its bounded waits in a row (a call, the screen share, two switches, frames twice) outlast mocha's 20 s on a busy
    // machine: the bound is theirs.
    this.timeout(45_000);
    const observed = observeNegotiation();
    try {
      const [a, b] = await inCall(uniqueRoom('switch'));
      await expectVideoFrom(b, a);
      // Screen share and mute go on across the switch.
      const screen = canvasTrack('#246');
      await a.startScreenShare(new MediaStream([screen]));
      await waitFor('spotlight at the viewer', () => part(b, 'screen-video'));
      a.setMicrophoneEnabled(false);
      await waitFor(
        'stable: every offer answered',
        () => observed.descriptions.length % 2 === 0 && observed.descriptions.length >= 4,
      );
      const oldVideo = localTrack(a, 'video') as MediaStreamTrack;
      const oldAudio = localTrack(a, 'audio') as MediaStreamTrack;
      const pc = observed.connections.find((c) =>
        c.getSenders().some((s) => s.track === oldVideo),
      ) as RTCPeerConnection;
      expect(pc, "a's connection").to.not.equal(undefined);
      const [connections, descriptions] = [observed.connections.length, observed.descriptions.length];

      const camera = await otherCamera();
      const cameras = (await a.getDevices()).filter((d) => d.kind === 'videoinput').length;
      if (cameras > 1) expect(camera).to.not.equal(oldVideo.getSettings().deviceId, 'another camera');
      await choose(a, 'videoinput', camera);
      const microphone = (await a.getDevices()).filter((d) => d.kind === 'audioinput').at(-1) as MediaDeviceInfo;
      await choose(a, 'audioinput', microphone.deviceId);

      const newVideo = localTrack(a, 'video') as MediaStreamTrack;
      const newAudio = localTrack(a, 'audio') as MediaStreamTrack;
      expect(newVideo).to.not.equal(oldVideo);
      expect(newAudio).to.not.equal(oldAudio);
      expect([oldVideo.readyState, oldAudio.readyState]).to.deep.equal(['ended', 'ended'], 'old tracks stopped');
      expect(newVideo.getSettings().deviceId).to.equal(camera);
      expect(a.selectedDevices).to.deep.include({ videoinput: camera, audioinput: microphone.deviceId });
      await waitFor('the connection sends the new tracks', () =>
        [newVideo, newAudio].every((t) => pc.getSenders().some((s) => s.track === t)),
      );
      expect([newAudio.enabled, newVideo.enabled]).to.deep.equal([false, true], 'still muted, camera on');
      expect(part(a, 'mic-button')?.getAttribute('aria-pressed')).to.equal('false');

      // The viewer keeps decoding: the old camera is stopped, so these frames come from the new one.
      await expectVideoFrom(b, a);
      expect(a.screenSharing).to.equal(true);
      expect(part(b, 'screen-video')).to.not.equal(null);
      expect(pc.connectionState).to.equal('connected');
      expect(observed.connections.length).to.equal(connections, 'no new RTCPeerConnection');
      expect(observed.descriptions.length).to.equal(descriptions, 'no offer or answer for a switch');
      screen.stop();
    } finally {
      observed.restore();
    }
  });

  it('plays remote videos on the chosen speaker (setSinkId)', async function () {
    const [a, b] = await inCall(uniqueRoom('speaker'));
    const speakers = (await a.getDevices()).filter((d) => d.kind === 'audiooutput' && d.deviceId !== 'default');
    await deviceSelect(a, 'videoinput');
    if (speakers.length === 0) {
      // Firefox ESR lists no audio outputs without a selectAudioOutput() prompt: the speaker menu is left out.
      expect(part(a, 'audiooutput-select')).to.equal(null);
      this.skip();
    }
    const speaker = speakers.at(-1) as MediaDeviceInfo;
    await waitFor('remote video', () => remoteVideo(a, b.peerId));
    await choose(a, 'audiooutput', speaker.deviceId);
    await waitFor('remote video on the chosen speaker', () => remoteVideo(a, b.peerId)?.sinkId === speaker.deviceId);
  });

  it('an unplugged camera becomes "camera off" here and on the remote tile, with a notice; Try again brings it back', async () => {
    const [a, b] = await inCall(uniqueRoom('unplug'));
    await expectVideoFrom(b, a);
    const camera = localTrack(a, 'video') as MediaStreamTrack;
    const lost = nextEvent<VideoChatErrorEvent>(a, 'vc-error');
    // What the browser does when the camera is unplugged: the track ends by itself.
    camera.dispatchEvent(new Event('ended'));
    expect((await lost).error.code).to.equal('device-lost');
    expect(camera.readyState).to.equal('ended', 'the dead track is released');
    await waitFor(
      'local placeholder',
      () => !part(a, 'local-video') && part(a, 'local-tile')?.querySelector('.placeholder'),
    );
    expect(part(a, 'error')?.textContent).to.contain('Your camera stopped');
    expect(part(a, 'camera-button')?.getAttribute('aria-pressed')).to.equal('false');
    const placeholder = await waitFor('remote placeholder', () =>
      remoteTile(b, a.peerId)?.querySelector('.placeholder'),
    );
    expect(placeholder.getAttribute('aria-label')).to.equal('Ada: camera off');
    expect(a.state).to.equal('in-call');
    await expect(a).to.be.accessible();

    part(a, 'retry-button')?.click();
    await waitFor('error cleared', () => !part(a, 'error'));
    await expectVideoFrom(b, a);
  });
});

describe('pre-join', () => {
  afterEach(() => fixtureCleanup());

  it('shows a camera preview, the name and the devices before joining; Join uses that name and camera', async () => {
    const room = uniqueRoom('prejoin');
    const b = await joined(room, 'Grace');
    const a = await fixture<VideoChatElement>(
      html`<video-chat prejoin room=${room} signal-url=${relayUrl()} name="Ada"></video-chat>`,
    );
    const form = await waitFor('pre-join form', () => part(a, 'prejoin'));
    const preview = await waitFor('camera preview', () => part<HTMLVideoElement>(a, 'local-video', form));
    await waitFor('preview picture', () => preview.videoWidth > 0);
    const input = part<HTMLInputElement>(a, 'name-input') as HTMLInputElement;
    expect(input.value).to.equal('Ada');
    expect(input.closest('label')?.textContent).to.contain('Your name');
    await waitFor('camera select', () => part(a, 'videoinput-select', form));
    await expect(a).to.be.accessible();
    expect([a.state, a.peerId, b.peers.length]).to.deep.equal(['idle', null, 0], 'not in the room yet');

    const camera = await otherCamera();
    await choose(a, 'videoinput', camera);
    const chosen = localTrack(a, 'video') as MediaStreamTrack;
    input.value = 'Ada Lovelace';
    part(a, 'join-button', form)?.click();
    await waitFor('joined', () => a.state === 'in-call');
    await waitFor('the other sees the name', () => b.peers[0]?.name === 'Ada Lovelace');
    expect(part(a, 'prejoin')).to.equal(null);
    expect(localTrack(a, 'video')).to.equal(chosen, 'the preview camera goes on into the call');
    expect(chosen.getSettings().deviceId).to.equal(camera);
    await expectVideoFrom(b, a);
  });

  it('without prejoin the element joins at once', async () => {
    const a = await fixture<VideoChatElement>(
      html`<video-chat room=${uniqueRoom('direct')} signal-url=${relayUrl()}></video-chat>`,
    );
    await waitFor('joined', () => a.peerId);
    expect(part(a, 'prejoin')).to.equal(null);
  });
});

describe('start muted', () => {
  afterEach(() => fixtureCleanup());

  it('microphone-off and camera-off join with both off, and the other side sees it', async () => {
    const room = uniqueRoom('muted');
    const b = await joined(room, 'Grace');
    const a = await fixture<VideoChatElement>(
      html`<video-chat microphone-off camera-off room=${room} signal-url=${relayUrl()} name="Ada"></video-chat>`,
    );
    await waitFor('in call', () => a.state === 'in-call');
    await waitFor('microphone captured', () => part(a, 'mic-button')?.hasAttribute('disabled') === false);
    expect(part(a, 'mic-button')?.getAttribute('aria-pressed')).to.equal('false');
    expect(part(a, 'camera-button')?.getAttribute('aria-pressed')).to.equal('false');
    expect(part(a, 'camera-button')?.hasAttribute('disabled')).to.equal(false, 'a camera to turn on');
    const tile = await waitFor("Ada's tile", () => remoteTile(b, a.peerId));
    await waitFor('mic-off mark at the other', () => part(b, 'mic-off', tile));
    await waitFor('camera-off placeholder at the other', () => tile.querySelector('.placeholder'));

    a.setCameraEnabled(true);
    await expectVideoFrom(b, a);
  });
});

describe('media faults', () => {
  afterEach(() => fixtureCleanup());

  it('permission denied: receive-only with a readable error; Try again captures and the peer decodes it (newcomer side)', async () => {
    const room = uniqueRoom('denied');
    const b = await joined(room, 'Grace');
    const heal = failCapture('NotAllowedError');
    let a: VideoChatElement;
    try {
      const error = nextEvent<VideoChatErrorEvent>(document, 'vc-error');
      a = await joined(room, 'Ada');
      expect((await error).error.code).to.equal('permission-denied');
    } finally {
      heal();
    }
    await waitFor('in call', () => a.state === 'in-call');
    expect(a.error?.code).to.equal('permission-denied');
    const banner = await waitFor('error banner', () => part(a, 'error'));
    expect(banner.getAttribute('role')).to.equal('alert');
    expect(banner.textContent).to.contain('denied');
    await expectVideoFrom(a, b); // receive-only: still sees the other
    await waitFor('camera-off placeholder at the other', () => remoteTile(b, a.peerId)?.querySelector('.placeholder'));
    await expect(a).to.be.accessible();

    part(a, 'retry-button')?.click();
    await waitFor('error cleared', () => a.error === null && !part(a, 'error'));
    await expectVideoFrom(b, a);
  });

  it('no camera or microphone: receive-only; Try again once one exists captures it and the peer decodes it (answerer side)', async () => {
    const room = uniqueRoom('nodevice');
    const heal = failCapture('NotFoundError');
    let a: VideoChatElement;
    try {
      a = await joined(room, 'Ada');
      expect(a.error?.code).to.equal('no-device');
    } finally {
      heal();
    }
    const b = await joined(room, 'Grace');
    await expectVideoFrom(a, b);
    expect(part(a, 'error')?.textContent).to.contain('No camera or microphone');
    expect(part(a, 'mic-button')?.hasAttribute('disabled')).to.equal(true);
    const offers = observeNegotiation();
    try {
      part(a, 'retry-button')?.click();
      await expectVideoFrom(b, a);
      expect(offers.descriptions.length).to.be.greaterThan(
        0,
        'a track added to a receive-only transceiver renegotiates',
      );
      expect(offers.connections.length).to.equal(0, 'on the same connection');
    } finally {
      offers.restore();
    }
    expect(a.error).to.equal(null);
  });

  it('device busy: a readable error with Try again', async () => {
    const heal = failCapture('NotReadableError');
    let a: VideoChatElement;
    try {
      a = await joined(uniqueRoom('busy'), 'Ada');
    } finally {
      heal();
    }
    expect(a.error?.code).to.equal('device-busy');
    await waitFor('banner', () => part(a, 'error')?.textContent?.includes('another program'));
    expect(a.state).to.equal('waiting');
    part(a, 'retry-button')?.click();
    await waitFor('local video back', () => part<HTMLVideoElement>(a, 'local-video')?.videoWidth);
    expect(a.error).to.equal(null);
  });
});
