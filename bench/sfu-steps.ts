/**
 * The steps of the SFU benchmark (bench/sfu-bench.ts) on its pages: open them, join them one after the other, wait
 * until media flows and the connections are the mode's, read their statistics, leave; and the CPU of a process tree.
 * Every wait is bounded.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import type { Page, Browser } from 'puppeteer-core';
import { processTree } from './procs.js';
import { diagnoseSfuPage, instrumentSfuPage, readSample, type PageSample } from './sfu-page.js';
import { sleep, withTimeout } from './util.js';

/** Longest wait for a room to show everyone's media, or for the switch to finish. */
export const READY_MS = 90_000;
/** Longest wait for one page's welcome after its join (the joins go one after the other). */
export const WELCOME_MS = 20_000;
/** Longest wait for one page to answer a read. */
export const EVALUATE_MS = 30_000;

/**
 * The camera size every page asks for, px: `SFU_BENCH_CAMERA=<width>x<height>` (default 320x240, one simulcast layer
 * in Chromium; 640x360 sends two, 960x540 three).
 */
export const CAMERA: [number, number] = (() => {
  const raw = process.env['SFU_BENCH_CAMERA'] ?? '320x240';
  const m = /^(\d{2,4})x(\d{2,4})$/.exec(raw);
  if (!m) throw new Error(`SFU_BENCH_CAMERA must be <width>x<height> (e.g. 640x360), not ${JSON.stringify(raw)}`);
  return [Number(m[1]), Number(m[2])];
})();

/** A room's media mode. */
export type Mode = 'mesh' | 'sfu';

/** Opens one instrumented page of `bench/call-ours.html` per browser. */
export async function openPages(browsers: Browser[], pagesUrl: string): Promise<Page[]> {
  const pages: Page[] = [];
  try {
    for (const browser of browsers) {
      const page = await withTimeout(browser.newPage(), 15_000, 'opening a page');
      pages.push(page);
      await page.evaluateOnNewDocument(instrumentSfuPage, CAMERA);
      await page.goto(`${pagesUrl}ours.html`, { waitUntil: 'load', timeout: 20_000 });
      await page.waitForFunction(() => customElements.get('video-chat') !== undefined, { timeout: 20_000 });
    }
  } catch (error) {
    await leaveRoom(pages);
    throw error;
  }
  return pages;
}

/**
 * Makes each page join `room` on `signalUrl`, one after the other: each waits (≤ {@link WELCOME_MS}) for its welcome
 * (the element `in-call` or `waiting`) before the next joins, so that a starved machine does not negotiate every
 * connection of a 5-person mesh at once (all joining together, 4 of 5 meshes never got going at load 30–90).
 */
export async function join(pages: Page[], signalUrl: string, room: string): Promise<void> {
  for (const [i, page] of pages.entries()) {
    await withTimeout(
      page.evaluate(
        (r: string, u: string) =>
          void (window as unknown as { benchJoin(room: string, url: string): unknown }).benchJoin(r, u),
        room,
        signalUrl,
      ),
      10_000,
      `page ${i}: joining`,
    );
    const deadline = Date.now() + WELCOME_MS;
    let state = 'no answer';
    for (let n = 0; n < 100 && Date.now() < deadline; n++) {
      state = await withTimeout(
        page.evaluate(() => (document.querySelector('video-chat') as (HTMLElement & { state?: string }) | null)?.state),
        EVALUATE_MS,
        'reading the state',
      ).then(
        (s) => s ?? 'no element',
        () => 'no answer',
      );
      if (state === 'in-call' || state === 'waiting') break;
      await sleep(200);
    }
    if (state !== 'in-call' && state !== 'waiting') {
      throw new Error(`page ${i} not welcomed within ${WELCOME_MS} ms of its join (state: ${state})`);
    }
  }
}

/**
 * Waits (≤ READY_MS) until every page shows `others` remote pictures (`videoWidth > 0`) and decodes video on at least
 * `others` streams (`framesDecoded` grew over 1 s); else throws with every page's connection states and the element's
 * warnings and errors. A page too starved to answer within {@link EVALUATE_MS} counts as not ready yet (this machine is
 * shared: at load average 30–60 a page sometimes takes over 10 s to answer), not as a failure.
 */
