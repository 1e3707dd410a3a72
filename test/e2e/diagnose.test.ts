/**
 * The embed doctor where separate processes are needed: a relay whose origin allowlist refuses the page (close code
 * 4003), and a real coturn behind a relay minting TURN REST credentials, once with the right shared secret and once with
 * a wrong one (coturn answers the allocation with 401). The page is the README's embed (another origin than the relay,
 * the bundle by script tag); the result is read from `diagnose()` and from the `debug` list a site owner would see.
 * The checks a single page can set up are in test/browser/element/diagnose.test.ts.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import type { DiagnosisCheck, EmbedDiagnosis } from '../../src/diagnosis.js';
import { startCoturn } from './coturn.js';
import { startEmbedPage } from './embed-page.js';
import { closeAll, launchChromium, launchFirefox, openParticipant, startRelayServer, uniqueRoom } from './harness.js';

/** The dflt0 address scripts/netns.sh gives the namespace (Firefox's ICE never uses loopback: coturn listens here). */
const NETNS_ADDRESS = '10.255.255.1';

const launchers: Record<'chromium' | 'firefox', () => Promise<Browser>> = {
  chromium: launchChromium,
  firefox: launchFirefox,
};

/** Runs `diagnose()` on the page's element. */
const diagnose = (page: Page): Promise<EmbedDiagnosis> =>
  page.evaluate(() =>
    (document.querySelector('video-chat') as HTMLElement & { diagnose(): Promise<EmbedDiagnosis> }).diagnose(),
  );

function get(diagnosis: EmbedDiagnosis, name: DiagnosisCheck['check']): DiagnosisCheck {
  const found = diagnosis.checks.find((c) => c.check === name);
  assert.ok(found, `a ${name} check in ${JSON.stringify(diagnosis)}`);
  return found;
}

const outcome = (c: DiagnosisCheck) => ({ result: c.result, code: c.code });

describe('embed doctor (separate processes)', { timeout: 120_000 }, () => {
  afterEach(closeAll);

  it('a relay that refuses the page’s origin: origin-refused, and the debug list names --allowed-origins', async () => {
    const relay = await startRelayServer(['--allowed-origins', 'https://allowed.example']);
    const site = await startEmbedPage(relay.url);
    const visitor = await openParticipant(await launchChromium(), site.url, { room: uniqueRoom('doc'), name: 'Ada' });
    const relayCheck = get(await diagnose(visitor.page), 'relay');
    assert.deepEqual(outcome(relayCheck), { result: 'fail', code: 'origin-refused' }, relayCheck.detail);

    await visitor.page.evaluate(() => document.querySelector('video-chat')?.setAttribute('debug', ''));
    const shown = await visitor.page.waitForFunction(
      () => {
        const item = document
          .querySelector('video-chat')
          ?.shadowRoot?.querySelector('[part~="diagnosis"] [data-check="relay"][data-result="fail"]');
        return item?.textContent ?? false;
      },
      { timeout: 20_000, polling: 200 },
    );
    assert.match(String(await shown.jsonValue()), /--allowed-origins/);
  });

  for (const kind of ['chromium', 'firefox'] as const) {
    it(`${kind}: TURN with the relay's credentials passes; with a wrong shared secret: turn-refused`, async () => {
      const turn = await startCoturn(kind === 'firefox' ? { address: NETNS_ADDRESS } : {});
      const args = (secret: string) => ['--turn-urls', turn.url, '--turn-secret', secret, '--turn-ttl', '600'];
      const [good, wrong] = await Promise.all([
        startRelayServer(args(turn.secret)),
        startRelayServer(args(`${turn.secret}-not-it`)),
      ]);
      const browser = await launchers[kind]();
      const room = uniqueRoom('doc');

      const working = await openParticipant(browser, (await startEmbedPage(good.url)).url, { room, name: 'Ada' });
      const passing = await diagnose(working.page);
      for (const name of ['relay', 'udp', 'turn'] as const) {
        assert.deepEqual(outcome(get(passing, name)), { result: 'pass', code: undefined }, get(passing, name).detail);
      }

      const refused = await openParticipant(browser, (await startEmbedPage(wrong.url)).url, { room, name: 'Grace' });
      const failing = await diagnose(refused.page);
      const turnCheck = get(failing, 'turn');
      assert.deepEqual(
        outcome(turnCheck),
        { result: 'fail', code: 'turn-refused' },
        `${turnCheck.detail}\ncoturn log:\n${turn.log()}`,
      );
      assert.equal(failing.ok, false);
    });
  }
});
