/**
 * Helpers for the tests of rooms shared through Redis: a real `redis-server` per test (Unix socket, or TCP on a free
 * port of 127.0.0.1), real relay processes sharing it, and a small TCP proxy standing in for the load balancer
 * (round robin over the relays still listening, no stickiness). Every wait is bounded.
 * @module
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';
import type { WelcomeMessage } from '../../../src/protocol/relay.js';
import {
  sample,
  startRelayProcess,
  tempDir,
  TestClient,
  waitFor,
  withTimeout,
  WAIT_MS,
  type RelayProcess,
} from './helpers.js';

const run = promisify(execFile);

/**
 * Short cluster timings, so that failure tests take seconds: lease 1.5 s, sweep 0.2 s, grace 1.5 s. (A lease much
 * shorter gets a relay declared gone when the shared machine starves it for that long: it then fences itself.)
 */
export const FAST = { leaseMs: 1500, sweepMs: 200, graceMs: 1500 } as const;

/** Timings for tests that exercise no failure: the default 5 s lease, so that a starved relay is never fenced. */
export const CALM_ARGS = ['--node-lease-ms', '5000', '--sweep-interval-ms', '1000'] as const;

/** The relay flags for {@link FAST}. */
export const FAST_ARGS = [
  '--node-lease-ms',
  String(FAST.leaseMs),
  '--sweep-interval-ms',
  String(FAST.sweepMs),
  '--resume-grace-ms',
  String(FAST.graceMs),
] as const;

/** A redis-server of one test. */
export interface RedisServer {
  /** `unix:///…/redis.sock` or `redis://127.0.0.1:PORT`. */
  readonly url: string;
  readonly child: ChildProcess;
  /** `redis-cli` with these arguments against this server; its stdout, trimmed. */
  cli(...args: string[]): Promise<string>;
  /** Kills it (SIGKILL by default) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again, empty, on the same socket or port. */
  restart(): Promise<void>;
}

/**
 * Starts `redis-server` without persistence in a temporary directory (removed after the test), on a Unix socket, or
 * on TCP 127.0.0.1 with `tcp`. Ready when `PING` answers.
 */
export async function startRedis(t: TestContext, options: { tcp?: boolean } = {}): Promise<RedisServer> {
  const dir = await tempDir();
  const socket = join(dir.path, 'redis.sock');
  const port = options.tcp ? await freePort() : 0;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir.path];
  if (!options.tcp) args.push('--unixsocket', socket, '--unixsocketperm', '700');
  const target = options.tcp ? ['-h', '127.0.0.1', '-p', String(port)] : ['-s', socket];
  let child: ChildProcess;
  const cli = async (...cmd: string[]): Promise<string> => {
    const { stdout } = await withTimeout(run('redis-cli', [...target, ...cmd]), WAIT_MS, `redis-cli ${cmd[0]}`);
    return stdout.trim();
  };
  const launch = async (): Promise<void> => {
    child = spawn('redis-server', args, { stdio: 'ignore' });
    await waitForAsync(async () => (await cli('PING').catch(() => '')) === 'PONG', 'redis-server to answer PING');
  };
  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await withTimeout(exited, WAIT_MS, 'redis-server to exit');
  };
  await launch();
  t.after(async () => {
    await kill();
    await dir.remove();
  });
  return {
    url: options.tcp ? `redis://127.0.0.1:${port}` : `unix://${socket}`,
    get child() {
      return child;
    },
    cli,
    kill,
    restart: launch,
  };
}

