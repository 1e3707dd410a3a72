/**
 * CPU profile of the cluster benchmark's saturating row (issue 11): where a cross-process signal's time goes.
 *
 * `node lib/bench/cluster-profile.js [cross|same|single] [seconds]` (after `npm run build`; no browser, so no netns
 * needed): starts a redis-server and the relays as `npm run bench -- cluster` does (relays and redis-server pinned to
 * CPU 1, the load generator to CPU 0), the relays under `node --cpu-prof`, opens 100 pairs in the chosen setup
 * (default `cross`: each pair split over two relays), saturates it for the given time (default 5 s), then stops the
 * relays with SIGTERM so that each writes its `.cpuprofile`. Prints, per relay, the delivered rate, each process's CPU
 * per delivered message (relays and redis-server, from /proc), and the top functions by self time and the self time
 * by package (ws, @redis/client, node internals, the relay's own modules, GC), so two runs (before/after a change, or
 * `same` against `cross`) compare as shares of one run, not as absolute figures under a noisy load.
 *
 * The profiles stay in the printed directory (open them in Chrome DevTools' Performance panel).
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunResult } from './loadgen.js';
import { startBenchRelay, startRedis } from './cluster-bench.js';
import { procCpuMicros, type NodeChild } from './procs.js';
import { startLoadGenerator } from './relay-bench.js';
import { fmt, progress, projectRoot } from './util.js';

const PAIRS = 100;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Which part of the process a frame's self time belongs to. */
function category(url: string, name: string): string {
  if (name === '(garbage collector)') return 'GC';
  if (name === '(program)' || name === '(idle)' || name === '(root)') return name;
  if (url.includes('/@redis/client/')) return '@redis/client';
  if (url.includes('/node_modules/ws/')) return 'ws';
  if (url.includes('/node_modules/pino')) return 'pino';
  if (url.includes('/node_modules/prom-client/')) return 'prom-client';
  if (url.includes('/node_modules/')) return url.replace(/.*\/node_modules\/((@[^/]+\/)?[^/]+).*/, '$1');
  if (url.startsWith('node:')) return 'node internals';
  const ours = /\/lib\/(server\/src\/.*|src\/.*)\.js$/.exec(url);
  if (ours?.[1]) return ours[1];
  return url === '' ? '(native)' : url;
}

/** Self time (µs) by function and by category, over the part of the profile after `fromUs` (µs since its start). */
function summarize(
  profile: Profile,
  fromUs: number,
): { byFunction: Map<string, number>; byCategory: Map<string, number>; total: number } {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const byFunction = new Map<string, number>();
  const byCategory = new Map<string, number>();
  let t = 0;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (t < fromUs) continue;
    const node = nodes.get(profile.samples[i] ?? -1);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const cat = category(url, functionName);
    if (cat === '(idle)') continue;
    const key = `${functionName || '(anonymous)'} ${cat}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + delta);
    byCategory.set(cat, (byCategory.get(cat) ?? 0) + delta);
    total += delta;
  }
  return { byFunction, byCategory, total };
}

function top(map: Map<string, number>, total: number, n: number): string[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `  ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
}

/** `PUBLISH` and `EVALSHA` commands redis-server has run so far (`INFO commandstats`). */
function commandCalls(url: string): { publish: number; evalsha: number } {
  const info = execFileSync('redis-cli', ['-s', url.replace(/^unix:\/\//, ''), 'INFO', 'commandstats'], {
    encoding: 'utf8',
  });
  const calls = (name: string): number => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
  return { publish: calls('publish'), evalsha: calls('evalsha') };
}

async function main(): Promise<void> {
  const setup = process.argv[2] ?? 'cross';
  const seconds = Number(process.argv[3] ?? 5);
  if (!['cross', 'same', 'single'].includes(setup) || !(seconds > 0 && seconds <= 60)) {
    process.stderr.write('usage: node lib/bench/cluster-profile.js [cross|same|single] [seconds ≤ 60]\n');
    process.exit(2);
  }
  const root = projectRoot();
  const dir = mkdtempSync(join(tmpdir(), 'video-chat-cluster-profile-'));
  const redis = await startRedis();
  const gen = await startLoadGenerator(root);
  const relays: NodeChild[] = [];
  const prof = (name: string): string[] => [
    '--cpu-prof',
    `--cpu-prof-dir=${dir}`,
    `--cpu-prof-name=${name}.cpuprofile`,
  ];
  let result: RunResult | undefined;
  /** When the run started, µs on CLOCK_MONOTONIC: the clock of V8's profile timestamps on Linux. */
  let startedAtUs = 0;
  const cpu: Record<string, number> = {};
  let commands = { publish: 0, evalsha: 0 };
  try {
    const a = await startBenchRelay(root, setup === 'single' ? undefined : redis.url, prof('a'));
    relays.push(a.child);
    const b = setup === 'cross' ? await startBenchRelay(root, redis.url, prof('b')) : undefined;
    if (b) relays.push(b.child);
    await gen.request('connect', { session: setup, kind: 'ours', port: a.port, port2: b?.port, pairs: PAIRS }, 120_000);
    const pids: Record<string, number> = { a: a.child.pid, redis: redis.pid, ...(b ? { b: b.child.pid } : {}) };
    const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, procCpuMicros(pid)]));
    commands = commandCalls(redis.url);
    startedAtUs = Number(process.hrtime.bigint() / 1000n);
    result = await gen.request<RunResult>(
      'run',
      {
        session: setup,
        mode: 'saturate',
        window: Math.max(1, Math.round(2000 / (2 * PAIRS))),
        warmupMs: 500,
        measureMs: seconds * 1000,
        relayPid: a.child.pid,
        extraPids: [b?.child.pid, setup === 'single' ? undefined : redis.pid].filter((p) => p !== undefined),
      },
      120_000,
    );
    for (const [k, pid] of Object.entries(pids)) cpu[k] = procCpuMicros(pid) - (before[k] ?? 0);
    const after = commandCalls(redis.url);
    commands = { publish: after.publish - commands.publish, evalsha: after.evalsha - commands.evalsha };
    await gen.request('close', { session: setup }).catch(() => undefined);
  } finally {
    for (const child of relays) {
      const exited = new Promise((resolve) => child.proc.once('exit', resolve));
      child.proc.kill('SIGTERM');
      await exited;
    }
    await gen.kill();
    await redis.kill();
    redis.remove();
  }
  if (!result) return;
  const delivered = result.received;
  progress(
    `cluster profile (${setup}): ${fmt(result.msgsPerSec)} msg/s delivered, p50 ${fmt(result.p50)} ms; ` +
      `CPU per delivered message (µs, measured window + drain): ` +
      Object.entries(cpu)
        .map(([k, us]) => `${k} ${fmt(us / delivered)}`)
        .join(', ') +
      `; Redis ran ${fmt(commands.publish)} PUBLISH and ${fmt(commands.evalsha)} EVALSHA for ${fmt(result.sent)} ` +
      'signals sent in the window (with the warm-up and drain)',
  );
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile;
    // Only the saturated part: from the run's start (the profile's clock is µs since the process's start).
    const fromUs = Math.max(0, startedAtUs - profile.startTime);
    const { byFunction, byCategory, total } = summarize(
      profile,
      fromUs > profile.endTime - profile.startTime ? 0 : fromUs,
    );
    progress(`${file}: ${fmt(total / 1000)} ms of samples (not idle) — by package:`);
    for (const line of top(byCategory, total, 14)) progress(line);
    progress(`${file}: top functions by self time:`);
    for (const line of top(byFunction, total, 25)) progress(line);
  }
  progress(`profiles: ${dir}`);
}

await main();
