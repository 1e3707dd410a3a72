/**
 * In-call features across separate browser processes: chat round trip in a three-peer room, and microphone/camera state
 * shown on the remote tiles. Driven through the page as a person would: typing in the chat form, clicking the buttons.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { Page } from 'puppeteer-core';
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

/** Runs `fn` in the page until it returns a truthy value (bounded), returning that value. */
async function poll<T>(page: Page, what: string, fn: () => T, timeoutMs = 15_000): Promise<T> {
  const handle = await withTimeout(
    page.waitForFunction(fn, { timeout: timeoutMs, polling: 100 }),
    timeoutMs + 1_000,
    what,
  );
  return (await handle.jsonValue()) as T;
}

async function clickPart(page: Page, name: string): Promise<void> {
  await page.evaluate((n) => {
    const el = document.querySelector('video-chat')?.shadowRoot?.querySelector<HTMLElement>(`[part~="${n}"]`);
    if (!el) throw new Error(`no part ${n}`);
    el.click();
  }, name);
}

async function sendChat(p: Participant, text: string): Promise<void> {
  await clickPart(p.page, 'chat-button');
  // The chat panel is its own chunk, fetched when first opened: as a person would, wait until it shows.
  await p.page.waitForFunction(
    () => document.querySelector('video-chat')?.shadowRoot?.querySelector('[part~="chat-input"]'),
    { timeout: 10_000 },
  );
  await p.page.evaluate((t) => {
    const root = document.querySelector('video-chat')?.shadowRoot;
    const input = root?.querySelector<HTMLInputElement>('[part~="chat-input"]');
    if (!input) throw new Error('no chat input');
    input.value = t;
    root?.querySelector<HTMLButtonElement>('[part~="chat-send"]')?.click();
  }, text);
}

describe('in-call features', { timeout: 180_000 }, () => {
  afterEach(closeAll);

  it('chat round trip in a three-peer room, and mute/camera-off shown on the remote tiles', async () => {
    const server = await startRelayServer();
    const room = uniqueRoom('features');
    const browsers = await Promise.all([launchChromium(), launchChromium(), launchChromium()]);
    const people: Participant[] = [];
    for (const [i, name] of ['Alice', 'Bob', 'Carol'].entries()) {
      people.push(await openParticipant(browsers[i]!, server.url, { room, name }));
      await waitForState(people[i]!, ['waiting', 'in-call']);
    }
    await Promise.all(people.map((p) => waitForMediaFlowing(p, 2, 30_000)));

    for (const p of people) await sendChat(p, `hello from ${p.name} <b>!</b>`);
    for (const p of people) {
      const texts = await poll(p.page, `${p.name}: three chat messages`, () => {
        const root = document.querySelector('video-chat')?.shadowRoot;
        const items = [...(root?.querySelectorAll('[part~="chat-message"]') ?? [])];
        return (
          items.length === 3 &&
          items.map(
            (li) => `${li.querySelector('[part~="chat-name"]')?.textContent}: ${li.querySelector('p')?.textContent}`,
          )
        );
      });
      const expected = people.map((q) => `${q === p ? 'You' : q.name}: hello from ${q.name} <b>!</b>`);
      assert.deepEqual([...(texts as string[])].sort(), expected.sort(), `${p.name}'s chat`);
    }

    const alice = people[0]!;
    await clickPart(alice.page, 'mic-button');
    await clickPart(alice.page, 'camera-button');
    for (const p of people.slice(1)) {
      const seen = await poll(p.page, `${p.name}: Alice muted and camera off`, () => {
        const root = document.querySelector('video-chat')?.shadowRoot;
        const tile = [...(root?.querySelectorAll('[part~="remote-tile"]') ?? [])].find((t) =>
          t.querySelector('[part~="name"]')?.textContent?.includes('Alice'),
        );
        const muted = Boolean(tile?.querySelector('[part~="mic-off"]'));
        const placeholder = tile?.querySelector('.placeholder')?.textContent;
        return muted && placeholder ? placeholder : false;
      });
      assert.equal(seen, 'A');
    }
  });
});
