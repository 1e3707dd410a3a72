/**
 * The hosts model of src/call/hosts.ts without a browser or relay: a fake call (peers, media), fake wires (what it
 * sends to the relay and on each peer's channel, what it refuses) and the events it dispatches. The real relay and
 * browsers are in test/browser/element/hosts.test.ts and test/e2e/hosts.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Hosts } from '../../../src/call/hosts.js';
import type { RemotePeer } from '../../../src/call/types.js';
import type { VideoChatError } from '../../../src/errors.js';
import type { PeerMessage } from '../../../src/protocol/data-channel.js';
import { CloseCode, type ClientMessage, type ServerMessage } from '../../../src/protocol/relay.js';

const peer = (id: string, name: string) => ({ id, name }) as RemotePeer;

function setup(self = 'me') {
  const peers = [peer('ann', 'Ann'), peer('bob', 'Bob'), peer('hal', 'Hal')];
  const sent: ClientMessage[] = [];
  const channel: Record<string, PeerMessage[]> = { ann: [], bob: [], hal: [] };
  const refused: VideoChatError[] = [];
  const events: Event[] = [];
  const mic: boolean[] = [];
  const hosts = new Hosts(
    {
      selfId: self,
      peers,
      setMicrophoneEnabled: (on) => mic.push(on),
      setCameraEnabled: () => undefined,
    },
    { requestUpdate: () => undefined, dispatch: (e) => events.push(e) },
    {
      send: (m) => sent.push(m),
      channels: new Map(Object.keys(channel).map((id) => [id, { send: (m: PeerMessage) => channel[id]!.push(m) }])),
      refuse: (e) => refused.push(e),
    },
  );
  const relay = (m: ServerMessage) => hosts.relay(m);
  const from = (id: string, m: PeerMessage) =>
    hosts.peer(
      peers.find((p) => p.id === id)!,
      m,
    );
  const types = () => events.map((e) => e.type);
  return { hosts, sent, channel, refused, events, types, relay, from, mic };
}

describe('Hosts: hands', () => {
  it('keeps hands in the order received, own included; a lowered one leaves its place', () => {
    const { hosts, from, channel } = setup();
    from('bob', { type: 'hand', raised: true });
    hosts.raiseHand();
    from('ann', { type: 'hand', raised: true });
    assert.deepEqual(hosts.hands, ['bob', null, 'ann']);
    assert.deepEqual(channel['hal'], [{ type: 'hand', raised: true }], 'everyone is told');
    from('bob', { type: 'hand', raised: false });
    assert.deepEqual(hosts.hands, [null, 'ann']);
  });

  it('honours lower-hand only from a host of the latest room-state; naming this visitor lowers its own', () => {
    const { hosts, from, relay, channel } = setup();
    from('ann', { type: 'hand', raised: true });
    hosts.raiseHand();
    from('bob', { type: 'lower-hand', id: 'ann' }); // a guest
    from('bob', { type: 'lower-hand', id: 'me' });
    assert.deepEqual(hosts.hands, ['ann', null]);
    relay({ type: 'room-state', locked: false, hosts: ['hal'] });
    from('hal', { type: 'lower-hand', id: 'ann' });
    from('hal', { type: 'lower-hand', id: 'me' });
    assert.deepEqual(hosts.hands, []);
    assert.deepEqual(channel['ann']?.at(-1), { type: 'hand', raised: false }, 'its own hand, lowered, is told');
  });

  it('a guest cannot lower someone else; a host can (everyone is told)', () => {
    const guest = setup();
    guest.from('ann', { type: 'hand', raised: true });
    guest.hosts.lowerHand('ann');
    assert.deepEqual(guest.hosts.hands, ['ann']);
    assert.deepEqual(guest.channel['bob'], []);
    const host = setup();
    host.relay({ type: 'room-state', locked: false, hosts: ['me'] });
    assert.equal(host.hosts.role, 'host');
    host.from('ann', { type: 'hand', raised: true });
    host.hosts.lowerHand('ann');
    assert.deepEqual(host.hosts.hands, []);
    assert.deepEqual(host.channel['bob'], [{ type: 'lower-hand', id: 'ann' }]);
  });
});

describe('Hosts: reactions', () => {
  it('sends at most one per second, shows it on the own tile, and shows those received', () => {
    const { hosts, from, channel, types } = setup();
    assert.equal(hosts.react('👍'), true);
    assert.equal(hosts.react('🎉'), false, 'within a second');
    assert.equal(hosts.react(' '), false);
    assert.deepEqual(channel['ann'], [{ type: 'reaction', emoji: '👍' }]);
    assert.equal(hosts.reactions.get(null)?.emoji, '👍');
    from('bob', { type: 'reaction', emoji: '😂' });
    assert.equal(hosts.reactions.get('bob')?.emoji, '😂');
    assert.deepEqual(types(), ['vc-reaction', 'vc-reaction']);
  });
});

describe('Hosts: the waiting room', () => {
  it('hosts: a knock joins the queue and leaves it with its outcome', () => {
    const { hosts, relay, types, sent } = setup();
    relay({ type: 'knocking', knock: { id: 'k1', name: 'Kim' } });
    relay({ type: 'knocking', knock: { id: 'k2', name: 'Dan' } });
    assert.deepEqual(hosts.knocks, [
      { id: 'k1', name: 'Kim' },
      { id: 'k2', name: 'Dan' },
    ]);
    assert.equal(hosts.notice?.kind, 'knock');
    hosts.admit('k1');
    hosts.deny('k2');
    assert.deepEqual(sent, [
      { type: 'admit', knock: 'k1' },
      { type: 'deny', knock: 'k2' },
    ]);
    relay({ type: 'knock-ended', knock: 'k1', outcome: 'admitted' });
    relay({ type: 'knock-ended', knock: 'k2', outcome: 'denied' });
    assert.deepEqual(hosts.knocks, []);
    assert.deepEqual(types(), ['vc-knock', 'vc-knock', 'vc-knock', 'vc-admitted', 'vc-knock', 'vc-denied']);
  });

  it('a malformed hosts message from the relay changes nothing and says which field (vc-error relay-error)', () => {
    const { hosts, relay, events } = setup();
    relay({ type: 'knocking', knock: { id: 7, name: 'Kim' } } as unknown as ServerMessage);
    relay({ type: 'room-state', locked: 'yes', hosts: ['me'] } as unknown as ServerMessage);
    assert.deepEqual(hosts.knocks, []);
    assert.equal(hosts.role, 'guest', 'a room-state that does not parse makes nobody a host');
    assert.deepEqual(
      events.map((e) => [e.type, (e as Event & { error?: VideoChatError }).error?.code]),
      [
        ['vc-error', 'relay-error'],
        ['vc-error', 'relay-error'],
      ],
    );
    assert.match((events[1] as Event & { error: VideoChatError }).error.message, /room-state\.locked/);
  });

  it('the knocker: waiting until its welcome (admitted), or denied with the reason as the error code', () => {
    const a = setup();
    a.relay({ type: 'waiting', room: 'r', hosts: 0, timeoutMs: 300_000 });
    assert.equal(a.hosts.waiting?.hosts, 0);
    a.hosts.welcome({ type: 'welcome', id: 'me', room: 'r', peers: [], iceServers: [], role: 'guest' });
    assert.equal(a.hosts.waiting, null);
    assert.deepEqual(a.types(), ['vc-admitted']);
    for (const [reason, code] of [
      ['denied', 'denied'],
      ['timeout', 'knock-timeout'],
      ['ended', 'call-ended'],
    ] as const) {
      const b = setup();
      b.relay({ type: 'waiting', room: 'r', hosts: 1, timeoutMs: 1000 });
      b.relay({ type: 'denied', reason });
      assert.equal(b.hosts.waiting, null);
      assert.deepEqual(
        b.refused.map((e) => e.code),
        [code],
      );
      assert.deepEqual(b.types(), ['vc-denied']);
    }
  });

  it('removed (4004, or refused on rejoining) and ended (4005) end the call as such; other refusals do not', () => {
    const a = setup();
    a.hosts.closed(CloseCode.Removed);
    a.relay({ type: 'error', code: 'removed', message: 'x' });
    a.hosts.closed(CloseCode.Ended);
    a.relay({ type: 'error', code: 'room-locked', message: 'x' });
    a.hosts.closed(1008);
    assert.deepEqual(
      a.refused.map((e) => e.code),
      ['removed', 'removed', 'call-ended', 'room-locked', 'relay-error'],
    );
    assert.deepEqual(a.types(), ['vc-removed', 'vc-removed']);
    const b = setup();
    b.relay({ type: 'error', code: 'forbidden', message: 'only hosts' });
    assert.deepEqual(b.refused, [], 'a refused host action: said, the call goes on');
    assert.deepEqual(b.types(), ['vc-error']);
  });

  it("a host's request to unmute is the participant's to answer", () => {
    const { hosts, relay, mic } = setup();
    relay({ type: 'ask-unmute', from: 'hal', media: 'microphone' });
    assert.equal(hosts.notice?.name, 'Hal');
    const [ask] = hosts.asks;
    assert.deepEqual(mic, [], 'nothing is switched by the request');
    hosts.answer(ask!, true);
    assert.deepEqual(mic, [true]);
    assert.deepEqual(hosts.asks, []);
  });
});
