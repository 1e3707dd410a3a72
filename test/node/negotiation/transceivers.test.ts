/**
 * Transceivers (src/negotiation/transceivers.ts): which remote track is shown as what when the far side's `media`
 * does not name its mid (a peer written from docs/protocol.md), and which transceiver our own tracks answer on.
 * Plain objects stand in for the browser's RTCPeerConnection: only the fields these methods read.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TrackKind } from '../../../src/protocol/negotiation.js';
import { Transceivers } from '../../../src/negotiation/transceivers.js';

/** A received transceiver on `mid` whose remote track is of `kind`. */
function fake(mid: string, kind: 'audio' | 'video', currentDirection: RTCRtpTransceiverDirection = 'sendrecv') {
  return {
    mid,
    currentDirection,
    receiver: { track: { id: `track-${mid}`, kind, readyState: 'live' } },
  } as unknown as RTCRtpTransceiver;
}

const connection = (transceivers: RTCRtpTransceiver[]) =>
  ({ getTransceivers: () => transceivers }) as unknown as RTCPeerConnection;

/** kind → mid of the track shown for it, after {@link Transceivers.refreshRemote}. */
function shown(media: Record<string, TrackKind>, transceivers: RTCRtpTransceiver[]): Record<string, string> {
  const tracks = new Transceivers();
  tracks.remoteMedia = new Map(Object.entries(media));
  tracks.refreshRemote(connection(transceivers));
  return Object.fromEntries([...tracks.remoteTracks].map(([kind, track]) => [kind, track.id.slice(6)]));
}

describe('Transceivers without the far side’s media', () => {
  it('shows audio as audio and the first video as the camera', () => {
    assert.deepEqual(shown({}, [fake('0', 'audio'), fake('1', 'video')]), { audio: '0', video: '1' });
  });

  it('shows a second unnamed video as the screen, and drops a third', () => {
    const transceivers = [fake('0', 'video'), fake('1', 'audio'), fake('2', 'video'), fake('3', 'video')];
    assert.deepEqual(shown({}, transceivers), { video: '0', audio: '1', screen: '2' });
  });

  it('lets what media names win; an unnamed video takes the slot left free', () => {
    const transceivers = [fake('0', 'video'), fake('1', 'video'), fake('2', 'audio')];
    assert.deepEqual(shown({ '1': 'video' }, transceivers), { video: '1', screen: '0', audio: '2' });
    assert.deepEqual(shown({ '1': 'screen' }, transceivers), { video: '0', screen: '1', audio: '2' });
  });

  it('ignores transceivers that do not receive', () => {
    assert.deepEqual(shown({}, [fake('0', 'audio', 'sendonly'), fake('1', 'video', 'inactive')]), {});
  });

  it('answers with our audio and camera on unnamed transceivers of the same kind, never with the screen', () => {
    const tracks = new Transceivers();
    const [audio, video] = [fake('0', 'audio'), fake('1', 'video')];
    const pc = connection([video, audio]);
    assert.equal(tracks.senderFor(pc, 'audio', false), audio);
    assert.equal(tracks.senderFor(pc, 'video', false), video);
    assert.equal(tracks.senderFor(pc, 'screen', false), undefined);
  });
});