/** Polls an async predicate every 20 ms until it holds; rejects after `ms`. */
export async function waitForAsync(predicate: () => Promise<boolean>, what: string, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A free TCP port on 127.0.0.1 (bound to port 0, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts `count` relay processes sharing `redis` (quiet logs, `timings`, `extra` flags); stopped after `t`. */
export async function startRelays(
  t: TestContext,
  redis: RedisServer,
  count: number,
  extra: readonly string[] = [],
  timings: readonly string[] = FAST_ARGS,
): Promise<RelayProcess[]> {
  const relays = await Promise.all(
    Array.from({ length: count }, () =>
      startRelayProcess(['--redis-url', redis.url, '--log-level', 'error', ...timings, ...extra]),
    ),
  );
  t.after(() => Promise.all(relays.map((r) => r.stop().catch(() => undefined))));
  return relays;
}

/** A relay's port, from its URL. */
export const portOf = (relay: RelayProcess): number => Number(new URL(relay.url).port);

/** The load balancer stand-in. */
export interface Proxy {
  /** `ws://127.0.0.1:PORT/`. */
  readonly wsUrl: string;
  /** Ports of the upstream relays each accepted connection went to, in order. */
  readonly routed: number[];
  close(): Promise<void>;
}

/**
 * A TCP proxy on 127.0.0.1 that hands each new connection to the next of `upstreams()` in turn (round robin, no
 * stickiness), skipping one that refuses the connection (a dead relay), as nginx's `proxy_next_upstream error` does.
 */
export async function startProxy(t: TestContext, upstreams: () => number[]): Promise<Proxy> {
  let turn = 0;
  const routed: number[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    client.pause();
    const ports = upstreams();
    const attempt = (tries: number): void => {
      if (tries >= ports.length) {
        client.destroy();
        return;
      }
      const port = ports[turn++ % ports.length] as number;
      const upstream = connect(port, '127.0.0.1');
      upstream.once('error', () => {
        upstream.destroy();
        attempt(tries + 1);
      });
      upstream.once('connect', () => {
        routed.push(port);
        sockets.add(upstream);
        upstream.removeAllListeners('error');
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
        upstream.on('close', () => {
          sockets.delete(upstream);
          client.destroy();
        });
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
  const close = async (): Promise<void> => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  };
  t.after(close);
  return { wsUrl: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`, routed, close };
}

/**
 * A TCP proxy in front of Redis (for one relay) whose individual connections can be frozen: bytes stop flowing both
 * ways but both sockets stay open, as on a path that silently died.
 */
export interface FreezableProxy {
  /** `redis://127.0.0.1:PORT`. */
  readonly url: string;
  /** Freezes the connection whose upstream (proxy → Redis) local port is `port`. @returns whether one was found. */
  freeze(port: number): boolean;
  /**
   * Holds what Redis sends on that connection (kept in order, not lost) until {@link release}: a relay's subscriber
   * that is merely late. @returns whether one was found.
   */
  hold(port: number): boolean;
  /** Sends on what {@link hold} kept, in order, and lets the connection flow again. */
  release(port: number): void;
  close(): Promise<void>;
}

export async function startFreezableProxy(t: TestContext, redisPort: number): Promise<FreezableProxy> {
  const pairs = new Map<number, { client: Socket; upstream: Socket; frozen: boolean; held: Buffer[] | undefined }>();
  const server = createServer((client) => {
    client.on('error', () => {});
    const upstream = connect(redisPort, '127.0.0.1');
    upstream.on('error', () => client.destroy());
    upstream.once('connect', () => {
      const pair = { client, upstream, frozen: false, held: undefined as Buffer[] | undefined };
      pairs.set(upstream.localPort ?? 0, pair);
      client.on('data', (chunk: Buffer) => {
        if (!pair.frozen) upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => {
        if (pair.held) pair.held.push(chunk);
        else if (!pair.frozen) client.write(chunk);
      });
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const close = async (): Promise<void> => {
    for (const { client, upstream } of pairs.values()) {
      client.destroy();
      upstream.destroy();
    }
    await new Promise((resolve) => server.close(resolve));
  };
  t.after(close);
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    freeze(port) {
      const pair = pairs.get(port);
      if (pair) pair.frozen = true;
      return pair !== undefined;
    },
    hold(port) {
      const pair = pairs.get(port);
      if (pair) pair.held ??= [];
      return pair !== undefined;
    },
    release(port) {
      const pair = pairs.get(port);
      const held = pair?.held;
      if (!pair || !held) return;
      pair.held = undefined;
      for (const chunk of held) pair.client.write(chunk);
    },
    close,
  };
}

/** The local ports of Redis's `video-chat-subscriber` clients (as `CLIENT LIST` shows them): one per relay. */
export async function subscriberPorts(redis: RedisServer): Promise<number[]> {
  const list = await redis.cli('CLIENT', 'LIST');
  return list
    .split('\n')
    .filter((line) => line.includes('name=video-chat-subscriber'))
    .map((line) => Number(/ addr=[^ ]*:(\d+) /.exec(` ${line}`)?.[1]));
}

/** The value of `name` in a relay's `/metrics` (unlabelled, or with `labels`). */
export async function metric(
  relay: RelayProcess,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  const res = await withTimeout(fetch(new URL('/metrics', relay.url)), WAIT_MS, 'metrics');
  return sample(await res.text(), name, labels);
}

export { waitFor };

/**
 * Three participants of `room`, each on the relay URL given with it, joined in this order: Ada, Bob and Cyd. Every
 * client in `clients` (theirs, and any the test pushes later) is closed when the test ends. The `peer-joined` messages
 * their joins cause are left for the test to read.
 */
export async function joinThree(
  t: TestContext,
  room: string,
  urls: readonly [string, string, string],
): Promise<{
  clients: TestClient[];
  members: [TestClient, TestClient, TestClient];
  welcomes: [WelcomeMessage, WelcomeMessage, WelcomeMessage];
}> {
  const members: [TestClient, TestClient, TestClient] = [
    await TestClient.connect(urls[0]),
    await TestClient.connect(urls[1]),
    await TestClient.connect(urls[2]),
  ];
  const clients: TestClient[] = [...members];
  t.after(() => Promise.all(clients.map((c) => c.close())));
  const welcomes: [WelcomeMessage, WelcomeMessage, WelcomeMessage] = [
    await members[0].join(room, 'Ada'),
    await members[1].join(room, 'Bob'),
    await members[2].join(room, 'Cyd'),
  ];
  return { clients, members, welcomes };
}
