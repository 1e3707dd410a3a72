/**
 * The routing property test (`property.test.ts`: no cross-room delivery, no spoofed sender, consistent membership,
 * each client receiving exactly what the model predicts) against **two relay processes sharing a Redis** (issue 11):
 * the clients of each sequence are spread over both, so joins, signals, leaves and closes cross processes.
 *
 * Between operations the harness waits until every effect that travels between the processes has arrived (a fence:
 * one client per process in a room of its own signals the other one; Redis delivers a process's channel in publish
 * order, so the fence comes after everything published before it), then plays the next: the model stays exact.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ServerMessage } from '../../../src/protocol/relay.js';
import { waitFor } from './helpers.js';
import { CALM_ARGS, startRedis, startRelays } from './cluster-helpers.js';
import { CAPACITY, CLIENTS, LogClient, PARALLEL, runSequence, sequence } from './property-harness.js';

/** fast-check runs; each run is a batch of {@link PARALLEL} sequences (fewer than in one process: each op is fenced). */
const RUNS = Number(process.env['PROPERTY_CLUSTER_RUNS'] ?? 50);

/** Two clients, one on each process, in a room of their own: {@link Fence.settle} waits for a signal both ways. */
class Fence {
  #n = 0;
  constructor(
    readonly a: LogClient,
    readonly b: LogClient,
    readonly ids: [string, string],
  ) {}

  static async open(urls: [string, string], room: string): Promise<Fence> {
    const a = await LogClient.open(urls[0]);
    const b = await LogClient.open(urls[1]);
    await a.sendThenBarrier({ type: 'join', room });
    await b.sendThenBarrier({ type: 'join', room });
    const idOf = (log: ServerMessage[]): string => {
      const welcome = log.find((m) => m.type === 'welcome');
      assert.ok(welcome?.type === 'welcome');
      return welcome.id;
    };
    const fence = new Fence(a, b, [idOf(a.log), idOf(b.log)]);
    await waitFor(() => a.log.some((m) => m.type === 'peer-joined'), 'the fence peers');
    a.log.splice(0);
    b.log.splice(0);
    return fence;
  }

  async settle(): Promise<void> {
    const n = ++this.#n;
    this.a.send({ type: 'signal', to: this.ids[1], data: { n } });
    this.b.send({ type: 'signal', to: this.ids[0], data: { n } });
    const got = (log: ServerMessage[]): boolean => log.some((m) => m.type === 'signal');
    await waitFor(() => got(this.a.log) && got(this.b.log), 'the fence signals');
    for (const log of [this.a.log, this.b.log]) {
      assert.deepEqual(
        log.splice(0).map((m) => m.type),
        ['signal'],
        'the fence room hears nothing else',
      );
    }
  }
}

describe('property: routing across rooms and relay processes (fast-check, two relays sharing a Redis)', () => {
  it(
    `${RUNS * PARALLEL} random join/signal/leave/close sequences over two processes: no cross-room delivery, no spoofed sender, consistent membership`,
    { timeout: 300_000 },
    async (t) => {
      const redis = await startRedis(t);
      const relays = await startRelays(
        t,
        redis,
        2,
        [
          '--max-peers-per-room',
          String(CAPACITY),
          '--max-connections-per-ip',
          '0',
          '--rate-limit-per-second',
          '1000000',
          '--rate-limit-burst',
          '1000000',
          '--join-timeout-ms',
          String(2 ** 31 - 1),
          '--log-level',
          'warn',
        ],
        CALM_ARGS,
      );
      const urls = relays.map((r) => r.wsUrl) as [string, string];
      // Pool p's client i is on process (i + p) % 2.
      const urlOf = (p: number) => (i: number) => urls[(i + p) % 2] as string;
      const pools = await Promise.all(
        Array.from({ length: PARALLEL }, (_, p) =>
          Promise.all(Array.from({ length: CLIENTS }, (_, i) => LogClient.open(urlOf(p)(i)))),
        ),
      );
      const fences = await Promise.all(Array.from({ length: PARALLEL }, (_, p) => Fence.open(urls, `fence-${p}`)));
      let sequences = 0;
      let operations = 0;
      let messages = 0;
      try {
        await fc.assert(
          fc.asyncProperty(fc.array(sequence, { minLength: PARALLEL, maxLength: PARALLEL }), async (batch) => {
            const results = await Promise.all(
              batch.map((ops, p) =>
                runSequence(urlOf(p), pools[p] as LogClient[], ops, () => (fences[p] as Fence).settle()),
              ),
            );
            sequences += batch.length;
            operations += batch.reduce((n, ops) => n + ops.length, 0);
            messages += results.reduce((n, r) => n + r.checkedMessages, 0);
            // Every sequence's rooms are empty again: only the fence rooms' one member per process remains.
            for (const relay of relays) {
              const health = await relay.health();
              assert.deepEqual([health.rooms, health.peers], [PARALLEL, PARALLEL]);
            }
          }),
          { numRuns: RUNS, endOnFailure: true, includeErrorInReport: true },
        );
      } finally {
        await Promise.all(
          [...pools.flat(), ...fences.flatMap((f) => [f.a, f.b])].map((c) => c.close().catch(() => undefined)),
        );
      }
      for (const relay of relays) {
        assert.deepEqual(await relay.stop(), { code: 0, signal: null }, 'each relay ran to the end and exited cleanly');
        assert.equal(relay.stderr(), '', 'no warning or error logged');
      }
      process.stdout.write(
        `property (two processes): ${sequences} sequences, ${operations} operations, ${messages} messages checked\n`,
      );
      assert.ok(sequences >= RUNS * PARALLEL);
    },
  );
});
