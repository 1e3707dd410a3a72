/**
 * Issue 11 end to end: two browsers in one call on two different relay processes that share their rooms through a
 * real redis-server, reached through small TCP proxies standing in for the load balancer (each prefers its own relay
 * and falls back to the other one when it refuses the connection). Media flows both ways; then the relay of one is
 * SIGKILLed: its visitor's element reconnects through its proxy to the living relay and resumes, the video never
 * stops, nobody leaves the call, and a newcomer sees (and is seen by) both.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import {
  chatView,
  closeAll,
  launchChromium,
  onTeardown,
  openParticipant,
  remoteMedia,
  startRelayServer,
  uniqueRoom,
  waitForMediaFlowing,
  waitForState,
  withTimeout,
} from './harness.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A redis-server on a Unix socket in a temporary directory, stopped at teardown. */
async function startRedis(): Promise<string> {
  if (spawnSync('sh', ['-c', 'command -v redis-server']).status !== 0) {
    throw new Error('redis-server is missing: bash scripts/ensure-system-deps.sh --with-redis');
  }
  const dir = mkdtempSync(join(tmpdir(), 'video-chat-e2e-redis-'));
  const socket = join(dir, 'redis.sock');
  const child = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--save', '', '--appendonly', 'no'], {
    cwd: dir,
    stdio: 'ignore',
  });
  onTeardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    rmSync(dir, { recursive: true, force: true });
  });
  for (let i = 0; i < 500; i++) {
    if (spawnSync('redis-cli', ['-s', socket, 'PING'], { encoding: 'utf8' }).stdout.trim() === 'PONG') {
      return `unix://${socket}`;
    }
    await sleep(10);
  }
  throw new Error('redis-server did not answer PING');
}

/** A TCP proxy to the first of `ports` that accepts the connection (a load balancer skipping a dead upstream). */
async function startProxy(ports: number[]): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    client.on('error', () => {});
    client.on('close', () => sockets.delete(client));
    client.pause();
    const attempt = (i: number): void => {
      if (i >= ports.length) {
        client.destroy();
        return;
      }
      const upstream = connect(ports[i] as number, '127.0.0.1');
      upstream.once('error', () => attempt(i + 1));
      upstream.once('connect', () => {
        sockets.add(upstream);
        upstream.removeAllListeners('error');
        upstream.on('error', () => client.destroy());
        upstream.on('close', () => client.destroy());
        client.on('close', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    attempt(0);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  onTeardown(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

describe('a call across two relay processes sharing Redis', { timeout: 180_000 }, () => {
  afterEach(closeAll);

  it('media both ways across processes; one relay SIGKILLed: the call goes on, nobody leaves, a newcomer sees both', async () => {
    const redisUrl = await startRedis();
    const flags = ['--redis-url', redisUrl, '--node-lease-ms', '1000', '--sweep-interval-ms', '200'];
    const [relayA, relayB] = await Promise.all([startRelayServer(flags), startRelayServer(flags)]);
    const portA = Number(new URL(relayA.url).port);
    const portB = Number(new URL(relayB.url).port);
    // Ada's way in prefers relay A, Bob's prefers relay B; each falls back to the other.
    const viaA = await startProxy([portA, portB]);
    const viaB = await startProxy([portB, portA]);
    const room = uniqueRoom('cluster');
    const [a, b] = await Promise.all([launchChromium(), launchChromium()]);
    const ada = await openParticipant(a, viaA, { room, name: 'Ada' });
    await waitForState(ada, ['waiting', 'in-call']);
    const bob = await openParticipant(b, viaB, { room, name: 'Bob' });
    await Promise.all([waitForMediaFlowing(ada, 1, 30_000), waitForMediaFlowing(bob, 1, 30_000)]);

    const bobAsAdaSaw = (await chatView(ada.page)).peers.map((q) => q.id);
    relayB.process.kill('SIGKILL');
    // Bob's element reconnects (through his proxy, to relay A) and resumes; the media never stopped.
    const before = (await remoteMedia(bob.page))[0]?.framesDecoded ?? 0;
    await sleep(1_000);
    await waitForState(bob, ['in-call'], 30_000);
    const after = (await remoteMedia(bob.page))[0]?.framesDecoded ?? 0;
    assert.ok(after > before, `Bob's video of Ada kept decoding (${before} → ${after})`);
    // Longer than lease + sweep of the test's relays (1 + 0.2 s): relay B was declared gone, and nobody left.
    await sleep(2_000);
    for (const [p, other] of [
      [ada, 'Bob'],
      [bob, 'Ada'],
    ] as const) {
      const view = await chatView(p.page);
      assert.equal(view.state, 'in-call', `${p.name} is in the call`);
      assert.deepEqual(
        view.peers.map((q) => q.name),
        [other],
        `${p.name} still sees ${other}`,
      );
    }

    assert.deepEqual(
      (await chatView(ada.page)).peers.map((q) => q.id),
      bobAsAdaSaw,
      'Bob resumed with his ID (no peer-left, no new participant)',
    );

    // A newcomer (through Bob's way in, now relay A) sees both, and both see her.
    const cyd = await openParticipant(await launchChromium(), viaB, { room, name: 'Cyd' });
    const everyone = [ada, bob, cyd];
    const seen = await withTimeout(
      Promise.all(everyone.map((p) => waitForMediaFlowing(p, 2, 40_000))),
      60_000,
      'everyone seeing the two others',
    );
    for (const [i, p] of everyone.entries()) {
      assert.deepEqual(
        seen[i]!.map((m) => m.name).sort(),
        everyone
          .filter((q) => q !== p)
          .map((q) => q.name)
          .sort(),
        `${p.name} sees the two others`,
      );
    }
  });
});
