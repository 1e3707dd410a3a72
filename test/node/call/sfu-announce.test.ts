/**
 * The layers announcement of a room on the SFU (`src/call/sfu-announce.ts`): it travels as a relayed `state` text,
 * which an element of an earlier release reads as any `state` (`parsePeerMessage` keeps microphone and camera, drops
 * `layers`: no `bad-peer-message`), and which this release reads the layers from.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { layersIn, layersText } from '../../../src/call/sfu-announce.js';
import { parsePeerMessage } from '../../../src/protocol/data-channel.js';

describe('SFU layers announcement', () => {
  it('is a state message an older element parses without complaint, carrying the layers for this one', () => {
    const text = layersText({ microphoneEnabled: false, cameraEnabled: true }, [2, 1]);
    // What an older element does with `{ sfu: <text> }`: its relayed channel parses the text.
    assert.deepEqual(parsePeerMessage(text), { ok: true, value: { type: 'state', microphone: false, camera: true } });
    assert.deepEqual(layersIn(text), [2, 1]);
  });

  it('reads no layers from other messages, and reports malformed ones', () => {
    const chat = JSON.stringify({ type: 'chat', id: 'c1', text: 'the "layers" of a cake', sentAt: 0 });
    assert.equal(layersIn(chat), undefined);
    assert.equal(layersIn(JSON.stringify({ type: 'state', microphone: true, camera: true })), undefined);
    assert.equal(layersIn('{"layers": [2'), undefined, 'not JSON: the data-channel parser says so');
    assert.equal(layersIn('null "layers"'), undefined);
    for (const layers of [[3], [2, 2], [0, 1, 2, 1], 'h', null]) {
      assert.equal(layersIn(JSON.stringify({ type: 'state', microphone: true, camera: true, layers })), false);
    }
  });
});
