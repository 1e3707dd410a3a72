/**
 * The connection-quality rules and the active-speaker loop of src/call/call-stats.ts, without a browser: reports are
 * plain maps of W3C WebRTC Statistics objects, shaped like those Chromium and Firefox return.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  callStats,
  figures,
  POLL_MS,
  QUALITY_THRESHOLDS,
  QUALITY_WINDOW_MS,
  qualityLevel,
  read,
  type StatsSource,
} from '../../../src/call/call-stats.js';
import { WEAK_POLLS } from '../../../src/call/receiver-view.js';
import type { ActiveSpeakerEvent, VideoChatWarningEvent } from '../../../src/events.js';
import type { RemotePeer } from '../../../src/call/types.js';

const report = (...stats: Record<string, unknown>[]) =>
  new Map(stats.map((s, i) => [String(s['id'] ?? i), s])) as unknown as RTCStatsReport;

describe('qualityLevel (thresholds)', () => {
  it('is good below both fair limits', () => {
    assert.equal(qualityLevel({ rttMs: 20, loss: 0, kbps: 800 }), 'good');
    assert.equal(qualityLevel({ rttMs: QUALITY_THRESHOLDS.fair.rttMs - 1, loss: 0.019, kbps: 50 }), 'good');
    assert.equal(qualityLevel({ rttMs: null, loss: 0, kbps: null }), 'good', 'unknown round trip, no media sent');
  });
  it('is fair from a fair limit on', () => {
    assert.equal(qualityLevel({ rttMs: 300, loss: 0, kbps: 800 }), 'fair');
    assert.equal(qualityLevel({ rttMs: 20, loss: 0.02, kbps: 800 }), 'fair');
    assert.equal(qualityLevel({ rttMs: 599, loss: 0.079, kbps: 800 }), 'fair');
  });
  it('is poor from a poor limit on, or when nothing arrives', () => {
    assert.equal(qualityLevel({ rttMs: 600, loss: 0, kbps: 800 }), 'poor');
    assert.equal(qualityLevel({ rttMs: 20, loss: 0.08, kbps: 800 }), 'poor');
    assert.equal(qualityLevel({ rttMs: 20, loss: 0, kbps: 0 }), 'poor');
  });
});

describe('read and figures', () => {
  const at = (t: number, bytes: number, packets: number, lost: number) =>
    read(
      report(
        { id: 'T', type: 'transport', selectedCandidatePairId: 'CP' },
        { id: 'CP', type: 'candidate-pair', currentRoundTripTime: 0.045 },
        {
          id: 'A',
          type: 'inbound-rtp',
          kind: 'audio',
          bytesReceived: bytes / 4,
          packetsReceived: packets / 2,
          packetsLost: lost,
          audioLevel: 0.2,
        },
        {
          id: 'V',
          type: 'inbound-rtp',
          kind: 'video',
          bytesReceived: (bytes * 3) / 4,
          packetsReceived: packets / 2,
          packetsLost: 0,
        },
        { id: 'M', type: 'media-source', kind: 'audio', audioLevel: 0.5 },
      ),
      t,
    );

  it('sums inbound RTP of every kind and takes the selected pair round trip', () => {
    const r = at(1000, 4000, 100, 3);
    assert.deepEqual(
      [r.bytes, r.packets, r.lost, r.rttMs, r.level, r.local, r.none],
      [4000, 100, 3, 45, 0.2, 0.5, false],
    );
  });

  it('gives kbps, loss fraction and level from two readings', () => {
    // 250 000 bytes in 2 s = 1000 kbps; 5 lost of 100 = 5 % loss: fair.
    const q = figures(at(0, 0, 0, 0), at(2000, 250_000, 95, 5));
    assert.deepEqual(q, { level: 'fair', rttMs: 45, loss: 0.05, kbps: 1000 });
    assert.equal(figures(at(0, 0, 0, 0), at(2000, 250_000, 100, 0)).level, 'good');
    assert.equal(figures(at(0, 1000, 10, 0), at(2000, 1000, 10, 0)).level, 'poor', 'nothing received');
  });

  it("falls back to RTCP's round trip when the pair has none (Firefox reports 0)", () => {
    const r = read(
      report(
        { id: 'T', type: 'transport', selectedCandidatePairId: 'CP' },
        { id: 'CP', type: 'candidate-pair', currentRoundTripTime: 0 },
        { id: 'R', type: 'remote-inbound-rtp', kind: 'video', roundTripTime: 0.12 },
      ),
      0,
    );
    assert.equal(r.rttMs, 120);
    assert.equal(r.none, true);
    assert.equal(figures(r, { ...r, at: 2000 }).kbps, null, 'no media sent: no bitrate');
  });
});

describe('callStats loop', () => {
  it('makes the loudest peer active speaker after two polls, keeps it while audible, and stops', async () => {
    const levels: Record<string, number> = { a: 0.5, b: 0 };
    const peer = (id: string) => ({ id, name: id, connection: 'connected', microphone: true }) as unknown as RemotePeer;
    const source: StatsSource = {
      peers: [peer('a'), peer('b')],
      media: { microphoneEnabled: false, setPreview() {} } as unknown as StatsSource['media'],
      getStats: async (id) => {
        if (id === 'a') polled++;
        return report({
          type: 'inbound-rtp',
          kind: 'audio',
          audioLevel: levels[id],
          packetsReceived: 1,
          bytesReceived: 1,
        });
      },
    };
    const events: (string | null)[] = [];
    let polled = 0;
    const stats = callStats(source, {
      requestUpdate: () => undefined,
      dispatch: (e) => e.type === 'vc-active-speaker' && events.push((e as ActiveSpeakerEvent).peerId),
    });
    const polls = async (n: number) => {
      const target = polled + n;
      for (let i = 0; i < 50 && polled < target; i++) await new Promise((r) => setTimeout(r, POLL_MS / 4));
    };
    stats.start();
    await polls(1);
    assert.equal(stats.speaker, undefined, 'one loud poll is not enough');
    await polls(1);
    assert.equal(stats.speaker, 'a');
    levels['b'] = 0.9; // louder, but a is still speaking
    levels['a'] = 0.02; // above half the speaking level: a keeps the floor
    await polls(3);
    assert.equal(stats.speaker, 'a');
    levels['a'] = 0;
    await polls(3);
    assert.equal(stats.speaker, 'b');
    assert.deepEqual(events, ['a', 'b']);
    stats.stop();
    assert.equal(stats.speaker, undefined);
    const after = polled;
    await new Promise((r) => setTimeout(r, POLL_MS * 2));
    assert.equal(polled, after, 'no poll after stop');
  });

  it('re-renders only when what the tiles show changed: new quality figures (each 2 s window) or a new speaker, not on every poll', async () => {
    let level = 0;
    let polled = 0;
    const source: StatsSource = {
      peers: [{ id: 'a', name: 'a', connection: 'connected', microphone: true } as unknown as RemotePeer],
      media: { microphoneEnabled: false, setPreview() {} } as unknown as StatsSource['media'],
      getStats: async () => {
        polled++;
        return report({ type: 'inbound-rtp', kind: 'audio', audioLevel: level, packetsReceived: 1, bytesReceived: 1 });
      },
    };
    let updates = 0;
    const stats = callStats(source, { requestUpdate: () => updates++, dispatch: () => true });
    const polls = async (n: number) => {
      const target = polled + n;
      for (let i = 0; i < 50 && polled < target; i++) await new Promise((r) => setTimeout(r, POLL_MS / 4));
    };
    stats.start();
    try {
      await polls(3); // 1.2 s: within the first quality window, nobody speaks
      assert.equal(updates, 0, 'three polls that changed nothing shown: no re-render');
      const windowPolls = Math.ceil(QUALITY_WINDOW_MS / POLL_MS);
      await polls(windowPolls);
      assert.ok(stats.quality.has('a'), 'a quality window passed');
      assert.ok(
        updates >= 1 && updates <= 2,
        `one re-render per quality window (${updates} in ${3 + windowPolls} polls)`,
      );
      const before = updates;
      level = 0.5;
      await polls(2); // the active speaker after two loud polls
      assert.equal(stats.speaker, 'a');
      assert.ok(updates > before, 'a new speaker re-renders');
    } finally {
      stats.stop();
    }
  });
});

describe('callStats loop with receivers (the mesh)', () => {
  it('takes the speakers from the receivers at every poll, the microphone from one report every other poll, and full reports once per quality window', async () => {
    const levels: Record<string, number> = { a: 0, b: 0 };
    const calls: Record<string, number> = { a: 0, b: 0 };
    let mic = 0;
    /** One audio and one video receiver of `id`, its audio source at `levels[id]` (W3C WebRTC §5.4). */
    const receivers = (id: string) =>
      [
        { track: { kind: 'audio' }, getSynchronizationSources: () => [{ source: 1, audioLevel: levels[id] }] },
        { track: { kind: 'video' }, getSynchronizationSources: () => [{ source: 2 }] },
      ] as unknown as RTCRtpReceiver[];
    const peer = (id: string) => ({ id, name: id, connection: 'connected', microphone: true }) as unknown as RemotePeer;
    const source: StatsSource = {
      peers: [peer('a'), peer('b')],
      media: { microphoneEnabled: true, setPreview() {} } as unknown as StatsSource['media'],
      receivers,
      getStats: async (id) => {
        calls[id] = (calls[id] ?? 0) + 1;
        // The reports' own inbound levels say nobody speaks: the speaker can only come from the receivers.
        return report(
          { id: 'I', type: 'inbound-rtp', kind: 'audio', audioLevel: 0, packetsReceived: 1, bytesReceived: 1 },
          { id: 'M', type: 'media-source', kind: 'audio', audioLevel: mic },
        );
      },
    };
    const stats = callStats(source, { requestUpdate: () => undefined, dispatch: () => true });
    const wait = (n: number) => new Promise((r) => setTimeout(r, POLL_MS * n + POLL_MS / 2));
    stats.start();
    try {
      levels['b'] = 0.5;
      await wait(3);
      assert.equal(stats.speaker, 'b', 'the loud receiver, after two polls');
      levels['b'] = 0;
      mic = 0.5;
      await wait(3);
      assert.equal(stats.speaker, null, 'this visitor, from the report every other poll (its level held between)');
      await wait(10);
      // a: every other poll between full rounds (the microphone's report) and in each full round; b: once per quality
      // window (about every fifth poll). About 16 polls in all: a ~10, b ~3.
      const [a, b] = [calls['a'] as number, calls['b'] as number];
      assert.ok(a >= 6 && a <= 12, `a read every other poll and in full rounds (${a})`);
      assert.ok(b >= 2 && b <= 5, `b read once per quality window: ${b} times in ${a} polls`);
      assert.ok(stats.quality.has('b'), 'quality figures still come');
    } finally {
      stats.stop();
    }
  });
});

