/**
 * Issue 10, between separate browser processes: Ada reaches the relay through a TCP proxy that the test cuts (every
 * connection destroyed, new ones refused) while Grace's path stays up, so only Ada's relay connection is down while the
 * pair stays connected peer to peer. During the cut Ada starts a screen share (the browser's getDisplayMedia): Grace
 * decodes it (frames growing, a picture size) while the path is still cut, Grace's camera video from Ada never stops,
 * and once the path is back (Ada resumes her place) a second share works too.
 */
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import type { Page } from 'puppeteer-core';
import {
  closeAll,
  launchChromium,
  onTeardown,
  openParticipant,
  remoteMedia,
  startRelayServer,
  uniqueRoom,
  waitForMediaFlowing,
  waitForState,
  withTimeout,
} from './harness.js';

/** A TCP proxy on 127.0.0.1 in front of `target` (a port) that can be cut and restored. */
async function startProxy(target: number): Promise<{ url: string; cut(): void; restore(): void }> {
  const sockets = new Set<Socket>();
  let open = true;
  const server = createServer((client) => {
    if (!open) return void client.destroy();
    const upstream = connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTeardown(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return {
    url: `http://127.0.0.1:${address.port}/`,
    cut() {
      open = false;
      for (const s of sockets) s.destroy(); // no closing handshake: the relay keeps Ada's place (resume)
    },
    restore() {
      open = true;
    },
  };
}

/** The spotlight of `page`: who presents, frames decoded of that screen track, and its picture width. */
async function spotlight(page: Page): Promise<{ presenter: string | null; framesDecoded: number; videoWidth: number }> {
  return withTimeout(
    page.evaluate(async () => {
      type Chat = HTMLElement & { getStats(id: string): Promise<RTCStatsReport | undefined> };
      const chat = document.querySelector('video-chat') as Chat;
      const video = chat.shadowRoot?.querySelector<HTMLVideoElement>('video[part~="screen-video"]');
      const presenter = video?.dataset['peerId'] ?? null;
      const track = (video?.srcObject as MediaStream | null)?.getVideoTracks()[0];
      let framesDecoded = 0;
      if (presenter && track) {
        (await chat.getStats(presenter))?.forEach((s: Record<string, unknown>) => {
          if (s['type'] === 'inbound-rtp' && s['trackIdentifier'] === track.id)
            framesDecoded += Number(s['framesDecoded'] ?? 0);
        });
      }
      return { presenter, framesDecoded, videoWidth: video?.videoWidth ?? 0 };
    }),
    10_000,
    'reading the spotlight',
  );
}

/** Polls (≤ 10 s, 250 ms apart) until `page` decodes a screen from `presenter`: frames growing, a picture size. */
async function seesScreen(page: Page, presenter: string, what: string): Promise<void> {
  let last = await spotlight(page);
  for (let i = 0; i < 40; i++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = await spotlight(page);
    if (
      now.presenter === presenter &&
      now.videoWidth > 0 &&
      now.framesDecoded > last.framesDecoded &&
      last.framesDecoded > 0
    )
      return;
    last = now;
  }
  assert.fail(`${what}: no screen decoded from ${presenter} within 10 s (last ${JSON.stringify(last)})`);
}

const share = (page: Page, on: boolean): Promise<unknown> =>
  withTimeout(
    page.evaluate(async (start) => {
      const chat = document.querySelector('video-chat') as HTMLElement & {
        startScreenShare(): Promise<boolean>;
        stopScreenShare(): void;
      };
      return start ? chat.startScreenShare() : chat.stopScreenShare();
    }, on),
    15_000,
    on ? 'startScreenShare()' : 'stopScreenShare()',
  );

describe('one participant’s path to the relay cut during a call', { timeout: 120_000 }, () => {
  afterEach(closeAll);

  it('a screen share started during the cut is seen, the camera never stops, a share after it works', async () => {
    const relay = await startRelayServer();
    const proxy = await startProxy(Number(new URL(relay.url).port));
    const room = uniqueRoom('cut');
    const [a, b] = await Promise.all([launchChromium(), launchChromium()]);
    const ada = await openParticipant(a, proxy.url, { room, name: 'Ada' });
    await waitForState(ada, ['waiting', 'in-call']);
    const grace = await openParticipant(b, relay.url, { room, name: 'Grace' });
    await Promise.all([waitForMediaFlowing(ada, 1, 30_000), waitForMediaFlowing(grace, 1, 30_000)]);
    const adaId = (await remoteMedia(grace.page))[0]?.peerId ?? '';
    /** Grace's camera frames from Ada: must grow at every check. */
    let camera = (await remoteMedia(grace.page))[0]?.framesDecoded ?? 0;
    const cameraGoesOn = async (when: string) => {
      const now = (await remoteMedia(grace.page))[0]?.framesDecoded ?? 0;
      assert.ok(now > camera, `Ada's camera at Grace went on ${when} (${camera} → ${now})`);
      camera = now;
    };

    proxy.cut();
    await waitForState(ada, ['reconnecting']);
    assert.equal(await share(ada.page, true), true);
    await seesScreen(grace.page, adaId, 'share during the cut');
    assert.equal((await waitForState(ada, ['reconnecting'])).state, 'reconnecting', 'the path is still cut');
    await cameraGoesOn('during the cut');

    proxy.restore();
    await waitForState(ada, ['in-call'], 30_000);
    await cameraGoesOn('after the resume');
    await share(ada.page, false);
    for (let i = 0; i < 40 && (await spotlight(grace.page)).presenter !== null; i++)
      await new Promise((resolve) => setTimeout(resolve, 250));
    assert.equal((await spotlight(grace.page)).presenter, null, 'the first share ended at Grace');
    assert.equal(await share(ada.page, true), true);
    await seesScreen(grace.page, adaId, 'share after the cut');
    await cameraGoesOn('at the end');
    const view = await waitForState(grace, ['in-call']);
    assert.deepEqual(
      view.peers.map((p) => p.id),
      [adaId],
      'Ada kept her ID (resumed)',
    );
  });
});
