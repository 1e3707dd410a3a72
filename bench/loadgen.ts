/**
 * Child process of the relay benchmarks: the load generator. It opens client pairs against a relay (rooms of two),
 * and sends ~1 KB `signal` messages to each client's partner, either as fast as the relay takes them (a bounded
 * window of messages in flight per direction) or at a fixed offered rate (open loop: the schedule does not wait for
 * the relay). Every message carries its send time; since both ends of every pair live in this process, the one-way
 * latency through the relay is measured on one clock.
 *
 * Started by the runner (bench/procs.ts) as `node lib/bench/loadgen.js`, driven over IPC:
 * - `connect { session, kind, port, pairs, port2? }`: adds `pairs` joined pairs to a session (created on first use);
 *   with `port2` the second client of each pair joins there (another relay process sharing rooms through Redis);
 * - `run { session, mode, rate?, window?, warmupMs, measureMs, relayPid, extraPids? }`: one measurement, see
 *   {@link RunResult} (CPU summed over `relayPid` and `extraPids`);
 * - `close { session }`: drops every connection of the session.
 *
 * The generator speaks our protocol to `ours` and `baseline` and PeerJS's to `peerjs` (the "protocol adapter":
 * connect with `?key&id&token`, wait for `OPEN`, send `{type:'CANDIDATE', dst, payload}`, receive `{…, src}`).
 * It masks its frames with a zero mask (RFC 6455 allows any mask; ws then skips the XOR), so that more of this
 * core is left for the relay to be the bottleneck.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { procCpuMicros, serveIpc } from './procs.js';
import type { RelayKind } from './relay-server.js';
import { quantileSorted, sleep, withTimeout } from './util.js';

/** Size of every `signal` frame a client sends, in bytes. */
export const MESSAGE_BYTES = 1024;
/** Width of the timestamp field (µs since this process started, zero-padded). */
const T_WIDTH = 12;
const T_MARK = Buffer.from('"t":"');

interface Client {
  socket: WebSocket;
  id: string;
  partner: Client | undefined;
  /** The frame up to the timestamp, and after it. */
  head: string;
  tail: string;
}

interface Session {
  kind: RelayKind;
  port: number;
  /** Where the second client of each pair connects (another relay process of a cluster); default {@link port}. */
  port2: number | undefined;
  clients: Client[];
  /** Frames that were neither a relayed signal nor an expected control message (errors, unexpected types). */
  unexpected: number;
  lastUnexpected: string;
}

/** The outcome of one `run`. Latencies in ms; CPU in µs. */
export interface RunResult {
  /** Messages delivered to their addressee during the measured window. */
  received: number;
  /** Messages sent during the measured window. */
  sent: number;
  windowMs: number;
  msgsPerSec: number;
  p50: number;
  p99: number;
  /** Relay CPU time (user + system) during the window, per delivered message. */
  relayCpuPerMsgUs: number;
  /** Relay CPU time during the window / the window: 1 = one full core. */
  relayCores: number;
  /** This generator's CPU time during the window / the window. */
  generatorCores: number;
  /** Messages sent during the run that never arrived (after a drain of up to 3 s). */
  lost: number;
  unexpected: number;
  lastUnexpected: string;
}

const sessions = new Map<string, Session>();
/** Latencies (ms) of the current run's window; allocated once (at most 4 M samples are kept). */
const latencies = new Float64Array(4_000_000);
const nowUs = (): number => Math.round(performance.now() * 1000);

function frameParts(kind: RelayKind, to: string): { head: string; tail: string } {
  const head =
    kind === 'peerjs'
      ? `{"type":"CANDIDATE","dst":${JSON.stringify(to)},"payload":{"t":"`
      : `{"type":"signal","to":${JSON.stringify(to)},"data":{"t":"`;
  const rest = `","p":"`;
  const end = '"}}';
  const pad = MESSAGE_BYTES - head.length - T_WIDTH - rest.length - end.length;
  return { head, tail: `${rest}${'x'.repeat(Math.max(0, pad))}${end}` };
}

// ---- per-run state, shared by every session's message handler ----

let onDelivery: ((to: Client, sentAtUs: number) => void) | undefined;

