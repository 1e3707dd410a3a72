/**
 * Simulcast layers in a room on the SFU (issue 12), without browsers or Janus:
 * - the wire's `layer` op both ways (src/protocol/sfu.ts): accepted shapes, refusals with a reason;
 * - the relay's side (server/src/sfu/layers.ts): a request becomes a subscriber `configure` on the sender's own
 *   handle, failures an SFU `error`; Janus's `substream` event becomes a `layer` delivery;
 * - the element's choice per tile and its debounced, confirmed requests (src/call/sfu-layers.ts), with a fake clock;
 * - the governor's caps of the three layers (src/negotiation/simulcast-caps.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseLayer, LayerRequests, MANY_TILES, MAX_TRIES } from '../../../src/call/sfu-layers.js';
import { DEFAULT_BUDGET } from '../../../src/negotiation/bandwidth.js';
import { simulcastCaps } from '../../../src/negotiation/simulcast-caps.js';
import {
  parseSfuDelivery,
  parseSfuRequest,
  SFU_LAYER_INTERVAL_MS,
  type SfuDelivery,
} from '../../../src/protocol/sfu.js';
import { createLogger } from '../../../server/src/log.js';
import { layerEvent, requestLayer } from '../../../server/src/sfu/layers.js';

const log = createLogger('silent');

describe('the layer op on the wire', () => {
  it('parses a request and a delivery, and refuses a bad mid or substream', () => {
    assert.deepEqual(parseSfuRequest({ op: 'layer', mid: '1', substream: 2 }), {
      ok: true,
      value: { op: 'layer', mid: '1', substream: 2 },
    });
    assert.deepEqual(parseSfuDelivery({ op: 'layer', mid: 'v1', substream: 0 }), {
      ok: true,
      value: { op: 'layer', mid: 'v1', substream: 0 },
    });
    for (const bad of [
      { op: 'layer', mid: '1', substream: 3 },
      { op: 'layer', mid: '1', substream: -1 },
      { op: 'layer', mid: '1', substream: '1' },
      { op: 'layer', mid: '1', substream: 1.5 },
      { op: 'layer', mid: '', substream: 1 },
      { op: 'layer', mid: 'x'.repeat(33), substream: 1 },
      { op: 'layer', mid: 'a b', substream: 1 },
      { op: 'layer', substream: 1 },
    ]) {
      const request = parseSfuRequest(bad);
      assert.equal(request.ok, false, JSON.stringify(bad));
      assert.match(request.ok ? '' : request.error.message, /sfu layer must be/);
      assert.equal(parseSfuDelivery(bad).ok, false, JSON.stringify(bad));
    }
  });
});

describe("the relay's layer requests (server/src/sfu/layers.ts)", () => {
  it("configures the sender's own subscriber handle with the mid and substream", async () => {
    const sent: unknown[] = [];
    const replies: SfuDelivery[] = [];
    const sub = { message: (body: Record<string, unknown>) => (sent.push(body), Promise.resolve({ data: {} })) };
    await requestLayer({ id: 'a', sub, gone: false }, { mid: '1', substream: 0 }, (d) => replies.push(d), log);
    assert.deepEqual(sent, [{ request: 'configure', streams: [{ mid: '1', substream: 0 }] }]);
    assert.deepEqual(replies, []);
  });

  it('answers an SFU error without a subscription or when Janus refuses, never throws', async () => {
    const replies: SfuDelivery[] = [];
    await requestLayer(
      { id: 'a', sub: undefined, gone: false },
      { mid: '1', substream: 1 },
      (d) => replies.push(d),
      log,
    );
    const refusing = { message: () => Promise.reject(new Error('No such mid')) };
    await requestLayer(
      { id: 'a', sub: refusing, gone: false },
      { mid: '9', substream: 1 },
      (d) => replies.push(d),
      log,
    );
    await requestLayer({ id: 'a', sub: refusing, gone: true }, { mid: '9', substream: 1 }, (d) => replies.push(d), log);
    assert.deepEqual(replies, [
      { op: 'error', message: 'layer: no subscription yet' },
      { op: 'error', message: 'layer: No such mid' },
    ]);
  });

  it("turns Janus's substream event into a layer delivery, and nothing else", () => {
    assert.deepEqual(layerEvent({ data: { videoroom: 'event', room: 'r', mid: '1', substream: 2 } }), {
      op: 'layer',
      mid: '1',
      substream: 2,
    });
    assert.equal(layerEvent({ data: { videoroom: 'event', mid: '1', temporal: 2 } }), undefined);
    assert.equal(layerEvent({ data: { videoroom: 'event', mid: '1', substream: 5 } }), undefined);
    assert.equal(layerEvent({ data: { videoroom: 'updated', mid: '1', substream: 1 } }), undefined);
    assert.equal(layerEvent({ data: { videoroom: 'event', configured: 'ok' } }), undefined);
  });
});

describe('the layer each tile gets (src/call/sfu-layers.ts)', () => {
  it('focused high, grid medium, many tiles or a poor connection low', () => {
    assert.equal(chooseLayer({ focused: true, tiles: 8, quality: 'poor' }), 2);
    assert.equal(chooseLayer({ focused: false, tiles: 1 }), 1);
    assert.equal(chooseLayer({ focused: false, tiles: MANY_TILES, quality: 'fair' }), 1);
    assert.equal(chooseLayer({ focused: false, tiles: MANY_TILES + 1, quality: 'good' }), 0);
    assert.equal(chooseLayer({ focused: false, tiles: 2, quality: 'poor' }), 0);
  });

  it('asks at most once per interval per tile, stops once confirmed, asks again for a new wish', () => {
    const sent: string[] = [];
    const r = new LayerRequests((key, layer) => sent.push(`${key}:${layer}`));
    const T = SFU_LAYER_INTERVAL_MS;
    r.want('a', 1, 0);
    r.want('a', 1, 100);
    r.want('b', 0, 100); // another tile is not held back by a's interval
    r.want('a', 2, 200); // a new wish within the interval waits
    assert.deepEqual(sent, ['a:1', 'b:0']);
    r.want('a', 2, T);
    assert.deepEqual(sent, ['a:1', 'b:0', 'a:2']);
    r.confirmed('a', 2, T + 300);
    assert.equal(r.layer('a'), 2);
    r.want('a', 2, 10 * T); // confirmed: nothing to ask
    r.want('a', 1, T + 400); // too soon after the switch completed: Janus would drop it
    assert.deepEqual(sent, ['a:1', 'b:0', 'a:2']);
    r.want('a', 1, 2 * T + 300);
    assert.deepEqual(sent, ['a:1', 'b:0', 'a:2', 'a:1']);
  });

  it(`asks again when unconfirmed, at most ${MAX_TRIES} times for one wish`, () => {
    const sent: number[] = [];
    const r = new LayerRequests((_, layer) => sent.push(layer), 1000);
    for (let t = 0; t <= 10_000; t += 500) r.want('a', 2, t);
    assert.deepEqual(sent, [2, 2, 2]);
    r.confirmed('a', 0, 10_100); // Janus fell back to the low layer: a new wish of medium is asked for
    r.want('a', 1, 11_100);
    assert.deepEqual(sent, [2, 2, 2, 1]);
    r.delete('a');
    assert.equal(r.layer('a'), undefined);
  });
});

describe("the governor's caps of the three layers (src/negotiation/simulcast-caps.ts)", () => {
  it('gives 1,500 / 500 / 150 kbps at full, half and quarter size with the default budget', () => {
    assert.deepEqual(simulcastCaps(), [
      { rid: 'h', maxBitrate: 1_500_000, scaleResolutionDownBy: 1 },
      { rid: 'm', maxBitrate: 500_000, scaleResolutionDownBy: 2 },
      { rid: 'l', maxBitrate: 150_000, scaleResolutionDownBy: 4 },
    ]);
    assert.deepEqual(simulcastCaps(DEFAULT_BUDGET), simulcastCaps(), 'the default is DEFAULT_BUDGET');
  });

  it('follows the budget: a screen share, a small uplink, a large camera; each layer at most half the one above', () => {
    const kbps = (caps: RTCRtpEncodingParameters[]) => caps.map((c) => (c.maxBitrate ?? 0) / 1000);
    assert.deepEqual(kbps(simulcastCaps(DEFAULT_BUDGET, { sharingScreen: true })), [600, 200, 60]);
    assert.deepEqual(kbps(simulcastCaps({ ...DEFAULT_BUDGET, uplinkKbps: 300 })), [180, 90, 45]);
    assert.deepEqual(kbps(simulcastCaps({ ...DEFAULT_BUDGET, uplinkKbps: 10_000 })), [1500, 750, 375]);
    assert.deepEqual(
      simulcastCaps(DEFAULT_BUDGET, { sourceShortSide: 1080 }).map((c) => c.scaleResolutionDownBy),
      [1.5, 3, 6],
    );
    assert.deepEqual(
      simulcastCaps(DEFAULT_BUDGET, { sourceShortSide: 240 }).map((c) => c.scaleResolutionDownBy),
      [1, 2, 4],
    );
  });
});
