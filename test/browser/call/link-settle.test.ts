/**
 * The measured uplink settles before it caps (issue 16, `call/mesh-peer.ts` `LINK_SETTLE_MS`): a connection's
 * `availableOutgoingBitrate` right after it is `connected` is the bandwidth estimator's ramp-up, not the link, so it is
 * left out of that connection's caps for `LINK_SETTLE_MS`; then the caps follow it. Two CallControllers in one page,
 * the real relay, fake cameras; every connection's stats report a thin link (a candidate pair whose
 * `availableOutgoingBitrate` is 400 kbps, and in Firefox, which reports no transport, a transport selecting it):
 * - no camera sender is capped to the link's figure earlier than `LINK_SETTLE_MS` after its connection was first
 *   `connected` (before the change: at the stats loop's second full round, about 2 s after);
 * - after it, both camera senders are (read back with `getParameters`), though the measure never changes (nothing but
 *   the settling re-applies the caps then).
 */
import { expect } from '@open-wc/testing';
import { CallController } from '../../../src/call/call-controller.js';
import { AUDIO_KBPS } from '../../../src/call/call-stats.js';
import { LINK_SETTLE_MS } from '../../../src/call/mesh-peer.js';
import { cameraCaps, DEFAULT_BUDGET } from '../../../src/negotiation/bandwidth.js';
import { relayUrl, uniqueRoom, waitFor } from '../helpers.js';

/** The thin link every connection reports, bps (video gets this less audio's `AUDIO_KBPS`). */
const LINK_BPS = 400_000;

describe('the measured uplink after a connection comes up', function () {
  this.timeout(60_000);
  /** When each connection was first `connected` (performance.now() ms). */
  const connectedAt = new Map<RTCPeerConnection, number>();
  /** Every camera setParameters: its sender, the maxBitrate it sets, when. */
  const sets: { sender: RTCRtpSender; maxBitrate: number | undefined; at: number }[] = [];
  const pcs: RTCPeerConnection[] = [];
  const NativePeerConnection = window.RTCPeerConnection;
  const nativeSetParameters = RTCRtpSender.prototype.setParameters;

  before(() => {
    window.RTCPeerConnection = class extends NativePeerConnection {
      constructor(configuration?: RTCConfiguration) {
        super(configuration);
        pcs.push(this);
        this.addEventListener('connectionstatechange', () => {
          if (this.connectionState === 'connected' && !connectedAt.has(this)) connectedAt.set(this, performance.now());
        });
      }
      override async getStats(selector?: MediaStreamTrack | null): Promise<RTCStatsReport> {
        const report = await super.getStats(selector);
        const copy = new Map<string, unknown>();
        let pair: string | undefined;
        let transport = false;
        report.forEach((s: { type: string; state?: string; nominated?: boolean }, id: string) => {
          if (s.type === 'candidate-pair' && s.state === 'succeeded' && (s.nominated ?? true)) pair ??= id;
          if (s.type === 'transport') transport = true;
          copy.set(id, s.type === 'candidate-pair' ? { ...s, availableOutgoingBitrate: LINK_BPS } : s);
        });
        if (pair) {
          if (!transport) copy.set('fake-transport', { type: 'transport', id: 'fake-transport' });
          copy.forEach((s, id) => {
            if ((s as { type: string }).type === 'transport')
              copy.set(id, { ...(s as object), selectedCandidatePairId: pair });
          });
        }
        return copy as unknown as RTCStatsReport;
      }
    };
    RTCRtpSender.prototype.setParameters = function (this: RTCRtpSender, ...args) {
      sets.push({ sender: this, maxBitrate: args[0]?.encodings?.[0]?.maxBitrate, at: performance.now() });
      return nativeSetParameters.apply(this, args);
    } as typeof nativeSetParameters;
  });
  after(() => {
    window.RTCPeerConnection = NativePeerConnection;
    RTCRtpSender.prototype.setParameters = nativeSetParameters;
  });

  it(`caps no sender to it before ${LINK_SETTLE_MS} ms after connected, and every sender after`, async () => {
    const room = uniqueRoom('link-settle');
    const calls = [0, 1].map(() => new CallController({ requestUpdate: () => undefined, dispatch: () => true }));
    try {
      for (const [i, call] of calls.entries()) {
        await call.join({ signalUrl: relayUrl(), room, name: `P${i}` });
        await waitFor('in the room', () => call.selfId !== null, 15_000);
      }
      const camera = (pc: RTCPeerConnection) => pc.getSenders().find((s) => s.track?.kind === 'video');
      const linked = (call: CallController) => {
        const { width, height } = call.media.track('video')?.getSettings() ?? {};
        const sourceShortSide = width && height ? Math.min(width, height) : undefined;
        const link = cameraCaps(1, { sourceShortSide, linkKbps: LINK_BPS / 1000 - AUDIO_KBPS }, DEFAULT_BUDGET);
        expect(link.maxBitrate, 'the link caps below the budget').to.be.lessThan(
          cameraCaps(1, { sourceShortSide }, DEFAULT_BUDGET).maxBitrate,
        );
        return link.maxBitrate;
      };
      const expected = linked(calls[0]!);
      // Both senders end capped to the link (the measure is the same on every poll: only the settling applies it).
      await waitFor(
        'both camera senders capped to the measured link',
        () => pcs.length === 2 && pcs.every((pc) => camera(pc)?.getParameters().encodings[0]?.maxBitrate === expected),
        LINK_SETTLE_MS + 15_000,
      );
      for (const pc of pcs) {
        const first = sets.find((s) => s.sender === camera(pc) && s.maxBitrate === expected);
        expect(first, 'a setParameters to the link').to.not.equal(undefined);
        const since = first!.at - connectedAt.get(pc)!;
        expect(since, 'ms from connected to the first cap to the link').to.be.at.least(LINK_SETTLE_MS);
      }
    } finally {
      for (const call of calls) call.leave();
    }
  });
});
