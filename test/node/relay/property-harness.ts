/**
 * The model-based harness of the routing property tests (`property.test.ts` against one relay process,
 * `property-cluster.test.ts` against relay processes sharing a Redis): the operations fast-check generates, a client
 * that logs every message, and {@link runSequence}, which plays one sequence and checks every client's log against the
 * model's prediction. See `property.test.ts` for what is checked.
 * @module
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { parseServerMessage, type ServerMessage } from '../../../src/protocol/relay.js';
import { openWebSocket, withTimeout, WAIT_MS } from './helpers.js';

export const CLIENTS = 6;
export const ROOMS = 3;
export const CAPACITY = 3;
/** Sequences run at once, each on its own client pool and rooms. */
export const PARALLEL = 10;

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
export const sequence = fc.array(opArb, { minLength: 1, maxLength: 30, size: 'max' });

/** A bare client: every message in arrival order, and a barrier. */
export class LogClient {
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
export async function runSequence(
  url: string | ((client: number) => string),
  pool: LogClient[],
  ops: readonly Op[],
  settle: () => Promise<void> = () => Promise.resolve(),
): Promise<{ checkedMessages: number }> {
  const urlOf = typeof url === 'string' ? () => url : url;
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
    // Effects of the previous operation that travel between relay processes have all arrived (a no-op in one).
    await settle();
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
        const fresh = await LogClient.open(urlOf(op.client));
        pool[op.client] = fresh;
        c.socket = fresh;
        // The others must have handled the departure before the next operation: a barrier on each of them.
        await Promise.all(clients.filter((o) => o !== c).map((o) => o.socket.barrier()));
        break;
      }
    }
  }

  // Every message sent to anyone has arrived once each client passed a barrier.
  await settle();
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
  await settle();
  for (const c of clients) c.socket.log.splice(0);
  return { checkedMessages: checked };
}
