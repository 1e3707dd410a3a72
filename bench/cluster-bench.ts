/**
 * Benchmark 7: rooms shared by two relay processes through Redis (issue 11), against one relay process, in the same
 * run, interleaved.
 *
 * - **CPU per message and one-way latency**: 100 pairs (rooms of two) send 1 KB `signal`s through (a) one relay
 *   without Redis, (b) two relays sharing a redis-server with both members of each pair on the same relay ("same
 *   process"), (c) the same two relays with the members on different relays ("cross process"). CPU is summed over
 *   every server process of the setup (both relays and redis-server for b and c), per delivered message; the result
 *   is the ratio to (a), per round, median over the rounds.
 *   The saturating row is followed by one at the rate the cross-process setup delivered when saturated, all three
 *   setups driven at it: the ratio at equal delivered rates, beside the saturating one.
 * - **Join latency** (`join` → `welcome`) when 50 clients join at once (10 rooms of 5), one relay vs two relays
 *   sharing Redis (clients alternating between them).
 * - **Failover**: a relay SIGKILLed → every affected client resumed on the other relay (they reconnect at once, as
 *   behind a load balancer); the time to `peer-left` for one that never returns (lease + sweep + grace). redis-server
 *   SIGKILLed and restarted empty → time until a cross-process signal is delivered again, and how many were dropped.
 *
 * Relays and redis-server run pinned to CPU 1, the load generator to CPU 0 (bench/procs.ts).
 *
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import type { RunResult } from './loadgen.js';
import { canPin, spawnNode, type NodeChild } from './procs.js';
import { startLoadGenerator } from './relay-bench.js';
import { loadNow, runNote, SECTION_TITLES, type Section } from './report.js';
import { fmt, median, progress, quantileSorted, sleep, withTimeout } from './util.js';

const PAIRS = 100;
interface Load {
  label: string;
  mode: 'rate' | 'saturate';
  rate?: number;
}
const LOADS: readonly Load[] = [
  { label: '2,000 msg/s', mode: 'rate', rate: 2000 },
  { label: '10,000 msg/s', mode: 'rate', rate: 10_000 },
  { label: 'saturating', mode: 'saturate' },
];
/**
 * The saturating row compares CPU per message at different delivered rates (the cross-process setup saturates far
 * below the others, and a relay's cost per message falls as its load rises: ws and the kernel batch more). This row
 * drives all three setups at the rate the cross-process setup delivered when saturated (median of its runs), so the
 * ratio is also read at equal delivered rates, beside the saturating row.
 */
const EQUAL_LABEL = 'at the saturated cross rate';
type Setup = 'single' | 'same' | 'cross';
const SETUPS: readonly Setup[] = ['single', 'same', 'cross'];
const NAMES: Record<Setup, string> = {
  single: 'one relay, no Redis',
  same: 'two relays + Redis, pair on one relay',
  cross: 'two relays + Redis, pair across relays',
};
const ROUNDS = 3;
const WARMUP_MS = 300;
const MEASURE_MS = 1200;
const JOINS = 50;
const JOIN_ROUNDS = 5;
/** Cluster timings of the failover runs: the defaults (lease 5 s, sweep 1 s, grace 15 s). */
const LEASE_MS = 5000;
const SWEEP_MS = 1000;
const GRACE_MS = 15_000;

/** A redis-server on a Unix socket in a temporary directory, pinned like the relays. */
export interface Redis {
  url: string;
  pid: number;
  kill(): Promise<void>;
  start(): Promise<void>;
  remove(): void;
}

