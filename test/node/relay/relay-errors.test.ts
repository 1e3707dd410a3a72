/**
 * Every bad input gets its specific error code (and, for `bad-message`, the parse guard's own message), and the
 * connection stays usable afterwards. Oversize frames are the one input that closes the socket (1009).
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { CloseCode, MAX_MESSAGE_BYTES, parseClientMessage, type ErrorCode } from '../../../src/protocol/relay.js';
import { type TestClient, relayEnv } from './helpers.js';

/** What the parse guard says about `raw`: the relay must answer with exactly this. */
function guardMessage(raw: string | Buffer): string {
  const parsed = parseClientMessage(raw);
  assert.ok(!parsed.ok, 'the case must be invalid per the protocol module');
  return parsed.error.message;
}

interface Case {
  name: string;
  /** Join room `r` before sending the bad frame. */
  joinedFirst: boolean;
  /** The frame: a string is sent as a text frame, a Buffer as a binary one. */
  frame: string | Buffer;
}

const badMessages: Case[] = [
  { name: 'not JSON', joinedFirst: false, frame: '{"type":"join",' },
  { name: 'a JSON array', joinedFirst: false, frame: '[{"type":"join","room":"r"}]' },
  { name: 'a JSON string', joinedFirst: false, frame: '"join"' },
  { name: 'no type', joinedFirst: false, frame: '{"room":"r"}' },
  { name: 'a non-string type', joinedFirst: false, frame: '{"type":7}' },
  { name: 'an unknown type', joinedFirst: true, frame: '{"type":"dance"}' },
  { name: 'a room with bad characters', joinedFirst: false, frame: '{"type":"join","room":"no spaces"}' },
  { name: 'an empty room', joinedFirst: false, frame: '{"type":"join","room":""}' },
  { name: 'a too long room', joinedFirst: false, frame: JSON.stringify({ type: 'join', room: 'r'.repeat(65) }) },
  {
    name: 'a too long name',
    joinedFirst: false,
    frame: JSON.stringify({ type: 'join', room: 'r', name: 'n'.repeat(65) }),
  },
  { name: 'a non-string name', joinedFirst: false, frame: '{"type":"join","room":"r","name":42}' },
  { name: 'signal without to', joinedFirst: true, frame: '{"type":"signal","data":{}}' },
  { name: 'signal with a malformed to', joinedFirst: true, frame: '{"type":"signal","to":"not/an id","data":{}}' },
  { name: 'signal without data', joinedFirst: true, frame: '{"type":"signal","to":"abc"}' },
  { name: 'signal with array data', joinedFirst: true, frame: '{"type":"signal","to":"abc","data":[]}' },
  { name: 'a binary frame', joinedFirst: false, frame: Buffer.from('{"type":"join","room":"r"}') },
  { name: 'a binary frame while joined', joinedFirst: true, frame: Buffer.from('{"type":"leave"}') },
];

/**
 * Sets up a partner in room `r` and a client (joined or not), sends `frame`, expects the error, then proves the
 * connection still works: it joins if it had not, and a signal to the partner arrives stamped with its ID.
 */
async function expectError(
  t: TestContext,
  frame: string | Buffer | ((partner: string, self: string | undefined) => string),
  joinedFirst: boolean,
  code: ErrorCode,
  message?: string | RegExp,
): Promise<TestClient> {
  const e = await relayEnv(t);
  const partner = await e.joined('r');
  const client = await e.client();
  let self = joinedFirst ? (await client.join('r')).id : undefined;
  if (joinedFirst) await partner.client.next('peer-joined');

  client.sendRaw(typeof frame === 'function' ? frame(partner.welcome.id, self) : frame);
  const error = await client.next('error');
  assert.equal(error.code, code);
  if (typeof message === 'string') assert.equal(error.message, message);
  else if (message) assert.match(error.message, message);

  self ??= (await client.join('r')).id;
  client.send({ type: 'signal', to: partner.welcome.id, data: { still: 'working' } });
  assert.deepEqual(await partner.client.next('signal'), { type: 'signal', from: self, data: { still: 'working' } });
  assert.equal(client.socket.readyState, client.socket.OPEN);
  return client;
}

describe("relay: bad-message, with the parse guard's message", () => {
  for (const c of badMessages) {
    it(`${c.name}${c.joinedFirst ? ' (joined)' : ''}`, async (t) => {
      await expectError(t, c.frame, c.joinedFirst, 'bad-message', guardMessage(c.frame));
    });
  }
});

describe('relay: state errors', () => {
  it('signal before join → not-joined', async (t) => {
    await expectError(t, (partner) => JSON.stringify({ type: 'signal', to: partner, data: {} }), false, 'not-joined');
  });

  it('leave before join → not-joined', async (t) => {
    await expectError(t, '{"type":"leave"}', false, 'not-joined');
  });

  it('join twice → already-joined, still in the first room', async (t) => {
    const client = await expectError(t, '{"type":"join","room":"elsewhere"}', true, 'already-joined', /"r"/);
    await client.sync();
    assert.deepEqual(client.pending(), [], 'no second welcome');
  });

  it('signal to an unknown peer → unknown-peer', async (t) => {
    const to = 'A'.repeat(22);
    await expectError(t, JSON.stringify({ type: 'signal', to, data: {} }), true, 'unknown-peer', new RegExp(to));
  });

  it('signal to oneself → unknown-peer', async (t) => {
    await expectError(
      t,
      (_partner, self) => JSON.stringify({ type: 'signal', to: self, data: {} }),
      true,
      'unknown-peer',
    );
  });
});

describe('relay: frame size', () => {
  it('delivers a frame of exactly the limit', async (t) => {
    const e = await relayEnv(t);
    const a = await e.joined('r');
    const b = await e.joined('r');
    const empty = JSON.stringify({ type: 'signal', to: b.welcome.id, data: { pad: '' } });
    const pad = 'p'.repeat(MAX_MESSAGE_BYTES - Buffer.byteLength(empty));
    const frame = JSON.stringify({ type: 'signal', to: b.welcome.id, data: { pad } });
    assert.equal(Buffer.byteLength(frame), MAX_MESSAGE_BYTES);
    a.client.sendRaw(frame);
    assert.equal((await b.client.next('signal')).data['pad'], pad);
  });

  it('closes an oversize frame with 1009 and tells the room peer-left', async (t) => {
    const e = await relayEnv(t);
    const a = await e.joined('r');
    const b = await e.joined('r');
    await a.client.next('peer-joined');
    b.client.sendRaw(
      JSON.stringify({ type: 'signal', to: a.welcome.id, data: { pad: 'x'.repeat(MAX_MESSAGE_BYTES) } }),
    );
    assert.equal((await b.client.closed).code, CloseCode.MessageTooBig);
    assert.equal((await a.client.next('peer-left')).id, b.welcome.id);
    await a.client.sync();
    assert.deepEqual(a.client.pending('signal'), [], 'the oversize frame was not forwarded');
  });

  it('honours a configured maxMessageBytes', async (t) => {
    const e = await relayEnv(t, { maxMessageBytes: 1024 });
    const a = await e.joined('r');
    a.client.sendRaw('x'.repeat(1025));
    assert.equal((await a.client.closed).code, CloseCode.MessageTooBig);
  });
});
