/**
 * Screenshots of a 2-person call for the docs (docs/screenshots/WxH.png): the element fills the page at 320×480,
 * 375×667 (a phone), 800×450 and 1280×720. Not a test: run it after a build, inside the private network namespace:
 *
 *   npm run build && bash scripts/netns.sh node lib/test/e2e/screenshots.js
 *
 * Ada (headless Chromium, photographed) and Grace (a second Chromium) call each other through the real relay from the
 * embed page; both send Chromium's fake camera picture.
 *
 * @module
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser } from 'puppeteer-core';
import { assertNetworkIsolation, CHROMIUM_ARGS, chromiumPath } from './browsers.js';
import { startEmbedPage } from './embed-page.js';
import {
  closeAll,
  launchChromium,
  onTeardown,
  openParticipant,
  startRelayServer,
  uniqueRoom,
  waitForMediaFlowing,
} from './harness.js';

const SIZES: ReadonlyArray<readonly [number, number]> = [
  [320, 480],
  [375, 667],
  [800, 450],
  [1280, 720],
];
const out = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url));

/**
 * Chromium as on a desktop with a mouse: headless Chromium reports `(hover: none)` (where the element always shows the
 * tile buttons); these Blink settings make it report a fine pointer that hovers.
 */
async function launchDesktop(): Promise<Browser> {
  assertNetworkIsolation();
  const userDataDir = mkdtempSync(join(tmpdir(), 'video-chat-shots-'));
  const browser = await puppeteer.launch({
    browser: 'chrome',
    executablePath: chromiumPath(),
    headless: true,
    userDataDir,
    args: [
      ...CHROMIUM_ARGS,
      '--blink-settings=primaryHoverType=2,availableHoverTypes=2,primaryPointerType=4,availablePointerTypes=4',
    ],
  });
  onTeardown(async () => {
    await browser.close();
    rmSync(userDataDir, { recursive: true, force: true });
  });
  return browser;
}

async function main(): Promise<void> {
  mkdirSync(out, { recursive: true });
  const relay = await startRelayServer();
  const site = await startEmbedPage(relay.url);
  const room = uniqueRoom('shots');
  const [a, b] = await Promise.all([launchDesktop(), launchChromium()]);
  const ada = await openParticipant(a, site.url, { room, name: 'Ada' });
  const grace = await openParticipant(b, site.url, { room, name: 'Grace' });
  await Promise.all([waitForMediaFlowing(ada, 1, 30_000), waitForMediaFlowing(grace, 1, 30_000)]);
  // The element in a box of each size (its own width and height, as a page's rule would give it). The viewport stays as
  // it is: puppeteer's viewport emulation would bring back headless Chromium's `(hover: none)`.
  await ada.page.mouse.move(0, 0); // not over a tile: its buttons are hidden
  const element = await ada.page.$('video-chat');
  if (!element) throw new Error('no <video-chat> on the page');
  for (const [width, height] of SIZES) {
    await element.evaluate(
      (el, w, h) => {
        el.style.setProperty('width', `${w}px`);
        el.style.setProperty('height', `${h}px`);
      },
      width,
      height,
    );
    await ada.page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 700))); // layout settles, new frames
    const path = join(out, `${width}x${height}.png`);
    await element.screenshot({ path, type: 'png' });
    console.log(path);
  }
}

try {
  await main();
} finally {
  await closeAll();
}
