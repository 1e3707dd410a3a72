import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MAX_NAME_LENGTH,
  MAX_SIGNAL_DEPTH,
  MAX_SIGNAL_ENTRIES,
  MAX_TOKEN_LENGTH,
  PROTOCOL_VERSION,
  encode,
  parseClientMessage,
  parseServerMessage,
  type ParseResult,
  type ServerMessage,
} from '../../../src/protocol/relay.js';
import { parseNegotiationMessage } from '../../../src/protocol/negotiation.js';

const error = <T>(result: ParseResult<T>): string => {
  assert.equal(result.ok, false, 'expected a violation');
  return result.ok ? '' : `${result.error.code}: ${result.error.message}`;
};
const value = <T>(result: ParseResult<T>): T => {
  if (!result.ok) assert.fail(`expected a message, got ${result.error.message}`);
  return result.value;
};

describe('parseClientMessage', () => {
  it('accepts join, signal and leave', () => {
    assert.deepEqual(value(parseClientMessage('{"type":"join","room":"a-B_9.x","name":"Ada"}')), {
      type: 'join',
      room: 'a-B_9.x',
      name: 'Ada',
    });
    assert.deepEqual(value(parseClientMessage('{"type":"join","room":"r"}')), { type: 'join', room: 'r' });
    assert.deepEqual(value(parseClientMessage('{"type":"signal","to":"abc","data":{"x":1}}')), {
      type: 'signal',
      to: 'abc',
      data: { x: 1 },
    });
    assert.deepEqual(value(parseClientMessage('{"type":"leave"}')), { type: 'leave' });
  });

  it('accepts join.protocol for a version the relay speaks and names both versions otherwise', () => {
    assert.deepEqual(value(parseClientMessage(`{"type":"join","room":"r","protocol":${PROTOCOL_VERSION}}`)), {
      type: 'join',
      room: 'r',
      protocol: PROTOCOL_VERSION,
    });
    assert.match(
      error(parseClientMessage('{"type":"join","room":"r","protocol":3}')),
      /bad-message: join.protocol 3 is not supported: this relay speaks 1, 2/,
    );
    for (const bad of ['0', '-1', '1.5', '"1"', 'null', '1e400']) {
      assert.match(error(parseClientMessage(`{"type":"join","room":"r","protocol":${bad}}`)), /join.protocol/, bad);
    }
  });

  it('accepts join with a token, and only a non-empty string of bounded length', () => {
    assert.deepEqual(value(parseClientMessage('{"type":"join","room":"r","name":"A","token":"a.b.c"}')), {
      type: 'join',
      room: 'r',
      name: 'A',
      token: 'a.b.c',
    });
    const longest = 't'.repeat(MAX_TOKEN_LENGTH);
    assert.equal(value(parseClientMessage(JSON.stringify({ type: 'join', room: 'r', token: longest }))).type, 'join');
    for (const token of [5, null, '', 't'.repeat(MAX_TOKEN_LENGTH + 1), { alg: 'none' }]) {
      assert.match(
        error(parseClientMessage(JSON.stringify({ type: 'join', room: 'r', token }))),
        /^bad-message: join.token must be a non-empty string/,
        JSON.stringify(token),
      );
    }
  });

  it('accepts join with resume credentials, and only well-formed ones', () => {
    assert.deepEqual(value(parseClientMessage('{"type":"join","room":"r","resume":{"id":"abc","secret":"s-_1"}}')), {
      type: 'join',
      room: 'r',
      resume: { id: 'abc', secret: 's-_1' },
    });
    for (const resume of [
      null,
      'abc',
      {},
      { id: 'abc' },
      { secret: 'x' },
      { id: 'a b', secret: 'x' },
      { id: 'abc', secret: '' },
      { id: 'abc', secret: 'not/base64url' },
      { id: 'abc', secret: 's'.repeat(65) },
      { id: 'abc', secret: 5 },
    ]) {
      assert.match(
        error(parseClientMessage(JSON.stringify({ type: 'join', room: 'r', resume }))),
        /^bad-message: join.resume/,
        JSON.stringify(resume),
      );
    }
  });

  it('drops a client-sent from', () => {
    const m = value(parseClientMessage('{"type":"signal","to":"abc","from":"spoof","data":{}}'));
    assert.equal('from' in m, false);
  });

  it('names the problem in every bad message', () => {
    assert.match(error(parseClientMessage('nope')), /bad-message: message is not valid JSON/);
    assert.match(error(parseClientMessage(new Uint8Array([1]))), /JSON text/);
    assert.match(error(parseClientMessage('[1]')), /JSON object/);
    assert.match(error(parseClientMessage('{}')), /message.type/);
    assert.match(error(parseClientMessage('{"type":"dance"}')), /unknown message type "dance"/);
    assert.match(error(parseClientMessage('{"type":"join"}')), /join.room/);
    assert.match(error(parseClientMessage('{"type":"join","room":""}')), /join.room/);
    assert.match(error(parseClientMessage('{"type":"join","room":"a b"}')), /join.room/);
    assert.match(error(parseClientMessage(`{"type":"join","room":"${'r'.repeat(65)}"}`)), /join.room/);
    assert.match(
      error(parseClientMessage(`{"type":"join","room":"r","name":"${'n'.repeat(MAX_NAME_LENGTH + 1)}"}`)),
      /join.name/,
    );
    assert.match(error(parseClientMessage('{"type":"join","room":"r","name":5}')), /join.name/);
    assert.match(error(parseClientMessage('{"type":"signal","data":{}}')), /signal.to/);
    assert.match(error(parseClientMessage('{"type":"signal","to":"a b","data":{}}')), /signal.to/);
    assert.match(error(parseClientMessage('{"type":"signal","to":"abc"}')), /signal.data/);
    assert.match(error(parseClientMessage('{"type":"signal","to":"abc","data":[]}')), /signal.data/);
  });
});

