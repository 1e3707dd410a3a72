/**
 * Participants without sockets (`server/src/participants.ts`): join order, capacity, resume, the grace period (with
 * node:test's mocked timers), queued signals and their caps, departure, push-back and room scoping, each against fake
 * links that record what they were sent.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { ErrorCode, ServerMessage, WelcomeMessage } from '../../../src/protocol/relay.js';
import { createLogger } from '../../../server/src/log.js';
import { createMetrics } from '../../../server/src/metrics.js';
import { RELAY_DEFAULTS } from '../../../server/src/options.js';
import {
  LocalParticipants,
  type Joined,
  type Link,
  type ParticipantsContext,
} from '../../../server/src/participants.js';

/** A link that records everything; `open` false makes it refuse to send, as a closed socket does. */
class FakeLink implements Link {
  member: Joined | undefined = undefined;
  congested = false;
  open = true;
  readonly received: ServerMessage[] = [];
  closed: { code: number; reason: string } | undefined;

  constructor(readonly ip = '192.0.2.1') {}

  send(message: ServerMessage): boolean {
    if (!this.open) return false;
    this.received.push(message);
    return true;
  }

  sendEncoded(frame: string): boolean {
    if (!this.open) return false;
    this.received.push(JSON.parse(frame) as ServerMessage);
    return true;
  }

  fail(code: ErrorCode, message: string): void {
    this.received.push({ type: 'error', code, message });
  }

  close(code: number, reason: string): void {
    this.closed = { code, reason };
    this.open = false;
  }

  /** Messages of one type received so far. */
  of<T extends ServerMessage['type']>(type: T): Extract<ServerMessage, { type: T }>[] {
    return this.received.filter((m): m is Extract<ServerMessage, { type: T }> => m.type === type);
  }

  /** The latest welcome. */
  get welcome(): WelcomeMessage {
    const welcome = this.of('welcome').at(-1);
    assert.ok(welcome, 'a welcome');
    return welcome;
  }

  /** Error codes received so far. */
  get errors(): string[] {
    return this.of('error').map((e) => e.code);
  }
}

type Config = ParticipantsContext['config'];

function setup(config: Partial<Config> = {}) {
  const released: string[] = [];
  const state = { closing: false };
  const metrics = createMetrics(() => ({ connections: 0, rooms: 0, peers: 0, resuming: 0, queuedBytes: 0 }));
  const participants = new LocalParticipants({
    config: {
      maxPeersPerRoom: RELAY_DEFAULTS.maxPeersPerRoom,
      resumeGraceMs: 1000,
      resumeQueueBytes: RELAY_DEFAULTS.resumeQueueBytes,
      maxResumingPeers: RELAY_DEFAULTS.maxResumingPeers,
      maxResumeQueueTotalBytes: RELAY_DEFAULTS.maxResumeQueueTotalBytes,
      ...config,
    },
    log: createLogger('silent'),
    metrics,
    iceServers: () => [],
    isClosing: () => state.closing,
    release: (address) => released.push(address),
  });
  /** A new link admitted to `room`. */
  const joined = (room: string, name = '', ip?: string): FakeLink => {
    const link = new FakeLink(ip);
    participants.admit(link, room, name);
    return link;
  };
  return { participants, metrics, released, state, joined };
}

/** Mocks `setTimeout` for this test only. */
function mockTimers(t: TestContext): void {
  t.mock.timers.enable({ apis: ['setTimeout'] });
}

