/**
 * Static files for the demo server: the demo pages and the element bundle. Read-only, GET/HEAD only, and confined to
 * two known places under the package root. Which file a path names, and whether it may be served at all, is decided
 * here; serving it (ETag and Last-Modified, 304 on `If-None-Match`/`If-Modified-Since`, 412, ranges, HEAD) is left to
 * `send`, the module under Express's `serve-static`. The bundle's files are served precompressed: the build writes
 * `.br` and `.gz` copies next to each (rollup.config.mjs), and `negotiator` reads `Accept-Encoding`.
 *
 * @module
 */
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, relative, resolve, sep } from 'node:path';
import Negotiator from 'negotiator';
import send from 'send';

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
 * `Cross-Origin-Resource-Policy`. `Vary`: the body depends on `Accept-Encoding` (precompressed copies).
 */
const BUNDLE_HEADERS: Readonly<Record<string, string>> = {
  'Access-Control-Allow-Origin': '*',
  'Cross-Origin-Resource-Policy': 'cross-origin',
  Vary: 'Accept-Encoding',
};

/**
 * `video-chat.js` (the name pages put in their script tag), its map, and the demo pages: revalidated on every use
 * (a 304 without body while unchanged). Not a max-age: a stale `video-chat.js` would import chunk names that a new
 * build no longer has.
 */
const REVALIDATE = 'no-cache';
/** Chunks whose name carries their content's hash: never change, so cached for a year without revalidation. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * The files of the script-tag build served from `distDir` at `/`: `video-chat.js`, the chunks it imports on demand
 * (`video-chat-engine-1a2b3c4d.js`, `video-chat-de-….js`, …) and their source maps. Nothing else in `distDir` is
 * served (the precompressed `.br`/`.gz` copies only as the encoding of these), and the name cannot contain a path
 * separator or `..`.
 */
const BUNDLE_FILE = /^\/(video-chat(?:-[a-z0-9]+)*\.js(?:\.map)?)$/;

/** A chunk named `video-chat-<name>-<hash>.js(.map)`, the hash being 8 hex digits (rollup.config.mjs). */
const HASHED_FILE = /^video-chat(?:-[a-z0-9]+)+-[0-9a-f]{8}\.js(?:\.map)?$/;

/** Precompressed copies, in the server's order of preference; `identity` is the file itself. */
const ENCODINGS = [
  ['br', '.br'],
  ['gzip', '.gz'],
] as const;

/**
 * The demo pages' Content-Security-Policy: the README's minimal strict policy for embedding pages (nothing inline,
 * Trusted Types with Lit's `lit-html` policy) with this server as the script, style and WebSocket origin ('self'
 * matches ws: and wss: on the same host), and no framing by other sites.
 */
const DEMO_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
    "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'self'; " +
    "require-trusted-types-for 'script'; trusted-types lit-html",
};

/** Sent with every response: never let a browser guess a type we did not declare. */
const COMMON_HEADERS: Readonly<Record<string, string>> = { 'X-Content-Type-Options': 'nosniff' };

/** Where the files live. */
export interface StaticRoots {
  /** Directory served at `/` (`index.html` for `/` itself); omitted, no demo pages are served. */
  demoDir?: string;
  /** Directory holding `video-chat.js`, its chunks `video-chat-*.js` and their maps, served at `/`. */
  distDir: string;
}

/** A request handler: `GET`/`HEAD` for files, 404 for anything missing or outside the roots, 405 for other methods. */
export type StaticHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** Builds the handler for the given roots (absolute or relative to the working directory). */
export function createStaticHandler(roots: StaticRoots): StaticHandler {
  const demoDir = roots.demoDir === undefined ? undefined : resolve(roots.demoDir);
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
    if (name !== undefined) {
      await sendBundleFile(req, res, distDir, name);
      return;
    }
    const file =
      demoDir === undefined ? undefined : await demoFile(demoDir, pathname === '/' ? '/index.html' : pathname);
    if (file === undefined) {
      reply(res, 404);
      return;
    }
    await sendFile(req, res, file.root, file.path, {
      ...COMMON_HEADERS,
      ...(extname(file.path) === '.html' ? DEMO_PAGE_HEADERS : {}),
      'Cache-Control': REVALIDATE,
      'Content-Type': contentType(file.path),
    });
  };
}

