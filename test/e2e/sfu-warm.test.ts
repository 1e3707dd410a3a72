/**
 * The warm path of a room about to switch to the SFU (issue 12; `server/src/sfu/warm.ts`, docs/sfu.md "The warm
 * path"), end to end with real parts inside the private network namespace: a real Janus (test/e2e/janus.ts), the real
 * relay CLI brokering it with `--sfu-from 5`, five Chromium processes at 320×240.
 *
 * Four in a mesh: once their mesh is quiet, Janus lists all four as publishers before anyone else joins, and each
 * page holds its three mesh connections plus a publishing connection that is `connected` with nothing sent (video and
 * audio `bytesSent` 0) and a subscribing one, while its element still says mesh (`:state(sfu)` off). The fifth joins:
 * the room switches, every page ends with its two SFU connections only, the four originals through the very
 * connections they prepared (no new `RTCPeerConnection` at the switch), every tile in its participant's colour with
 * frames advancing, no `vc-error`. The longest frame interval of each original tile across the switch is logged (a
 * figure, not an assertion: timing belongs to the benchmark).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  closeAll,
  launchChromium,
  uniqueRoom,
  waitForRemoteCount,
  type Participant,
  type RelayServer,
} from './harness.js';
import { startJanus, type Janus } from './janus.js';
import {
  assertNoVcError,
  janusPublishers,
  leaveAll,
  openPainted,
  pageState,
  peerIdOf,
  relayAndJanusLogs,
  startSfuRelay,
  waitFor,
  waitForColours,
  waitForJanusRoomGone,
  withDiagnostics,
} from './sfu-helpers.js';

/** What a page's publishing connection (the one with three simulcast encodings) says. */
interface Publishing {
  /** Connections the page made so far (closed ones included). */
  made: number;
  state: RTCPeerConnectionState | 'none';
  /** `bytesSent` of its `outbound-rtp` entries, per kind. */
  video: number;
  audio: number;
}

function publishing(p: Participant): Promise<Publishing> {
  return p.page.evaluate(async () => {
    const pcs = (window as unknown as { pcs: RTCPeerConnection[] }).pcs;
    const pub = pcs.find(
      (pc) =>
        pc.signalingState !== 'closed' && pc.getSenders().some((s) => (s.getParameters().encodings?.length ?? 0) === 3),
    );
    const sent = { video: 0, audio: 0 };
    if (pub) {
      (await pub.getStats()).forEach((s: { type: string; kind?: 'audio' | 'video'; bytesSent?: number }) => {
        if (s.type === 'outbound-rtp' && s.kind) sent[s.kind] += s.bytesSent ?? 0;
      });
    }
    return { made: pcs.length, state: pub?.connectionState ?? ('none' as const), ...sent };
  });
}

/** Starts recording, on `p`, the longest interval between two presented frames of each remote tile (rVFC). */
function watchFrames(p: Participant): Promise<void> {
  return p.page.evaluate(() => {
    const w = window as unknown as { longest: Record<string, number> };
    w.longest = {};
    const chat = document.querySelector('video-chat')!;
    const watched = new WeakSet<HTMLVideoElement>();
    const last = new Map<string, number>();
    setInterval(() => {
      for (const video of chat.shadowRoot?.querySelectorAll<HTMLVideoElement>('video[part~="remote-video"]') ?? []) {
        if (watched.has(video)) continue;
        watched.add(video);
        const id = video.dataset['peerId'] ?? '';
        const onFrame = (now: number) => {
          const before = last.get(id);
          if (before !== undefined) w.longest[id] = Math.max(w.longest[id] ?? 0, now - before);
          last.set(id, now);
          video.requestVideoFrameCallback(onFrame);
        };
        video.requestVideoFrameCallback(onFrame);
      }
    }, 50);
  });
}

