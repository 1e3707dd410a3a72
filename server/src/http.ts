/**
 * One `node:http` server for the demo: the static demo page and element bundle, and the relay on WebSocket upgrades
 * (any path), on the same origin and port. Two operational endpoints come with it:
 * - `GET /healthz`: `200 {"status":"ok","connections":…,"rooms":…,"peers":…}` (with `"redis":"up"|"down"` when rooms
 *   are shared through Redis: the relay still serves its own participants while Redis is down, so it stays 200), or
 *   503 with `"status":"draining"` once the server is shutting down (so a load balancer stops sending new clients);
 * - `GET /metrics`: the relay's Prometheus metrics in the text exposition format, to loopback clients only (403 for
 *   others) unless `publicMetrics` is set; or, with `metricsPort`, on a second server of its own (and not here).
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromLoopback } from './address.js';
import { checkInteger, MAX_TIMER_MS, resolveRelayOptions, type RelayOptions } from './options.js';
import { createRelay, type ParticipantsFactory, type Relay } from './relay.js';
import { createStaticHandler } from './static.js';

/**
 * The root of the package this file ships in, resolved from this compiled file (`lib/server/src/http.js` →
 * `../../../`): the relay package `video-chat-relay` when installed, the repository in a clone. Its `package.json`
 * gives `--version`.
 */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The root of the element package `video-chat-element`, whose `demo/` and `dist/` the server serves, found the way Node
 * finds the package from this file: the relay package's dependency when installed (so it works from a tarball or the
 * registry, whatever the working directory), the repository itself in a clone (package self-reference).
 * @throws Error (`MODULE_NOT_FOUND`) when the element package is not installed.
 */
export function elementRoot(): string {
  return dirname(createRequire(import.meta.url).resolve('video-chat-element/package.json'));
}

/** Options of {@link startServer}: where to listen and what to serve, plus every {@link RelayOptions} field. */
export interface ServerOptions extends RelayOptions {
  /** TCP port; `0` picks a free one (read it back from the result). Default 8787. */
  port?: number;
  /** Interface to bind. Default `localhost`, so nothing is exposed to the network unless asked for. */
  host?: string;
  /** Directory containing `demo/` (served at `/`) and `dist/video-chat.js(.map)`. Default {@link elementRoot}. */
  staticRoot?: string;
  /**
   * Time, in ms, a client has to send a request's complete headers (WebSocket upgrades included), Node's
   * `server.headersTimeout`; a slower one gets 408 and is disconnected (slowloris). Default 10 000.
   */
  headersTimeoutMs?: number;
  /**
   * Time, in ms, a client has to send a whole HTTP request, Node's `server.requestTimeout`; at least
   * {@link headersTimeoutMs}. Does not apply to a WebSocket once upgraded. Default 30 000.
   */
  requestTimeoutMs?: number;
  /**
   * Serve `GET /metrics` to every client. Default `false`: only to loopback clients (127.0.0.0/8, ::1; with
   * `trustProxy`, the `X-Forwarded-For` address is the one checked), everyone else gets 403, so that
   * `--host 0.0.0.0` does not publish the relay's counts. For a Prometheus on another host, set it and restrict access
   * in front of the relay.
   */
  publicMetrics?: boolean;
  /**
   * Serve the demo pages (`demo/`) at `/`. Default `true`; `false` for production: then only the bundle, `/healthz`,
   * `/metrics` and the relay are served, and `/` is 404.
   */
  demo?: boolean;
  /**
   * Serve `/metrics` on a second HTTP server on this port (`0`: any free one) instead of the main one, to every client
   * that reaches it (the operator chose its address; {@link publicMetrics} does not apply). The main server then
   * answers `/metrics` with 404. Default: unset, metrics on the main server.
   */
  metricsPort?: number;
  /** Interface of the metrics server; only with {@link metricsPort}. Default `localhost`. */
  metricsHost?: string;
}

/** Defaults of the HTTP-level {@link ServerOptions}. */
export const SERVER_DEFAULTS = Object.freeze({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 });

