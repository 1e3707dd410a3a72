/**
 * Rooms on the SFU (issue 12), end to end with real parts inside the private network namespace: a real Janus
 * (test/e2e/janus.ts, hardened config), the real relay CLI brokering it (`--janus-url`), separate browser processes
 * (Chromium; Firefox ESR in one case).
 *
 * - three participants in a room on the SFU: each publishes one simulcast upload and sees both others through Janus,
 *   each tile showing that participant's own colour, with frames advancing; the Janus room holds exactly their relay
 *   IDs as feed IDs; when they leave, the Janus room is destroyed (Janus's own `list`, with the admin key);
 * - the same with Firefox ESR as one of the three (two Chromium, one Firefox): each sees the others in their own
 *   colour with frames advancing, and Firefox sends its three simulcast layers (rids h/m/l, each encoding frames);
 * - a room switching from mesh at `--sfu-from` (2 → 3): no tile goes dark, each tile drops its mesh video only after
 *   the SFU's copy decoded there, and each end stops sending its mesh camera to the other only once the other's tile
 *   shows it through the SFU (the order of events, `sfu-switch-watch.ts`; the longest frame interval is logged);
 * - an impostor that asks to publish under another participant's ID is refused, and Janus never lists it;
 * - a client without the `sfu` capability (a v1 client) keeps its room in mesh, and is refused from a room already
 *   on the SFU.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { JanusClient } from '../../server/src/sfu/janus.js';
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
import { switchOrder, takeSwitchLog, watchSwitch } from './sfu-switch-watch.js';
import {
  assertNoVcError,
  assertOnSfu,
  janusPublishers,
  janusRoomOf,
  leaveAll,
  openPainted,
  peerIdOf,
  relayAndJanusLogs,
  sleep,
  startSfuRelay,
  waitFor,
  waitForColours,
  waitForJanusRoomGone,
  withDiagnostics,
} from './sfu-helpers.js';

/** A raw relay client (what a non-browser or v1 client sends), recording every message. */
async function rawClient(url: string): Promise<{
  ws: WebSocket;
  messages: Record<string, unknown>[];
  next(type: string, pred?: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}> {
  const ws = new WebSocket(url.replace(/^http/, 'ws'));
  const messages: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data) => {
    messages.push(JSON.parse(String(data)) as Record<string, unknown>);
    for (const w of waiters.splice(0)) w();
  });
  await withTimeout(new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject)), 5_000, 'ws open');
  const next = async (type: string, pred: (m: Record<string, unknown>) => boolean = () => true) => {
    for (let i = 0; i < 100; i++) {
      const found = messages.find((m) => m['type'] === type && pred(m));
      if (found) {
        messages.splice(messages.indexOf(found), 1);
        return found;
      }
      await withTimeout(new Promise<void>((resolve) => waiters.push(resolve)), 5_000, `waiting for ${type}`);
    }
    throw new Error(`no ${type}`);
  };
  return { ws, messages, next };
}

