/**
 * Screen share between separate Chromium processes, through the element's public method `startScreenShare()` with the
 * browser's real `getDisplayMedia` (CHROMIUM_ARGS auto-selects the virtual screen, so no picker):
 *  (a) one peer shares, the other decodes it in its spotlight;
 *  (b) both peers start sharing at the same moment (glare: both make an offer), 20 trials on the same two browsers;
 *      every trial must end with both RTCPeerConnections back in signalingState `stable` and each screen decoding on
 *      the other side; both shares are stopped (and the spotlights gone) before the next trial.
 *
 * signalingState is not part of the element's surface; the pages record every RTCPeerConnection they create (an init
 * script that wraps the constructor before the bundle loads) and the test reads the browser's own state from those.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import {
  closeAll,
  launchChromium,
  openParticipant,
  startRelayServer,
  uniqueRoom,
  waitForMediaFlowing,
  withTimeout,
  type Participant,
} from './harness.js';

const TRIALS = 20;

/**
 * Runs in each page before its scripts: keeps every RTCPeerConnection the page creates in `window.__pcs`, and counts
 * in `window.__glare` the remote offers that arrived while a local offer was pending (a collision).
 */
function recordPeerConnections(): void {
  const Native = window.RTCPeerConnection;
  const w = window as unknown as { __pcs: RTCPeerConnection[]; __glare: number };
  w.__pcs = [];
  w.__glare = 0;
  window.RTCPeerConnection = class extends Native {
    constructor(config?: RTCConfiguration) {
      super(config);
      w.__pcs.push(this);
    }

    override setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void> {
      if (description.type === 'offer' && this.signalingState === 'have-local-offer') w.__glare++;
      return super.setRemoteDescription(description);
    }
  };
}

/** What one page shows of the other's screen, and the state of its open connections. */
interface ScreenView {
  /** `data-peer-id` of the spotlight's screen video, or null when there is no spotlight. */
  presenter: string | null;
  /** framesDecoded of the inbound-rtp stats of the spotlight's track. */
  framesDecoded: number;
  videoWidth: number;
  /** signalingState of every RTCPeerConnection of the page that is not closed. */
  signaling: string[];
  sharing: boolean;
}

async function screenView(page: Page): Promise<ScreenView> {
  return withTimeout(
    page.evaluate(async () => {
      type Chat = HTMLElement & { screenSharing: boolean; getStats(id: string): Promise<RTCStatsReport | undefined> };
      const chat = document.querySelector('video-chat') as Chat;
      const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
      const signaling = pcs.filter((pc) => pc.connectionState !== 'closed').map((pc) => pc.signalingState);
      const video = chat.shadowRoot?.querySelector<HTMLVideoElement>('video[part~="screen-video"]');
      const presenter = video?.dataset['peerId'] ?? null;
      let framesDecoded = 0;
      const track = (video?.srcObject as MediaStream | null)?.getVideoTracks()[0];
      if (presenter && track) {
        (await chat.getStats(presenter))?.forEach((s: Record<string, unknown>) => {
          if (s['type'] === 'inbound-rtp' && s['trackIdentifier'] === track.id)
            framesDecoded += Number(s['framesDecoded'] ?? 0);
        });
      }
      return { presenter, framesDecoded, videoWidth: video?.videoWidth ?? 0, signaling, sharing: chat.screenSharing };
    }),
    10_000,
    'reading the screen share',
  );
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The peer id of `p` as the element reports it. */
const peerIdOf = (p: Participant): Promise<string> =>
  p.page.evaluate(() => (document.querySelector('video-chat') as HTMLElement & { peerId: string }).peerId);

/**
 * Polls (every 300 ms, ≤ `timeoutMs`) until `viewer` shows `presenterId`'s screen in its spotlight with frames being
 * decoded (framesDecoded grew between two samples) and a picture (videoWidth > 0), and every connection of both
 * pages is `stable`.
 */
async function waitForScreenSeen(
  viewer: Participant,
  other: Participant,
  presenterId: string,
  timeoutMs = 20_000,
): Promise<ScreenView> {
  const deadline = Date.now() + timeoutMs;
  let before = await screenView(viewer.page);
  let last = before;
  let otherView: ScreenView | undefined;
  for (let i = 0; Date.now() < deadline && i < 200; i++) {
    await sleep(300);
    last = await screenView(viewer.page);
    otherView = await screenView(other.page);
    const decoding =
      last.presenter === presenterId &&
      before.presenter === presenterId &&
      last.framesDecoded > before.framesDecoded &&
      last.videoWidth > 0;
    const stable =
      [...last.signaling, ...otherView.signaling].every((s) => s === 'stable') &&
      last.signaling.length === 1 &&
      otherView.signaling.length === 1;
    if (decoding && stable) return last;
    before = last;
  }
  throw new Error(
    `${viewer.name} never decoded ${presenterId}'s screen with both connections stable within ${timeoutMs} ms; ` +
      `last: ${JSON.stringify(last)}, other: ${JSON.stringify(otherView)}\n` +
      `${viewer.name} logs:\n  ${viewer.logs.slice(-15).join('\n  ')}\n${other.name} logs:\n  ${other.logs.slice(-15).join('\n  ')}`,
  );
}

/** Polls until neither page shows a spotlight and neither shares (≤ `timeoutMs`). */
async function waitForNoScreens(people: Participant[], timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let views: ScreenView[] = [];
  for (let i = 0; Date.now() < deadline && i < 100; i++) {
    views = await Promise.all(people.map((p) => screenView(p.page)));
    if (views.every((v) => v.presenter === null && !v.sharing && v.signaling.every((s) => s === 'stable'))) return;
    await sleep(250);
  }
  throw new Error(`screens still shown after stopping within ${timeoutMs} ms: ${JSON.stringify(views)}`);
}

/** Calls `startScreenShare()` (no source: the browser's getDisplayMedia) in the page at wall-clock time `at` (ms). */
async function startShareAt(page: Page, at: number): Promise<boolean> {
  return withTimeout(
    page.evaluate(async (when) => {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, when - Date.now())));
      return (
        document.querySelector('video-chat') as HTMLElement & { startScreenShare(): Promise<boolean> }
      ).startScreenShare();
    }, at),
    15_000,
    'startScreenShare()',
  );
}

