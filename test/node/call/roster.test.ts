/**
 * The call's peers across a relay restart (`src/call/roster.ts` and its lazy half `roster-rebind.ts`, issue 10): after a fresh `welcome` the peers still
 * connected are re-keyed to the new IDs their `rebind` names (same peer, session and channel objects, no leave/join),
 * in every order of `welcome`, `peer-joined` and `rebind`; peers that left during the outage are removed, peers that
 * joined during it are met; and a `rebind` re-keys only under the rules (announced ID, not in use, only a stale peer).
 * The rules are tested on `RebindRoster` (the chunk loaded after a lost place) directly, synchronously; the engine's
 * `Roster` is tested for handing over to it (only after a lost place or a `rebind`, in order, dropped by `clear()`)
 * and for giving the same result as the rules in calls without a restart.
 * The call controller's maps and peer lifecycle are faked; timers are node:test's mock timers.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { PeerMessage } from '../../../src/protocol/data-channel.js';
import type { PeerInfo, WelcomeMessage } from '../../../src/protocol/relay.js';
import { Roster, type RosterHost } from '../../../src/call/roster.js';
import { REBIND_WAIT_MS, REBIND_WINDOW_MS, RebindRoster } from '../../../src/call/roster-rebind.js';
import type { RemotePeer } from '../../../src/call/types.js';

interface FakeSession {
  direct: boolean;
  received: unknown[];
  receive(data: unknown): void;
}

const mocked = new WeakSet<TestContext>();

/** A call whose controller is faked: `log` records what the page would see (peers met and removed) and what is sent. */
function fakeCall(
  t: TestContext,
  make: (host: RosterHost) => Roster | RebindRoster = (h) => new RebindRoster(h, new Set()),
) {
  if (!mocked.has(t)) t.mock.timers.enable({ apis: ['setTimeout'] });
  mocked.add(t);
  const peers = new Map<string, RemotePeer>();
  const sessions = new Map<string, FakeSession>();
  const channels = new Map<string, { send(message: PeerMessage): void }>();
  const log: string[] = [];
  let changes = 0;
  const roster = make({
    peers,
    sessions,
    channels,
    add(info, initiator) {
      if (peers.has(info.id)) return;
      const peer = { id: info.id, name: info.name } as RemotePeer;
      peers.set(info.id, peer);
      const session: FakeSession = { direct: true, received: [], receive: (data) => session.received.push(data) };
      sessions.set(info.id, session);
      channels.set(info.id, { send: (m) => log.push(`to ${peer.id}: ${JSON.stringify(m)}`) });
      log.push(`joined ${info.id}${initiator ? ' (we offer)' : ''}`);
    },
    remove(id) {
      if (!peers.delete(id)) return;
      sessions.delete(id);
      channels.delete(id);
      log.push(`left ${id}`);
    },
    changed: () => void changes++,
  }) as Roster;
  const info = (id: string): PeerInfo => ({ id, name: id.slice(0, 1).toUpperCase() });
  const welcome = (id: string, ids: string[], fresh = true) =>
    roster.welcome({ type: 'welcome', id, room: 'r', peers: ids.map(info), iceServers: [] } as WelcomeMessage, fresh);
  const joined = (id: string) => roster.relay({ type: 'peer-joined', peer: info(id) });
  const rebind = (peer: RemotePeer, id: string) => roster.peer(peer, { type: 'rebind', id });
  /** Peer `id`, its session and its channel: the objects a re-key must keep. */
  const objects = (id: string) => {
    const peer = peers.get(id);
    assert.ok(peer, `peer ${id} is known`);
    return { peer, session: sessions.get(id), channel: channels.get(id) };
  };
  const tick = (ms: number) => t.mock.timers.tick(ms);
  /** I (`a1`) am in a room with `others` (joined after me), then the relay restarts. */
  const inCallWith = (...others: string[]) => {
    welcome('a1', []);
    for (const id of others) joined(id);
    log.length = 0;
  };
  return {
    roster,
    peers,
    sessions,
    log,
    welcome,
    joined,
    rebind,
    objects,
    tick,
    inCallWith,
    changes: () => changes,
  };
}

const keys = (map: Map<string, unknown>) => [...map.keys()];

