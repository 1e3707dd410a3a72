/**
 * Test helpers for the relay: a typed WebSocket client that collects server messages, and a fixture that starts a
 * real server on 127.0.0.1, port 0, and closes everything it opened. Every wait is bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Socket } from 'node:net';
import { Writable } from 'node:stream';
import type { TestContext } from 'node:test';
import { WebSocket, type ClientOptions } from 'ws';
import { parseServerMessage, type ServerMessage, type WelcomeMessage } from '../../../src/protocol/relay.js';
import { startServer, type RunningServer, type ServerOptions } from '../../../server/src/index.js';
import { createLogger, type Logger, type LogLevel } from '../../../server/src/log.js';

/** Default bound for any single wait, in ms: generous for a loaded machine (a passing wait ends as soon as it can). */
export const WAIT_MS = 10_000;

type MessageOf<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

/** Close code and reason as the client saw them. */
export interface CloseInfo {
  code: number;
  reason: string;
}

import { withTimeout } from '../../with-timeout.js';

export { withTimeout };

/** Polls `predicate` every 5 ms until it holds; rejects after `ms`. */
export async function waitFor(predicate: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

interface Waiter {
  type: ServerMessage['type'];
  resolve: (message: ServerMessage) => void;
  reject: (error: Error) => void;
}

let syncCounter = 0;

/**
 * A relay client. Every text frame is checked with the protocol's own `parseServerMessage`, so the tests also prove
 * that the relay speaks the protocol; a frame that does not parse makes every pending and later `next` fail.
 */
export class TestClient {
  readonly socket: WebSocket;
  /** Resolves when the socket has closed. */
  readonly closed: Promise<CloseInfo>;
  readonly #queue: ServerMessage[] = [];
  readonly #waiters: Waiter[] = [];
  #violation: Error | undefined;
  #closeInfo: CloseInfo | undefined;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        this.#closeInfo = { code, reason: reason.toString('utf8') };
        for (const waiter of this.#waiters.splice(0)) {
          waiter.reject(new Error(`socket closed (${code}) while waiting for ${waiter.type}`));
        }
        resolve(this.#closeInfo);
      });
    });
    socket.on('message', (data, isBinary) => this.#receive(isBinary ? data : String(data)));
  }

  /** Opens a connection to `url` and waits (bounded) until it is open. */
  static async connect(url: string, options: ClientOptions = {}): Promise<TestClient> {
    const socket = new WebSocket(url, options);
    // As in the relay: a listener first, so a failing socket rejects instead of crashing the test process.
    const opened = new Promise<void>((resolve, reject) => {
      socket.on('error', reject);
      socket.once('open', () => resolve());
      socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode} instead of upgrade`)));
    });
    const client = new TestClient(socket);
    try {
      await withTimeout(opened, WAIT_MS, `connection to ${url}`);
    } catch (error) {
      socket.terminate();
      throw error;
    }
    return client;
  }

  /** Sends `message` as JSON text. */
  send(message: unknown): void {
    this.socket.send(JSON.stringify(message));
  }

  /** Sends a raw frame: a string as a text frame, a Buffer as a binary frame. */
  sendRaw(data: string | Buffer): void {
    this.socket.send(data, { binary: Buffer.isBuffer(data) });
  }

  /**
   * The next not-yet-taken message of `type` (earlier ones of other types stay queued). Waits up to `ms`.
   */
  next<T extends ServerMessage['type']>(type: T, ms = WAIT_MS): Promise<MessageOf<T>> {
    if (this.#violation) return Promise.reject(this.#violation);
    const index = this.#queue.findIndex((m) => m.type === type);
    if (index !== -1) return Promise.resolve(this.#queue.splice(index, 1)[0] as MessageOf<T>);
    if (this.#closeInfo) return Promise.reject(new Error(`socket closed (${this.#closeInfo.code}) before ${type}`));
    const what = `${type} (queued: ${this.#queue.map((m) => m.type).join(', ') || 'nothing'})`;
    return new Promise<MessageOf<T>>((resolve, reject) => {
      const waiter: Waiter = {
        type,
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message as MessageOf<T>);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        // A timed-out waiter must not swallow a message that arrives later.
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      }, ms);
      this.#waiters.push(waiter);
    });
  }

  /** Sends `join` (with `extra` fields, e.g. a `token`) and returns the `welcome`. */
  async join(room: string, name?: string, extra: Record<string, unknown> = {}): Promise<WelcomeMessage> {
    this.send(name === undefined ? { type: 'join', room, ...extra } : { type: 'join', room, name, ...extra });
    return this.next('welcome');
  }

  /**
   * A barrier: sends a frame the relay must reject and waits for that very error. Frames on one socket are answered
   * in order, so once this resolves every message the relay queued for this client before has arrived, and
   * "nothing was delivered" can be asserted without sleeping.
   */
  async sync(): Promise<void> {
    const marker = `sync-${++syncCounter}`;
    this.send({ type: marker });
    const others: ServerMessage[] = [];
    for (;;) {
      const error = await this.next('error');
      if (error.message.includes(JSON.stringify(marker))) break;
      others.push(error);
    }
    // Errors that were not ours stay queued, ahead of later ones, for the test to look at.
    this.#queue.unshift(...others);
  }

  /** Messages received but not taken by `next`, optionally only of `type`. */
  pending(type?: ServerMessage['type']): ServerMessage[] {
    return this.#queue.filter((m) => type === undefined || m.type === type);
  }

  /** Closes (normal closure) and waits, bounded, for the close; terminates if the handshake does not finish. */
  async close(): Promise<CloseInfo> {
    if (this.socket.readyState === WebSocket.CONNECTING || this.socket.readyState === WebSocket.OPEN) {
      this.socket.close(1000);
    }
    try {
      return await withTimeout(this.closed, WAIT_MS, 'close');
    } catch {
      this.socket.terminate();
      return withTimeout(this.closed, WAIT_MS, 'close after terminate');
    }
  }

  #receive(raw: unknown): void {
    const parsed = parseServerMessage(raw);
    if (!parsed.ok) {
      this.#violation = new Error(`relay sent an invalid frame: ${parsed.error.message}: ${String(raw)}`);
      for (const waiter of this.#waiters.splice(0)) waiter.reject(this.#violation);
      return;
    }
    const message = parsed.value;
    const index = this.#waiters.findIndex((w) => w.type === message.type);
    if (index === -1) {
      this.#queue.push(message);
      return;
    }
    const [waiter] = this.#waiters.splice(index, 1);
    waiter?.resolve(message);
  }
}

