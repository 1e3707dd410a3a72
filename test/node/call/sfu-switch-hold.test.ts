/**
 * Making room for the mesh→SFU switch (issue 12): from the room's `mode` on, the topology (`call/sfu.ts`) holds our
 * mesh copies small through the governor (`governor.ts` `switching`: at most 120 px on the shorter side, 10 fps, the
 * floor bitrate), so that their encoders leave the CPU to the SFU connections being made; the usual caps come back
 * after `SWITCH_HOLD_MS` or when the topology closes (a mesh again). A fake RTCPeerConnection (node has none) and node:test's
 * mocked timers; the real switch is `test/e2e/sfu.test.ts`.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { encodingCaps, switching } from '../../../src/call/governor.js';
import { SWITCH_HOLD_MS, sfuTopology, type SfuCall } from '../../../src/call/sfu.js';
import type { CallHost } from '../../../src/call/types.js';
import { cameraCaps } from '../../../src/negotiation/bandwidth.js';

const camera = (width: number, height: number): MediaStreamTrack =>
  ({ kind: 'video', id: `cam${width}`, getSettings: () => ({ width, height }) }) as unknown as MediaStreamTrack;

describe('encodingCaps while the room moves to the SFU', () => {
  const load = { copies: 3, sharingScreen: false, linkKbps: Infinity }; // a link measured (or not measurable)

  it('gives a camera in `switching` its caps there instead of the governor’s; audio-only still pauses it', () => {
    const track = camera(640, 480);
    const usual = encodingCaps('video', track, load);
    assert.deepEqual(usual, { ...cameraCaps(3, { sourceShortSide: 480 }), active: true });
    const held = { maxBitrate: 150_000, scaleResolutionDownBy: 4, maxFramerate: 10 };
    switching.set(track, held);
    try {
      assert.deepEqual(encodingCaps('video', track, load), { ...held, active: true });
      assert.deepEqual(encodingCaps('video', camera(640, 480), load), usual, 'another camera');
      assert.equal(encodingCaps('video', track, { ...load, audioOnly: true })?.active, false, 'audio-only stays off');
    } finally {
      switching.delete(track);
    }
    assert.deepEqual(encodingCaps('video', track, load), usual, 'released: the usual caps');
  });
});

/** The part of RTCPeerConnection the SFU session touches before any answer. */
class FakePeerConnection {
  static made = 0;
  constructor() {
    FakePeerConnection.made++;
  }
  localDescription: { type: string; sdp: string } | null = null;
  onicecandidate: unknown = null;
  addTransceiver(): object {
    return { sender: { replaceTrack: async () => {}, getStats: async () => new Map() } };
  }
  async setLocalDescription(): Promise<void> {
    this.localDescription = { type: 'offer', sdp: 'v=0\r\n' };
  }
  close(): void {}
}

function topology(t: TestContext, meshPeers: number, caps: () => Promise<void> = async () => {}) {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const global = globalThis as { RTCPeerConnection?: unknown };
  const saved = global.RTCPeerConnection;
  global.RTCPeerConnection = FakePeerConnection;
  t.after(() => {
    global.RTCPeerConnection = saved;
  });
  let track = camera(320, 240);
  const call: SfuCall = {
    peers: [],
    selfId: 'me',
    media: { track: (kind) => (kind === 'video' ? track : null), microphoneEnabled: true, cameraEnabled: true },
    stats: { quality: new Map() },
  };
  /** Caps applied per mesh session: what `switching` said of the camera each time. */
  const applied: boolean[][] = [];
  const sessions = new Map(
    Array.from({ length: meshPeers }, (_, i) => {
      const log: boolean[] = [];
      applied.push(log);
      const session = {
        close: () => {},
        setTrack: async () => {},
        remoteTracks: new Map(),
        applyEncodingCaps: () => {
          log.push(switching.has(track));
          return caps();
        },
      };
      return [`p${i}`, session] as const;
    }),
  );
  const host = { dispatch: () => true, requestUpdate: () => {} } as unknown as CallHost;
  const sent: unknown[] = [];
  const sfu = sfuTopology(
    call,
    host,
    () => [],
    { send: (m) => sent.push(m) > 0 },
    sessions,
    new Map(),
    () => {},
  );
  return {
    sfu,
    applied,
    camera: () => track,
    newCamera: () => (track = camera(640, 480)),
  };
}

