/**
 * Simulcast in a room on the SFU (issue 12), end to end with real parts inside the private network namespace: a real
 * Janus (test/e2e/janus.ts), the real relay CLI brokering it, a Firefox ESR publisher (it sends three simulcast layers
 * at 320×240 / 160×120 / 80×60; Chromium sends one layer at that size) and a Chromium subscriber.
 *
 * - the layer each tile receives, seen as the decoded size of the subscriber's `<video>`: a grid tile gets the medium
 *   layer (160×120), the same tile pinned the high one (320×240), unpinned the medium one again, frames advancing at
 *   each step; each switch confirmed by Janus (a `layer` message from "sfu" with that substream);
 * - the governor's caps on the three layers, read back with `RTCRtpSender.getParameters()` on each publisher;
 * - `ice-transport-policy="relay"` followed by both SFU connections (`getConfiguration()`);
 * - a new subscription starts small: the relay subscribes each feed on `substream` 0, so the new tile decodes the low
 *   layer (80×60) first, Janus has settled on layer 0 when the receiver first asks for the grid's medium layer (it
 *   asks only once Janus confirmed the start), and the tile then grows to 160×120.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { simulcastCaps } from '../../src/negotiation/simulcast-caps.js';
import {
  closeAll,
  launchChromium,
  launchFirefox,
  uniqueRoom,
  waitForRemoteCount,
  withTimeout,
  type Participant,
  type RelayServer,
} from './harness.js';
import { startJanus, type Janus } from './janus.js';
import { leaveAll, openPainted, peerIdOf, sleep, startSfuRelay } from './sfu-helpers.js';

/** The subscriber's tile of participant `id`: its decoded size and frame count. */
async function tile(p: Participant, id: string): Promise<{ width: number; height: number; frames: number }> {
  return withTimeout(
    p.page.evaluate((peer) => {
      const chat = document.querySelector('video-chat')!;
      const video = chat.shadowRoot?.querySelector<HTMLVideoElement>(
        `video[part~="remote-video"][data-peer-id="${CSS.escape(peer)}"]`,
      );
      return {
        width: video?.videoWidth ?? 0,
        height: video?.videoHeight ?? 0,
        frames: video?.getVideoPlaybackQuality().totalVideoFrames ?? 0,
      };
    }, id),
    10_000,
    `${p.name}: reading the tile`,
  );
}

/** Waits (≤ 20 s) until the tile of `id` decodes at `width`×`height` with frames advancing. */
async function waitForSize(p: Participant, id: string, width: number, height: number, step: string): Promise<void> {
  let last = await tile(p, id);
  for (let i = 0; i < 40; i++) {
    await sleep(500);
    const now = await tile(p, id);
    if (now.width === width && now.height === height && now.frames > last.frames) return;
    last = now;
  }
  throw new Error(
    `${step}: the tile never decoded ${width}×${height} (last ${JSON.stringify(last)})\n${p.logs.join('\n')}`,
  );
}

/**
 * Starts recording, in the page, each size change of every remote tile's decoded picture (`videoWidth`×`videoHeight`,
 * polled every 50 ms for at most 2 minutes) as `window.sizes[peerId]`.
 */
function recordSizes(p: Participant): Promise<void> {
  return p.page.evaluate(() => {
    const w = window as unknown as { sizes: Record<string, string[]> };
    w.sizes = {};
    const poll = setInterval(() => {
      const chat = document.querySelector('video-chat');
      for (const video of chat?.shadowRoot?.querySelectorAll<HTMLVideoElement>('video[part~="remote-video"]') ?? []) {
        const id = video.dataset['peerId'];
        if (!id || video.videoWidth === 0) continue;
        const size = `${video.videoWidth}x${video.videoHeight}`;
        const seen = (w.sizes[id] ??= []);
        if (seen.at(-1) !== size && seen.length < 50) seen.push(size);
      }
    }, 50);
    setTimeout(() => clearInterval(poll), 120_000);
  });
}

/** The camera sender's encodings on the page's open connections (rid, maxBitrate, scaleResolutionDownBy). */
async function encodings(p: Participant): Promise<{ rid?: string; maxBitrate?: number; scale?: number }[]> {
  return p.page.evaluate(() =>
    (window as unknown as { pcs: RTCPeerConnection[] }).pcs
      .filter((pc) => pc.signalingState !== 'closed')
      .flatMap((pc) => pc.getSenders())
      .filter((s) => s.track?.kind === 'video')
      .flatMap((s) =>
        s.getParameters().encodings.map((e) => ({
          rid: e.rid,
          maxBitrate: e.maxBitrate,
          scale: e.scaleResolutionDownBy,
        })),
      ),
  );
}

