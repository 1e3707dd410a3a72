/**
 * Benchmark 1: relay throughput, one-way latency and relay CPU per relayed message, for our relay, the minimal `ws`
 * baseline (bench/baseline-relay.ts) and PeerJS's server, each in its own process pinned to CPU 1, driven by one load
 * generator process (bench/loadgen.ts) pinned to CPU 0.
 *
 * For each size (100 and 1,000 pairs, rooms of two) and each load (saturating; 2,000 and 10,000 messages/s offered),
 * the three relays are measured in turn, in a rotated order, `ROUNDS` times; every figure is the median over the
 * rounds, and every ratio the median of the per-round ratios ours ÷ baseline (adjacent runs share the machine's
 * momentary load).
 *
 * @module
 */
import { join } from 'node:path';
import type { RunResult } from './loadgen.js';
import { spawnNode, type NodeChild } from './procs.js';
import type { RelayKind } from './relay-server.js';
import { loadNow, runNote, SECTION_TITLES, type Section } from './report.js';
import { fmt, median, progress, ratio } from './util.js';

const PAIRS = [100, 1000] as const;
/** Messages in flight in saturating mode, over all directions (window per direction = this / (2 × pairs)). */
const SATURATE_IN_FLIGHT = 2000;
const LOADS = [
  { label: 'saturating', mode: 'saturate' },
  { label: '2,000 msg/s', mode: 'rate', rate: 2000 },
  { label: '10,000 msg/s', mode: 'rate', rate: 10_000 },
] as const;
const KINDS: readonly RelayKind[] = ['baseline', 'ours', 'peerjs'];
const ROUNDS = 5;
const WARMUP_MS = 300;
const MEASURE_MS = 1200;

const NAMES: Record<RelayKind, string> = { ours: 'ours', baseline: 'baseline (minimal ws)', peerjs: 'PeerJS server' };

/** Starts one relay process (pinned to CPU 1) and resolves with it and its port. */
export async function startRelayProcess(root: string, kind: RelayKind): Promise<{ child: NodeChild; port: number }> {
  const child = spawnNode(join(root, 'lib/bench/relay-server.js'), [kind], { cpu: 1, nodeArgs: ['--expose-gc'] });
  const ready = await child.waitForMessage<{ port: number }>((m) => m['ready'] === true, 20_000, `${kind} relay start`);
  return { child, port: ready.port };
}

/** Starts the load generator (pinned to CPU 0). */
export async function startLoadGenerator(root: string): Promise<NodeChild> {
  const child = spawnNode(join(root, 'lib/bench/loadgen.js'), [], { cpu: 0 });
  await child.waitForMessage((m) => m['ready'] === true, 20_000, 'load generator start');
  return child;
}

interface Row {
  pairs: number;
  load: string;
  kind: RelayKind;
  runs: RunResult[];
}

export async function benchRelay(root: string): Promise<Section> {
  const startedAt = new Date();
  const rows: Row[] = [];
  const gen = await startLoadGenerator(root);
  try {
    for (const pairs of PAIRS) {
      const relays = new Map<RelayKind, { child: NodeChild; port: number }>();
      try {
        for (const kind of KINDS) {
          const relay = await startRelayProcess(root, kind);
          relays.set(kind, relay);
          const { ms } = await gen.request<{ ms: number }>(
            'connect',
            { session: kind, kind, port: relay.port, pairs },
            120_000,
          );
          progress(`relay: ${pairs} pairs joined on ${kind} in ${ms.toFixed(0)} ms`);
        }
        for (const load of LOADS) {
          const byKind = new Map<RelayKind, Row>(
            KINDS.map((kind) => [kind, { pairs, load: load.label, kind, runs: [] }]),
          );
          for (let round = 0; round < ROUNDS; round++) {
            const order = KINDS.map((_, i) => KINDS[(i + round) % KINDS.length] as RelayKind);
            for (const kind of order) {
              const relay = relays.get(kind)!;
              const result = await gen.request<RunResult>(
                'run',
                {
                  session: kind,
                  mode: load.mode,
                  rate: 'rate' in load ? load.rate : undefined,
                  window: Math.max(1, Math.round(SATURATE_IN_FLIGHT / (2 * pairs))),
                  warmupMs: WARMUP_MS,
                  measureMs: MEASURE_MS,
                  relayPid: relay.child.pid,
                },
                60_000,
              );
              byKind.get(kind)!.runs.push(result);
              progress(
                `relay: ${pairs} pairs, ${load.label}, ${kind}: ${fmt(result.msgsPerSec)} msg/s, ` +
                  `p50 ${fmt(result.p50)} ms, p99 ${fmt(result.p99)} ms, ${fmt(result.relayCpuPerMsgUs)} µs/msg, ` +
                  `relay ${fmt(result.relayCores, 2)} cores, generator ${fmt(result.generatorCores, 2)} cores` +
                  (result.unexpected > 0 ? `, ${result.unexpected} unexpected frames (${result.lastUnexpected})` : '') +
                  (result.lost > 0 ? `, ${result.lost} lost` : ''),
              );
            }
          }
          rows.push(...byKind.values());
        }
      } finally {
        for (const kind of KINDS) await gen.request('close', { session: kind }).catch(() => undefined);
        for (const relay of relays.values()) await relay.child.kill();
      }
    }
  } finally {
    await gen.kill();
  }
  return { id: 'relay', markdown: render(rows, runNote(startedAt, (Date.now() - startedAt.getTime()) / 1000)) };
}

