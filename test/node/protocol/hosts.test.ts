import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CloseCode,
  ERROR_CODES,
  HOST_CLIENT_TYPES,
  PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
  encode,
  parseClientMessage,
  parseServerMessage,
  parseServerMessage as parseServerMessageOf,
  type ParseResult,
  type ServerMessage,
} from '../../../src/protocol/relay.js';
import { parseHostServerMessage } from '../../../src/protocol/hosts-server.js';

const error = <T>(result: ParseResult<T>): string => {
  assert.equal(result.ok, false, 'expected a violation');
  return result.ok ? '' : `${result.error.code}: ${result.error.message}`;
};
const value = <T>(result: ParseResult<T>): T => {
  if (!result.ok) assert.fail(`expected a message, got ${result.error.message}`);
  return result.value;
};
const ID = 'Xb3k9Q0mN2pL7sT1vW4yZA';

describe('hosts and guests on the wire (v2)', () => {
  it('is version 2, and the relay still speaks 1', () => {
    assert.equal(PROTOCOL_VERSION, 2);
    assert.deepEqual(SUPPORTED_PROTOCOL_VERSIONS, [1, 2]);
    assert.equal(value(parseClientMessage('{"type":"join","room":"r","protocol":1}')).type, 'join');
    for (const code of ['forbidden', 'room-locked', 'removed'])
      assert.ok((ERROR_CODES as readonly string[]).includes(code));
    assert.equal(CloseCode.Removed, 4004);
    assert.equal(CloseCode.Ended, 4005);
  });

  it('parses every host action and drops extra fields', () => {
    assert.deepEqual(value(parseClientMessage(`{"type":"admit","knock":"${ID}","x":1}`)), { type: 'admit', knock: ID });
    assert.deepEqual(value(parseClientMessage(`{"type":"deny","knock":"${ID}"}`)), { type: 'deny', knock: ID });
    assert.deepEqual(value(parseClientMessage(`{"type":"remove","id":"${ID}"}`)), { type: 'remove', id: ID });
    for (const type of ['lock', 'unlock', 'end', 'cancel']) {
      assert.deepEqual(value(parseClientMessage(`{"type":"${type}","room":"other"}`)), { type });
    }
    assert.deepEqual(value(parseClientMessage(`{"type":"ask-unmute","to":"${ID}","media":"microphone"}`)), {
      type: 'ask-unmute',
      to: ID,
      media: 'microphone',
    });
    assert.deepEqual(value(parseClientMessage(`{"type":"mute-request","to":"${ID}","media":"camera"}`)), {
      type: 'mute-request',
      to: ID,
      media: 'camera',
    });
    assert.equal(HOST_CLIENT_TYPES.length, 9);
  });

  it('refuses malformed host actions naming the field', () => {
    assert.match(error(parseClientMessage('{"type":"admit"}')), /bad-message: admit.knock must be an id/);
    assert.match(error(parseClientMessage('{"type":"deny","knock":"a b"}')), /deny.knock must be an id/);
    assert.match(error(parseClientMessage(`{"type":"remove","id":"${'x'.repeat(65)}"}`)), /remove.id must be an id/);
    assert.match(error(parseClientMessage(`{"type":"ask-unmute","to":"${ID}"}`)), /ask-unmute.media/);
    assert.match(
      error(parseClientMessage(`{"type":"mute-request","to":"${ID}","media":"screen"}`)),
      /mute-request.media/,
    );
    assert.match(error(parseClientMessage('{"type":"mute-request","media":"camera"}')), /mute-request.to/);
    assert.match(error(parseClientMessage('{"type":"kick"}')), /unknown message type "kick"/);
    assert.match(error(parseServerMessage('{"type":"kick"}')), /unknown message type "kick"/);
    // Relay-to-client types are not client messages.
    assert.match(error(parseClientMessage('{"type":"room-state","locked":true,"hosts":[]}')), /unknown message type/);
  });

  it('parses what the relay sends about hosts, and round-trips it', () => {
    const messages: ServerMessage[] = [
      { type: 'welcome', id: ID, room: 'r', peers: [], iceServers: [], protocol: 2, role: 'host' },
      { type: 'room-state', locked: true, hosts: [ID] },
      { type: 'knocking', knock: { id: ID, name: 'Ann' } },
      { type: 'knock-ended', knock: ID, outcome: 'timeout' },
      { type: 'waiting', room: 'r', hosts: 0, timeoutMs: 300000 },
      { type: 'denied', reason: 'denied' },
      { type: 'ask-unmute', from: ID, media: 'microphone' },
      { type: 'mute-request', from: ID, media: 'camera' },
      { type: 'error', code: 'forbidden', message: 'only a host may lock the room' },
    ];
    for (const message of messages) {
      const parsed = value(parseServerMessage(encode(message)));
      assert.deepEqual(parsed, message);
      // The fields of host messages are checked by parseHostServerMessage (parseServerMessage checks the type).
      if (!['welcome', 'error'].includes(message.type))
        assert.deepEqual(value(parseHostServerMessage(parsed)), message);
    }
  });

  it('refuses malformed relay messages about hosts', () => {
    const parseServerMessage = (raw: string): ParseResult<unknown> => {
      const m = JSON.parse(raw) as { type: string };
      return m.type === 'welcome' ? parseServerMessageOf(raw) : parseHostServerMessage(m);
    };
    const welcome = `"type":"welcome","id":"${ID}","room":"r","peers":[],"iceServers":[]`;
    assert.match(error(parseServerMessage(`{${welcome},"role":"admin"}`)), /welcome.role/);
    assert.match(error(parseServerMessage('{"type":"room-state","locked":"yes","hosts":[]}')), /room-state.locked/);
    assert.match(error(parseServerMessage('{"type":"room-state","locked":false,"hosts":["a b"]}')), /room-state.hosts/);
    assert.match(error(parseServerMessage(`{"type":"knocking","knock":{"id":"${ID}"}}`)), /knocking.knock/);
    assert.match(
      error(parseServerMessage(`{"type":"knocking","knock":{"id":"${ID}","name":"${'n'.repeat(65)}"}}`)),
      /knocking.knock/,
    );
    assert.match(error(parseServerMessage(`{"type":"knock-ended","knock":"${ID}","outcome":"x"}`)), /outcome/);
    assert.match(error(parseServerMessage('{"type":"waiting","room":"r","hosts":0.5,"timeoutMs":1}')), /waiting/);
    assert.match(error(parseServerMessage('{"type":"denied","reason":"admitted"}')), /denied.reason/);
    assert.match(error(parseServerMessage('{"type":"ask-unmute","from":"","media":"camera"}')), /ask-unmute.from/);
  });
});
