/**
 * The waiting room on a real relay (docs/protocol.md "Hosts and guests"): knock, admit, deny, cancel, a knocker that
 * disconnects, no host present, hosts arriving later, the timeout, the flood limit, `--knock`, version 1 clients.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_KNOCKS_PER_ROOM, KNOCK_RATE } from '../../../server/src/hosts/knock-limit.js';
import { sample, waitFor } from './helpers.js';
import { enter, host, hostsEnv, knockOrJoin, received, token } from './hosts-helpers.js';

describe('hosts: knock, admit, deny', () => {
  it('a knocker waits; only hosts see the knock; an admitted one joins normally', async (t) => {
    const e = await hostsEnv(t);
    const h = await host(e, 'r');
    const g = await enter(e, 'r', {}, 'Gus');
    const knocker = await knockOrJoin(e, 'r', { knock: true }, 'Kim\u202e');
    assert.deepEqual(await knocker.next('waiting'), { type: 'waiting', room: 'r', hosts: 1, timeoutMs: 300_000 });
    const { knock } = await h.client.next('knocking');
    assert.equal(knock.name, 'Kim', 'the name is sanitised like a display name');
    assert.match(knock.id, /^[A-Za-z0-9_-]{22}$/);
    // Knocks are not visible to guests.
    assert.ok(!(await received(g.client)).some((type) => type.startsWith('knock')), 'a guest saw a knock');
    // Waiting is not joined.
    knocker.send({ type: 'signal', to: g.welcome.id, data: {} });
    assert.equal((await knocker.next('error')).code, 'not-joined');
    knocker.send({ type: 'join', room: 'r', protocol: 2 });
    assert.equal((await knocker.next('error')).code, 'already-joined');
    h.client.send({ type: 'admit', knock: knock.id });
    const welcome = await knocker.next('welcome');
    assert.equal(welcome.role, 'guest');
    assert.deepEqual(
      welcome.peers.map((p) => p.id),
      [h.welcome.id, g.welcome.id],
    );
    assert.deepEqual(await h.client.next('knock-ended'), { type: 'knock-ended', knock: knock.id, outcome: 'admitted' });
    assert.equal((await g.client.next('peer-joined')).peer.id, welcome.id);
    // Admitted, it is a member like any other: the knock is gone.
    h.client.send({ type: 'admit', knock: knock.id });
    assert.equal((await h.client.next('error')).code, 'unknown-peer');
  });

  it('a denied knocker is told so, and its connection may join again', async (t) => {
    const e = await hostsEnv(t);
    const h = await host(e, 'r');
    const knocker = await knockOrJoin(e, 'r', { knock: true }, 'Kim');
    await knocker.next('waiting');
    h.client.send({ type: 'deny', knock: (await h.client.next('knocking')).knock.id });
    assert.deepEqual(await knocker.next('denied'), { type: 'denied', reason: 'denied' });
    assert.equal((await h.client.next('knock-ended')).outcome, 'denied');
    assert.ok(!(await received(h.client)).includes('peer-joined'));
    knocker.send({ type: 'join', room: 'r', protocol: 2, token: await token('r') });
    assert.equal((await knocker.next('welcome')).room, 'r', 'a plain guest token enters directly');
  });

  it('cancel leaves the queue; a knocker that disconnects leaves the queue', async (t) => {
    const e = await hostsEnv(t);
    const h = await host(e, 'r');
    const a = await knockOrJoin(e, 'r', { knock: true }, 'A');
    const b = await knockOrJoin(e, 'r', { knock: true }, 'B');
    const ka = (await h.client.next('knocking')).knock.id;
    const kb = (await h.client.next('knocking')).knock.id;
    a.send({ type: 'cancel' });
    assert.deepEqual(await h.client.next('knock-ended'), { type: 'knock-ended', knock: ka, outcome: 'cancelled' });
    a.send({ type: 'cancel' });
    assert.equal((await a.next('error')).code, 'not-joined');
    await b.close();
    assert.deepEqual(await h.client.next('knock-ended'), { type: 'knock-ended', knock: kb, outcome: 'left' });
    for (const knock of [ka, kb]) {
      h.client.send({ type: 'admit', knock });
      assert.equal((await h.client.next('error')).code, 'unknown-peer');
    }
    // A host who arrives now sees an empty queue.
    const late = await host(e, 'r', 'Late');
    assert.ok(!(await received(late.client)).includes('knocking'));
  });

  it('with no host present the knocker keeps waiting; a host arriving later sees the queue and can admit', async (t) => {
    const e = await hostsEnv(t, { joinTimeoutMs: 100 });
    const guest = await enter(e, 'r');
    const first = await knockOrJoin(e, 'r', { knock: true }, 'First');
    const second = await knockOrJoin(e, 'empty-room', { knock: true }, 'Alone');
    assert.equal((await first.next('waiting')).hosts, 0);
    assert.equal((await second.next('waiting')).hosts, 0);
    // Longer than the join timeout: a waiting connection is not closed for being in no room.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(await received(guest.client), ['room-state']);
    const h = await host(e, 'r');
    assert.equal((await first.next('waiting')).hosts, 1, 'the knocker hears that a host is there');
    assert.deepEqual(await h.client.next('room-state'), { type: 'room-state', locked: false, hosts: [h.welcome.id] });
    const { knock } = await h.client.next('knocking');
    assert.equal(knock.name, 'First');
    h.client.send({ type: 'admit', knock: knock.id });
    assert.equal((await first.next('welcome')).room, 'r');
    // The knock on the other room is that room's: this host never saw it.
    assert.ok(!(await received(h.client)).includes('knocking'));
    assert.deepEqual(await received(second), []);
  });

  it('a knock that nobody answers ends with timeout, for the knocker and the hosts', async (t) => {
    const e = await hostsEnv(t, { knockTimeoutMs: 200 });
    const h = await host(e, 'r');
    const knocker = await knockOrJoin(e, 'r', { knock: true });
    assert.equal((await knocker.next('waiting')).timeoutMs, 200);
    const { knock } = await h.client.next('knocking');
    assert.deepEqual(await knocker.next('denied'), { type: 'denied', reason: 'timeout' });
    assert.deepEqual(await h.client.next('knock-ended'), { type: 'knock-ended', knock: knock.id, outcome: 'timeout' });
  });
});

describe('hosts: knock floods', () => {
  it(`are limited per address and room (burst ${KNOCK_RATE.burst}); other rooms are not affected`, async (t) => {
    const e = await hostsEnv(t);
    const h = await host(e, 'r');
    const knockers = [];
    for (let i = 0; i < KNOCK_RATE.burst; i++) {
      const c = await knockOrJoin(e, 'r', { knock: true }, `k${i}`);
      await c.next('waiting');
      // Knock, leave, knock again: leaving does not give the knock back.
      await c.close();
      knockers.push(c);
    }
    const flood = await knockOrJoin(e, 'r', { knock: true }, 'flood');
    const refusal = await flood.next('error');
    assert.equal(refusal.code, 'rate-limited');
    assert.match(refusal.message, /too many knocks/);
    const knocks = (await received(h.client)).filter((x) => x === 'knocking').length;
    assert.equal(knocks, KNOCK_RATE.burst, 'the host saw only the knocks within the limit');
    const elsewhere = await knockOrJoin(e, 'other', { knock: true });
    assert.equal((await elsewhere.next('waiting')).room, 'other');
    const text = await e.running.relay.metrics.metrics();
    assert.equal(sample(text, 'video_chat_knocks_total', { outcome: 'rate-limited' }), 1);
    assert.ok(MAX_KNOCKS_PER_ROOM >= KNOCK_RATE.burst);
  });
});

describe('hosts: --knock and version 1 clients', () => {
  it('with knock on, every guest knocks unless its token says knock: false; hosts never knock', async (t) => {
    const e = await hostsEnv(t, { knock: true });
    const h = await host(e, 'r');
    const knocker = await knockOrJoin(e, 'r', {}, 'Plain');
    assert.equal((await knocker.next('waiting')).hosts, 1);
    const invited = await enter(e, 'r', { knock: false }, 'Invited');
    assert.equal(invited.welcome.role, 'guest');
    const v1 = await knockOrJoin(e, 'r', {}, 'Old', 1);
    const refusal = await v1.next('error');
    assert.equal(refusal.code, 'unauthorized');
    assert.match(refusal.message, /waiting room/);
    assert.equal((await h.client.next('knocking')).knock.name, 'Plain');
    assert.ok(!(await received(h.client)).includes('knocking'), 'the v1 client never knocked');
  });

  it('refuses knock without tokens; knock with Redis is accepted (the waiting room is shared)', async () => {
    const { resolveRelayOptions } = await import('../../../server/src/options.js');
    assert.throws(() => resolveRelayOptions({ knock: true, logLevel: 'silent' }), /knock needs tokenSecret/);
    const shared = resolveRelayOptions({
      knock: true,
      tokenSecret: 'x'.repeat(32),
      redisUrl: 'redis://127.0.0.1:1',
      logLevel: 'silent',
    });
    assert.equal(shared.knock, true);
    assert.throws(() => resolveRelayOptions({ knockTimeoutMs: 0, logLevel: 'silent' }), /knockTimeoutMs/);
  });

  it('a waiting room drains when its knockers go (no state left behind)', async (t) => {
    const e = await hostsEnv(t);
    const knocker = await knockOrJoin(e, 'r', { knock: true });
    await knocker.next('waiting');
    await knocker.close();
    await waitFor(() => e.running.relay.stats().connections === 0, 'the knocker to be gone');
    // A host arriving now sees no knock.
    const h = await host(e, 'r');
    assert.ok(!(await received(h.client)).includes('knocking'));
  });
});
