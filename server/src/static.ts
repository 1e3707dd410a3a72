/**
 * Static files for the demo server: the demo page and the self-contained element bundle. Read-only, GET/HEAD only,
 * and confined to two known places under the package root.
 *
 * @module
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';

/** Content types by file extension; anything else is served as `application/octet-stream`. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

/**
 * Headers for the bundle: it is meant to be loaded by `<script type="module">` from pages on other origins, which
 * needs CORS (module scripts, and the chunks they import, are fetched in CORS mode) and, under COEP,
 * `Cross-Origin-Resource-Policy`. `no-cache` makes browsers revalidate, so a rebuilt bundle is picked up.
 */
const BUNDLE_HEADERS: Readonly<Record<string, string>> = {
  'Access-Control-Allow-Origin': '*',
  'Cross-Origin-Resource-Policy': 'cross-origin',
  'Cache-Control': 'no-cache',
};

/**
 * The files of the script-tag build served from `distDir` at `/`: `video-chat.js`, the chunks it imports on demand
 * (`video-chat-de.js`, … : non-English locales) and their source maps. Nothing else in `distDir` is served, and the
 * name cannot contain a path separator or `..`.
 */
const BUNDLE_FILE = /^\/(video-chat(?:-[a-z0-9]+)*\.js(?:\.map)?)$/;

/**
 * The demo pages' Content-Security-Policy: the README's minimal strict policy for embedding pages (nothing inline,
 * Trusted Types with Lit's `lit-html` policy) with this server as the script, style and WebSocket origin ('self'
 * matches ws: and wss: on the same host), and no framing by other sites.
 */
const DEMO_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
    "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'self'; " +
    "require-trusted-types-for 'script'; trusted-types lit-html",
};

/** Sent with every response: never let a browser guess a type we did not declare. */
const COMMON_HEADERS: Readonly<Record<string, string>> = { 'X-Content-Type-Options': 'nosniff' };

/** Where the files live. */
export interface StaticRoots {
  /** Directory served at `/` (`index.html` for `/` itself). */
  demoDir: string;
  /** Directory holding `video-chat.js`, its chunks `video-chat-*.js` and their maps, served at `/`. */
  distDir: string;
}

/** A request handler: `GET`/`HEAD` for files, 404 for anything missing or outside the roots, 405 for other methods. */
export type StaticHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** Builds the handler for the given roots (absolute or relative to the working directory). */
export function createStaticHandler(roots: StaticRoots): StaticHandler {
  const demoDir = resolve(roots.demoDir);
  const distDir = resolve(roots.distDir);

  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      reply(res, 405, { Allow: 'GET, HEAD' });
      return;
    }
    const pathname = decodePath(req.url ?? '/');
    if (pathname === undefined) {
      reply(res, 400);
      return;
    }
    const name = BUNDLE_FILE.exec(pathname)?.[1];
    const bundle = name === undefined ? undefined : join(distDir, name);
    const file = bundle ?? (await demoFile(demoDir, pathname === '/' ? '/index.html' : pathname));
    if (file === undefined) {
      reply(res, 404);
      return;
    }
    await sendFile(req, res, file, bundle ? BUNDLE_HEADERS : extname(file) === '.html' ? DEMO_PAGE_HEADERS : {});
  };
}

/** The decoded path of a request target (query dropped), or `undefined` if it is malformed or contains NUL. */
function decodePath(target: string): string | undefined {
  const query = target.indexOf('?');
  const raw = query === -1 ? target : target.slice(0, query);
  if (!raw.startsWith('/')) return undefined;
  try {
    const decoded = decodeURIComponent(raw);
    return decoded.includes('\0') ? undefined : decoded;
  } catch {
    return undefined;
  }
}

/**
 * The real path of a regular file under `root`, or `undefined`. The check is done on the resolved path (no `..`
 * escape, encoded or not) and again on the real path, so a symlink cannot lead out of the root either.
 */
async function demoFile(root: string, pathname: string): Promise<string | undefined> {
  const candidate = resolve(root, `.${pathname}`);
  if (!candidate.startsWith(root + sep)) return undefined;
  try {
    const [realRoot, realFile] = await Promise.all([realpath(root), realpath(candidate)]);
    if (!realFile.startsWith(realRoot + sep)) return undefined;
    return realFile;
  } catch {
    return undefined;
  }
}

async function sendFile(
  req: IncomingMessage, res: ServerResponse, file: string, extra: Readonly<Record<string, string>>,
): Promise<void> {
  let size: number;
  try {
    const info = await stat(file);
    if (!info.isFile()) {
      reply(res, 404);
      return;
    }
    size = info.size;
  } catch {
    reply(res, 404);
    return;
  }
  res.writeHead(200, {
    ...COMMON_HEADERS,
    ...extra,
    'Content-Type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': String(size),
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  try {
    await pipeline(createReadStream(file), res);
  } catch {
    // The file vanished mid-read or the client went away; headers are out, so all we can do is drop the response.
    res.destroy();
  }
}

function reply(res: ServerResponse, status: number, headers: Readonly<Record<string, string>> = {}): void {
  const body = `${status}\n`;
  res.writeHead(status, {
    ...COMMON_HEADERS,
    ...headers,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
