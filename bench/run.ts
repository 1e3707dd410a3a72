/**
 * `npm run bench [-- NAME...]`: runs the benchmarks (all, in the order of the issue, or the named ones) and writes
 * docs/benchmarks.md after each one, so that a failure late in the run keeps the results before it.
 *
 * The npm script builds first and runs this inside scripts/netns.sh's private network namespace: browsers only ever
 * see loopback. Benchmarks that start a browser refuse to run elsewhere when CI is set (test/e2e/browsers.ts).
 *
 * Exit status: 0 if every benchmark ran, 1 if one failed (its old block stays in the report), 2 for a bad name.
 *
 * @module
 */
import { join } from 'node:path';
import { benchBundle } from './bundle-bench.js';
import { benchCall } from './call-bench.js';
import { benchCluster } from './cluster-bench.js';
import { benchConnections } from './connections-bench.js';
import { benchMesh } from './mesh-bench.js';
import { benchRecovery } from './recovery-bench.js';
import { benchRelay } from './relay-bench.js';
import { benchSfu } from './sfu-bench.js';
import { describeMachine, SECTION_TITLES, writeReport, type Section } from './report.js';
import { progress, projectRoot } from './util.js';

type Bench = (root: string) => Promise<Section>;

const BENCHES: Readonly<Record<string, Bench>> = {
  relay: benchRelay,
  connections: benchConnections,
  bundle: benchBundle,
  call: benchCall,
  mesh: benchMesh,
  recovery: benchRecovery,
  cluster: benchCluster,
  sfu: benchSfu,
};

const names = process.argv.slice(2);
const unknown = names.filter((n) => !(n in SECTION_TITLES));
if (unknown.length > 0) {
  process.stderr.write(
    `bench: unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(SECTION_TITLES).join(', ')}\n`,
  );
  process.exit(2);
}
const wanted = names.length > 0 ? names : Object.keys(SECTION_TITLES);
const root = projectRoot();
const reportPath = join(root, 'docs/benchmarks.md');
const machine = describeMachine(root);
const sections: Section[] = [];
let failed = 0;

for (const name of wanted) {
  const bench = BENCHES[name];
  if (!bench) {
    progress(`${name}: not implemented yet, skipped`);
    continue;
  }
  const started = Date.now();
  progress(`${name}: starting`);
  try {
    sections.push(await bench(root));
    writeReport(reportPath, sections, machine);
    progress(`${name}: done in ${((Date.now() - started) / 1000).toFixed(0)} s, ${reportPath} updated`);
  } catch (error) {
    failed += 1;
    progress(
      `${name}: FAILED after ${((Date.now() - started) / 1000).toFixed(0)} s: ${error instanceof Error ? error.stack : String(error)}`,
    );
  }
}
process.exitCode = failed > 0 ? 1 : 0;