describe(
  'the warm path: a room one short of --sfu-from is prepared on the SFU before it switches',
  { timeout: 300_000 },
  () => {
    let janus: Janus;
    let relay: RelayServer;

    before(async () => {
      janus = await startJanus();
      relay = await startSfuRelay(janus, 5, ['--log-level', 'info']);
    });
    after(() => closeAll());

    it('4 in a mesh are publishers in Janus with nothing sent; at the fifth only their encodings go on, every tile advancing in its colour', async () => {
      const room = uniqueRoom('sfu-warm');
      const people: Participant[] = [];
      const open = async (name: string) => {
        const p = await openPainted(await launchChromium(), relay.url, room, name);
        people.push(p);
        return p;
      };
      try {
        for (const name of ['Ada', 'Grace', 'Linus', 'Barbara']) await open(name);
        const originals = [...people];
        for (const p of originals) await waitForRemoteCount(p, 3, 30_000);
        for (const p of originals) await waitForColours(p, 3);
        const ids = await Promise.all(originals.map(peerIdOf));
        // Prepared once the mesh is quiet (2 s): Janus lists the four as publishers before a fifth exists.
        const feeds = await withDiagnostics(
          () =>
            waitFor(
              'four publishers in the warm Janus room',
              async () => {
                const janusRoom = (await janus.rooms()).find((r) => r.startsWith(`${room}-`));
                const list = janusRoom ? await janusPublishers(janus, janusRoom) : [];
                return list.length === 4 ? list : undefined;
              },
              30_000,
            ),
          relayAndJanusLogs([relay], janus),
        );
        assert.deepEqual([...feeds].sort(), [...ids].sort());
        for (const p of originals) {
          const pub = await waitFor(
            `${p.name}'s prepared publishing connection connected`,
            async () => {
              const s = await publishing(p);
              return s.state === 'connected' ? s : undefined;
            },
            20_000,
          );
          // Still a mesh: three mesh connections, the publishing and the subscribing one; nothing published.
          assert.equal(pub.made, 5, `${p.name}: connections made ${JSON.stringify(pub)}`);
          assert.deepEqual(await pageState(p), { self: ids[originals.indexOf(p)], sfu: false, open: 5 });
        }
        // A while later, still nothing sent: no encoder runs for the SFU before the switch.
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        for (const p of originals) {
          const pub = await publishing(p);
          assert.ok(pub.video === 0 && pub.audio === 0, `${p.name} sent nothing to the SFU: ${JSON.stringify(pub)}`);
        }
        for (const p of originals) await waitForColours(p, 3); // the mesh tiles unchanged by the warm path
        for (const p of originals) await watchFrames(p);
        // The switch.
        const edsger = await open('Edsger');
        for (const p of people) await waitForRemoteCount(p, 4, 30_000);
        await withDiagnostics(
          async () => {
            for (const p of people)
              await waitFor(
                `${p.name} on the SFU with its two connections only`,
                async () => {
                  const s = await pageState(p);
                  return s.sfu && s.open === 2;
                },
                30_000,
              );
            for (const p of people) await waitForColours(p, 4);
          },
          relayAndJanusLogs([relay], janus),
        );
        for (const p of originals) {
          // The prepared connections are the ones in use: none made at the switch; the camera now goes out.
          const pub = await publishing(p);
          assert.equal(pub.made, 5, `${p.name}: no connection made at the switch ${JSON.stringify(pub)}`);
          assert.ok(pub.video > 0, `${p.name} publishes its camera after the switch: ${JSON.stringify(pub)}`);
        }
        assert.equal((await publishing(edsger)).made, 2, 'the newcomer makes its two SFU connections only');
        for (const p of people) assertNoVcError(p, ' through the warm path and the switch');
        const longest = await Promise.all(
          originals.map((p) =>
            p.page.evaluate(() => (window as unknown as { longest: Record<string, number> }).longest),
          ),
        );
        console.log(
          `longest frame interval per original tile across the switch (rVFC, ms): ${JSON.stringify(
            longest.map((l) => Object.values(l).map(Math.round)),
          )}`,
        );
      } finally {
        await leaveAll(people);
      }
      await waitForJanusRoomGone(janus, room);
    });
  },
);