describe('participants: join', () => {
  it('welcomes in joining order and tells the others, once each', () => {
    const { joined, participants } = setup();
    const a = joined('r', 'Ann');
    const b = joined('r', 'Bob');
    const c = joined('r', 'Cy');
    assert.deepEqual(a.welcome.peers, []);
    assert.deepEqual(b.welcome.peers, [{ id: a.welcome.id, name: 'Ann' }]);
    assert.deepEqual(
      c.welcome.peers.map((p) => p.name),
      ['Ann', 'Bob'],
    );
    assert.deepEqual(
      a.of('peer-joined').map((m) => m.peer.name),
      ['Bob', 'Cy'],
    );
    assert.deepEqual(
      b.of('peer-joined').map((m) => m.peer.name),
      ['Cy'],
    );
    assert.equal(c.of('peer-joined').length, 0);
    assert.equal(new Set([a, b, c].map((l) => l.welcome.id)).size, 3);
    assert.match(a.welcome.id, /^[\w-]{22}$/);
    assert.match(a.welcome.resume ?? '', /^[\w-]{22}$/);
    assert.equal(a.member?.id, a.welcome.id);
    assert.deepEqual(participants.counts(), { rooms: 1, peers: 3, resuming: 0, queuedBytes: 0 });
  });

  it('strips control and bidi formatting characters from names, for everyone', () => {
    const { joined } = setup();
    const a = joined('r');
    joined('r', 'B\u202Eob\u0000');
    assert.equal(a.of('peer-joined')[0]?.peer.name, 'Bob');
    assert.equal(joined('r').welcome.peers[1]?.name, 'Bob');
  });

  it('refuses a full room with room-full, tells nobody, and another room still takes the link', () => {
    const { joined, participants } = setup({ maxPeersPerRoom: 2 });
    const a = joined('duo');
    const b = joined('duo');
    const c = joined('duo');
    assert.deepEqual(c.errors, ['room-full']);
    assert.equal(c.member, undefined);
    assert.equal(a.of('peer-joined').length, 1);
    assert.equal(b.of('peer-joined').length, 0);
    participants.admit(c, 'other', '');
    assert.deepEqual(c.welcome.peers, []);
    assert.deepEqual(participants.counts(), { rooms: 2, peers: 3, resuming: 0, queuedBytes: 0 });
  });

  it('never welcomes with a resume secret when resume is off', () => {
    const { joined } = setup({ resumeGraceMs: 0 });
    assert.equal(joined('r').welcome.resume, undefined);
  });
});

describe('participants: signals', () => {
  it("forwards with `from` stamped, and only within the sender's room", () => {
    const { joined, participants, metrics } = setup();
    const a = joined('r1');
    const b = joined('r1');
    const other = joined('r2');
    participants.signal(a, b.welcome.id, { n: 1 });
    assert.deepEqual(b.of('signal'), [{ type: 'signal', from: a.welcome.id, data: { n: 1 } }]);
    participants.signal(a, other.welcome.id, { n: 2 });
    participants.signal(a, a.welcome.id, { n: 3 });
    participants.signal(a, 'made-up', { n: 4 });
    assert.deepEqual(a.errors, ['unknown-peer', 'unknown-peer', 'unknown-peer']);
    assert.equal(other.of('signal').length, 0);
    assert.equal(other.of('peer-joined').length, 0, 'no membership news from another room');
    assert.equal(metrics.relayed, 1);
  });

  it('pushes back on the sender when the addressee is congested, and does not drop the addressee', () => {
    const { joined, participants } = setup();
    const a = joined('r');
    const b = joined('r');
    b.congested = true;
    participants.signal(a, b.welcome.id, {});
    assert.deepEqual(a.errors, ['rate-limited']);
    assert.equal(b.of('signal').length, 0);
    assert.equal(b.closed, undefined);
  });
});

describe('participants: departure', () => {
  it('leave broadcasts peer-left once, and detaching the link afterwards changes nothing', () => {
    const { joined, participants, released } = setup();
    const a = joined('r');
    const b = joined('r');
    const c = joined('r');
    participants.leave(b);
    participants.leave(b);
    assert.equal(b.member, undefined);
    assert.equal(participants.detach(b, 1006, false), false);
    assert.deepEqual(a.of('peer-left'), [{ type: 'peer-left', id: b.welcome.id }]);
    assert.deepEqual(c.of('peer-left'), [{ type: 'peer-left', id: b.welcome.id }]);
    assert.equal(b.of('peer-left').length, 0);
    assert.deepEqual(released, [], 'a connection in no room releases its own place (connection.ts)');
    assert.deepEqual(participants.counts().peers, 2);
  });

  for (const code of [1000, 1001, 1005]) {
    it(`a close on purpose (${code}) leaves at once`, () => {
      const { joined, participants } = setup();
      const a = joined('r');
      const b = joined('r');
      assert.equal(participants.detach(b, code, false), false);
      assert.equal(a.of('peer-left').length, 1);
      assert.equal(participants.counts().resuming, 0);
    });
  }

  it('leaves at once when resume is off, the relay is closing, or the link was closed for abuse', () => {
    const off = setup({ resumeGraceMs: 0 });
    off.joined('r');
    assert.equal(off.participants.detach(off.joined('r'), 1006, false), false);
    assert.equal(off.participants.counts().peers, 1);

    const abuse = setup();
    assert.equal(abuse.participants.detach(abuse.joined('r'), 1006, true), false);
    assert.equal(abuse.participants.counts().peers, 0);

    const closing = setup();
    const link = closing.joined('r');
    closing.state.closing = true;
    assert.equal(closing.participants.detach(link, 1006, false), false);
    assert.equal(closing.participants.counts().peers, 0);
  });

  it('clear() makes everyone leave, grace periods included', (t) => {
    mockTimers(t);
    const { joined, participants, released } = setup();
    const a = joined('r', '', '192.0.2.7');
    joined('r');
    joined('s');
    assert.equal(participants.detach(a, 1006, false), true);
    participants.clear();
    assert.deepEqual(participants.counts(), { rooms: 0, peers: 0, resuming: 0, queuedBytes: 0 });
    assert.deepEqual(released, ['192.0.2.7'], 'the grace period gave back its place');
    t.mock.timers.tick(10_000);
    assert.deepEqual(released, ['192.0.2.7'], 'and its timer was stopped');
  });
});

