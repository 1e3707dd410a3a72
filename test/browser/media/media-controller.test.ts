/**
 * MediaController on its own, in Chromium and Firefox with their fake camera and microphone (web-test-runner.config):
 * the real `navigator.mediaDevices` captures; only the failure paths replace `getUserMedia` on the page's
 * MediaDevices instance (an own property over the prototype's method, deleted afterwards). A device that goes away is
 * its track's own `ended` event, dispatched. Assertions compare plain values (ids, kinds, states), not MediaStream
 * objects, so that a failure report stays small.
 */
import { expect } from '@open-wc/testing';
import { DEFAULT_CONSTRAINTS, MediaController, type CaptureKind } from '../../../src/media/media-controller.js';

const devices = navigator.mediaDevices;
const realGetUserMedia = devices.getUserMedia.bind(devices);

/** Which kinds each getUserMedia call asked for, e.g. `'audio+video'`, in call order. */
type Asked = string[];
const kinds = (constraints: MediaStreamConstraints | undefined): string =>
  (['audio', 'video'] as const).filter((k) => constraints?.[k]).join('+');

/**
 * Replaces getUserMedia: records what each call asks for, rejects with the `DOMException` name `fail` returns (if
 * any), else captures for real.
 */
function stubGetUserMedia(fail: (asked: string) => string | undefined): Asked {
  const asked: Asked = [];
  devices.getUserMedia = (constraints?: MediaStreamConstraints) => {
    const what = kinds(constraints);
    asked.push(what);
    const name = fail(what);
    return name ? Promise.reject(new DOMException(`injected ${name}`, name)) : realGetUserMedia(constraints);
  };
  return asked;
}

const restore = () => delete (devices as Partial<MediaDevices>).getUserMedia; // the prototype's method shows again

