/**
 * A site that serves `video-chat.js` but not all of its chunks (a CDN or deploy that dropped or replaced the hashed
 * files): the built `dist/` served from a page server that answers 404 for one chunk, in Chromium and Firefox.
 *
 * - The engine missing: the call fails visibly (`error`, the banner), `vc-error` `chunk-failed` names the file's URL;
 *   "Try again" fetches it once more (`?retry`, seen by the server), a third try fetches nothing.
 * - Only the chat panel's chunk missing: the call between the two browsers goes on (video decoding both ways); opening
 *   the chat fires `vc-error` naming `video-chat-chat-panel-<hash>.js` and the element says so where the panel would be.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Page } from 'puppeteer-core';
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
  type Participant,
} from './harness.js';
import { servePage } from './embed-page.js';

// Compiled to lib/test/e2e/: the project root is three levels up.
const DIST = fileURLToPath(new URL('../../../dist/', import.meta.url));

/**
 * A page server: `/m/<chunk>/` is a page with `<video-chat room name signal-url>` loading `./video-chat.js`, and
 * `/m/<chunk>/<file>` serves `dist/<file>`, except the chunk `video-chat-<chunk>-<hash>.js`: 404. Records every
 * request path (with its query).
 */
async function startSite(relayUrl: string): Promise<{ url: (missing: string) => string; requests: string[] }> {
  const relay = new URL(relayUrl);
  const requests: string[] = [];
  const base = await servePage((req, res) => {
    const url = new URL(req.url ?? '/', 'http://site.invalid');
    requests.push(url.pathname + url.search);
    const [, m, missing, file] = url.pathname.split('/');
    if (m !== 'm' || !missing) return void res.writeHead(404).end();
    if (!file) {
      const attr = (name: string) => (url.searchParams.get(name) ?? '').replace(/[^\w-]/g, '');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return void res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>site</title>
        <link rel="icon" href="data:,"></head><body><script type="module" src="./video-chat.js"></script>
        <video-chat room="${attr('room')}" name="${attr('name')}" signal-url="ws://${relay.host}/"></video-chat>
        </body></html>`);
    }
    const path = DIST + file;
    if (!/^video-chat[\w-]*\.js$/.test(file) || file.startsWith(`video-chat-${missing}-`) || !existsSync(path))
      return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' });
    res.end(readFileSync(path));
  });
  return { url: (missing) => `${base}m/${missing}/`, requests };
}

/** Runs before the page's scripts: keeps every `vc-error` (code and message) the page hears. */
function recordErrors(): void {
  const seen: { code: string; message: string }[] = [];
  Object.defineProperty(window, '__vcErrors', { value: seen });
  document.addEventListener('vc-error', (event) => {
    const { code, message } = (event as Event & { error: { code: string; message: string } }).error;
    seen.push({ code, message });
  });
}

const errors = (page: Page) =>
  page.evaluate(() => [
    ...((window as unknown as { __vcErrors?: { code: string; message: string }[] }).__vcErrors ?? []),
  ]);

/** Polls until the page heard `count` `vc-error`s (at most `timeoutMs`). */
async function waitForErrors(who: Participant, count: number, timeoutMs = 20_000) {
  await withTimeout(
    who.page.waitForFunction(
      (n: number) => ((window as unknown as { __vcErrors?: unknown[] }).__vcErrors?.length ?? 0) >= n,
      { timeout: timeoutMs, polling: 100 },
      count,
    ),
    timeoutMs + 5_000,
    `${who.name}: ${count} vc-error(s)`,
  );
  return errors(who.page);
}

/** Clicks a part of the element's shadow root (the first element with that part). */
const click = (page: Page, part: string) =>
  page.evaluate((p: string) => {
    const button = document.querySelector('video-chat')?.shadowRoot?.querySelector<HTMLElement>(`[part~="${p}"]`);
    if (!button) throw new Error(`no [part~="${p}"]`);
    button.click();
  }, part);

const partText = (page: Page, part: string) =>
  page.evaluate(
    (p: string) =>
      document.querySelector('video-chat')?.shadowRoot?.querySelector(`[part~="${p}"]`)?.textContent ?? null,
    part,
  );

describe('a chunk the site does not serve', { timeout: 150_000 }, () => {
  afterEach(() => closeAll());

  it('the engine missing: the call fails with chunk-failed naming the file, retried once on "Try again"', async () => {
    const relay = await startRelayServer();
    const site = await startSite(relay.url);
    const [chromium, firefox] = await Promise.all([launchChromium(), launchFirefox()]);
    for (const [name, browser] of [
      ['Ada', chromium],
      ['Grace', firefox],
    ] as const) {
      const who = await openParticipant(browser, site.url('engine'), {
        room: uniqueRoom('engine'),
        name,
        init: recordErrors,
      });
      await waitForState(who, ['error'], 20_000);
      const [first] = await waitForErrors(who, 1);
      assert.equal(first?.code, 'chunk-failed', `${name}: ${JSON.stringify(first)}`);
      assert.match(
        first?.message ?? '',
        /^Could not load http:\/\/127\.0\.0\.1:\d+\/m\/engine\/video-chat-engine-[0-9a-f]{8}\.js: /,
      );
      assert.match(first?.message ?? '', /next to video-chat\.js/);
      assert.match(
        (await partText(who.page, 'error')) ?? '',
        /video-chat-engine-[0-9a-f]{8}\.js/,
        `${name}: the banner`,
      );

      const engineRequests = () => site.requests.filter((r) => r.startsWith('/m/engine/video-chat-engine-'));
      const before = engineRequests().length;
      await click(who.page, 'retry-button'); // the next use: fetched once more
      await waitForErrors(who, 2);
      await waitForState(who, ['error'], 20_000);
      const retried = engineRequests().slice(before);
      assert.equal(retried.length, 1, `${name}: one more fetch: ${JSON.stringify(retried)}`);
      assert.match(retried[0] ?? '', /\?retry$/);

      await click(who.page, 'retry-button'); // no third fetch: the same error at once
      const all = await waitForErrors(who, 3);
      assert.equal(all[2]?.code, 'chunk-failed');
      assert.equal(engineRequests().length, before + 1, `${name}: nothing fetched on the third try`);
    }
  });

  it('only the chat panel missing: the call goes on both ways; opening the chat says why it is not there', async () => {
    const relay = await startRelayServer();
    const site = await startSite(relay.url);
    const room = uniqueRoom('chat');
    const [chromium, firefox] = await Promise.all([launchChromium(), launchFirefox()]);
    const ada = await openParticipant(chromium, site.url('chat-panel'), { room, name: 'Ada', init: recordErrors });
    const grace = await openParticipant(firefox, site.url('chat-panel'), { room, name: 'Grace', init: recordErrors });
    await Promise.all([waitForMediaFlowing(ada, 1, 30_000), waitForMediaFlowing(grace, 1, 30_000)]);

    for (const who of [ada, grace]) {
      assert.deepEqual(await errors(who.page), [], `${who.name}: no error before the chat is opened`);
      await click(who.page, 'chat-button');
      const [error] = await waitForErrors(who, 1);
      assert.equal(error?.code, 'chunk-failed');
      assert.match(error?.message ?? '', /\/m\/chat-panel\/video-chat-chat-panel-[0-9a-f]{8}\.js: /);
      assert.match((await partText(who.page, 'panel-error')) ?? '', /video-chat-chat-panel-[0-9a-f]{8}\.js/);
    }
    // The call is untouched: both still in it, video still decoding both ways.
    await Promise.all([waitForState(ada, ['in-call']), waitForState(grace, ['in-call'])]);
    await Promise.all([waitForMediaFlowing(ada, 1), waitForMediaFlowing(grace, 1)]);
  });
});
