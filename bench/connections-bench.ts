/**
 * Benchmark 2: memory per idle joined connection. A fresh relay process (ours, the minimal `ws` baseline, PeerJS)
 * gets 1,000, then 5,000, then 10,000 joined connections (rooms of two) from the load generator; after each step the
 * relay runs two full GCs (`--expose-gc`) and reports `process.memoryUsage()`. Per-connection figures are the growth
 * over the empty relay (also measured after GC) divided by the number of connections.
 *
 * @module
 */
import type { NodeChild } from './procs.js';
import type { RelayKind, RelayMemory } from './relay-server.js';
import { startLoadGenerator, startRelayProcess } from './relay-bench.js';
import { loadNow, runNote, SECTION_TITLES, type Section } from './report.js';
import { fmt, progress, ratio, sleep } from './util.js';

const SIZES = [1000, 5000, 10_000] as const;
const KINDS: readonly RelayKind[] = ['baseline', 'ours', 'peerjs'];
/** Goal of the issue: 10,000 joined peers in under this much RSS. */
const RSS_GOAL_BYTES = 150 * 1024 * 1024;
const MB = 1024 * 1024;

interface Sample {
  connections: number;
  memory: RelayMemory;
}

async function measure(
  root: string,
  gen: NodeChild,
  kind: RelayKind,
): Promise<{ empty: RelayMemory; samples: Sample[] }> {
  const relay = await startRelayProcess(root, kind);
  const session = `mem-${kind}`;
  try {
    // Let start-up garbage settle before the empty reading.
    await sleep(300);
    const empty = await relay.child.request<RelayMemory>('mem');
    const samples: Sample[] = [];
    let connections = 0;
    for (const size of SIZES) {
      const { clients } = await gen.request<{ clients: number }>(
        'connect',
        { session, kind, port: relay.port, pairs: (size - connections) / 2 },
        180_000,
      );
      connections = clients;
      await sleep(300);
      const memory = await relay.child.request<RelayMemory>('mem');
      samples.push({ connections, memory });
      progress(
        `connections: ${kind} ${connections} joined: RSS ${fmt(memory.rss / MB)} MB, heap ${fmt(memory.heapUsed / MB)} MB`,
      );
    }
    return { empty, samples };
  } finally {
    await gen.request('close', { session }).catch(() => undefined);
    await relay.child.kill();
  }
}

export async function benchConnections(root: string): Promise<Section> {
  const startedAt = new Date();
  const gen = await startLoadGenerator(root);
  const results = new Map<RelayKind, { empty: RelayMemory; samples: Sample[] }>();
  try {
    for (const kind of KINDS) results.set(kind, await measure(root, gen, kind));
  } finally {
    await gen.kill();
  }
  return {
    id: 'connections',
    markdown: render(results, runNote(startedAt, (Date.now() - startedAt.getTime()) / 1000)),
  };
}

function render(results: Map<RelayKind, { empty: RelayMemory; samples: Sample[] }>, note: string): string {
  const names: Record<RelayKind, string> = { ours: 'ours', baseline: 'baseline (minimal ws)', peerjs: 'PeerJS server' };
  const per = (kind: RelayKind, n: number, key: 'rss' | 'heapUsed'): number => {
    const r = results.get(kind);
    const s = r?.samples.find((x) => x.connections === n);
    return r && s ? (s.memory[key] - r.empty[key]) / n : NaN;
  };
  const total = (kind: RelayKind, n: number, key: 'rss' | 'heapUsed'): number =>
    results.get(kind)?.samples.find((x) => x.connections === n)?.memory[key] ?? NaN;
  const out = [`## ${SECTION_TITLES['connections']}`, '', note, ''];
  out.push(
    'Each relay runs in its own process; the load generator (another process) opens idle WebSocket connections that ' +
      'have joined rooms of two. Figures after two full GCs in the relay. "Per connection" is the growth over the ' +
      'empty relay divided by the connections; "total" is the whole process.',
    '',
    '| connections | relay | RSS total MB | heap used total MB | RSS per connection KB | heap per connection KB | ÷ baseline: RSS/conn | heap/conn |',
    '|---:|---|---:|---:|---:|---:|---:|---:|',
  );
  for (const n of SIZES) {
    for (const kind of KINDS) {
      if (!results.has(kind)) continue;
      const rr = (key: 'rss' | 'heapUsed'): string =>
        kind === 'baseline' ? '1' : ratio(per(kind, n, key), per('baseline', n, key));
      out.push(
        `| ${n.toLocaleString('en-US')} | ${names[kind]} | ${fmt(total(kind, n, 'rss') / MB)} | ` +
          `${fmt(total(kind, n, 'heapUsed') / MB)} | ${fmt(per(kind, n, 'rss') / 1024)} | ${fmt(per(kind, n, 'heapUsed') / 1024)} | ` +
          `${rr('rss')} | ${rr('heapUsed')} |`,
      );
    }
  }
  const rss10k = total('ours', 10_000, 'rss');
  out.push(
    '',
    `**Goal:** 10,000 joined peers in under 150 MB RSS (ours, whole process): ` +
      (rss10k < RSS_GOAL_BYTES
        ? `met (${fmt(rss10k / MB)} MB)`
        : `**missed** (${fmt(rss10k / MB)} MB, ` + `${fmt((rss10k - RSS_GOAL_BYTES) / MB)} MB over)`) +
      '.',
  );
  out.push('', `_Load average after this benchmark: ${loadNow()}._`);
  return out.join('\n');
}