/**
 * One of the bundle's files, in the encoding the client prefers among those on disk: brotli, then gzip, then the file
 * itself (the server's preference among those `Accept-Encoding` allows, as nginx's `gzip_static` and
 * `brotli_static` do).
 */
async function sendBundleFile(req: IncomingMessage, res: ServerResponse, distDir: string, name: string): Promise<void> {
  const accepted = new Negotiator(req).encodings(ENCODINGS.map(([encoding]) => encoding));
  let chosen: (typeof ENCODINGS)[number] | undefined;
  for (const encoding of ENCODINGS) {
    if (accepted.includes(encoding[0]) && (await isFile(join(distDir, name + encoding[1])))) {
      chosen = encoding;
      break;
    }
  }
  await sendFile(req, res, distDir, name + (chosen?.[1] ?? ''), {
    ...COMMON_HEADERS,
    ...BUNDLE_HEADERS,
    'Cache-Control': HASHED_FILE.test(name) ? IMMUTABLE : REVALIDATE,
    'Content-Type': contentType(name),
    ...(chosen ? { 'Content-Encoding': chosen[0] } : {}),
  });
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function contentType(file: string): string {
  return CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
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
 * The real root and the real path of a file under `root`, or `undefined`. The check is done on the resolved path (no
 * `..` escape, encoded or not) and again on the real path, so a symlink cannot lead out of the root either.
 */
async function demoFile(root: string, pathname: string): Promise<{ root: string; path: string } | undefined> {
  const candidate = resolve(root, `.${pathname}`);
  if (!candidate.startsWith(root + sep)) return undefined;
  try {
    const [realRoot, realFile] = await Promise.all([realpath(root), realpath(candidate)]);
    if (!realFile.startsWith(realRoot + sep)) return undefined;
    return { root: realRoot, path: relative(realRoot, realFile) };
  } catch {
    return undefined;
  }
}

/**
 * Serves `root/file` (a relative path already checked) with `send`: validators, conditional requests, ranges, HEAD.
 * `headers` are set only when the file is there (the `headers` event), so a 404 does not carry them; on a 304 `send`
 * drops the Content-* ones and keeps the rest (caching, CORS, `Vary`).
 */
function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  root: string,
  file: string,
  headers: Readonly<Record<string, string>>,
): Promise<void> {
  // send takes a URL path (percent-encoded, `/`-separated) under its root, and rejects `..` and dotfiles itself too.
  const path = `/${file.split(sep).map(encodeURIComponent).join('/')}`;
  return new Promise<void>((done) => {
    const stream = send(req, path, { root, index: false, cacheControl: false, dotfiles: 'ignore' });
    stream.on('headers', (response: ServerResponse) => {
      for (const [key, value] of Object.entries(headers)) response.setHeader(key, value);
    });
    // A directory, or anything send refuses (missing file, dotfile, 412, 416 are answered by send itself).
    stream.on('directory', () => {
      reply(res, 404);
      done();
    });
    stream.on('error', (error: unknown) => {
      const status = typeof error === 'object' && error !== null && 'status' in error ? Number(error.status) : 500;
      if (res.headersSent) {
        // The file vanished mid-read or the client went away: all we can do is drop the response.
        res.destroy();
      } else {
        // A 412 or 416 comes after the file's headers were set: none of them describes the error's body.
        for (const header of res.getHeaderNames()) res.removeHeader(header);
        reply(res, status >= 400 && status < 600 ? status : 500);
      }
      done();
    });
    stream.on('end', () => done());
    res.once('finish', () => done());
    res.once('close', () => done());
    stream.pipe(res);
  });
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
