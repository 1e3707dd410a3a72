/**
 * A call forced through a real coturn, with credentials the relay minted (TURN REST API): the relay runs with
 * `--turn-urls`/`--turn-secret`, the pages set `ice-transport-policy="relay"` and no `ice-servers`, so the only way
 * the two browsers can reach each other is a TURN allocation made with the welcome's credentials. What a person sees
 * (remote video decoding, a picture) is asserted, and on both ends the local candidate of the connection's selected
 * pair is of type relay (the remote one may show as prflx: the far side's relayed address, learned from its checks).
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { Browser } from 'puppeteer-core';
import { startCoturn } from './coturn.js';
import { pageUrl, startEmbedPage } from './embed-page.js';
import {
  closeAll,
  launchChromium,
  launchFirefox,
  openParticipant,
  startRelayServer,
  uniqueRoom,
  waitForMediaFlowing,
  waitForState,
} from './harness.js';
import { selectedPairs } from './ice-stats.js';

/** The dflt0 address scripts/netns.sh gives the namespace: local to it, reachable from nowhere else. */
const NETNS_ADDRESS = '10.255.255.1';

const launchers: Record<'chromium' | 'firefox', () => Promise<Browser>> = {
  chromium: launchChromium,
  firefox: launchFirefox,
};

describe('calls through coturn with relay-minted TURN credentials', { timeout: 120_000 }, () => {
  afterEach(closeAll);

  for (const [first, second] of [
    ['chromium', 'chromium'],
    ['chromium', 'firefox'],
  ] as const) {
    it(`${first} ↔ ${second}: remote video decodes over a relay candidate pair`, async () => {
      // Firefox's ICE never uses loopback (no host sockets there, so no allocation on a loopback TURN server): with
      // Firefox in the call, coturn listens on the namespace's own dead-end address instead (scripts/netns.sh).
      const turn = await startCoturn(second === 'firefox' ? { address: NETNS_ADDRESS } : {});
      const relay = await startRelayServer([
        '--turn-urls',
        turn.url,
        '--turn-secret',
        turn.secret,
        '--turn-ttl',
        '600',
      ]);
      const site = await startEmbedPage(relay.url);
      const url = pageUrl(site.url, { policy: 'relay' });
      const room = uniqueRoom('turn');
      const [a, b] = await Promise.all([launchers[first](), launchers[second]()]);
      const alice = await openParticipant(a, url, { room, name: 'Alice' });
      await waitForState(alice, ['waiting', 'in-call'], 20_000);
      const bob = await openParticipant(b, url, { room, name: 'Bob' });
      try {
        const [aliceSees, bobSees] = await Promise.all([
          waitForMediaFlowing(alice, 1, 30_000),
          waitForMediaFlowing(bob, 1, 30_000),
        ]);
        assert.equal(aliceSees[0]?.name, 'Bob');
        assert.equal(bobSees[0]?.name, 'Alice');
      } catch (error) {
        throw new Error(`${String(error)}\ncoturn log:\n${turn.log()}`, { cause: error });
      }
      for (const who of [alice, bob]) {
        const pairs = await selectedPairs(who.page);
        assert.equal(pairs.length, 1, `${who.name}: one connection`);
        assert.equal(pairs[0]?.localType, 'relay', `${who.name}: local candidate of the selected pair is relay`);
      }
    });
  }
});