describe('simulcast layers on the SFU', { timeout: 240_000 }, () => {
  let janus: Janus;
  let relay: RelayServer;

  before(async () => {
    janus = await startJanus();
    relay = await startSfuRelay(janus, 2);
  });
  after(() => closeAll());

  it('a tile pinned decodes the high layer, in the grid the medium one; caps read back; relay-only ICE followed', async () => {
    const room = uniqueRoom('sfu-layers');
    const people: Participant[] = [];
    try {
      // Linus (relay-only ICE, no TURN here: he never publishes) is there first, so that Grace's publish subscribes him.
      const chromium = await launchChromium();
      const linus = await openPainted(chromium, `${relay.url}?policy=relay`, room, 'Linus');
      people.push(linus);
      const grace = await openPainted(await launchFirefox(), relay.url, room, 'Grace');
      people.push(grace);
      const ada = await openPainted(chromium, relay.url, room, 'Ada');
      people.push(ada);
      await waitForRemoteCount(ada, 2, 30_000); // Grace and Linus (whose video never comes)
      const graceId = await peerIdOf(grace);

      // The governor's caps on the three layers, as each browser applied them.
      const caps = simulcastCaps().map((e) => ({
        rid: e.rid,
        maxBitrate: e.maxBitrate,
        scale: e.scaleResolutionDownBy,
      }));
      for (const p of [grace, ada]) assert.deepEqual(await encodings(p), caps, `${p.name}: the camera's encodings`);

      // A grid tile: the medium layer. Pinned: the high one. Unpinned: the medium one again.
      await waitForSize(ada, graceId, 160, 120, 'grid');
      const pin = (id: string | null) =>
        ada.page.evaluate(
          (peer) => (document.querySelector('video-chat') as HTMLElement & { pin(id: string | null): void }).pin(peer),
          id,
        );
      await pin(graceId);
      await waitForSize(ada, graceId, 320, 240, 'pinned');
      await pin(null);
      await waitForSize(ada, graceId, 160, 120, 'unpinned');
      // Each switch was confirmed by Janus through the relay (medium, high, medium).
      const confirmed = await ada.page.evaluate(() => (window as unknown as { layers: number[] }).layers);
      assert.deepEqual(
        confirmed.filter((s, i) => s !== confirmed[i - 1]).slice(-3),
        [1, 2, 1],
        `confirmed layers ${JSON.stringify(confirmed)}`,
      );

      // ice-transport-policy="relay": both SFU connections of Linus are relay-only (no TURN here: his media never
      // flows, only the configuration is checked; his subscription came with Grace's publish).
      let seen: (string | undefined)[] = [];
      for (let i = 0; i < 40 && seen.length < 2; i++) {
        seen = await linus.page.evaluate(() =>
          (window as unknown as { pcs: RTCPeerConnection[] }).pcs.map((pc) => pc.getConfiguration().iceTransportPolicy),
        );
        if (seen.length < 2) await sleep(250);
      }
      assert.deepEqual(seen, ['relay', 'relay'], 'the publishing and the subscribing connection');
    } finally {
      await leaveAll(people);
    }
  });

  it('a new subscription decodes the low layer first, then its grid tile grows to the medium one', async () => {
    const room = uniqueRoom('sfu-start-low');
    const people: Participant[] = [];
    try {
      // Grace (Firefox: three layers) alone, then Ada: the room is on the SFU from her join (`--sfu-from 2`), and her
      // subscription to Grace is made once Grace publishes, on a publisher that sends every layer. Ada's page
      // receives Grace's video only, so every `layer` confirmation it gets is for that tile.
      const grace = await openPainted(await launchFirefox(), relay.url, room, 'Grace');
      people.push(grace);
      const graceId = await peerIdOf(grace);
      const ada = await openPainted(await launchChromium(), relay.url, room, 'Ada');
      people.push(ada);
      await recordSizes(ada);
      await waitForSize(ada, graceId, 160, 120, 'grid');
      const sizes = await ada.page.evaluate(
        (id) => (window as unknown as { sizes: Record<string, string[]> }).sizes[id] ?? [],
        graceId,
      );
      const { layers, times, asked } = await ada.page.evaluate(() => {
        const w = window as unknown as { layers: number[]; layerTimes: number[]; traffic: { asked: number[] } };
        return { layers: w.layers, times: w.layerTimes, asked: w.traffic.asked };
      });
      const seen =
        `decoded sizes ${JSON.stringify(sizes)}, confirmed layers ${JSON.stringify(layers)} at ` +
        `${JSON.stringify(times.map(Math.round))} ms, requests at ${JSON.stringify(asked.map(Math.round))} ms`;
      // Janus forwards the first key frame of any layer, then moves down to the layer the relay subscribed on: the
      // receiver asks for the grid's medium layer only once Janus confirmed the start, and by then it is the low one.
      const before = layers.filter((_, i) => times[i]! < (asked[0] ?? Infinity));
      assert.ok(asked.length > 0, `the grid tile asked for the medium layer: ${seen}`);
      assert.equal(before.at(-1), 0, `Janus had settled on the low layer when the tile first asked: ${seen}`);
      assert.ok(sizes.slice(0, sizes.indexOf('160x120')).includes('80x60'), `the low layer decoded first: ${seen}`);
      assert.equal(layers.at(-1), 1, `then the medium one: ${seen}`);
    } finally {
      await leaveAll(people);
    }
  });
});
