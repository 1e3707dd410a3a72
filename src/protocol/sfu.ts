/**
 * The SFU part of the client↔relay wire: what `<video-chat>` and the relay say to each other about a room that runs
 * on the media server (Janus VideoRoom, brokered by the relay) instead of the per-peer mesh. Prose:
 * `docs/protocol.md` "Rooms on an SFU".
 *
 * These messages travel as ordinary `signal`s (`src/protocol/relay.ts`) addressed to, or stamped from, the reserved
 * peer ID {@link SFU_PEER_ID}: a relay without an SFU answers `unknown-peer` to them, and a client that did not
 * announce the `sfu` capability in `join.caps` never receives one. Their payload (`signal.data`) is one of the
 * shapes below, told apart by `op`. The module is its own file so that the element's script-tag file does not carry
 * these parsers: only the SFU chunk and the relay import it.
 *
 * Client → relay (`signal` with `to: "sfu"`):
 * - `publish` `{ sdp, epoch? }`: the publishing connection's offer (audio + simulcast video). The relay publishes it on
 *   the media server with the sender's relay ID as the feed ID; an `id` naming anyone else is refused (`unauthorized`).
 *   `epoch` repeats that of the `mode` this session answers: after a start-over the relay drops a publish naming
 *   another `mode`'s epoch (the previous session's, queued while the relay was away).
 * - `answer` `{ sdp }`: the answer to the relay's last `offer` for the subscribing connection.
 * - `candidate` `{ pc: "pub" | "sub", candidate }`: a trickled ICE candidate (RFC 8838) of either connection, or
 *   `candidate: null` at the end of gathering.
 * - `layer` `{ mid, substream }`: which simulcast layer (0 low … 2 high, {@link MAX_SFU_SUBSTREAM}) of the video on
 *   `mid` of the subscribing connection this participant wants (Janus VideoRoom subscriber `configure` with
 *   `streams: [{ mid, substream }]`). Only the sender's own subscription changes. Janus drops a switch requested too
 *   soon after the previous one: clients ask at most once per {@link SFU_LAYER_INTERVAL_MS} per stream.
 *
 * Relay → client (`signal` with `from: "sfu"`):
 * - `mode` `{ mode: "sfu", epoch? }`: the room runs on the SFU from now on (sent once, before the welcome when the room was
 *   already on the SFU, or when the room switches): publish, and expect offers for the others' feeds. Sent again,
 *   after the `welcome` with `resumed: true`, when a participant resumed on a relay process that did not broker it
 *   (rooms shared through Redis: another relay, or this one after its lease was lost): the media server's sessions of
 *   the earlier relay are gone or going, so the client starts over (closes both SFU connections, publishes and
 *   subscribes again under the same ID); the relay removes any publisher the media server still holds under that ID
 *   first. A participant subscribes whether or not its own publish succeeds (a receive-only one sees everyone).
 *   `epoch` (an ID, new at each `mode`; relays sharing rooms send it) names this `mode`: the session it starts says it
 *   in its `publish`. An element that does not know it ignores it.
 * - `answer` `{ sdp }`: the media server's answer to `publish`.
 * - `offer` `{ sdp, streams }`: a (re)negotiation of the subscribing connection: every `mid` with the participant ID
 *   whose media it carries (`feed`, a relay ID: tiles stay keyed by participant) and its kind. Answer with `answer`.
 * - `feeds` `{ feeds }`: the IDs of the room's participants that publish now.
 * - `layer` `{ mid, substream }`: the media server now forwards that layer on `mid` (Janus's own `substream`
 *   event: a confirmation of a `layer` request, or its fallback to a lower layer when a higher one stops).
 * - `error` `{ message }`: the media server refused or failed; the SFU part of the call cannot go on as it is.
 *
 * @module
 */
import { bad, isObject, isString, ok, type ParseResult } from './parse.js';

/** The reserved peer ID of the SFU in `signal.to` / `signal.from`. Relay IDs are 22 characters: it names nobody. */
export const SFU_PEER_ID = 'sfu';

/** The `join.caps` entry a client sends when it can take part in a room on the SFU. */
export const SFU_CAPABILITY = 'sfu';

/** Longest SDP accepted in an SFU message, in characters (an offer with three simulcast layers is ~6 000). */
export const MAX_SFU_SDP_LENGTH = 32 * 1024;

