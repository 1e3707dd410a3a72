/**
 * `viewCaps` (call/receiver-view.ts) and its use by `encodingCaps` (call/governor.ts): a camera copy fitted to what its
 * receiver shows of it, never above the governor's caps; hidden pauses it; audio-only pauses every camera copy; the
 * screen share keeps its resolution whatever the view.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodingCaps, loadAdaptive } from '../../../src/call/governor.js';
import {
  LOWER_MARGIN,
  RAISE_POLLS,
  shownCopies,
  THUMB_FPS,
  TINY_FPS,
  UplinkWatch,
  VIEW_FLOOR_BPS,
  viewCaps,
} from '../../../src/call/receiver-view.js';
import {
  cameraCaps,
  DEFAULT_BUDGET,
  screenCaps,
  START_FPS,
  START_LINK_KBPS,
} from '../../../src/negotiation/bandwidth.js';
import type { PeerViewMessage } from '../../../src/protocol/data-channel.js';

const view = (width: number, height: number): PeerViewMessage => ({ type: 'view', width, height, hidden: false });
const hidden: PeerViewMessage = { type: 'view', width: 0, height: 0, hidden: true };
const source = { width: 640, height: 480 };
/** The governor's caps for three copies of a 640×480 camera: 833 kbps, full size, 30 fps. */
const three = cameraCaps(3, { sourceShortSide: 480 });
/** A stand-in for a camera track: only `getSettings()` is read. */
const track = (width: number, height: number) => ({ getSettings: () => ({ width, height }) }) as MediaStreamTrack;

describe('viewCaps', () => {
  it('leaves the caps as they are for a peer that never sent a view', () => {
    assert.deepEqual(viewCaps(three, undefined, source), three);
  });

  it('pauses the copy of a receiver that shows none of it', () => {
    assert.deepEqual(viewCaps(three, hidden, source), { ...three, active: false });
  });

  it('scales a thumbnail down to its size, with fewer bits and frames', () => {
    const caps = viewCaps(three, view(180, 180), source);
    // cover: 640×480 fills a 180×180 box at 480/180 = 2.67 (its height), the width is cut.
    assert.equal(caps.scaleResolutionDownBy, 2.67);
    assert.equal(caps.maxBitrate, Math.round(three.maxBitrate * (1 / (480 / 180)) ** 2));
    assert.ok(caps.maxBitrate < three.maxBitrate / 5);
    assert.equal(caps.maxFramerate, THUMB_FPS);
    assert.equal(caps.active, true);
  });

  it('never goes above the governor: a large view keeps its caps (and resumes a paused copy)', () => {
    assert.deepEqual(viewCaps(three, view(1440, 1080), source), { ...three, active: true });
    const six = cameraCaps(6, { sourceShortSide: 480 }); // 480×360 at 24 fps
    assert.deepEqual(viewCaps(six, view(2160, 2160), source), { ...six, active: true });
  });

  it('keeps a floor of bits for a tiny view', () => {
    assert.equal(viewCaps(three, view(90, 90), source).maxBitrate, VIEW_FLOOR_BPS);
  });

  it('without the camera size, only hidden applies', () => {
    assert.deepEqual(viewCaps(three, view(90, 90), undefined), { ...three, maxFramerate: TINY_FPS, active: true });
    assert.deepEqual(viewCaps(three, view(200, 200), undefined), { ...three, maxFramerate: THUMB_FPS, active: true });
  });
});

describe('encodingCaps with a view', () => {
  const load = { copies: 3, sharingScreen: false, linkKbps: Infinity }; // a link measured (or not measurable)

  it('gives the governor’s caps alone until receiver-view.ts (its own chunk) is loaded', () => {
    assert.deepEqual(encodingCaps('video', track(640, 480), { ...load, view: view(270, 180) }), {
      ...three,
      active: true,
    });
  });

  it('fits the camera copy to the view once loaded; the screen share keeps its resolution', async () => {
    await loadAdaptive(); // as the first `view` message does (call-controller.ts)
    const camera = encodingCaps('video', track(640, 480), { ...load, view: view(270, 180) });
    assert.equal(camera?.scaleResolutionDownBy, 2.37);
    assert.equal(camera?.active, true);
    assert.deepEqual(encodingCaps('screen', track(1920, 1080), { ...load, view: view(270, 180) }), screenCaps(3));
    assert.equal(encodingCaps('audio', null, { ...load, view: hidden }), undefined);
  });

  it('sends the camera again (active) once a receiver shows it, and to a peer that never sent a view', () => {
    assert.deepEqual(encodingCaps('video', track(640, 480), load), { ...three, active: true });
  });

  it('gives a link not measured yet the start caps: 200 kbps, 240 px at 15 fps (START_LINK_KBPS, START_FPS)', () => {
    const unmeasured = { copies: 3, sharingScreen: false };
    const start = { maxBitrate: 200_000, scaleResolutionDownBy: 2, maxFramerate: START_FPS, active: true };
    assert.equal(START_FPS, 15);
    assert.deepEqual(encodingCaps('video', track(640, 480), unmeasured), start);
    // A measured link at the same kbps keeps the budget's frame rate (a measure may read low while the copy is small).
    assert.deepEqual(encodingCaps('video', track(640, 480), { ...unmeasured, linkKbps: START_LINK_KBPS }), {
      ...start,
      maxFramerate: 30,
    });
    // A single copy's budget is 1500 kbps: only the unmeasured link holds it down.
    assert.equal(encodingCaps('video', track(640, 480), { ...load, copies: 1 })?.maxBitrate, 1_500_000);
    assert.deepEqual(encodingCaps('screen', track(1920, 1080), unmeasured), screenCaps(3), 'a screen keeps its caps');
  });

  it('pauses every camera copy in audio-only, whatever the view', () => {
    assert.equal(
      encodingCaps('video', track(640, 480), { ...load, audioOnly: true, view: view(1080, 720) })?.active,
      false,
    );
  });
});

