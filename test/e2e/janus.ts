/**
 * Starts a real Janus (Debian package `janus`, 1.1.x) for tests, inside scripts/netns.sh's private network namespace,
 * with a minimal hardened configuration written into a temporary directory:
 *
 * - only the VideoRoom plugin and the WebSocket transport are loaded (the plugin and transport folders hold a
 *   symbolic link to those two libraries and nothing else; no event handlers, no loggers);
 * - the WebSocket API on 127.0.0.1 at a free port, plain `ws` (no `wss`, no admin API);
 * - an `api_secret` every request must carry, and the VideoRoom `admin_key` (rooms can only be created with it),
 *   `string_ids` (our room names and peer IDs are strings) and `lock_rtp_forward`; no demo rooms;
 * - a small RTP port range per instance, and ICE only on the namespace's `dflt0` address (libnice ignores loopback;
 *   the browsers in the namespace reach 10.255.255.1 too).
 *
 * Readiness is a real `info` request answered on the WebSocket. Everything started is registered with the e2e
 * harness's teardown, and SIGKILLed if the test process exits first. A missing `janus` is an error naming the fix
 * (`scripts/ensure-system-deps.sh --with-janus`), never a skip; outside the namespace it refuses to start.
 *
 * @module
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JanusClient } from '../../server/src/sfu/janus.js';
import { onTeardown, withTimeout } from './harness.js';

/** A running Janus. */
export interface Janus {
  /** `ws://127.0.0.1:<port>`: the private API URL (the relay's `--janus-url`). */
  url: string;
  /** Its `api_secret`. */
  apiSecret: string;
  /** The VideoRoom plugin's `admin_key`. */
  adminKey: string;
  process: ChildProcess;
  /** The last lines Janus logged, for diagnostics. */
  log(): string;
  /**
   * The VideoRoom rooms Janus holds now, private ones included (a `list` request with the admin key).
   * @returns the room IDs.
   */
  rooms(): Promise<string[]>;
  /** Stops it (SIGTERM, then SIGKILL after 3 s) and removes its files. Idempotent. */
  close(): Promise<void>;
}

/** Where Debian installs Janus's plugins and transports. */
const LIB = '/usr/lib/x86_64-linux-gnu/janus';

/** Absolute path of `janus`; throws with the fix when it is not installed. */
export function janusPath(): string {
  try {
    const found = execFileSync('sh', ['-c', 'command -v janus'], { encoding: 'utf8' }).trim();
    if (found) return found;
  } catch {
    // not installed: fall through
  }
  throw new Error(
    'janus is not installed: run `bash scripts/ensure-system-deps.sh --with-janus` ' +
      "(as root on Debian it installs the 'janus' package) or `apt-get install janus`",
  );
}

const processes = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of processes) child.kill('SIGKILL');
});

/** Each instance in this process gets its own 100-port RTP range from 20000 up. */
let instances = 0;

async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP port');
  return address.port;
}

/** Writes the configuration files and the plugin/transport folders into `dir`. */
function writeConfig(dir: string, port: number, apiSecret: string, adminKey: string, rtp: [number, number]): void {
  for (const [folder, library] of [
    ['plugins', 'plugins/libjanus_videoroom.so'],
    ['transports', 'transports/libjanus_websockets.so'],
  ] as const) {
    mkdirSync(join(dir, folder));
    symlinkSync(join(LIB, library), join(dir, library));
  }
  mkdirSync(join(dir, 'none'));
  writeFileSync(
    join(dir, 'janus.jcfg'),
    `general: {
  configs_folder = "${dir}"
  plugins_folder = "${dir}/plugins"
  transports_folder = "${dir}/transports"
  events_folder = "${dir}/none"
  loggers_folder = "${dir}/none"
  debug_level = 4
  api_secret = "${apiSecret}"
  server_name = "video-chat-test"
  session_timeout = 60
  protected_folders = ["/bin", "/boot", "/dev", "/etc", "/lib", "/proc", "/sbin", "/sys", "/usr", "/var"]
}
media: {
  rtp_port_range = "${rtp[0]}-${rtp[1]}"
}
nat: {
  nice_debug = false
  ice_enforce_list = "dflt0"
}
plugins: {
}
transports: {
}
events: {
  broadcast = false
}
`,
  );
  writeFileSync(
    join(dir, 'janus.plugin.videoroom.jcfg'),
    `general: {
  admin_key = "${adminKey}"
  lock_rtp_forward = true
  string_ids = true
}
`,
  );
  writeFileSync(
    join(dir, 'janus.transport.websockets.jcfg'),
    `general: {
  json = "plain"
  ws = true
  ws_port = ${port}
  ws_ip = "127.0.0.1"
  wss = false
}
admin: {
  admin_ws = false
  admin_wss = false
}
`,
  );
}

