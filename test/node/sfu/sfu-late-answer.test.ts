/**
 * A browser's answer to a subscriber offer that comes after the broker stopped waiting (`ANSWER_TIMEOUT_MS`, a page
 * under heavy load), through the broker's unit seam (`server/src/sfu/subscriber.ts`: `syncSubscriber`, `takeAnswer`)
 * with a fake Janus handle and mocked timers: the late answer still reaches Janus as `start` when its offer is the
 * latest (before the fix it was dropped as "answer without an offer in flight", so that page never got the feeds of
 * that renegotiation), and is not used once a newer offer was made.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import type { SfuDelivery } from '../../../src/protocol/sfu.js';
import type { JanusHandle, JanusSession, PluginReply } from '../../../server/src/sfu/janus.js';
import {
  ANSWER_TIMEOUT_MS,
  newMember,
  syncSubscriber,
  takeAnswer,
  type SubscriberContext,
} from '../../../server/src/sfu/subscriber.js';

interface Sent {
  body: Record<string, unknown>;
  jsep?: { type: string; sdp: string } | undefined;
}

/** A subscriber handle that answers every request with an offer (`offer-<n>`) and records what it was sent. */
function fakeJanus(): { ctx: SubscriberContext; sent: Sent[]; delivered: SfuDelivery[]; trickled: unknown[] } {
  const sent: Sent[] = [];
  const delivered: SfuDelivery[] = [];
  const trickled: unknown[] = [];
  let offers = 0;
  const handle = {
    listen: () => undefined,
    message: (body: Record<string, unknown>, jsep?: { type: string; sdp: string }): Promise<PluginReply> => {
      sent.push({ body, jsep });
      if (body['request'] === 'start') return Promise.resolve({ data: { started: 'ok' } } as PluginReply);
      const streams = [{ type: 'video', mid: '0', feed_id: 'b', active: true }];
      offers++;
      const offer = { type: 'offer', sdp: sdp(`offer-${offers}`, offers + 1) };
      return Promise.resolve({ data: { streams }, jsep: offer } as PluginReply);
    },
  } as unknown as JanusHandle;
  const session = { attach: () => Promise.resolve(handle) } as unknown as JanusSession;
  const ctx: SubscriberContext = {
    session: () => Promise.resolve(session),
    send: (_id, data) => (delivered.push(data), true),
    trickle: (_m, _h, candidate) => (trickled.push(candidate), Promise.resolve()),
  };
  return { ctx, sent, delivered, trickled };
}

const room = { id: 'r', pin: 'p' };

/** An SDP named `name` (its `s=` line) with `sections` media sections. */
function sdp(name: string, sections: number): string {
  return [`v=0`, `s=${name}`, ...Array.from({ length: sections }, (_, i) => `m=video ${9 + i} UDP/TLS/RTP/SAVPF 96`)]
    .join('\r\n')
    .concat('\r\n');
}
const nameOf = (text: string | undefined): string | undefined => /s=(\S+)/.exec(text ?? '')?.[1];

/** Lets the fake handle's resolved promises run. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe('a subscriber answer after ANSWER_TIMEOUT_MS (server/src/sfu/subscriber.ts)', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  it('an answer in time starts the subscription (current)', async () => {
    const { ctx, sent, delivered } = fakeJanus();
    const member = newMember('a', 'Ada');
    const synced = syncSubscriber(ctx, room, member, () => new Set(['a', 'b']));
    await settle();
    assert.deepEqual(
      delivered.map((d) => d.op),
      ['offer'],
    );
    assert.equal(await takeAnswer(member, sdp('answer-1', 2)), 'current');
    await synced;
    assert.deepEqual(sent.at(-1), { body: { request: 'start' }, jsep: { type: 'answer', sdp: sdp('answer-1', 2) } });
  });

  it('a late answer to the latest offer is sent to Janus with start, with the candidates held meanwhile', async () => {
    const { ctx, sent, trickled } = fakeJanus();
    const member = newMember('a', 'Ada');
    const synced = syncSubscriber(ctx, room, member, () => new Set(['a', 'b']));
    const failed = assert.rejects(synced, /no answer from the browser within 10000 ms/);
    await settle();
    member.pending.sub.push({ candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host' });
    mock.timers.tick(ANSWER_TIMEOUT_MS);
    await failed; // the error is reported as before (the broker sends it to the participant)
    assert.equal(sent.filter((s) => s.body['request'] === 'start').length, 0);

    assert.equal(await takeAnswer(member, sdp('answer-late', 2)), 'late');
    assert.deepEqual(sent.at(-1), { body: { request: 'start' }, jsep: { type: 'answer', sdp: sdp('answer-late', 2) } });
    assert.equal(trickled.length, 1, 'the candidate held for the subscriber connection went after the start');
    // Used once: a second copy has nothing to answer.
    assert.equal(await takeAnswer(member, sdp('answer-late', 2)), 'none');
    assert.equal(sent.filter((s) => s.body['request'] === 'start').length, 1);
  });

  it('a late answer is not used once a newer offer was made (it answers an older one), before or after its answer', async () => {
    const { ctx, sent, delivered } = fakeJanus();
    const member = newMember('a', 'Ada');
    const first = assert.rejects(syncSubscriber(ctx, room, member, () => new Set(['a', 'b'])));
    await settle();
    mock.timers.tick(ANSWER_TIMEOUT_MS);
    await first;
    // The room changed: a second offer (subscribe c) is in flight.
    const second = syncSubscriber(ctx, room, member, () => new Set(['a', 'b', 'c']));
    await settle();
    assert.deepEqual(
      delivered.map((d) => (d.op === 'offer' ? nameOf(d.sdp) : d.op)),
      ['offer-1', 'offer-2'],
    );
    // The browser answers in order: the late answer to offer 1 crosses offer 2 and must not be taken for its answer.
    assert.equal(await takeAnswer(member, sdp('answer-1-late', 2)), 'stale');
    assert.equal(await takeAnswer(member, sdp('answer-2', 3)), 'current');
    await second;
    assert.equal(await takeAnswer(member, sdp('answer-1-again', 2)), 'none');
    const starts = sent.filter((s) => s.body['request'] === 'start').map((s) => nameOf(s.jsep?.sdp));
    assert.deepEqual(starts, ['answer-2']);
  });

  it('a late answer for a member gone is not sent', async () => {
    const { ctx, sent } = fakeJanus();
    const member = newMember('a', 'Ada');
    const synced = assert.rejects(syncSubscriber(ctx, room, member, () => new Set(['a', 'b'])));
    await settle();
    mock.timers.tick(ANSWER_TIMEOUT_MS);
    await synced;
    member.gone = true;
    await takeAnswer(member, sdp('answer-late', 2));
    assert.equal(sent.filter((s) => s.body['request'] === 'start').length, 0);
  });
});
