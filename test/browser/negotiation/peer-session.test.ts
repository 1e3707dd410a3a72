/**
 * PeerSession with real RTCPeerConnections and an in-memory transport that can lose messages (`pair.ts`), to drive the
 * watchdog, restart and generation paths deterministically. (The relay path is covered by glare.test and the element
 * tests; lost and slow offers by recovery.test.)
 */
import { expect } from '@open-wc/testing';
import type { NegotiationMessage } from '../../../src/protocol/negotiation.js';
import { waitFor, waitForGrowth } from '../helpers.js';
import { frames, pair } from './pair.js';

describe('PeerSession', function () {
  this.timeout(30_000);

  it('connects with one offer from the initiator and none from the other side', async () => {
    const { initiator, answerer, sent, close } = pair({});
    try {
      await waitFor('connected', () => initiator.state === 'connected' && answerer.state === 'connected');
      await waitForGrowth('frames at the answerer', () => frames(answerer));
      await waitForGrowth('frames at the initiator', () => frames(initiator));
      const offers = sent.filter((s) => s.message.description?.type === 'offer');
      expect(offers.map((s) => s.from)).to.deep.equal(['initiator']);
      expect(initiator.remoteTracks.has('video')).to.equal(true);
      expect(initiator.generation).to.equal(0);
    } finally {
      close();
    }
  });

  it('holds candidates that arrive before the offer and applies them after it', async () => {
    let heldOffer: NegotiationMessage | undefined;
    let released = false;
    const { initiator, answerer, sent, close } = pair({
      drop: (message, from) => {
        if (from !== 'initiator' || !message.description || released) return false;
        heldOffer = message; // the offer is overtaken by its own candidates
        return true;
      },
    });
    try {
      await waitFor('candidates sent', () => sent.some((s) => s.message.candidate));
      // Wait until gathering is over, so every candidate of the initiator reaches the answerer before the offer.
      let count = -1;
      await waitFor('gathering to settle', async () => {
        const now = sent.filter((s) => s.from === 'initiator' && s.message.candidate).length;
        const settled = now === count;
        count = now;
        await new Promise((resolve) => setTimeout(resolve, 300));
        return settled;
      });
      released = true;
      const releasedAt = sent.length;
      answerer.receive({ ...(heldOffer as NegotiationMessage) });
      await waitFor('connected', () => initiator.state === 'connected' && answerer.state === 'connected');
      const lateCandidates = sent.slice(releasedAt).filter((s) => s.from === 'initiator' && s.message.candidate);
      expect(lateCandidates.length).to.equal(0, 'every candidate overtook the offer');
      // A host candidate of the far side can only be known from signaling (else it would be peer-reflexive).
      let remoteHost = false;
      (await answerer.getStats())?.forEach((s: Record<string, unknown>) => {
        if (s['type'] === 'remote-candidate' && s['candidateType'] === 'host') remoteHost = true;
      });
      expect(remoteHost).to.equal(true);
    } finally {
      close();
    }
  });

  it('the watchdog recreates a connection whose first offer was lost (new generation)', async () => {
    const { initiator, answerer, close } = pair({
      initiator: { watchdogMs: 1500 },
      answerer: { watchdogMs: 60_000 },
      drop: (message) => message.gen === 0,
    });
    try {
      await waitFor('connected', () => initiator.state === 'connected' && answerer.state === 'connected', 15_000);
      expect(initiator.generation).to.equal(1);
      expect(answerer.generation).to.equal(1);
      await waitForGrowth('frames at the answerer', () => frames(answerer));
    } finally {
      close();
    }
  });

  it('the side that does not offer asks the initiator to restart, and stale messages are ignored', async () => {
    let late: NegotiationMessage[] = [];
    const { initiator, answerer, sent, close } = pair({
      initiator: { watchdogMs: 60_000 },
      answerer: { watchdogMs: 1500 },
      drop: (message, from) => {
        if (from === 'initiator' && message.gen === 0) {
          late.push(message);
          return true;
        }
        return false;
      },
    });
    try {
      await waitFor('connected', () => initiator.state === 'connected' && answerer.state === 'connected', 15_000);
      expect(sent.some((s) => s.from === 'answerer' && s.message.restart)).to.equal(true);
      expect(initiator.generation).to.equal(1);
      // The old generation's offer and candidates arrive late: they must change nothing.
      for (const message of late) answerer.receive({ ...message });
      late = [];
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(answerer.generation).to.equal(1);
      expect(answerer.state).to.equal('connected');
      await waitForGrowth('frames at the answerer', () => frames(answerer));
    } finally {
      close();
    }
  });

  it('reports failed after maxRestarts when the other side never answers', async () => {
    const states: string[] = [];
    const { initiator, close } = pair({
      initiator: { watchdogMs: 300, maxRestarts: 2, onStateChange: (s) => states.push(s) },
      drop: () => true,
    });
    try {
      await waitFor('failed', () => initiator.state === 'failed', 10_000);
      // Two recreations (generations 1 and 2) made no progress; the third watchdog reports failed and starts the
      // first slow retry (generation 3; retryMs is 15 s by default, so no other comes during this test).
      expect(initiator.generation).to.equal(3);
      expect(states).to.deep.equal(['failed']);
    } finally {
      close();
    }
  });

  it('a failed session keeps retrying slowly and connects once the peer is reachable again', async () => {
    let reachable = false;
    const states: string[] = [];
    const { initiator, answerer, close } = pair({
      initiator: { watchdogMs: 300, maxRestarts: 1, retryMs: 700, onStateChange: (s) => states.push(s) },
      answerer: { watchdogMs: 300, maxRestarts: 1, retryMs: 700 },
      drop: () => !reachable,
    });
    try {
      await waitFor('failed', () => initiator.state === 'failed', 10_000);
      const failedAt = initiator.generation;
      await waitFor('a slow retry', () => initiator.generation > failedAt, 5_000);
      expect(initiator.state).to.equal('failed', 'retries do not flip the state back');
      reachable = true;
      await waitFor('connected', () => initiator.state === 'connected' && answerer.state === 'connected', 15_000);
      await waitForGrowth('frames at the answerer', () => frames(answerer));
      expect(states).to.deep.equal(['failed', 'connected']);
    } finally {
      close();
    }
  });
});
