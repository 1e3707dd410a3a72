/**
 * The broker's gathering of subscription changes while publishes are on their way up (`server/src/sfu/gather.ts`,
 * issue 12's switch: one subscriber renegotiation per page for several publishers, not one each), with mocked timers.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { Gather, GATHER_MAX_MS, PUBLISH_PENDING_MS, publishPending } from '../../../server/src/sfu/gather.js';

describe('Gather (server/src/sfu/gather.ts)', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  it('runs a change at once when no publish is on its way up', () => {
    let runs = 0;
    const gather = new Gather(
      () => runs++,
      () => false,
    );
    gather.change();
    gather.change();
    assert.equal(runs, 2);
  });

  it('holds changes while publishes are on their way up and runs once when the last one is up', () => {
    let runs = 0;
    let pending = 3; // publishes on their way up
    const gather = new Gather(
      () => runs++,
      () => pending > 0,
    );
    // Three publishers come up one after the other (each `webrtcup` is a change): one run, after the last.
    for (let i = 0; i < 3; i++) {
      mock.timers.tick(100);
      pending--;
      gather.change();
      assert.equal(runs, i < 2 ? 0 : 1, `after publisher ${i + 1}`);
    }
    mock.timers.tick(GATHER_MAX_MS);
    assert.equal(runs, 1, 'the timer went with the run');
  });

  it('runs at most GATHER_MAX_MS after the first change held back, however long a publish takes', () => {
    let runs = 0;
    const gather = new Gather(
      () => runs++,
      () => true,
    );
    gather.change();
    mock.timers.tick(GATHER_MAX_MS / 2);
    gather.change(); // does not push the deadline back
    mock.timers.tick(GATHER_MAX_MS / 2 - 1);
    assert.equal(runs, 0);
    mock.timers.tick(1);
    assert.equal(runs, 1);
  });

  it('settle runs a held change once no publish is on its way up (one failed or its participant left)', () => {
    let runs = 0;
    let pending = true;
    const gather = new Gather(
      () => runs++,
      () => pending,
    );
    gather.settle();
    assert.equal(runs, 0, 'nothing held: nothing to run');
    gather.change();
    gather.settle();
    assert.equal(runs, 0, 'still pending');
    pending = false;
    gather.settle();
    assert.equal(runs, 1);
  });

  it('now runs at once, held changes with it (a feed went)', () => {
    let runs = 0;
    const gather = new Gather(
      () => runs++,
      () => true,
    );
    gather.change();
    gather.now();
    assert.equal(runs, 1);
    mock.timers.tick(GATHER_MAX_MS * 2);
    assert.equal(runs, 1, 'the held change ran with it');
  });

  it('close drops a held change', () => {
    let runs = 0;
    const gather = new Gather(
      () => runs++,
      () => true,
    );
    gather.change();
    gather.close();
    mock.timers.tick(GATHER_MAX_MS * 2);
    assert.equal(runs, 0);
  });

  it('a publish is on its way up for PUBLISH_PENDING_MS at most', () => {
    assert.equal(publishPending(undefined, 5_000), false);
    assert.equal(publishPending(1_000, 1_000 + PUBLISH_PENDING_MS - 1), true);
    assert.equal(publishPending(1_000, 1_000 + PUBLISH_PENDING_MS), false);
  });
});
