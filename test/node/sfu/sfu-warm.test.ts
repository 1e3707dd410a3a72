/**
 * The warm path's rules (`server/src/sfu/warm.ts` through `sfu-participants.ts`) over the real in-memory participants,
 * with fake links and a broker that records what it is asked (no Janus): `prepare` only at `sfuFrom − 1` members that
 * all announced `sfu` and `warm`, only once the room's relayed signals have been quiet; none without an SFU; the
 * members brokered into the Janus room ahead of the switch and kept through it; `unprepare` and the Janus room closed
 * when the room shrinks or grows without switching; SFU requests served while warm and dropped once torn down.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ErrorCode, ServerMessage } from '../../../src/protocol/relay.js';
import type { SfuRequest } from '../../../src/protocol/sfu.js';
import { createLogger } from '../../../server/src/log.js';
import { createMetrics } from '../../../server/src/metrics.js';
import { RELAY_DEFAULTS } from '../../../server/src/options.js';
import { LocalParticipants, type Joined, type Link, type Participants } from '../../../server/src/participants.js';
import type { SfuBroker } from '../../../server/src/sfu/broker.js';
import { SfuParticipants } from '../../../server/src/sfu/sfu-participants.js';

const QUIET_MS = 60;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class FakeLink implements Link {
  member: Joined | undefined = undefined;
  congested = false;
  readonly ip = '192.0.2.1';
  readonly received: ServerMessage[] = [];
  send(message: ServerMessage): boolean {
    this.received.push(message);
    return true;
  }
  sendEncoded(frame: string): boolean {
    this.received.push(JSON.parse(frame) as ServerMessage);
    return true;
  }
  fail(code: ErrorCode, message: string): void {
    this.received.push({ type: 'error', code, message });
  }
  close(): void {}
  /** The SFU ops received (`sfu:<op>`) and the relay's own message types. */
  get kinds(): string[] {
    return this.received.map((m) => (m.type === 'signal' && m.from === 'sfu' ? `sfu:${String(m.data['op'])}` : m.type));
  }
  get sfuOps(): string[] {
    return this.kinds.filter((k) => k.startsWith('sfu:'));
  }
}

function setup(sfuFrom = 4) {
  const calls: string[] = [];
  const broker = {
    openRoom: (room: string) => (calls.push(`open ${room}`), Promise.resolve()),
    closeRoom: (room: string) => (calls.push(`close ${room}`), Promise.resolve()),
    leave: (room: string, id: string) => (calls.push(`leave ${room} ${id}`), Promise.resolve()),
    enter: (room: string, id: string) => calls.push(`enter ${room} ${id}`),
    handle: (room: string, id: string, _name: string, request: SfuRequest) => calls.push(`${request.op} ${room} ${id}`),
    close: () => Promise.resolve(),
  } as unknown as SfuBroker;
  let sfu: SfuParticipants | undefined = undefined;
  const log = createLogger('silent');
  const local = new LocalParticipants({
    config: {
      maxPeersPerRoom: 6,
      resumeGraceMs: 0,
      resumeQueueBytes: RELAY_DEFAULTS.resumeQueueBytes,
      maxResumingPeers: RELAY_DEFAULTS.maxResumingPeers,
      maxResumeQueueTotalBytes: RELAY_DEFAULTS.maxResumeQueueTotalBytes,
    },
    log,
    metrics: createMetrics(() => ({ connections: 0, rooms: 0, peers: 0, resuming: 0, queuedBytes: 0 })),
    iceServers: () => [],
    isClosing: () => false,
    release: () => undefined,
    departed: (joined) => sfu?.departed(joined),
  });
  sfu = new SfuParticipants(
    local,
    broker,
    { sfuFrom, maxPeersPerMeshRoom: 6, maxPeersPerSfuRoom: 10, warmQuietMs: QUIET_MS },
    log,
  );
  const participants: Participants = sfu;
  /** A join with `join.caps` (default `["sfu", "warm"]`: this element). */
  const join = (caps: string[] | null = ['sfu', 'warm']) => {
    const link = new FakeLink();
    void participants.admit(link, 'r', 'n', caps ?? undefined, { protocol: 2 });
    return link;
  };
  return { sfu, calls, join };
}

