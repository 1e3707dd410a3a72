/**
 * Issue 10, between separate browser processes: the relay is killed (SIGKILL) in the middle of a call and started
 * again on the same port. It has lost every participant, so both elements join afresh with new IDs; they recognise
 * each other over their data channel (`rebind`, src/call/roster.ts) and keep their connection:
 * - remote video never stops on either side: frames decoded on the connection that existed before the kill grow at
 *   every sample (every 500 ms) from before the kill until both are back under their new IDs;
 * - afterwards each page has the same RTCPeerConnection, the same tile and `<video>` (DOM nodes) as before, no
 *   offer or answer was applied in between, and the host page got no `vc-peer-left` / `vc-peer-joined`;
 * - a newcomer then joins the restarted relay and sees both, and both see it (video decoding both ways).
 * Run with both in Chromium, and with one side in Firefox ESR. Before issue 10's step 4 every fresh welcome closed every connection: this test then fails on all of that.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { Page } from 'puppeteer-core';
import {
  chatView,
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

/** What the init script keeps in the page. */
interface Recorded {
  /** Every RTCPeerConnection the page created. */
  pcs: RTCPeerConnection[];
  /** Offers and answers applied (set as local or remote description), in order. */
  descriptions: string[];
  /** `vc-joined` (with the ID), `vc-peer-joined`, `vc-peer-left` (with the peer's ID), in order. */
  events: string[];
  /** The connection, tile and video marked by {@link mark}. */
  marked?: { pc: RTCPeerConnection; tile: Element | null; video: Element | null };
}

/**
 * Runs in each page before its scripts: records every RTCPeerConnection the page creates, every offer and answer it
 * applies, and the element's join and peer events (capture phase on the document: the element dispatches them).
 */
function record(): void {
  const w = window as unknown as { __rec: Recorded };
  const rec: Recorded = { pcs: [], descriptions: [], events: [] };
  w.__rec = rec;
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(config?: RTCConfiguration) {
      super(config);
      rec.pcs.push(this);
    }

    override setLocalDescription(description?: RTCLocalSessionDescriptionInit): Promise<void> {
      const done = super.setLocalDescription(description);
      void done.then(() => rec.descriptions.push(`local ${this.localDescription?.type}`)).catch(() => undefined);
      return done;
    }

    override setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void> {
      rec.descriptions.push(`remote ${description.type}`);
      return super.setRemoteDescription(description);
    }
  };
  for (const type of ['vc-joined', 'vc-peer-joined', 'vc-peer-left']) {
    document.addEventListener(
      type,
      (event) => {
        const e = event as Event & { peerId?: string; peer?: { id: string } };
        rec.events.push(`${type} ${e.peerId ?? e.peer?.id ?? ''}`);
      },
      true,
    );
  }
}

/** Keeps the page's one open connection, its remote tile and its `<video>` to compare with later. */
async function mark(page: Page): Promise<void> {
  await withTimeout(
    page.evaluate(() => {
      const rec = (window as unknown as { __rec: Recorded }).__rec;
      const open = rec.pcs.filter((pc) => pc.connectionState !== 'closed');
      if (open.length !== 1) throw new Error(`expected one open RTCPeerConnection, found ${open.length}`);
      const tile = document.querySelector('video-chat')?.shadowRoot?.querySelector('[part~="remote-tile"]') ?? null;
      rec.marked = { pc: open[0]!, tile, video: tile?.querySelector('video') ?? null };
    }),
    10_000,
    'marking the connection and tile',
  );
}

interface Snapshot {
  /** framesDecoded (video inbound-rtp) on the marked connection. */
  frames: number;
  /** Connections created, and still open. */
  created: number;
  open: number;
  samePc: boolean;
  markedPcState: string;
  sameTile: boolean;
  sameVideo: boolean;
  videoWidth: number;
  descriptions: string[];
  events: string[];
  peerId: string | null;
  peers: string[];
  state: string;
}