describe('rooms on the SFU (Janus VideoRoom brokered by the relay)', { timeout: 180_000 }, () => {
  let janus: Janus;
  let relay: RelayServer;

  before(async () => {
    janus = await startJanus();
    relay = await startSfuRelay(janus, 2, ['--log-level', 'info']);
  });
  after(() => closeAll());

  it('three participants through Janus each see the others in their own colour; the Janus room goes when they leave', async () => {
    const room = uniqueRoom('sfu');
    const people: Participant[] = [];
    for (const name of ['Ada', 'Grace', 'Linus'])
      people.push(await openPainted(await launchChromium(), relay.url, room, name));
    try {
      for (const p of people) await waitForRemoteCount(p, 2, 30_000);
      await withDiagnostics(
        async () => {
          for (const p of people) await waitForColours(p, 2);
        },
        relayAndJanusLogs([relay], janus),
      );
      for (const p of people) await assertOnSfu(p);
      // Janus's own view: one private room for ours, whose publishers are exactly our relay IDs.
      const janusRoom = await janusRoomOf(janus, room);
      const ids = await Promise.all(people.map(peerIdOf));
      const feeds = await waitFor('three publishers in Janus', async () => {
        const list = await janusPublishers(janus, janusRoom);
        return list.length === 3 ? list : undefined;
      });
      assert.deepEqual([...feeds].sort(), [...ids].sort());
      // The element's getStats(peerId) reads that participant's streams on the subscribing connection.
      for (const p of people) {
        const decoded = await p.page.evaluate(async () => {
          type Chat = HTMLElement & {
            peers: readonly { id: string }[];
            getStats(id: string): Promise<RTCStatsReport | undefined>;
          };
          const chat = document.querySelector('video-chat') as Chat;
          return Promise.all(
            chat.peers.map(async ({ id }) => {
              let frames = 0;
              (await chat.getStats(id))?.forEach((s: { type: string; kind?: string; framesDecoded?: number }) => {
                if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded ?? 0;
              });
              return frames;
            }),
          );
        });
        assert.ok(
          decoded.length === 2 && decoded.every((n) => n > 0),
          `${p.name}: frames decoded per peer ${JSON.stringify(decoded)}`,
        );
      }
      // No data channel on the SFU: chat and microphone state go through the relay, and still arrive.
      await people[0]!.page.evaluate(() =>
        (document.querySelector('video-chat') as HTMLElement & { sendChatMessage(t: string): unknown }).sendChatMessage(
          'hello through the relay',
        ),
      );
      await people[1]!.page.evaluate(() =>
        (
          document.querySelector('video-chat') as HTMLElement & { setMicrophoneEnabled(on: boolean): void }
        ).setMicrophoneEnabled(false),
      );
      for (const p of people.slice(1)) {
        await waitFor(`${p.name} receives Ada's chat message`, () =>
          p.page.evaluate(() =>
            (
              document.querySelector('video-chat') as HTMLElement & {
                chatMessages: readonly { text: string; name: string }[];
              }
            ).chatMessages.some((m) => m.text === 'hello through the relay' && m.name === 'Ada'),
          ),
        );
      }
      for (const p of [people[0]!, people[2]!]) {
        await waitFor(`${p.name} sees Grace's microphone off`, () =>
          p.page.evaluate(
            (grace) =>
              (window as unknown as { mediaStates: { peerId: string | null; microphone: boolean }[] }).mediaStates.some(
                (m) => m.peerId === grace && !m.microphone,
              ),
            ids[1]!,
          ),
        );
      }
    } finally {
      await leaveAll(people);
    }
    await waitForJanusRoomGone(janus, room);
  });

  it('Firefox ESR beside two Chromiums through Janus: each of the three sees the others in their own colour', async () => {
    const room = uniqueRoom('sfu-firefox');
    const people: Participant[] = [];
    for (const [name, launch] of [
      ['Ada', launchChromium],
      ['Grace', launchFirefox],
      ['Linus', launchChromium],
    ] as const) {
      people.push(await openPainted(await launch(), relay.url, room, name));
    }
    try {
      for (const p of people) await waitForRemoteCount(p, 2, 30_000);
      await withDiagnostics(
        async () => {
          for (const p of people) await waitForColours(p, 2);
        },
        relayAndJanusLogs([relay], janus),
      );
      for (const p of people) {
        await assertOnSfu(p);
        assertNoVcError(p);
      }
      // Firefox publishes the three simulcast layers by rid (RFC 8853), each encoding frames.
      const layers = await people[1]!.page.evaluate(async () => {
        const encoded: Record<string, number> = {};
        for (const pc of (window as unknown as { pcs: RTCPeerConnection[] }).pcs) {
          if (pc.signalingState === 'closed') continue;
          (await pc.getStats()).forEach((s: { type: string; kind?: string; rid?: string; framesEncoded?: number }) => {
            if (s.type === 'outbound-rtp' && s.kind === 'video' && s.rid) encoded[s.rid] = s.framesEncoded ?? 0;
          });
        }
        return encoded;
      });
      assert.deepEqual(Object.keys(layers).sort(), ['h', 'l', 'm'], `Grace's layers: ${JSON.stringify(layers)}`);
      assert.ok(
        Object.values(layers).every((n) => n > 0),
        `Grace's layers encode frames: ${JSON.stringify(layers)}`,
      );
    } finally {
      await leaveAll(people); // each through the element first (see leaveAll: Firefox's page close)
    }
    await waitForJanusRoomGone(janus, room);
  });

  it('a mesh room switches to the SFU at --sfu-from: each tile drops its mesh video only once the SFU video decodes, each end stops its mesh copy once the other shows it via Janus, no tile goes dark', async () => {
    const switching = await startSfuRelay(janus, 3);
    const room = uniqueRoom('sfu-switch');
    const open = async (name: string) => openPainted(await launchChromium(), switching.url, room, name);
    const ada = await open('Ada');
    const grace = await open('Grace');
    const people = [ada, grace];
    try {
      await waitForRemoteCount(ada, 1, 30_000);
      await waitForColours(ada, 1);
      // The page's open RTCPeerConnections: one (the mesh with Grace) before the switch; after it, the publishing and
      // the subscribing one, the mesh connection closed.
      const mesh = async (p: Participant) =>
        p.page.evaluate(() => ({
          sfu: document.querySelector('video-chat')!.matches(':state(sfu)'),
          open: (window as unknown as { pcs: RTCPeerConnection[] }).pcs.filter((pc) => pc.signalingState !== 'closed')
            .length,
        }));
      assert.deepEqual(await mesh(ada), { sfu: false, open: 1 }, 'two participants: a mesh');
      // Ada's tile of Grace, watched through the switch: every 50 ms, whether it shows the no-video state (the
      // placeholder, no srcObject, or a stream without video); and every frame presented (requestVideoFrameCallback)
      // for the longest wait between two frames.
      const graceId = await peerIdOf(grace);
      const adaId = await peerIdOf(ada);
      // The order of events on both ends (sfu-switch-watch.ts): each tile's stream, and the one open connection (the mesh).
      const watch2 = async (p: Participant, other: string) => {
        await p.page.evaluate(watchSwitch);
        return p.page.evaluate((id) => {
          const tile = document.querySelector('video-chat')!.shadowRoot!.querySelector(`figure[data-peer-id="${id}"]`);
          const pcs = (window as unknown as { pcs: RTCPeerConnection[] }).pcs;
          return {
            stream: (tile?.querySelector('video')?.srcObject as MediaStream | null)?.id ?? '',
            mesh: pcs.findIndex((pc) => pc.signalingState !== 'closed'),
          };
        }, other);
      };
      const adaSide = await watch2(ada, graceId);
      const graceSide = await watch2(grace, adaId);
      await ada.page.evaluate((id) => {
        const chat = document.querySelector('video-chat')!;
        const w = window as unknown as { longestGapMs: number; frames: number; dark: string[]; sampler: number };
        w.longestGapMs = 0;
        w.frames = 0;
        w.dark = [];
        let watched: HTMLVideoElement | null = null;
        let last = 0;
        const onFrame = (video: HTMLVideoElement) => (now: number) => {
          if (video !== watched) return;
          if (last > 0) w.longestGapMs = Math.max(w.longestGapMs, now - last);
          last = now;
          w.frames++;
          video.requestVideoFrameCallback(onFrame(video));
        };
        w.sampler = window.setInterval(() => {
          const tile = chat.shadowRoot?.querySelector(`figure[data-peer-id="${CSS.escape(id)}"]`);
          const video = tile?.querySelector('video') ?? null;
          const stream = video?.srcObject as MediaStream | null | undefined;
          if (!video) w.dark.push('no video element');
          else if (!stream) w.dark.push('srcObject null');
          else if (stream.getVideoTracks().length === 0) w.dark.push('a stream without video');
          if (tile?.querySelector('.placeholder')) w.dark.push('the no-video placeholder');
          if (video && video !== watched) {
            watched = video; // a new element (none expected): watch it from its next frame
            video.requestVideoFrameCallback(onFrame(video));
          }
        }, 50);
      }, graceId);
      const linus = await open('Linus');
      people.push(linus);
      for (const p of [ada, grace, linus]) await waitForRemoteCount(p, 2, 30_000);
      for (const p of [ada, grace, linus]) await waitForColours(p, 2);
      await waitFor('Ada drops her mesh connection with Grace', async () => {
        const state = await mesh(ada);
        return state.sfu && state.open === 2;
      });
      const before = await ada.page.evaluate(() => (window as unknown as { frames: number }).frames);
      await sleep(1_000);
      const watch = await ada.page.evaluate(() => {
        const w = window as unknown as { longestGapMs: number; frames: number; dark: string[]; sampler: number };
        clearInterval(w.sampler);
        return { gap: w.longestGapMs, frames: w.frames, dark: w.dark };
      });
      console.log(
        `longest gap between two frames of Grace at Ada across the mesh->SFU switch (rVFC): ${Math.round(watch.gap)} ms`,
      );
      // What a person sees: Grace's tile never went dark, and her video kept coming after the switch.
      assert.deepEqual(
        [...new Set(watch.dark)],
        [],
        `Ada's tile of Grace through the switch\n${ada.logs.slice(-30).join('\n')}`,
      );
      assert.ok(watch.frames > before, `frames presented after the switch: ${before} -> ${watch.frames}`);
      for (const p of [ada, grace, linus]) assertNoVcError(p, ' through the switch');
      // The order of events (make-before-break per direction): each end's tile of the other drops its mesh video only
      // after the SFU's copy decoded there; and each end stops sending its mesh camera to the other (replaceTrack
      // null) only after the other's tile shows it through the SFU, and before the mesh connection closes.
      const adaLog = await ada.page.evaluate(takeSwitchLog);
      const graceLog = await grace.page.evaluate(takeSwitchLog);
      for (const [viewer, sender, story] of [
        ['Ada', 'Grace', switchOrder(adaLog, adaSide.stream, adaSide.mesh, graceLog, graceSide.mesh)],
        ['Grace', 'Ada', switchOrder(graceLog, graceSide.stream, graceSide.mesh, adaLog, adaSide.mesh)],
      ] as const) {
        const log = `${viewer}'s tile of ${sender}: ${JSON.stringify(story)}`;
        const { meshRemoved, sfuAdded, sfuDecoded, senderHeld, senderStopped, senderClosed } = story;
        assert.ok(
          meshRemoved && sfuAdded && sfuDecoded,
          `the tile's mesh video left, its SFU video came and decoded; ${log}`,
        );
        assert.ok(sfuDecoded.t <= meshRemoved.t, `the mesh video left the tile only after the SFU's decoded; ${log}`);
        assert.ok(senderStopped, `${sender} stopped its mesh camera to ${viewer} before closing; ${log}`);
        // Room for the switch: from the room's move to the SFU the sender's mesh copy went small (10 fps, 120 px)
        // until the viewer showed it through the SFU (call/sfu.ts, governor.ts `switching`).
        assert.ok(
          senderHeld && senderHeld.t <= senderStopped.t,
          `${sender}'s mesh copy to ${viewer} was held small before it stopped; ${log}`,
        );
        assert.ok(senderStopped.t >= sfuAdded.t, `… only once ${viewer}'s tile showed the SFU's video; ${log}`);
        assert.ok(
          !senderClosed || senderStopped.t <= senderClosed.t,
          `… and before the mesh connection closed; ${log}`,
        );
        console.log(
          `${viewer}'s tile of ${sender}: ${sender}'s mesh copy held small ${sfuAdded.t - senderHeld.t} ms before ` +
            `the tile took the SFU video, first decoded ${sfuAdded.t - sfuDecoded.t} ms before the tile ` +
            `took it; ${sender}'s mesh camera stopped ${senderStopped.t - sfuAdded.t} ms after, its mesh connection ` +
            `closed ${senderClosed ? `${senderClosed.t - sfuAdded.t} ms after` : 'not yet'}`,
        );
      }
    } finally {
      await leaveAll(people);
      await switching.close();
    }
  });

  it('refuses a publish under another participant ID, and Janus never lists it', async () => {
    const room = uniqueRoom('sfu-impostor');
    const victim = await rawClient(relay.url);
    victim.ws.send(JSON.stringify({ type: 'join', room, name: 'Victim', caps: ['sfu'] }));
    const victimWelcome = await victim.next('welcome');
    const impostor = await rawClient(relay.url);
    impostor.ws.send(JSON.stringify({ type: 'join', room, name: 'Impostor', caps: ['sfu'] }));
    // The room switches at its second member (--sfu-from 2): both hear it from "sfu".
    await impostor.next('signal', (m) => m['from'] === 'sfu' && (m['data'] as { op: string }).op === 'mode');
    await impostor.next('welcome');
    await victim.next('signal', (m) => m['from'] === 'sfu' && (m['data'] as { op: string }).op === 'mode');
    impostor.ws.send(
      JSON.stringify({ type: 'signal', to: 'sfu', data: { op: 'publish', sdp: 'v=0\r\n', id: victimWelcome['id'] } }),
    );
    const refused = await impostor.next('error');
    assert.equal(refused['code'], 'unauthorized');
    const janusRoom = await waitFor('the Janus room', async () =>
      (await janus.rooms()).find((r) => r.startsWith(`${room}-`)),
    );
    assert.deepEqual(await janusPublishers(janus, janusRoom), []);
    // Janus itself refuses anyone without the relay's API secret: browsers cannot go around the relay.
    const stranger = await JanusClient.connect({ url: janus.url });
    await assert.rejects(stranger.request({ janus: 'create' }), /unauthorized/i);
    stranger.close();
    victim.ws.close();
    impostor.ws.close();
    await waitFor('the Janus room destroyed', async () => (await janus.rooms()).every((r) => r !== janusRoom));
  });

  it('a client without the sfu capability keeps the room in mesh, and is refused from a room on the SFU', async () => {
    const mesh = uniqueRoom('sfu-v1');
    const capable = await rawClient(relay.url);
    capable.ws.send(JSON.stringify({ type: 'join', room: mesh, name: 'New', caps: ['sfu'] }));
    await capable.next('welcome');
    const v1 = await rawClient(relay.url);
    v1.ws.send(JSON.stringify({ type: 'join', room: mesh, name: 'Old', protocol: 1 }));
    await v1.next('welcome');
    await sleep(500);
    // Two members, --sfu-from 2, but one cannot: no mode switch for anyone, no Janus room.
    for (const c of [capable, v1]) assert.equal(c.messages.filter((m) => m['from'] === 'sfu').length, 0);
    assert.equal((await janus.rooms()).filter((r) => r.startsWith(`${mesh}-`)).length, 0);

    const sfuRoom = uniqueRoom('sfu-v1b');
    const a = await rawClient(relay.url);
    a.ws.send(JSON.stringify({ type: 'join', room: sfuRoom, name: 'A', caps: ['sfu'] }));
    await a.next('welcome');
    const b = await rawClient(relay.url);
    b.ws.send(JSON.stringify({ type: 'join', room: sfuRoom, name: 'B', caps: ['sfu'] }));
    await b.next('welcome');
    const late = await rawClient(relay.url);
    late.ws.send(JSON.stringify({ type: 'join', room: sfuRoom, name: 'Late v1' }));
    const refused = await late.next('error');
    assert.equal(refused['code'], 'room-full');
    assert.match(String(refused['message']), /SFU/);
    for (const c of [capable, v1, a, b, late]) c.ws.close();
  });
});