describe('Roster: a relay restart keeps the connections', () => {
  it('welcome before rebind: the peer listed under its new ID waits for the rebind and is re-keyed, same objects', (t) => {
    const c = fakeCall(t);
    c.inCallWith('b1');
    const before = c.objects('b1');
    c.welcome('a2', ['b2']); // the relay lost us both; Bob was back first
    assert.deepEqual(c.log, ['to b1: {"type":"rebind","id":"a2"}'], 'we tell Bob our new ID, meet nobody yet');
    c.rebind(before.peer, 'b2');
    assert.deepEqual(keys(c.peers), ['b2']);
    assert.deepEqual(c.objects('b2'), before, 'the same peer, session and channel');
    assert.equal(before.peer.id, 'b2');
    c.tick(REBIND_WINDOW_MS + REBIND_WAIT_MS);
    assert.deepEqual(c.log, ['to b1: {"type":"rebind","id":"a2"}'], 'no leave, no join, no offer');
  });

  it('rebind before my own welcome: held, and applied by the welcome that announces the ID', (t) => {
    const c = fakeCall(t);
    c.inCallWith('b1');
    const before = c.objects('b1');
    c.rebind(before.peer, 'b2'); // Bob is back first; my resume is not refused yet
    assert.deepEqual(keys(c.peers), ['b1'], 'not announced by the relay yet: held');
    c.welcome('a2', ['b2']);
    assert.deepEqual(keys(c.peers), ['b2']);
    assert.deepEqual(c.objects('b2'), before);
    c.tick(REBIND_WINDOW_MS + REBIND_WAIT_MS);
    assert.deepEqual(c.log, ['to b1: {"type":"rebind","id":"a2"}'], 'told once; no leave, no join');
  });

  it('I am back first: peer-joined then rebind, and rebind then peer-joined, both re-key', (t) => {
    for (const rebindFirst of [false, true]) {
      const c = fakeCall(t);
      c.inCallWith('b1');
      const before = c.objects('b1');
      c.welcome('a2', []);
      if (rebindFirst) c.rebind(before.peer, 'b2');
      c.joined('b2');
      if (!rebindFirst) {
        assert.deepEqual(keys(c.peers), ['b1'], 'peer-joined waits for the rebind');
        c.rebind(before.peer, 'b2');
      }
      assert.deepEqual(keys(c.peers), ['b2'], `rebind first: ${rebindFirst}`);
      assert.deepEqual(c.objects('b2'), before);
      c.tick(REBIND_WINDOW_MS + REBIND_WAIT_MS);
      assert.deepEqual(c.log, ['to b1: {"type":"rebind","id":"a2"}'], `rebind first: ${rebindFirst}`);
    }
  });

  it('keeps the joining order of the peers (tiles are drawn in it) while re-keying', (t) => {
    const c = fakeCall(t);
    c.inCallWith('b1', 'c1', 'd1');
    const [b, cc, d] = ['b1', 'c1', 'd1'].map((id) => c.objects(id).peer);
    c.welcome('a2', ['d2', 'b2', 'c2']);
    c.rebind(cc!, 'c2');
    c.rebind(d!, 'd2');
    c.rebind(b!, 'b2');
    assert.deepEqual(keys(c.peers), ['b2', 'c2', 'd2']);
    assert.deepEqual(keys(c.sessions), ['b2', 'c2', 'd2']);
  });

  it('a peer that left during the outage is removed when its window ends; the others stay', (t) => {
    const c = fakeCall(t);
    c.inCallWith('b1', 'c1');
    const bob = c.objects('b1').peer;
    c.welcome('a2', ['b2']);
    c.rebind(bob, 'b2');
    c.tick(REBIND_WINDOW_MS - 1);
    assert.deepEqual(keys(c.peers), ['b2', 'c1'], 'Carol may still be on her way back');
    c.tick(1);
    assert.deepEqual(keys(c.peers), ['b2']);
    assert.ok(c.log.includes('left c1'));
    assert.ok(!c.log.includes('left b1') && !c.log.includes('left b2'));
    assert.ok(c.changes() > 0, 'the call state follows');
  });

  it('a peer whose connection is down at the fresh welcome cannot rebind: removed at once, not told', (t) => {
    const c = fakeCall(t);
    c.inCallWith('b1', 'c1');
    c.sessions.get('c1')!.direct = false;
    c.welcome('a2', []);
    assert.deepEqual(c.log, ['to b1: {"type":"rebind","id":"a2"}', 'left c1']);
  });

  it('a peer that joined during the outage is met: at once once nobody can claim its ID, else after the wait', (t) => {
    const c = fakeCall(t);
    c.inCallWith('b1');
    const bob = c.objects('b1').peer;
    c.welcome('a2', ['b2', 'n1']); // Nina joined while the relay was back and we were not
    assert.deepEqual(keys(c.peers), ['b1'], 'n1 might be Bob: wait for his rebind');
    c.rebind(bob, 'b2');
    assert.deepEqual(keys(c.peers), ['b2', 'n1'], 'no stale peer left: n1 is a stranger, met at once');
    assert.ok(c.log.includes('joined n1 (we offer)'), 'we are the newcomer to Nina: we offer');

    const d = fakeCall(t);
    d.inCallWith('b1');
    d.welcome('a2', ['n1']); // Bob is not back (yet): Nina waits the bound, then is met
    d.tick(REBIND_WAIT_MS - 1);
    assert.deepEqual(keys(d.peers), ['b1']);
    d.tick(1);
    assert.deepEqual(keys(d.peers), ['b1', 'n1']);
    assert.ok(d.log.includes('joined n1 (we offer)'));
  });

  it('a newcomer during the window is met as soon as its offer arrives through the relay, and gets it', (t) => {
    const c = fakeCall(t);
    c.inCallWith('b1');
    c.welcome('a2', []);
    c.joined('n1');
    assert.deepEqual(keys(c.peers), ['b1']);
    const offer = { gen: 0, description: { type: 'offer', sdp: 'v=0' } };
    c.roster.relay({ type: 'signal', from: 'n1', data: offer });
    assert.deepEqual(keys(c.peers), ['b1', 'n1']);
    assert.ok(c.log.includes('joined n1'), 'met as a newcomer (it offers)');
    assert.deepEqual(c.sessions.get('n1')?.received, [offer]);
  });

  it('only I lost my place (grace period over, no restart): peers listed under their old IDs are met afresh', (t) => {
    const c = fakeCall(t);
    c.inCallWith('b1', 'c1');
    const bob = c.objects('b1');
    c.welcome('a2', ['b1', 'c1']); // they got peer-left for a1 and closed their side
    assert.deepEqual(c.log, ['left b1', 'left c1', 'joined b1 (we offer)', 'joined c1 (we offer)']);
    assert.notEqual(c.objects('b1').session, bob.session, 'a new connection');
  });

  it('a relay restart without any peer is a plain fresh welcome; a resumed welcome reconciles as before', (t) => {
    const c = fakeCall(t);
    c.welcome('a1', ['b1', 'c1']);
    assert.deepEqual(c.log, ['joined b1 (we offer)', 'joined c1 (we offer)']);
    c.log.length = 0;
    c.welcome('a1', ['c1', 'd1'], false); // resumed: Bob left, Dan came during our outage
    assert.deepEqual(c.log, ['left b1', 'joined d1']);
  });
});

