/**
 * The setup hold (`src/negotiation/session-caps.ts`, issue 16): a caps change of a connected session waits while
 * another session of the page is still being set up, and is applied (read back with `getParameters`) once that one
 * is connected. Two pairs of real PeerSessions in one page (`pair.ts`): the second pair's first offer is held back so
 * that it is still setting up when the first pair's caps change.
 */
import { expect } from '@open-wc/testing';
import type { EncodingCaps } from '../../../src/negotiation/bandwidth.js';
import type { PeerSession } from '../../../src/negotiation/peer-session.js';
import { holding } from '../../../src/negotiation/session-caps.js';
import type { NegotiationMessage } from '../../../src/protocol/negotiation.js';
import { waitFor, waitForGrowth } from '../helpers.js';
import { frames, pair } from './pair.js';

/** The first encoding of `session`'s camera sender, as the browser reports it. */
const camera = (session: PeerSession): RTCRtpEncodingParameters | undefined =>
  session.sendParameters().get('video')?.encodings[0];

describe('setup hold of the caps', function () {
  this.timeout(40_000);

  it('a caps change waits while another connection sets up, and is applied once it is connected', async () => {
    let caps: EncodingCaps = { maxBitrate: 300_000, scaleResolutionDownBy: 1, maxFramerate: 24 };
    const a = pair({ initiator: { encodingCaps: (kind) => (kind === 'video' ? caps : undefined) } });
    let offer: NegotiationMessage | undefined;
    const b = pair({
      drop: (message, from) => {
        if (from !== 'initiator' || message.description?.type !== 'offer' || offer) return false;
        offer = message; // held back: the second pair stays in setup until it is delivered
        return true;
      },
    });
    try {
      await waitFor(
        'first pair connected',
        () => a.initiator.state === 'connected' && a.answerer.state === 'connected',
      );
      await waitForGrowth('frames at the first answerer', () => frames(a.answerer));
      await waitFor('first caps read back', () => camera(a.initiator)?.maxBitrate === 300_000);
      await waitFor('second offer made', () => offer !== undefined);
      expect(holding(), 'the second pair is setting up').to.equal(true);

      caps = { maxBitrate: 150_000, scaleResolutionDownBy: 2, maxFramerate: 12 };
      await a.initiator.applyEncodingCaps();
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(camera(a.initiator)?.maxBitrate, 'held while the second pair sets up').to.equal(300_000);
      expect(camera(a.initiator)?.scaleResolutionDownBy ?? 1).to.equal(1);

      b.answerer.receive({ ...offer! });
      await waitFor('second pair connected', () => b.initiator.state === 'connected');
      await waitFor('the held caps applied', () => camera(a.initiator)?.maxBitrate === 150_000, 10_000);
      const e = camera(a.initiator)!;
      expect([e.scaleResolutionDownBy, e.maxFramerate]).to.deep.equal([2, 12]);
      expect(a.warnings, 'no encoding-failed').to.deep.equal([]);
      await waitForGrowth('frames still at the first answerer', () => frames(a.answerer));
    } finally {
      a.close();
      b.close();
    }
  });
});
