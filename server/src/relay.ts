/**
 * The signaling relay as a whole: one WebSocket (RFC 6455) per participant, rooms of peers, and `signal` payloads
 * forwarded opaquely between members of the same room. The wire format is `src/protocol/relay.ts` (prose:
 * `docs/protocol.md`).
 *
 * {@link createRelay} wires the parts: the gate (`upgrade.ts`), one socket's life (`connection.ts`), who is in which
 * room (`participants.ts` over `rooms.ts`), plus the options, the metrics, the ws `WebSocketServer`, the heartbeat and
 * the drain. Built on ws with `noServer: true`, so the HTTP `upgrade` handler stays ours. Like ws's own server
 * (`lib/websocket-server.js`) the relay has an explicit status: `running`, `closing` (upgrades refused with 503,
 * sockets draining), `closed`.
 *
 * @module
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { CloseCode } from '../../src/protocol/relay.js';
import { serve, type Connection, type ConnectionContext } from './connection.js';
import { createHostParticipants } from './hosts/index.js';
import { createHostMetrics } from './hosts/host-metrics.js';
import type { Logger } from './log.js';
import { createMetrics, type RelayMetrics } from './metrics.js';
import { resolveRelayOptions, type RelayOptions } from './options.js';
import { LocalParticipants, type Joined, type Participants, type ParticipantsContext } from './participants.js';
import { createSfuParticipants } from './sfu/index.js';
import { turnCredentials, type TurnConfig } from './turn.js';
import { AddressCounts, UpgradeGate, type AttachOptions } from './upgrade.js';

export { INTERNAL_ERROR, MAX_FRAMES_DURING_JOIN } from './connection.js';
export { displayName } from './participants.js';
export type { AttachOptions } from './upgrade.js';

/** Counters from {@link Relay.stats}. */
export interface RelayStats {
  /** Open WebSocket connections, joined or not. */
  connections: number;
  /** Non-empty rooms. */
  rooms: number;
  /** Participants in all rooms. */
  peers: number;
  /** With rooms shared through Redis (`redisUrl`): whether this relay reaches Redis now. Absent otherwise. */
  redis?: 'up' | 'down';
}

/**
 * Builds a relay's participants from its context, instead of the in-memory {@link LocalParticipants}: rooms shared
 * through Redis (`redis/participants-redis.ts`, connected by `startServer` when `redisUrl` is set).
 */
export type ParticipantsFactory = (ctx: ParticipantsContext & { readonly metrics: RelayMetrics }) => Participants;

/**
 * Where a relay is in its life, as ws's `RUNNING / CLOSING / CLOSED`: `running` until {@link Relay.close} is called,
 * `closing` while it drains, `closed` once every socket is closed.
 */
export type RelayStatus = 'running' | 'closing' | 'closed';

/** A running relay. */
export interface Relay {
  /**
   * Completes a WebSocket handshake for an HTTP `upgrade` request and serves the socket. Refuses with 503 once the
   * relay is closing. Arguments as in Node's `http.Server` `'upgrade'` event.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Listens to `server`'s `'upgrade'` event (optionally for one path). @returns a function that detaches again. */
  attach(server: Server, options?: AttachOptions): () => void;
  /**
   * Drains the relay: stops the heartbeat, refuses new upgrades with 503 and closes every socket with `code`
   * (default 1012 "Service Restart", RFC 6455 §7.4.1: clients reconnect, to this relay once it is back or to another
   * one). Resolves once all sockets are closed; one that does not finish the closing handshake within
   * {@link CLOSE_GRACE_MS} is terminated. Idempotent: later calls return the first drain.
   */
  close(code?: number): Promise<void>;
  /** The relay's status; see {@link RelayStatus}. */
  readonly status: RelayStatus;
  /** Whether {@link close} was called (status `closing` or `closed`): upgrades are refused, `/healthz` says 503. */
  readonly closing: boolean;
  /** Current counters. */
  stats(): RelayStats;
  /** This relay's Prometheus registry (prom-client): `await relay.metrics.metrics()` is the text exposition. */
  readonly metrics: RelayMetrics['registry'];
  /** The relay's pino logger (the one given in the options, or its own). */
  readonly logger: Logger;
}

