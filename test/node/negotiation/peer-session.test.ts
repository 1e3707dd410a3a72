/**
 * PeerSession's offer timer and ICE server refresh with a fake RTCPeerConnection (node has none) and node:test's mocked timers: an offer that
 * stays in `have-local-offer` longer than `watchdogMs` is sent again as it is (no rollback), whatever the connection state
 * (here `connected`, where the connection watchdog does not run); an answer in time stops it. Real browsers run the
 * same session in test/browser/negotiation and the element tests.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { PeerSession } from '../../../src/negotiation/peer-session.js';
import type { SignalData } from '../../../src/protocol/relay.js';

/** The part of RTCPeerConnection that PeerSession touches, with an offer/answer state machine of its own. */
class FakePeerConnection {
  static made: FakePeerConnection[] = [];
  /** The `encodings` of the connections made from now on. */
  static encodings: object[] = [];
  signalingState: RTCSignalingState = 'stable';
  connectionState: RTCPeerConnectionState = 'new';
  localDescription: { type: string; sdp: string } | null = null;
  remoteDescription: { type: string; sdp: string } | null = null;
  readonly calls: string[] = [];
  /** What every sender's getParameters() says its encodings are (none: not negotiated, as in Firefox). */
  encodings: object[] = FakePeerConnection.encodings;