describe('measured uplink', () => {
  it("reads the selected pair's availableOutgoingBitrate less audio, kbps; none where not reported", () => {
    const pair = (extra: Record<string, number>) =>
      read(
        report(
          { id: 'T', type: 'transport', selectedCandidatePairId: 'CP' },
          { id: 'CP', type: 'candidate-pair', currentRoundTripTime: 0.01, ...extra },
          { id: 'X', type: 'candidate-pair', availableOutgoingBitrate: 9e6 }, // not the selected one
        ),
        0,
      ).uplink;
    assert.equal(pair({ availableOutgoingBitrate: 1_040_000 }), 1000);
    assert.equal(pair({ availableOutgoingBitrate: 20_000 }), 0);
    assert.equal(pair({}), undefined);
  });

  it('warns weak-uplink once after three weak polls, shows the peer poor, and re-applies the caps on a new step (receiver-view.ts loaded on the first measure)', async () => {
    let available = 2_000_000;
    const source: StatsSource = {
      peers: [{ id: 'a', name: 'a', connection: 'connected', microphone: true } as unknown as RemotePeer],
      media: { microphoneEnabled: false, setPreview() {} } as unknown as StatsSource['media'],
      getStats: async () => {
        polled++;
        return report(
          { id: 'T', type: 'transport', selectedCandidatePairId: 'CP' },
          { id: 'CP', type: 'candidate-pair', availableOutgoingBitrate: available },
          { type: 'inbound-rtp', kind: 'video', packetsReceived: (packets += 50), bytesReceived: (bytes += 50_000) },
        );
      },
    };
    let polled = 0;
    let packets = 0;
    let bytes = 0;
    const warnings: string[] = [];
    let applied = 0;
    const stats = callStats(
      source,
      {
        requestUpdate: () => undefined,
        dispatch: (e) => e.type === 'vc-warning' && warnings.push((e as VideoChatWarningEvent).code),
      },
      () => applied++,
    );
    const polls = async (n: number) => {
      const target = polled + n;
      for (let i = 0; i < 50 && polled < target; i++) await new Promise((r) => setTimeout(r, POLL_MS / 4));
    };
    stats.start();
    try {
      await polls(2);
      assert.equal(stats.uplink.get('a'), 1960);
      assert.equal(applied, 1, 'the first measure is a new step');
      available = 1_900_000; // same step (1500–2500)
      await polls(2);
      assert.equal(applied, 1);
      available = 100_000; // 60 kbps of video: weak
      await polls(WEAK_POLLS + 6); // and a quality window (2 s) or more
      assert.deepEqual(warnings, ['weak-uplink'], 'one warning per onset');
      assert.equal(applied, 2);
      assert.equal(stats.quality.get('a')?.level, 'poor', 'media arrives, but our video cannot get through');
    } finally {
      stats.stop();
    }
    assert.equal(stats.uplink.size, 0);
  });
});

