/**
 * How a participant in a room on the SFU tells the others which simulcast layers its camera sends (issue 12), in the
 * SFU chunk. Pure: no DOM, no WebRTC.
 *
 * The announcement rides on the relayed `state` message (`src/protocol/data-channel.ts`, carried as a relay `signal`
 * `{ "sfu": "<text>" }` in a room on the SFU): `{ "type": "state", "microphone": …, "camera": …, "layers": [2, 1] }`,
 * the substreams whose rid encodes frames, highest first. An element of an earlier release parses that text as any
 * `state` (extra fields are dropped: `parsePeerMessage`) and shows nothing amiss, where the separate payload
 * `{ "sfu": { "layers": […] } }` made it fire `bad-peer-message` (it knows only text and `decodes` there). That payload,
 * which the previous release sends, is still read ({@link parseLayers}). See `docs/protocol.md` "Rooms on an SFU".
 *
 * @module
 */
import type { SfuSubstream } from '../protocol/sfu.js';
import { parseLayers } from './sfu-layers.js';

/** The microphone and camera a `state` carries (the sender's own, current). */
export interface AnnouncedState {
  readonly microphoneEnabled: boolean;
  readonly cameraEnabled: boolean;
}

/**
 * The relayed text that announces `layers` (highest first): a `state` message with the sender's current microphone
 * and camera, plus `layers`.
 */
export function layersText(media: AnnouncedState, layers: readonly SfuSubstream[]): string {
  return JSON.stringify({ type: 'state', microphone: media.microphoneEnabled, camera: media.cameraEnabled, layers });
}

/**
 * The layers a relayed text announces: `undefined` when it announces none (any other message, or text that is not
 * JSON: the data-channel parser reports that), `false` when its `layers` is malformed (not 1–3 distinct layers 0–2).
 * Never throws.
 */
export function layersIn(text: string): SfuSubstream[] | false | undefined {
  if (!text.includes('"layers"')) return undefined;
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return undefined;
  }
  const { type, layers } = (m ?? {}) as { type?: unknown; layers?: unknown };
  if (type !== 'state' || layers === undefined) return undefined;
  return parseLayers(layers) ?? false;
}