describe('parseClientMessage: shape of signal.data (issue 15, D1)', () => {
  const signal = (data: string): string => `{"type":"signal","to":"abc","data":${data}}`;
  /** `data` nested `levels` deep in total (`data` itself is level 1), alternating objects and arrays. */
  const nested = (levels: number): string => {
    let text = '1';
    for (let i = 1; i < levels; i++) text = i % 2 ? `[${text}]` : `{"k":${text}}`;
    return `{"k":${text}}`;
  };

  it(`accepts ${MAX_SIGNAL_DEPTH} levels and refuses one more, naming the bound`, () => {
    assert.equal(value(parseClientMessage(signal(nested(MAX_SIGNAL_DEPTH)))).type, 'signal');
    assert.equal(
      error(parseClientMessage(signal(nested(MAX_SIGNAL_DEPTH + 1)))),
      `bad-message: signal.data must nest at most ${MAX_SIGNAL_DEPTH} levels deep`,
    );
  });

  it('refuses the attack frame (thousands of levels) without recursing, and a frame-sized nesting of empties', () => {
    for (const depth of [4_500, 30_000]) {
      assert.match(
        error(parseClientMessage(signal(`{"x":${'['.repeat(depth)}${']'.repeat(depth)}}`))),
        /levels deep/,
        String(depth),
      );
    }
    assert.match(
      error(parseClientMessage(signal(`{"x":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`))),
      /levels deep/,
    );
  });

  it(`accepts ${MAX_SIGNAL_ENTRIES} keys and elements in all and refuses one more`, () => {
    const wide = (n: number): string => `{"a":[${Array.from({ length: n - 1 }, () => '0').join(',')}]}`;
    assert.equal(value(parseClientMessage(signal(wide(MAX_SIGNAL_ENTRIES)))).type, 'signal');
    assert.equal(
      error(parseClientMessage(signal(wide(MAX_SIGNAL_ENTRIES + 1)))),
      `bad-message: signal.data must hold at most ${MAX_SIGNAL_ENTRIES} keys and elements in all`,
    );
    const keys = Object.fromEntries(Array.from({ length: MAX_SIGNAL_ENTRIES + 1 }, (_, i) => [`k${i}`, i]));
    assert.match(error(parseClientMessage(signal(JSON.stringify(keys)))), /keys and elements/);
  });

  it('accepts every negotiation message shape, and what it accepts re-encodes', () => {
    const sdp = 'v=0\\r\\n'.repeat(500); // JSON escapes, as on the wire
    for (const data of [
      `{"gen":0,"description":{"type":"offer","sdp":"${sdp}"},"media":{"0":"audio","1":"video"}}`,
      '{"gen":3,"candidate":{"candidate":"candidate:1 1 udp 1 192.0.2.1 5000 typ host","sdpMid":"0","sdpMLineIndex":0}}',
      '{"gen":1,"candidate":null}',
      '{"gen":2,"restart":"ice"}',
      nested(MAX_SIGNAL_DEPTH),
    ]) {
      const m = value(parseClientMessage(signal(data)));
      assert.equal(
        typeof encode({ type: 'signal', from: 'x', data: (m as { data: Record<string, unknown> }).data }),
        'string',
      );
    }
  });
});