describe('the start of the stats loop and of the measured uplink (issue 16)', () => {
  /** A stats source of `peers` (ID → connection state), each report with `available` bps on its selected pair. */
  const source = (peers: Record<string, string>, available: () => number | undefined) => {
    const polled: string[] = [];
    const s: StatsSource = {
      peers: Object.entries(peers).map(
        ([id, connection]) => ({ id, name: id, connection, microphone: true }) as unknown as RemotePeer,
      ),
      media: { microphoneEnabled: false, setPreview() {} } as unknown as StatsSource['media'],
      getStats: async (id) => {
        polled.push(id);
        const bps = available();
        return report(
          { id: 'T', type: 'transport', selectedCandidatePairId: 'CP' },
          { id: 'CP', type: 'candidate-pair', ...(bps === undefined ? {} : { availableOutgoingBitrate: bps }) },
          { type: 'inbound-rtp', kind: 'video', packetsReceived: 1, bytesReceived: 1 },
        );
      },
    };
    return { s, polled };
  };
  const host = { requestUpdate: () => undefined, dispatch: () => true };
  const until = async (done: () => boolean, ms: number) => {
    for (const end = Date.now() + ms; !done() && Date.now() < end;) await new Promise((r) => setTimeout(r, 20));
  };

  it("does not follow a link's first measure (congestion control still climbing): the copy keeps the start caps until the second", async () => {
    const { s, polled } = source({ a: 'connected' }, () => 2_000_000);
    let applied = 0;
    const stats = callStats(s, host, () => applied++);
    stats.start();
    try {
      await until(() => polled.length >= 1, 5000);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(stats.uplink.get('a'), undefined, 'first measure: not followed (governor.ts: START_LINK_KBPS)');
      assert.equal(applied, 0, 'no re-cap for it');
      await until(() => polled.length >= 2, 5000);
      await until(() => applied > 0, 1000);
      assert.equal(stats.uplink.get('a'), 1960, 'the second is');
      assert.equal(applied, 1);
    } finally {
      stats.stop();
    }
  });

  it('keeps a link’s figure for a peer re-keyed after a relay restart (same RemotePeer, new ID): no start caps again', async () => {
    const { s, polled } = source({ a: 'connected' }, () => 2_000_000);
    const stats = callStats(s, host);
    stats.start();
    try {
      await until(() => polled.length >= 2 && stats.uplink.get('a') !== undefined, 5000);
      assert.equal(stats.uplink.get('a'), 1960);
      (s.peers[0] as { id: string }).id = 'a2'; // roster-rebind.ts re-keys the same object
      assert.equal(stats.uplink.get('a2'), 1960, 'at once, before the next poll');
      assert.equal(stats.uplink.has('a'), false);
    } finally {
      stats.stop();
    }
  });

  it('takes a connected link that reports no measure (Firefox) as unbounded, the budget alone, from its first reading', async () => {
    const { s, polled } = source({ a: 'connected', b: 'connecting' }, () => undefined);
    let applied = 0;
    const stats = callStats(s, host, () => applied++);
    stats.start();
    try {
      await until(() => polled.length >= 2, 5000);
      await until(() => applied > 0, 1000);
      assert.equal(stats.uplink.get('a'), Infinity);
      assert.equal(stats.uplink.has('b'), false, 'not connected yet: still the start caps');
      assert.equal(applied, 1);
    } finally {
      stats.stop();
    }
    assert.equal(stats.uplink.size, 0, 'forgotten on stop');
  });

  it('holds the first poll while a connection is being set up: until the start that follows its `connected`, or QUALITY_WINDOW_MS', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { s, polled } = source({ a: 'connected', b: 'connecting' }, () => 2_000_000);
    const stats = callStats(s, host);
    stats.start();
    t.mock.timers.tick(QUALITY_WINDOW_MS - 1);
    assert.equal(polled.length, 0, 'b is still being set up: no report yet');
    (s.peers[1] as { connection: string }).connection = 'connected';
    stats.start(); // as mesh-peer.ts does on b's `connected`
    t.mock.timers.tick(POLL_MS - 1);
    assert.equal(polled.length, 0);
    t.mock.timers.tick(1);
    assert.deepEqual(polled, ['a', 'b'], 'a poll POLL_MS after b was connected');
    stats.stop();

    // One that stays in setup holds it at most QUALITY_WINDOW_MS.
    const stuck = source({ a: 'connected', b: 'connecting' }, () => 2_000_000);
    const held = callStats(stuck.s, host);
    held.start();
    held.start(); // another `connected` (a's), b still in setup: the hold stays
    t.mock.timers.tick(QUALITY_WINDOW_MS - 1);
    assert.equal(stuck.polled.length, 0);
    t.mock.timers.tick(1);
    assert.deepEqual(stuck.polled, ['a', 'b'], 'polled at the bound');
    held.stop();
  });
});