describe('participants: resume and the grace period', () => {
  /** Room r with a and b; a's link lost (1006), in its grace period. */
  function lost(config: Partial<Config> = {}) {
    const s = setup(config);
    const a = s.joined('r', 'Ann', '192.0.2.1');
    const b = s.joined('r', 'Bob', '192.0.2.2');
    assert.equal(s.participants.detach(a, 1006, false), true);
    assert.equal(a.member, undefined);
    return { ...s, a, b, credentials: { id: a.welcome.id, secret: a.welcome.resume ?? '' } };
  }

  it('resumes with the right secret: same ID, a new secret, the others hear nothing', () => {
    const { participants, a, b, credentials, released } = lost();
    assert.deepEqual(participants.counts(), { rooms: 1, peers: 2, resuming: 1, queuedBytes: 0 });
    const again = new FakeLink('198.51.100.9');
    participants.resume(again, 'r', credentials);
    assert.equal(again.welcome.id, a.welcome.id);
    assert.equal(again.welcome.resumed, true);
    assert.deepEqual(again.welcome.peers, [{ id: b.welcome.id, name: 'Bob' }]);
    assert.notEqual(again.welcome.resume, credentials.secret);
    assert.deepEqual(
      b.received.filter((m) => m.type !== 'welcome'),
      [],
    );
    assert.deepEqual(released, ['192.0.2.1'], "the grace period gave back the old address's place");
    assert.equal(participants.counts().resuming, 0);
    // The secret handed out before is spent.
    const thief = new FakeLink();
    participants.resume(thief, 'r', credentials);
    assert.deepEqual(thief.errors, ['resume-failed']);
    // The resumed participant now counts against its new address.
    assert.equal(participants.detach(again, 1006, false), true);
    participants.clear();
    assert.deepEqual(released, ['192.0.2.1', '198.51.100.9']);
  });

  it('refuses a wrong secret, another room, an unknown ID, all alike, and changes nothing', () => {
    const { participants, b, credentials } = lost();
    for (const [room, creds] of [
      ['r', { ...credentials, secret: 'A'.repeat(22) }],
      ['r', { ...credentials, secret: '' }],
      ['other', credentials],
      ['r', { ...credentials, id: 'B'.repeat(22) }],
    ] as const) {
      const link = new FakeLink();
      participants.resume(link, room, creds);
      assert.deepEqual(
        link.received,
        [{ type: 'error', code: 'resume-failed', message: 'cannot resume: join again without resume' }],
        `${room} ${JSON.stringify(creds)}`,
      );
      assert.equal(link.member, undefined);
    }
    assert.deepEqual(participants.counts(), { rooms: 1, peers: 2, resuming: 1, queuedBytes: 0 });
    assert.equal(b.of('peer-left').length, 0);
    const right = new FakeLink();
    participants.resume(right, 'r', credentials);
    assert.equal(right.welcome.resumed, true);
  });

  it('refuses every resume when resume is off', () => {
    const { joined, participants } = setup({ resumeGraceMs: 0 });
    const a = joined('r');
    const link = new FakeLink();
    participants.resume(link, 'r', { id: a.welcome.id, secret: 'x'.repeat(22) });
    assert.deepEqual(link.errors, ['resume-failed']);
  });

  it('the grace period expires: peer-left once, its place given back, and no resume after it', (t) => {
    mockTimers(t);
    const { participants, b, credentials, released, metrics } = lost({ resumeGraceMs: 5000 });
    t.mock.timers.tick(4999);
    assert.equal(b.of('peer-left').length, 0);
    assert.deepEqual(released, []);
    t.mock.timers.tick(1);
    assert.deepEqual(b.of('peer-left'), [{ type: 'peer-left', id: credentials.id }]);
    assert.deepEqual(released, ['192.0.2.1']);
    assert.deepEqual(participants.counts(), { rooms: 1, peers: 1, resuming: 0, queuedBytes: 0 });
    const late = new FakeLink();
    participants.resume(late, 'r', credentials);
    assert.deepEqual(late.errors, ['resume-failed']);
    t.mock.timers.tick(60_000);
    assert.equal(b.of('peer-left').length, 1);
    assert.equal(metrics.relayed, 0);
  });

  it('a resume stops the timer: no peer-left later', (t) => {
    mockTimers(t);
    const { participants, b, credentials } = lost({ resumeGraceMs: 5000 });
    t.mock.timers.tick(4000);
    participants.resume(new FakeLink(), 'r', credentials);
    t.mock.timers.tick(10_000);
    assert.equal(b.of('peer-left').length, 0);
    assert.equal(participants.counts().peers, 2);
  });

  it('queues signals during the grace period and flushes them after the welcome, in order', () => {
    const { participants, a, b, credentials, metrics } = lost();
    participants.signal(b, a.welcome.id, { n: 1 });
    participants.signal(b, a.welcome.id, { n: 2 });
    assert.deepEqual(b.errors, []);
    assert.ok(participants.counts().queuedBytes > 0);
    // Membership news is not queued: the resumed welcome carries the room as it is.
    const c = new FakeLink();
    participants.admit(c, 'r', 'Cy');
    const again = new FakeLink();
    participants.resume(again, 'r', credentials);
    assert.deepEqual(
      again.received.map((m) => m.type),
      ['welcome', 'signal', 'signal'],
    );
    assert.deepEqual(
      again.of('signal').map((m) => m.data),
      [{ n: 1 }, { n: 2 }],
    );
    assert.deepEqual(
      again.welcome.peers.map((p) => p.name),
      ['Bob', 'Cy'],
    );
    assert.equal(participants.counts().queuedBytes, 0);
    assert.equal(metrics.relayed, 2);
  });

  it('bounds each queue: beyond resumeQueueBytes the sender hears unknown-peer', () => {
    const frame = JSON.stringify({ type: 'signal', from: 'x'.repeat(22), data: { n: 1 } });
    const { participants, a, b } = lost({ resumeQueueBytes: 2 * Buffer.byteLength(frame) });
    for (let n = 1; n <= 3; n++) participants.signal(b, a.welcome.id, { n });
    assert.deepEqual(b.errors, ['unknown-peer']);
    assert.equal(participants.counts().queuedBytes, 2 * Buffer.byteLength(frame));
  });

  it('bounds all queues together (maxResumeQueueTotalBytes), and gives the bytes back on departure', (t) => {
    mockTimers(t);
    const frame = JSON.stringify({ type: 'signal', from: 'x'.repeat(22), data: { n: 1 } });
    const bytes = Buffer.byteLength(frame);
    const { participants, joined, released } = setup({
      resumeQueueBytes: 10 * bytes,
      maxResumeQueueTotalBytes: 3 * bytes,
    });
    const a = joined('r');
    const b = joined('r');
    const sender = joined('r');
    participants.detach(a, 1006, false);
    participants.detach(b, 1006, false);
    participants.signal(sender, a.welcome.id, { n: 1 });
    participants.signal(sender, a.welcome.id, { n: 2 });
    participants.signal(sender, b.welcome.id, { n: 3 });
    participants.signal(sender, b.welcome.id, { n: 4 });
    assert.deepEqual(sender.errors, ['unknown-peer']);
    assert.equal(participants.counts().queuedBytes, 3 * bytes);
    t.mock.timers.tick(RELAY_DEFAULTS.resumeGraceMs);
    assert.equal(released.length, 2);
    assert.deepEqual(participants.counts(), { rooms: 1, peers: 1, resuming: 0, queuedBytes: 0 });
  });

  it('caps the participants in their grace period relay-wide (maxResumingPeers): beyond, they leave at once', () => {
    const { participants, joined } = setup({ maxResumingPeers: 1 });
    const a = joined('r');
    const b = joined('r');
    const c = joined('r');
    assert.equal(participants.detach(a, 1006, false), true);
    assert.equal(participants.detach(b, 1006, false), false);
    assert.deepEqual(
      c.of('peer-left').map((m) => m.id),
      [b.welcome.id],
    );
    assert.equal(participants.counts().resuming, 1);
  });

  it('a resume while the old link is still open replaces it (4001) without taking the participant along', () => {
    const { participants, joined } = setup();
    const a = joined('r');
    const b = joined('r');
    const again = new FakeLink();
    participants.resume(again, 'r', { id: a.welcome.id, secret: a.welcome.resume ?? '' });
    assert.deepEqual(a.closed, { code: 4001, reason: 'resumed on another connection' });
    assert.equal(a.member, undefined);
    assert.equal(again.member?.id, a.welcome.id);
    assert.equal(participants.detach(a, 4001, false), false, "the replaced link's close changes nothing");
    assert.equal(b.of('peer-left').length, 0);
    assert.equal(participants.counts().peers, 2);
  });
});
