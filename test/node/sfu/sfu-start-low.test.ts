/**
 * A new subscription starts on the lowest simulcast layer (issue 12, the mesh→SFU switch started small): the broker's
 * subscriber `join` and each later `subscribe` name `substream` 0 (`START_SUBSTREAM`) for every feed they add, so Janus
 * VideoRoom starts each new decoder on the smallest picture; `unsubscribe` carries none. Through the broker's unit
 * seam (`server/src/sfu/subscriber.ts` `syncSubscriber`) with a fake Janus handle that records what it is sent.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JanusHandle, JanusSession, PluginReply } from '../../../server/src/sfu/janus.js';
import { START_SUBSTREAM } from '../../../server/src/sfu/layers.js';
import { newMember, syncSubscriber, type SubscriberContext } from '../../../server/src/sfu/subscriber.js';

/** A subscriber handle whose every reply is an offer; each offer is answered at once. */
function fakeJanus(): {
  ctx: SubscriberContext;
  sent: Record<string, unknown>[];
  member: ReturnType<typeof newMember>;
} {
  const sent: Record<string, unknown>[] = [];
  const member = newMember('a', 'Ada');
  const handle = {
    listen: () => undefined,
    message: (body: Record<string, unknown>): Promise<PluginReply> => {
      sent.push(body);
      if (body['request'] === 'start') return Promise.resolve({ data: { started: 'ok' } } as PluginReply);
      const offer = { type: 'offer', sdp: 'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n' };
      return Promise.resolve({ data: { streams: [] }, jsep: offer } as PluginReply);
    },
  } as unknown as JanusHandle;
  const session = { attach: () => Promise.resolve(handle) } as unknown as JanusSession;
  const ctx: SubscriberContext = {
    session: () => Promise.resolve(session),
    // The browser answers each offer as soon as it is delivered.
    send: (_id, data) => (
      data.op === 'offer' && queueMicrotask(() => member.answer?.('v=0\r\nm=video 9 x 96\r\n')),
      true
    ),
    trickle: () => Promise.resolve(),
  };
  return { ctx, sent, member };
}

const room = { id: 'r', pin: 'p' };

describe('a new subscription starts on the lowest simulcast layer (server/src/sfu/subscriber.ts)', () => {
  it('join and subscribe name substream 0 for each feed they add; unsubscribe names none', async () => {
    assert.equal(START_SUBSTREAM, 0);
    const { ctx, sent, member } = fakeJanus();
    await syncSubscriber(ctx, room, member, () => new Set(['a', 'b', 'c']));
    const join = sent.find((b) => b['request'] === 'join');
    assert.deepEqual(join?.['streams'], [
      { feed: 'b', substream: 0 },
      { feed: 'c', substream: 0 },
    ]);
    await syncSubscriber(ctx, room, member, () => new Set(['a', 'b', 'c', 'd']));
    assert.deepEqual(sent.find((b) => b['request'] === 'subscribe')?.['streams'], [{ feed: 'd', substream: 0 }]);
    await syncSubscriber(ctx, room, member, () => new Set(['a', 'c', 'd']));
    assert.deepEqual(sent.find((b) => b['request'] === 'unsubscribe')?.['streams'], [{ feed: 'b' }]);
    assert.deepEqual([...member.subFeeds].sort(), ['c', 'd']);
  });
});
