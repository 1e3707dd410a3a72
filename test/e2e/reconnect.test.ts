/**
 * The relay dies (SIGKILL) in the middle of a call: both visitors see "reconnecting" while their video keeps decoding
 * (media is peer to peer), and when a relay is back on the same port they are in the call together again.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import {
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
    const [aliceSees, bobSees] = await Promise.all([waitForMediaFlowing(alice, 1, 30_000), waitForMediaFlowing(bob, 1, 30_000)]);
    assert.deepEqual(aliceSees.map((m) => m.name), ['Bob']);
    assert.deepEqual(bobSees.map((m) => m.name), ['Alice']);
  });
});
