/**
 * The caps changes of a 4-peer join (issue 16: each `setParameters` costs a `getParameters`, which in Chromium blocks
 * the main thread on the WebRTC signaling thread while the call is set up). Four CallControllers in one page, the real
 * relay, fake cameras, joining one after the other (each once the room before it is connected, so that the count is
 * exact): when the fourth joins,
 * - its own camera senders get no `setParameters` at all: its offers' `sendEncodings` already count every peer of its
 *   `welcome` (`Roster.meeting`, read through `MeshCall.roster`), where they used to count 1, 2, 3 and be re-capped once answered;
 * - each sender of the three already there gets exactly one: one re-cap per existing connection for the one more
 *   copy, and each answerer's new sender its first caps (`transceivers.ts`, before its answer);
 * and every camera sender ends with the governor's caps for three copies.
 */
import { expect } from '@open-wc/testing';
import { CallController } from '../../../src/call/call-controller.js';
import { cameraCaps, DEFAULT_BUDGET, type EncodingCaps } from '../../../src/negotiation/bandwidth.js';
import { relayUrl, uniqueRoom, waitFor } from '../helpers.js';

/**
 * A small uplink, so that each copy count has its own caps and the 12 encoders of four calls in one page stay light on a
 * loaded machine (CI timed out at load 38 with the default budget's 640×480 copies): one copy 600 kbps (480 px, 30 fps),
 * two 300 (360 px, 24 fps), three 200 (240 px, 15 fps).
 */
const budget = { ...DEFAULT_BUDGET, uplinkKbps: 600 };

