/**
 * Property-based test of the relay with roles in play (fast-check, a real relay process with room tokens): the
 * isolation guarantees of `property.test.ts` (no cross-room delivery, no spoofed sender, consistent membership) hold
 * when clients join as hosts or guests (protocol 2) and send host actions (lock, unlock, remove, ask-unmute) as well
 * as signals, leaves and closes. A model predicts every message each client must receive (errors by code): so a host
 * action never reaches another room, a guest's action is always `forbidden` and changes nothing, a locked room refuses
 * guests only, and a removed client's token is refused in that room until the room empties.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { WebSocket } from 'ws';
import { parseServerMessage, type ServerMessage } from '../../../src/protocol/relay.js';
import { openWebSocket, startRelayProcess, withTimeout, WAIT_MS } from './helpers.js';
import { SECRET, token } from './hosts-helpers.js';

const CLIENTS = 5;
const ROOMS = 2;
const CAPACITY = 3;
const PARALLEL = 8;
const RUNS = Number(process.env['PROPERTY_RUNS'] ?? 25);

type Op =
  | { op: 'join'; client: number; room: number; host: boolean }
  | { op: 'signal'; client: number; to: number; spoof: number }
  | { op: 'leave' | 'close' | 'lock' | 'unlock'; client: number }
  | { op: 'remove' | 'ask'; client: number; to: number };

const client = fc.integer({ min: 0, max: CLIENTS - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('join' as const),
      client,
      room: fc.integer({ min: 0, max: ROOMS - 1 }),
      host: fc.boolean(),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('signal' as const), client, to: client, spoof: client }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('leave' as const, 'close' as const), client }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('lock' as const, 'unlock' as const), client }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constantFrom('remove' as const, 'ask' as const), client, to: client }) },
);
const sequence = fc.array(opArb, { minLength: 1, maxLength: 25, size: 'max' });

/** Errors are compared by code only. */
type Seen = ServerMessage | { type: 'error'; code: string };

