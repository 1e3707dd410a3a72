import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, it, type TestContext } from 'node:test';
import { TestClient, withTimeout, WAIT_MS } from './helpers.js';

/** lib/test/node/relay/cli.test.js → lib/server/src/cli.js */
const CLI = fileURLToPath(new URL('../../../server/src/cli.js', import.meta.url));

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns the CLI with a clean PORT/HOST environment; the child is killed at the end of the test if still running. */
function run(t: TestContext, args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const { PORT: _port, HOST: _host, ...rest } = process.env;
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...rest, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exit = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, stdout: () => out, stderr: () => err, exit };
}

/** Waits (bounded) for the listening line and returns the URL in it. */
async function listeningUrl(r: Run): Promise<string> {
  const line = /^video-chat relay listening on (http:\/\/[^ ]+) — open it in two tabs\n$/;
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (line.test(r.stdout())) resolve();
        else if (r.stdout().includes('\n')) reject(new Error(`unexpected output: ${r.stdout()}`));
      };
      r.child.stdout?.on('data', check);
      r.exit.then(({ code }) => reject(new Error(`exited with ${code}: ${r.stderr()}`)), reject);
      check();
    }),
    2 * WAIT_MS,
    'the listening line',
  );
  const url = line.exec(r.stdout())?.[1];
  assert.ok(url);
  return url;
}

