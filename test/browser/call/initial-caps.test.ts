/**
 * The governor's first caps travel with the first description (issue 16, `negotiation/transceivers.ts`): the offerer's
 * camera sender gets them in `addTransceiver`'s `sendEncodings`, the answerer's with one `setParameters` before its
 * answer, so nothing calls `getParameters`/`setParameters` at `stable` while the connection is being set up (in
 * Chromium `getParameters` blocks the main thread on the WebRTC signaling thread). Two CallControllers in one page,
 * the real relay, fake cameras; the caps are read back with `getParameters` on both sides once video decodes.
 */
import { expect } from '@open-wc/testing';
import { CallController } from '../../../src/call/call-controller.js';
import { cameraCaps, DEFAULT_BUDGET } from '../../../src/negotiation/bandwidth.js';
import { inbound, relayUrl, uniqueRoom, waitFor, waitForGrowth } from '../helpers.js';

/** A budget whose caps differ from a browser's defaults (scaled down, 15 fps), so that they cannot match by chance. */
const budget = { ...DEFAULT_BUDGET, uplinkKbps: 200 };

/** What happened to the page's connections and senders, in order. */
type Entry = { what: 'setParameters'; sender: RTCRtpSender } | { what: 'answer' | 'connected'; pc: RTCPeerConnection };

describe('initial encoding caps', function () {
  this.timeout(60_000);
  const log: Entry[] = [];
  const pcs: RTCPeerConnection[] = [];
  const NativePeerConnection = window.RTCPeerConnection;
  const nativeSetParameters = RTCRtpSender.prototype.setParameters;

  before(() => {
    window.RTCPeerConnection = class extends NativePeerConnection {
      constructor(configuration?: RTCConfiguration) {
        super(configuration);
        pcs.push(this);
        this.addEventListener('connectionstatechange', () => {
          if (this.connectionState === 'connected') log.push({ what: 'connected', pc: this });
        });
      }
      override setLocalDescription(description?: RTCLocalSessionDescriptionInit): Promise<void> {
        if (this.signalingState === 'have-remote-offer') log.push({ what: 'answer', pc: this });
        return super.setLocalDescription(description);
      }
    };
    RTCRtpSender.prototype.setParameters = function (this: RTCRtpSender, ...args) {
      log.push({ what: 'setParameters', sender: this });
      return nativeSetParameters.apply(this, args);
    } as typeof nativeSetParameters;
  });
  after(() => {
    window.RTCPeerConnection = NativePeerConnection;
    RTCRtpSender.prototype.setParameters = nativeSetParameters;
  });

  it('are in the offer and set before the answer: read back on both sides, no setParameters at stable', async () => {
    const room = uniqueRoom('initial-caps');
    const calls = [0, 1].map(() => new CallController({ requestUpdate: () => undefined, dispatch: () => true }));
    const [offerer, answerer] = calls as [CallController, CallController];
    try {
      await answerer.join({ signalUrl: relayUrl(), room, name: 'First', bandwidth: budget });
      await waitFor('the first in the room', () => answerer.selfId !== null, 15_000);
      await offerer.join({ signalUrl: relayUrl(), room, name: 'Second', bandwidth: budget }); // the newcomer offers
      for (const call of calls) {
        await waitFor('connected', () => call.peers[0]?.connection === 'connected', 20_000);
        const peer = call.peers[0]!.id;
        await waitForGrowth(`frames from ${peer}`, async () => inbound(await call.getStats(peer)).framesDecoded);
      }
      const [pcA, pcB] = [pcs[0], pcs[1]] as [RTCPeerConnection, RTCPeerConnection];
      const offererPc = pcs.find((pc) => !log.some((e) => e.what === 'answer' && e.pc === pc));
      const answererPc = pcA === offererPc ? pcB : pcA;
      expect(offererPc, 'one connection made the offer').to.not.equal(undefined);
      const camera = (pc: RTCPeerConnection) => pc.getSenders().find((s) => s.track?.kind === 'video')!;
      const index = (what: Entry['what'], pc: RTCPeerConnection) =>
        log.findIndex((e) => e.what === what && 'pc' in e && e.pc === pc);
      const setsOf = (pc: RTCPeerConnection, before: number) =>
        log.slice(0, before).flatMap((e, i) => (e.what === 'setParameters' && e.sender === camera(pc) ? [i] : []));

      // The offerer's camera: not one setParameters until connected (the caps came with addTransceiver).
      expect(
        setsOf(offererPc!, index('connected', offererPc!)),
        'offerer setParameters before connected',
      ).to.deep.equal([]);
      // The answerer's camera: one setParameters, before its answer, and none after it until connected.
      const answered = index('answer', answererPc);
      expect(answered).to.be.greaterThan(-1);
      const sets = setsOf(answererPc, index('connected', answererPc));
      expect(sets.length, 'answerer setParameters before connected').to.equal(1);
      expect(sets[0], 'set before the answer').to.be.lessThan(answered);

      // Read back on both sides: the governor's caps for one copy (the measured link may lower the bitrate for a
      // moment while the bandwidth estimate ramps up, hence the wait).
      for (const [call, pc] of [
        [offerer, offererPc!],
        [answerer, answererPc],
      ] as const) {
        const { width, height } = call.media.track('video')?.getSettings() ?? {};
        const caps = cameraCaps(1, { sourceShortSide: width && height ? Math.min(width, height) : undefined }, budget);
        expect(caps.scaleResolutionDownBy, 'the caps scale the camera down').to.be.greaterThan(1);
        await waitFor(
          'caps read back',
          () => {
            const e = camera(pc).getParameters().encodings[0];
            return (
              e?.maxBitrate === caps.maxBitrate &&
              e.maxFramerate === caps.maxFramerate &&
              e.scaleResolutionDownBy === caps.scaleResolutionDownBy &&
              e.active !== false
            );
          },
          10_000,
        );
      }
    } finally {
      for (const call of calls) call.leave();
    }
  });
});
