/**
 * The element's layer choice against what the publisher sends (src/call/sfu-layers.ts, issue 12): Chromium drops the
 * lowest simulcast layers of a small camera (measured on the SFU: 320×240 sends only `h`, 640×360 and 640×480 `h` and
 * `m`, 960×540 all three), so a receiver asks only for a layer its publisher announced (`{ sfu: { layers } }`).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { layerToAsk, parseLayers, RID_LAYER, UNANNOUNCED_MS } from '../../../src/call/sfu-layers.js';

describe('the layer asked for, given the layers the publisher sends', () => {
  it('asks nothing of a publisher that sends one layer (Chromium at 320×240): Janus forwards it anyway', () => {
    for (const wanted of [0, 1, 2] as const) assert.equal(layerToAsk(wanted, [2]), undefined);
  });

  it('asks for the wish when sent, else the nearest sent layer above it, else the highest below it', () => {
    assert.equal(layerToAsk(1, [2, 1]), 1);
    assert.equal(layerToAsk(2, [2, 1]), 2);
    assert.equal(layerToAsk(0, [2, 1]), 1); // Chromium at 640×480: no low layer, the medium is the nearest
    assert.equal(layerToAsk(0, [2, 1, 0]), 0);
    assert.equal(layerToAsk(2, [1, 0]), 1); // the high one stopped (bandwidth): the best one sent
    assert.equal(layerToAsk(1, [2, 0]), 2);
  });

  it('asks for nothing while a publisher has not announced its layers, then for the wish as it is', () => {
    for (const wanted of [0, 1, 2] as const) {
      // A switch: the announcement comes about 1 s after the publish; a request before it costs a key frame.
      assert.equal(layerToAsk(wanted, undefined, 0), undefined);
      assert.equal(layerToAsk(wanted, [], UNANNOUNCED_MS - 1), undefined);
      // An element before announcements never says: its tiles still get the layer they need.
      assert.equal(layerToAsk(wanted, undefined, UNANNOUNCED_MS), wanted);
      assert.equal(layerToAsk(wanted, []), wanted);
    }
    assert.equal(layerToAsk(1, [2, 1], 0), 1, 'announced: at once');
  });

  it('asks for nothing until Janus confirmed the layer a new subscription started on (the lowest), then grows it', () => {
    // The relay subscribes each feed on the lowest layer: asking before Janus's first `substream` event would make
    // Janus start this feed's decoder on the layer asked for (a switch then starts four large decoders at once).
    assert.equal(layerToAsk(1, [2, 1, 0], 0, false), undefined, 'announced, not started yet');
    assert.equal(layerToAsk(2, [2, 1, 0], UNANNOUNCED_MS - 1, false), undefined);
    assert.equal(layerToAsk(1, [2, 1, 0], 0, true), 1, 'started on the lowest: the grid tile grows to medium');
    assert.equal(layerToAsk(1, [2, 1, 0], UNANNOUNCED_MS, false), 1, 'Janus never said: the wish after a while');
    assert.equal(layerToAsk(1, [2], 0, true), undefined, 'one layer sent: nothing to ask, started or not');
  });

  it('maps rids highest first, as Janus numbers the substreams', () => {
    assert.deepEqual(RID_LAYER, { h: 2, m: 1, l: 0 });
  });

  it('reads an announcement, and refuses a malformed one', () => {
    assert.deepEqual(parseLayers([2, 1]), [2, 1]);
    assert.deepEqual(parseLayers([0]), [0]);
    assert.deepEqual(parseLayers([]), []);
    for (const bad of [undefined, null, 2, '2', [3], [-1], [1.5], ['1'], [2, 2], [2, 1, 0, 1], { 0: 2 }]) {
      assert.equal(parseLayers(bad), undefined, JSON.stringify(bad));
    }
  });
});
