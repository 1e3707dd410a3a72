/**
 * Hosts and guests end to end: the real relay (`--token-secret`), a host page with one script tag, room tokens minted
 * here as a site's backend would (jose, HS256), one Chromium process per participant. A guest knocks, the host admits
 * it from the participant list and media flows both ways; a second guest is denied and sees why; raised hands are seen
 * in order and a reaction on the sender's tile; the host removes the first guest, who sees why and whose rejoin with
 * the same token is refused.
 *
 * Run (after `npm run build`): scripts/netns.sh node --test --test-concurrency=1 lib/test/e2e/hosts.test.js
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import type { ElementHandle, Page } from 'puppeteer-core';
import { pageUrl, startEmbedPage } from './embed-page.js';
import {
  closeAll,
  launchChromium,
  openParticipant,
  startRelayServer,
  uniqueRoom,
  waitForMediaFlowing,
  waitForState,
  withTimeout,
  type Participant,
} from './harness.js';

const SECRET = 'e2e-hosts-token-secret-0123456789abcdef';

/** A room token for `room` with `claims` (role, knock), valid ten minutes, with its own `jti`. */
const mint = (room: string, claims: Record<string, unknown>): Promise<string> =>
  new SignJWT({ room, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('10m')
    .setJti(Math.random().toString(36).slice(2))
    .sign(new TextEncoder().encode(SECRET));

/** Polls (every 200 ms, at most `timeoutMs`) a function evaluated in the page against its `<video-chat>`. */
async function until<T>(
  p: Participant,
  what: string,
  fn: (el: HTMLElement) => T,
  timeoutMs = 30_000,
  expected?: T,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (let i = 0; Date.now() < deadline && i < 500; i++) {
    last = await withTimeout(
      p.page.evaluate(fn, (await p.page.$('video-chat')) as never),
      10_000,
      `${p.name}: ${what}`,
    );
    if (expected === undefined ? last : last === expected) return last as T;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${p.name}: ${what} not within ${timeoutMs} ms (last ${JSON.stringify(last)})\n${p.logs.join('\n')}`);
}

/** The text of the element's first `part` (whitespace collapsed), '' when absent. */
const partText = (page: Page, part: string): Promise<string> =>
  page.evaluate(
    (name) =>
      document
        .querySelector('video-chat')
        ?.shadowRoot?.querySelector(`[part~="${name}"]`)
        ?.textContent?.replace(/\s+/g, ' ')
        .trim() ?? '',
    part,
  );

/** Clicks the element's first `[part~=part]` (whose text contains `text`, when given), as a person would. */
async function click(p: Participant, part: string, text = ''): Promise<void> {
  for (let i = 0; i < 150; i++) {
    const handle = await p.page.evaluateHandle(
      (name, label) =>
        [...(document.querySelector('video-chat')?.shadowRoot?.querySelectorAll(`[part~="${name}"]`) ?? [])].find((b) =>
          b.textContent?.includes(label),
        ) ?? null,
      part,
      text,
    );
    const button = handle.asElement() as ElementHandle<Element> | null;
    if (button) return void (await withTimeout(button.click(), 10_000, `${p.name}: clicking ${part}`));
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${p.name}: no ${part} ${text} within 30 s\n${p.logs.join('\n')}`);
}

describe('hosts and guests end to end', { timeout: 180_000 }, () => {
  afterEach(closeAll);

  it('knock, admit, media both ways; deny; hands in order and a reaction; remove and a refused rejoin', async () => {
    const server = await startRelayServer(['--token-secret', SECRET]);
    const page = await startEmbedPage(server.url);
    const room = uniqueRoom('hosts');
    const [bh, bk, bd] = await Promise.all([launchChromium(), launchChromium(), launchChromium()]);
    const open = async (browser: typeof bh, name: string, claims: Record<string, unknown>) =>
      openParticipant(browser, pageUrl(page.url, { token: await mint(room, claims) }), { room, name });

    const host = await open(bh, 'Hana', { role: 'host' });
    await waitForState(host, ['waiting']);

    // A guest knocks: the waiting screen; the host sees the knock in the list and admits it.
    const kim = await open(bk, 'Kim', { knock: true });
    await until(kim, 'the waiting screen', () =>
      document.querySelector('video-chat')?.shadowRoot?.querySelector('[part~="waiting"]'),
    );
    assert.match(await partText(kim.page, 'waiting'), /Waiting for the host to let you in/);
    await click(host, 'people-button');
    await until(host, 'the knock in the list', () =>
      document.querySelector('video-chat')?.shadowRoot?.querySelector('[part~="knock"]')?.textContent?.includes('Kim'),
    );
    await click(host, 'admit-button');
    await waitForState(kim, ['in-call']);
    await waitForMediaFlowing(host, 1, 30_000);
    await waitForMediaFlowing(kim, 1, 30_000);

    // A second guest is denied and sees why (and may try again).
    const dan = await open(bd, 'Dan', { knock: true });
    await until(host, "Dan's knock", () =>
      document.querySelector('video-chat')?.shadowRoot?.querySelector('[part~="knock"]')?.textContent?.includes('Dan'),
    );
    await click(host, 'deny-button');
    await waitForState(dan, ['error']);
    assert.match(await partText(dan.page, 'error'), /did not let you in/);
    assert.ok(await partText(dan.page, 'retry-button'), 'Dan may knock again');

    // Hands: Kim first, then the host; each sees the same order. A reaction from Kim shows on her tile at the host.
    await click(kim, 'hand-button');
    await until(host, "Kim's hand", () =>
      document.querySelector('video-chat')?.shadowRoot?.querySelector('[part~="remote-tile"] [part~="hand"]'),
    );
    await click(host, 'hand-button');
    // The places on the remote tile and on one's own, as "remote/local" (evaluated in the page: self-contained).
    const places = (el: HTMLElement) =>
      ['remote-tile', 'local-tile']
        .map((t) => el.shadowRoot?.querySelector(`[part~="${t}"] [part~="hand"]`)?.textContent?.replace(/\D/g, ''))
        .join('/');
    assert.equal(await until(host, 'both hands, Kim first', places, 30_000, '1/2'), '1/2');
    assert.equal(await until(kim, 'both hands, Kim first', places, 30_000, '2/1'), '2/1');
    await click(kim, 'react-button');
    await click(kim, 'reaction-button', '🎉');
    await until(host, "Kim's reaction on her tile", (el) =>
      el.shadowRoot?.querySelector('[part~="remote-tile"] [part~="reaction"]')?.textContent?.includes('🎉'),
    );

    // The host removes Kim: she sees why, with no "Try again"; her token is refused when she comes back.
    await click(host, 'remove-button');
    await waitForState(kim, ['error']);
    assert.match(await partText(kim.page, 'error'), /removed you/);
    assert.equal(await partText(kim.page, 'retry-button'), '');
    await waitForState(host, ['waiting']);
    await withTimeout(kim.page.reload({ waitUntil: 'load' }), 20_000, 'reloading Kim');
    const code = await until(kim, 'a refusal', (el) => (el as HTMLElement & { error?: { code: string } }).error?.code);
    assert.equal(code, 'removed');
    assert.match(await partText(kim.page, 'error'), /removed you/);
  });
});
