/**
 * The call benchmark's `BENCH_PROFILE=1` (bench/call-bench.ts): a page's CPU profile (Chrome DevTools Protocol
 * `Profiler`) summed into self time by function, the bundle's minified functions named by their source position.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { join } from 'node:path';
import { projectRoot } from './util.js';

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number } }[];
  samples?: number[];
  timeDeltas?: number[];
}

/** Source maps of the bundle's files (dist/*.js.map), by file name; null when a file has none. */
const sourceMaps = new Map<string, SourceMap | null>();

/** The source position of a bundle position (`dist/<file>`: its source map), as `src/…/x.ts:line`, or undefined. */
function original(file: string, line: number, column: number): string | undefined {
  if (!file.startsWith('video-chat')) return undefined;
  let map = sourceMaps.get(file);
  if (map === undefined) {
    try {
      map = new SourceMap(
        JSON.parse(readFileSync(join(projectRoot(), 'dist', `${file}.map`), 'utf8')) as SourceMapPayload,
      );
    } catch {
      map = null;
    }
    sourceMaps.set(file, map);
  }
  const entry = map?.findEntry(line, column) as { originalSource?: string; originalLine?: number } | undefined;
  if (!entry?.originalSource) return undefined;
  return `${entry.originalSource.replace(/^.*?(src|node_modules)\//, '$1/')}:${(entry.originalLine ?? 0) + 1}`;
}

/**
 * Adds a CPU profile's self time by function (ms) to `into`. Functions of the minified bundle are named by their
 * source position (through dist/*.js.map), so that the profile reads in source terms.
 */
export function addProfile(profile: CpuProfile, into: Map<string, number>): void {
  const names = new Map(
    profile.nodes.map((n) => {
      const f = n.callFrame;
      const file = f.url.split('/').pop() ?? '';
      const source = original(file, f.lineNumber, f.columnNumber);
      return [
        n.id,
        `${f.functionName || '(anonymous)'} ${source ?? `${file}:${f.lineNumber + 1}:${f.columnNumber + 1}`}`,
      ];
    }),
  );
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const name = names.get(samples[i] as number) ?? '?';
    into.set(name, (into.get(name) ?? 0) + (deltas[i + 1] ?? 0) / 1000);
  }
}
