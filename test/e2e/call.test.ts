/**
 * End-to-end calls through the demo page and the real demo server, one browser process per participant.
 * Run (after `npm run build`): scripts/netns.sh node --test --test-concurrency=1 lib/test/e2e/call.test.js
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import {
  closeAll,
  launchChromium,
  launchFirefox,
  leave,
  openParticipant,
  startRelayServer,
  uniqueRoom,
  waitForMediaFlowing,
  waitForRemoteCount,
  waitForState,
  type Participant,
} from './harness.js';

/** Asserts that `p` receives media from exactly the participants `others`, by name. */
async function assertSeesMediaFrom(p: Participant, others: readonly Participant[]): Promise<void> {
  const media = await waitForMediaFlowing(p, others.length, 30_000);
  assert.deepEqual(
    media.map((m) => m.name).sort(),
    others.map((o) => o.name).sort(),
    `${p.name} should see exactly ${others.map((o) => o.name).join(', ')}`,
  );
}

describe('calls through the demo page', { timeout: 180_000 }, () => {
  afterEach(closeAll);

  it('two Chromium participants see and hear each other', async () => {
    const server = await startRelayServer();
    const room = uniqueRoom('two');
    const [browserA, browserB] = await Promise.all([launchChromium(), launchChromium()]);

    const alice = await openParticipant(browserA, server.url, { room, name: 'Alice' });
    await waitForState(alice, ['waiting', 'in-call']);
    const bob = await openParticipant(browserB, server.url, { room, name: 'Bob' });

    await Promise.all([assertSeesMediaFrom(alice, [bob]), assertSeesMediaFrom(bob, [alice])]);
    assert.equal((await waitForState(alice, ['in-call'])).state, 'in-call');
    assert.equal((await waitForState(bob, ['in-call'])).state, 'in-call');
  });

  it('a third participant joins a mesh, and the others drop the tile of one who leaves', async () => {
    const server = await startRelayServer();
    const room = uniqueRoom('three');
    const browsers = await Promise.all([launchChromium(), launchChromium(), launchChromium()]);

    const alice = await openParticipant(browsers[0], server.url, { room, name: 'Alice' });
    await waitForState(alice, ['waiting', 'in-call']);
    const bob = await openParticipant(browsers[1], server.url, { room, name: 'Bob' });
    await Promise.all([assertSeesMediaFrom(alice, [bob]), assertSeesMediaFrom(bob, [alice])]);

    const carol = await openParticipant(browsers[2], server.url, { room, name: 'Carol' });
    await Promise.all([
      assertSeesMediaFrom(alice, [bob, carol]),
      assertSeesMediaFrom(bob, [alice, carol]),
      assertSeesMediaFrom(carol, [alice, bob]),
    ]);
    for (const p of [alice, bob, carol]) await waitForRemoteCount(p, 2, 5_000);

    await leave(carol);
    const [aliceView, bobView] = await Promise.all([waitForRemoteCount(alice, 1), waitForRemoteCount(bob, 1)]);
    assert.deepEqual(
      aliceView.peers.map((p) => p.name),
      ['Bob'],
    );
    assert.deepEqual(
      bobView.peers.map((p) => p.name),
      ['Alice'],
    );
    // The remaining pair is still connected.
    await Promise.all([assertSeesMediaFrom(alice, [bob]), assertSeesMediaFrom(bob, [alice])]);
  });

  it('Chromium and Firefox ESR see and hear each other', async () => {
    const server = await startRelayServer();
    const room = uniqueRoom('mixed');
    const [chromium, firefox] = await Promise.all([launchChromium(), launchFirefox()]);

    const alice = await openParticipant(chromium, server.url, { room, name: 'Alice (Chromium)' });
    await waitForState(alice, ['waiting', 'in-call']);
    const bob = await openParticipant(firefox, server.url, { room, name: 'Bob (Firefox)' });

    await Promise.all([assertSeesMediaFrom(alice, [bob]), assertSeesMediaFrom(bob, [alice])]);
  });
});