describe('the share of each copy follows what its receivers show (shownCopies)', () => {
  const large = view(1080, 540); // a pinned tile: the whole 640×480 picture
  const thumb = view(270, 180); // a tile of the strip under it

  it('counts a hidden receiver 0, one that never said or shows the copy large 1, a thumbnail the part it uses', () => {
    assert.equal(shownCopies(three, [hidden, hidden], source), 0);
    assert.equal(shownCopies(three, [undefined, large], source), 2);
    const part = viewCaps(three, thumb, source).maxBitrate / three.maxBitrate;
    assert.ok(part > 0.1 && part < 0.25, `a thumbnail uses ${part} of a copy`);
    assert.ok(Math.abs(shownCopies(three, [large, thumb, thumb], source) - (1 + 2 * part)) < 1e-9);
  });

  it('gives a pinned receiver’s copy what the thumbnails leave (the ceiling here), and keeps the copies within the budget', async () => {
    await loadAdaptive();
    const load = { copies: 3, sharingScreen: false, linkKbps: Infinity, views: [large, thumb, thumb] };
    const copies = load.views.map((v) => encodingCaps('video', track(640, 480), { ...load, view: v }));
    const pinned = copies[0];
    assert.equal(pinned?.maxBitrate, DEFAULT_BUDGET.cameraCeilingKbps * 1000, 'not the equal share of 833 kbps');
    assert.equal(pinned?.maxFramerate, 30);
    assert.equal(pinned?.scaleResolutionDownBy, 1);
    const total = copies.reduce((sum, c) => sum + (c?.maxBitrate ?? 0), 0);
    assert.ok(total <= DEFAULT_BUDGET.uplinkKbps * 1000, `${total} bps sent in all`);
    assert.equal(copies[1]?.maxFramerate, THUMB_FPS, 'the thumbnails stay thumbnails');
    // Everyone pins us: three equal shares, as without views.
    const all = { ...load, views: [large, large, large], view: large };
    assert.equal(encodingCaps('video', track(640, 480), all)?.maxBitrate, three.maxBitrate);
    // Two receivers hidden: the third gets the ceiling; hidden copies stay paused.
    const alone = { ...load, views: [thumb, hidden, hidden] };
    assert.equal(encodingCaps('video', track(640, 480), { ...alone, view: hidden })?.active, false);
    assert.ok((encodingCaps('video', track(640, 480), { ...alone, view: thumb })?.maxBitrate ?? 0) > 200_000);
  });
});

describe('UplinkWatch (hysteresis of the measured link)', () => {
  const host = { requestUpdate: () => undefined, dispatch: () => true };

  it('a measure wobbling across a step moves nothing; a drop past the margin lowers at once; a rise waits its polls', () => {
    const watch = new UplinkWatch();
    const moves = (kbps: number[]) => kbps.map((k) => watch.update('a', k, host));
    assert.deepEqual(moves([1_200]), [true], 'the first measure: a step (1000–1500)');
    // Congestion control's estimate wobbling around the 1000 kbps step: the caps stay.
    assert.deepEqual(moves([980, 1_050, 920, 1_010, 990, 1_100, 960]), [
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    assert.equal(watch.kbps.get('a'), 1_100, 'held on its step (the last reading on it)');
    assert.ok(1_000 * (1 - LOWER_MARGIN) > 840);
    assert.deepEqual(moves([840]), [true], 'more than the margin below its step: lowered at once');
    assert.equal(watch.kbps.get('a'), 840);
    // Back up on a higher step: only after RAISE_POLLS readings in a row, to the lowest of them.
    const up = moves(Array.from({ length: RAISE_POLLS }, (_, i) => 1_100 + i * 100));
    assert.deepEqual(up, [...Array<boolean>(RAISE_POLLS - 1).fill(false), true]);
    assert.equal(watch.kbps.get('a'), 1_100);
    // A rise that falls back before its polls are up changes nothing.
    assert.deepEqual(moves([1_600, 1_150, 1_700]), [false, false, false]);
    assert.equal(watch.kbps.get('a'), 1_150, 'the same step follows the measure');
  });
});
