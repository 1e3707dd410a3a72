/**
 * The SFU part of the wire (src/protocol/sfu.ts) and the relay's SFU options (server/src/sfu/options.ts): what is
 * accepted, what is refused with a reason, and the limits.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseClientMessage } from '../../../src/protocol/relay.js';
import {
  MAX_SFU_CANDIDATE_LENGTH,
  MAX_SFU_SDP_LENGTH,
  MAX_SFU_STREAMS,
  parseSfuDelivery,
  parseSfuRequest,
} from '../../../src/protocol/sfu.js';
import { resolveRelayOptions } from '../../../server/src/options.js';

describe('SFU wire', () => {
  it('parses the client requests and refuses malformed ones', () => {
    assert.deepEqual(parseSfuRequest({ op: 'publish', sdp: 'v=0' }), {
      ok: true,
      value: { op: 'publish', sdp: 'v=0' },
    });
    assert.equal(parseSfuRequest({ op: 'publish', sdp: 'v=0', id: 'abc' }).ok, true);
    assert.equal(parseSfuRequest({ op: 'publish', sdp: 'v=0', id: 'a b' }).ok, false);
    assert.equal(parseSfuRequest({ op: 'publish', sdp: 'x'.repeat(MAX_SFU_SDP_LENGTH + 1) }).ok, false);
    assert.equal(parseSfuRequest({ op: 'answer', sdp: '' }).ok, false);
    assert.deepEqual(parseSfuRequest({ op: 'candidate', pc: 'sub', candidate: null }), {
      ok: true,
      value: { op: 'candidate', pc: 'sub', candidate: null },
    });
    assert.deepEqual(
      parseSfuRequest({ op: 'candidate', pc: 'pub', candidate: { candidate: 'c', sdpMid: '0', sdpMLineIndex: 0 } }),
      {
        ok: true,
        value: { op: 'candidate', pc: 'pub', candidate: { candidate: 'c', sdpMid: '0', sdpMLineIndex: 0 } },
      },
    );
    assert.equal(parseSfuRequest({ op: 'candidate', pc: 'x', candidate: null }).ok, false);
    assert.equal(
      parseSfuRequest({
        op: 'candidate',
        pc: 'pub',
        candidate: { candidate: 'c'.repeat(MAX_SFU_CANDIDATE_LENGTH + 1) },
      }).ok,
      false,
    );
    assert.equal(
      parseSfuRequest({ op: 'candidate', pc: 'pub', candidate: { candidate: 'c', sdpMLineIndex: -1 } }).ok,
      false,
    );
    assert.deepEqual(parseSfuRequest({ op: 'publish', sdp: 'v=0', epoch: 'e_1-A' }), {
      ok: true,
      value: { op: 'publish', sdp: 'v=0', epoch: 'e_1-A' },
    });
    assert.match(JSON.stringify(parseSfuRequest({ op: 'publish', sdp: 'v=0', epoch: 'a b' })), /publish.epoch must be/);
    assert.equal(parseSfuRequest({ op: 'publish', sdp: 'v=0', epoch: 7 }).ok, false);
    assert.equal(parseSfuRequest({ op: 'destroy' }).ok, false);
    assert.equal(parseSfuRequest('publish').ok, false);
  });

  it('parses what the relay sends and refuses malformed deliveries', () => {
    assert.equal(parseSfuDelivery({ op: 'mode', mode: 'sfu' }).ok, true);
    assert.equal(parseSfuDelivery({ op: 'mode', mode: 'mesh' }).ok, false);
    // A mode's epoch (relays sharing rooms) is kept when it is an ID, left out otherwise (the mode still holds).
    assert.deepEqual(parseSfuDelivery({ op: 'mode', mode: 'sfu', epoch: 'e_1-A' }), {
      ok: true,
      value: { op: 'mode', mode: 'sfu', epoch: 'e_1-A' },
    });
    assert.deepEqual(parseSfuDelivery({ op: 'mode', mode: 'sfu', epoch: 'a b' }), {
      ok: true,
      value: { op: 'mode', mode: 'sfu' },
    });
    const offer = { op: 'offer', sdp: 'v=0', streams: [{ mid: '0', feed: 'Ab_-1', kind: 'video' }] };
    assert.deepEqual(parseSfuDelivery(offer), { ok: true, value: offer });
    assert.equal(parseSfuDelivery({ ...offer, streams: [{ mid: '0', feed: 'a b', kind: 'video' }] }).ok, false);
    assert.equal(parseSfuDelivery({ ...offer, streams: [{ mid: '0', feed: 'a', kind: 'data' }] }).ok, false);
    const many = Array.from({ length: MAX_SFU_STREAMS + 1 }, (_, i) => ({ mid: String(i), feed: 'a', kind: 'audio' }));
    assert.equal(parseSfuDelivery({ ...offer, streams: many }).ok, false);
    assert.equal(parseSfuDelivery({ op: 'feeds', feeds: ['a', 'b'] }).ok, true);
    assert.equal(parseSfuDelivery({ op: 'feeds', feeds: [1] }).ok, false);
    assert.equal(parseSfuDelivery({ op: 'error', message: 'x'.repeat(500) }).ok, true);
    assert.equal(parseSfuDelivery({ op: 'nope' }).ok, false);
  });

  it('join.caps: at most 8 names of a-z 0-9 -', () => {
    const join = (caps: unknown) => parseClientMessage(JSON.stringify({ type: 'join', room: 'r', caps }));
    assert.deepEqual(join(['sfu']), { ok: true, value: { type: 'join', room: 'r', caps: ['sfu'] } });
    assert.equal(join(['SFU']).ok, false);
    assert.equal(join('sfu').ok, false);
    assert.equal(join(Array.from({ length: 9 }, () => 'sfu')).ok, false);
  });
});

describe('SFU relay options', () => {
  it('are off without janusUrl, and refuse SFU settings without it', () => {
    assert.equal(resolveRelayOptions({ logLevel: 'silent' }).sfu, undefined);
    assert.throws(() => resolveRelayOptions({ logLevel: 'silent', sfuFrom: 3 }), /sfuFrom is set but janusUrl is not/);
  });
  it('need the admin key, a ws URL and sane numbers', () => {
    const base = { logLevel: 'silent' as const, janusUrl: 'ws://127.0.0.1:8188', janusAdminKey: 'k' };
    assert.deepEqual(resolveRelayOptions(base).sfu, {
      janusUrl: 'ws://127.0.0.1:8188',
      janusApiSecret: undefined,
      janusAdminKey: 'k',
      sfuFrom: 5,
      maxPeersPerSfuRoom: 25,
    });
    assert.throws(() => resolveRelayOptions({ ...base, janusAdminKey: undefined }), /janusAdminKey must be set/);
    assert.throws(() => resolveRelayOptions({ ...base, janusUrl: 'http://x' }), /janusUrl must be a ws/);
    assert.throws(() => resolveRelayOptions({ ...base, sfuFrom: 0 }), /sfuFrom/);
    assert.throws(() => resolveRelayOptions({ ...base, maxPeersPerSfuRoom: 3 }), /maxPeersPerSfuRoom/);
  });
  it('beside rooms shared through Redis: the modes live in Redis under the same prefix', () => {
    const base = { logLevel: 'silent' as const, janusUrl: 'ws://127.0.0.1:8188', janusAdminKey: 'k' };
    const shared = resolveRelayOptions({ ...base, redisUrl: 'redis://127.0.0.1:6379', redisPrefix: 'x:' }).sfu;
    assert.deepEqual(shared?.shared, { redisUrl: 'redis://127.0.0.1:6379', redisPrefix: 'x:' });
    assert.equal(resolveRelayOptions(base).sfu?.shared, undefined);
    assert.equal(resolveRelayOptions({ logLevel: 'silent', redisUrl: 'redis://127.0.0.1:6379' }).sfu, undefined);
  });
});