export async function waitFlowing(pages: Page[], others: number): Promise<void> {
  const deadline = Date.now() + READY_MS;
  const tryAll = (): Promise<(PageSample | undefined)[]> =>
    Promise.all(pages.map((p) => sample(p).catch(() => undefined)));
  let last = '';
  for (let i = 0; i < 200 && Date.now() < deadline; i++) {
    const before = await tryAll();
    await sleep(1_000);
    const after = await tryAll();
    const ready = after.map((s, j) => {
      const then = new Map((before[j]?.inbound ?? []).map((x) => [x.key, x.framesDecoded]));
      const decoding = (s?.inbound ?? []).filter((x) => x.framesDecoded > (then.get(x.key) ?? Infinity)).length;
      return s !== undefined && s.pictures === others && decoding >= others;
    });
    if (ready.every(Boolean)) return;
    last = after.map((s, j) => `page ${j}: ${s ? `${s.pictures} pictures` : 'no answer'}`).join(', ');
  }
  const why = await Promise.all(
    pages.map((p, i) =>
      withTimeout(p.evaluate(diagnoseSfuPage), EVALUATE_MS, 'diagnosing').then(
        (d) => `page ${i}: ${d}`,
        (e: unknown) => `page ${i}: ${String(e)}`,
      ),
    ),
  );
  throw new Error(`media from ${others} not flowing within ${READY_MS} ms (${last})\n  ${why.join('\n  ')}`);
}

export async function leaveRoom(pages: Page[]): Promise<void> {
  for (const page of pages) await withTimeout(page.close(), 10_000, 'closing a page').catch(() => undefined);
  // Let the relay see them go and (SFU) Janus destroy the room before the next one.
  await sleep(1_000);
}

export const sample = (page: Page): Promise<PageSample> =>
  withTimeout(page.evaluate(readSample), EVALUATE_MS, 'reading stats');

/** Throws unless every page's connections are those of `mode` (SFU: two; mesh: one per other participant). */
export function checkMode(samples: PageSample[], mode: Mode, size: number): void {
  for (const [i, s] of samples.entries()) {
    const ok = mode === 'sfu' ? s.sfu && s.open === 2 : !s.sfu && s.open === size - 1;
    if (!ok) throw new Error(`page ${i} is not in ${mode} with ${size}: sfu=${s.sfu}, open connections ${s.open}`);
  }
}

/** Waits (≤ READY_MS) until every page's connections are those of `mode`. */
export async function waitForMode(pages: Page[], mode: Mode, size: number): Promise<void> {
  const deadline = Date.now() + READY_MS;
  for (let i = 0; ; i++) {
    try {
      checkMode(await Promise.all(pages.map(sample)), mode, size);
      return;
    } catch (error) {
      // Not there yet, or a page too starved to answer: both are retried until the deadline.
      if (Date.now() > deadline || i > 600) throw error;
    }
    await sleep(250);
  }
}

export const CLOCK_TICKS = 100;

/**
 * CPU time (user + system) of `pid` and its live descendants, µs, from /proc/PID/stat (proc(5): utime + stime, fields
 * 14 and 15, in clock ticks; `getconf CLK_TCK` is 100 on Linux x86-64). Not procs.ts's per-thread schedstat sum: that
 * forgets the time of threads that ended, and Janus ends a thread with every session and handle it drops (a mesh
 * window read a negative Janus CPU that way); a process's stat counts its ended threads too.
 */
export function cpuMicros(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      // The command name (field 2) may hold spaces and parentheses: split after its closing parenthesis.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited in between
    }
  }
  return (ticks * 1e6) / CLOCK_TICKS;
}

/** Sum of the deltas of `value` over the keys present in both snapshots. */
export function delta<T extends { key: string }>(before: T[], after: T[], value: (x: T) => number): number {
  const then = new Map(before.map((x) => [x.key, x]));
  let sum = 0;
  for (const x of after) {
    const old = then.get(x.key);
    if (old) sum += value(x) - value(old);
  }
  return sum;
}

/** `read()` within EVALUATE_MS, asked up to 3 times (a starved page may not answer at once). */
export async function patiently<T>(read: () => Promise<T>, what: string): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await withTimeout(read(), EVALUATE_MS, what);
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
}
