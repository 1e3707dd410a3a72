/**
 * The mesh connections' native closes out of the switch's way (issue 12, `call/close-queue.ts`): one at a time,
 * QUIET_MS after the latest queued, SPACING_MS apart, each within BOUND_MS, all of one owner at once on `flush`; and
 * `PeerSession.close(later)` closing the session at once but handing the native close over. node:test's mocked timers
 * and a fake RTCPeerConnection (node has none); the real switch is `test/e2e/sfu.test.ts`.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { BOUND_MS, CloseQueue, QUIET_MS, SPACING_MS } from '../../../src/call/close-queue.js';
import { PeerSession } from '../../../src/negotiation/peer-session.js';

function queue(t: TestContext): { q: CloseQueue; closed: string[]; add: (name: string, owner?: unknown) => void } {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const q = new CloseQueue();
  const closed: string[] = [];
  t.after(() => q.flush());
  return { q, closed, add: (name, owner) => q.add(() => closed.push(name), owner) };
}

describe('CloseQueue', () => {
  it('closes nothing at once, the first QUIET_MS after the latest queued, then one every SPACING_MS', (t) => {
    const { q, closed, add } = queue(t);
    add('a');
    add('b');
    add('c');
    assert.deepEqual(closed, [], 'not while the switch is busy');
    t.mock.timers.tick(QUIET_MS - 1);
    assert.deepEqual(closed, []);
    t.mock.timers.tick(1);
    assert.deepEqual(closed, ['a'], 'one at a time, in order');
    t.mock.timers.tick(SPACING_MS - 1);
    assert.deepEqual(closed, ['a'], 'spaced');
    t.mock.timers.tick(1);
    assert.deepEqual(closed, ['a', 'b']);
    t.mock.timers.tick(SPACING_MS);
    assert.deepEqual(closed, ['a', 'b', 'c']);
    assert.equal(q.size, 0);
  });

  it('waits again while connections keep being queued, but closes each within BOUND_MS', (t) => {
    const { q, closed, add } = queue(t);
    add('a');
    for (let i = 1; i <= 4; i++) {
      t.mock.timers.tick(QUIET_MS - 100); // never quiet for QUIET_MS
      add(`n${i}`);
    }
    // 3.6 s: nothing closed yet; 'a' is due at BOUND_MS.
    assert.deepEqual(closed, []);
    t.mock.timers.tick(BOUND_MS - 4 * (QUIET_MS - 100) - 1);
    assert.deepEqual(closed, []);
    t.mock.timers.tick(1);
    assert.deepEqual(closed, ['a'], 'the bound, whatever else is queued');
    t.mock.timers.tick(QUIET_MS); // quiet since the last one queued: the others follow, spaced
    assert.ok(closed.length >= 2);
    t.mock.timers.tick(BOUND_MS);
    assert.deepEqual(closed, ['a', 'n1', 'n2', 'n3', 'n4'], 'all closed, each once');
    assert.equal(q.size, 0);
  });

  it('flush(owner) closes that owner’s at once (leaving), the others keep their turn', (t) => {
    const { q, closed, add } = queue(t);
    const call = {};
    add('x1', call);
    add('other');
    add('x2', call);
    q.flush(call);
    assert.deepEqual(closed, ['x1', 'x2']);
    assert.equal(q.size, 1);
    t.mock.timers.tick(QUIET_MS);
    assert.deepEqual(closed, ['x1', 'x2', 'other']);
    q.flush(call);
    t.mock.timers.tick(BOUND_MS);
    assert.deepEqual(closed, ['x1', 'x2', 'other'], 'nothing closed twice');
  });

  it('a close that throws does not stop the ones after it', (t) => {
    const { q, closed, add } = queue(t);
    q.add(() => {
      throw new Error('already closed');
    });
    add('b');
    t.mock.timers.tick(QUIET_MS + SPACING_MS);
    assert.deepEqual(closed, ['b']);
  });
});

/** The part of RTCPeerConnection a non-initiating PeerSession touches before any offer. */
class FakePeerConnection {
  static made: FakePeerConnection[] = [];
  signalingState = 'stable';
  connectionState = 'new';
  closes = 0;
  onconnectionstatechange: (() => void) | null = null;
  constructor() {
    FakePeerConnection.made.push(this);
  }
  createDataChannel(): object {
    return { readyState: 'connecting', send() {} };
  }
  getTransceivers(): object[] {
    return [];
  }
  close(): void {
    this.closes++;
    this.connectionState = 'closed';
  }
}

function session(t: TestContext): { session: PeerSession; pc: FakePeerConnection } {
  FakePeerConnection.made = [];
  const global = globalThis as { RTCPeerConnection?: unknown };
  const saved = global.RTCPeerConnection;
  global.RTCPeerConnection = FakePeerConnection;
  t.after(() => {
    global.RTCPeerConnection = saved;
  });
  const s = new PeerSession({ peerId: 'p', initiator: false, iceServers: [], send: () => {}, onError: () => {} });
  const pc = FakePeerConnection.made[0];
  assert.ok(pc);
  t.after(() => s.close());
  return { session: s, pc };
}

describe('PeerSession.close(later)', () => {
  it('closes the session at once and hands the native close to `later`; the connection is ignored meanwhile', (t) => {
    const { session: s, pc } = session(t);
    const handed: (() => void)[] = [];
    s.close((native) => handed.push(native));
    assert.equal(s.state, 'closed', 'closed for the call at once');
    assert.equal(pc.closes, 0, 'not natively yet');
    assert.equal(handed.length, 1);
    pc.connectionState = 'connected';
    pc.onconnectionstatechange?.();
    assert.equal(s.state, 'closed', 'its events no longer count');
    handed[0]!();
    assert.equal(pc.closes, 1, 'closed natively when the scheduler says');
    s.close((native) => handed.push(native));
    assert.equal(handed.length, 1, 'idempotent: nothing handed twice');
  });

  it('without `later` closes natively at once, as before', (t) => {
    const { session: s, pc } = session(t);
    s.close();
    assert.equal(s.state, 'closed');
    assert.equal(pc.closes, 1);
  });
});
