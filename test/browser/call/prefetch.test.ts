/**
 * The chunks every mesh call loads by its first frame (the data channel's receiver `peer-receive`, the stats loop
 * `call-stats`, receiver-driven caps `receiver-view`) are fetched during the join, while the camera starts (issue 16:
 * their fetch and compile landed in the offer/answer and the first frames), not at the first connection: `engine.ts`
 * imports them when it is evaluated. A CallController joins a room alone on the real relay; the page's Resource
 * Timing entries must name all three files before any peer exists.
 */
import { expect } from '@open-wc/testing';
import { CallController } from '../../../src/call/call-controller.js';
import { relayUrl, uniqueRoom, waitFor } from '../helpers.js';

const CHUNKS = ['peer-receive', 'call-stats', 'receiver-view'];
/** Which of {@link CHUNKS} this page has fetched so far (Resource Timing). */
const fetched = (): string[] =>
  CHUNKS.filter((name) =>
    performance.getEntriesByType('resource').some((e) => new URL(e.name).pathname.endsWith(`/call/${name}.js`)),
  );

describe('chunks fetched during the join', function () {
  this.timeout(30_000);

  it('peer-receive, call-stats and receiver-view are fetched by the welcome of a visitor alone in the room', async () => {
    expect(fetched(), 'none before the join').to.deep.equal([]);
    const call = new CallController({ requestUpdate: () => undefined, dispatch: () => true });
    try {
      await call.join({ signalUrl: relayUrl(), room: uniqueRoom('prefetch'), name: 'Alone' });
      await waitFor('the welcome', () => call.selfId !== null, 15_000);
      expect(call.peers, 'no peer: nothing connected').to.have.length(0);
      await waitFor(
        `all of ${CHUNKS.join(', ')} fetched (so far: ${fetched().join(', ')})`,
        () => fetched().length === 3,
      );
    } finally {
      call.leave();
    }
  });
});
