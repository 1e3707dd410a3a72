/**
 * The start caps (issue 16, `negotiation/bandwidth.ts` `START_LINK_KBPS`): until a link is measured, each camera copy
 * is capped as if the link carried what congestion control starts at (200 kbps of video: 240 px at 15 fps); the stats loop
 * raises it once it has a measure it follows (Chromium: the link's second `availableOutgoingBitrate`; Firefox, which
 * reports none: its first reading, the budget alone). Two CallControllers in one page, the real relay, fake cameras,
 * the default budget: both senders start small, then the pictures each side decodes grow past 240 px.
 */
import { expect } from '@open-wc/testing';
import { CallController } from '../../../src/call/call-controller.js';
import { START_FPS, START_LINK_KBPS } from '../../../src/negotiation/bandwidth.js';
import { relayUrl, uniqueRoom, waitFor } from '../helpers.js';

/** The height of the video each side decodes from the other (`inbound-rtp.frameHeight`), 0 before a frame. */
async function decodedHeight(call: CallController): Promise<number> {
  let height = 0;
  (await call.getStats(call.peers[0]?.id ?? ''))?.forEach((s: Record<string, unknown>) => {
    if (s['type'] === 'inbound-rtp' && s['kind'] === 'video') height = Math.max(height, Number(s['frameHeight'] ?? 0));
  });
  return height;
}

describe('start caps', function () {
  this.timeout(60_000);
  /** Each connection's camera encoding as it was at `connected`, by the camera track it sends. */
  const atConnected = new Map<MediaStreamTrack, RTCRtpEncodingParameters | undefined>();
  const NativePeerConnection = window.RTCPeerConnection;

  before(() => {
    window.RTCPeerConnection = class extends NativePeerConnection {
      constructor(configuration?: RTCConfiguration) {
        super(configuration);
        this.addEventListener('connectionstatechange', () => {
          const camera = this.getSenders().find((s) => s.track?.kind === 'video');
          if (this.connectionState !== 'connected' || !camera?.track || atConnected.has(camera.track)) return;
          atConnected.set(camera.track, camera.getParameters().encodings[0]);
        });
      }
    };
  });
  after(() => {
    window.RTCPeerConnection = NativePeerConnection;
  });

  it('each copy starts at 200 kbps, 240 px and 15 fps, and is raised once its link is measured', async () => {
    const room = uniqueRoom('start-caps');
    const calls = [0, 1].map(() => new CallController({ requestUpdate: () => undefined, dispatch: () => true }));
    try {
      await calls[0]!.join({ signalUrl: relayUrl(), room, name: 'First' });
      await waitFor('the first in the room', () => calls[0]!.selfId !== null, 15_000);
      await calls[1]!.join({ signalUrl: relayUrl(), room, name: 'Second' });
      for (const call of calls) await waitFor('connected', () => call.peers[0]?.connection === 'connected', 20_000);
      await waitFor('both connections connected', () => atConnected.size === 2, 5_000);

      // At `connected`, before the stats loop's first poll: the start caps on both sides (the offerer's came with
      // its first offer, the answerer's before its answer).
      expect(START_LINK_KBPS).to.be.within(200, 299); // the 200 kbps step of LINK_STEPS
      for (const call of calls) {
        const camera = call.media.track('video');
        const encoding = camera ? atConnected.get(camera) : undefined;
        const { width = 0, height = 0 } = camera?.getSettings() ?? {};
        expect(Math.min(width, height), 'a camera larger than the start caps').to.be.greaterThan(240);
        expect(encoding?.maxBitrate, 'start bitrate').to.equal(200_000);
        expect(encoding?.maxFramerate, 'start frame rate').to.equal(START_FPS);
        expect(encoding?.scaleResolutionDownBy, 'start picture: 240 px').to.be.closeTo(
          Math.min(width, height) / 240,
          0.01,
        );
      }

      // Then raised: each side comes to decode a picture taller than 240 px (bounded wait).
      for (const call of calls) {
        let last = 0;
        await waitFor(
          'a picture taller than the start caps',
          async () => (last = await decodedHeight(call)) > 240,
          20_000,
        ).catch((error: unknown) => {
          throw new Error(`still ${last} px high: ${String(error)}`);
        });
      }
    } finally {
      for (const call of calls) call.leave();
    }
  });
});
