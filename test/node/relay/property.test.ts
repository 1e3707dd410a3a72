/**
 * Property-based test of the relay's routing (fast-check), against the real relay over loopback WebSockets.
 *
 * fast-check generates sequences of join / signal / leave / close operations by up to six clients across three
 * rooms of capacity three (so `room-full`, `already-joined`, `not-joined` and `unknown-peer` all occur). Signals go
 * to members of the same room, of other rooms, to oneself, to departed and made-up IDs, and carry a forged `from`.
 * A model predicts, for every client, the exact sequence of messages it must receive; after the run every client's
 * actual log must equal its predicted one, which means:
 * - zero cross-room deliveries (a signal or announcement reaching anyone the model did not predict),
 * - zero spoofed senders (every delivered `from` is the sender's real ID, whatever `from` it claimed),
 * - membership consistent: each client's view (welcome.peers, peer-joined, peer-left) equals the model's room, and
 *   the relay's own counts equal the model's.
 *
 * Operations are serialised with a barrier (an invalid frame and its error) so the model knows the order in which
 * the relay handled them; sequences run in parallel batches on separate client pools and rooms, which is what makes
 * 10 000 of them fit in well under a minute.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { parseServerMessage, type ServerMessage } from '../../../src/protocol/relay.js';
import { openWebSocket, startRelayProcess, withTimeout, WAIT_MS } from './helpers.js';

const CLIENTS = 6;
const ROOMS = 3;
const CAPACITY = 3;
/** Sequences run at once, each on its own client pool and rooms. */
const PARALLEL = 10;
/** fast-check runs; each run is a batch of {@link PARALLEL} sequences. */
const RUNS = Number(process.env['PROPERTY_RUNS'] ?? 1000);

type Target =
  { kind: 'client'; index: number } | { kind: 'self' } | { kind: 'past'; index: number } | { kind: 'made-up' };

type Op =
  | { op: 'join'; client: number; room: number; name: string }
  | { op: 'signal'; client: number; to: Target; spoof: number }
  | { op: 'leave'; client: number }
  | { op: 'close'; client: number };

const client = fc.integer({ min: 0, max: CLIENTS - 1 });
const target: fc.Arbitrary<Target> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('client' as const), index: client }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'self' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('past' as const), index: fc.nat(50) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'made-up' as const }) },
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('join' as const),
      client,
      room: fc.integer({ min: 0, max: ROOMS - 1 }),
      name: fc.constantFrom('', 'Ann', 'Bob', 'Zoë 🙂'),
    }),
  },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('signal' as const), client, to: target, spoof: client }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('leave' as const), client }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('close' as const), client }) },
);
const sequence = fc.array(opArb, { minLength: 1, maxLength: 30, size: 'max' });