async function stopShare(page: Page): Promise<void> {
  await page.evaluate(() =>
    (document.querySelector('video-chat') as HTMLElement & { stopScreenShare(): void }).stopScreenShare(),
  );
}

describe('screen share between browser processes', { timeout: 600_000 }, () => {
  let browsers: Browser[] = [];
  let relayUrl = '';
  before(async () => {
    relayUrl = (await startRelayServer()).url;
    browsers = await Promise.all([launchChromium(), launchChromium()]);
  });
  after(() => closeAll());

  async function call(): Promise<[Participant, Participant]> {
    const room = uniqueRoom('screen');
    const a = await openParticipant(browsers[0]!, relayUrl, { room, name: 'Ada', init: recordPeerConnections });
    const b = await openParticipant(browsers[1]!, relayUrl, { room, name: 'Grace', init: recordPeerConnections });
    await Promise.all([waitForMediaFlowing(a, 1, 30_000), waitForMediaFlowing(b, 1, 30_000)]);
    return [a, b];
  }

  it("a screen shared with startScreenShare() is decoded in the other peer's spotlight", async () => {
    const [a, b] = await call();
    assert.equal(await startShareAt(a.page, Date.now()), true);
    const seen = await waitForScreenSeen(b, a, await peerIdOf(a));
    assert.ok(seen.videoWidth > 0);
    const own = await screenView(a.page);
    assert.equal(own.sharing, true);
    assert.equal(own.presenter, null, 'the presenter sees no spotlight of its own screen');
    await stopShare(a.page);
    await waitForNoScreens([a, b]);
    await Promise.all([a.page.close(), b.page.close()]);
  });

  it(`both peers start sharing at the same moment, ${TRIALS} times: both stable, both screens decoding`, async (t) => {
    const [a, b] = await call();
    const [aId, bId] = await Promise.all([peerIdOf(a), peerIdOf(b)]);
    for (let trial = 1; trial <= TRIALS; trial++) {
      const at = Date.now() + 300; // the same wall clock: both pages run on this machine
      const started = await Promise.all([startShareAt(a.page, at), startShareAt(b.page, at)]);
      assert.deepEqual(started, [true, true], `trial ${trial}: both shares started`);
      try {
        await Promise.all([waitForScreenSeen(b, a, aId), waitForScreenSeen(a, b, bId)]);
      } catch (error) {
        throw new Error(`trial ${trial} of ${TRIALS}`, { cause: error });
      }
      await Promise.all([stopShare(a.page), stopShare(b.page)]);
      await waitForNoScreens([a, b]);
    }
    const glare = (p: Participant) => p.page.evaluate(() => (window as unknown as { __glare: number }).__glare);
    t.diagnostic(`offers that collided with a pending local offer: ${await glare(a)} (Ada), ${await glare(b)} (Grace)`);
  });
});