describe('Roster: a rebind re-keys only by the rules', () => {
  it('never to an ID the relay did not announce', (t) => {
    const c = fakeCall(t);
    c.inCallWith('b1');
    c.welcome('a2', ['b2']);
    c.rebind(c.objects('b1').peer, 'zz');
    assert.deepEqual(keys(c.peers), ['b1']);
    c.tick(REBIND_WINDOW_MS);
    assert.ok(c.log.includes('left b1'), 'no valid rebind: removed when the window ends');
    assert.ok(c.log.includes('joined b2 (we offer)'), 'b2 met as a stranger');
  });

  it('never to an ID already in use, nor to my own', (t) => {
    const c = fakeCall(t);
    c.inCallWith('b1', 'c1');
    const [bob, carol] = [c.objects('b1').peer, c.objects('c1').peer];
    c.welcome('a2', ['b2', 'c2']);
    c.rebind(bob, 'b2');
    c.rebind(carol, 'b2'); // Carol claims Bob's new ID
    c.rebind(carol, 'a2'); // or mine
    assert.deepEqual(keys(c.peers), ['b2', 'c1']);
    assert.equal(c.objects('b2').peer, bob);
    c.rebind(carol, 'c2');
    assert.deepEqual(keys(c.peers), ['b2', 'c2']);
  });

  it('only a stale peer: one already re-keyed (or never stale) cannot take another announced ID', (t) => {
    const c = fakeCall(t);
    c.inCallWith('b1', 'c1');
    const [bob, carol] = [c.objects('b1').peer, c.objects('c1').peer];
    c.rebind(bob, 'x'); // before any restart: Bob is announced, not stale; held, and the relay never announces x
    c.welcome('a2', ['b2']);
    c.rebind(bob, 'b2');
    c.joined('n1'); // waits: Carol might be n1
    c.rebind(bob, 'n1'); // Bob, already b2, claims the newcomer's ID
    assert.deepEqual(keys(c.peers), ['b2', 'c1']);
    assert.equal(bob.id, 'b2');
    c.rebind(carol, 'c2'); // not announced (yet): held
    assert.deepEqual(keys(c.peers), ['b2', 'c1']);
    c.joined('c2');
    assert.deepEqual(keys(c.peers), ['b2', 'c2', 'n1'], 'applied when the relay announces it; then n1 is a stranger');
    assert.ok(c.log.includes('joined n1'), 'no stale peer left: n1 met (it offers)');
    assert.equal(c.objects('n1').peer.name, 'N');
  });

  it('a rebind from a peer that was removed meanwhile changes nothing', (t) => {
    const c = fakeCall(t);
    c.inCallWith('b1');
    const bob = c.objects('b1').peer;
    c.welcome('a2', ['b2']);
    c.tick(REBIND_WINDOW_MS); // Bob's window ended
    c.rebind(bob, 'b2');
    assert.deepEqual(keys(c.peers), ['b2']);
    assert.notEqual(c.objects('b2').peer, bob, 'b2 was met as a stranger; the late rebind did not touch it');
  });

  it('clear() removes every peer and forgets held rebinds and waits', (t) => {
    const c = fakeCall(t);
    c.inCallWith('b1');
    c.welcome('a2', ['n1']);
    c.roster.clear();
    assert.deepEqual(keys(c.peers), []);
    c.tick(REBIND_WINDOW_MS);
    assert.ok(!c.log.includes('joined n1 (we offer)'), 'nobody met after the call ended');
  });
});

