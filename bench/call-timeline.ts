/**
 * `BENCH_TIMELINE=1` for the call benchmark (bench/call-bench.ts): a Chrome trace of every page from the join until
 * the call is set up (CDP `Tracing`, through puppeteer's `page.tracing`; categories `devtools.timeline`, `blink`,
 * `cc`, `viz`, `media`, `webrtc`; not `v8`, whose volume stalled a run), summed per variant over all pages and calls: the renderer main thread's self time
 * by trace event name (what a CPU profile shows only as "(program)": style, layout, paint, media element loads,
 * WebRTC calls into other threads, garbage collection…), and the busy time of the top-level events of every thread
 * by thread name (compositor, media, WebRTC threads of each process). Diagnostic only: tracing costs CPU too, so do
 * not read setup times of such a run; compare ours and the baseline within it.
 *
 * @module
 */
import type { Page } from 'puppeteer-core';

/** Trace categories recorded. */
const CATEGORIES = ['devtools.timeline', 'blink', 'cc', 'viz', 'media', 'webrtc'];

interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: { name?: string; data?: { message?: string } };
}

/** Per variant: main-thread self ms by event name, and top-level busy ms by thread name. */
export interface Timeline {
  main: Map<string, number>;
  threads: Map<string, number>;
  /** Pages traced, and the sum of their windows (ms). */
  pages: number;
  windowMs: number;
  /** Where each page's window starts (`BENCH_TIMELINE=welcome`: at its first `welcome`); unset: the join. */
  from?: string;
}

/** Starts tracing `page`. */
export async function startTimeline(page: Page): Promise<void> {
  await page.tracing.start({ categories: CATEGORIES });
}

/**
 * Stops tracing `page` and adds its events from the page's `console.timeStamp('bench-join')` for `windowMs` (until
 * its last first frame) to `into` (see the module comment); events are cut at the window's edges.
 */
export async function stopTimeline(
  page: Page,
  into: Timeline,
  windowMs: number,
  from: 'bench-join' | 'bench-welcome' = 'bench-join',
): Promise<void> {
  const data = await page.tracing.stop();
  if (!data) return;
  const { traceEvents } = JSON.parse(Buffer.from(data).toString('utf8')) as { traceEvents: TraceEvent[] };
  const start = traceEvents.find((e) => e.name === 'TimeStamp' && e.args?.data?.message === from)?.ts;
  if (start === undefined) throw new Error(`timeline: no ${from} mark in the trace`);
  const stop = start + windowMs * 1000;
  into.pages += 1;
  into.windowMs += windowMs;
  const names = new Map<string, string>();
  for (const e of traceEvents)
    if (e.ph === 'M' && e.name === 'thread_name') names.set(`${e.pid}:${e.tid}`, e.args?.name ?? '?');
  // Complete events per thread (B/E pairs made complete), by start time; a stack gives each its self time.
  const byThread = new Map<string, { name: string; ts: number; end: number }[]>();
  const open = new Map<string, TraceEvent[]>();
  for (const e of traceEvents) {
    const key = `${e.pid}:${e.tid}`;
    const list = byThread.get(key) ?? byThread.set(key, []).get(key)!;
    const cut = (name: string, ts: number, end: number): void => {
      if (end > start && ts < stop) list.push({ name, ts: Math.max(ts, start), end: Math.min(end, stop) });
    };
    if (e.ph === 'X' && e.dur !== undefined) cut(e.name, e.ts, e.ts + e.dur);
    else if (e.ph === 'B') (open.get(key) ?? open.set(key, []).get(key)!).push(e);
    else if (e.ph === 'E') {
      const b = open.get(key)?.pop();
      if (b) cut(b.name, b.ts, e.ts);
    }
  }
  for (const [key, list] of byThread) {
    const thread = names.get(key) ?? '?';
    list.sort((a, b) => a.ts - b.ts || b.end - a.end);
    const stack: { name: string; end: number; self: number }[] = [];
    const pop = (): void => {
      const done = stack.pop()!;
      if (thread === 'CrRendererMain') into.main.set(done.name, (into.main.get(done.name) ?? 0) + done.self / 1000);
    };
    for (const e of list) {
      while (stack.length > 0 && stack[stack.length - 1]!.end <= e.ts) pop();
      const parent = stack[stack.length - 1];
      const end = parent ? Math.min(e.end, parent.end) : e.end;
      if (parent) parent.self -= end - e.ts;
      else into.threads.set(thread, (into.threads.get(thread) ?? 0) + (end - e.ts) / 1000);
      stack.push({ name: e.name, end, self: end - e.ts });
    }
    while (stack.length > 0) pop();
  }
}

/** The printed summary of one variant's timeline. */
export function timelineTable(label: string, t: Timeline): string {
  const top = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, ms]) => `  ${ms.toFixed(1).padStart(9)} ms  ${name}`);
  const total = [...t.main.values()].reduce((a, b) => a + b, 0);
  return [
    `timeline ${label}: ${t.pages} pages, ${t.from ?? 'join'} → last first frame ${t.windowMs.toFixed(0)} ms in all; renderer main thread busy ${total.toFixed(1)} ms; self time by event:`,
    ...top(t.main, 30),
    `  busy time (top-level events) by thread:`,
    ...top(t.threads, 20),
  ].join('\n');
}
