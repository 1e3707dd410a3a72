import assert from 'node:assert/strict';
import { request, type IncomingHttpHeaders } from 'node:http';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, type RunningServer } from '../../../server/src/index.js';
import { QUIET, TestClient, tempDir, withTimeout, WAIT_MS } from './helpers.js';

interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A raw request: the path goes on the wire exactly as given (no URL normalisation, unlike fetch). */
function get(base: string, path: string, method = 'GET'): Promise<Response> {
  const { hostname, port } = new URL(base);
  const done = new Promise<Response>((resolve, reject) => {
    const req = request({ host: hostname, port, path, method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  return withTimeout(done, WAIT_MS, `${method} ${path}`);
}

const INDEX = '<!doctype html><title>demo</title><video-chat></video-chat>';
const BUNDLE = 'export const VideoChat = 1;\n';
const SECRET = 'do not serve me';

describe('http: static files and the relay on one port', () => {
  let root: Awaited<ReturnType<typeof tempDir>>;
  let server: RunningServer;

  before(async () => {
    root = await tempDir();
    await mkdir(join(root.path, 'demo', 'sub'), { recursive: true });
    await mkdir(join(root.path, 'dist'));
    await writeFile(join(root.path, 'demo', 'index.html'), INDEX);
    await writeFile(join(root.path, 'demo', 'style.css'), 'body{}');
    await writeFile(join(root.path, 'demo', 'sub', 'data.json'), '{}');
    await writeFile(join(root.path, 'demo', 'noext'), 'x');
    await writeFile(join(root.path, 'dist', 'video-chat.js'), BUNDLE);
    await writeFile(join(root.path, 'dist', 'video-chat.js.map'), '{"version":3}');
    await writeFile(join(root.path, 'secret.txt'), SECRET);
    await symlink(join(root.path, 'secret.txt'), join(root.path, 'demo', 'link.txt'));
    server = await startServer({ ...QUIET, host: '127.0.0.1', port: 0, staticRoot: root.path });
  });

  after(async () => {
    await server.close();
    await root.remove();
  });

  it('serves demo/index.html at /', async () => {
    const res = await get(server.url, '/');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.body, INDEX);
  });

  it('serves the bundle and its map with CORS, CORP, nosniff and no-cache', async () => {
    for (const [path, type] of [
      ['/video-chat.js', 'text/javascript; charset=utf-8'],
      ['/video-chat.js.map', 'application/json; charset=utf-8'],
    ] as const) {
      const res = await get(server.url, `${path}?v=1`);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers['content-type'], type);
      assert.equal(res.headers['access-control-allow-origin'], '*');
      assert.equal(res.headers['cross-origin-resource-policy'], 'cross-origin');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['cache-control'], 'no-cache');
    }
    assert.equal((await get(server.url, '/video-chat.js')).body, BUNDLE);
  });

  it('answers HEAD with the headers and no body', async () => {
    const res = await get(server.url, '/video-chat.js', 'HEAD');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-length'], String(Buffer.byteLength(BUNDLE)));
    assert.equal(res.headers['access-control-allow-origin'], '*');
    assert.equal(res.body, '');
  });

  it('serves other demo files with their content types', async () => {
    assert.equal((await get(server.url, '/style.css')).headers['content-type'], 'text/css; charset=utf-8');
    assert.equal((await get(server.url, '/sub/data.json')).headers['content-type'], 'application/json; charset=utf-8');
    assert.equal((await get(server.url, '/noext')).headers['content-type'], 'application/octet-stream');
  });

  it('answers 404 for missing files and directories', async () => {
    for (const path of ['/missing.html', '/sub', '/sub/', '/dist/video-chat.js', '/video-chat.jsx']) {
      assert.equal((await get(server.url, path)).status, 404, path);
    }
  });

  it('does not serve anything outside demo/ (traversal, encoded or not, and symlinks)', async () => {
    const attempts = [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/sub/..%2f..%2fsecret.txt',
      '/sub/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/..%5csecret.txt',
      '/link.txt',
      '/%00',
      '/%E0%A4%A',
      'secret.txt',
    ];
    for (const path of attempts) {
      const res = await get(server.url, path);
      assert.ok(res.status === 404 || res.status === 400, `${path} → ${res.status}`);
      assert.ok(!res.body.includes(SECRET), path);
    }
  });

  it('answers 405 with Allow for other methods', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const res = await get(server.url, '/', method);
      assert.equal(res.status, 405, method);
      assert.equal(res.headers['allow'], 'GET, HEAD');
    }
  });

  it('hands WebSocket upgrades on any path to the relay', async () => {
    const base = server.url.replace(/^http/, 'ws');
    for (const path of ['', 'ws', 'some/where?room=1']) {
      const client = await TestClient.connect(`${base}${path}`);
      try {
        assert.equal((await client.join('r')).room, 'r');
      } finally {
        await client.close();
      }
    }
  });

  it('answers 404 for the bundle when dist/ is absent', async () => {
    const empty = await tempDir();
    const bare = await startServer({ ...QUIET, host: '127.0.0.1', port: 0, staticRoot: empty.path });
    try {
      assert.equal((await get(bare.url, '/video-chat.js')).status, 404);
      assert.equal((await get(bare.url, '/')).status, 404);
    } finally {
      await bare.close();
      await empty.remove();
    }
  });
});

describe('http: startServer', () => {
  it('rejects invalid relay options before binding', async () => {
    await assert.rejects(startServer({ ...QUIET, host: '127.0.0.1', port: 0, maxPeersPerRoom: 0 }), RangeError);
  });

  it('rejects when the port is taken', async () => {
    const first = await startServer({ ...QUIET, host: '127.0.0.1', port: 0 });
    try {
      await assert.rejects(startServer({ ...QUIET, host: '127.0.0.1', port: first.port }), /EADDRINUSE/);
    } finally {
      await first.close();
    }
  });

  it('reports the real bound port in url and port', async () => {
    const running = await startServer({ ...QUIET, host: '127.0.0.1', port: 0 });
    try {
      assert.notEqual(running.port, 0);
      assert.equal(running.url, `http://127.0.0.1:${running.port}/`);
    } finally {
      await running.close();
    }
  });
});