/** Lets the lazy chunk's import and the calls queued on it run (no timers involved). */
async function settle(): Promise<void> {
  await import('../../../src/call/roster-rebind.js');
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('Roster (engine chunk): the re-association is loaded only after a lost place', () => {
  const engine = (h: RosterHost) => new Roster(h);

  it('a call without a relay restart meets and removes peers as the rules do, without the rebind chunk', async (t) => {
    const steps = (c: ReturnType<typeof fakeCall>) => {
      c.welcome('a1', ['b1', 'c1']);
      c.joined('d1');
      c.roster.relay({ type: 'peer-left', id: 'c1' });
      c.roster.relay({ type: 'signal', from: 'b1', data: { x: 1 } });
      c.welcome('a1', ['b1', 'e1'], false); // resumed: Dan left, Eve came meanwhile
    };
    const rules = fakeCall(t);
    steps(rules);
    await settle();
    const lazy = fakeCall(t, engine);
    steps(lazy);
    await settle();
    assert.deepEqual(lazy.log, rules.log);
    assert.deepEqual(keys(lazy.peers), ['b1', 'e1']);
    assert.deepEqual(lazy.sessions.get('b1')?.received, [{ x: 1 }]);
    assert.equal((lazy.roster as Roster).rebinding, false, 'the rebind chunk was never asked for');
  });

  it('after a lost place it hands over, in order: the rebind re-keys the same objects', async (t) => {
    const c = fakeCall(t, engine);
    c.inCallWith('b1');
    const before = c.objects('b1');
    c.welcome('a2', ['b2']);
    c.rebind(before.peer, 'b2'); // arrives while the chunk may still be loading: queued behind the welcome
    assert.equal((c.roster as Roster).rebinding, true);
    await settle();
    assert.deepEqual(keys(c.peers), ['b2']);
    assert.deepEqual(c.objects('b2'), before, 'the same peer, session and channel');
    c.tick(REBIND_WINDOW_MS + REBIND_WAIT_MS);
    assert.deepEqual(c.log, ['to b1: {"type":"rebind","id":"a2"}'], 'no leave, no join, no offer');
  });

  it('a rebind before my own welcome loads it too, with the IDs announced so far', async (t) => {
    const c = fakeCall(t, engine);
    c.inCallWith('b1');
    const before = c.objects('b1');
    c.rebind(before.peer, 'b2'); // b1 is announced: not stale, held
    await settle();
    assert.deepEqual(keys(c.peers), ['b1'], 'held');
    c.welcome('a2', ['b2']);
    await settle();
    assert.deepEqual(keys(c.peers), ['b2']);
    assert.deepEqual(c.objects('b2'), before);
  });

  it('clear() while the chunk loads removes every peer at once and drops what was queued', async (t) => {
    const c = fakeCall(t, engine);
    c.inCallWith('b1');
    c.welcome('a2', ['n1']);
    c.roster.clear();
    assert.deepEqual(keys(c.peers), []);
    await settle();
    c.tick(REBIND_WINDOW_MS + REBIND_WAIT_MS);
    assert.deepEqual(keys(c.peers), [], 'nobody met after the call ended');
    assert.ok(!c.log.some((l) => l.startsWith('joined n1')), 'the queued welcome did not run');
  });
});
