/**
 * Rooms on the SFU through a relay restart (issue 12), end to end with real parts inside the private network
 * namespace: a real Janus (test/e2e/janus.ts), the real relay CLI brokering it, Chromium processes, each camera a
 * canvas in that participant's own colour (`sfu-helpers.ts`).
 *
 * - the relay (`--sfu-from 2`) is SIGKILLed in the middle of a call on the SFU and started again on the same port: it
 *   has forgotten everyone (and their Janus sessions), so each element joins afresh with a new ID, hears `mode`
 *   again, closes its SFU connections and publishes and subscribes again. Afterwards every participant shows both
 *   others, under their new IDs, each tile in that participant's own colour with frames advancing, and holds exactly
 *   two open connections (the new publishing and subscribing ones);
 * - the relay (`--sfu-from 3`) restarts after one of three left: the two that come back are below `--sfu-from`, get a
 *   fresh welcome with no `mode` and are a mesh again (one connection each, no `:state(sfu)`), each showing the other
 *   in its own colour;
 * - a Chromium publisher at 320×240 sends one simulcast layer and announces it (`layers: [2]`, inside a relayed
 *   `state`, which an older element reads as any state); the receiver then asks Janus for no layer of it, even when
 *   the tile is pinned and unpinned;
 * - the camera's three simulcast layers follow a screen share started mid-call: `getParameters()` on the publishing
 *   connection reads `simulcastCaps(budget, { sharingScreen: true })` while sharing and the caps without it once the
 *   share stops.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { simulcastCaps } from '../../src/negotiation/simulcast-caps.js';
import { closeAll, launchChromium, uniqueRoom, waitForRemoteCount, withTimeout, type Participant } from './harness.js';
import { startJanus, type Janus } from './janus.js';
import {
  assertNoVcError,
  COLOURS,
  leaveAll,
  nearColour,
  openPainted,
  pageState,
  relayAndJanusLogs,
  sleep,
  startSfuRelay,
  tiles,
  withDiagnostics,
  type PageState,
  type Tile,
} from './sfu-helpers.js';

/** A page's state and its remote tiles. */
interface PageSample extends PageState {
  tiles: Tile[];
}

async function sample(p: Participant): Promise<PageSample> {
  return { ...(await pageState(p)), tiles: await tiles(p) };
}

/**
 * Waits (≤ `timeoutMs`, at most 120 rounds) until every page is in `mode` (on the SFU: exactly its two connections;
 * in mesh: one per other participant, not `:state(sfu)`), and shows every other participant under that participant's
 * current ID, in its own colour, with frames advancing.
 * @returns each page's last sample.
 */
async function waitForEveryone(
  people: Participant[],
  timeoutMs: number,
  mode: 'sfu' | 'mesh' = 'sfu',
): Promise<PageSample[]> {
  const deadline = Date.now() + timeoutMs;
  let last: PageSample[] = [];
  for (let i = 0; i < 120 && Date.now() < deadline; i++) {
    const first = await Promise.all(people.map(sample));
    await sleep(500);
    last = await Promise.all(people.map(sample));
    const ids = last.map((s) => s.self);
    const good = last.every((s, j) => {
      const others = people.filter((_, k) => k !== j);
      return (
        s.sfu === (mode === 'sfu') &&
        s.open === (mode === 'sfu' ? 2 : others.length) &&
        s.tiles.length === others.length &&
        others.every((o) => {
          const t = s.tiles.find((x) => x.name === o.name);
          const then = first[j]!.tiles.find((x) => x.id === t?.id);
          return (
            t !== undefined &&
            t.id === ids[people.indexOf(o)] &&
            t.width > 0 &&
            then !== undefined &&
            t.frames > then.frames &&
            nearColour(t.rgb, COLOURS[o.name]!)
          );
        })
      );
    });
    if (good) return last;
  }
  throw new Error(
    `not everyone shows everyone in their own colour (${mode}) within ${timeoutMs} ms:\n` +
      people.map((p, j) => `${p.name}: ${JSON.stringify(last[j])}\n  ${p.logs.slice(-12).join('\n  ')}`).join('\n'),
  );
}

