/**
 * Property-based test of the relay's routing (fast-check), against the real relay over loopback WebSockets.
 *
 * fast-check generates sequences of join / signal / leave / close operations by up to six clients across three
 * rooms of capacity three (so `room-full`, `already-joined`, `not-joined` and `unknown-peer` all occur). Signals go
 * to members of the same room, of other rooms, to oneself, to departed and made-up IDs, and carry a forged `from`.
 * A model predicts, for every client, the exact sequence of messages it must receive; after the run every client's
 * actual log must equal its predicted one, which means:
 * - zero cross-room deliveries (a signal or announcement reaching anyone the model did not predict),
 * - zero spoofed senders (every delivered `from` is the sender's real ID, whatever `from` it claimed),
 * - membership consistent: each client's view (welcome.peers, peer-joined, peer-left) equals the model's room, and
 *   the relay's own counts equal the model's.
 *
 * Operations are serialised with a barrier (an invalid frame and its error) so the model knows the order in which
 * the relay handled them; sequences run in parallel batches on separate client pools and rooms, which is what makes
 * 10 000 of them fit in well under a minute.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { startRelayProcess } from './helpers.js';
import { CAPACITY, CLIENTS, LogClient, PARALLEL, runSequence, sequence } from './property-harness.js';

/** fast-check runs; each run is a batch of {@link PARALLEL} sequences. */
const RUNS = Number(process.env['PROPERTY_RUNS'] ?? 1000);

describe('property: routing across rooms (fast-check, real relay over loopback)', () => {
  it(
    `${RUNS * PARALLEL} random join/signal/leave/close sequences: no cross-room delivery, no spoofed sender, consistent membership`,
    { timeout: 240_000 },
    async () => {
      // The relay in its own process: it gets the second core, and a crash would show as an exit.
      const e = await startRelayProcess([
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
      ]);
      const pools = await Promise.all(
        Array.from({ length: PARALLEL }, () =>
          Promise.all(Array.from({ length: CLIENTS }, () => LogClient.open(e.wsUrl))),
        ),
      );
      let sequences = 0;
      let operations = 0;
      let messages = 0;
      const started = Date.now();
      try {
        await fc.assert(
          fc.asyncProperty(fc.array(sequence, { minLength: PARALLEL, maxLength: PARALLEL }), async (batch) => {
            const results = await Promise.all(
              batch.map((ops, i) => runSequence(e.wsUrl, pools[i] as LogClient[], ops)),
            );
            sequences += batch.length;
            operations += batch.reduce((n, ops) => n + ops.length, 0);
            messages += results.reduce((n, r) => n + r.checkedMessages, 0);
            // Every room is empty again after each batch: the relay's own counts agree with the model.
            const health = await e.health();
            assert.equal(health.rooms, 0);
            assert.equal(health.peers, 0);
          }),
          { numRuns: RUNS, endOnFailure: true, includeErrorInReport: true },
        );
      } finally {
        await Promise.all(pools.flat().map((c) => c.close().catch(() => undefined)));
        assert.deepEqual(await e.stop(), { code: 0, signal: null }, 'the relay ran to the end and exited cleanly');
      }
      assert.equal(e.stderr(), '', 'no warning or error logged');
      const seconds = (Date.now() - started) / 1000;
      // The figures go to the test output (and into the note).
      process.stdout.write(
        `property: ${sequences} sequences, ${operations} operations, ${messages} messages checked, ` +
          `${seconds.toFixed(1)} s\n`,
      );
      assert.ok(sequences >= RUNS * PARALLEL);
    },
  );
});