function handleFrame(session: Session, client: Client, data: Buffer): void {
  const at = data.indexOf(T_MARK);
  if (at !== -1) {
    const sentAt = Number(data.toString('latin1', at + T_MARK.length, at + T_MARK.length + T_WIDTH));
    onDelivery?.(client, sentAt);
    return;
  }
  const text = data.toString('utf8');
  // Control traffic during setup is expected; anything else is counted (and the last one kept) for the report.
  if (/^\{"type":"(welcome|peer-joined|OPEN)"/.test(text)) return;
  session.unexpected += 1;
  session.lastUnexpected = text.slice(0, 200);
}

/**
 * Opens a client socket; resolves once it is open, with a promise of its first text frame that `match` accepts
 * (parsed JSON). The frame listener is attached before the handshake completes: a server may send right away (PeerJS
 * sends `OPEN` immediately) and ws can deliver that frame before a promise continuation would attach one.
 */
function openSocket(
  url: string,
  match: (m: Record<string, unknown>) => boolean,
  what: string,
): Promise<{ socket: WebSocket; frame: Promise<Record<string, unknown>> }> {
  const socket = new WebSocket(url, {
    perMessageDeflate: false,
    skipUTF8Validation: true,
    generateMask: (mask) => mask.fill(0),
  });
  socket.on('error', () => {});
  const frame = withTimeout(
    new Promise<Record<string, unknown>>((resolve) => {
      const listener = (data: Buffer): void => {
        let m: Record<string, unknown>;
        try {
          m = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
        } catch {
          return;
        }
        if (match(m)) {
          socket.off('message', listener);
          resolve(m);
        }
      };
      socket.on('message', listener);
    }),
    15_000,
    what,
  );
  frame.catch(() => undefined);
  return withTimeout(
    new Promise((resolve, reject) => {
      socket.once('open', () => resolve({ socket, frame }));
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('closed while connecting')));
    }),
    15_000,
    `connecting to ${url}`,
  );
}

function makeClient(session: Session, socket: WebSocket, id: string): Client {
  const client: Client = { socket, id, partner: undefined, head: '', tail: '' };
  socket.on('message', (data: Buffer) => handleFrame(session, client, data));
  return client;
}

function pairUp(kind: RelayKind, a: Client, b: Client): void {
  a.partner = b;
  b.partner = a;
  ({ head: a.head, tail: a.tail } = frameParts(kind, b.id));
  ({ head: b.head, tail: b.tail } = frameParts(kind, a.id));
}

let roomCounter = 0;

async function connectPair(session: Session): Promise<void> {
  const base = `ws://127.0.0.1:${session.port}`;
  const n = roomCounter++;
  if (session.kind === 'peerjs') {
    const ids = [`p${process.pid}x${n}a`, `p${process.pid}x${n}b`];
    const clients = await Promise.all(
      ids.map(async (id) => {
        const token = randomBytes(8).toString('hex');
        const { socket, frame } = await openSocket(
          `${base}/peerjs?key=peerjs&id=${id}&token=${token}`,
          (m) => m['type'] === 'OPEN',
          `${id}: OPEN`,
        );
        await frame;
        return makeClient(session, socket, id);
      }),
    );
    pairUp(session.kind, clients[0] as Client, clients[1] as Client);
    session.clients.push(...clients);
    return;
  }
  const room = `bench-${process.pid}-${n}`;
  const join = async (url: string): Promise<{ socket: WebSocket; welcome: Record<string, unknown> }> => {
    const { socket, frame } = await openSocket(`${url}/`, (m) => m['type'] === 'welcome', `${room}: welcome`);
    socket.send(JSON.stringify({ type: 'join', room, name: 'bench' }));
    return { socket, welcome: await frame };
  };
  const first = await join(base);
  const second = await join(session.port2 === undefined ? base : `ws://127.0.0.1:${session.port2}`);
  const a = makeClient(session, first.socket, first.welcome['id'] as string);
  const b = makeClient(session, second.socket, second.welcome['id'] as string);
  pairUp(session.kind, a, b);
  session.clients.push(a, b);
}

async function connect(
  name: string,
  kind: RelayKind,
  port: number,
  pairs: number,
  port2?: number,
): Promise<{ clients: number; ms: number }> {
  const started = performance.now();
  let session = sessions.get(name);
  if (!session) {
    session = { kind, port, port2, clients: [], unexpected: 0, lastUnexpected: '' };
    sessions.set(name, session);
  }
  const s = session;
  let next = 0;
  // At most 100 pairs handshaking at once: the listen backlog and the relay's accept loop stay unflooded.
  await Promise.all(
    Array.from({ length: Math.min(100, pairs) }, async () => {
      while (next < pairs) {
        next += 1;
        await connectPair(s);
      }
    }),
  );
  return { clients: s.clients.length, ms: performance.now() - started };
}