/** Longest ICE candidate line accepted, in characters. */
export const MAX_SFU_CANDIDATE_LENGTH = 1024;

/** Most streams one subscriber `offer` may list (25 participants × audio + video, with room to spare). */
export const MAX_SFU_STREAMS = 128;

/** The highest simulcast layer (substream) index: 0 is the lowest resolution, 2 the highest (rids `l`, `m`, `h`). */
export const MAX_SFU_SUBSTREAM = 2;

/**
 * Least time between two `layer` requests for one stream, in ms: Janus 1.1 drops a switch requested ~0.25 s after
 * the previous one completed (../shared/scale-out.md §B.3); 3 s apart, every one applied.
 */
export const SFU_LAYER_INTERVAL_MS = 1_500;

/** A simulcast layer index, 0 (lowest) to {@link MAX_SFU_SUBSTREAM}. */
export type SfuSubstream = 0 | 1 | 2;

/** An ICE candidate as in W3C WebRTC `RTCIceCandidateInit` (the fields the media server needs). */
export interface SfuCandidate {
  candidate: string;
  sdpMid?: string;
  sdpMLineIndex?: number;
}

/** A client's SFU request, the payload of a `signal` to {@link SFU_PEER_ID}. */
export type SfuRequest =
  | { op: 'publish'; sdp: string; id?: string; epoch?: string }
  | { op: 'answer'; sdp: string }
  | { op: 'candidate'; pc: 'pub' | 'sub'; candidate: SfuCandidate | null }
  | { op: 'layer'; mid: string; substream: SfuSubstream };

/** One stream of the subscribing connection: its `mid`, whose media it is (a participant ID) and its kind. */
export interface SfuStream {
  mid: string;
  feed: string;
  kind: 'audio' | 'video';
}

/** What the relay sends about the SFU, the payload of a `signal` from {@link SFU_PEER_ID}. */
export type SfuDelivery =
  | { op: 'mode'; mode: 'sfu'; epoch?: string }
  | { op: 'answer'; sdp: string }
  | { op: 'offer'; sdp: string; streams: SfuStream[] }
  | { op: 'feeds'; feeds: string[] }
  | { op: 'layer'; mid: string; substream: SfuSubstream }
  | { op: 'error'; message: string };

const ID = /^[A-Za-z0-9_-]{1,64}$/;

const MID = /^[A-Za-z0-9_-]{1,32}$/;

/** `{ mid, substream }` of a `layer` message, or undefined. */
const layerOf = (data: Record<string, unknown>): { op: 'layer'; mid: string; substream: SfuSubstream } | undefined => {
  const { mid, substream } = data;
  return isString(mid) && MID.test(mid) && (substream === 0 || substream === 1 || substream === 2)
    ? { op: 'layer', mid, substream }
    : undefined;
};
const BAD_LAYER = `sfu layer must be { mid: <1-32 of A-Z a-z 0-9 _ ->, substream: 0-${MAX_SFU_SUBSTREAM} }`;

const sdpOf = (v: unknown): string | undefined =>
  isString(v) && v.length > 0 && v.length <= MAX_SFU_SDP_LENGTH ? v : undefined;

/**
 * Parses a client's SFU request (relay side).
 * @param data the `signal.data` of a `signal` to {@link SFU_PEER_ID}.
 */