async function snapshot(page: Page): Promise<Snapshot> {
  return withTimeout(
    page.evaluate(async () => {
      const rec = (window as unknown as { __rec: Recorded }).__rec;
      const marked = rec.marked!;
      let frames = 0;
      (await marked.pc.getStats()).forEach((s: Record<string, unknown>) => {
        if (s['type'] === 'inbound-rtp' && s['kind'] === 'video') frames += Number(s['framesDecoded'] ?? 0);
      });
      type Chat = HTMLElement & { state: string; peerId: string | null; peers: readonly { id: string }[] };
      const chat = document.querySelector('video-chat') as Chat;
      const open = rec.pcs.filter((pc) => pc.connectionState !== 'closed');
      const tile = chat.shadowRoot?.querySelector('[part~="remote-tile"]') ?? null;
      const video = tile?.querySelector('video') ?? null;
      return {
        frames,
        created: rec.pcs.length,
        open: open.length,
        samePc: open.length === 1 && open[0] === marked.pc,
        markedPcState: marked.pc.connectionState,
        sameTile: tile !== null && tile === marked.tile,
        sameVideo: video !== null && video === marked.video,
        videoWidth: video?.videoWidth ?? 0,
        descriptions: [...rec.descriptions],
        events: [...rec.events],
        peerId: chat.peerId,
        peers: chat.peers.map((p) => p.id),
        state: chat.state,
      };
    }),
    10_000,
    'reading the page',
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a relay restart during a call', { timeout: 180_000 }, () => {
  afterEach(closeAll);

  for (const firefox of [false, true]) {
    const who = firefox ? 'Ada in Firefox ESR, Grace in Chromium' : 'both in Chromium';
    it(`keeps the connection, tile and video of both sides under the new IDs; a newcomer then meets both (${who})`, async () => {
      const first = await startRelayServer();
      const port = new URL(first.url).port;
      const room = uniqueRoom('restart');
      const [a, b] = await Promise.all([firefox ? launchFirefox() : launchChromium(), launchChromium()]);
      const ada = await openParticipant(a, first.url, { room, name: 'Ada', init: record });
      await waitForState(ada, ['waiting', 'in-call']);
      const grace = await openParticipant(b, first.url, { room, name: 'Grace', init: record });
      await Promise.all([waitForMediaFlowing(ada, 1, 30_000), waitForMediaFlowing(grace, 1, 30_000)]);
      await sleep(1000); // the data channel's first messages (state) exchanged: the pair talks on it
      const pair: Participant[] = [ada, grace];
      await Promise.all(pair.map((p) => mark(p.page)));
      const before = await Promise.all(pair.map((p) => snapshot(p.page)));
      const oldIds = before.map((s) => s.peerId);

      /** Every 500 ms: frames decoded on the marked connection of both pages grew. */
      let last = before;
      const check = async (when: string) => {
        await sleep(500);
        const now = await Promise.all(pair.map((p) => snapshot(p.page)));
        for (const [i, p] of pair.entries()) {
          assert.ok(
            now[i]!.frames > last[i]!.frames,
            `${p.name}: remote video stopped ${when} (framesDecoded ${last[i]!.frames} → ${now[i]!.frames}); ` +
              `${JSON.stringify({ ...now[i], descriptions: undefined })}\n${p.logs.slice(-10).join('\n')}`,
          );
        }
        last = now;
        return now;
      };

      first.process.kill('SIGKILL');
      for (let i = 0; i < 4; i++) await check('while the relay is down'); // 2 s down
      await startRelayServer(['--port', port]);
      // Back: both have a new ID and list the other under its new one (the rebind applied on both sides).
      let back = false;
      for (let i = 0; i < 60 && !back; i++) {
        const now = await check('after the relay restarted');
        back = now.every(
          (s, j) =>
            s.state === 'in-call' &&
            s.peerId !== null &&
            s.peerId !== oldIds[j] &&
            s.peers.length === 1 &&
            s.peers[0] === now[1 - j]!.peerId,
        );
      }
      assert.ok(back, `both back under new IDs within 30 s: ${JSON.stringify(last.map((s) => [s.peerId, s.peers]))}`);
      for (let i = 0; i < 4; i++) await check('after both were back'); // the window and waits do not end it either

      const after = await Promise.all(pair.map((p) => snapshot(p.page)));
      for (const [i, p] of pair.entries()) {
        const s = after[i]!;
        const was = before[i]!;
        assert.equal(s.created, was.created, `${p.name}: no RTCPeerConnection created`);
        assert.ok(s.samePc && s.markedPcState === 'connected', `${p.name}: the same connection, still connected`);
        assert.ok(
          s.sameTile && s.sameVideo && s.videoWidth > 0,
          `${p.name}: the same tile and <video>, with a picture`,
        );
        assert.deepEqual(s.descriptions, was.descriptions, `${p.name}: no offer or answer since the kill`);
        assert.deepEqual(
          s.events.slice(was.events.length),
          [`vc-joined ${s.peerId}`],
          `${p.name}: only vc-joined (the new ID); no vc-peer-left / vc-peer-joined`,
        );
        const view = await chatView(p.page);
        assert.deepEqual(view.tiles, s.peers, `${p.name}: one tile, under the other's new ID`);
      }

      // A newcomer joins the restarted relay: everyone decodes everyone, and the pair kept its connection.
      const carol = await openParticipant(await launchChromium(), first.url, { room, name: 'Carol' });
      const everyone = [ada, grace, carol];
      const seen = await Promise.all(everyone.map((p) => waitForMediaFlowing(p, 2, 40_000)));
      for (const [i, p] of everyone.entries()) {
        const others = everyone.filter((q) => q !== p).map((q) => q.name);
        assert.deepEqual(seen[i]!.map((m) => m.name).sort(), others.sort(), `${p.name} sees the two others`);
      }
      for (const [i, p] of pair.entries()) {
        const s = await snapshot(p.page);
        assert.equal(s.created, before[i]!.created + 1, `${p.name}: one new connection, to Carol only`);
        assert.equal(s.markedPcState, 'connected', `${p.name}: the connection from before the restart is still up`);
      }
    });
  }
});