function send(from: Client): void {
  const t = String(nowUs()).padStart(T_WIDTH, '0');
  from.socket.send(from.head + t + from.tail);
}

async function run(args: Record<string, unknown>): Promise<RunResult> {
  const session = sessions.get(String(args['session']));
  if (!session) throw new Error(`no session ${String(args['session'])}`);
  const mode = String(args['mode']);
  const warmupMs = Number(args['warmupMs']);
  const measureMs = Number(args['measureMs']);
  // The relay's process, plus (a cluster) the other relay processes and redis-server: their CPU is summed.
  const relayPids = [Number(args['relayPid']), ...((args['extraPids'] as number[] | undefined) ?? [])];
  const relayCpu = (): number => relayPids.reduce((sum, pid) => sum + procCpuMicros(pid), 0);
  const clients = session.clients;
  session.unexpected = 0;
  session.lastUnexpected = '';

  let sending = true;
  let recording = false;
  let sentTotal = 0;
  let receivedTotal = 0;
  let sentInWindow = 0;
  let receivedInWindow = 0;
  let nLat = 0;

  const sendCounted = (from: Client): void => {
    send(from);
    sentTotal += 1;
    if (recording) sentInWindow += 1;
  };

  const window = Math.max(1, Number(args['window'] ?? 1));
  onDelivery = (to, sentAtUs) => {
    receivedTotal += 1;
    if (recording) {
      receivedInWindow += 1;
      if (nLat < latencies.length) latencies[nLat++] = (nowUs() - sentAtUs) / 1000;
    }
    // Closed loop: every delivery lets its sender put the next message of that direction in flight.
    if (mode === 'saturate' && sending && to.partner) sendCounted(to.partner);
  };

  let ticker: NodeJS.Timeout | undefined;
  const started = performance.now();
  if (mode === 'saturate') {
    for (const c of clients) for (let i = 0; i < window; i++) sendCounted(c);
  } else {
    const rate = Number(args['rate']);
    let next = 0;
    const tick = (): void => {
      if (!sending) return;
      const due = Math.floor(((performance.now() - started) * rate) / 1000) - sentTotal;
      // Open loop, but a stall of this process must not turn into one giant burst: at most 20 ms worth per tick.
      const burst = Math.min(due, Math.ceil(rate / 50));
      for (let i = 0; i < burst; i++) {
        sendCounted(clients[next] as Client);
        next = (next + 1) % clients.length;
      }
      ticker = setTimeout(tick, 1);
    };
    tick();
  }

  await sleep(warmupMs);
  recording = true;
  const t0 = performance.now();
  const relay0 = relayCpu();
  const gen0 = process.cpuUsage();
  await sleep(measureMs);
  const relay1 = relayCpu();
  const gen = process.cpuUsage(gen0);
  const t1 = performance.now();
  recording = false;
  sending = false;
  if (ticker) clearTimeout(ticker);

  // Drain: wait for what is in flight, so the next run starts from an idle relay.
  const drainUntil = performance.now() + 3_000;
  while (receivedTotal < sentTotal && performance.now() < drainUntil) await sleep(10);
  onDelivery = undefined;

  const windowMs = t1 - t0;
  const sorted = latencies.subarray(0, nLat).sort();
  return {
    received: receivedInWindow,
    sent: sentInWindow,
    windowMs,
    msgsPerSec: (receivedInWindow * 1000) / windowMs,
    p50: quantileSorted(sorted, 0.5),
    p99: quantileSorted(sorted, 0.99),
    relayCpuPerMsgUs: receivedInWindow > 0 ? (relay1 - relay0) / receivedInWindow : NaN,
    relayCores: (relay1 - relay0) / 1000 / windowMs,
    generatorCores: (gen.user + gen.system) / 1000 / windowMs,
    lost: sentTotal - receivedTotal,
    unexpected: session.unexpected,
    lastUnexpected: session.lastUnexpected,
  };
}

function close(name: string): void {
  const session = sessions.get(name);
  sessions.delete(name);
  for (const c of session?.clients ?? []) c.socket.terminate();
}

serveIpc(async (cmd, args) => {
  switch (cmd) {
    case 'connect':
      return connect(
        String(args['session']),
        args['kind'] as RelayKind,
        Number(args['port']),
        Number(args['pairs']),
        args['port2'] === undefined ? undefined : Number(args['port2']),
      );
    case 'run':
      return run(args);
    case 'close':
      close(String(args['session']));
      return null;
    default:
      throw new Error(`unknown command ${cmd}`);
  }
});
process.send?.({ ready: true });
