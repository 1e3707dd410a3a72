/**
 * The SFU session's statistics of its subscribing connection (`negotiation/sfu-session.ts`, issue 12's switch): the
 * tracks waiting for their first decoded frame and the stats loop's `getStats` of each participant share one report
 * per 100 ms instead of one collection each (Chromium collects the whole report even for `getStats(track)`, on the
 * WebRTC threads the switch keeps busy). A fake RTCPeerConnection (node has none) and node:test's mocked timers; real
 * browsers run the session in `test/e2e/sfu*.test.ts`.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { SfuSession } from '../../../src/negotiation/sfu-session.js';

/** Frames decoded so far per track ID, what every report says. */
const decoded = new Map<string, number>();

class FakePeerConnection {
  static made: FakePeerConnection[] = [];
  /** getStats() calls on this connection. */
  reports = 0;
  localDescription: { type: string; sdp: string } | null = null;
  onicecandidate: unknown = null;
  ontrack: ((e: { transceiver: { mid: string }; track: { id: string } }) => void) | null = null;
  constructor() {
    FakePeerConnection.made.push(this);
  }
  addTransceiver(): object {
    return { sender: { replaceTrack: async () => {}, getStats: async () => new Map() } };
  }
  async setRemoteDescription(): Promise<void> {}
  async setLocalDescription(): Promise<void> {
    this.localDescription = { type: 'answer', sdp: 'v=0\r\n' };
  }
  async getStats(): Promise<Map<string, object>> {
    this.reports++;
    return new Map(
      [...decoded].map(([id, frames], i) => [
        `in${i}`,
        { id: `in${i}`, type: 'inbound-rtp', mid: String(i), trackIdentifier: id, framesDecoded: frames },
      ]),
    );
  }
  close(): void {}
}

const tick = () => new Promise(setImmediate);

function session(t: TestContext) {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const global = globalThis as { RTCPeerConnection?: unknown };
  const saved = global.RTCPeerConnection;
  global.RTCPeerConnection = FakePeerConnection;
  FakePeerConnection.made = [];
  decoded.clear();
  t.after(() => {
    global.RTCPeerConnection = saved;
  });
  const shown: string[] = [];
  const s = new SfuSession({
    tracks: { audio: null, video: null },
    iceServers: [],
    send: () => {},
    onRemoteTracks: (peer, tracks) => {
      if (tracks.has('video')) shown.push(peer);
    },
    onError: (w) => assert.fail(w.message),
  });
  t.after(() => s.close());
  return { s, shown };
}

describe('SFU session statistics of the subscribing connection', () => {
  it('reads one report per poll for every feed waiting for its first frame, and shows each once it decodes', async (t) => {
    const { s, shown } = session(t);
    const feeds = ['ada', 'bob', 'cy', 'dee'];
    for (const feed of feeds) decoded.set(`t-${feed}`, 0);
    await s.receive({
      op: 'offer',
      sdp: 'v=0\r\n',
      streams: feeds.map((feed, i) => ({ mid: String(i), feed, kind: 'video' })),
    });
    const sub = FakePeerConnection.made[1]!;
    for (const [i, feed] of feeds.entries())
      sub.ontrack!({ transceiver: { mid: String(i) }, track: { id: `t-${feed}` } });
    await tick();
    assert.equal(sub.reports, 1, 'four feeds waiting: one report');
    decoded.set('t-bob', 3);
    t.mock.timers.tick(200);
    await tick();
    assert.equal(sub.reports, 2, 'the next poll: one report again');
    assert.deepEqual(shown, ['bob'], 'the feed that decodes is shown, the others wait');
    for (const feed of feeds) decoded.set(`t-${feed}`, 5);
    t.mock.timers.tick(200);
    await tick();
    assert.equal(sub.reports, 3);
    assert.deepEqual(shown.sort(), ['ada', 'bob', 'cy', 'dee']);
  });

  it('gives the stats loop each participant’s entries from one report per 100 ms', async (t) => {
    const { s } = session(t);
    decoded.set('t-ada', 1).set('t-bob', 1);
    await s.receive({
      op: 'offer',
      sdp: 'v=0\r\n',
      streams: [
        { mid: '0', feed: 'ada', kind: 'video' },
        { mid: '1', feed: 'bob', kind: 'video' },
      ],
    });
    const sub = FakePeerConnection.made[1]!;
    const [ada, bob] = await Promise.all([s.getStats('ada'), s.getStats('bob')]);
    assert.equal(sub.reports, 1, 'two participants in a row: one report');
    assert.deepEqual([...ada!.keys()], ['in0']);
    assert.deepEqual([...bob!.keys()], ['in1']);
    t.mock.timers.tick(100);
    await s.getStats('ada');
    assert.equal(sub.reports, 2, 'a later poll reads a fresh report');
  });
});