describe('the warm path (prepare at sfuFrom − 1)', () => {
  it('prepares every member at sfuFrom − 1 once the mesh is quiet, and keeps them through the switch', async () => {
    const { sfu, calls, join } = setup(4);
    const a = join();
    const b = join();
    await sleep(QUIET_MS * 2);
    assert.deepEqual(a.sfuOps, [], 'not at 2 of 4');
    const c = join();
    // The mesh negotiates through the relay: each signal starts the quiet again.
    for (let i = 0; i < 4; i++) {
      await sleep(QUIET_MS / 2);
      sfu.signal(a, c.member!.id, { sdp: 'x' });
    }
    assert.deepEqual(c.sfuOps, [], 'not while the mesh is still negotiating');
    await sleep(QUIET_MS * 3);
    const links = [a, b, c];
    const ids = links.map((l) => l.member!.id);
    for (const l of links) assert.deepEqual(l.sfuOps, ['sfu:prepare']);
    assert.deepEqual(calls, ['open r', ...ids.map((id) => `enter r ${id}`)], 'brokered into the Janus room ahead');
    assert.equal(sfu.mode('r'), 'mesh', 'still a mesh');
    // Their SFU requests are served while warm (the prepared connections are negotiated).
    sfu.signal(a, 'sfu', { op: 'publish', sdp: 'v=0' });
    assert.equal(calls.at(-1), `publish r ${ids[0]}`);
    assert.ok(!a.kinds.includes('error'));
    // The switch: `mode` to all; the broker keeps the prepared members (no close), the newcomer enters.
    const d = join();
    assert.equal(sfu.mode('r'), 'sfu');
    for (const l of links) assert.deepEqual(l.sfuOps, ['sfu:prepare', 'sfu:mode']);
    assert.deepEqual(d.sfuOps, ['sfu:mode']);
    assert.ok(!calls.includes('close r'), 'the warm Janus room is the switched room');
    // `openRoom` and `enter` are idempotent in the broker: the prepared members are not entered again there.
    assert.deepEqual(calls.slice(-5), ['open r', ...[...ids, d.member!.id].map((id) => `enter r ${id}`)]);
  });

  it('is not prepared when a member did not announce warm, or without sfu', async () => {
    for (const odd of [['sfu'], null]) {
      const { calls, join } = setup(4);
      const links = [join(), join(odd), join()];
      await sleep(QUIET_MS * 3);
      for (const l of links) assert.deepEqual(l.sfuOps, [], `caps ${JSON.stringify(odd)}`);
      assert.deepEqual(calls, []);
    }
  });

  it('is not prepared below 3 members (sfuFrom 3: a call of two stays off Janus)', async () => {
    const { sfu, calls, join } = setup(3);
    const links = [join(), join()];
    await sleep(QUIET_MS * 3);
    for (const l of links) assert.deepEqual(l.sfuOps, []);
    assert.deepEqual(calls, []);
    assert.equal(sfu.mode('r'), 'mesh');
  });

  it('is torn down when the room shrinks below sfuFrom − 1 (unprepare, Janus room closed)', async () => {
    const { sfu, calls, join } = setup(4);
    const [a, b, c] = [join(), join(), join()];
    await sleep(QUIET_MS * 3);
    assert.deepEqual(a.sfuOps, ['sfu:prepare']);
    sfu.leave(c);
    assert.deepEqual(a.sfuOps, ['sfu:prepare', 'sfu:unprepare']);
    assert.deepEqual(b.sfuOps, ['sfu:prepare', 'sfu:unprepare']);
    assert.equal(calls.at(-1), 'close r');
    // A request of the torn-down session still in flight is dropped, not answered with an error.
    sfu.signal(a, 'sfu', { op: 'answer', sdp: 'v=0' });
    assert.ok(!a.kinds.includes('error'));
    assert.ok(!calls.some((c) => c.startsWith('answer')));
    // Back to sfuFrom − 1: prepared again once quiet.
    const d = join();
    await sleep(QUIET_MS * 3);
    assert.deepEqual(d.sfuOps, ['sfu:prepare']);
    assert.deepEqual(a.sfuOps, ['sfu:prepare', 'sfu:unprepare', 'sfu:prepare']);
    assert.equal(sfu.mode('r'), 'mesh');
  });

  it('is torn down when a member that cannot switch joins (the room grows in mesh)', async () => {
    const { sfu, calls, join } = setup(4);
    const links = [join(), join(), join()];
    await sleep(QUIET_MS * 3);
    const v1 = join(null);
    assert.equal(sfu.mode('r'), 'mesh');
    for (const l of links) assert.deepEqual(l.sfuOps, ['sfu:prepare', 'sfu:unprepare']);
    assert.deepEqual(v1.sfuOps, []);
    assert.equal(calls.at(-1), 'close r');
    // The members still meet it in mesh (the element makes a mesh connection: its room is not on the SFU).
    assert.equal(links[0]!.kinds.at(-1), 'sfu:unprepare');
    assert.ok(links[0]!.kinds.includes('peer-joined'));
  });

  it('a room shrinking before it is quiet is never prepared; an SFU request in a mesh room is still refused', async () => {
    const { sfu, calls, join } = setup(4);
    const [a, , c] = [join(), join(), join()];
    sfu.leave(c);
    await sleep(QUIET_MS * 3);
    assert.deepEqual(a.sfuOps, []);
    assert.deepEqual(calls, []);
    const old = join(['sfu']); // an element without `warm` asking the SFU of a mesh room: refused as before
    sfu.signal(old, 'sfu', { op: 'publish', sdp: 'v=0' });
    assert.equal((old.received.at(-1) as { code: string }).code, 'unknown-peer');
  });
});