/** The camera sender's encodings on the page's open connections (rid, maxBitrate, scaleResolutionDownBy). */
async function encodings(p: Participant): Promise<{ rid?: string; maxBitrate?: number; scale?: number }[]> {
  return withTimeout(
    p.page.evaluate(() =>
      (window as unknown as { pcs: RTCPeerConnection[] }).pcs
        .filter((pc) => pc.signalingState !== 'closed')
        .flatMap((pc) => pc.getSenders())
        .filter((s) => s.track?.kind === 'video')
        .flatMap((s) =>
          s
            .getParameters()
            .encodings.map((e) => ({ rid: e.rid, maxBitrate: e.maxBitrate, scale: e.scaleResolutionDownBy })),
        ),
    ),
    10_000,
    `${p.name}: reading the encodings`,
  );
}

/** Waits (≤ 10 s) until the page's camera encodings are `want`. */
async function waitForEncodings(p: Participant, want: RTCRtpEncodingParameters[], step: string): Promise<void> {
  const expected = want.map((e) => ({ rid: e.rid, maxBitrate: e.maxBitrate, scale: e.scaleResolutionDownBy }));
  let last: unknown;
  for (let i = 0; i < 40; i++) {
    last = await encodings(p);
    if (JSON.stringify(last) === JSON.stringify(expected)) return;
    await sleep(250);
  }
  assert.deepEqual(last, expected, `${p.name}: the camera's encodings ${step}`);
}

