/**
 * `drawnSize` (ui/view-observer.ts): the size a `view` reports is the picture's as drawn, so that a letterboxed
 * (`object-fit: contain`, a pinned tile) picture asks its sender for no more than it shows, while a cropped (`cover`)
 * one keeps its box's size.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { drawnSize } from '../../../src/ui/view-observer.js';

describe('drawnSize', () => {
  const wide = { width: 768, height: 256 };

  it('contain: the picture fitted inside the box, its own aspect ratio kept', () => {
    assert.deepEqual(drawnSize(wide, { width: 640, height: 480 }, 'contain'), {
      width: 341.3333333333333,
      height: 256,
    });
    // A tall box: the width limits.
    assert.deepEqual(drawnSize({ width: 200, height: 600 }, { width: 640, height: 480 }, 'contain'), {
      width: 200,
      height: 150,
    });
  });

  it('cover (or any other fit): the box itself', () => {
    assert.deepEqual(drawnSize(wide, { width: 640, height: 480 }, 'cover'), wide);
    assert.deepEqual(drawnSize(wide, { width: 640, height: 480 }, 'fill'), wide);
  });

  it('a picture whose size is not known yet: the box', () => {
    assert.deepEqual(drawnSize(wide, { width: 0, height: 0 }, 'contain'), wide);
  });
});
