/**
 * Child process of the relay benchmarks: runs ONE relay, on 127.0.0.1 and a free port, so that its CPU time and
 * memory are its own. Started by the runner (bench/procs.ts) as
 * `node --expose-gc lib/bench/relay-server.js ours|baseline|peerjs`.
 *
 * - `ours`: the shipped server (`startServer` of lib/server/src: demo page, bundle and relay on one port), defaults
 *   except the per-address and per-socket rate limits (see below).
 * - `baseline`: bench/baseline-relay.ts, the minimal `ws` room relay.
 * - `peerjs`: PeerJS's server (npm `peer`), WebSocket at `/peerjs`, key `peerjs`, client limit raised.
 *
 * IPC: sends `{ ready: true, port }` once listening; answers `mem` with the memory after two full GCs.
 *
 * @module
 */
import type { AddressInfo } from 'node:net';
import { serveIpc } from './procs.js';
import { sleep } from './util.js';

/** Which relay a benchmark talks to. */
export type RelayKind = 'ours' | 'baseline' | 'peerjs';

/** Memory of the relay process (bytes), as `process.memoryUsage()` after GC. */
export interface RelayMemory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

/**
 * Starts the relay. Each kind's modules are imported only for that kind, so that no process carries another relay's
 * code in its memory (PeerJS brings express).
 */
async function start(kind: string): Promise<number> {
  switch (kind) {
    case 'ours': {
      const { startServer, RELAY_DEFAULTS } = await import('../server/src/index.js');
      // Every connection of the load generator comes from 127.0.0.1 and sends far more than a browser would: the
      // per-address connection limit and the per-socket rate limit are lifted so that nothing is refused. Their
      // checks still run on every connection and message. Only options this relay version knows are passed.
      const lifted: Record<string, unknown> = {
        maxConnectionsPerIp: 0,
        rateLimitPerSecond: 1e9,
        rateLimitBurst: 1e9,
        rateLimitCloseAfter: 1e9,
        logLevel: 'warn',
      };
      // The cluster benchmark (bench/cluster-bench.ts) shares rooms through the Redis it names.
      if (process.env['BENCH_REDIS_URL']) lifted['redisUrl'] = process.env['BENCH_REDIS_URL'];
      const known = Object.fromEntries(Object.entries(lifted).filter(([key]) => key in RELAY_DEFAULTS));
      return (await startServer({ port: 0, host: '127.0.0.1', ...known })).port;
    }
    case 'baseline': {
      const { startBaselineRelay } = await import('./baseline-relay.js');
      return (await startBaselineRelay(0, '127.0.0.1')).port;
    }
    case 'peerjs': {
      const { PeerServer } = await import('peer');
      return new Promise<number>((resolve) => {
        const app = PeerServer(
          // The default concurrent_limit (5,000) would refuse the larger benchmark sizes.
          { port: 0, host: '127.0.0.1', path: '/', key: 'peerjs', concurrent_limit: 1_000_000 },
          (server) => resolve((server.address() as AddressInfo).port),
        );
        app.on('error', () => {});
      });
    }
    default:
      throw new Error(`unknown relay kind ${JSON.stringify(kind)} (ours, baseline, peerjs)`);
  }
}

async function memoryAfterGc(): Promise<RelayMemory> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('start with --expose-gc');
  // Two full collections with a turn of the event loop between them: weak callbacks and finalizers run in between.
  gc();
  await sleep(50);
  gc();
  const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, heapTotal, external, arrayBuffers };
}

// SIGTERM exits normally, so that `node --cpu-prof` writes its profile (the runner itself uses SIGKILL).
process.once('SIGTERM', () => process.exit(0));
const port = await start(process.argv[2] ?? '');
serveIpc(async (cmd) => {
  if (cmd === 'mem') return memoryAfterGc();
  if (cmd === 'cpu') return process.cpuUsage();
  throw new Error(`unknown command ${cmd}`);
});
process.send?.({ ready: true, port });
