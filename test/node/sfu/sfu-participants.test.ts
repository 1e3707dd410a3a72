/**
 * The per-room media mode (`server/src/sfu/sfu-participants.ts`) over the real in-memory participants, with fake links
 * and a broker that records what it is asked (no Janus): the switch at `sfuFrom` only when every member can, the
 * `mode` message before the newcomer's welcome and before the members' `peer-joined`, capacity per mode, v1 clients,
 * SFU requests (parse errors, the impostor `id`, a mesh room), a room token's `media` claim, every member entering the
 * Janus room at admission or switch (subscribed before any publish of its own), and the Janus room closed when the room
 * empties.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ErrorCode, ServerMessage } from '../../../src/protocol/relay.js';
import type { SfuRequest } from '../../../src/protocol/sfu.js';
import { createLogger } from '../../../server/src/log.js';
import { createMetrics } from '../../../server/src/metrics.js';
import { RELAY_DEFAULTS } from '../../../server/src/options.js';
import { LocalParticipants, type Joined, type Link } from '../../../server/src/participants.js';
import type { SfuBroker } from '../../../server/src/sfu/broker.js';
import { SfuParticipants } from '../../../server/src/sfu/sfu-participants.js';

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
  /** The types received, with `mode` for an SFU mode signal. */
  get kinds(): string[] {
    return this.received.map((m) => (m.type === 'signal' && m.from === 'sfu' ? `sfu:${String(m.data['op'])}` : m.type));
  }
}

function setup(sfuFrom = 3) {
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
      maxPeersPerRoom: 5,
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
  sfu = new SfuParticipants(local, broker, { sfuFrom, maxPeersPerMeshRoom: 2, maxPeersPerSfuRoom: 5 }, log);
  /** A join with `join.caps` (default `["sfu"]`), or without (`null`: a v1 client). */
  const join = (caps: string[] | null = ['sfu'], media?: 'mesh' | 'sfu') => {
    const link = new FakeLink();
    sfu.admit(link, 'r', 'n', caps ?? undefined, { protocol: 2, grant: { tokenId: 'jti:t', ...(media && { media }) } });
    return link;
  };
  return { sfu, calls, join };
}

describe('rooms switching to the SFU', () => {
  it('switches at sfuFrom when all can: mode before the welcome and before peer-joined', () => {
    const { sfu, calls, join } = setup(3);
    const a = join();
    const b = join();
    assert.equal(sfu.mode('r'), 'mesh');
    assert.deepEqual(a.kinds, ['welcome', 'peer-joined']);
    const c = join();
    assert.equal(sfu.mode('r'), 'sfu');
    assert.deepEqual(c.kinds, ['sfu:mode', 'welcome']);
    assert.deepEqual(a.kinds, ['welcome', 'peer-joined', 'sfu:mode', 'peer-joined']);
    assert.deepEqual(b.kinds, ['welcome', 'sfu:mode', 'peer-joined']);
    const ids = [a, b, c].map((l) => l.member!.id);
    assert.deepEqual(calls, ['open r', ...ids.map((id) => `enter r ${id}`)], 'every member enters the Janus room');
    const d = join();
    assert.deepEqual(d.kinds, ['sfu:mode', 'welcome'], 'a newcomer to a room on the SFU hears the mode first');
    // It enters (and is subscribed) at admission, before any publish of its own: a receive-only one sees everyone.
    assert.equal(calls.at(-1), `enter r ${d.member!.id}`);
  });

  it('a member without the capability keeps the room in mesh (mesh capacity), and is refused from an SFU room', () => {
    const { sfu, join } = setup(2);
    join(null);
    const b = join();
    assert.equal(sfu.mode('r'), 'mesh');
    assert.ok(!b.kinds.includes('sfu:mode'));
    const c = join();
    assert.deepEqual(c.kinds, ['error'], 'mesh capacity 2');
    const other = setup(1);
    other.join();
    assert.equal(other.sfu.mode('r'), 'sfu');
    const v1 = other.join(null);
    assert.equal((v1.received[0] as { code: string }).code, 'room-full');
  });

  it('serves SFU requests in SFU rooms only, refuses another ID and malformed requests', () => {
    const { sfu, calls, join } = setup(1);
    const a = join();
    const id = a.member!.id;
    sfu.signal(a, 'sfu', { op: 'publish', sdp: 'v=0' });
    sfu.signal(a, 'sfu', { op: 'publish', sdp: 'v=0', id: 'someone-else' });
    sfu.signal(a, 'sfu', { op: 'nonsense' });
    assert.deepEqual(calls, ['open r', `enter r ${id}`, `publish r ${id}`]);
    assert.deepEqual(
      a.received.filter((m) => m.type === 'error').map((m) => (m as { code: string }).code),
      ['unauthorized', 'bad-message'],
    );
    const mesh = setup(5);
    const m = mesh.join();
    mesh.sfu.signal(m, 'sfu', { op: 'publish', sdp: 'v=0' });
    assert.equal((m.received.at(-1) as { code: string }).code, 'unknown-peer');
  });

  it("a room token's media claim forces the mode; the first participant's claim decides while the room exists", () => {
    const forced = setup(3);
    const first = forced.join(['sfu'], 'sfu');
    assert.equal(forced.sfu.mode('r'), 'sfu', 'on the SFU from its first participant');
    assert.deepEqual(first.kinds, ['sfu:mode', 'welcome']);
    const kept = setup(2);
    kept.join(['sfu'], 'mesh');
    const second = kept.join(['sfu'], 'sfu');
    assert.equal(kept.sfu.mode('r'), 'mesh', 'kept in mesh past sfuFrom; a later claim changes nothing');
    assert.ok(!second.kinds.includes('sfu:mode'));
    assert.deepEqual(kept.join(['sfu'], 'sfu').kinds, ['error'], 'mesh capacity 2');
    const v1First = setup(3);
    v1First.join(null, 'sfu');
    assert.equal(v1First.sfu.mode('r'), 'mesh', 'a v1 first participant keeps a room claimed for the SFU in mesh');
  });

  it('closes the Janus room when the room empties', () => {
    const { sfu, calls, join } = setup(1);
    const a = join();
    const b = join();
    const [ida, idb] = [a.member!.id, b.member!.id];
    const entered = ['open r', `enter r ${ida}`, `enter r ${idb}`];
    sfu.leave(a);
    assert.deepEqual(calls, [...entered, `leave r ${ida}`]);
    sfu.leave(b);
    assert.deepEqual(calls, [...entered, `leave r ${ida}`, `leave r ${idb}`, 'close r']);
    assert.equal(sfu.mode('r'), undefined);
  });
});
