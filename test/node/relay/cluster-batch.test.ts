/**
 * The cross-process fast path batched per destination (`server/src/redis/outbox.ts`, issue 11): signals leaving a
 * relay for the same relay within one turn go in one `PUBLISH`, split on arrival in order. The format's round trip is
 * unit-tested; the batching itself against a real `redis-server` and two relay processes (Redis's own count of
 * `PUBLISH` commands).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { joinBatch, splitBatch } from '../../../server/src/redis/outbox.js';
import { TestClient } from './helpers.js';
import { CALM_ARGS, startRedis, startRelays, type RedisServer } from './cluster-helpers.js';

const split = (text: string): string[] => {
  const out: string[] = [];
  splitBatch(text, (m) => out.push(m));
  return out;
};

/** `PUBLISH` commands Redis has executed so far (`INFO commandstats`). */
async function publishCalls(redis: RedisServer): Promise<number> {
  const info = await redis.cli('INFO', 'commandstats');
  return Number(/cmdstat_publish:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

describe('batches of the cross-process fast path', () => {
  it('splits what it joined, in order, whatever the messages hold (digits, colons, newlines, any text)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1, maxLength: 80, unit: 'grapheme' }), { minLength: 2 }),
        (messages) => {
          assert.deepEqual(split(joinBatch(messages)), messages);
        },
      ),
    );
    assert.deepEqual(split(joinBatch(['f1 2 3 r\n{"a":"12:x"}', 'm9 n t', '3:abc'])), [
      'f1 2 3 r\n{"a":"12:x"}',
      'm9 n t',
      '3:abc',
    ]);
  });

  it('stops at the first malformed entry, handing on what came before it', () => {
    assert.deepEqual(split('b3:abc9:de'), ['abc']);
    assert.deepEqual(split('b3:abcx:de'), ['abc']);
    assert.deepEqual(split('b0:3:abc'), []);
    assert.deepEqual(split('b3abc'), []);
    assert.deepEqual(split('b99999999999:a'), []);
  });

  it('a burst of signals to another relay goes out in far fewer PUBLISH commands than signals, and arrives once each, in order', async (t) => {
    const redis = await startRedis(t);
    const [a, b] = await startRelays(t, redis, 2, [], CALM_ARGS);
    assert.ok(a && b);
    const ada = await TestClient.connect(a.wsUrl);
    const bob = await TestClient.connect(b.wsUrl);
    t.after(() => Promise.all([ada.close(), bob.close()]));
    await ada.join('batch', 'Ada');
    const wb = await bob.join('batch', 'Bob');
    assert.equal((await ada.next('peer-joined')).peer.id, wb.id);
    ada.send({ type: 'signal', to: wb.id, data: { i: 0 } });
    assert.deepEqual((await bob.next('signal')).data, { i: 0 });

    const before = await publishCalls(redis);
    const BURST = 200;
    // One WebSocket write: the relay reads the whole burst in one turn, or a few.
    const frames = Array.from({ length: BURST }, (_, k) =>
      JSON.stringify({ type: 'signal', to: wb.id, data: { i: k + 1 } }),
    );
    for (const frame of frames) ada.socket.send(frame);
    const got: number[] = [];
    for (let k = 0; k < BURST; k++) got.push(((await bob.next('signal')).data as { i: number }).i);
    assert.deepEqual(
      got,
      Array.from({ length: BURST }, (_, k) => k + 1),
    );
    const published = (await publishCalls(redis)) - before;
    // Other PUBLISHes in that time: the relays' canaries (a few a second). Unbatched it would be ≥ BURST.
    assert.ok(published < BURST / 4, `${published} PUBLISH commands for ${BURST} signals`);
    await bob.sync();
    assert.deepEqual(bob.pending('signal'), [], 'each once');
  });
});
