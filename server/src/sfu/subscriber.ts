/**
 * One participant's subscriber side of the broker (`broker.ts`): its subscriber handle brought to "every published
 * feed but my own" (VideoRoom `join` as subscriber with `streams`, then `subscribe` / `unsubscribe`), each change one
 * offer from Janus forwarded to the browser, whose answer goes back with `start`
 * (https://janus.conf.meetecho.com/docs/videoroom.html, multistream API of Janus 1.x). Each feed added starts on the
 * lowest simulcast layer (`substream` {@link START_SUBSTREAM}, `layers.ts`): the receiver raises each tile to the layer
 * it needs. Also the broker's record of a participant ({@link Member}).
 *
 * @module
 */
import type { SfuCandidate, SfuDelivery } from '../../../src/protocol/sfu.js';
import type { Logger } from '../log.js';
import { JanusError, type JanusHandle, type JanusSession, type PluginReply } from './janus.js';
import { streamsOf, VIDEOROOM, type JanusRoom } from './janus-rooms.js';
import { layerEvent, START_SUBSTREAM } from './layers.js';

/** How long the broker waits for a browser's answer to a subscriber offer, in ms, before reporting an error. */
export const ANSWER_TIMEOUT_MS = 10_000;

/** VideoRoom's error code for a feed the subscription does not carry (any more). */
const NO_SUCH_FEED = 428;

/** The broker's record of one participant it serves. */
export interface Member {
  readonly id: string;
  readonly name: string;
  /** Its entry into the Janus room ({@link SfuBroker.enter}); never rejects. */
  entered: Promise<void> | undefined;
  session: Promise<JanusSession> | undefined;
  pub: JanusHandle | undefined;
  /** Joined the Janus room as a publisher (a later publish only reconfigures). */
  joined: boolean;
  /** Janus answered its publish offer: its candidates go straight to Janus. */
  configured: boolean;
  /** Its published media is up (`webrtcup`): the others subscribe to it. */
  published: boolean;
  /** When (ms, `Date.now()`) it entered or its publish offer came, while its media is not up yet (`gather.ts`). */
  publishing: number | undefined;
  sub: JanusHandle | undefined;
  /** The feeds its subscriber handle carries now. */
  subFeeds: Set<string>;
  /** Candidates received before the handle they belong to was ready. */
  pending: { pub: (SfuCandidate | null)[]; sub: (SfuCandidate | null)[] };
  /** Subscriber negotiations, one after the other. */
  chain: Promise<void>;
  /** Resolves the subscriber offer in flight with the browser's answer. */
  answer: ((sdp: string) => void) | undefined;
  /** The number of media sections (`m=` lines) of the latest subscriber offer: its answer has as many (RFC 8829 §5.3.1). */
  sections: number;
  /**
   * Starts the subscription with a late answer: set when the latest subscriber offer's wait ran out
   * ({@link ANSWER_TIMEOUT_MS}), cleared by the next offer (the late answer is then for an older one).
   */
  late: ((sdp: string) => Promise<void>) | undefined;
  gone: boolean;
}

/** A participant's record before it entered the Janus room. */
export function newMember(id: string, name: string): Member {
  return {
    id,
    name,
    entered: undefined,
    session: undefined,
    pub: undefined,
    joined: false,
    configured: false,
    published: false,
    publishing: undefined,
    sub: undefined,
    subFeeds: new Set(),
    pending: { pub: [], sub: [] },
    chain: Promise.resolve(),
    answer: undefined,
    sections: 0,
    late: undefined,
    gone: false,
  };
}

/** What the subscriber side needs from the broker. */
export interface SubscriberContext {
  /** The participant's Janus session (made on first use). */
  session(member: Member): Promise<JanusSession>;
  /** Sends an SFU message to a participant. */
  send(id: string, data: SfuDelivery): boolean;
  /** Hands a browser's candidate to Janus (failures logged, never thrown). */
  trickle(member: Member, handle: JanusHandle, candidate: SfuCandidate | null): Promise<void>;
}

/**
 * Brings one participant's subscriber handle to every published feed but its own, one change per offer (at most 8
 * changes per call: the feeds are read again after each).
 * @param feeds the room's published feeds now.
 * @throws JanusError or Error when Janus or the browser fails; the caller reports it.
 */