describe('parseServerMessage', () => {
  it('round-trips every relay message through encode', () => {
    const messages: ServerMessage[] = [
      { type: 'welcome', id: 'me', room: 'r', peers: [{ id: 'p1', name: 'A' }], iceServers: [{ urls: 'stun:x' }] },
      { type: 'welcome', id: 'me', room: 'r', peers: [], iceServers: [], resume: 'c2VjcmV0', resumed: true },
      { type: 'welcome', id: 'me', room: 'r', peers: [], iceServers: [], protocol: PROTOCOL_VERSION },
      { type: 'peer-joined', peer: { id: 'p2', name: '' } },
      { type: 'peer-left', id: 'p2' },
      { type: 'signal', from: 'p1', data: { gen: 0 } },
      { type: 'error', code: 'room-full', message: 'full' },
      { type: 'error', code: 'unauthorized', message: 'not authorized' },
      { type: 'error', code: 'rate-limited', message: 'slow down' },
      { type: 'error', code: 'resume-failed', message: 'cannot resume' },
    ];
    for (const m of messages) assert.deepEqual(value(parseServerMessage(encode(m))), m);
  });

  it('rejects malformed relay messages', () => {
    assert.match(
      error(parseServerMessage('{"type":"welcome","id":"me","room":"r","peers":[{}],"iceServers":[]}')),
      /peers\[0\]/,
    );
    assert.match(
      error(parseServerMessage('{"type":"welcome","id":"me","room":"r","peers":[],"iceServers":[{"urls":[]}]}')),
      /iceServers/,
    );
    assert.match(error(parseServerMessage('{"type":"error","code":"teapot","message":""}')), /error.code/);
    assert.match(
      error(parseServerMessage('{"type":"welcome","id":"me","room":"r","peers":[],"iceServers":[],"resume":7}')),
      /welcome.resume/,
    );
    assert.match(
      error(parseServerMessage('{"type":"welcome","id":"me","room":"r","peers":[],"iceServers":[],"resumed":false}')),
      /welcome.resumed/,
    );
    assert.match(error(parseServerMessage('{"type":"signal","from":"p","data":null}')), /signal.data/);
    assert.match(
      error(parseServerMessage('{"type":"welcome","id":"me","room":"r","peers":[],"iceServers":[],"protocol":0}')),
      /welcome.protocol/,
    );
  });
});

describe('parseNegotiationMessage', () => {
  it('accepts a description with media, a candidate, null candidate, and restart', () => {
    assert.deepEqual(
      value(
        parseNegotiationMessage({
          gen: 1,
          description: { type: 'offer', sdp: 'v=0' },
          media: { '0': 'audio', '2': 'screen' },
        }),
      ),
      { gen: 1, description: { type: 'offer', sdp: 'v=0' }, media: { '0': 'audio', '2': 'screen' } },
    );
    assert.deepEqual(
      value(
        parseNegotiationMessage({ gen: 0, candidate: { candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0 } }),
      ),
      { gen: 0, candidate: { candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0 } },
    );
    assert.deepEqual(value(parseNegotiationMessage({ gen: 0, candidate: null })), { gen: 0, candidate: null });
    assert.deepEqual(value(parseNegotiationMessage({ gen: 3, restart: true })), { gen: 3, restart: true });
    assert.deepEqual(value(parseNegotiationMessage({ gen: 3, restart: 'ice' })), { gen: 3, restart: 'ice' });
  });

  it('takes a missing gen for generation 0 and a missing media for {} (a peer written from docs/protocol.md)', () => {
    assert.deepEqual(value(parseNegotiationMessage({ description: { type: 'offer', sdp: 'v=0' } })), {
      gen: 0,
      description: { type: 'offer', sdp: 'v=0' },
      media: {},
    });
    assert.deepEqual(value(parseNegotiationMessage({ description: { type: 'answer', sdp: 'v=0' } })), {
      gen: 0,
      description: { type: 'answer', sdp: 'v=0' },
      media: {},
    });
    assert.deepEqual(value(parseNegotiationMessage({ candidate: { candidate: 'candidate:1', sdpMid: '0' } })), {
      gen: 0,
      candidate: { candidate: 'candidate:1', sdpMid: '0' },
    });
    assert.deepEqual(value(parseNegotiationMessage({ candidate: null })), { gen: 0, candidate: null });
    assert.deepEqual(value(parseNegotiationMessage({ restart: 'ice' })), { gen: 0, restart: 'ice' });
    // A media that is present is still checked.
    assert.match(
      error(parseNegotiationMessage({ description: { type: 'offer', sdp: '' }, media: { '0': 'hologram' } })),
      /media/,
    );
  });

  it('rejects everything else', () => {
    for (const gen of [null, -1, 1.5, '0', true, Number.MAX_SAFE_INTEGER + 1, {}]) {
      assert.match(
        error(parseNegotiationMessage({ gen, description: { type: 'offer', sdp: '' } })),
        /gen/,
        String(gen),
      );
    }
    assert.match(error(parseNegotiationMessage({ gen: -1, restart: true })), /gen/);
    assert.match(error(parseNegotiationMessage({ gen: 0 })), /exactly one/);
    assert.match(error(parseNegotiationMessage({ gen: 0, restart: true, candidate: null })), /exactly one/);
    assert.match(
      error(parseNegotiationMessage({ gen: 0, description: { type: 'rollback', sdp: '' } })),
      /offer or answer/,
    );
    assert.match(
      error(parseNegotiationMessage({ gen: 0, description: { type: 'offer', sdp: '' }, media: { '0': 'hologram' } })),
      /media/,
    );
    assert.match(error(parseNegotiationMessage({ gen: 0, candidate: { candidate: 1 } })), /candidate/);
    assert.match(error(parseNegotiationMessage({ gen: 0, restart: 'yes' })), /restart/);
    assert.match(error(parseNegotiationMessage({ gen: 0, restart: false })), /restart/);
  });
});