export function parseSfuRequest(data: unknown): ParseResult<SfuRequest> {
  if (!isObject(data)) return bad('sfu request must be an object');
  switch (data['op']) {
    case 'publish':
    case 'answer': {
      const sdp = sdpOf(data['sdp']);
      if (sdp === undefined) return bad(`sfu ${data['op']}.sdp must be an SDP of 1-${MAX_SFU_SDP_LENGTH} characters`);
      if (data['op'] === 'answer') return ok({ op: 'answer', sdp });
      const { id, epoch } = data;
      if (id !== undefined && (!isString(id) || !ID.test(id))) return bad('sfu publish.id must be a peer id');
      if (epoch !== undefined && (!isString(epoch) || !ID.test(epoch))) return bad('sfu publish.epoch must be an id');
      const publish: SfuRequest = { op: 'publish', sdp };
      if (id !== undefined) publish.id = id;
      if (epoch !== undefined) publish.epoch = epoch;
      return ok(publish);
    }
    case 'candidate': {
      const pc = data['pc'];
      if (pc !== 'pub' && pc !== 'sub') return bad('sfu candidate.pc must be "pub" or "sub"');
      const c = data['candidate'];
      if (c === null) return ok({ op: 'candidate', pc, candidate: null });
      if (
        !isObject(c) ||
        !isString(c['candidate']) ||
        c['candidate'].length > MAX_SFU_CANDIDATE_LENGTH ||
        (c['sdpMid'] !== undefined && c['sdpMid'] !== null && (!isString(c['sdpMid']) || c['sdpMid'].length > 32)) ||
        (c['sdpMLineIndex'] !== undefined &&
          c['sdpMLineIndex'] !== null &&
          (!Number.isSafeInteger(c['sdpMLineIndex']) || (c['sdpMLineIndex'] as number) < 0))
      ) {
        return bad(`sfu candidate.candidate must be an ICE candidate (at most ${MAX_SFU_CANDIDATE_LENGTH} characters)`);
      }
      const candidate: SfuCandidate = { candidate: c['candidate'] };
      if (isString(c['sdpMid'])) candidate.sdpMid = c['sdpMid'];
      if (typeof c['sdpMLineIndex'] === 'number') candidate.sdpMLineIndex = c['sdpMLineIndex'];
      return ok({ op: 'candidate', pc, candidate });
    }
    case 'layer': {
      const layer = layerOf(data);
      return layer ? ok(layer) : bad(BAD_LAYER);
    }
    default:
      return bad('sfu request.op must be publish, answer, candidate or layer');
  }
}

/**
 * Parses what the relay sent about the SFU (element side).
 * @param data the `signal.data` of a `signal` from {@link SFU_PEER_ID}.
 */
export function parseSfuDelivery(data: unknown): ParseResult<SfuDelivery> {
  if (!isObject(data)) return bad('sfu message must be an object');
  switch (data['op']) {
    case 'mode': {
      const epoch = data['epoch'];
      if (data['mode'] !== 'sfu') return bad('sfu mode.mode must be "sfu"');
      return isString(epoch) && ID.test(epoch)
        ? ok({ op: 'mode', mode: 'sfu', epoch })
        : ok({ op: 'mode', mode: 'sfu' });
    }
    case 'answer': {
      const sdp = sdpOf(data['sdp']);
      return sdp === undefined ? bad('sfu answer.sdp must be an SDP') : ok({ op: 'answer', sdp });
    }
    case 'offer': {
      const sdp = sdpOf(data['sdp']);
      const streams = data['streams'];
      if (sdp === undefined) return bad('sfu offer.sdp must be an SDP');
      if (!Array.isArray(streams) || streams.length > MAX_SFU_STREAMS) {
        return bad(`sfu offer.streams must be an array of at most ${MAX_SFU_STREAMS}`);
      }
      const parsed: SfuStream[] = [];
      for (const s of streams) {
        if (
          !isObject(s) ||
          !isString(s['mid']) ||
          s['mid'].length > 32 ||
          !isString(s['feed']) ||
          !ID.test(s['feed']) ||
          (s['kind'] !== 'audio' && s['kind'] !== 'video')
        ) {
          return bad('sfu offer.streams[] must be { mid, feed, kind }');
        }
        parsed.push({ mid: s['mid'], feed: s['feed'], kind: s['kind'] });
      }
      return ok({ op: 'offer', sdp, streams: parsed });
    }
    case 'feeds': {
      const feeds = data['feeds'];
      if (!Array.isArray(feeds) || feeds.length > MAX_SFU_STREAMS || !feeds.every((f) => isString(f) && ID.test(f))) {
        return bad('sfu feeds.feeds must be an array of peer ids');
      }
      return ok({ op: 'feeds', feeds: feeds as string[] });
    }
    case 'layer': {
      const layer = layerOf(data);
      return layer ? ok(layer) : bad(BAD_LAYER);
    }
    case 'error':
      return isString(data['message'])
        ? ok({ op: 'error', message: data['message'].slice(0, 200) })
        : bad('sfu error.message must be a string');
    default:
      return bad('sfu message.op is unknown');
  }
}
