/**
 * What every probe of the embed doctor shares: building a {@link DiagnosisCheck}, and waiting within a time limit.
 * @module
 */
import type { DiagnosisCheck, DiagnosisCheckName, DiagnosisCode, DiagnosisResult } from '../diagnosis.js';

/** A check's outcome; `code` says why it did not pass. */
export const check = (
  name: DiagnosisCheckName,
  result: DiagnosisResult,
  detail: string,
  code?: DiagnosisCode,
): DiagnosisCheck => (code ? { check: name, result, code, detail } : { check: name, result, detail });

/** A check that could not finish within `ms`. */
export const timedOut = (name: DiagnosisCheckName, ms: number, what: string): DiagnosisCheck =>
  check(name, 'unknown', `no answer from ${what} within ${ms} ms`, 'timeout');

/**
 * `work`'s value, or `fallback()`'s once `ms` ms passed without it. `work` gets an `AbortSignal` that is aborted
 * either way when this settles, so it can release what it opened (a socket, a peer connection).
 */
export async function within<T>(ms: number, work: (signal: AbortSignal) => Promise<T>, fallback: () => T): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      work(controller.signal),
      new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback()), ms))),
    ]);
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}
