/**
 * Starts a real coturn (`turnserver`, Debian package `coturn`) for end-to-end tests, on loopback, with TURN REST API
 * credentials (draft-uberti-behave-turn-rest-00 §2.2, coturn's `use-auth-secret`): `username = "<unix expiry>:<id>"`,
 * `credential = base64(HMAC-SHA1(secret, username))`. The command line is the one in the project's browser-testing
 * notes; `--allow-loopback-peers` because every peer here is on loopback.
 *
 * Each instance gets its own listening port and its own relay port range, so several may run at once. Readiness is a
 * real STUN Binding request (RFC 8489) answered on the listening port. Everything started is registered with the e2e
 * harness's teardown ({@link closeAll}), and SIGKILLed if the test process exits first.
 *
 * A missing `turnserver` is an error naming the fix (`scripts/ensure-system-deps.sh --with-turn`), never a skip.
 *
 * @module
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertNetworkIsolation } from './browsers.js';
import { onTeardown, withTimeout } from './harness.js';

/** A running coturn. */
export interface Coturn {
  /** UDP port it listens on (127.0.0.1). */
  port: number;
  /** `turn:127.0.0.1:<port>?transport=udp` (RFC 7065). */
  url: string;
  /** The shared secret (`static-auth-secret`). */
  secret: string;
  process: ChildProcess;
  /** TURN REST API credentials for `id`, valid for `ttlSeconds` (default 3600), as one RTCIceServer. */
  iceServer(id: string, ttlSeconds?: number): RTCIceServer;
  /** Freezes the server (SIGSTOP): packets to it are no longer answered, as if the network to it were cut. */
  pause(): void;
  /** Resumes a paused server (SIGCONT). */
  resume(): void;
  /** The last lines of coturn's log, for diagnostics. */
  log(): string;
  /** Stops it (SIGCONT, SIGTERM, then SIGKILL after 3 s) and removes its files. Idempotent. */
  close(): Promise<void>;
}

/** Absolute path of `turnserver`; throws with the fix when it is not installed. */
export function turnserverPath(): string {
  try {
    const found = execFileSync('sh', ['-c', 'command -v turnserver'], { encoding: 'utf8' }).trim();
    if (found) return found;
  } catch {
    // not installed: fall through
  }
  throw new Error(
    'turnserver (coturn) is not installed: run `bash scripts/ensure-system-deps.sh --with-turn` ' +
      "(as root on Debian it installs the 'coturn' package) or `apt-get install coturn`",
  );
}

const processes = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of processes) child.kill('SIGKILL');
});

/** Each instance in this process gets its own 100-port relay range from 49152 up. */
let instances = 0;

/** A free UDP port on 127.0.0.1 (bound, read, released). */
async function freeUdpPort(address: string): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, address, resolve);
  });
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

/** Sends one STUN Binding request (RFC 8489 §6) to 127.0.0.1:port; resolves true when a response with our id comes. */
async function stunAnswers(address: string, port: number, timeoutMs: number): Promise<boolean> {
  const socket = createSocket('udp4');
  const id = randomBytes(12);
  const request = Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]), id]);
  try {
    return await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      socket.on('error', () => {
        clearTimeout(timer);
        resolve(false);
      });
      socket.on('message', (message) => {
        if (message.length >= 20 && message.subarray(8, 20).equals(id)) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      socket.send(request, port, address);
    });
  } finally {
    socket.close();
  }
}

/**
 * Starts `turnserver` on 127.0.0.1 and resolves once it answers STUN (≤ 10 s).
 * @param options.secret the TURN REST shared secret (default: random).
 */
export async function startCoturn(options: { secret?: string; address?: string } = {}): Promise<Coturn> {
  assertNetworkIsolation();
  const binary = turnserverPath();
  const secret = options.secret ?? randomBytes(24).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'video-chat-coturn-'));
  const address = options.address ?? '127.0.0.1';
  const port = await freeUdpPort(address);
  const minPort = 49152 + (instances++ % 100) * 100;
  const child = spawn(
    binary,
    [
      '-n',
      `--listening-ip=${address}`,
      `--relay-ip=${address}`,
      `--listening-port=${port}`,
      `--min-port=${minPort}`,
      `--max-port=${minPort + 99}`,
      '--realm=example.test',
      '--use-auth-secret',
      `--static-auth-secret=${secret}`,
      '--allow-loopback-peers',
      '--no-tls',
      '--no-dtls',
      '--no-cli',
      '--fingerprint',
      `--pidfile=${join(dir, 'turnserver.pid')}`,
      `--userdb=${join(dir, 'turndb.sqlite')}`,
      `--log-file=${join(dir, 'turn.log')}`,
      '--simple-log',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  processes.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-5_000);
  });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      processes.delete(child);
      resolve();
    }),
  );
  const log = (): string => {
    try {
      return readFileSync(join(dir, 'turn.log'), 'utf8').split('\n').slice(-30).join('\n');
    } catch {
      return stderr;
    }
  };
  const alive = () => child.exitCode === null && child.signalCode === null;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    if (alive()) {
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      try {
        await withTimeout(exited, 3_000, 'stopping coturn');
      } catch {
        child.kill('SIGKILL');
        await withTimeout(exited, 5_000, 'killing coturn');
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  onTeardown(close);

  const deadline = Date.now() + 10_000;
  for (let i = 0; i < 50 && Date.now() < deadline && alive(); i++) {
    if (await stunAnswers(address, port, 200)) {
      return {
        port,
        url: `turn:${address}:${port}?transport=udp`,
        secret,
        process: child,
        iceServer(id, ttlSeconds = 3600) {
          const username = `${Math.floor(Date.now() / 1000) + ttlSeconds}:${id}`;
          const credential = createHmac('sha1', secret).update(username).digest('base64');
          return { urls: [`turn:${address}:${port}?transport=udp`], username, credential };
        },
        pause: () => child.kill('SIGSTOP'),
        resume: () => child.kill('SIGCONT'),
        log,
        close,
      };
    }
  }
  const why = alive() ? 'did not answer STUN within 10 s' : `exited (${child.signalCode ?? child.exitCode})`;
  const detail = log();
  await close();
  throw new Error(`coturn on ${address}:${port} ${why}; log:\n${detail}`);
}
