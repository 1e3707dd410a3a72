/**
 * The relay's SFU with Janus unreachable (`server/src/sfu/broker.ts`), at the wire, over a real relay whose
 * `--janus-url` points at a closed port: a room that switches to the SFU cannot open its Janus room, and each member is
 * told so once (one SFU `error`, which its element shows as one `sfu-failed` warning), not once per step that failed
 * behind it (the room, then the member's own join of it); the SFU requests its element sends afterwards (its publish,
 * candidates, layers) get no further error, and no relay `error` reply either.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServerMessage } from '../../../src/protocol/relay.js';
import { freePort } from '../relay/cluster-helpers.js';
import { relayEnv, type TestClient } from '../relay/helpers.js';

const CAPS = { caps: ['sfu'] };
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The SFU `error` messages `c` received so far (after every message queued for it arrived). */
async function sfuErrors(c: TestClient): Promise<string[]> {
  await c.sync();
  return c
    .pending()
    .filter((m: ServerMessage) => m.type === 'signal' && m.from === 'sfu' && m.data['op'] === 'error')
    .map((m) => String((m as { data: { message?: unknown } }).data.message));
}

describe('the SFU with Janus unreachable', { timeout: 60_000 }, () => {
  it('each member of a room that switches hears one SFU error, and none for the requests it sends afterwards', async (t) => {
    const janusUrl = `ws://127.0.0.1:${await freePort()}`;
    const env = await relayEnv(t, { janusUrl, janusAdminKey: 'k', sfuFrom: 2 });
    const ada = await env.client();
    const bob = await env.client();
    await ada.join('u', 'Ada', CAPS);
    await bob.join('u', 'Bob', CAPS);
    // Past the connection attempt's refusal and every step behind it.
    await sleep(1_500);
    const first = [await sfuErrors(ada), await sfuErrors(bob)];
    // What an element sends on `mode`: its publish, a candidate, a layer request.
    for (const c of [ada, bob]) {
      c.send({ type: 'signal', to: 'sfu', data: { op: 'publish', sdp: 'v=0\r\n' } });
      c.send({ type: 'signal', to: 'sfu', data: { op: 'candidate', pc: 'pub', candidate: null } });
      c.send({ type: 'signal', to: 'sfu', data: { op: 'layer', mid: '1', substream: 0 } });
    }
    await sleep(1_000);
    const all = [await sfuErrors(ada), await sfuErrors(bob)];
    assert.equal(all[0]!.length, 1, `Ada: one SFU error in all: ${JSON.stringify({ first, all })}`);
    assert.equal(all[1]!.length, 1, `Bob: one SFU error in all: ${JSON.stringify({ first, all })}`);
    // Nothing else went wrong for them: no relay error, still in the room together.
    assert.deepEqual(
      [...ada.pending('error'), ...bob.pending('error')],
      [],
      'no relay error reply for their SFU requests',
    );
  });
});
