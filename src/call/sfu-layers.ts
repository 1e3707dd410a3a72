/**
 * Which simulcast layer each tile of a room on the SFU receives (issue 12), in the SFU chunk. Pure: no DOM, no
 * WebRTC, a clock passed in; the topology (`call/sfu.ts`) feeds it what the element shows and sends what it decides.
 *
 * The choice ({@link chooseLayer}): a tile shown large (pinned, or full screen) gets the high layer (2); a grid tile
 * the medium one (1); every tile gets the low one (0) when more than {@link MANY_TILES} remote tiles share the grid
 * or when its participant's connection quality is `poor` (`vc-quality-change`).
 *
 * The requests ({@link LayerRequests}): Janus VideoRoom drops a switch requested too soon after the previous one
 * (../shared/scale-out.md §B.3), so per stream at most one request every {@link SFU_LAYER_INTERVAL_MS}; a request is
 * done once Janus's `substream` event confirms that layer (`layer` from the relay). One never confirmed is asked again
 * after the interval, at most {@link MAX_TRIES} times for the same wish. A layer the publisher does not send is not
 * asked for ({@link layerToAsk}): each publisher announces the layers its camera sends (Chromium drops the lowest
 * ones of a small camera; measured on Janus: 320×240 sends `h` only, 640×360 and 640×480 `h` and `m`, 960×540 all three).
 *
 * @module
 */
import { SFU_LAYER_INTERVAL_MS, type SfuSubstream } from '../protocol/sfu.js';
import type { QualityLevel } from '../types.js';

/** More remote tiles than this in the grid: every tile gets the low layer. */
export const MANY_TILES = 4;

/** Requests for one unconfirmed wish before giving up on it (until the wish changes). */
export const MAX_TRIES = 3;

/** What the element shows of one participant. */
export interface TileView {
  /** Shown large: pinned or full screen. */
  focused: boolean;
  /** How many remote tiles the grid has now. */
  tiles: number;
  /** The participant's connection quality, if measured. */
  quality?: QualityLevel | undefined;
}

/** The layer a tile needs: 2 focused, 0 with many tiles or a poor connection, else 1. */
export function chooseLayer({ focused, tiles, quality }: TileView): SfuSubstream {
  if (focused) return 2;
  return tiles > MANY_TILES || quality === 'poor' ? 0 : 1;
}

/** Simulcast layer index of each rid the camera is published with (Janus orders them highest first: h is 2). */
export const RID_LAYER: Readonly<Record<string, SfuSubstream>> = { h: 2, m: 1, l: 0 };

/**
 * How long (ms) a subscribed feed's layers may stay unannounced before its tile asks for the layer it needs anyway (a
 * publisher announces them about 1 s after its media is up; an element before announcements never does). Until then
 * nothing is asked: Janus changes a subscriber's layer only on a key frame of the layer asked for (and may ask the
 * publisher for one), which a switch can do without, and at a small camera that layer may not even be sent.
 */
export const UNANNOUNCED_MS = 3_000;

/**
 * The layer to ask the media server for, given the one a tile needs and the layers its publisher sends (announced by
 * the publisher, `{ sfu: { layers } }`; Chromium drops the lowest layers of a small camera: one layer below 480×270,
 * two below 960×540). `undefined` when there is nothing to ask: the publisher sends a single layer, which the media
 * server forwards anyway. Unknown layers (not announced yet): nothing until the feed was subscribed for
 * {@link UNANNOUNCED_MS}, then the wish as it is. A new subscription starts small: the relay subscribes every feed on
 * the lowest layer (`server/src/sfu/layers.ts` `START_SUBSTREAM`), so nothing is asked either until Janus confirmed
 * the layer it started on (`started`; a request before that would make Janus start on the layer asked for), or for
 * {@link UNANNOUNCED_MS} if it never says.
 * @param subscribedMs how long the feed has been subscribed, ms.
 * @param started Janus confirmed a layer of this feed (its `substream` event, {@link LayerRequests.layer}).
 * @returns the wished layer if sent, else the nearest sent one above it, else the highest sent one below it.
 */
export function layerToAsk(
  wanted: SfuSubstream,
  sent: readonly SfuSubstream[] | undefined,
  subscribedMs = Infinity,
  started = true,
): SfuSubstream | undefined {
  if (!started && subscribedMs < UNANNOUNCED_MS) return undefined;
  if (!sent || sent.length === 0) return subscribedMs < UNANNOUNCED_MS ? undefined : wanted;
  if (sent.length === 1) return undefined;
  if (sent.includes(wanted)) return wanted;
  const above = sent.filter((l) => l > wanted);
  return above.length > 0 ? (Math.min(...above) as SfuSubstream) : (Math.max(...sent) as SfuSubstream);
}

/**
 * The `layers` a participant announced (`{ sfu: { layers: [2, 1] } }`): distinct layer indexes, at most three; or
 * `undefined` when malformed.
 */
export function parseLayers(value: unknown): SfuSubstream[] | undefined {
  if (!Array.isArray(value) || value.length > 3) return undefined;
  const layers = value.filter((l): l is SfuSubstream => l === 0 || l === 1 || l === 2);
  return layers.length === value.length && new Set(layers).size === layers.length ? layers : undefined;
}

interface Stream {
  /** The layer wanted now. */
  wanted: SfuSubstream;
  /** The layer Janus last said it forwards (undefined until it says). */
  confirmed: SfuSubstream | undefined;
  /** When the latest request went out (ms, the clock's), or -Infinity. */
  askedAt: number;
  /** Requests sent for the current wish. */
  tries: number;
}

/** Debounced, confirmed layer requests, per stream key (a participant ID); see the module documentation. */
export class LayerRequests {
  readonly #send: (key: string, layer: SfuSubstream) => void;
  readonly #interval: number;
  readonly #streams = new Map<string, Stream>();

  /**
   * @param send sends one request (a `layer` to the relay).
   * @param intervalMs least time between two requests for one stream, ms.
   */
  constructor(send: (key: string, layer: SfuSubstream) => void, intervalMs = SFU_LAYER_INTERVAL_MS) {
    this.#send = send;
    this.#interval = intervalMs;
  }

  /**
   * The layer `key` should get now; sends a request when it is not the confirmed one and the interval allows.
   * @param now the clock, ms.
   */
  want(key: string, layer: SfuSubstream, now: number): void {
    let s = this.#streams.get(key);
    if (!s) this.#streams.set(key, (s = { wanted: layer, confirmed: undefined, askedAt: -Infinity, tries: 0 }));
    if (s.wanted !== layer) {
      s.wanted = layer;
      s.tries = 0;
    }
    if (s.confirmed === layer || s.tries >= MAX_TRIES || now - s.askedAt < this.#interval) return;
    s.askedAt = now;
    s.tries++;
    this.#send(key, layer);
  }

  /**
   * Janus forwards `layer` on `key` now (its `substream` event). Counts from now for the next request: Janus drops a
   * switch asked for too soon after one completed.
   */
  confirmed(key: string, layer: SfuSubstream, now: number): void {
    const s = this.#streams.get(key);
    if (!s) {
      this.#streams.set(key, { wanted: layer, confirmed: layer, askedAt: now, tries: 0 });
      return;
    }
    s.confirmed = layer;
    s.askedAt = now;
    if (layer === s.wanted) s.tries = 0;
  }

  /** The layer Janus last confirmed for `key`. */
  layer(key: string): SfuSubstream | undefined {
    return this.#streams.get(key)?.confirmed;
  }

  /** Forgets `key` (its stream went away). */
  delete(key: string): void {
    this.#streams.delete(key);
  }
}
