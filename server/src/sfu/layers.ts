/**
 * Simulcast layers on the subscriber side (issue 12): a participant's `layer` request (`src/protocol/sfu.ts`) becomes
 * a Janus VideoRoom subscriber `configure` on that participant's own subscriber handle
 * (`{ request: "configure", streams: [{ mid, substream }] }`, https://janus.conf.meetecho.com/docs/videoroom.html,
 * multistream API of Janus 1.x), and Janus's asynchronous `substream` event on that handle (the switch happened, or
 * Janus fell back to a lower layer) goes back to the participant as a `layer` delivery.
 *
 * A request only ever touches the sender's own subscription (the handle is looked up by the relay from the sender's
 * relay ID, never named by the client), so it cannot reach another participant or room. Failures (no subscription
 * yet, Janus refusing) are an SFU `error` to the sender, never a throw.
 *
 * The hooks in `broker.ts`: its request switch calls {@link requestLayer}; its subscriber handle's listener calls
 * {@link layerEvent} first.
 *
 * @module
 */
import type { SfuDelivery, SfuSubstream } from '../../../src/protocol/sfu.js';
import type { Logger } from '../log.js';
import type { JanusHandle, PluginReply } from './janus.js';

/**
 * The simulcast layer every new subscription starts on (the `substream` of each stream in VideoRoom's subscriber `join`
 * and `subscribe`; Janus 1.x applies it to the video streams of the feed): the lowest. A mesh→SFU switch then starts
 * one decoder per feed at the smallest picture (or at the lowest layer the publisher sends: Janus forwards the first key
 * frame of any layer and moves down towards the target), and the receiver asks for each tile's layer once its publisher
 * announced its layers (`src/call/sfu-layers.ts`); Janus confirms the starting layer with its `substream` event.
 */
export const START_SUBSTREAM: SfuSubstream = 0;

/** What a layer request needs from the broker's record of the participant. */
export interface LayerMember {
  readonly id: string;
  /** Its subscriber handle, once it subscribes to anyone. */
  readonly sub: Pick<JanusHandle, 'message'> | undefined;
  /** Set once the participant left: nothing more is sent to it. */
  readonly gone: boolean;
}

/**
 * Asks Janus to forward `substream` on `mid` of `member`'s subscription. Never throws: a failure is an SFU `error`
 * (`send`) and a log line.
 * @param send sends an SFU message to the member.
 */
export async function requestLayer(
  member: LayerMember,
  request: { mid: string; substream: SfuSubstream },
  send: (data: SfuDelivery) => void,
  log: Logger,
): Promise<void> {
  if (!member.sub) {
    send({ op: 'error', message: 'layer: no subscription yet' });
    return;
  }
  try {
    await member.sub.message({
      request: 'configure',
      streams: [{ mid: request.mid, substream: request.substream }],
    });
    log.debug({ id: member.id, mid: request.mid, substream: request.substream }, 'sfu: layer requested');
  } catch (error) {
    if (member.gone) return;
    log.warn({ id: member.id, mid: request.mid, err: (error as Error).message }, 'sfu: layer request refused');
    send({ op: 'error', message: `layer: ${(error as Error).message}` });
  }
}

/**
 * Janus's event that a subscriber stream now carries another simulcast layer (`{ videoroom: "event", mid, substream }`,
 * pushed without a transaction on the subscriber handle), as the `layer` delivery to forward; undefined for any
 * other event.
 */
export function layerEvent(event: PluginReply): SfuDelivery | undefined {
  const data = event.data;
  const { mid, substream } = data;
  if (data['videoroom'] !== 'event' || typeof mid !== 'string' || mid.length > 32) return undefined;
  if (substream !== 0 && substream !== 1 && substream !== 2) return undefined;
  return { op: 'layer', mid, substream };
}
