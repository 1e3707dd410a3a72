/**
 * Small helpers shared by the benchmarks: statistics, number formatting, bounded waits, the project root.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

import { withTimeout } from '../test/with-timeout.js';

export { withTimeout };

/** Polls `predicate` every `everyMs` until it holds; rejects naming `what` after `ms`. */
export async function waitUntil(predicate: () => boolean, ms: number, what: string, everyMs = 5): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`${what}: timed out after ${ms} ms`);
    await sleep(everyMs);
  }
}

/** The `p`-quantile (0…1) by nearest rank of an ascending-sorted array; NaN for an empty one. */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[rank] as number;
}

/** The median of some numbers (NaN for none). Middle element, or the mean of the two middle ones. */
export function median(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 === 1
    ? (finite[mid] as number)
    : ((finite[mid - 1] as number) + (finite[mid] as number)) / 2;
}

/** A number with `digits` significant digits (at least the integer part), `–` for NaN/undefined. */
export function fmt(value: number | undefined, digits = 3): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  if (abs >= 10 ** digits) return Math.round(value).toLocaleString('en-US');
  if (abs === 0) return '0';
  return Number(value.toPrecision(digits)).toLocaleString('en-US', { maximumSignificantDigits: digits });
}

/** `a / b` as a ratio like `1.03×` (`–` when either side is missing or b is 0). */
export function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return '–';
  return `${(a / b).toFixed(2)}×`;
}

/** A byte count in KiB with one decimal. */
export function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

/** The project root: the nearest directory above this module whose package.json is video-chat-element's. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'video-chat-element') {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the project root (package.json of video-chat-element)');
    dir = parent;
  }
}

/** Logs one progress line to stderr (stdout stays quiet), prefixed with the seconds since the bench started. */
const started = Date.now();
export function progress(line: string): void {
  process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
}
