import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PEER_ID_PATTERN } from '../../../src/protocol/relay.js';
import { relayEnv } from './helpers.js';

describe('relay: joining', () => {
  it('states its wire version in welcome and refuses a join for a version it does not speak', async (t) => {
    const e = await relayEnv(t);
    const client = await e.client();
    client.send({ type: 'join', room: 'v', protocol: 3 });
    const refusal = await client.next('error');
    assert.equal(refusal.code, 'bad-message');
    assert.match(refusal.message, /join.protocol 3 is not supported: this relay speaks 1, 2/);
    // The welcome states the version spoken on this connection: a v1 client is answered in v1.
    client.send({ type: 'join', room: 'v', protocol: 1 });
    assert.equal((await client.next('welcome')).protocol, 1);
    const v2 = await e.client();
    v2.send({ type: 'join', room: 'v', protocol: 2 });
    assert.equal((await v2.next('welcome')).protocol, 2);
  });

  it('welcomes with a fresh random ID, the others in joining order and the ICE servers', async (t) => {
    const iceServers = [
      { urls: 'stun:stun.example.org' },
      { urls: ['turn:t.example.org'], username: 'u', credential: 'c' },
    ];
    const e = await relayEnv(t, { iceServers });
    const a = await e.joined('room-1', 'Ann');
    assert.match(a.welcome.id, PEER_ID_PATTERN);
    // 16 random bytes in base64url: 22 characters, 128 bits.
    assert.equal(a.welcome.id.length, 22);
    assert.match(a.welcome.resume ?? '', /^[A-Za-z0-9_-]{22}$/, 'a 128-bit resume secret');
    assert.notEqual(a.welcome.resume, a.welcome.id);
    assert.deepEqual(a.welcome, {
      type: 'welcome',
      id: a.welcome.id,
      room: 'room-1',
      peers: [],
      iceServers,
      resume: a.welcome.resume,
      protocol: 1,
    });

    const b = await e.joined('room-1');
    assert.deepEqual(b.welcome.peers, [{ id: a.welcome.id, name: 'Ann' }]);
    assert.deepEqual(b.welcome.iceServers, iceServers);
    // A join without a name is announced with the empty name.
    assert.deepEqual(await a.client.next('peer-joined'), { type: 'peer-joined', peer: { id: b.welcome.id, name: '' } });

    const c = await e.joined('room-1', 'Cy');
    assert.deepEqual(c.welcome.peers, [
      { id: a.welcome.id, name: 'Ann' },
      { id: b.welcome.id, name: '' },
    ]);
    for (const other of [a, b]) {
      assert.deepEqual((await other.client.next('peer-joined')).peer, { id: c.welcome.id, name: 'Cy' });
    }
  });

  it('hands out distinct IDs', async (t) => {
    const e = await relayEnv(t, { maxPeersPerRoom: 50 });
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) seen.add((await e.joined('many')).welcome.id);
    assert.equal(seen.size, 30);
  });

  it('passes an empty ICE server list by default', async (t) => {
    const e = await relayEnv(t);
    assert.deepEqual((await e.joined('r')).welcome.iceServers, []);
  });
});

describe('relay: signal routing', () => {
  it('delivers to the addressed peer only, with from stamped and data untouched', async (t) => {
    const e = await relayEnv(t);
    const a = await e.joined('r');
    const b = await e.joined('r');
    const c = await e.joined('r');
    const data = {
      gen: 3,
      description: { type: 'offer', sdp: 'v=0\r\n…' },
      media: { '0': 'video' },
      nested: [1, { x: null }],
    };
    a.client.send({ type: 'signal', to: b.welcome.id, data });
    assert.deepEqual(await b.client.next('signal'), { type: 'signal', from: a.welcome.id, data });

    await Promise.all([a.client.sync(), c.client.sync()]);
    assert.deepEqual(a.client.pending('signal'), [], 'never echoed to the sender');
    assert.deepEqual(c.client.pending('signal'), [], 'not delivered to a bystander');
  });

  it('ignores a client-sent from: the relay stamps the real sender', async (t) => {
    const e = await relayEnv(t);
    const a = await e.joined('r');
    const b = await e.joined('r');
    const c = await e.joined('r');
    a.client.send({ type: 'signal', to: b.welcome.id, from: c.welcome.id, data: { hi: 1 } });
    assert.equal((await b.client.next('signal')).from, a.welcome.id);
  });

  it('never echoes: a signal to oneself is unknown-peer and nothing comes back', async (t) => {
    const e = await relayEnv(t);
    const a = await e.joined('r');
    await e.joined('r');
    a.client.send({ type: 'signal', to: a.welcome.id, data: {} });
    assert.equal((await a.client.next('error')).code, 'unknown-peer');
    await a.client.sync();
    assert.deepEqual(a.client.pending('signal'), []);
  });

  it('does not deliver across rooms, nor announce joins across rooms', async (t) => {
    const e = await relayEnv(t);
    const a = await e.joined('room-a');
    const x = await e.joined('room-b');
    const b = await e.joined('room-a');
    await a.client.next('peer-joined');
    a.client.send({ type: 'signal', to: x.welcome.id, data: { secret: true } });
    const error = await a.client.next('error');
    assert.equal(error.code, 'unknown-peer');
    // a's error was sent after any (wrong) delivery to x was queued; x's own barrier then flushes x's socket.
    await x.client.sync();
    assert.deepEqual(x.client.pending(), []);
    assert.deepEqual(
      b.welcome.peers.map((p) => p.id),
      [a.welcome.id],
    );

    void b.client.close();
    assert.equal((await a.client.next('peer-left')).id, b.welcome.id);
    await x.client.sync();
    assert.deepEqual(x.client.pending(), [], 'no peer-left from another room');
  });
});

describe('relay: leave', () => {
  it('announces peer-left, keeps the socket open, and allows joining again with a new ID', async (t) => {
    const e = await relayEnv(t);
    const a = await e.joined('r', 'Ann');
    const b = await e.joined('r', 'Bob');
    await a.client.next('peer-joined');

    b.client.send({ type: 'leave' });
    assert.deepEqual(await a.client.next('peer-left'), { type: 'peer-left', id: b.welcome.id });
    assert.deepEqual(e.running.relay.stats(), { connections: 2, rooms: 1, peers: 1 });

    // The old ID is gone: a cannot reach b through it, and b (not joined) cannot signal.
    a.client.send({ type: 'signal', to: b.welcome.id, data: {} });
    assert.equal((await a.client.next('error')).code, 'unknown-peer');
    b.client.send({ type: 'signal', to: a.welcome.id, data: {} });
    assert.equal((await b.client.next('error')).code, 'not-joined');

    const again = await b.client.join('r', 'Bob');
    assert.notEqual(again.id, b.welcome.id);
    assert.deepEqual(again.peers, [{ id: a.welcome.id, name: 'Ann' }]);
    assert.deepEqual((await a.client.next('peer-joined')).peer, { id: again.id, name: 'Bob' });
    b.client.send({ type: 'signal', to: a.welcome.id, data: { ok: true } });
    assert.deepEqual(await a.client.next('signal'), { type: 'signal', from: again.id, data: { ok: true } });
  });

  it('may join a different room after leaving', async (t) => {
    const e = await relayEnv(t);
    const a = await e.joined('one');
    a.client.send({ type: 'leave' });
    const other = await e.joined('two');
    const welcome = await a.client.join('two');
    assert.deepEqual(
      welcome.peers.map((p) => p.id),
      [other.welcome.id],
    );
    assert.deepEqual(e.running.relay.stats(), { connections: 2, rooms: 1, peers: 2 });
  });
});
