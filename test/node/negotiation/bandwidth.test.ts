/** The bandwidth governor's policy (src/negotiation/bandwidth.ts): pure function, so every case is exact. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cameraCaps, DEFAULT_BUDGET, LINK_STEPS, screenCaps } from '../../../src/negotiation/bandwidth.js';

describe('cameraCaps', () => {
  it('divides the 2500 kbps budget among the copies, within 150–1500 kbps, for a 480p camera', () => {
    const rows = [1, 2, 3, 4, 5].map((n) => cameraCaps(n, { sourceShortSide: 480 }));
    assert.deepEqual(
      rows.map((c) => c.maxBitrate),
      [1_500_000, 1_250_000, 833_000, 625_000, 500_000],
    );
    assert.deepEqual(
      rows.map((c) => c.maxFramerate),
      [30, 30, 30, 30, 24],
    );
    assert.deepEqual(
      rows.map((c) => c.scaleResolutionDownBy),
      [1, 1, 1, 1, 1.33],
    ); // 5 copies: 360p
  });

  it('keeps a 6-person call (5 copies) within the budget, and a large room at the floor', () => {
    assert.ok(cameraCaps(5).maxBitrate * 5 <= DEFAULT_BUDGET.uplinkKbps * 1000);
    const crowd = cameraCaps(30, { sourceShortSide: 720 });
    assert.deepEqual(crowd, { maxBitrate: 150_000, scaleResolutionDownBy: 3, maxFramerate: 15 });
  });

  it('scales a 720p camera down to what the bitrate carries, never up', () => {
    assert.equal(cameraCaps(1, { sourceShortSide: 720 }).scaleResolutionDownBy, 1);
    assert.equal(cameraCaps(3, { sourceShortSide: 720 }).scaleResolutionDownBy, 1.5); // 833 kbps: 480p
    assert.equal(cameraCaps(5, { sourceShortSide: 240 }).scaleResolutionDownBy, 1);
    assert.equal(cameraCaps(5).scaleResolutionDownBy, 1, 'unknown source size: not scaled');
  });

  it('gives the camera the rest of the budget while a screen is shared', () => {
    const caps = cameraCaps(2, { sharingScreen: true, sourceShortSide: 480 });
    assert.deepEqual(caps, { maxBitrate: 500_000, scaleResolutionDownBy: 1.33, maxFramerate: 24 });
    assert.ok(caps.maxBitrate * 2 + screenCaps(2).maxBitrate * 2 <= DEFAULT_BUDGET.uplinkKbps * 1000);
  });

  it('treats no remote peer as one and honours a custom budget', () => {
    assert.deepEqual(cameraCaps(0), cameraCaps(1));
    assert.equal(cameraCaps(2, {}, { ...DEFAULT_BUDGET, uplinkKbps: 300 }).maxBitrate, 150_000);
  });
});

describe('cameraCaps with a measured link', () => {
  it('gives a copy at most what its link measured, rounded down to a step, never below the floor', () => {
    const budget = cameraCaps(3, { sourceShortSide: 480 }); // 833 kbps
    assert.deepEqual(cameraCaps(3, { sourceShortSide: 480, linkKbps: 5000 }), budget, 'a roomy link: the budget');
    assert.deepEqual(cameraCaps(3, { sourceShortSide: 480, linkKbps: 520 }), {
      maxBitrate: 450_000,
      scaleResolutionDownBy: 1.33,
      maxFramerate: 30, // the budget's share's (833 kbps): the link lowers the bitrate and the picture only
    });
    // A link measured low while its copy was a thumbnail (app-limited): the copy shown large keeps the frame rate.
    assert.deepEqual(cameraCaps(1, { sourceShortSide: 480, linkKbps: 240 }), {
      maxBitrate: 200_000,
      scaleResolutionDownBy: 2,
      maxFramerate: 30,
    });
    assert.equal(cameraCaps(3, { sourceShortSide: 480, linkKbps: 40 }).maxBitrate, 150_000);
    assert.equal(LINK_STEPS[0], DEFAULT_BUDGET.cameraFloorKbps);
  });
});

describe('screenCaps', () => {
  it('divides 60 % of the budget among the copies, full resolution, fewer frames when thin', () => {
    const rows = [1, 2, 3, 5, 20].map((n) => screenCaps(n));
    assert.deepEqual(
      rows.map((c) => c.maxBitrate),
      [1_500_000, 750_000, 500_000, 300_000, 250_000],
    );
    assert.deepEqual(
      rows.map((c) => c.maxFramerate),
      [15, 15, 5, 5, 5],
    );
    assert.ok(rows.every((c) => c.scaleResolutionDownBy === 1));
  });
});
