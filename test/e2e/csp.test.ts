/**
 * A site owner's page under the README's minimal strict Content-Security-Policy, Trusted Types enforced
 * (`require-trusted-types-for 'script'; trusted-types lit-html`), embeds `<video-chat>` by script tag from the relay and
 * calls another such page, Chromium with Firefox: not one `securitypolicyviolation` event (a style attribute, an inline
 * style or script, a string to a DOM sink would each be one), the two tiles side by side, remote video decoding.
 * A probe at the end proves the policy was enforced and the listener works: an `innerHTML` assignment throws and is
 * reported.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { Page } from 'puppeteer-core';
import { startEmbedPage, strictCsp } from './embed-page.js';
import {
  closeAll,
  launchChromium,
  launchFirefox,
  openParticipant,
  startRelayServer,
  uniqueRoom,
  waitForMediaFlowing,
  type Participant,
} from './harness.js';

/** Runs before the page's scripts: collects every CSP violation the page reports. */
function recordViolations(): void {
  const seen: string[] = [];
  Object.defineProperty(window, '__cspViolations', { value: seen });
  document.addEventListener('securitypolicyviolation', (event) => {
    seen.push(
      `${event.effectiveDirective} blocked ${event.blockedURI || '(inline)'} at ${event.sourceFile}:${event.lineNumber} ${event.sample}`,
    );
  });
}

const violations = (page: Page) =>
  page.evaluate(() => [
    ...((window as unknown as { __cspViolations?: string[] }).__cspViolations ?? ['(listener missing)']),
  ]);

/** The bounding boxes of the local and the remote tile. */
const tileBoxes = (page: Page) =>
  page.evaluate(() => {
    const root = document.querySelector('video-chat')?.shadowRoot;
    const box = (part: string) => {
      const r = root?.querySelector(`[part~="${part}"]`)?.getBoundingClientRect();
      return r
        ? { left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height }
        : null;
    };
    return { local: box('local-tile'), remote: box('remote-tile') };
  });

async function expectSideBySide(who: Participant): Promise<void> {
  const { local, remote } = await tileBoxes(who.page);
  assert.ok(local && remote, `${who.name}: both tiles shown`);
  assert.ok(
    Math.abs(local.top - remote.top) < 1,
    `${who.name}: tiles on one row: ${JSON.stringify({ local, remote })}`,
  );
  assert.ok(local.right <= remote.left, `${who.name}: self-view left of the remote tile`);
  assert.ok(Math.abs(local.width - remote.width) < 1 && remote.width > 200, `${who.name}: equal tiles, not one column`);
}

describe('embedding under a strict Content-Security-Policy', { timeout: 120_000 }, () => {
  afterEach(() => closeAll());

  it('joins a call with zero violations, Trusted Types enforced, tiles side by side, video decoding', async () => {
    const relay = await startRelayServer();
    const site = await startEmbedPage(relay.url, { csp: true });
    const room = uniqueRoom('csp');
    const [chromium, firefox] = await Promise.all([launchChromium(), launchFirefox()]);
    const ada = await openParticipant(chromium, site.url, { room, name: 'Ada', init: recordViolations });
    const grace = await openParticipant(firefox, site.url, { room, name: 'Grace', init: recordViolations });

    const response = await ada.page.reload({ waitUntil: 'load' }); // the served header, as a browser saw it
    assert.equal(response?.headers()['content-security-policy'], strictCsp(relay.url));
    await ada.page.waitForFunction(() => customElements.get('video-chat') !== undefined, { timeout: 20_000 });

    const [fromGrace, fromAda] = await Promise.all([
      waitForMediaFlowing(ada, 1, 30_000),
      waitForMediaFlowing(grace, 1, 30_000),
    ]);
    for (const media of [fromGrace[0], fromAda[0]]) {
      assert.ok(
        media && media.videoWidth > 0 && media.framesDecoded > 0,
        `remote video decoding: ${JSON.stringify(media)}`,
      );
    }
    assert.equal(fromGrace[0]?.name, 'Grace');
    assert.equal(fromAda[0]?.name, 'Ada');
    for (const who of [ada, grace]) {
      await expectSideBySide(who);
      assert.deepEqual(await violations(who.page), [], `${who.name}: no CSP violation\n${who.logs.join('\n')}`);
    }

    // The policy is in force: a string to a DOM sink is refused and reported (so the listener above would have heard).
    for (const who of [ada, grace]) {
      const refused = await who.page.evaluate(() => {
        try {
          document.body.insertAdjacentHTML('beforeend', '<b>not allowed</b>');
          return false;
        } catch (error) {
          return error instanceof TypeError;
        }
      });
      assert.equal(refused, true, `${who.name}: Trusted Types enforced`);
      const after = await who.page
        .waitForFunction(() => (window as unknown as { __cspViolations: string[] }).__cspViolations.length > 0, {
          timeout: 5_000,
          polling: 100,
        })
        .then(() => violations(who.page));
      assert.equal(after.length, 1, `${who.name}: the probe reported once: ${after.join('\n')}`);
      assert.match(after[0] ?? '', /trusted-types|require-trusted-types-for/);
    }
  });

  it('the demo pages are served under that policy (with frame-ancestors) and run without a violation', async () => {
    const relay = await startRelayServer();
    const browser = await launchChromium();
    const themes = await openParticipant(browser, new URL('themes.html', relay.url).href, {
      room: uniqueRoom('themes'),
      name: 'unused',
      init: recordViolations,
    });
    const csp = (await themes.page.reload({ waitUntil: 'load' }))?.headers()['content-security-policy'] ?? '';
    for (const directive of [
      "script-src 'self'",
      "style-src 'self'",
      "frame-ancestors 'self'",
      "require-trusted-types-for 'script'",
      'trusted-types lit-html',
    ]) {
      assert.ok(csp.includes(directive), `${directive} in ${csp}`);
    }
    // The two themed elements call each other; the page's own stylesheet applies (no inline style).
    await themes.page.waitForFunction(
      () =>
        [...document.querySelectorAll('video-chat')].every(
          (el) => (el as HTMLElement & { state: string }).state === 'in-call',
        ),
      { timeout: 30_000, polling: 250 },
    );
    assert.equal(
      await themes.page.evaluate(() => getComputedStyle(document.body).backgroundColor),
      'rgb(236, 239, 243)',
    );
    assert.deepEqual(await violations(themes.page), [], themes.logs.join('\n'));

    const demo = await openParticipant(browser, relay.url, {
      room: uniqueRoom('demo'),
      name: 'Ada',
      init: recordViolations,
    });
    await demo.page.waitForFunction(
      () => (document.querySelector('video-chat') as HTMLElement & { state: string }).state === 'waiting',
      { timeout: 20_000, polling: 250 },
    );
    assert.deepEqual(await violations(demo.page), [], demo.logs.join('\n'));
  });
});