/** A server plus everything the test opened on it, closed together by {@link RelayEnv.close}. */
export interface RelayEnv {
  running: RunningServer;
  /** `ws://127.0.0.1:PORT/`. */
  wsUrl: string;
  /** Connects a client that is closed with the environment. */
  client(options?: ClientOptions): Promise<TestClient>;
  /** Connects and joins `room`; returns the client and its welcome. */
  joined(room: string, name?: string): Promise<{ client: TestClient; welcome: WelcomeMessage }>;
  close(): Promise<void>;
}

/** Opens a raw ws client to `url` (an `error` listener first, so a failure rejects); rejects after {@link WAIT_MS}. */
export async function openWebSocket(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url);
  socket.on('error', () => {});
  await withTimeout(
    new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    }),
    WAIT_MS,
    'connect',
  );
  return socket;
}

/** A relay environment for one test: started like {@link startRelayEnv}, closed after the test `t`. */
export async function relayEnv(t: TestContext, options?: ServerOptions): Promise<RelayEnv> {
  const e = await startRelayEnv(options);
  t.after(() => e.close());
  return e;
}

/** Options that keep a relay's logs out of the test output. */
export const QUIET = { logLevel: 'silent' } as const;

/**
 * Starts a server on 127.0.0.1, port 0, with `options` (silent unless a `logger` or `logLevel` is given). Register
 * `env.close` with `t.after`.
 */