/** Starts `janus` and resolves once its API answers `info` (≤ 10 s). */
export async function startJanus(): Promise<Janus> {
  if (process.env['VIDEO_CHAT_NETNS'] !== '1') {
    throw new Error(
      'refusing to start Janus outside the private network namespace: run the test through scripts/netns.sh',
    );
  }
  const binary = janusPath();
  const dir = mkdtempSync(join(tmpdir(), 'video-chat-janus-'));
  const port = await freeTcpPort();
  // Hex, not base64url: a secret that starts with '-' reads as an option when passed as a separate argument.
  const apiSecret = randomBytes(18).toString('hex');
  const adminKey = randomBytes(18).toString('hex');
  const rtpStart = 20000 + (instances++ % 50) * 100;
  writeConfig(dir, port, apiSecret, adminKey, [rtpStart, rtpStart + 99]);
  const child = spawn(binary, ['-C', join(dir, 'janus.jcfg'), '-F', dir, '-o'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  processes.add(child);
  let output = '';
  const append = (chunk: string): void => {
    output = (output + chunk).slice(-20_000);
  };
  child.stdout!.setEncoding('utf8').on('data', append);
  child.stderr!.setEncoding('utf8').on('data', append);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      processes.delete(child);
      resolve();
    }),
  );
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    if (alive()) {
      child.kill('SIGTERM');
      try {
        await withTimeout(exited, 3_000, 'stopping janus');
      } catch {
        child.kill('SIGKILL');
        await withTimeout(exited, 5_000, 'killing janus');
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  onTeardown(close);
  const url = `ws://127.0.0.1:${port}`;
  const log = (): string => output.split('\n').slice(-40).join('\n');

  const rooms = async (): Promise<string[]> => {
    const client = await JanusClient.connect({ url, apiSecret });
    try {
      const reply = await client.request({ janus: 'create' });
      const session = (reply['data'] as { id: number }).id;
      const attached = await client.request({ janus: 'attach', session_id: session, plugin: 'janus.plugin.videoroom' });
      const handle = (attached['data'] as { id: number }).id;
      const listed = await client.request({
        janus: 'message',
        session_id: session,
        handle_id: handle,
        body: { request: 'list', admin_key: adminKey },
      });
      await client.request({ janus: 'destroy', session_id: session });
      const data = (listed['plugindata'] as { data: { list?: { room: string }[] } }).data;
      return (data.list ?? []).map((room) => String(room.room));
    } finally {
      client.close();
    }
  };

  const deadline = Date.now() + 10_000;
  for (let i = 0; i < 50 && Date.now() < deadline && alive(); i++) {
    try {
      const client = await JanusClient.connect({ url, apiSecret, connectTimeoutMs: 500, requestTimeoutMs: 1_000 });
      try {
        await client.request({ janus: 'info' });
      } finally {
        client.close();
      }
      return { url, apiSecret, adminKey, process: child, log, rooms, close };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const why = alive() ? 'did not answer info within 10 s' : `exited (${child.signalCode ?? child.exitCode})`;
  const detail = log();
  await close();
  throw new Error(`janus on ${url} ${why}; log:\n${detail}`);
}
