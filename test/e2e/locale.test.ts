/**
 * A German page on another origin embeds the widget by script tag: the element fetches its German locale, a separate
 * file next to the bundle (`video-chat-de.js`, CORS mode, relative to the bundle's URL), and shows German text, without
 * a console error, in Chromium and Firefox ESR. Proves the code-split build and the headers the relay serves it with.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { servePage } from './embed-page.js';
import {
  closeAll,
  launchChromium,
  launchFirefox,
  openParticipant,
  startRelayServer,
  uniqueRoom,
  waitForState,
  withTimeout,
} from './harness.js';

/** A page with `<html lang="de">` on its own origin (another port): the script tag and the element, nothing else. */
async function startGermanPage(relayUrl: string): Promise<string> {
  const relay = new URL(relayUrl);
  return servePage((req, res) => {
    const params = new URL(req.url ?? '/', 'http://page.invalid').searchParams;
    const attr = (s: string | null) => (s ?? '').replace(/[^A-Za-z0-9_. -]/g, '');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="de"><head><meta charset="utf-8"><title>Unser Team</title>
      <link rel="icon" href="data:,"></head><body>
      <script type="module" src="${relay.origin}/video-chat.js"></script>
      <video-chat room="${attr(params.get('room'))}" name="${attr(params.get('name'))}"
        signal-url="ws://${relay.host}/"></video-chat></body></html>`);
  });
}

describe('German from a cross-origin script tag', { timeout: 120_000 }, () => {
  afterEach(() => closeAll());

  for (const [kind, launch] of [
    ['Chromium', launchChromium],
    ['Firefox ESR', launchFirefox],
  ] as const) {
    it(`${kind}: the element loads video-chat-de.js from the relay's origin and speaks German`, async () => {
      const relay = await startRelayServer();
      const page = await startGermanPage(relay.url);
      assert.notEqual(new URL(page).origin, new URL(relay.url).origin);
      const browser = await launch();
      const visitor = await openParticipant(browser, page, { room: uniqueRoom('de'), name: 'Ada' });
      await waitForState(visitor, ['waiting']);
      // The German text exists only in video-chat-de.js: seeing it proves the chunk was fetched and run.
      const status = await withTimeout(
        visitor.page.waitForFunction(
          () => {
            const text =
              document.querySelector('video-chat')?.shadowRoot?.querySelector('[part~="status"]')?.textContent ?? '';
            return text.startsWith('Warten auf weitere Teilnehmende') && text;
          },
          { timeout: 15_000, polling: 100 },
        ),
        16_000,
        'German status',
      );
      assert.match(String(await status.jsonValue()), /„de-/);
      const errors = visitor.logs.filter((line) => line.startsWith('[error]') || line.startsWith('[pageerror]'));
      assert.deepEqual(errors, [], 'no console errors');
    });
  }
});