/** A listening server. */
export interface RunningServer {
  /** Base URL with the real bound port, e.g. `http://localhost:8787/`. The relay answers `ws:` on the same origin. */
  url: string;
  /** The bound port. */
  port: number;
  server: Server;
  /** With {@link ServerOptions.metricsPort}: the metrics server's URL with its real port, e.g. `http://localhost:9464/metrics`. */
  metricsUrl?: string;
  relay: Relay;
  /**
   * Drains the relay (new upgrades get 503, clients are closed with 1012, see {@link Relay.close}), then closes the
   * HTTP server and its idle keep-alive connections.
   */
  close(): Promise<void>;
}

/** Default port of {@link startServer} and the CLI. */
export const DEFAULT_PORT = 8787;
/** Default host of {@link startServer} and the CLI. */
export const DEFAULT_HOST = 'localhost';

/**
 * Starts the demo server.
 * @returns once listening. Rejects if the relay options are invalid or binding fails (e.g. `EADDRINUSE`).
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const {
    port = DEFAULT_PORT,
    host = DEFAULT_HOST,
    staticRoot,
    headersTimeoutMs = SERVER_DEFAULTS.headersTimeoutMs,
    requestTimeoutMs = SERVER_DEFAULTS.requestTimeoutMs,
    publicMetrics = false,
    demo = true,
    metricsPort,
    metricsHost,
    ...relayOptions
  } = options;
  if (typeof publicMetrics !== 'boolean') throw new TypeError('publicMetrics must be a boolean');
  if (typeof demo !== 'boolean') throw new TypeError('demo must be a boolean');
  checkInteger('port', port, 0, 65535);
  if (metricsPort !== undefined) checkInteger('metricsPort', metricsPort, 0, 65535);
  if (metricsHost !== undefined && metricsPort === undefined) throw new RangeError('metricsHost needs metricsPort');
  if (metricsHost !== undefined && typeof metricsHost !== 'string') throw new TypeError('metricsHost must be a string');
  checkInteger('headersTimeoutMs', headersTimeoutMs, 1, MAX_TIMER_MS);
  checkInteger('requestTimeoutMs', requestTimeoutMs, 1, MAX_TIMER_MS);
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new RangeError(
      `headersTimeoutMs (${headersTimeoutMs}) must not exceed requestTimeoutMs (${requestTimeoutMs})`,
    );
  }
  // Construct the relay first: invalid options should fail before anything is bound.
  const relay = createRelay(...(await sharedRooms(relayOptions)));
  const root = staticRoot ?? elementRoot();
  const serveStatic = createStaticHandler({
    demoDir: demo ? join(root, 'demo') : undefined,
    distDir: join(root, 'dist'),
  });
  const httpOptions = {
    headersTimeout: headersTimeoutMs,
    requestTimeout: requestTimeoutMs,
    // How often Node looks for connections past those timeouts (its default, 30 s, would let them run long over).
    connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headersTimeoutMs / 4))),
  };
  const failed =
    (req: IncomingMessage, res: ServerResponse) =>
    (error: unknown): void => {
      relay.logger.error(
        { err: error instanceof Error ? error.message : String(error), url: req.url },
        'request failed',
      );
      if (!res.headersSent) res.writeHead(500);
      res.end();
    };
  const separateMetrics = metricsPort !== undefined;
  const server = createServer(httpOptions, (req, res) => {
    // With a metrics server of its own, /metrics is not served here at all (404 from the static handler).
    const metrics = separateMetrics
      ? 'none'
      : publicMetrics || fromLoopback(req, relayOptions.trustProxy === true)
        ? 'allowed'
        : 'refused';
    (operational(relay, req, res, metrics) ?? serveStatic(req, res)).catch(failed(req, res));
  });
  relay.attach(server);
  const metricsServer = separateMetrics
    ? createServer(httpOptions, (req, res) => {
        const path = (req.url ?? '/').split('?', 1)[0];
        const done = path === '/metrics' ? operational(relay, req, res, 'allowed') : undefined;
        if (done) done.catch(failed(req, res));
        else res.writeHead(404, { 'Content-Length': '0', 'X-Content-Type-Options': 'nosniff' }).end();
      })
    : undefined;

  try {
    await listen(server, port, host);
    if (metricsServer) await listen(metricsServer, metricsPort ?? 0, metricsHost ?? DEFAULT_HOST);
  } catch (error) {
    await relay.close();
    await Promise.all([server, metricsServer].filter((s): s is Server => s?.listening === true).map(stop));
    throw error;
  }

  const bound = (server.address() as AddressInfo).port;
  relay.logger.info({ host, port: bound }, 'listening');
  let metricsUrl: string | undefined;
  if (metricsServer) {
    const metricsBound = (metricsServer.address() as AddressInfo).port;
    metricsUrl = `http://${urlHost(metricsHost ?? DEFAULT_HOST)}:${metricsBound}/metrics`;
    relay.logger.info({ host: metricsHost ?? DEFAULT_HOST, port: metricsBound }, 'metrics listening');
  }
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await relay.close();
      await Promise.all([server, metricsServer].filter((s) => s !== undefined).map(stop));
    })();
    return closing;
  };
  return { url: `http://${urlHost(host)}:${bound}/`, port: bound, server, metricsUrl, relay, close };
}

/**
 * The relay's arguments: as given, or with `redisUrl` the rooms shared through Redis, connected first (the module and
 * `@redis/client` are loaded only then, with a dynamic `import()`).
 * @throws Error naming the URL if Redis cannot be reached (the CLI exits 1 with that line).
 */