  configuration: RTCConfiguration;
  #offers = 0;
  #transceivers: object[] = [];
  onnegotiationneeded: (() => void) | null = null;
  onsignalingstatechange: (() => void) | null = null;
  onconnectionstatechange: (() => void) | null = null;
  onicecandidate: (() => void) | null = null;
  ontrack: (() => void) | null = null;
  constructor(configuration: RTCConfiguration) {
    this.configuration = configuration;
    FakePeerConnection.made.push(this);
  }
  getConfiguration(): RTCConfiguration {
    return this.configuration;
  }
  setConfiguration(configuration: RTCConfiguration): void {
    this.calls.push('setConfiguration');
    this.configuration = configuration;
  }
  createDataChannel(): object {
    return { readyState: 'connecting', send() {} };
  }
  addTransceiver(_kind: unknown, init: { direction: string; sendEncodings?: object[] }): object {
    const transceiver = {
      mid: String(this.#transceivers.length),
      direction: init.direction,
      sendEncodings: init.sendEncodings,
      currentDirection: null,
      sender: {
        track: null,
        replaceTrack: async () => {},
        getParameters: () => ({ encodings: this.encodings }),
        setParameters: async () => {
          this.calls.push('setParameters');
        },
      },
      receiver: { track: { readyState: 'live', kind: _kind } },
    };
    this.#transceivers.push(transceiver);
    return transceiver;
  }
  getTransceivers(): object[] {
    return this.#transceivers;
  }
  async setLocalDescription(description?: { type: string }): Promise<void> {
    this.calls.push(description?.type ?? 'offer');
    if (description?.type === 'rollback') {
      this.localDescription = null;
      this.#signaling('stable');
    } else if (this.signalingState === 'have-remote-offer') {
      this.calls[this.calls.length - 1] = 'answer';
      this.localDescription = { type: 'answer', sdp: 'answer' };
      this.#signaling('stable');
    } else {
      this.localDescription = { type: 'offer', sdp: `offer ${++this.#offers}` };
      this.#signaling('have-local-offer');
    }
  }
  async setRemoteDescription(description: { type: string; sdp: string }): Promise<void> {
    this.calls.push(`remote ${description.type}`);
    this.remoteDescription = description;
    if (description.type === 'offer') {
      // The offer's audio and video sections become transceivers of ours (W3C WebRTC §4.4.1.5).
      if (this.#transceivers.length === 0)
        for (const kind of ['audio', 'video']) this.addTransceiver(kind, { direction: 'recvonly' });
      this.#signaling('have-remote-offer');
    } else this.#signaling('stable');
  }
  async addIceCandidate(): Promise<void> {}
  close(): void {
    this.connectionState = 'closed';
  }
  connect(): void {
    this.connectionState = 'connected';
    this.onconnectionstatechange?.();
  }
  #signaling(state: RTCSignalingState): void {
    this.signalingState = state;
    this.onsignalingstatechange?.();
  }
}

/** Lets the session's awaited steps (fake descriptions resolve at once) run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function start(t: TestContext): {
  session: PeerSession;
  pc: FakePeerConnection;
  sent: SignalData[];
  warnings: string[];
} {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  FakePeerConnection.made = [];
  const global = globalThis as { RTCPeerConnection?: unknown };
  const saved = global.RTCPeerConnection;
  global.RTCPeerConnection = FakePeerConnection;
  t.after(() => {
    global.RTCPeerConnection = saved;
  });
  const sent: SignalData[] = [];
  const warnings: string[] = [];
  const session = new PeerSession({
    peerId: 'p',
    initiator: true,
    iceServers: [],
    watchdogMs: 1000,
    send: (data) => sent.push(data),
    onError: (w) => warnings.push(`${w.code}: ${w.message}`),
  });
  t.after(() => session.close());
  const pc = FakePeerConnection.made[0];
  assert.ok(pc);
  pc.connect(); // connected: the connection watchdog is off, as in a running call
  assert.equal(session.state, 'connected');
  return { session, pc, sent, warnings };
}

const offers = (sent: SignalData[]): string[] =>
  sent.flatMap((d) => {
    const description = d['description'] as { type: string; sdp: string } | undefined;
    return description?.type === 'offer' ? [description.sdp] : [];
  });

describe('PeerSession offer timer', () => {
  it('sends an unanswered offer again as it is after watchdogMs, no rollback, while connected', async (t) => {
    const { session, pc, sent, warnings } = start(t);
    await settle(); // the first offer, made at once
    assert.deepEqual(offers(sent), ['offer 1']);
    assert.equal(session.signalingState, 'have-local-offer');
    t.mock.timers.tick(999);
    await settle();
    assert.deepEqual(offers(sent), ['offer 1'], 'not before watchdogMs');
    t.mock.timers.tick(1);
    await settle();
    assert.deepEqual(pc.calls, ['offer'], 'no rollback, no new offer made');
    assert.deepEqual(offers(sent), ['offer 1', 'offer 1'], 'the same offer sent again, same generation');
    assert.ok(sent.every((d) => d['gen'] === 0));
    assert.deepEqual(warnings, ['negotiation-failed: no answer: offer sent again']);
    assert.equal(FakePeerConnection.made.length, 1, 'the same connection: no recreation');
    assert.equal(session.state, 'connected');
    // Unanswered again: the timer runs again.
    t.mock.timers.tick(1000);
    await settle();
    assert.deepEqual(offers(sent), ['offer 1', 'offer 1', 'offer 1']);
    // The answer comes (twice: one per offer sent): applied once, the duplicate ignored without a warning.
    for (let i = 0; i < 2; i++) session.receive({ gen: 0, description: { type: 'answer', sdp: 'answer' }, media: {} });
    await settle();
    assert.deepEqual(pc.calls, ['offer', 'remote answer']);
    assert.equal(warnings.length, 2);
    t.mock.timers.tick(5000);
    await settle();
    assert.equal(offers(sent).length, 3, 'answered: not sent again');
  });

  it('stops once the answer arrives', async (t) => {
    const { session, pc, sent } = start(t);
    await settle(); // the first offer, made at once
    t.mock.timers.tick(500);
    session.receive({ gen: 0, description: { type: 'answer', sdp: 'answer' }, media: {} });
    await settle();
    t.mock.timers.tick(5000);
    await settle();
    assert.deepEqual(pc.calls, ['offer', 'remote answer']);
    assert.deepEqual(offers(sent), ['offer 1']);
  });

  it('stops when the session closes', async (t) => {
    const { session, pc } = start(t);
    await settle(); // the first offer, made at once
    session.close();
    t.mock.timers.tick(5000);
    await settle();
    assert.deepEqual(pc.calls, ['offer']);
  });
});

describe('PeerSession first offer and answer', () => {
  it('the initiator makes its first offer at once, not a task later on negotiationneeded, and only one', async (t) => {
    const { pc, sent } = start(t);
    assert.deepEqual(pc.calls, ['offer'], 'setLocalDescription called while the connection was made');
    // The event the added transceivers queued arrives after the offer was made: no second offer.
    pc.onnegotiationneeded?.();
    await settle();
    assert.deepEqual(pc.calls, ['offer']);
    assert.deepEqual(offers(sent), ['offer 1']);
  });
});

describe('PeerSession encoding caps', () => {
  it('travel in the first offer (sendEncodings); a change is not set while an offer is out (Chromium rejects setParameters then) but once it is answered', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    FakePeerConnection.made = [];
    FakePeerConnection.encodings = [{}];
    const global = globalThis as { RTCPeerConnection?: unknown };
    const saved = global.RTCPeerConnection;
    global.RTCPeerConnection = FakePeerConnection;
    t.after(() => {
      global.RTCPeerConnection = saved;
      FakePeerConnection.encodings = [];
    });
    const camera = { kind: 'video', getSettings: () => ({ width: 640, height: 480 }) } as unknown as MediaStreamTrack;
    /** Two sessions: one whose caps stay as they were at the offer, one whose caps change while the offer is out. */
    const run = async (change: boolean) => {
      let caps = { maxBitrate: 800_000, scaleResolutionDownBy: 1, maxFramerate: 24 };
      FakePeerConnection.made = [];
      const session = new PeerSession({
        peerId: 'p',
        initiator: true,
        iceServers: [],
        send: () => undefined,
        tracks: { video: camera },
        encodingCaps: (kind) => (kind === 'video' ? caps : undefined),
      });
      t.after(() => session.close());
      const pc = FakePeerConnection.made[0];
      assert.ok(pc);
      const video = pc.getTransceivers()[1] as { sendEncodings?: object[] };
      assert.deepEqual(video.sendEncodings, [caps], 'the caps are in the first offer');
      if (change) caps = { ...caps, maxBitrate: 500_000 }; // e.g. another peer joined while the offer is being made
      await session.applyEncodingCaps();
      await settle();
      assert.equal(session.signalingState, 'have-local-offer');
      await session.applyEncodingCaps(); // and while it waits for the answer
      assert.deepEqual(pc.calls, ['offer'], 'no setParameters while the offer is out');
      session.receive({ gen: 0, description: { type: 'answer', sdp: 'answer' }, media: {} });
      for (let i = 0; i < 3; i++) await settle();
      return pc.calls;
    };
    assert.deepEqual(await run(false), ['offer', 'remote answer'], 'caps unchanged: no setParameters at stable');
    assert.deepEqual(await run(true), ['offer', 'remote answer', 'setParameters']);
  });
});

describe('PeerSession ICE servers', () => {
  it('setIceServers applies fresh servers to the running connection (setConfiguration), keeping the rest', (t) => {
    const { session, pc } = start(t);
    const fresh = [{ urls: 'turn:127.0.0.1:3478', username: '1800000000:ada', credential: 'c2VjcmV0' }];
    session.setIceServers(fresh);
    assert.deepEqual(pc.calls, ['offer', 'setConfiguration'], 'after the first offer, made at once');
    assert.deepEqual(pc.configuration.iceServers, fresh);
    assert.equal(pc.configuration.bundlePolicy, 'max-bundle', 'the rest of the configuration is kept');
    assert.equal(FakePeerConnection.made.length, 1, 'no new connection');
  });

  it('a browser that refuses is reported, not thrown', (t) => {
    const { session, pc, warnings } = start(t);
    pc.setConfiguration = () => {
      throw new Error('InvalidModificationError');
    };
    session.setIceServers([]);
    assert.deepEqual(warnings, ['negotiation-failed: setConfiguration']);
  });
});
