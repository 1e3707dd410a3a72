/**
 * What a site owner sees when the page itself stops the camera: the demo page opened over plain http on a host name
 * that is not localhost (`staging.test`: Firefox resolves every name to loopback here, `network.dns.native-is-localhost`)
 * is not a secure context, so browsers offer no camera or microphone. The element says the page needs HTTPS, offers no
 * "Try again" (it cannot help), and the visitor still watches and listens to someone on a secure page.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import {
  closeAll,
  launchChromium,
  launchFirefox,
  openParticipant,
  startRelayServer,
  uniqueRoom,
  waitForMediaFlowing,
  waitForState,
  withTimeout,
} from './harness.js';
import { startEmbedPage } from './embed-page.js';

describe('site-owner errors', { timeout: 120_000 }, () => {
  afterEach(async () => {
    await closeAll();
  });

  it('an http page on a non-localhost name shows the HTTPS message, no retry, and still receives', async () => {
    const relay = await startRelayServer();
    const port = new URL(relay.url).port;
    const room = uniqueRoom('https');
    const [firefox, chromium] = await Promise.all([launchFirefox(), launchChromium()]);
    const insecure = await openParticipant(firefox, `http://staging.test:${port}/`, { room, name: 'Ada' });
    assert.equal(await insecure.page.evaluate(() => window.isSecureContext), false, 'precondition: an insecure page');

    await withTimeout(
      insecure.page.waitForFunction(
        () =>
          document
            .querySelector('video-chat')
            ?.shadowRoot?.querySelector('[part~="error"]')
            ?.textContent?.includes('HTTPS'),
        { timeout: 20_000, polling: 200 },
      ),
      25_000,
      'the HTTPS message',
    );
    const retry = await insecure.page.evaluate(
      () => document.querySelector('video-chat')?.shadowRoot?.querySelector('[part~="retry-button"]') !== null,
    );
    assert.equal(retry, false, 'no "Try again" where trying again cannot help');
    assert.equal(
      await insecure.page.evaluate(
        () => (document.querySelector('video-chat') as HTMLElement & { error: { code: string } | null }).error?.code,
      ),
      'insecure-context',
    );

    // "You can still watch and listen": a visitor on a secure page (127.0.0.1) is seen and heard.
    await openParticipant(chromium, relay.url, { room, name: 'Grace' });
    await waitForState(insecure, ['in-call']);
    await waitForMediaFlowing(insecure, 1);
  });

  it('a relay that refuses the page\'s origin says so (not "unreachable"), no retry, no reconnect loop', async () => {
    // The relay allows one other site; the page comes from another origin (another port) and loads the bundle from it.
    const relay = await startRelayServer(['--allowed-origins', 'https://allowed.example']);
    const page = await startEmbedPage(relay.url);
    const chromium = await launchChromium();
    const visitor = await openParticipant(chromium, page.url, { room: uniqueRoom('origin'), name: 'Ada' });
    await waitForState(visitor, ['error'], 20_000);
    const shown = await visitor.page.evaluate(() => {
      const el = document.querySelector('video-chat') as HTMLElement & { error: { code: string } | null };
      const root = el.shadowRoot;
      return {
        code: el.error?.code,
        text: root?.querySelector('[part~="error"]')?.textContent ?? '',
        retry: root?.querySelector('[part~="retry-button"]') !== null,
      };
    });
    assert.equal(shown.code, 'origin-refused');
    assert.match(shown.text, /does not accept calls from this site \(http:\/\/127\.0\.0\.1:\d+\)/);
    assert.match(shown.text, /--allowed-origins/);
    assert.equal(shown.retry, false);
  });
});