async function sharedRooms(options: RelayOptions): Promise<[RelayOptions, ParticipantsFactory?]> {
  if (options.redisUrl === undefined) return [options];
  const resolved = resolveRelayOptions(options);
  const { RedisParticipants } = await import('./redis/participants-redis.js');
  // With an SFU, a room's capacity in Redis is the SFU's; the mesh's is kept by sfu/shared-participants.ts.
  const capacity = resolved.sfu?.maxPeersPerSfuRoom ?? resolved.maxPeersPerRoom;
  const shared = await RedisParticipants.connect({ ...resolved, maxPeersPerRoom: capacity }, resolved.logger);
  // The logger made for the options is the relay's too (one logger, not two).
  return [{ ...options, logLevel: undefined, logger: resolved.logger }, (ctx) => shared.bind(ctx)];
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function stop(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    // Keep-alive HTTP connections would otherwise hold close() open until they time out.
    server.closeAllConnections();
  });
}

/**
 * `/healthz` and `/metrics` (GET or HEAD), or `undefined` for any other request. `/metrics` is 403 if `metrics` is
 * `'refused'`, and left to the caller (`undefined`) if `'none'`.
 */
function operational(
  relay: Relay,
  req: IncomingMessage,
  res: ServerResponse,
  metrics: 'allowed' | 'refused' | 'none',
): Promise<void> | undefined {
  const path = (req.url ?? '/').split('?', 1)[0];
  if (path !== '/healthz' && (path !== '/metrics' || metrics === 'none')) return undefined;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Length': '0' }).end();
    return Promise.resolve();
  }
  const reply = (status: number, type: string, body: string): void => {
    res.writeHead(status, {
      'Content-Type': type,
      'Content-Length': String(Buffer.byteLength(body)),
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  if (path === '/healthz') {
    const status = relay.closing ? 'draining' : 'ok';
    reply(relay.closing ? 503 : 200, 'application/json; charset=utf-8', JSON.stringify({ status, ...relay.stats() }));
    return Promise.resolve();
  }
  if (metrics === 'refused') {
    reply(403, 'text/plain; charset=utf-8', 'metrics are served to loopback clients only (see --public-metrics)\n');
    return Promise.resolve();
  }
  return relay.metrics.metrics().then((text) => reply(200, relay.metrics.contentType, text));
}

/** A host as it goes in a URL: wildcard binds become `localhost` (openable), IPv6 literals get brackets. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}
