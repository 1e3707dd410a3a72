/**
 * `restart: true` from a hostile peer (red team D5): consecutive generations must not make the element build one
 * RTCPeerConnection each, nor repeated `restart: 'ice'` requests make it restart ICE each time, and a connection the browser refuses to create is a failed attempt, not an uncaught error.
 * RTCPeerConnections are counted, not timed.
 */
import { expect, fixtureCleanup } from '@open-wc/testing';
import type { Warning } from '../../../src/errors.js';
import { PeerSession } from '../../../src/negotiation/peer-session.js';
import type { VideoChatElement } from '../../../src/video-chat.js';
import { hostilePeer, type HostilePeer } from '../hostile-peer.js';
import { inbound, joined, part, shadow, uniqueRoom, waitFor, waitForGrowth } from '../helpers.js';

type Constructor = typeof RTCPeerConnection;
const scope = window as unknown as { RTCPeerConnection: Constructor };
const Original = scope.RTCPeerConnection;

/** Counts RTCPeerConnections made from now on (every one in this page) until `restore()`. */
function countConnections(): { readonly count: number; restore(): void } {
  const counter = { count: 0, restore: () => void (scope.RTCPeerConnection = Original) };
  scope.RTCPeerConnection = class extends Original {
    constructor(configuration?: RTCConfiguration) {
      super(configuration);
      counter.count += 1;
    }
  };
  return counter;
}

const RESTARTS = 50;
const tileOf = (victim: VideoChatElement, attacker: HostilePeer) =>
  shadow(victim).querySelector<HTMLElement>(`[part~="remote-tile"][data-peer-id="${attacker.id}"]`) as HTMLElement;

describe('restart requests from a hostile peer', function () {
  this.timeout(60_000);
  let attacker: HostilePeer | undefined;
  let counter: { restore(): void } | undefined;
  afterEach(() => {
    counter?.restore();
    attacker?.close();
    attacker = undefined;
    fixtureCleanup();
  });

  it(`${RESTARTS} consecutive restart generations to a connected element: no new connection, the video goes on`, async () => {
    const room = uniqueRoom('restart');
    const evil = (attacker = await hostilePeer(room)); // first in the room: the element is the initiator
    const victim = await joined(room, 'Ada');
    const frames = async () => inbound(await victim.getStats(evil.id)).framesDecoded;
    await waitForGrowth('the attacker’s video at the element', frames);
    const gen = evil.received.at(-1)?.gen ?? 0;
    evil.deaf = true; // from now on it only watches what the element sends
    const connections = (counter = countConnections());
    const seen = evil.received.length;
    for (let g = gen; g < gen + RESTARTS; g++) evil.signal({ gen: g, restart: true });
    // Applied in order after the restarts: an ICE restart request, answered by an offer on the same connection.
    evil.signal({ gen, restart: 'ice' });
    await waitFor('the element’s next offer', () =>
      evil.received.slice(seen).find((m) => m.description?.type === 'offer'),
    );

    expect(connections.count, 'RTCPeerConnections the element made').to.equal(0);
    expect(
      evil.received.slice(seen).every((m) => m.gen === gen),
      'generations after the restarts',
    ).to.equal(true);
    await waitForGrowth('the attacker’s video, still', frames);
    expect(part(victim, 'badge', tileOf(victim, evil)), 'a connection badge on the tile').to.equal(null);
  });

  it('ICE restart requests, each answered before the next: one ICE restart per watchdog period, the video goes on', async () => {
    const room = uniqueRoom('restart');
    const evil = (attacker = await hostilePeer(room)); // first in the room: the element is the initiator
    const victim = await joined(room, 'Ada');
    const frames = async () => inbound(await victim.getStats(evil.id)).framesDecoded;
    await waitForGrowth('the attacker’s video at the element', frames);
    const gen = evil.received.at(-1)?.gen ?? 0;
    const offers = () => evil.received.filter((m) => m.description?.type === 'offer').length;
    const before = offers();
    for (let i = 0; i < 5; i++) {
      const seen = offers();
      evil.signal({ gen, restart: 'ice' });
      // Without a limit each request is one more ICE restart offer (the attacker answers it before asking again).
      await waitFor('an ICE restart offer', () => offers() > seen, 2000).catch(() => undefined);
      await waitFor('the attacker’s side stable', () => evil.session?.signalingState === 'stable');
    }
    expect(offers() - before, 'ICE restart offers for 5 requests within the watchdog period').to.equal(1);
    await waitForGrowth('the attacker’s video, still', frames);
  });

  it(`${RESTARTS} consecutive restart generations while connecting: at most one new connection`, async () => {
    const room = uniqueRoom('restart');
    const evil = (attacker = await hostilePeer(room, 'Mallory', { deaf: true })); // never answers
    const victim = await joined(room, 'Ada');
    await waitFor('the element’s offer', () => evil.received.find((m) => m.description?.type === 'offer'));
    const connections = (counter = countConnections());
    for (let g = 0; g < RESTARTS; g++) evil.signal({ gen: g, restart: true });
    // Today's code needs well under this to build all of them; the watchdog (10 s) is not due yet.
    await waitFor('more connections', () => connections.count > 1, 3000).catch(() => undefined);
    expect(connections.count, 'RTCPeerConnections the element made').to.be.at.most(1);
    expect(victim.state).to.equal('in-call');
  });

  it('a connection the browser refuses to create is reported and retried, never thrown', async () => {
    const uncaught: unknown[] = [];
    const onError = (event: ErrorEvent) => {
      uncaught.push(event.error);
      event.preventDefault();
    };
    window.addEventListener('error', onError);
    const errors: Warning[] = [];
    let session: PeerSession | undefined;
    try {
      const refuse = () => {
        scope.RTCPeerConnection = class extends Original {
          constructor() {
            super();
            this.close();
            throw new DOMException('Cannot create so many PeerConnections', 'UnknownError');
          }
        };
      };
      refuse();
      session = new PeerSession({
        peerId: 'p',
        initiator: true,
        iceServers: [],
        watchdogMs: 200,
        send: () => undefined,
        onError: (warning) => errors.push(warning),
      });
      expect(errors.map((w) => [w.code, (w.cause as DOMException).name])).to.deep.equal([
        ['connection-refused', 'UnknownError'],
      ]);
      expect(session.signalingState).to.equal(undefined);
      // The watchdog tries again (also refused: reported, not thrown from the timer), then succeeds once allowed.
      await waitFor('a second refusal', () => errors.length >= 2);
      scope.RTCPeerConnection = Original;
      await waitFor(
        'a connection',
        () => session?.signalingState === 'stable' || session?.signalingState === 'have-local-offer',
      );
      expect(session.generation).to.be.at.least(2);
      expect(uncaught).to.deep.equal([]);
    } finally {
      scope.RTCPeerConnection = Original;
      window.removeEventListener('error', onError);
      session?.close();
    }
  });
});