/** How long, in ms, {@link Relay.close} waits for a client's closing handshake before dropping the TCP connection. */
export const CLOSE_GRACE_MS = 1000;

/**
 * Fragments one message may arrive in (ws `maxFragments`; its default is 16 384). Browsers send a signal as one frame;
 * more closes the connection with 1008, so that a message cut into tiny fragments cannot pin thousands of buffers.
 */
export const MAX_FRAGMENTS = 64;

/**
 * TCP chunks ws may hold for one connection while a frame is incomplete (ws `maxBufferedChunks`; its default is
 * 262 144). Each chunk is a Buffer with its own overhead, so a 60 KB frame written one byte per TCP segment pinned
 * 8–13 MB per socket with the default. A real network delivers a 64 KiB frame in a few dozen segments (≥ 500 bytes
 * each); beyond this the connection is closed with 1008.
 */
export const MAX_BUFFERED_CHUNKS = 1024;

/**
 * Creates a relay. Nothing listens until {@link Relay.attach} or {@link Relay.handleUpgrade} is used.
 * @param options see {@link RelayOptions}; omitted or `undefined` values take their defaults.
 * @returns the relay, status `running`.
 * @throws RangeError / TypeError for invalid options (see {@link RelayOptions}).
 */
export function createRelay(options: RelayOptions = {}, participantsFactory?: ParticipantsFactory): Relay {
  const config = resolveRelayOptions(options);
  const log = config.logger;
  let status: RelayStatus = 'running';
  let drained: Promise<void> | undefined;
  const isClosing = (): boolean => status !== 'running';
  const connections = new Set<Connection>();
  const counts = new AddressCounts();
  const release = (address: string): void => counts.release(address);
  const metrics = createMetrics(() => {
    const { rooms, peers, resuming, queuedBytes } = participants.counts();
    return { connections: connections.size, rooms, peers, resuming, queuedBytes };
  });
  const turn: TurnConfig | undefined =
    config.turnSecret === undefined
      ? undefined
      : { urls: config.turnUrls, secret: config.turnSecret, ttlSeconds: config.turnTtlSeconds };
  // With an SFU (--janus-url), rooms switch to it by size: a wrapper keeps each room's mode (sfu/index.ts).
  let sfu: ReturnType<typeof createSfuParticipants> | undefined;
  const participantsContext: ParticipantsContext & { readonly metrics: RelayMetrics } = {
    config: config.sfu ? { ...config, maxPeersPerRoom: config.sfu.maxPeersPerSfuRoom } : config,
    departed: (joined: Joined) => {
      sfu?.departed(joined);
      hosts.departed(joined);
    },
    // Called only once participants exist, after `hosts` below is made.
    welcome: (link, welcome) => hosts.welcome(link, welcome),
    log,
    metrics,
    isClosing,
    release,
    // TURN credentials are minted per participant and per welcome: they name this ID and expire.
    iceServers: (id: string) => (turn ? [...config.iceServers, turnCredentials(turn, id)] : config.iceServers),
  };
  const inner: Participants = participantsFactory
    ? participantsFactory(participantsContext)
    : new LocalParticipants(participantsContext);
  if (config.sfu) sfu = createSfuParticipants(inner, config.sfu, config.maxPeersPerRoom, log);
  // Hosts and guests (hosts/): the outermost layer, whose hooks above follow welcomes and departures; with rooms shared
  // through Redis its room state is in Redis too.
  const hosts = createHostParticipants(sfu ?? inner, inner, config, log, createHostMetrics(metrics.registry));
  const participants: Participants = hosts;
  const context: ConnectionContext = {
    config,
    log,
    metrics,
    participants,
    connections,
    isClosing,
    release,
    rateLimit: {
      perSecond: config.rateLimitPerSecond,
      burst: config.rateLimitBurst,
      closeAfter: config.rateLimitCloseAfter,
    },
    tokenKey: config.tokenSecret === undefined ? undefined : new TextEncoder().encode(config.tokenSecret),
  };

  const wss = new WebSocketServer({
    noServer: true,
    // We track sockets ourselves (for heartbeat and routing); ws's own set would be a second source of truth.
    clientTracking: false,
    maxPayload: config.maxMessageBytes,
    // Compression lets a small frame inflate into a huge one and costs memory per socket; SDP does not need it.
    perMessageDeflate: false,
    maxFragments: MAX_FRAGMENTS,
    maxBufferedChunks: MAX_BUFFERED_CHUNKS,
  });

  const gate = new UpgradeGate({
    allowedOrigins: new Set(config.allowedOrigins),
    trustProxy: config.trustProxy,
    maxConnectionsPerIp: config.maxConnectionsPerIp,
    counts,
    metrics,
    log,
    isClosing,
    refuseOrigin(req, socket, head) {
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on('error', () => {});
        metrics.closedByRelay.inc({ code: CloseCode.OriginNotAllowed });
        ws.close(CloseCode.OriginNotAllowed, 'origin not allowed');
      });
    },
    accept(req, socket, head, address) {
      wss.handleUpgrade(req, socket, head, (ws) => {
        // `req` is read here, not kept: a closure over it would hold the whole IncomingMessage as long as the socket
        // (about 1 KB of heap per connection, measured with `npm run bench -- connections`).
        if (serve(ws, req.socket.remoteAddress, address, context)) counts.acquire(address);
      });
    },
  });

  const heartbeat = setInterval(() => {
    for (const conn of connections) {
      // No pong since the last ping: the peer or the path to it is gone. Terminating emits 'close', which leaves.
      if (!conn.alive) {
        log.debug({ ip: conn.ip, id: conn.member?.id }, 'no pong since the last ping: terminating');
        conn.terminate();
        continue;
      }
      conn.alive = false;
      conn.socket.ping();
    }
  }, config.heartbeatIntervalMs);
  // The HTTP server keeps the process alive; the heartbeat alone must not.
  heartbeat.unref();

  function close(code: number = CloseCode.ServiceRestart): Promise<void> {
    if (drained) return drained;
    status = 'closing';
    drained = (async () => {
      clearInterval(heartbeat);
      log.info({ connections: connections.size, code }, 'closing: draining every connection');
      await Promise.all([...connections].map((conn) => closeConnection(conn, code)));
      // Participants in their grace period have no connection to close; they go with the relay's state.
      participants.clear();
      await participants.close?.();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      status = 'closed';
      log.info('closed');
    })();
    return drained;
  }

  /** Closes with `code` and resolves on 'close'; terminates after {@link CLOSE_GRACE_MS} if the client does not answer. */
  function closeConnection(conn: Connection, code: number): Promise<void> {
    const { socket } = conn;
    if (socket.readyState === socket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => conn.terminate(), CLOSE_GRACE_MS);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      metrics.closedByRelay.inc({ code });
      socket.close(code, code === CloseCode.ServiceRestart ? 'relay restarting' : 'relay shutting down');
    });
  }

  function stats(): RelayStats {
    const { rooms, peers } = participants.counts();
    const stats: RelayStats = { connections: connections.size, rooms, peers };
    if (participants.redisUp !== undefined) stats.redis = participants.redisUp ? 'up' : 'down';
    return stats;
  }

  return {
    handleUpgrade: (req, socket, head) => gate.handleUpgrade(req, socket, head),
    attach: (server, attachOptions) => gate.attach(server, attachOptions),
    close,
    stats,
    get status() {
      return status;
    },
    get closing() {
      return status !== 'running';
    },
    metrics: metrics.registry,
    logger: log,
  };
}
