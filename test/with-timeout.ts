/**
 * The one "settle within a time limit" helper of the tests and benchmarks (re-exported by test/node/relay/helpers.ts,
 * test/e2e/harness.ts and bench/util.ts). A bound on waiting, never a measurement: tests assert no wall time.
 * @module
 */

/** `promise`, or a rejection naming `what` after `ms` ms. The timer is cleared either way. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
