/**
 * The upgrade gate: every HTTP `upgrade` request (RFC 6455 §4.1) passes here before a WebSocket exists. In order:
 * relay closing → 503, `Origin` not allowed → 403, too many connections plus participants in their grace period for
 * this client address → 429; {@link UpgradeGate.attach} adds path matching (another path → 404 when nobody else
 * listens). Every refusal goes through one path, {@link UpgradeGate.reject}: counted, logged, answered with
 * {@link refuse}. This is ws's `handleUpgrade`/`abortHandshake` seam (`lib/websocket-server.js`), kept ours with
 * `noServer: true` so that the security checks sit in one file.
 *
 * @module
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { clientAddress } from './address.js';
import { originAllowed } from './auth.js';
import type { Logger } from './log.js';
import type { RelayMetrics, UpgradeRejection } from './metrics.js';

/** Options of {@link UpgradeGate.attach} (and `Relay.attach`). */
export interface AttachOptions {
  /**
   * Only upgrades whose URL path is exactly this (query ignored) go to the relay. Others are left to other
   * `'upgrade'` listeners, or refused with 404 if there are none. Without `path`, every upgrade is taken.
   */
  path?: string;
}

/**
 * Open connections plus participants in their grace period, per client address key (see `address.ts`): the count
 * `maxConnectionsPerIp` limits.
 */
export class AddressCounts {
  readonly #counts = new Map<string, number>();

  /** @returns how many places `address` holds now. */
  count(address: string): number {
    return this.#counts.get(address) ?? 0;
  }

  /** @param address one place more for it (a connection was accepted). */
  acquire(address: string): void {
    this.#counts.set(address, (this.#counts.get(address) ?? 0) + 1);
  }

  /** @param address one place less for it (a connection closed, or a grace period ended). */
  release(address: string): void {
    const count = (this.#counts.get(address) ?? 1) - 1;
    if (count > 0) this.#counts.set(address, count);
    else this.#counts.delete(address);
  }

  /** @returns the number of addresses holding at least one place. */
  get size(): number {
    return this.#counts.size;
  }
}

/** What the gate needs from the relay. */
export interface GateContext {
  /** Normalised allowed origins; empty allows every origin (see `auth.ts`). */
  readonly allowedOrigins: ReadonlySet<string>;
  /** Whether `X-Forwarded-For` names the client (see `address.ts`). */
  readonly trustProxy: boolean;
  /** Places per address, 0 for no limit. */
  readonly maxConnectionsPerIp: number;
  readonly counts: AddressCounts;
  readonly metrics: Pick<RelayMetrics, 'upgradesRejected'>;
  readonly log: Logger;
  /** @returns whether the relay is closing (→ 503). */
  isClosing(): boolean;
  /**
   * Completes the handshake for a browser whose origin is refused and closes at once with
   * 4003 (`CloseCode.OriginNotAllowed`), reading nothing: the one refusal a browser can tell apart (WHATWG WebSockets
   * hide the HTTP status of a failed handshake).
   */
  refuseOrigin(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /**
   * Completes the handshake for an upgrade that passed the gate.
   * @param address the client address key the connection will count against.
   */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer, address: string): void;
}

/** The gate of one relay. */
export class UpgradeGate {
  readonly #ctx: GateContext;

  /** @param ctx the relay's options, counts and hooks. */
  constructor(ctx: GateContext) {
    this.#ctx = ctx;
  }

  /**
   * Checks an upgrade and hands it to `accept`, or refuses it. Arguments as in Node's `http.Server` `'upgrade'`.
   * ws completes the handshake synchronously (no async `verifyClient`), so counting on accept is race-free.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const ctx = this.#ctx;
    if (ctx.isClosing()) {
      this.reject(req, socket, 'shutting-down', 503, 'Service Unavailable');
      return;
    }
    const { origin } = req.headers;
    const originOk = originAllowed(ctx.allowedOrigins, origin) || sameOrigin(origin, req.headers.host);
    if (!originOk && origin === undefined) {
      // Not a browser (browsers always send Origin on a WebSocket upgrade): a plain HTTP refusal is enough.
      this.reject(req, socket, 'origin', 403, 'Forbidden');
      return;
    }
    const address = clientAddress(req, ctx.trustProxy);
    if (ctx.maxConnectionsPerIp > 0 && ctx.counts.count(address) >= ctx.maxConnectionsPerIp) {
      this.reject(req, socket, 'ip-limit', 429, 'Too Many Requests');
      return;
    }
    if (!originOk) {
      ctx.metrics.upgradesRejected.inc({ reason: 'origin' });
      ctx.log.warn({ ip: req.socket.remoteAddress, origin, reason: 'origin' }, 'upgrade refused: origin not allowed');
      ctx.refuseOrigin(req, socket, head);
      return;
    }
    ctx.accept(req, socket, head, address);
  }

  /**
   * Listens to `server`'s `'upgrade'` event, optionally for one path.
   * @param server the HTTP server.
   * @param options see {@link AttachOptions}.
   * @returns a function that detaches again.
   */
  attach(server: Server, options: AttachOptions = {}): () => void {
    const { path } = options;
    const listener = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
      if (path !== undefined && pathnameOf(req) !== path) {
        // Another listener may own this path; if we are the only one, nobody would ever answer.
        if (server.listenerCount('upgrade') === 1) this.reject(req, socket, 'not-found', 404, 'Not Found');
        return;
      }
      this.handleUpgrade(req, socket, head);
    };
    server.on('upgrade', listener);
    return () => {
      server.off('upgrade', listener);
    };
  }

  /**
   * Answers an upgrade with an HTTP error before any WebSocket state exists, counted and logged.
   * @param reason the metric label.
   * @param status the HTTP status code.
   * @param text its reason phrase.
   */
  reject(req: IncomingMessage, socket: Duplex, reason: UpgradeRejection, status: number, text: string): void {
    this.#ctx.metrics.upgradesRejected.inc({ reason });
    this.#ctx.log.warn({ ip: req.socket.remoteAddress, origin: req.headers.origin, reason, status }, 'upgrade refused');
    refuse(socket, status, text);
  }
}

/**
 * Answers an upgrade request with a plain HTTP error and drops the connection (ws's `abortHandshake`).
 * @param socket the request's socket.
 * @param status the HTTP status code.
 * @param text its reason phrase.
 */
export function refuse(socket: Duplex, status: number, text: string): void {
  socket.on('error', () => {});
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * Whether `origin` is the relay's own (the page was served by this host, e.g. the demo page): scheme-less host and port
 * compared with the request's `Host` header. Such a page is allowed whatever the allowlist says.
 * @param origin the `Origin` header, if any.
 * @param host the `Host` header, if any.
 */
export function sameOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined || host === undefined || origin === 'null') return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

/**
 * The request target's path, query dropped. Not via `new URL`, which would read `//x` as a host.
 * @returns the path as sent (`/` if the request has no URL).
 */
export function pathnameOf(req: IncomingMessage): string {
  const target = req.url ?? '/';
  const query = target.indexOf('?');
  return query === -1 ? target : target.slice(0, query);
}
