/**
 * The self-view's fit (`ui/self-view.ts`) with faked tracks: the picture that covers the tile, rounded to few sizes,
 * never above the clone's own first constraints, 5 fps in a tiny tile and the clone's rate otherwise, nothing asked
 * twice, the camera itself never constrained. (The browsers' side, real tracks: test/browser/element/self-view.test.ts.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitSelfView, selfViewSide, TINY_SELF_VIEW_FPS } from '../../../src/ui/self-view.js';

/** A fake track: `getSettings()` and `getConstraints()` as given, `applyConstraints` recorded. */
function track(settings: MediaTrackSettings, constraints: MediaTrackConstraints = {}) {
  const asked: MediaTrackConstraints[] = [];
  const t = {
    readyState: 'live',
    getSettings: () => settings,
    getConstraints: () => constraints,
    applyConstraints: (c: MediaTrackConstraints) => {
      asked.push(c);
      constraints = c;
      return Promise.resolve();
    },
  };
  return { t: t as unknown as MediaStreamTrack, asked };
}

const camera = () => track({ width: 640, height: 480, frameRate: 20 }).t;
/** A clone as media/preview.ts makes it: at most 320 × 240, 10 fps. */
const clone = () =>
  track(
    { width: 320, height: 240, frameRate: 10 },
    { width: { max: 320 }, height: { max: 240 }, frameRate: { max: 10 } },
  );

describe('self-view fit', () => {
  it('selfViewSide: the shorter side of the camera-shaped picture covering the box, rounded up', () => {
    assert.equal(selfViewSide({ width: 147, height: 85 }, { width: 640, height: 480 }), 120); // 147 × 110
    assert.equal(selfViewSide({ width: 160, height: 160 }, { width: 640, height: 480 }), 180); // 213 × 160
    assert.equal(selfViewSide({ width: 80, height: 40 }, { width: 640, height: 480 }), 90); // 80 × 60
    assert.equal(selfViewSide({ width: 4000, height: 3000 }, { width: 640, height: 480 }), 1080);
    assert.equal(selfViewSide({ width: 0, height: 85 }, { width: 640, height: 480 }), 0);
    assert.equal(selfViewSide({ width: 147, height: 85 }, { width: 0, height: 0 }), 0);
  });

  it('a tiny tile: the clone at the picture it draws and 5 fps; asked once; a larger tile: up to the clone, its rate', async () => {
    const cam = camera();
    const { t, asked } = clone();
    await fitSelfView(t, cam, { width: 147, height: 85 });
    assert.deepEqual(asked, [
      {
        width: { max: 160 },
        height: { max: 120 },
        frameRate: { max: TINY_SELF_VIEW_FPS },
        resizeMode: 'crop-and-scale',
      },
    ]);
    assert.equal(fitSelfView(t, cam, { width: 147, height: 85 }), undefined, 'the same fit is not asked again');
    await fitSelfView(t, cam, { width: 200, height: 150 }); // 200 × 150 → 180
    await fitSelfView(t, cam, { width: 800, height: 600 }); // 480, held to the clone's 240
    assert.deepEqual(asked.slice(1), [
      { width: { max: 240 }, height: { max: 180 }, frameRate: { max: 10 }, resizeMode: 'crop-and-scale' },
      { width: { max: 320 }, height: { max: 240 }, frameRate: { max: 10 }, resizeMode: 'crop-and-scale' },
    ]);
  });

  it('never the camera itself, an ended clone, a clone whose own constraints are not set yet, or a box of no size', () => {
    const cam = track({ width: 640, height: 480, frameRate: 20 });
    assert.equal(fitSelfView(cam.t, cam.t, { width: 147, height: 85 }), undefined);
    assert.equal(fitSelfView(clone().t, null, { width: 147, height: 85 }), undefined);
    const ended = clone();
    (ended.t as unknown as { readyState: string }).readyState = 'ended';
    assert.equal(fitSelfView(ended.t, cam.t, { width: 147, height: 85 }), undefined);
    const early = track({ width: 640, height: 480 });
    assert.equal(fitSelfView(early.t, cam.t, { width: 147, height: 85 }), undefined);
    const none = clone();
    assert.equal(fitSelfView(none.t, cam.t, { width: 0, height: 0 }), undefined);
    assert.deepEqual([cam.asked, early.asked, none.asked, ended.asked], [[], [], [], []]);
  });
});