type Metric = 'msgsPerSec' | 'p50' | 'p99' | 'relayCpuPerMsgUs';

/** Median over rounds of ours[r] / baseline[r] for one metric. */
function pairedRatio(ours: Row, base: Row, metric: Metric): number {
  return median(ours.runs.map((r, i) => r[metric] / (base.runs[i]?.[metric] ?? NaN)));
}

/** The lowest and highest per-round ratio ours ÷ baseline, as `0.95–1.08×`: how much one round can say. */
function spread(ours: Row, base: Row, metric: Metric): string {
  const ratios = ours.runs.map((r, i) => r[metric] / (base.runs[i]?.[metric] ?? NaN)).filter(Number.isFinite);
  return ratios.length === 0 ? '–' : `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}×`;
}

const med = (row: Row, metric: keyof RunResult): number => median(row.runs.map((r) => Number(r[metric])));

function render(rows: Row[], note: string): string {
  const find = (pairs: number, load: string, kind: RelayKind): Row | undefined =>
    rows.find((r) => r.pairs === pairs && r.load === load && r.kind === kind);
  const out: string[] = [`## ${SECTION_TITLES['relay']}`, '', note, ''];
  out.push(
    `Each of K pairs of clients (rooms of two) sends ${'1 KB'} \`signal\` messages to its partner; one-way latency is ` +
      'measured from the send time in the payload to the delivery (both ends live in the load generator process). ' +
      `"Saturating" keeps ${SATURATE_IN_FLIGHT} messages in flight in total (a closed loop: each delivery releases the ` +
      'next message of its direction); the fixed rates are an open-loop schedule spread round-robin over all clients. ' +
      `Each figure is the median of ${ROUNDS} runs of ${MEASURE_MS / 1000} s (after ${WARMUP_MS / 1000} s warm-up), ` +
      'the three relays interleaved run by run; ratios are the median of the per-round ratios. Relay CPU is the time ' +
      'the relay process (all threads) spent on a CPU over the same window (/proc schedstat), divided by the ' +
      'messages delivered in it. "Relay cores" and "generator cores" say who was the ' +
      'bottleneck (1.00 = a full core). PeerJS is reached through a small adapter in the generator (its own join ' +
      'handshake and message shape); it relays the same bytes.',
    '',
    '| pairs | load | relay | delivered msg/s | p50 ms | p99 ms | relay CPU µs/msg | relay cores | generator cores | ÷ baseline: msg/s | p50 | p99 | CPU/msg |',
    '|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const row of rows) {
    const base = find(row.pairs, row.load, 'baseline');
    const r = (metric: Metric): string =>
      row.kind === 'baseline' || !base ? '1' : ratio(pairedRatio(row, base, metric), 1);
    out.push(
      `| ${row.pairs} | ${row.load} | ${NAMES[row.kind]} | ${fmt(med(row, 'msgsPerSec'))} | ${fmt(med(row, 'p50'))} | ` +
        `${fmt(med(row, 'p99'))} | ${fmt(med(row, 'relayCpuPerMsgUs'))} | ${fmt(med(row, 'relayCores'), 2)} | ` +
        `${fmt(med(row, 'generatorCores'), 2)} | ${r('msgsPerSec')} | ${r('p50')} | ${r('p99')} | ${r('relayCpuPerMsgUs')} |`,
    );
  }
  const problems = rows.filter((r) => r.runs.some((x) => x.unexpected > 0 || x.lost > 0));
  if (problems.length > 0) {
    out.push(
      '',
      'Runs with unexpected frames or lost messages: ' +
        problems
          .map(
            (r) =>
              `${r.pairs} pairs ${r.load} ${r.kind}: ${r.runs.map((x) => `${x.unexpected} unexpected, ${x.lost} lost`).join('; ')}`,
          )
          .join(' · '),
    );
  }

  // Goals of the issue, for ours vs the baseline.
  out.push('', '**Goals (ours ÷ baseline; the median of the per-round ratios, and their range over the rounds):**', '');
  for (const pairs of PAIRS) {
    for (const load of LOADS) {
      const ours = find(pairs, load.label, 'ours');
      const base = find(pairs, load.label, 'baseline');
      if (!ours || !base) continue;
      const cpu = pairedRatio(ours, base, 'relayCpuPerMsgUs');
      const thr = pairedRatio(ours, base, 'msgsPerSec');
      const p99 = pairedRatio(ours, base, 'p99');
      const verdict = (ok: boolean, value: number, metric: Metric): string =>
        `${ok ? 'met' : '**missed**'} (${value.toFixed(2)}×; rounds ${spread(ours, base, metric)})`;
      out.push(
        `- ${pairs} pairs, ${load.label}: CPU/msg ≤ 1.00× ${verdict(cpu <= 1, cpu, 'relayCpuPerMsgUs')}; ` +
          `throughput ≥ 0.90× ${verdict(thr >= 0.9, thr, 'msgsPerSec')}; ` +
          `p99 ≤ 1.00× ${verdict(p99 <= 1, p99, 'p99')}`,
      );
    }
  }
  out.push('', `_Load average after this benchmark: ${loadNow()}._`);
  return out.join('\n');
}