describe('cli', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`prints one line with the real port, relays, and exits 0 on ${signal}`, async (t) => {
      const r = run(t, [
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--max-peers-per-room',
        '1',
        '--ice-servers',
        '[{"urls":"stun:stun.example.org"}]',
      ]);
      const url = await listeningUrl(r);
      const port = Number(new URL(url).port);
      assert.ok(port > 0, url);
      assert.equal(url, `http://127.0.0.1:${port}/`);

      const client = await TestClient.connect(url.replace(/^http/, 'ws'));
      const second = await TestClient.connect(url.replace(/^http/, 'ws'));
      t.after(() => Promise.all([client.close(), second.close()]));
      const welcome = await client.join('cli');
      assert.deepEqual(welcome.iceServers, [{ urls: 'stun:stun.example.org' }]);
      second.send({ type: 'join', room: 'cli' });
      assert.equal((await second.next('error')).code, 'room-full', '--max-peers-per-room applied');

      r.child.kill(signal);
      assert.deepEqual(await withTimeout(r.exit, 2 * WAIT_MS, 'exit'), { code: 0, signal: null });
      assert.equal((await client.closed).code, 1012);
      assert.equal(r.stdout().split('\n').filter(Boolean).length, 1, 'exactly one line on stdout');
    });
  }

  it('drains on SIGTERM: every client gets 1012 (none 1006), and the process exits 0 within 10 s', async (t) => {
    const r = run(t, ['--port', '0', '--host', '127.0.0.1']);
    const ws = (await listeningUrl(r)).replace(/^http/, 'ws');
    const clients = await Promise.all(Array.from({ length: 24 }, () => TestClient.connect(ws)));
    t.after(() => Promise.all(clients.map((c) => c.close())));
    // Most joined (rooms of three), some not: both kinds must be closed properly.
    await Promise.all(clients.slice(0, 18).map((c, i) => c.join(`room-${i % 6}`)));
    const started = Date.now();
    r.child.kill('SIGTERM');
    const codes = await Promise.all(clients.map(async (c) => (await withTimeout(c.closed, 10_000, 'close')).code));
    assert.deepEqual(new Set(codes), new Set([1012]));
    assert.deepEqual(await withTimeout(r.exit, 10_000, 'exit'), { code: 0, signal: null });
    assert.ok(Date.now() - started < 10_000);
    assert.match(r.stderr(), /"msg":"shutting down"/);
  });

  it('takes the port and host from PORT and HOST', async (t) => {
    const r = run(t, [], { PORT: '0', HOST: '127.0.0.1' });
    const url = await listeningUrl(r);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    r.child.kill('SIGTERM');
    assert.equal((await withTimeout(r.exit, 2 * WAIT_MS, 'exit')).code, 0);
  });

  it('applies settings from the environment', async (t) => {
    const r = run(t, [], { PORT: '0', HOST: '127.0.0.1', VIDEO_CHAT_MAX_PEERS_PER_ROOM: '1' });
    const ws = (await listeningUrl(r)).replace(/^http/, 'ws');
    const first = await TestClient.connect(ws);
    const second = await TestClient.connect(ws);
    t.after(() => Promise.all([first.close(), second.close()]));
    await first.join('env');
    second.send({ type: 'join', room: 'env' });
    assert.equal((await second.next('error')).code, 'room-full');
    r.child.kill('SIGTERM');
    assert.equal((await withTimeout(r.exit, 2 * WAIT_MS, 'exit')).code, 0);
  });

  it('hands out TURN credentials from --turn-urls, --turn-ttl and VIDEO_CHAT_TURN_SECRET', async (t) => {
    const secret = 'turn-secret-from-the-environment';
    const r = run(
      t,
      [
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--turn-urls',
        'turn:t.example:3478,turns:t.example:5349',
        '--turn-ttl',
        '120',
      ],
      { VIDEO_CHAT_TURN_SECRET: secret },
    );
    const client = await TestClient.connect((await listeningUrl(r)).replace(/^http/, 'ws'));
    t.after(() => client.close());
    const [entry] = (await client.join('turn')).iceServers;
    assert.deepEqual(entry?.urls, ['turn:t.example:3478', 'turns:t.example:5349']);
    const expiry = Number(entry?.username?.split(':')[0]);
    assert.ok(Math.abs(expiry - (Math.floor(Date.now() / 1000) + 120)) <= 2);
    assert.equal(
      entry?.credential,
      createHmac('sha1', secret)
        .update(entry?.username ?? '')
        .digest('base64'),
    );
    r.child.kill('SIGTERM');
    await withTimeout(r.exit, 2 * WAIT_MS, 'exit');
    assert.ok(!r.stderr().includes(secret), 'the secret is not logged');
  });

  it('names the flag and variable of an option that is out of range, and exits 2', async (t) => {
    const r = run(t, ['--host', '127.0.0.1'], { VIDEO_CHAT_HEARTBEAT_INTERVAL_MS: '0' });
    assert.equal((await withTimeout(r.exit, 2 * WAIT_MS, 'exit')).code, 2);
    assert.match(
      r.stderr(),
      /heartbeatIntervalMs \(--heartbeat-interval-ms, VIDEO_CHAT_HEARTBEAT_INTERVAL_MS\) must be/,
    );
  });

  it('prints the package version for --version and exits 0', async (t) => {
    const { readFile } = await import('node:fs/promises');
    const manifest = JSON.parse(await readFile(new URL('../../../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const r = run(t, ['--version']);
    assert.equal((await withTimeout(r.exit, 2 * WAIT_MS, 'exit')).code, 0);
    assert.equal(r.stdout(), `${manifest.version}\n`);
    assert.equal(r.stderr(), '');
  });

  it('answers an unknown option with a one-line hint, not the help, and exits 2', async (t) => {
    const r = run(t, ['--x']);
    assert.equal((await withTimeout(r.exit, 2 * WAIT_MS, 'exit')).code, 2);
    assert.equal(r.stderr(), 'video-chat-relay: unknown option --x; see --help\n');
    assert.equal(r.stdout(), '');
  });

  it('serves no demo page with --no-demo, but the bundle (needs npm run build)', async (t) => {
    const r = run(t, ['--port', '0', '--host', '127.0.0.1', '--no-demo']);
    const url = await listeningUrl(r);
    assert.equal((await fetch(url)).status, 404);
    const bundle = await fetch(new URL('/video-chat.js', url));
    assert.equal(bundle.status, 200);
    assert.match(await bundle.text(), /video-chat/);
    assert.equal((await fetch(new URL('/healthz', url))).status, 200);
    r.child.kill('SIGTERM');
    assert.equal((await withTimeout(r.exit, 2 * WAIT_MS, 'exit')).code, 0);
  });

  it('prints usage for --help and exits 0', async (t) => {
    const r = run(t, ['--help']);
    assert.equal((await withTimeout(r.exit, 2 * WAIT_MS, 'exit')).code, 0);
    assert.match(r.stdout(), /--max-peers-per-room/);
  });

  for (const args of [
    ['--bogus'],
    ['--port', 'abc'],
    ['--port', '70000'],
    ['--max-peers-per-room', '0'],
    ['--ice-servers', 'not json'],
    ['--ice-servers', '[{"nourls":1}]'],
    ['positional'],
  ]) {
    it(`exits 2 for ${args.join(' ')}`, async (t) => {
      const r = run(t, ['--host', '127.0.0.1', ...args]);
      assert.equal((await withTimeout(r.exit, 2 * WAIT_MS, 'exit')).code, 2);
      assert.equal(r.stdout(), '');
      assert.match(r.stderr(), /^video-chat-relay: [^\n]+\n$/, 'one line');
    });
  }
});
