/**
 * Hosts and guests on a real relay (docs/protocol.md "Hosts and guests"): roles from the token, the host-only actions
 * refused to guests, remove (and the token refused afterwards), lock, end, ask-unmute / mute-request, version 1
 * clients. The waiting room is in hosts-knock.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloseCode, HOST_CLIENT_TYPES } from '../../../src/protocol/relay.js';
import { relayEnv, sample, waitFor } from './helpers.js';
import { enter, host, hostsEnv, knockOrJoin, received, token } from './hosts-helpers.js';

describe('hosts: roles', () => {
  it('welcome carries the role and room-state names the hosts, to v2 clients only', async (t) => {
    const e = await hostsEnv(t);
    const h = await host(e, 'r');
    assert.equal(h.welcome.role, 'host');
    assert.equal(h.welcome.protocol, 2);
    assert.deepEqual(await h.client.next('room-state'), { type: 'room-state', locked: false, hosts: [h.welcome.id] });
    const g = await enter(e, 'r', {}, 'Gus');
    assert.equal(g.welcome.role, 'guest');
    assert.deepEqual(await g.client.next('room-state'), { type: 'room-state', locked: false, hosts: [h.welcome.id] });
    // A v1 client with a host token is a guest, told nothing of hosts; the welcome speaks its version.
    const old = await enter(e, 'r', { role: 'host' }, 'Old', 1);
    assert.equal(old.welcome.role, undefined);
    assert.equal(old.welcome.protocol, 1);
    assert.deepEqual(await received(old.client), []);
    old.client.send({ type: 'lock' });
    assert.equal((await old.client.next('error')).code, 'forbidden');
  });

  it('a token with a bad role, knock or jti claim is refused like any bad token', async (t) => {
    const e = await hostsEnv(t);
    const c = await knockOrJoin(e, 'r', { role: 'admin' });
    assert.equal((await c.next('error')).code, 'unauthorized');
    const d = await knockOrJoin(e, 'r', { knock: 'yes' });
    assert.equal((await d.next('error')).code, 'unauthorized');
    const f = await knockOrJoin(e, 'r', { jti: 'x'.repeat(257) });
    assert.equal((await f.next('error')).code, 'unauthorized');
  });

  it('without tokens there are no hosts: every host action is forbidden, rooms work as before', async (t) => {
    const e = await relayEnv(t);
    const a = await e.client();
    a.send({ type: 'join', room: 'r', protocol: 2, token: 'ignored' });
    const welcome = await a.next('welcome');
    assert.equal(welcome.role, 'guest');
    assert.deepEqual(await a.next('room-state'), { type: 'room-state', locked: false, hosts: [] });
    const b = await e.joined('r');
    a.send({ type: 'remove', id: b.welcome.id });
    assert.equal((await a.next('error')).code, 'forbidden');
    a.send({ type: 'lock' });
    assert.equal((await a.next('error')).code, 'forbidden');
    assert.equal((await e.joined('r')).welcome.room, 'r');
  });
});

describe('hosts: a guest cannot act as a host', () => {
  it('admit, deny, remove, lock, unlock, end, ask-unmute and mute-request from a guest are forbidden; nothing changes', async (t) => {
    const e = await hostsEnv(t);
    const h = await host(e, 'r');
    const g = await enter(e, 'r', {}, 'Gus');
    const other = await enter(e, 'r', {}, 'Ola');
    const knocker = await knockOrJoin(e, 'r', { knock: true }, 'Kim');
    const { knock } = await h.client.next('knocking');
    const requests = [
      { type: 'admit', knock: knock.id },
      { type: 'deny', knock: knock.id },
      { type: 'remove', id: other.welcome.id },
      { type: 'remove', id: h.welcome.id },
      { type: 'lock' },
      { type: 'unlock' },
      { type: 'end' },
      { type: 'ask-unmute', to: other.welcome.id, media: 'microphone' },
      { type: 'mute-request', to: h.welcome.id, media: 'camera' },
    ];
    assert.deepEqual(new Set(requests.map((r) => r.type)), new Set(HOST_CLIENT_TYPES.filter((x) => x !== 'cancel')));
    for (const request of requests) {
      g.client.send(request);
      const refusal = await g.client.next('error');
      assert.equal(refusal.code, 'forbidden', request.type);
    }
    // Nothing happened: nobody left or was asked anything, the knock still waits, the room is not locked or ended.
    assert.deepEqual(await received(other.client), ['room-state']);
    assert.deepEqual(await received(knocker), ['waiting']);
    assert.equal((await enter(e, 'r', {}, 'New')).welcome.room, 'r');
    const text = await e.running.relay.metrics.metrics();
    assert.equal(sample(text, 'video_chat_host_actions_total', { action: 'lock', outcome: 'forbidden' }), 1);
    // The host can.
    h.client.send({ type: 'admit', knock: knock.id });
    assert.equal((await knocker.next('welcome')).role, 'guest');
  });
});

describe('hosts: remove', () => {
  it('closes the removed participant with 4004, tells the others, and refuses its token afterwards', async (t) => {
    const e = await hostsEnv(t);
    const h = await host(e, 'r');
    const g = await enter(e, 'r', { jti: 'guest-1' }, 'Gus');
    const o = await enter(e, 'r', {}, 'Ola');
    await h.client.next('peer-joined');
    await h.client.next('peer-joined');
    h.client.send({ type: 'remove', id: g.welcome.id });
    assert.deepEqual(await g.client.closed, { code: CloseCode.Removed, reason: 'removed by a host' });
    assert.deepEqual(await h.client.next('peer-left'), { type: 'peer-left', id: g.welcome.id });
    assert.deepEqual(await o.client.next('peer-left'), { type: 'peer-left', id: g.welcome.id });
    // Same token ID (a freshly minted token with the same jti): refused, nothing joined; the connection stays usable.
    const again = await knockOrJoin(e, 'r', { jti: 'guest-1' }, 'Gus');
    assert.equal((await again.next('error')).code, 'removed');
    assert.ok(!(await received(h.client)).includes('peer-joined'), 'nothing was joined');
    // Knocking with it is refused too, and a v1 client gets a code it knows.
    assert.equal((await (await knockOrJoin(e, 'r', { jti: 'guest-1', knock: true })).next('error')).code, 'removed');
    assert.equal((await (await knockOrJoin(e, 'r', { jti: 'guest-1' }, '', 1)).next('error')).code, 'unauthorized');
    // Another token ID joins.
    assert.equal((await enter(e, 'r', { jti: 'guest-2' })).welcome.room, 'r');
  });

  it('without jti the token itself is what is refused', async (t) => {
    const e = await hostsEnv(t);
    const h = await host(e, 'r');
    const room = 'r';
    const same = await token(room, { name: 'Gus' });
    const g = await e.client();
    g.send({ type: 'join', room, protocol: 2, token: same });
    const welcome = await g.next('welcome');
    h.client.send({ type: 'remove', id: welcome.id });
    assert.equal((await g.closed).code, CloseCode.Removed);
    const back = await e.client();
    back.send({ type: 'join', room, protocol: 2, token: same });
    assert.equal((await back.next('error')).code, 'removed');
  });

  it('refuses to remove oneself or someone not in the room (unknown-peer)', async (t) => {
    const e = await hostsEnv(t);
    const h = await host(e, 'r');
    const elsewhere = await enter(e, 'other');
    for (const id of [h.welcome.id, elsewhere.welcome.id, 'made-up-id']) {
      h.client.send({ type: 'remove', id });
      assert.equal((await h.client.next('error')).code, 'unknown-peer', id);
    }
    assert.deepEqual(await received(elsewhere.client), ['room-state']);
  });

  it('a participant removed (or ended) in its grace period is gone at once for the others and cannot resume', async (t) => {
    // A grace far beyond the wait below: a peer-left within the wait is the removal's, not the grace ending.
    const e = await hostsEnv(t, { resumeGraceMs: 60_000 });
    const h = await host(e, 'r');
    const g = await enter(e, 'r', { jti: 'g' });
    const o = await enter(e, 'r');
    await h.client.next('peer-joined');
    await h.client.next('peer-joined');
    for (const [who, close] of [
      [g, { type: 'remove', id: g.welcome.id }],
      [o, { type: 'end' }],
    ] as const) {
      const stats = (): { connections: number; peers: number } => e.running.relay.stats();
      const before = stats();
      who.client.socket.terminate(); // a lost network: the relay keeps it for its grace period
      await who.client.closed;
      await waitFor(() => stats().connections === before.connections - 1, 'the lost connection noticed');
      assert.equal(stats().peers, before.peers, 'in its grace period');
      h.client.send(close);
      if (close.type === 'remove') {
        assert.deepEqual(await h.client.next('peer-left', 3_000), { type: 'peer-left', id: who.welcome.id });
      } else {
        assert.equal((await h.client.closed).code, CloseCode.Ended);
      }
      assert.ok(stats().peers < before.peers, 'it left');
      const back = await e.client();
      back.send({ type: 'join', room: 'r', protocol: 2, resume: { id: who.welcome.id, secret: who.welcome.resume } });
      assert.equal((await back.next('error')).code, 'resume-failed');
    }
    assert.equal(e.running.relay.stats().rooms, 0);
  });

  it('remembers the removal for the room lifetime only', async (t) => {
    const e = await hostsEnv(t);
    const h = await host(e, 'r');
    const g = await enter(e, 'r', { jti: 'g' });
    h.client.send({ type: 'remove', id: g.welcome.id });
    assert.equal((await g.client.closed).code, CloseCode.Removed);
    await h.client.close();
    // The room emptied: a new room of the same name knows nothing of it.
    assert.equal((await enter(e, 'r', { jti: 'g' })).welcome.room, 'r');
  });
});

describe('hosts: lock', () => {
  it('refuses guests joins and knocks while locked, never hosts; unlock lets guests in again', async (t) => {
    const e = await hostsEnv(t);
    const h = await host(e, 'r');
    await h.client.next('room-state');
    const g = await enter(e, 'r');
    await g.client.next('room-state');
    await h.client.next('peer-joined');
    h.client.send({ type: 'lock' });
    assert.deepEqual(await h.client.next('room-state'), { type: 'room-state', locked: true, hosts: [h.welcome.id] });
    assert.deepEqual(await g.client.next('room-state'), { type: 'room-state', locked: true, hosts: [h.welcome.id] });
    const refused = await knockOrJoin(e, 'r');
    assert.equal((await refused.next('error')).code, 'room-locked');
    const knock = await knockOrJoin(e, 'r', { knock: true });
    assert.equal((await knock.next('error')).code, 'room-locked');
    assert.equal((await (await knockOrJoin(e, 'r', {}, '', 1)).next('error')).code, 'unauthorized');
    assert.deepEqual(await received(h.client), [], 'nobody joined, no knock reached the host');
    const second = await host(e, 'r', 'Second host');
    assert.equal(second.welcome.role, 'host');
    assert.deepEqual((await second.client.next('room-state')).locked, true);
    // A host joining changes the hosts: everyone hears it.
    assert.deepEqual((await g.client.next('room-state')).hosts, [h.welcome.id, second.welcome.id]);
    h.client.send({ type: 'unlock' });
    assert.equal((await g.client.next('room-state')).locked, false);
    refused.send({ type: 'join', room: 'r', protocol: 2, token: await token('r') });
    assert.equal((await refused.next('welcome')).room, 'r');
  });
});

describe('hosts: end', () => {
  it('closes every participant with 4005 and denies every knocker; the room is gone', async (t) => {
    const e = await hostsEnv(t);
    const h = await host(e, 'r');
    const g = await enter(e, 'r');
    const knocker = await knockOrJoin(e, 'r', { knock: true });
    await knocker.next('waiting');
    const elsewhere = await enter(e, 'other');
    h.client.send({ type: 'end' });
    for (const c of [h.client, g.client]) assert.equal((await c.closed).code, CloseCode.Ended);
    assert.deepEqual(await knocker.next('denied'), { type: 'denied', reason: 'ended' });
    assert.deepEqual(await received(elsewhere.client), ['room-state']);
    assert.deepEqual(e.running.relay.stats().rooms, 1);
  });
});

describe('hosts: ask-unmute and mute-request', () => {
  it('are delivered to the participant, with the host as from, and nothing else happens', async (t) => {
    const e = await hostsEnv(t);
    const h = await host(e, 'r');
    const g = await enter(e, 'r');
    await g.client.next('room-state');
    h.client.send({ type: 'ask-unmute', to: g.welcome.id, media: 'microphone' });
    assert.deepEqual(await g.client.next('ask-unmute'), {
      type: 'ask-unmute',
      from: h.welcome.id,
      media: 'microphone',
    });
    h.client.send({ type: 'mute-request', to: g.welcome.id, media: 'camera' });
    assert.deepEqual(await g.client.next('mute-request'), {
      type: 'mute-request',
      from: h.welcome.id,
      media: 'camera',
    });
    // To oneself, to a v1 client (which would not understand it), to nobody: unknown-peer.
    const old = await enter(e, 'r', {}, '', 1);
    for (const to of [h.welcome.id, old.welcome.id, 'nobody']) {
      h.client.send({ type: 'ask-unmute', to, media: 'camera' });
      assert.equal((await h.client.next('error')).code, 'unknown-peer', to);
    }
    assert.deepEqual(await received(old.client), []);
  });
});
