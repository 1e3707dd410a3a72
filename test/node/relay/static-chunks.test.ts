/**
 * The script-tag build is code-split: `video-chat.js` imports its non-English locales on demand from files next to it
 * (`video-chat-de-<hash>.js`). A page on another origin fetches those in CORS mode too, so they need the bundle's
 * headers; their names carry a content hash, so they are cached as immutable; nothing else in dist/ is served.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createStaticHandler } from '../../../server/src/static.js';
import { tempDir, withTimeout, WAIT_MS } from './helpers.js';

/** A raw GET: the path goes on the wire exactly as given (no URL normalisation, unlike fetch). */
function get(port: number, path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const done = new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  return withTimeout(done, WAIT_MS, `GET ${path}`);
}

describe('static: locale chunks of the script-tag build', () => {
  let root: Awaited<ReturnType<typeof tempDir>>;
  let server: Server;
  let port = 0;
  before(async () => {
    root = await tempDir();
    await writeFile(join(root.path, 'video-chat.js'), 'import("./video-chat-de-1a2b3c4d.js");\n');
    await writeFile(join(root.path, 'video-chat-de-1a2b3c4d.js'), 'export default {};\n');
    await writeFile(join(root.path, 'video-chat-de-1a2b3c4d.js.map'), '{"version":3}');
    await writeFile(join(root.path, 'video-chat-fr.js'), 'export default {};\n');
    await writeFile(join(root.path, 'other.js'), 'secret');
    const handler = createStaticHandler({ demoDir: join(root.path, 'no-demo'), distDir: root.path });
    server = createServer((req, res) => void handler(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await root.remove();
  });

  it("serves video-chat-de-<hash>.js and its map with the bundle's CORS and CORP headers, immutable", async () => {
    for (const [path, body] of [
      ['/video-chat-de-1a2b3c4d.js', 'export default {};\n'],
      ['/video-chat-de-1a2b3c4d.js.map', '{"version":3}'],
    ]) {
      const res = await get(port, `${path}?v=2`);
      assert.equal(res.status, 200, path);
      assert.equal(res.body, body);
      assert.equal(res.headers['access-control-allow-origin'], '*');
      assert.equal(res.headers['cross-origin-resource-policy'], 'cross-origin');
      assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable');
    }
  });

  it("revalidates a chunk whose name has no hash (an older build's, or a hand-made one)", async () => {
    const res = await get(port, '/video-chat-fr.js');
    assert.equal(res.status, 200);
    assert.equal(res.headers['cache-control'], 'no-cache');
  });

  it('serves nothing else from dist/: other names, traversal and missing chunks are 404', async () => {
    for (const path of [
      '/other.js',
      '/video-chat-.js',
      '/video-chat-de/../other.js',
      '/video-chat-%2e%2e%2fother.js',
      '/video-chat-it-1a2b3c4d.js',
      '/video-chat-de.js',
      '/video-chat-de-1a2b3c4d.jsx',
      '/dist/video-chat-de-1a2b3c4d.js',
    ]) {
      assert.equal((await get(port, path)).status, 404, path);
    }
  });
});