export async function startRedis(): Promise<Redis> {
  const dir = mkdtempSync(join(tmpdir(), 'video-chat-bench-redis-'));
  const socket = join(dir, 'redis.sock');
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const args = ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no'];
    const command = canPin() ? ['taskset', '-c', '1', 'redis-server', ...args] : ['redis-server', ...args];
    child = spawn(command[0] as string, command.slice(1), { stdio: 'ignore', cwd: dir });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const pong = await new Promise<boolean>((resolve) => {
        const cli = spawn('redis-cli', ['-s', socket, 'PING'], { stdio: ['ignore', 'pipe', 'ignore'] });
        let out = '';
        cli.stdout.on('data', (d: Buffer) => (out += String(d)));
        cli.on('exit', () => resolve(out.trim() === 'PONG'));
      });
      if (pong) return;
      if (Date.now() > deadline) throw new Error('redis-server did not start');
      await sleep(10);
    }
  };
  await start();
  return {
    url: `unix://${socket}`,
    get pid() {
      return child?.pid ?? -1;
    },
    async kill() {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await withTimeout(exited, 10_000, 'redis-server exit');
    },
    start,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A relay as the relay benchmark runs it (bench/relay-server.ts, limits lifted), optionally sharing `redisUrl`. */
export async function startBenchRelay(
  root: string,
  redisUrl?: string,
  nodeArgs: readonly string[] = [],
): Promise<{ child: NodeChild; port: number }> {
  const env = { ...process.env, BENCH_REDIS_URL: redisUrl ?? '' };
  const child = spawnNode(join(root, 'lib/bench/relay-server.js'), ['ours'], { cpu: 1, env, nodeArgs });
  const ready = await child.waitForMessage<{ port: number }>((m) => m['ready'] === true, 20_000, 'relay start');
  return { child, port: ready.port };
}

/** A relay CLI process (for the failover runs: SIGKILL must hit the real thing). */
interface CliRelay {
  child: ChildProcess;
  url: string;
  kill(): Promise<void>;
}

async function startCliRelay(root: string, redisUrl: string): Promise<CliRelay> {
  const args = [
    join(root, 'lib/server/src/cli.js'),
    ...['--port', '0', '--host', '127.0.0.1', '--redis-url', redisUrl, '--log-level', 'error'],
    ...['--max-connections-per-ip', '0', '--node-lease-ms', String(LEASE_MS), '--sweep-interval-ms', String(SWEEP_MS)],
    ...['--resume-grace-ms', String(GRACE_MS)],
  ];
  const command = canPin() ? ['taskset', '-c', '1', process.execPath, ...args] : [process.execPath, ...args];
  const child = spawn(command[0] as string, command.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const url = await withTimeout(
    new Promise<string>((resolve, reject) => {
      child.stdout?.on('data', (d: Buffer) => {
        out += String(d);
        const m = /listening on http:\/\/(127\.0\.0\.1:\d+)\//.exec(out);
        if (m?.[1]) resolve(`ws://${m[1]}/`);
      });
      child.once('exit', (code) => reject(new Error(`relay exited with ${code}`)));
    }),
    20_000,
    'relay start',
  );
  return {
    child,
    url,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await withTimeout(exited, 10_000, 'relay exit');
    },
  };
}

/** A bare protocol client of the failover and join runs. */
class Client {
  readonly messages: Record<string, unknown>[] = [];
  readonly closed: Promise<void>;
  #listeners = new Set<(m: Record<string, unknown>) => void>();
  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      const m = JSON.parse(String(data)) as Record<string, unknown>;
      this.messages.push(m);
      for (const l of this.#listeners) l(m);
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }
  static async open(url: string): Promise<Client> {
    const socket = new WebSocket(url);
    socket.on('error', () => {});
    await withTimeout(once(socket, 'open'), 10_000, 'connect');
    return new Client(socket);
  }
  send(m: unknown): void {
    this.socket.send(JSON.stringify(m));
  }
  next(type: string, ms = 30_000): Promise<Record<string, unknown>> {
    const found = this.messages.find((m) => m['type'] === type);
    if (found) {
      this.messages.splice(this.messages.indexOf(found), 1);
      return Promise.resolve(found);
    }
    return withTimeout(
      new Promise((resolve) => {
        const l = (m: Record<string, unknown>): void => {
          if (m['type'] !== type) return;
          this.#listeners.delete(l);
          this.messages.splice(this.messages.indexOf(m), 1);
          resolve(m);
        };
        this.#listeners.add(l);
      }),
      ms,
      `waiting for ${type}`,
    );
  }
}

interface Row {
  load: string;
  setup: Setup;
  runs: RunResult[];
}

export async function benchCluster(root: string): Promise<Section> {
  const startedAt = new Date();
  const rows: Row[] = [];
  const redis = await startRedis();
  const gen = await startLoadGenerator(root);
  const relays: { child: NodeChild; port: number }[] = [];
  const joinLatency: Record<'single' | 'cluster', number[][]> = { single: [], cluster: [] };
  let failover: Record<string, number> = {};
  try {
    const single = await startBenchRelay(root);
    const a = await startBenchRelay(root, redis.url);
    const b = await startBenchRelay(root, redis.url);
    relays.push(single, a, b);
    const pids: Record<Setup, { relayPid: number; extraPids: number[] }> = {
      single: { relayPid: single.child.pid, extraPids: [] },
      same: { relayPid: a.child.pid, extraPids: [b.child.pid, redis.pid] },
      cross: { relayPid: a.child.pid, extraPids: [b.child.pid, redis.pid] },
    };
    await gen.request('connect', { session: 'single', kind: 'ours', port: single.port, pairs: PAIRS }, 120_000);
    await gen.request('connect', { session: 'same', kind: 'ours', port: a.port, pairs: PAIRS }, 120_000);
    await gen.request(
      'connect',
      { session: 'cross', kind: 'ours', port: a.port, port2: b.port, pairs: PAIRS },
      120_000,
    );
    const loads = [...LOADS];
    for (let l = 0; l < loads.length; l++) {
      const load = loads[l] as Load;
      const bySetup = new Map<Setup, Row>(SETUPS.map((setup) => [setup, { load: load.label, setup, runs: [] }]));
      for (let round = 0; round < ROUNDS; round++) {
        for (let i = 0; i < SETUPS.length; i++) {
          const setup = SETUPS[(i + round) % SETUPS.length] as Setup;
          const result = await gen.request<RunResult>(
            'run',
            {
              session: setup,
              mode: load.mode,
              rate: load.rate,
              window: Math.max(1, Math.round(2000 / (2 * PAIRS))),
              warmupMs: WARMUP_MS,
              measureMs: MEASURE_MS,
              ...pids[setup],
            },
            60_000,
          );
          bySetup.get(setup)?.runs.push(result);
          progress(
            `cluster: ${load.label}, ${setup}: ${fmt(result.msgsPerSec)} msg/s, p50 ${fmt(result.p50)} ms, ` +
              `p99 ${fmt(result.p99)} ms, ${fmt(result.relayCpuPerMsgUs)} µs/msg` +
              (result.lost > 0 ? `, ${result.lost} lost` : '') +
              (result.unexpected > 0 ? `, ${result.unexpected} unexpected (${result.lastUnexpected})` : ''),
          );
        }
      }
      rows.push(...bySetup.values());
      const crossRuns = bySetup.get('cross')?.runs ?? [];
      if (load.mode === 'saturate' && crossRuns.length > 0) {
        const rate = Math.round(median(crossRuns.map((r) => r.msgsPerSec)));
        if (rate > 0) loads.push({ label: `${EQUAL_LABEL} (${fmt(rate)} msg/s)`, mode: 'rate', rate });
      }
    }
    for (const s of SETUPS) await gen.request('close', { session: s }).catch(() => undefined);

    // Join latency under 50 simultaneous joins, interleaved.
    for (let round = 0; round < JOIN_ROUNDS; round++) {
      for (const kind of round % 2 === 0 ? (['single', 'cluster'] as const) : (['cluster', 'single'] as const)) {
        const ports = kind === 'single' ? [single.port] : [a.port, b.port];
        const times = await simultaneousJoins(ports, `j${round}${kind}`);
        joinLatency[kind].push(times);
        progress(`cluster: ${JOINS} joins, ${kind}: p50 ${fmt(median(times))} ms`);
      }
    }
    for (const r of relays) await r.child.kill();
    relays.length = 0;
    failover = await measureFailover(root, redis);
  } finally {
    for (const r of relays) await r.child.kill();
    await gen.kill();
    await redis.kill();
    redis.remove();
  }
  const note = runNote(startedAt, (Date.now() - startedAt.getTime()) / 1000);
  return { id: 'cluster', markdown: render(rows, joinLatency, failover, note) };
}

/** 50 clients (alternating over `ports`) send `join` at once (10 rooms of 5): each one's join → welcome time, ms. */
async function simultaneousJoins(ports: number[], tag: string): Promise<number[]> {
  const clients = await Promise.all(
    Array.from({ length: JOINS }, (_, i) => Client.open(`ws://127.0.0.1:${ports[i % ports.length]}/`)),
  );
  try {
    const started = clients.map(() => 0);
    const welcomed = clients.map((c) => c.next('welcome'));
    clients.forEach((c, i) => {
      started[i] = performance.now();
      c.send({ type: 'join', room: `${tag}-${i % 10}`, name: 'j' });
    });
    const times = await Promise.all(welcomed.map(async (w, i) => (await w, performance.now() - (started[i] ?? 0))));
    return times.sort((x, y) => x - y);
  } finally {
    for (const c of clients) c.socket.terminate();
  }
}

/** Relay SIGKILL and Redis restart, on two CLI relays with the default lease, sweep and grace. */
async function measureFailover(root: string, redis: Redis): Promise<Record<string, number>> {
  const a = await startCliRelay(root, redis.url);
  const b = await startCliRelay(root, redis.url);
  const clients: Client[] = [];
  try {
    // 10 rooms of two, one member on each relay, plus one room whose b member never returns.
    const pairs: { onA: Client; onB: Client; idA: string; idB: string; secretB: string; room: string }[] = [];
    for (let i = 0; i < 11; i++) {
      const room = `f${i}`;
      const onA = await Client.open(a.url);
      const onB = await Client.open(b.url);
      clients.push(onA, onB);
      onA.send({ type: 'join', room });
      const wa = await onA.next('welcome');
      onB.send({ type: 'join', room });
      const wb = await onB.next('welcome');
      await onA.next('peer-joined');
      pairs.push({ onA, onB, idA: String(wa['id']), idB: String(wb['id']), secretB: String(wb['resume']), room });
    }
    const killedAt = performance.now();
    await b.kill();
    // Each affected client reconnects at once to the living relay (a load balancer skips the dead one) and resumes.
    const resumed = await Promise.all(
      pairs.slice(0, 10).map(async (p) => {
        await p.onB.closed;
        const c = await Client.open(a.url);
        clients.push(c);
        c.send({ type: 'join', room: p.room, resume: { id: p.idB, secret: p.secretB } });
        await c.next('welcome');
        return performance.now() - killedAt;
      }),
    );
    const lonely = pairs[10];
    const left = lonely ? await lonely.onA.next('peer-left', LEASE_MS + SWEEP_MS + GRACE_MS + 10_000) : undefined;
    const peerLeftMs = left ? performance.now() - killedAt : NaN;
    const spurious = pairs.slice(0, 10).filter((p) => p.onA.messages.some((m) => m['type'] === 'peer-left')).length;

    // Redis restart: a's member of room f0 signals b's (now on a too, so use a fresh pair across relays).
    const b2 = await startCliRelay(root, redis.url);
    try {
      const x = await Client.open(a.url);
      const y = await Client.open(b2.url);
      clients.push(x, y);
      x.send({ type: 'join', room: 'rr' });
      await x.next('welcome');
      y.send({ type: 'join', room: 'rr' });
      const wy = await y.next('welcome');
      let sent = 0;
      let received = 0;
      let sentAfterRestart = -1;
      let firstAfterRestart = NaN;
      let restartedAt = 0;
      y.socket.on('message', (data: Buffer) => {
        const m = JSON.parse(String(data)) as { type: string; data?: { n: number } };
        if (m.type !== 'signal' || !m.data) return;
        received += 1;
        if (sentAfterRestart >= 0 && m.data.n >= sentAfterRestart && Number.isNaN(firstAfterRestart)) {
          firstAfterRestart = performance.now() - restartedAt;
        }
      });
      const pump = setInterval(() => x.send({ type: 'signal', to: wy['id'], data: { n: ++sent } }), 5);
      await sleep(500);
      await redis.kill();
      await sleep(1000);
      await redis.start();
      restartedAt = performance.now();
      sentAfterRestart = sent + 1;
      const deadline = performance.now() + 15_000;
      while (Number.isNaN(firstAfterRestart) && performance.now() < deadline) await sleep(5);
      await sleep(300);
      clearInterval(pump);
      await sleep(300);
      return {
        resumedP50: median(resumed),
        resumedMax: Math.max(...resumed),
        peerLeftMs,
        spurious,
        redisBackMs: firstAfterRestart,
        sent,
        dropped: sent - received,
      };
    } finally {
      await b2.kill();
    }
  } finally {
    for (const c of clients) c.socket.terminate();
    await a.kill();
    await b.kill();
  }
}

function render(
  rows: Row[],
  joins: Record<'single' | 'cluster', number[][]>,
  f: Record<string, number>,
  note: string,
): string {
  const find = (load: string, setup: Setup): Row | undefined => rows.find((r) => r.load === load && r.setup === setup);
  const paired = (row: Row, base: Row, metric: 'relayCpuPerMsgUs' | 'p50' | 'p99'): number =>
    median(row.runs.map((r, i) => r[metric] / (base.runs[i]?.[metric] ?? NaN)));
  const med = (row: Row, metric: keyof RunResult): number => median(row.runs.map((r) => Number(r[metric])));
  const out: string[] = [`## ${SECTION_TITLES['cluster']}`, '', note, ''];
  out.push(
    `${PAIRS} pairs (rooms of two) send 1 KB \`signal\`s, as in benchmark 1, through one relay process without Redis, ` +
      'and through two relay processes sharing a redis-server (7.0, Unix socket), with each pair on one relay ("same") ' +
      'or split over both ("cross"). CPU is summed over every server process of the setup (both relays and ' +
      'redis-server for the cluster rows) and divided by the messages delivered. Each figure is the median of ' +
      `${ROUNDS} runs of ${MEASURE_MS / 1000} s, the three setups interleaved; ratios are the median of the per-round ` +
      'ratios to the one-relay row.',
    '',
    '| load | setup | delivered msg/s | p50 ms | p99 ms | CPU µs/msg (all server processes) | ÷ one relay: CPU/msg | p50 | p99 |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const row of rows) {
    const base = find(row.load, 'single');
    const r = (m: 'relayCpuPerMsgUs' | 'p50' | 'p99'): string =>
      row.setup === 'single' || !base ? '1' : `${paired(row, base, m).toFixed(2)}×`;
    out.push(
      `| ${row.load} | ${NAMES[row.setup]} | ${fmt(med(row, 'msgsPerSec'))} | ${fmt(med(row, 'p50'))} | ` +
        `${fmt(med(row, 'p99'))} | ${fmt(med(row, 'relayCpuPerMsgUs'))} | ${r('relayCpuPerMsgUs')} | ${r('p50')} | ${r('p99')} |`,
    );
  }
  const flat = (k: 'single' | 'cluster', q: number): number =>
    median(joins[k].map((times) => quantileSorted(Float64Array.from(times), q)));
  out.push(
    '',
    `**Join latency** (\`join\` → \`welcome\`), ${JOINS} clients joining at once (10 rooms of 5), median over ` +
      `${JOIN_ROUNDS} rounds: one relay p50 ${fmt(flat('single', 0.5))} ms, p99 ${fmt(flat('single', 0.99))} ms; ` +
      `two relays + Redis p50 ${fmt(flat('cluster', 0.5))} ms, p99 ${fmt(flat('cluster', 0.99))} ms ` +
      `(${(flat('cluster', 0.5) / flat('single', 0.5)).toFixed(2)}× at p50).`,
    '',
    `**Failover** (lease ${LEASE_MS / 1000} s, sweep ${SWEEP_MS / 1000} s, grace ${GRACE_MS / 1000} s): a relay ` +
      `SIGKILLed with 11 participants; the 10 whose clients reconnected at once to the other relay had all resumed ` +
      `${fmt(f['resumedMax'])} ms after the kill (median ${fmt(f['resumedP50'])} ms), with ${f['spurious'] ?? '–'} ` +
      `peer-left seen by their partners; the one that never returned got its peer-left after ${fmt((f['peerLeftMs'] ?? NaN) / 1000)} s ` +
      `(bound: lease + sweep + grace = ${(LEASE_MS + SWEEP_MS + GRACE_MS) / 1000} s). redis-server SIGKILLed and ` +
      `restarted empty 1 s later: cross-process signals (one every 5 ms) flowed again ${fmt(f['redisBackMs'])} ms ` +
      `after the restart; ${f['dropped'] ?? '–'} of ${f['sent'] ?? '–'} signals were dropped (those sent while Redis was down).`,
  );
  out.push('', '**Goals** (per load; CPU summed over all server processes, median of the per-round ratios):', '');
  for (const label of [...new Set(rows.map((r) => r.load))]) {
    const cross = find(label, 'cross');
    const same = find(label, 'same');
    const base = find(label, 'single');
    if (!cross || !same || !base) continue;
    const crossVsSame = median(cross.runs.map((r, i) => r.relayCpuPerMsgUs / (same.runs[i]?.relayCpuPerMsgUs ?? NaN)));
    const sameVsOne = paired(same, base, 'relayCpuPerMsgUs');
    const p50 = median(cross.runs.map((r, i) => r.p50 / (same.runs[i]?.p50 ?? NaN)));
    const p99 = median(cross.runs.map((r, i) => r.p99 / (same.runs[i]?.p99 ?? NaN)));
    out.push(
      `- ${label}: same-process pair in cluster mode ÷ one relay ${sameVsOne.toFixed(2)}× (goal: within noise); ` +
        `cross-process ÷ same-process CPU ${crossVsSame.toFixed(2)}× (goal ≤ 3×: ${crossVsSame <= 3 ? 'met' : '**missed**'}), ` +
        `latency p50 ${p50.toFixed(2)}×, p99 ${p99.toFixed(2)}×` +
        (label === 'saturating'
          ? ` (delivered: cross ${fmt(med(cross, 'msgsPerSec'))} msg/s, same ${fmt(med(same, 'msgsPerSec'))} msg/s: ` +
            'CPU per message at different rates; the next row compares them at the same rate)'
          : '') +
        (median(cross.runs.map((r) => r.msgsPerSec)) < 0.9 * median(base.runs.map((r) => r.msgsPerSec))
          ? ' (the cross-process setup could not carry this load on one core: overloaded)'
          : ''),
    );
  }
  out.push(
    `- failover of a killed relay ≤ lease + 2 s: ${fmt(f['resumedMax'])} ms ` +
      `(${(f['resumedMax'] ?? Infinity) <= LEASE_MS + 2000 ? 'met' : '**missed**'}).`,
  );
  out.push('', `_Load average after this benchmark: ${loadNow()}._`);
  return out.join('\n');
}