describe('the SFU topology makes room for the switch', () => {
  it('holds the mesh copies small from the `mode` on, and gives them their caps back after SWITCH_HOLD_MS', (t) => {
    const { sfu, applied, camera } = topology(t, 3);
    sfu.receive({ op: 'mode', mode: 'sfu' });
    assert.deepEqual(
      switching.get(camera()),
      { maxBitrate: 150_000, scaleResolutionDownBy: 2, maxFramerate: 10 },
      'held at once: 120 px of the 240 px camera, 10 fps, the floor bitrate',
    );
    assert.deepEqual(applied, [[true], [true], [true]], 'every mesh copy re-capped, small');
    t.mock.timers.tick(SWITCH_HOLD_MS - 1);
    sfu.receive({ op: 'mode', mode: 'sfu' }); // a second mode (a resume elsewhere) does not hold again
    assert.equal(switching.has(camera()), true);
    t.mock.timers.tick(1);
    assert.equal(switching.has(camera()), false, 'released');
    assert.deepEqual(
      applied,
      [
        [true, false],
        [true, false],
        [true, false],
      ],
      'every mesh copy re-capped, as usual',
    );
    sfu.close();
  });

  it('makes the SFU connections once the mesh copies are held, not meanwhile', async (t) => {
    const pending: (() => void)[] = [];
    const { sfu } = topology(t, 2, () => new Promise<void>((resolve) => pending.push(resolve)));
    FakePeerConnection.made = 0;
    sfu.receive({ op: 'mode', mode: 'sfu' });
    await new Promise(setImmediate);
    assert.equal(FakePeerConnection.made, 0, 'no connection while the mesh copies are being re-capped');
    pending.shift()!();
    await new Promise(setImmediate);
    assert.equal(FakePeerConnection.made, 0, 'one mesh copy is not all of them');
    pending.shift()!();
    await new Promise(setImmediate);
    assert.equal(FakePeerConnection.made, 1, 'the publishing connection, once they are');
    sfu.close();
  });

  it('makes them after 500 ms when a re-cap does not settle', async (t) => {
    const slow = topology(t, 1, () => new Promise<void>(() => {})); // a re-cap that never settles
    FakePeerConnection.made = 0;
    slow.sfu.receive({ op: 'mode', mode: 'sfu' });
    await new Promise(setImmediate);
    t.mock.timers.tick(499);
    await new Promise(setImmediate);
    assert.equal(FakePeerConnection.made, 0);
    t.mock.timers.tick(1);
    await new Promise(setImmediate);
    assert.equal(FakePeerConnection.made, 1, 'made anyway after 500 ms');
    slow.sfu.close();
  });

  it('releases the hold when the topology closes (a fresh welcome without `mode`: a mesh again)', (t) => {
    const { sfu, applied, camera } = topology(t, 2);
    sfu.receive({ op: 'mode', mode: 'sfu' });
    sfu.close();
    assert.equal(switching.has(camera()), false);
    assert.deepEqual(applied, [
      [true, false],
      [true, false],
    ]);
  });

  it('holds a camera changed during the switch instead of the old one', (t) => {
    const { sfu, camera, newCamera } = topology(t, 1);
    sfu.receive({ op: 'mode', mode: 'sfu' });
    const old = camera();
    sfu.setTrack('video', newCamera());
    assert.equal(switching.has(old), false);
    assert.equal(switching.get(camera())?.scaleResolutionDownBy, 4, '120 px of 480');
    sfu.close();
  });

  it('holds nothing for a participant with no mesh connection (one that joins a room already on the SFU)', (t) => {
    const { sfu, camera } = topology(t, 0);
    sfu.receive({ op: 'mode', mode: 'sfu' });
    assert.equal(switching.has(camera()), false);
    sfu.close();
  });
});