describe('rooms on the SFU: a relay restart, a screen share', { timeout: 240_000 }, () => {
  let janus: Janus;

  before(async () => {
    janus = await startJanus();
  });
  after(() => closeAll());

  it('after a relay restart (SIGKILL, same port) everyone republishes and sees the others in their own colour under their new IDs', async () => {
    const first = await startSfuRelay(janus, 2);
    const port = new URL(first.url).port;
    const room = uniqueRoom('sfu-restart');
    const people: Participant[] = [];
    try {
      for (const name of ['Ada', 'Grace', 'Linus'])
        people.push(await openPainted(await launchChromium(), first.url, room, name));
      for (const p of people) await waitForRemoteCount(p, 2, 30_000);
      const before = await waitForEveryone(people, 45_000);
      const oldIds = before.map((s) => s.self);

      first.process.kill('SIGKILL');
      await sleep(1_000);
      const second = await startSfuRelay(janus, 2, ['--port', port]);
      const after = await withDiagnostics(() => waitForEveryone(people, 60_000), relayAndJanusLogs([second], janus));
      for (const [j, s] of after.entries()) {
        assert.ok(s.self && !oldIds.includes(s.self), `${people[j]!.name}: a new ID (${oldIds[j]} → ${s.self})`);
      }
      for (const p of people) assertNoVcError(p);
    } finally {
      await leaveAll(people);
    }
  });

  it('after a relay restart below --sfu-from (one of three left), the two that come back are a mesh and see each other', async () => {
    const first = await startSfuRelay(janus, 3);
    const port = new URL(first.url).port;
    const room = uniqueRoom('sfu-back-to-mesh');
    const people: Participant[] = [];
    try {
      for (const name of ['Ada', 'Grace', 'Linus'])
        people.push(await openPainted(await launchChromium(), first.url, room, name));
      await waitForEveryone(people, 45_000);
      // Linus leaves; the room stays on the SFU with two (it never goes back while it exists).
      await leaveAll([people.pop()!]);
      await waitForEveryone(people, 30_000);

      first.process.kill('SIGKILL');
      await sleep(1_000);
      const second = await startSfuRelay(janus, 3, ['--port', port]);
      // Both join afresh: a room of two on a relay that switches at three, so no `mode` before their welcomes.
      await withDiagnostics(() => waitForEveryone(people, 60_000, 'mesh'), relayAndJanusLogs([second], janus));
      for (const p of people) assertNoVcError(p);
    } finally {
      await leaveAll(people);
    }
  });

  it("no layer is asked of a one-layer publisher; the camera's layers are re-capped while a screen is shared", async () => {
    const relay = await startSfuRelay(janus, 2);
    const room = uniqueRoom('sfu-share');
    const people: Participant[] = [];
    try {
      for (const name of ['Ada', 'Grace']) {
        people.push(await openPainted(await launchChromium(), relay.url, room, name));
      }
      await waitForEveryone(people, 45_000);
      const [ada, grace] = people as [Participant, Participant];
      // Chromium sends one layer of a 320×240 camera: Grace says so, and Ada then asks Janus for no layer of hers,
      // not even when the tile's wish changes (pinned: high; unpinned: medium). Before, each wish was asked 3 times.
      type Traffic = { asked: number[]; announced: { at: number; layers: number[]; inState: boolean }[] };
      const traffic = () =>
        withTimeout(
          ada.page.evaluate(() => (window as unknown as { traffic: Traffic }).traffic),
          10_000,
          'reading the layer traffic',
        );
      let heard: Traffic | undefined;
      for (let i = 0; i < 40 && !heard?.announced.length; i++) {
        heard = await traffic();
        if (!heard.announced.length) await sleep(250);
      }
      assert.deepEqual(heard?.announced[0]?.layers, [2], `Grace's camera sends one layer: ${JSON.stringify(heard)}`);
      // In a relayed `state` (an older element reads it as any state), not `{ sfu: { layers } }` (its bad-peer-message).
      assert.equal(heard?.announced[0]?.inState, true, 'announced inside a relayed state');
      const graceId = (await pageState(grace)).self;
      const pin = (id: string | null) =>
        ada.page.evaluate(
          (peer) => (document.querySelector('video-chat') as HTMLElement & { pin(id: string | null): void }).pin(peer),
          id,
        );
      await pin(graceId);
      await sleep(3_500);
      await pin(null);
      await sleep(3_500);
      const seen = await traffic();
      const since = seen.asked.filter((at) => at > seen.announced[0]!.at);
      assert.deepEqual(since, [], `Ada's layer requests after Grace's announcement: ${JSON.stringify(seen)}`);
      const alone = simulcastCaps(); // the default budget; the 320×240 camera is below the high layer's 720 px
      await waitForEncodings(ada, alone, 'before the share');
      // A screen share (a canvas stream stands in for getDisplayMedia's picker).
      const started = await ada.page.evaluate(() => {
        const canvas = document.createElement('canvas');
        canvas.width = 640;
        canvas.height = 360;
        const ctx = canvas.getContext('2d')!;
        setInterval(() => ctx.fillRect(Math.random() * 600, 0, 40, 40), 100);
        const chat = document.querySelector('video-chat') as HTMLElement & {
          startScreenShare(source?: MediaStream): Promise<boolean>;
        };
        return chat.startScreenShare(canvas.captureStream(5));
      });
      assert.equal(started, true, 'the share started');
      const sharing = simulcastCaps(undefined, { sharingScreen: true });
      assert.notDeepEqual(sharing, alone);
      await waitForEncodings(ada, sharing, 'while sharing');
      await ada.page.evaluate(() =>
        (document.querySelector('video-chat') as HTMLElement & { stopScreenShare(): void }).stopScreenShare(),
      );
      await waitForEncodings(ada, alone, 'after the share stopped');
      for (const p of people) assert.ok(!p.logs.some((line) => line.includes('bad-peer-message')), p.logs.join('\n'));
      // The share itself does not travel through the SFU yet: the page is told (a vc-warning), not left guessing.
      assert.ok(
        ada.logs.some((line) => line.includes('vc-warning sfu-failed a screen share is not forwarded')),
        ada.logs.join('\n'),
      );
    } finally {
      await leaveAll(people);
      await relay.close();
    }
  });
});
