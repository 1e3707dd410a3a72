/**
 * The session's negotiated data channel (`session-channel.ts`): not in the first offer (audio and video only), added by
 * the initiator once connected (a renegotiation), text held until it opens; interop with the previous version,
 * which creates the channel with each connection (`channelFirst`: in the initiator's first offer, or offered at once by
 * the answerer); a new generation adds it again.
 */
import { expect } from '@open-wc/testing';
import type { PeerSessionOptions } from '../../../src/negotiation/peer-session.js';
import { waitFor, waitForGrowth } from '../helpers.js';
import { frames, pair, type Pair, type Side } from './pair.js';

const APPLICATION = /^m=application/m;

/** A pair whose sides record the text they receive; each side sends one text before anything is connected. */
function talkingPair(options: {
  initiator?: Partial<PeerSessionOptions>;
  answerer?: Partial<PeerSessionOptions>;
  drop?: Parameters<typeof pair>[0]['drop'];
}): Pair & { heard: Record<Side, string[]>; connectedAt: number[] } {
  const heard: Record<Side, string[]> = { initiator: [], answerer: [] };
  const connectedAt: number[] = [];
  const p = pair({
    ...options,
    initiator: {
      ...options.initiator,
      onChannelText: (text) => void heard.initiator.push(text),
      onStateChange: (state) => state === 'connected' && void connectedAt.push(p.sent.length),
    },
    answerer: { ...options.answerer, onChannelText: (text) => void heard.answerer.push(text) },
  });
  p.initiator.sendChannelText('hello from the initiator');
  p.answerer.sendChannelText('hello from the answerer');
  return { ...p, heard, connectedAt };
}

/** The offers sent, in order: who sent each and whether it brings the data channel's section. */
const offers = (p: Pair): Array<[Side, boolean]> =>
  p.sent
    .filter((s) => s.message.description?.type === 'offer')
    .map((s) => [s.from, APPLICATION.test(s.message.description?.sdp ?? '')]);

async function bothHeard(p: ReturnType<typeof talkingPair>): Promise<void> {
  await waitFor('text both ways', () => p.heard.initiator.length > 0 && p.heard.answerer.length > 0, 15_000);
  expect(p.heard.initiator).to.deep.equal(['hello from the answerer']);
  expect(p.heard.answerer).to.deep.equal(['hello from the initiator']);
}

describe('PeerSession data channel', function () {
  this.timeout(30_000);

  it('the first offer carries audio and video only; the initiator adds the channel once connected; text held until then', async () => {
    const p = talkingPair({});
    try {
      await waitFor('connected', () => p.initiator.state === 'connected' && p.answerer.state === 'connected');
      await waitForGrowth('frames at the answerer', () => frames(p.answerer));
      await bothHeard(p);
      expect(offers(p)).to.deep.equal([
        ['initiator', false],
        ['initiator', true],
      ]);
      const first = p.sent.find((s) => s.message.description?.type === 'offer');
      expect(first?.message.description?.sdp)
        .to.match(/^m=audio/m)
        .and.match(/^m=video/m);
      // The channel's offer went out after the connection was up.
      const channelOffer = p.sent.findIndex((s) => APPLICATION.test(s.message.description?.sdp ?? ''));
      expect(channelOffer).to.be.at.least(p.connectedAt[0] ?? Infinity);
      await waitFor('direct', () => p.initiator.direct && p.answerer.direct);
      expect(p.warnings).to.deep.equal([]);
    } finally {
      p.close();
    }
  });

  it('interop: an initiator of the previous version (channel in its first offer)', async () => {
    const p = talkingPair({ initiator: { channelFirst: true } });
    try {
      await waitFor('connected', () => p.initiator.state === 'connected' && p.answerer.state === 'connected');
      await bothHeard(p);
      expect(offers(p)).to.deep.equal([['initiator', true]]);
      await waitForGrowth('frames at the answerer', () => frames(p.answerer));
      expect(p.warnings).to.deep.equal([]);
    } finally {
      p.close();
    }
  });

  it('interop: an answerer of the previous version (creates the channel up front, so offers it)', async () => {
    const p = talkingPair({ answerer: { channelFirst: true } });
    try {
      await waitFor('connected', () => p.initiator.state === 'connected' && p.answerer.state === 'connected');
      await bothHeard(p);
      const made = offers(p);
      expect(made[0]).to.deep.equal(['initiator', false]);
      expect(made.some(([, application]) => application)).to.equal(true);
      await waitForGrowth('frames at the initiator', () => frames(p.initiator));
      await waitFor('direct', () => p.initiator.direct && p.answerer.direct);
      expect(p.warnings).to.deep.equal([]);
    } finally {
      p.close();
    }
  });

  it('a new generation adds the channel again', async () => {
    const p = talkingPair({
      initiator: { watchdogMs: 1500 },
      answerer: { watchdogMs: 60_000 },
      drop: (message) => message.gen === 0,
    });
    try {
      await waitFor('connected', () => p.initiator.state === 'connected' && p.answerer.state === 'connected', 15_000);
      expect(p.initiator.generation).to.equal(1);
      await bothHeard(p);
      const gen1 = p.sent.filter((s) => s.message.gen === 1 && s.message.description?.type === 'offer');
      expect(gen1.map((s) => APPLICATION.test(s.message.description?.sdp ?? ''))).to.deep.equal([false, true]);
    } finally {
      p.close();
    }
  });
});