export async function syncSubscriber(
  ctx: SubscriberContext,
  room: Pick<JanusRoom, 'id' | 'pin'>,
  member: Member,
  feeds: () => Set<string>,
): Promise<void> {
  for (let step = 0; step < 8 && !member.gone; step++) {
    const wanted = feeds();
    wanted.delete(member.id);
    let reply: PluginReply;
    if (!member.sub) {
      if (wanted.size === 0) return;
      const session = await ctx.session(member);
      const sub = await session.attach(VIDEOROOM);
      member.sub = sub;
      sub.listen((event) => {
        const layer = layerEvent(event); // Janus switched a simulcast layer (layers.ts)
        if (layer && !member.gone) ctx.send(member.id, layer);
        // An offer nobody asked for (Janus renegotiates by itself, e.g. when a publisher goes): answer it too.
        if (event.jsep?.type === 'offer') {
          member.chain = member.chain.then(() => negotiate(ctx, member, event).catch(() => undefined));
        }
      });
      reply = await sub.message({
        request: 'join',
        ptype: 'subscriber',
        room: room.id,
        pin: room.pin,
        streams: [...wanted].map((feed) => ({ feed, substream: START_SUBSTREAM })),
      });
      member.subFeeds = wanted;
    } else {
      const added = [...wanted].filter((f) => !member.subFeeds.has(f));
      const removed = [...member.subFeeds].filter((f) => !wanted.has(f));
      if (added.length === 0 && removed.length === 0) return;
      try {
        reply =
          added.length > 0
            ? await member.sub.message({
                request: 'subscribe',
                streams: added.map((feed) => ({ feed, substream: START_SUBSTREAM })),
              })
            : await member.sub.message({ request: 'unsubscribe', streams: removed.map((feed) => ({ feed })) });
      } catch (error) {
        // A feed that went away between the decision and the request: Janus dropped it already.
        if (error instanceof JanusError && error.code === NO_SUCH_FEED && added.length === 0) {
          for (const feed of removed) member.subFeeds.delete(feed);
          continue;
        }
        throw error;
      }
      for (const feed of added) member.subFeeds.add(feed);
      for (const feed of removed) member.subFeeds.delete(feed);
    }
    if (reply.jsep) await negotiate(ctx, member, reply);
  }
}

/**
 * What a browser's `answer` to a subscriber offer does ({@link takeAnswer}): `current` answers the offer in flight,
 * `late` started the subscription of the latest offer after its wait ran out, `stale` answers an older offer (not as
 * many media sections as the latest: a late answer that crossed a newer offer), `none` had no offer to answer.
 */
export type AnswerUse = 'current' | 'late' | 'stale' | 'none';

/** The number of media sections of an SDP (its `m=` lines). */
const sectionsOf = (sdp: string): number => sdp.split(/\r?\n/).filter((line) => line.startsWith('m=')).length;

/**
 * Hands a browser's subscriber answer to the offer it answers: the one in flight, or else the latest offer whose wait
 * ran out ({@link ANSWER_TIMEOUT_MS}; a browser under heavy load answered after it), which then gets its `start` so
 * that Janus forwards the feeds of that renegotiation. An answer after a newer offer was made is not used.
 * @param log where what was not used is logged (debug) and a late start (info).
 * @returns how it was used; for `late`, once Janus took the `start` (rejects with JanusError if it refused).
 */
export async function takeAnswer(member: Member, sdp: string, log?: Logger): Promise<AnswerUse> {
  if ((member.answer || member.late) && sectionsOf(sdp) !== member.sections) {
    log?.debug({ id: member.id }, 'sfu: answer to an older offer: ignored');
    return 'stale';
  }
  if (member.answer) {
    member.answer(sdp);
    return 'current';
  }
  const late = member.late;
  if (!late) {
    log?.debug({ id: member.id }, 'sfu: answer without an offer in flight: ignored');
    return 'none';
  }
  member.late = undefined;
  await late(sdp);
  log?.info({ id: member.id }, 'sfu: late subscriber answer started');
  return 'late';
}

/** Forwards a subscriber offer to the browser and its answer to Janus (`start`). */
async function negotiate(ctx: SubscriberContext, member: Member, reply: PluginReply): Promise<void> {
  const sub = member.sub;
  if (!sub || !reply.jsep || member.gone) return;
  const streams = streamsOf(reply.data);
  member.late = undefined; // a late answer from now on would be for an older offer
  member.sections = sectionsOf(reply.jsep.sdp);
  const start = async (sdp: string): Promise<void> => {
    await sub.message({ request: 'start' }, { type: 'answer', sdp });
    for (const candidate of member.pending.sub.splice(0)) await ctx.trickle(member, sub, candidate);
  };
  const answer = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      member.answer = undefined;
      member.late = (sdp) => (member.gone || member.sub !== sub ? Promise.resolve() : start(sdp));
      reject(new JanusError(0, `no answer from the browser within ${ANSWER_TIMEOUT_MS} ms`));
    }, ANSWER_TIMEOUT_MS);
    member.answer = (sdp) => {
      clearTimeout(timer);
      member.answer = undefined;
      resolve(sdp);
    };
  });
  ctx.send(member.id, { op: 'offer', sdp: reply.jsep.sdp, streams });
  await start(await answer);
}
