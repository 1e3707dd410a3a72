/**
 * Push-back across processes (decision 0003, issue 11): a sender on one relay whose addressee on another relay does
 * not read gets what one relay answers (`rate-limited`, "peer … is not reading fast enough"), and the slow reader is
 * neither dropped nor sent more than it can take. Real parts: a `redis-server` and two relay processes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_MESSAGE_BYTES } from '../../../src/protocol/relay.js';
import { stopReading, TestClient, WAIT_MS } from './helpers.js';
import { CALM_ARGS, metric, startRedis, startRelays, waitFor } from './cluster-helpers.js';
import type { Socket } from 'node:net';

describe('push-back across processes', () => {
  it('a sender on relay a to a reader on relay b that stops reading gets rate-limited naming the reader; the reader stays connected and gets every signal that was not refused', async (t) => {
    const redis = await startRedis(t);
    const [a, b] = await startRelays(t, redis, 2, [], CALM_ARGS);
    assert.ok(a && b);
    const ada = await TestClient.connect(a.wsUrl);
    const bob = await TestClient.connect(b.wsUrl);
    t.after(() => Promise.all([ada.close(), bob.close()]));
    await ada.join('slow', 'Ada');
    const wb = await bob.join('slow', 'Bob');
    assert.equal((await ada.next('peer-joined')).peer.id, wb.id);
    ada.send({ type: 'signal', to: wb.id, data: { i: -1 } });
    assert.deepEqual((await bob.next('signal')).data, { i: -1 });

    // Bob's tab hangs: nothing b sends him is read. Ada sends him ~26 MB, more than the kernel buffers take.
    stopReading(bob);
    const payload = 'p'.repeat(MAX_MESSAGE_BYTES - 200);
    const SENT = 400;
    for (let i = 0; i < SENT; i++) ada.send({ type: 'signal', to: wb.id, data: { i, payload } });
    const first = await ada.next('error');
    assert.equal(first.code, 'rate-limited', JSON.stringify(first));
    assert.equal(
      first.message,
      `peer ${JSON.stringify(wb.id)} is not reading fast enough: signal not delivered, send it again later`,
    );

    // Bob reads again: every signal is either refused to Ada or delivered to Bob, once, in order.
    (bob.socket as unknown as { _socket: Socket })._socket.resume();
    const refused = (): number => 1 + ada.pending('error').length;
    await waitFor(
      () => refused() + bob.pending('signal').length >= SENT,
      'every signal refused or delivered',
      WAIT_MS * 2,
    );
    for (const error of ada.pending('error')) {
      assert.ok(error.type === 'error' && error.code === 'rate-limited' && error.message === first.message);
    }
    const got = bob.pending('signal').map((s) => (s.type === 'signal' ? (s.data as { i: number }).i : NaN));
    assert.equal(got.length, SENT - refused());
    assert.deepEqual(
      got,
      [...got].sort((x, y) => x - y),
      'in send order',
    );
    assert.equal(bob.socket.readyState, bob.socket.OPEN, 'the slow reader is still connected');
    assert.equal(await metric(a, 'video_chat_route_total', { outcome: 'slow' }), refused());
    await bob.sync();
    await ada.sync();
    assert.equal(bob.pending('signal').length, SENT - refused(), 'nothing more arrived');
  });
});
