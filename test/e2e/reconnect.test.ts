/**
 * The relay dies (SIGKILL) in the middle of a call: both visitors see "reconnecting" while their video keeps decoding
 * (media is peer to peer), and when a relay is back on the same port they are in the call together again, with one
 * tile per person, and a newcomer joining the restarted relay sees (and is seen by) everyone.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import {
  chatView,
  closeAll,
  launchChromium,
  openParticipant,
  remoteMedia,
  startRelayServer,
  uniqueRoom,
  waitForMediaFlowing,
  waitForState,
} from './harness.js';

describe('relay outage during a call', { timeout: 120_000 }, () => {
  afterEach(closeAll);

  it('shows reconnecting, keeps media flowing, and the call is whole again after the relay restarts', async () => {
    const first = await startRelayServer();
    const port = new URL(first.url).port;
    const room = uniqueRoom('outage');
    const [a, b] = await Promise.all([launchChromium(), launchChromium()]);
    const alice = await openParticipant(a, first.url, { room, name: 'Alice' });
    await waitForState(alice, ['waiting', 'in-call']);
    const bob = await openParticipant(b, first.url, { room, name: 'Bob' });
    await Promise.all([waitForMediaFlowing(alice, 1, 30_000), waitForMediaFlowing(bob, 1, 30_000)]);

    first.process.kill('SIGKILL');
    await Promise.all([waitForState(alice, ['reconnecting']), waitForState(bob, ['reconnecting'])]);
    // During the outage the peer connections are untouched: frames keep being decoded.
    const before = (await remoteMedia(alice.page))[0]?.framesDecoded ?? 0;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const during = (await remoteMedia(alice.page))[0]?.framesDecoded ?? 0;
    assert.ok(during > before, `frames kept coming during the outage (${before} → ${during})`);

    await startRelayServer(['--port', port]);
    await Promise.all([waitForState(alice, ['in-call'], 30_000), waitForState(bob, ['in-call'], 30_000)]);
    const [aliceSees, bobSees] = await Promise.all([
      waitForMediaFlowing(alice, 1, 30_000),
      waitForMediaFlowing(bob, 1, 30_000),
    ]);
    assert.deepEqual(
      aliceSees.map((m) => m.name),
      ['Bob'],
    );
    assert.deepEqual(
      bobSees.map((m) => m.name),
      ['Alice'],
    );

    // The call is whole: everyone can still negotiate. A newcomer joins the restarted relay and the mesh has exactly
    // one peer, one tile and one decoding connection per other person everywhere (no duplicates left from before).
    const carol = await openParticipant(await launchChromium(), `${first.url}`, { room, name: 'Carol' });
    const everyone = [alice, bob, carol];
    const seen = await Promise.all(everyone.map((p) => waitForMediaFlowing(p, 2, 30_000)));
    for (const [i, p] of everyone.entries()) {
      const others = everyone
        .filter((q) => q !== p)
        .map((q) => q.name)
        .sort();
      assert.deepEqual(seen[i]!.map((m) => m.name).sort(), others, `${p.name} sees the two others`);
      const view = await chatView(p.page);
      assert.equal(view.state, 'in-call');
      assert.deepEqual(view.peers.map((q) => q.name).sort(), others, `${p.name}: one peer entry per person`);
      assert.deepEqual([...view.tiles].sort(), view.peers.map((q) => q.id).sort(), `${p.name}: one tile per peer`);
    }
  });
});