describe('caps changes of a 4-peer join', function () {
  this.timeout(170_000);
  /** Every sender a setParameters was called on, with the count. */
  const sets = new Map<RTCRtpSender, number>();
  /** The connections made. */
  const pcs: RTCPeerConnection[] = [];
  const nativeSetParameters = RTCRtpSender.prototype.setParameters;
  /** setParameters calls not yet settled. */
  let inFlight = 0;

  before(() => {
    RTCRtpSender.prototype.setParameters = function (this: RTCRtpSender, ...args) {
      // Every call (only camera senders get caps; an answerer's may have no track yet while replaceTrack runs).
      sets.set(this, (sets.get(this) ?? 0) + 1);
      inFlight++;
      return nativeSetParameters.apply(this, args).finally(() => inFlight--);
    } as typeof nativeSetParameters;
  });
  after(() => {
    RTCRtpSender.prototype.setParameters = nativeSetParameters;
  });

  it("the newcomer's senders need no re-cap; each sender of the others gets exactly one", async () => {
    const room = uniqueRoom('join-caps');
    const calls = [0, 1, 2, 3].map(() => new CallController({ requestUpdate: () => undefined, dispatch: () => true }));
    const camera = (call: CallController, peerId: string): RTCRtpSender | undefined =>
      // The sender of the connection's camera: the one whose parameters getSendParameters reads.
      senders.get(call)?.get(peerId);
    /** Each controller's camera sender per peer, found through the connections' senders. */
    const senders = new Map<CallController, Map<string, RTCRtpSender>>();
    const Native = window.RTCPeerConnection;
    window.RTCPeerConnection = class extends Native {
      constructor(configuration?: RTCConfiguration) {
        super(configuration);
        pcs.push(this);
      }
      // The measured uplink (candidate pair's availableOutgoingBitrate, Chromium only) hidden from the stats loop: the
      // caps it sets as the bandwidth estimate ramps up are not the join's.
      override async getStats(selector?: MediaStreamTrack | null): Promise<RTCStatsReport> {
        const report = await super.getStats(selector);
        const copy = new Map<string, unknown>();
        report.forEach((s: { type: string }, id: string) =>
          copy.set(id, s.type === 'candidate-pair' ? { ...s, availableOutgoingBitrate: undefined } : s),
        );
        return copy as unknown as RTCStatsReport;
      }
    };
    /** Maps each call's peers to their camera senders (each sender's track is that call's camera). */
    const mapSenders = () => {
      for (const call of calls) {
        const track = call.media.track('video');
        const byPeer = senders.get(call) ?? senders.set(call, new Map()).get(call)!;
        for (const peer of call.peers) {
          if (byPeer.has(peer.id)) continue;
          // The connection whose remote tracks are this peer's: its sender of our camera.
          const pc = pcs.find((p) => p.getReceivers().some((r) => peer.stream.getTracks().includes(r.track)));
          const sender = pc?.getSenders().find((s) => s.track === track && track !== null);
          if (sender) byPeer.set(peer.id, sender);
        }
      }
    };
    /** The governor's caps for `copies` copies of a call's camera. */
    const capsFor = (call: CallController, copies: number): EncodingCaps => {
      const { width, height } = call.media.track('video')?.getSettings() ?? {};
      return cameraCaps(copies, { sourceShortSide: width && height ? Math.min(width, height) : undefined }, budget);
    };
    /**
     * Waits until every camera sender of the calls in the room carries the caps for `copies` copies and no
     * setParameters is in flight (on a loaded machine a re-cap lands hundreds of ms after the connection is up: a
     * fixed wait let one of the third join's count as the fourth's).
     */
    const capsOf = async (copies: number) => {
      const inRoom = calls.filter((call) => call.selfId !== null);
      const right = () =>
        inFlight === 0 &&
        inRoom.every((call) =>
          call.peers.every((peer) => {
            const e = call.getSendParameters(peer.id).get('video')?.encodings[0];
            const want = capsFor(call, copies);
            return e?.maxBitrate === want.maxBitrate && (e?.scaleResolutionDownBy ?? 1) === want.scaleResolutionDownBy;
          }),
        );
      await waitFor(`every camera sender capped for ${copies} copies`, right, 20_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await waitFor(`every camera sender still capped for ${copies} copies`, right, 20_000);
    };
    const settled = async (n: number) => {
      for (const call of calls.slice(0, n)) {
        await waitFor(
          `${n - 1} connected peers with video`,
          () =>
            call.peers.length === n - 1 &&
            call.peers.every((p) => p.connection === 'connected' && p.stream.getVideoTracks().length > 0),
          45_000,
        );
      }
      await capsOf(n - 1);
      mapSenders();
    };
    let before = new Map(sets);
    try {
      for (const [i, call] of calls.entries()) {
        before = new Map(sets);
        await call.join({ signalUrl: relayUrl(), room, name: `P${i}`, bandwidth: budget });
        await waitFor('in the room', () => call.selfId !== null, 15_000);
        await settled(i + 1);
      }
      const [a, b, c, d] = calls as [CallController, CallController, CallController, CallController];
      const added = (call: CallController, peerId: string) => {
        const sender = camera(call, peerId);
        expect(sender, `a camera sender towards ${peerId}`).to.not.equal(undefined);
        return (sets.get(sender!) ?? 0) - (before.get(sender!) ?? 0);
      };
      // The newcomer: its three senders were made with the caps for three copies.
      for (const peer of d.peers) expect(added(d, peer.id), `newcomer → ${peer.name}`).to.equal(0);
      // The others: one each, towards the newcomer (answerer's first caps) and towards the others (one more copy).
      for (const call of [a, b, c]) {
        for (const peer of call.peers) expect(added(call, peer.id), `${call.peers.length} → ${peer.name}`).to.equal(1);
      }
      // Every camera sender ends with the caps for three copies.
      for (const call of calls) {
        const three = capsFor(call, 3);
        for (const peer of call.peers) {
          const e = call.getSendParameters(peer.id).get('video')?.encodings[0];
          expect(e?.maxBitrate, `caps towards ${peer.name}`).to.equal(three.maxBitrate);
          expect(e?.scaleResolutionDownBy ?? 1).to.equal(three.scaleResolutionDownBy);
        }
      }
    } finally {
      for (const call of calls) call.leave();
      window.RTCPeerConnection = Native;
    }
  });
});