/** A client that logs every message, with a barrier and its close. */
class PClient {
  readonly log: Seen[] = [];
  readonly closed: Promise<number>;
  #marker = 0;
  #waiting: { marker: string; resolve: () => void } | undefined;
  constructor(readonly socket: WebSocket) {
    this.closed = new Promise((resolve) => socket.once('close', (code: number) => resolve(code)));
    socket.on('message', (data) => {
      const parsed = parseServerMessage(String(data));
      assert.ok(parsed.ok, `the relay sent an invalid frame: ${String(data)}`);
      const m = parsed.value;
      if (m.type === 'error' && this.#waiting && m.message.includes(this.#waiting.marker)) {
        this.#waiting.resolve();
        this.#waiting = undefined;
        return;
      }
      if (m.type === 'welcome') this.log.push({ type: 'welcome', id: m.id, room: m.room, peers: m.peers, iceServers: [] });
      else this.log.push(m.type === 'error' ? { type: 'error', code: m.code } : m);
    });
  }
  sendThenBarrier(message?: unknown): Promise<void> {
    const marker = `barrier-${++this.#marker}`;
    const done = new Promise<void>((resolve) => (this.#waiting = { marker: JSON.stringify(marker), resolve }));
    if (message !== undefined) this.socket.send(JSON.stringify(message));
    this.socket.send(JSON.stringify({ type: marker }));
    return withTimeout(done, WAIT_MS, 'barrier');
  }
  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.close(1000);
    await withTimeout(this.closed, WAIT_MS, 'close');
  }
}

interface Model {
  socket: PClient;
  id: string | undefined;
  room: number | undefined;
  host: boolean;
  joinedAt: number;
  expected: Seen[];
}

let tags = 0;

async function runSequence(url: string, pool: PClient[], ops: readonly Op[]): Promise<number> {
  const tag = `h${++tags}`;
  const roomName = (r: number): string => `${tag}-r${r}`;
  // Each client has one token ID (jti) per sequence, whatever its role: a removal bars it from that room.
  const tokens = new Map<string, string>();
  const tokenOf = async (c: number, r: number, host: boolean): Promise<string> => {
    const key = `${c}/${r}/${host}`;
    const t = tokens.get(key) ?? (await token(roomName(r), { jti: `${tag}-c${c}`, role: host ? 'host' : 'guest' }));
    tokens.set(key, t);
    return t;
  };
  const clients: Model[] = pool.map((socket) => ({
    socket,
    id: undefined,
    room: undefined,
    host: false,
    joinedAt: 0,
    expected: [],
  }));
  /** Per room: locked, and the clients removed from it; forgotten when the room empties. */
  const rooms = Array.from({ length: ROOMS }, () => ({ locked: false, removed: new Set<number>() }));
  let joins = 0;
  let seq = 0;
  let checked = 0;
  const members = (r: number): Model[] => clients.filter((c) => c.room === r).sort((a, b) => a.joinedAt - b.joinedAt);
  const state = (r: number): Seen => ({
    type: 'room-state',
    locked: rooms[r]!.locked,
    hosts: members(r)
      .filter((m) => m.host)
      .map((m) => m.id as string),
  });
  const verify = (c: Model, when: string): void => {
    const actual = c.socket.log.splice(0);
    assert.deepEqual(actual, c.expected.splice(0), `${tag} ${when}: client ${clients.indexOf(c)}`);
    checked += actual.length;
  };
  const depart = (c: Model): void => {
    const r = c.room;
    const id = c.id;
    const wasHost = c.host;
    c.room = undefined;
    c.id = undefined;
    if (r === undefined || id === undefined) return;
    for (const o of members(r)) o.expected.push({ type: 'peer-left', id });
    if (wasHost) for (const o of members(r)) o.expected.push(state(r));
    if (members(r).length === 0) rooms[r] = { locked: false, removed: new Set() };
  };
  const reopen = async (i: number, c: Model): Promise<void> => {
    verify(c, 'before its socket closed');
    const fresh = new PClient(await openWebSocket(url));
    pool[i] = fresh;
    c.socket = fresh;
    await Promise.all(clients.filter((o) => o !== c).map((o) => o.socket.sendThenBarrier()));
  };
  const error = (c: Model, code: string): void => void c.expected.push({ type: 'error', code });

  for (const op of ops) {
    const c = clients[op.client] as Model;
    switch (op.op) {
      case 'join': {
        const r = op.room;
        await c.socket.sendThenBarrier({
          type: 'join',
          room: roomName(r),
          protocol: 2,
          token: await tokenOf(op.client, r, op.host),
        });
        if (c.room !== undefined) error(c, 'already-joined');
        else if (rooms[r]!.removed.has(op.client)) error(c, 'removed');
        else if (!op.host && rooms[r]!.locked) error(c, 'room-locked');
        else if (members(r).length >= CAPACITY) error(c, 'room-full');
        else {
          const welcome = [...c.socket.log].reverse().find((m) => m.type === 'welcome');
          assert.ok(welcome?.type === 'welcome', `${tag}: a welcome for a join that the model admits`);
          const present = members(r);
          c.id = welcome.id;
          c.room = r;
          c.host = op.host;
          c.joinedAt = ++joins;
          c.expected.push({
            type: 'welcome',
            id: welcome.id,
            room: roomName(r),
            peers: present.map((p) => ({ id: p.id as string, name: '' })),
            iceServers: [],
          });
          for (const o of present) o.expected.push({ type: 'peer-joined', peer: { id: welcome.id, name: '' } });
          if (op.host) for (const o of members(r)) o.expected.push(state(r));
          else c.expected.push(state(r));
        }
        break;
      }
      case 'signal': {
        const target = clients[op.to] as Model;
        const to = target.id ?? 'nobodyAtAll';
        const data = { seq: ++seq };
        await c.socket.sendThenBarrier({ type: 'signal', to, from: clients[op.spoof]?.id ?? 'forged', data });
        if (c.id === undefined) error(c, 'not-joined');
        else if (target === c || target.room !== c.room || target.id === undefined) error(c, 'unknown-peer');
        else target.expected.push({ type: 'signal', from: c.id, data });
        break;
      }
      case 'leave':
        await c.socket.sendThenBarrier({ type: 'leave' });
        if (c.room === undefined) error(c, 'not-joined');
        else depart(c);
        break;
      case 'close':
        await c.socket.close();
        depart(c);
        await reopen(op.client, c);
        break;
      case 'lock':
      case 'unlock':
        await c.socket.sendThenBarrier({ type: op.op });
        if (c.room === undefined) error(c, 'not-joined');
        else if (!c.host) error(c, 'forbidden');
        else {
          rooms[c.room]!.locked = op.op === 'lock';
          for (const o of members(c.room)) o.expected.push(state(c.room));
        }
        break;
      case 'remove':
      case 'ask': {
        const target = clients[op.to] as Model;
        const id = target.id ?? 'nobodyAtAll';
        await c.socket.sendThenBarrier(
          op.op === 'remove' ? { type: 'remove', id } : { type: 'ask-unmute', to: id, media: 'microphone' },
        );
        if (c.room === undefined) error(c, 'not-joined');
        else if (!c.host) error(c, 'forbidden');
        else if (target === c || target.room !== c.room || target.id === undefined) error(c, 'unknown-peer');
        else if (op.op === 'ask') target.expected.push({ type: 'ask-unmute', from: c.id as string, media: 'microphone' });
        else {
          rooms[c.room]!.removed.add(op.to);
          const room = c.room;
          depart(target);
          // Removed: the relay closes it with 4004; the client comes back on a fresh socket.
          assert.equal(await withTimeout(target.socket.closed, WAIT_MS, 'removed close'), 4004);
          await reopen(op.to, target);
          // A removal is remembered while the room lives (depart may have forgotten it with the room).
          if (members(room).length === 0) rooms[room] = { locked: false, removed: new Set() };
        }
        break;
      }
    }
  }
  await Promise.all(clients.map((c) => c.socket.sendThenBarrier()));
  for (const c of clients) {
    if (c.room !== undefined) {
      const view = new Set<string>();
      for (const m of c.socket.log) {
        if (m.type === 'welcome') {
          view.clear();
          for (const p of m.peers) view.add(p.id);
        }
        if (m.type === 'peer-joined') view.add(m.peer.id);
        if (m.type === 'peer-left') view.delete(m.id);
      }
      const model = members(c.room).filter((o) => o !== c);
      assert.deepEqual([...view].sort(), model.map((o) => o.id as string).sort(), `${tag}: membership view`);
    }
    verify(c, 'at the end');
  }
  await Promise.all(clients.map((c) => c.socket.sendThenBarrier(c.room === undefined ? undefined : { type: 'leave' })));
  for (const c of clients) c.socket.log.splice(0);
  return checked;
}

describe('property: hosts and guests (fast-check, real relay process with tokens)', () => {
  it(
    `${RUNS * PARALLEL} random sequences with hosts, guests, lock, remove and ask-unmute: isolation holds`,
    { timeout: 240_000 },
    async () => {
      const e = await startRelayProcess([
        '--max-peers-per-room',
        String(CAPACITY),
        '--max-connections-per-ip',
        '0',
        '--rate-limit-per-second',
        '1000000',
        '--rate-limit-burst',
        '1000000',
        '--join-timeout-ms',
        String(2 ** 31 - 1),
        '--token-secret',
        SECRET,
        '--log-level',
        'error',
      ]);
      const pools = await Promise.all(
        Array.from({ length: PARALLEL }, () =>
          Promise.all(Array.from({ length: CLIENTS }, async () => new PClient(await openWebSocket(e.wsUrl)))),
        ),
      );
      let sequences = 0;
      let messages = 0;
      try {
        await fc.assert(
          fc.asyncProperty(fc.array(sequence, { minLength: PARALLEL, maxLength: PARALLEL }), async (batch) => {
            const counts = await Promise.all(batch.map((ops, i) => runSequence(e.wsUrl, pools[i] as PClient[], ops)));
            sequences += batch.length;
            messages += counts.reduce((a, b) => a + b, 0);
            const health = await e.health();
            assert.equal(health.rooms, 0);
            assert.equal(health.peers, 0);
          }),
          { numRuns: RUNS, endOnFailure: true, includeErrorInReport: true },
        );
      } finally {
        await Promise.all(pools.flat().map((c) => c.close().catch(() => undefined)));
        assert.deepEqual(await e.stop(), { code: 0, signal: null }, 'the relay ran to the end and exited cleanly');
      }
      assert.equal(e.stderr(), '', 'no error logged');
      process.stdout.write(`hosts property: ${sequences} sequences, ${messages} messages checked\n`);
    },
  );
});