export async function startRelayEnv(options: ServerOptions = {}): Promise<RelayEnv> {
  const quiet = options.logger === undefined && options.logLevel === undefined ? QUIET : {};
  const running = await startServer({ host: '127.0.0.1', port: 0, ...quiet, ...options });
  const wsUrl = running.url.replace(/^http/, 'ws');
  const clients: TestClient[] = [];
  const client = async (clientOptions?: ClientOptions): Promise<TestClient> => {
    const c = await TestClient.connect(wsUrl, clientOptions);
    clients.push(c);
    return c;
  };
  return {
    running,
    wsUrl,
    client,
    async joined(room, name) {
      const c = await client();
      return { client: c, welcome: await c.join(room, name) };
    },
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await running.close();
    },
  };
}

/** A temporary directory, removed by the returned `remove`. */
export async function tempDir(): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'video-chat-relay-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Every ordering of `items`. */
export function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

/** Log lines captured from a pino logger, parsed. */
export interface CapturedLogs {
  /** The logger to hand to the relay (`{ logger }`). */
  logger: Logger;
  /** Every line so far, parsed. */
  lines(): Record<string, unknown>[];
  /** Every line so far, raw: what an operator's log store would hold. */
  text(): string;
}

/** A pino logger at `level` whose output is kept in memory. */
export function captureLogs(level: LogLevel = 'trace'): CapturedLogs {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      text += String(chunk);
      callback();
    },
  });
  // The relay's own logger factory, so the capture has the real redaction settings.
  const logger = createLogger(level, sink);
  return {
    logger,
    lines: () =>
      text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    text: () => text,
  };
}

/** The value of one sample in a Prometheus text exposition, e.g. `sample(text, 'x_total', { code: 'a' })`. */
export function sample(exposition: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const got = (match[2] ?? '').split(',').filter(Boolean).sort().join(',');
    if (got === wanted) return Number(match[3]);
  }
  return undefined;
}

/** Stops reading from the client's TCP socket, like a browser tab that hangs: nothing it is sent is consumed. */
export function stopReading(client: TestClient): void {
  (client.socket as unknown as { _socket: Socket })._socket.pause();
}

/** A relay server in a child process (the `video-chat-relay` CLI), for tests that must survive or watch a crash. */
export interface RelayProcess {
  child: ChildProcess;
  /** `http://127.0.0.1:PORT/`. */
  url: string;
  wsUrl: string;
  stderr(): string;
  /** Exit code and signal once it exited. */
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** `GET /healthz` as JSON. */
  health(): Promise<{ status: string; connections: number; rooms: number; peers: number; redis?: string }>;
  /** SIGTERM, and the exit (bounded); SIGKILL if it does not exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `lib/server/src/cli.js --port 0 --host 127.0.0.1 ...args` and waits (bounded) for its listening line. */
export async function startRelayProcess(args: readonly string[]): Promise<RelayProcess> {
  const cli = fileURLToPath(new URL('../../../server/src/cli.js', import.meta.url));
  const { PORT: _port, HOST: _host, ...env } = process.env;
  const child = spawn(process.execPath, [cli, '--port', '0', '--host', '127.0.0.1', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-100_000)));
  const exit = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  let url: string;
  try {
    url = await withTimeout(
      new Promise<string>((resolve, reject) => {
        const check = (): void => {
          const match = /listening on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout);
          if (match?.[1]) resolve(match[1]);
        };
        child.stdout?.on('data', check);
        void exit.then(({ code }) => reject(new Error(`relay exited with ${code}: ${stderr}`)));
      }),
      3 * WAIT_MS,
      'the relay process to listen',
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    child,
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    stderr: () => stderr,
    exit,
    async health() {
      const res = await withTimeout(fetch(new URL('/healthz', url)), WAIT_MS, 'healthz');
      return (await res.json()) as {
        status: string;
        connections: number;
        rooms: number;
        peers: number;
        redis?: string;
      };
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      try {
        return await withTimeout(exit, 10_000, 'the relay process to exit');
      } catch (error) {
        child.kill('SIGKILL');
        throw error;
      }
    },
  };
}