describe('Transceivers.applyCaps', () => {
  /** A video sender whose parameters live in `encoding`; counts the calls the governor's work costs. */
  function sender() {
    const calls = { get: 0, set: 0 };
    let encoding: RTCRtpEncodingParameters = { active: true };
    const s = {
      track: null,
      getParameters: () => {
        calls.get++;
        return { encodings: [{ ...encoding }] } as RTCRtpSendParameters;
      },
      setParameters: async (p: RTCRtpSendParameters) => {
        calls.set++;
        encoding = { ...(p.encodings[0] as RTCRtpEncodingParameters) };
      },
    };
    return { calls, encoding: () => encoding, transceiver: { sender: s, currentDirection: 'sendrecv' } };
  }

  it('sets caps that changed, and costs no getParameters when they did not (the stats loop re-applies them often)', async () => {
    const tracks = new Transceivers();
    const video = sender();
    tracks.senders.set('video', video.transceiver as unknown as RTCRtpTransceiver);
    let caps = { maxBitrate: 833_000, scaleResolutionDownBy: 1, maxFramerate: 30, active: true };
    await tracks.applyCaps(() => caps);
    assert.deepEqual(video.calls, { get: 1, set: 1 });
    assert.equal(video.encoding().maxBitrate, 833_000);
    for (let i = 0; i < 5; i++) await tracks.applyCaps(() => ({ ...caps }));
    assert.deepEqual(video.calls, { get: 1, set: 1 }, 'the same caps five times: no browser call');
    caps = { ...caps, maxBitrate: 300_000, maxFramerate: 15 };
    await tracks.applyCaps(() => caps);
    assert.deepEqual(video.calls, { get: 2, set: 2 });
    assert.deepEqual([video.encoding().maxBitrate, video.encoding().maxFramerate], [300_000, 15]);
  });

  it('tries again after a rejected setParameters', async () => {
    const tracks = new Transceivers();
    const video = sender();
    const { transceiver } = video;
    const setParameters = transceiver.sender.setParameters;
    transceiver.sender.setParameters = () => Promise.reject(new DOMException('busy', 'InvalidStateError'));
    tracks.senders.set('video', transceiver as unknown as RTCRtpTransceiver);
    const caps = { maxBitrate: 500_000, scaleResolutionDownBy: 2, maxFramerate: 15, active: true };
    await assert.rejects(tracks.applyCaps(() => caps));
    transceiver.sender.setParameters = setParameters;
    await tracks.applyCaps(() => caps);
    assert.equal(video.encoding().scaleResolutionDownBy, 2);
  });
});

describe('Transceivers initial caps (answerer)', () => {
  /** A video transceiver the far side's offer made (not negotiated yet), whose sender logs what it is asked. */
  function offered(reject = false) {
    const log: string[] = [];
    let encoding: RTCRtpEncodingParameters = { active: true };
    const sender = {
      track: null as MediaStreamTrack | null,
      replaceTrack: async (track: MediaStreamTrack) => {
        log.push('replaceTrack');
        sender.track = track;
      },
      getParameters: () => {
        log.push('getParameters');
        return { encodings: [{ ...encoding }] } as RTCRtpSendParameters;
      },
      setParameters: (p: RTCRtpSendParameters) => {
        log.push('setParameters');
        if (reject) return Promise.reject(new DOMException('refused', 'InvalidModificationError'));
        encoding = { ...(p.encodings[0] as RTCRtpEncodingParameters) };
        return Promise.resolve();
      },
    };
    const transceiver = {
      mid: '1',
      direction: 'recvonly',
      currentDirection: null as RTCRtpTransceiverDirection | null,
      sender,
      receiver: { track: { id: 'track-1', kind: 'video', readyState: 'live' } },
    };
    return {
      log,
      encoding: () => encoding,
      transceiver,
      pc: connection([transceiver as unknown as RTCRtpTransceiver]),
    };
  }
  const camera = { kind: 'video' } as MediaStreamTrack;
  const caps = { maxBitrate: 600_000, scaleResolutionDownBy: 2, maxFramerate: 15, active: true };

  it('sets the caps before the answer, in the same task as getParameters, and stable then costs nothing', async () => {
    const tracks = new Transceivers(undefined, (kind) => (kind === 'video' ? caps : undefined));
    tracks.local.set('video', camera);
    const offer = offered();
    tracks.attachLocal(offer.pc);
    assert.deepEqual(offer.log, ['replaceTrack', 'getParameters', 'setParameters'], 'all before attachLocal returns');
    assert.equal(offer.transceiver.direction, 'sendrecv');
    await Promise.resolve();
    assert.deepEqual(offer.encoding(), caps);
    offer.transceiver.currentDirection = 'sendrecv'; // the answer was set
    await tracks.applyCaps(() => ({ ...caps }));
    assert.equal(offer.log.length, 3, 'the same caps at stable: no getParameters');
    tracks.attachLocal(offer.pc); // a later offer (renegotiation): nothing to preset
    assert.equal(offer.log.length, 3);
  });

  it('forgets caps the browser refused before the answer, so that stable sets them', async () => {
    const tracks = new Transceivers(undefined, (kind) => (kind === 'video' ? caps : undefined));
    tracks.local.set('video', camera);
    const offer = offered(true);
    tracks.attachLocal(offer.pc);
    await new Promise((resolve) => setTimeout(resolve, 0));
    offer.transceiver.sender.setParameters = async (p: RTCRtpSendParameters) => {
      offer.log.push('setParameters');
      Object.assign(offer.encoding(), p.encodings[0]);
    };
    await tracks.applyCaps(() => caps);
    assert.deepEqual(offer.log.slice(3), ['getParameters', 'setParameters']);
  });
});