/** A bare client: every message in arrival order, and a barrier. */
class LogClient {
  readonly log: ServerMessage[] = [];
  #socket: WebSocket;
  #marker = 0;
  #waiting: { marker: string; resolve: () => void } | undefined;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.on('message', (data) => {
      const parsed = parseServerMessage(String(data));
      assert.ok(parsed.ok, `the relay sent an invalid frame: ${String(data)}`);
      const m = parsed.value;
      if (m.type === 'error' && this.#waiting && m.message.includes(this.#waiting.marker)) {
        const { resolve } = this.#waiting;
        this.#waiting = undefined;
        resolve();
        return;
      }
      this.log.push(m);
    });
  }

  static async open(url: string): Promise<LogClient> {
    const socket = await openWebSocket(url);
    return new LogClient(socket);
  }

  send(message: unknown): void {
    this.#socket.send(JSON.stringify(message));
  }

  /**
   * Sends `message` (if any) and then a barrier, in one write, and resolves once the relay answered the barrier:
   * everything the relay handled from this client before it is done and its answers have arrived.
   */
  sendThenBarrier(message?: unknown): Promise<void> {
    const marker = `barrier-${++this.#marker}`;
    const done = new Promise<void>((resolve) => {
      this.#waiting = { marker: JSON.stringify(marker), resolve };
    });
    // One TCP write for both frames: system calls are what these thousands of round trips cost most.
    const tcp = (this.#socket as unknown as { _socket: Socket })._socket;
    tcp.cork();
    if (message !== undefined) this.send(message);
    this.send({ type: marker });
    process.nextTick(() => tcp.uncork());
    return withTimeout(done, WAIT_MS, 'barrier');
  }

  barrier(): Promise<void> {
    return this.sendThenBarrier();
  }

  async close(): Promise<void> {
    const closed = new Promise((resolve) => this.#socket.once('close', resolve));
    this.#socket.close(1000);
    await withTimeout(closed, WAIT_MS, 'close');
  }
}

/** The model: who is where, with which ID, and what each client must have received. */
interface ClientModel {
  socket: LogClient;
  id: string | undefined;
  room: number | undefined;
  name: string;
  /** When it joined (a counter): the relay lists peers in joining order. */
  joinedAt: number;
  /** Messages predicted for the current socket, in order. */
  expected: Expected[];
}

/** A predicted message; for a welcome, the resume secret and ICE servers are not predicted. */
type Expected = ServerMessage;

let sequenceCounter = 0;

/** Runs one sequence on a pool of clients (all not joined at the start), checks it, and leaves the pool clean. */
async function runSequence(url: string, pool: LogClient[], ops: readonly Op[]): Promise<{ checkedMessages: number }> {
  const tag = `s${++sequenceCounter}`;
  const roomName = (r: number): string => `${tag}-r${r}`;
  const clients: ClientModel[] = pool.map((socket) => ({
    socket,
    id: undefined,
    room: undefined,
    name: '',
    joinedAt: 0,
    expected: [],
  }));
  const pastIds: string[] = [];
  let checked = 0;
  let seq = 0;

  let joins = 0;
  const members = (room: number): ClientModel[] =>
    clients.filter((c) => c.room === room).sort((a, b) => a.joinedAt - b.joinedAt);
  /** Compares a client's log with its prediction and starts both afresh (before its socket is replaced). */
  const verify = (c: ClientModel, when: string): void => {
    const actual = c.socket.log
      .splice(0)
      .map((m) =>
        m.type === 'welcome' ? { type: m.type, id: m.id, room: m.room, peers: m.peers, iceServers: [] } : m,
      );
    assert.deepEqual(
      actual,
      c.expected.splice(0),
      `${tag} ${when}: client ${clients.indexOf(c)} received exactly what the model predicts`,
    );
    checked += actual.length;
  };
  const depart = (c: ClientModel): void => {
    const room = c.room;
    const id = c.id;
    c.room = undefined;
    c.id = undefined;
    if (room === undefined || id === undefined) return;
    pastIds.push(id);
    for (const other of members(room)) other.expected.push({ type: 'peer-left', id });
  };

  for (const op of ops) {
    const c = clients[op.client] as ClientModel;
    switch (op.op) {
      case 'join': {
        await c.socket.sendThenBarrier({ type: 'join', room: roomName(op.room), name: op.name });
        if (c.room !== undefined) {
          c.expected.push({
            type: 'error',
            code: 'already-joined',
            message: `already in room ${JSON.stringify(roomName(c.room))}; send leave first`,
          });
          break;
        }
        const present = members(op.room);
        if (present.length >= CAPACITY) {
          c.expected.push({
            type: 'error',
            code: 'room-full',
            message: `room ${JSON.stringify(roomName(op.room))} is full (${CAPACITY} participants)`,
          });
          break;
        }
        const welcome = c.socket.log.at(-1);
        assert.ok(welcome?.type === 'welcome', `${tag}: a welcome for a join to a room with space`);
        c.id = welcome.id;
        c.room = op.room;
        c.name = op.name;
        c.joinedAt = ++joins;
        c.expected.push({
          type: 'welcome',
          id: welcome.id,
          room: roomName(op.room),
          peers: present.map((p) => ({ id: p.id as string, name: p.name })),
          iceServers: [],
        });
        for (const other of present)
          other.expected.push({ type: 'peer-joined', peer: { id: welcome.id, name: op.name } });
        break;
      }
      case 'signal': {
        const to =
          op.to.kind === 'client'
            ? clients[op.to.index]?.id
            : op.to.kind === 'self'
              ? c.id
              : op.to.kind === 'past'
                ? pastIds[op.to.index % Math.max(1, pastIds.length)]
                : 'madeUpIdThatNobodyHas0';
        const target = clients.find((o) => o.id !== undefined && o.id === to);
        const data = { seq: ++seq, by: op.client };
        // A forged sender: the relay must ignore it and stamp the real one.
        const forged = clients[op.spoof]?.id ?? 'forged';
        await c.socket.sendThenBarrier({ type: 'signal', to: to ?? 'nobodyAtAll', from: forged, data });
        if (c.id === undefined) {
          c.expected.push({ type: 'error', code: 'not-joined', message: 'join a room before sending signal' });
        } else if (!target || target === c || target.room !== c.room) {
          c.expected.push({
            type: 'error',
            code: 'unknown-peer',
            message: `no other peer ${JSON.stringify(to ?? 'nobodyAtAll')} in this room`,
          });
        } else {
          target.expected.push({ type: 'signal', from: c.id, data });
        }
        break;
      }
      case 'leave': {
        await c.socket.sendThenBarrier({ type: 'leave' });
        if (c.room === undefined)
          c.expected.push({ type: 'error', code: 'not-joined', message: 'join a room before sending leave' });
        else depart(c);
        break;
      }
      case 'close': {
        // Closing on purpose (1000) leaves at once. The client reconnects with a fresh socket.
        await c.socket.close();
        depart(c);
        verify(c, 'before its socket closed');
        const fresh = await LogClient.open(url);
        pool[op.client] = fresh;
        c.socket = fresh;
        // The others must have handled the departure before the next operation: a barrier on each of them.
        await Promise.all(clients.filter((o) => o !== c).map((o) => o.socket.barrier()));
        break;
      }
    }
  }

  // Every message sent to anyone has arrived once each client passed a barrier.
  await Promise.all(clients.map((c) => c.socket.barrier()));
  for (const c of clients) {
    // Each client's view of its room, rebuilt from what it received, is the model's room.
    if (c.room !== undefined) {
      const view = new Map<string, string>();
      for (const m of c.socket.log) {
        // A welcome starts a new membership: what came before was about an earlier room.
        if (m.type === 'welcome') {
          view.clear();
          for (const p of m.peers) view.set(p.id, p.name);
        }
        if (m.type === 'peer-joined') view.set(m.peer.id, m.peer.name);
        if (m.type === 'peer-left') view.delete(m.id);
      }
      const model = members(c.room).filter((o) => o !== c);
      assert.deepEqual([...view.keys()].sort(), model.map((o) => o.id as string).sort(), `${tag}: membership view`);
    }
    verify(c, 'at the end');
  }
  // Clean up for the next sequence: everyone leaves (nobody is left to hear it).
  // A leaver's barrier follows its leave, so any peer-left still owed to it has arrived when the barrier returns.
  await Promise.all(clients.map((c) => c.socket.sendThenBarrier(c.room === undefined ? undefined : { type: 'leave' })));
  for (const c of clients) c.socket.log.splice(0);
  return { checkedMessages: checked };
}

describe('property: routing across rooms (fast-check, real relay over loopback)', () => {
  it(
    `${RUNS * PARALLEL} random join/signal/leave/close sequences: no cross-room delivery, no spoofed sender, consistent membership`,
    { timeout: 240_000 },
    async () => {
      // The relay in its own process: it gets the second core, and a crash would show as an exit.
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
        '--log-level',
        'warn',
      ]);
      const pools = await Promise.all(
        Array.from({ length: PARALLEL }, () =>
          Promise.all(Array.from({ length: CLIENTS }, () => LogClient.open(e.wsUrl))),
        ),
      );
      let sequences = 0;
      let operations = 0;
      let messages = 0;
      const started = Date.now();
      try {
        await fc.assert(
          fc.asyncProperty(fc.array(sequence, { minLength: PARALLEL, maxLength: PARALLEL }), async (batch) => {
            const results = await Promise.all(
              batch.map((ops, i) => runSequence(e.wsUrl, pools[i] as LogClient[], ops)),
            );
            sequences += batch.length;
            operations += batch.reduce((n, ops) => n + ops.length, 0);
            messages += results.reduce((n, r) => n + r.checkedMessages, 0);
            // Every room is empty again after each batch: the relay's own counts agree with the model.
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
      assert.equal(e.stderr(), '', 'no warning or error logged');
      const seconds = (Date.now() - started) / 1000;
      // The figures go to the test output (and into the note).
      process.stdout.write(
        `property: ${sequences} sequences, ${operations} operations, ${messages} messages checked, ` +
          `${seconds.toFixed(1)} s\n`,
      );
      assert.ok(sequences >= RUNS * PARALLEL);
    },
  );
});
