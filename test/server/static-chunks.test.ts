/**
 * The script-tag build is code-split: `video-chat.js` imports its non-English locales on demand from files next to it
 * (`video-chat-de.js`). A page on another origin fetches those in CORS mode too, so they need the bundle's headers;
 * nothing else in dist/ is served.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createStaticHandler } from '../../server/src/static.js';
import { tempDir, withTimeout, WAIT_MS } from './helpers.js';

/** A raw GET: the path goes on the wire exactly as given (no URL normalisation, unlike fetch). */
function get(port: number, path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const done = new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
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
    await writeFile(join(root.path, 'video-chat.js'), 'import("./video-chat-de.js");\n');
    await writeFile(join(root.path, 'video-chat-de.js'), 'export default {};\n');
    await writeFile(join(root.path, 'video-chat-de.js.map'), '{"version":3}');
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

  it('serves video-chat-de.js and its map with the bundle\'s CORS and CORP headers', async () => {
    for (const [path, body] of [['/video-chat-de.js', 'export default {};\n'], ['/video-chat-de.js.map', '{"version":3}']]) {
      const res = await get(port, `${path}?v=2`);
      assert.equal(res.status, 200, path);
      assert.equal(res.body, body);
      assert.equal(res.headers['access-control-allow-origin'], '*');
      assert.equal(res.headers['cross-origin-resource-policy'], 'cross-origin');
      assert.equal(res.headers['cache-control'], 'no-cache');
    }
  });

  it('serves nothing else from dist/: other names, traversal and missing chunks are 404', async () => {
    for (const path of ['/other.js', '/video-chat-.js', '/video-chat-de/../other.js', '/video-chat-%2e%2e%2fother.js',
      '/video-chat-fr.js', '/video-chat-de.jsx', '/dist/video-chat-de.js']) {
      assert.equal((await get(port, path)).status, 404, path);
    }
  });
});
