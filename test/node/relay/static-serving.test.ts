/**
 * The relay serves its files as a static server should (issue 13): validators and 304s, the precompressed `.br`/`.gz`
 * copies chosen by `Accept-Encoding` (with `Vary`), a year's immutable cache for content-hashed chunk names and
 * revalidation for `video-chat.js`; `demo: false` serves no demo pages; `metricsPort` puts `/metrics` on a server of
 * its own.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { request, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { startServer, type RunningServer, type ServerOptions } from '../../../server/src/index.js';
import { QUIET, tempDir, withTimeout, WAIT_MS } from './helpers.js';

interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A raw request (path on the wire as given, body not decoded). */
function get(base: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Response> {
  const { hostname, port } = new URL(base);
  return withTimeout(
    new Promise<Response>((resolve, reject) => {
      const req = request({ host: hostname, port, path, method, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    }),
    WAIT_MS,
    `${method} ${path}`,
  );
}

const BUNDLE = Buffer.from(`export const VideoChat = ${JSON.stringify('x'.repeat(2000))};\n`);
const CHUNK = 'video-chat-engine-0123abcd.js';
const CHUNK_BODY = Buffer.from('export const engine = 1;\n');

async function site(): Promise<Awaited<ReturnType<typeof tempDir>>> {
  const root = await tempDir();
  await mkdir(join(root.path, 'demo'));
  await mkdir(join(root.path, 'dist'));
  await writeFile(join(root.path, 'demo', 'index.html'), '<!doctype html><title>demo</title>');
  await writeFile(join(root.path, 'dist', 'video-chat.js'), BUNDLE);
  await writeFile(join(root.path, 'dist', 'video-chat.js.gz'), gzipSync(BUNDLE));
  await writeFile(join(root.path, 'dist', 'video-chat.js.br'), brotliCompressSync(BUNDLE));
  await writeFile(join(root.path, 'dist', CHUNK), CHUNK_BODY);
  await writeFile(join(root.path, 'dist', `${CHUNK}.map`), '{"version":3}');
  await writeFile(join(root.path, 'dist', 'other.js.br'), 'secret');
  await writeFile(join(root.path, 'secret.txt'), 'secret');
  return root;
}

async function serve(t: TestContext | undefined, root: string, options: ServerOptions = {}): Promise<RunningServer> {
  const server = await startServer({ ...QUIET, host: '127.0.0.1', port: 0, staticRoot: root, ...options });
  t?.after(() => server.close());
  return server;
}

describe('static serving: validators, compression, caching', () => {
  let root: Awaited<ReturnType<typeof tempDir>>;
  let server: RunningServer;
  before(async () => {
    root = await site();
    server = await serve(undefined, root.path);
  });
  after(async () => {
    await server.close();
    await root.remove();
  });

  it('answers a repeated GET /video-chat.js with If-None-Match with 304, keeping CORS and caching headers', async () => {
    const first = await get(server.url, '/video-chat.js');
    assert.equal(first.status, 200);
    assert.deepEqual(first.body, BUNDLE);
    assert.equal(first.headers['cache-control'], 'no-cache');
    const etag = first.headers.etag;
    assert.ok(etag, 'an ETag');
    assert.ok(first.headers['last-modified'], 'a Last-Modified');

    const again = await get(server.url, '/video-chat.js', { 'If-None-Match': etag });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    assert.equal(again.headers.etag, etag);
    assert.equal(again.headers['access-control-allow-origin'], '*');
    assert.equal(again.headers['cache-control'], 'no-cache');

    const since = await get(server.url, '/video-chat.js', {
      'If-Modified-Since': String(first.headers['last-modified']),
    });
    assert.equal(since.status, 304);
    assert.equal((await get(server.url, '/video-chat.js', { 'If-None-Match': '"other"' })).status, 200);
  });

  for (const [encoding, decode] of [
    ['br', brotliDecompressSync],
    ['gzip', gunzipSync],
  ] as const) {
    it(`sends the precompressed ${encoding} copy for Accept-Encoding: ${encoding}, with Vary`, async () => {
      const res = await get(server.url, '/video-chat.js', { 'Accept-Encoding': encoding });
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-encoding'], encoding);
      assert.equal(res.headers['content-type'], 'text/javascript; charset=utf-8');
      assert.equal(res.headers.vary, 'Accept-Encoding');
      assert.equal(res.headers['access-control-allow-origin'], '*');
      assert.equal(res.headers['content-length'], String(res.body.length));
      assert.ok(res.body.length < BUNDLE.length);
      assert.deepEqual(decode(res.body), BUNDLE);
      // The compressed copy has validators of its own (a cache keeps one entry per encoding).
      const etag = res.headers.etag;
      assert.ok(etag);
      assert.equal(
        (await get(server.url, '/video-chat.js', { 'Accept-Encoding': encoding, 'If-None-Match': etag })).status,
        304,
      );
    });
  }

  it('prefers brotli when both are accepted, honours q=0, and sends the file itself otherwise', async () => {
    assert.equal(
      (await get(server.url, '/video-chat.js', { 'Accept-Encoding': 'gzip, deflate, br, zstd' })).headers[
        'content-encoding'
      ],
      'br',
    );
    assert.equal(
      (await get(server.url, '/video-chat.js', { 'Accept-Encoding': 'br;q=0, gzip' })).headers['content-encoding'],
      'gzip',
    );
    const plain = await get(server.url, '/video-chat.js', { 'Accept-Encoding': 'identity' });
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.headers.vary, 'Accept-Encoding');
    assert.deepEqual(plain.body, BUNDLE);
    // A file without precompressed copies is sent as is, whatever is accepted.
    const chunk = await get(server.url, `/${CHUNK}`, { 'Accept-Encoding': 'br, gzip' });
    assert.equal(chunk.headers['content-encoding'], undefined);
    assert.deepEqual(chunk.body, CHUNK_BODY);
  });

  it('caches content-hashed chunks and their maps as immutable for a year', async () => {
    for (const path of [`/${CHUNK}`, `/${CHUNK}.map`]) {
      const res = await get(server.url, path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable', path);
      assert.equal(res.headers['cross-origin-resource-policy'], 'cross-origin', path);
    }
  });

  it('still serves nothing outside the allowed sets: compressed copies by name, traversal, other files', async () => {
    for (const path of [
      '/video-chat.js.br',
      '/video-chat.js.gz',
      '/other.js.br',
      '/other.js',
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/video-chat-%2e%2e%2fsecret.txt',
      '/dist/video-chat.js',
      '/video-chat-engine-0123abcd.jsx',
    ]) {
      const res = await get(server.url, path, { 'Accept-Encoding': 'br, gzip' });
      assert.ok(res.status === 404 || res.status === 400, `${path} → ${res.status}`);
      assert.ok(!res.body.toString().includes('secret'), path);
      assert.equal(res.headers['content-encoding'], undefined, path);
    }
  });

  it("answers HEAD with the compressed copy's headers and no body", async () => {
    const res = await get(server.url, '/video-chat.js', { 'Accept-Encoding': 'br' }, 'HEAD');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-encoding'], 'br');
    assert.equal(res.headers['content-length'], String(brotliCompressSync(BUNDLE).length));
    assert.equal(res.body.length, 0);
  });
});

describe('static serving: demo off, metrics apart', () => {
  it('serves no demo page with demo: false, but the bundle, /healthz and /metrics', async (t) => {
    const root = await site();
    t.after(() => root.remove());
    const server = await serve(t, root.path, { demo: false });
    assert.equal((await get(server.url, '/')).status, 404);
    assert.equal((await get(server.url, '/index.html')).status, 404);
    assert.equal((await get(server.url, '/video-chat.js')).status, 200);
    assert.equal((await get(server.url, '/healthz')).status, 200);
    assert.equal((await get(server.url, '/metrics')).status, 200);
  });

  it('serves /metrics on metricsPort only, to any client there, and nothing else', async (t) => {
    const root = await site();
    t.after(() => root.remove());
    const server = await serve(t, root.path, { metricsPort: 0, metricsHost: '127.0.0.1' });
    assert.ok(server.metricsUrl);
    const metricsUrl = new URL(server.metricsUrl);
    assert.equal(metricsUrl.pathname, '/metrics');
    assert.notEqual(metricsUrl.port, String(server.port));
    // The address the operator chose is trusted: an X-Forwarded-For from afar changes nothing there.
    const scrape = await get(metricsUrl.href, '/metrics', { 'X-Forwarded-For': '203.0.113.9' });
    assert.equal(scrape.status, 200);
    assert.match(scrape.body.toString(), /video_chat_connections/);
    assert.equal((await get(metricsUrl.href, '/healthz')).status, 404);
    assert.equal((await get(metricsUrl.href, '/video-chat.js')).status, 404);
    // The main port no longer serves them.
    assert.equal((await get(server.url, '/metrics')).status, 404);
    assert.equal((await get(server.url, '/healthz')).status, 200);
    await server.close();
    await assert.rejects(get(metricsUrl.href, '/metrics'), /ECONNREFUSED/);
  });

  it('refuses metricsHost without metricsPort, and a metricsPort out of range, before binding', async () => {
    await assert.rejects(
      startServer({ ...QUIET, port: 0, metricsHost: '127.0.0.1' }),
      /^RangeError: metricsHost needs metricsPort/,
    );
    await assert.rejects(startServer({ ...QUIET, port: 0, metricsPort: 70_000 }), /^RangeError: metricsPort must be/);
  });
});