describe('MediaController', function () {
  this.timeout(20_000);
  let media: MediaController | undefined;
  let changes = 0;
  let lost: Array<[CaptureKind, MediaStreamTrack | null]> = [];
  const create = () =>
    (media = new MediaController(
      () => void (changes += 1),
      undefined,
      (kind, track) => lost.push([kind, track]),
    ));
  beforeEach(() => {
    changes = 0;
    lost = [];
  });
  afterEach(() => {
    restore();
    media?.stop();
    media = undefined;
  });

  it('captures camera and microphone with the default constraints in one request', async () => {
    const requests: MediaStreamConstraints[] = [];
    devices.getUserMedia = (constraints?: MediaStreamConstraints) => {
      requests.push(constraints ?? {});
      return realGetUserMedia(constraints);
    };
    const m = create();
    await m.start();
    expect(requests.length).to.equal(1);
    const [request] = requests;
    expect(request?.audio).to.deep.include(DEFAULT_CONSTRAINTS.audio as MediaTrackConstraints);
    expect(request?.video).to.deep.include(DEFAULT_CONSTRAINTS.video as MediaTrackConstraints);
    expect(m.error?.code).to.equal(undefined);
    expect([m.track('audio')?.readyState, m.track('video')?.readyState]).to.deep.equal(['live', 'live']);
    expect([m.microphoneEnabled, m.cameraEnabled]).to.deep.equal([true, true]);
    expect(changes).to.be.above(0);
  });

  /** Makes the page's Permissions-Policy (Chromium's `document.featurePolicy`) allow only `allowed` while `run` runs. */
  async function underPolicy(allowed: readonly string[], run: () => Promise<void>): Promise<void> {
    Object.defineProperty(document, 'featurePolicy', {
      configurable: true,
      value: { allowsFeature: (feature: string) => allowed.includes(feature) },
    });
    try {
      await run();
    } finally {
      // An own property over Chromium's prototype getter (or over nothing, in Firefox): deleting restores the page's.
      delete (document as Document & { featurePolicy?: unknown }).featurePolicy;
    }
  }

  it('says the page blocks capture (blocked-by-page) without asking, when its policy allows neither kind', async () => {
    const asked = stubGetUserMedia(() => undefined);
    await underPolicy([], async () => {
      const m = create();
      await m.start();
      expect(m.error?.code).to.equal('blocked-by-page');
      expect(m.error?.message).to.contain('allow="camera; microphone"');
      expect(m.stream).to.equal(null);
    });
    expect(asked).to.deep.equal([], 'getUserMedia is never asked');
  });

  it('asks only for what the page policy allows (a page that blocks the camera still gets the microphone)', async () => {
    const asked = stubGetUserMedia(() => undefined);
    await underPolicy(['microphone'], async () => {
      const m = create();
      await m.start();
      expect(asked).to.deep.equal(['audio']);
      expect(m.error).to.equal(null);
      expect(m.track('audio')?.readyState).to.equal('live');
      expect(m.track('video')?.id).to.equal(undefined);
    });
  });

  it('when both cannot be had, tries the microphone alone, then the camera alone', async () => {
    const asked = stubGetUserMedia((what) => (what === 'video' ? undefined : 'NotReadableError'));
    const m = create();
    await m.start();
    expect(asked).to.deep.equal(['audio+video', 'audio', 'video']);
    expect(m.track('audio')?.id, 'no microphone track').to.equal(undefined);
    expect(m.track('video')?.readyState).to.equal('live');
    expect(m.error?.code, 'the first failure is reported').to.equal('device-busy');
    expect([m.microphoneEnabled, m.cameraEnabled]).to.deep.equal([false, true]);
  });

  it('stops at the microphone alone when that works', async () => {
    const asked = stubGetUserMedia((what) => (what === 'audio+video' ? 'NotFoundError' : undefined));
    const m = create();
    await m.start();
    expect(asked).to.deep.equal(['audio+video', 'audio']);
    expect(m.stream?.getTracks().map((t) => t.kind)).to.deep.equal(['audio']);
    expect(m.error?.code).to.equal('no-device');
  });

  it('a refusal ends the tries at once: nothing captured, permission-denied', async () => {
    const asked = stubGetUserMedia(() => 'NotAllowedError');
    const m = create();
    await m.start();
    expect(asked).to.deep.equal(['audio+video']);
    expect(
      m.stream?.getTracks().map((t) => t.kind),
      'no stream',
    ).to.equal(undefined);
    expect(m.error?.code).to.equal('permission-denied');
  });

  it('a capture that finishes after stop() is released, not adopted', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let captured: MediaStream | undefined;
    devices.getUserMedia = async (constraints?: MediaStreamConstraints) => {
      await gate;
      return (captured = await realGetUserMedia(constraints));
    };
    const m = create();
    const starting = m.start();
    m.stop();
    release();
    await starting;
    expect(
      m.stream?.getTracks().map((t) => t.kind),
      'no stream',
    ).to.equal(undefined);
    expect(captured?.getTracks().map((t) => t.readyState)).to.deep.equal(['ended', 'ended']);
  });

  it('a track that ends by itself (device unplugged) is device-lost, reported through onTrack and released', async () => {
    const m = create();
    await m.start();
    const camera = m.track('video') as MediaStreamTrack;
    camera.dispatchEvent(new Event('ended'));
    expect(lost).to.deep.equal([['video', null]]);
    expect(m.error?.code).to.equal('device-lost');
    expect(m.error?.message).to.match(/camera/);
    expect(camera.readyState).to.equal('ended');
    expect(m.track('video')?.id, 'no camera track').to.equal(undefined);
    expect(m.track('audio')?.readyState).to.equal('live', 'the microphone goes on');
    expect(m.cameraEnabled).to.equal(false);

    const microphone = m.track('audio') as MediaStreamTrack;
    microphone.dispatchEvent(new Event('ended'));
    expect(lost).to.deep.equal([
      ['video', null],
      ['audio', null],
    ]);
    expect(
      m.stream?.getTracks().map((t) => t.kind),
      'no stream',
    ).to.equal(undefined);
    expect(m.error?.message).to.match(/microphone/);
  });

  it('mutes and unmutes with track.enabled, and a mute chosen before capture applies to the new tracks', async () => {
    const m = create();
    m.setMicrophoneEnabled(false);
    expect(m.microphoneEnabled, 'no microphone track yet').to.equal(false);
    await m.start();
    const [audio, video] = [m.track('audio') as MediaStreamTrack, m.track('video') as MediaStreamTrack];
    expect([audio.enabled, video.enabled]).to.deep.equal([false, true]);
    expect([m.microphoneEnabled, m.cameraEnabled]).to.deep.equal([false, true]);

    m.setCameraEnabled(false);
    m.setMicrophoneEnabled(true);
    expect([audio.enabled, video.enabled]).to.deep.equal([true, false]);
    expect([m.microphoneEnabled, m.cameraEnabled]).to.deep.equal([true, false]);
    expect([audio.readyState, video.readyState], 'muting stops nothing').to.deep.equal(['live', 'live']);

    await m.start(); // a new capture keeps the mute state
    expect(m.track('video')?.enabled).to.equal(false);
    expect([audio.readyState, video.readyState], 'the old capture is released').to.deep.equal(['ended', 'ended']);
  });

  it('stop() ends every track and keeps no stream', async () => {
    const m = create();
    await m.start();
    const tracks = m.stream?.getTracks() ?? [];
    m.stop();
    expect(
      m.stream?.getTracks().map((t) => t.kind),
      'no stream',
    ).to.equal(undefined);
    expect(tracks.map((t) => t.readyState)).to.deep.equal(['ended', 'ended']);
  });
});
