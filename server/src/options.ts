/**
 * Relay options: their defaults and their validation. Kept apart from the relay so that a wrong value, or a wrong
 * combination of values, fails at construction with a message naming the option, before any socket exists.
 *
 * Every message of a thrown error starts with the option's name (the CLI maps it back to the flag).
 *
 * @module
 */
import { MAX_MESSAGE_BYTES, isIceServer, type IceServer } from '../../src/protocol/relay.js';
import { MIN_TOKEN_SECRET_BYTES, normaliseOrigins } from './auth.js';
import { checkHostOptions, HOST_DEFAULTS, type HostOptions } from './hosts/options.js';
import { createLogger, LOG_LEVELS, type Logger, type LogLevel } from './log.js';
import { resolveSfuOptions, type ResolvedSfuOptions, type SfuOptions } from './sfu/options.js';
import { isTurnUrl } from './turn.js';

/** Options of {@link createRelay}. Every option is optional; see {@link RELAY_DEFAULTS} (and `sfu/options.ts`). */
export interface RelayOptions extends SfuOptions, HostOptions {
  /** Largest number of participants per room, an integer ≥ 1. A `join` beyond it is answered with `room-full`. */
  maxPeersPerRoom?: number;
  /**
   * Largest accepted frame payload, in bytes, an integer ≥ 1 (ws `maxPayload`). A larger frame closes the socket
   * with 1009 "Message Too Big" (RFC 6455 §7.4.1).
   */
  maxMessageBytes?: number;
  /**
   * Heartbeat period, in milliseconds, an integer in 1…2³¹−1. Every period the relay pings each socket (RFC 6455
   * §5.5.2) and terminates one that has not answered the previous ping with a pong, so a dead peer is noticed
   * after one to two periods.
   */
  heartbeatIntervalMs?: number;
  /** ICE servers (W3C WebRTC `RTCIceServer`) handed to every participant in `welcome`. */
  iceServers?: IceServer[];
  /**
   * Origins (`scheme://host[:port]`, compared exactly after normalisation) whose pages may open a WebSocket. An
   * upgrade whose `Origin` header is missing or not listed is answered with HTTP 403 before the handshake. Empty
   * (the default): any origin. Only browsers send `Origin` reliably; this keeps other sites' pages out, not scripts.
   */
  allowedOrigins?: string[];
  /**
   * Secret that turns room tokens on: every `join` must then carry a `token`, an HS256 JWT with claims `room`, `exp`
   * and optionally `name`, signed with this secret (at least 32 bytes of UTF-8). Unset (the default): no tokens.
   */
  tokenSecret?: string;
  /**
   * Per-socket rate limit, sustained messages per second (token bucket refill), an integer ≥ 1. Frames beyond the
   * limit are refused with `rate-limited`; see {@link rateLimitBurst} and {@link rateLimitCloseAfter}.
   */
  rateLimitPerSecond?: number;
  /**
   * Per-socket burst: messages that may arrive at once after a quiet period (the bucket size), an integer ≥ 1. A
   * six-person mesh join with trickle ICE is a burst of a few hundred signals per peer; the default leaves room.
   */
  rateLimitBurst?: number;
  /** Refused messages (net of refill) after which a flooding socket is closed with 1008, an integer ≥ 1. */
  rateLimitCloseAfter?: number;
  /**
   * Open WebSocket connections per client address (IPv6: per /64), an integer ≥ 0; 0 turns the limit off. One more
   * upgrade is answered with HTTP 429 before the handshake.
   */
  maxConnectionsPerIp?: number;
  /**
   * Count connections under the last `X-Forwarded-For` address instead of the TCP peer's. Only behind a reverse proxy
   * that sets it, and only if the relay is reachable through that proxy alone. Default `false`.
   */
  trustProxy?: boolean;
  /**
   * How long, in ms, a connection may stay in no room (after connecting, or after `leave`) before it is closed with
   * 4000 "join timeout". An integer in 1…2³¹−1.
   */
  joinTimeoutMs?: number;
  /**
   * Largest amount of data, in bytes, queued for one socket that is not being read (ws `bufferedAmount`). A client
   * that stops reading is terminated once its queue exceeds this, so it cannot make the relay hold unbounded memory;
   * senders never wait for it. At least twice {@link maxMessageBytes}.
   */
  maxBufferedBytes?: number;
  /**
   * Grace period, in ms, during which a participant whose connection dropped (closed, failed heartbeat, stopped
   * reading) stays in its room and can resume it with `join.resume` on a new connection, keeping its ID; the others
   * see nothing. When it ends, the participant leaves normally. 0 turns resume off (a drop leaves at once, `welcome`
   * has no `resume`). An integer in 0…2³¹−1.
   */
  resumeGraceMs?: number;
  /**
   * Signals addressed to a participant in its grace period are queued, up to this many bytes, and delivered after
   * its resumed `welcome`; beyond it the sender gets `unknown-peer`. An integer ≥ 0.
   */
  resumeQueueBytes?: number;
  /**
   * Participants in their grace period, relay-wide, an integer ≥ 0. A participant whose connection drops while this
   * many are waiting already leaves at once (`peer-left`, no resume), as if resume were off. Each also counts against
   * {@link maxConnectionsPerIp} for its address until it resumes or leaves.
   */
  maxResumingPeers?: number;
  /**
   * Bytes of signals queued for all participants in their grace period together, relay-wide, an integer ≥ 0. A signal
   * that would go beyond it is not queued: its sender gets `unknown-peer`, as for a full {@link resumeQueueBytes}.
   */
  maxResumeQueueTotalBytes?: number;
  /**
   * Soft mark, in bytes, of an addressee's outgoing queue (ws `bufferedAmount`): a `signal` to a participant whose
   * queue holds more is refused to its *sender* with `rate-limited` (naming the peer) and not forwarded, so that no
   * member can get another one dropped by sending it more than it can read. An integer in
   * 0…{@link maxBufferedBytes} − {@link maxMessageBytes}; default 256 KiB, or that upper bound if it is lower.
   */
  pushBackBufferedBytes?: number;
  /**
   * TURN server URLs (`turn:`/`turns:`, RFC 7065) for which every `welcome` carries ephemeral credentials made for
   * that participant (TURN REST API: `username = "<expiry>:<peer id>"`, `credential = base64(HMAC-SHA1(turnSecret,
   * username))`), fresh on every join and resume. Needs {@link turnSecret}. Added after {@link iceServers}.
   */
  turnUrls?: string[];
  /**
   * The secret shared with the TURN server (coturn `static-auth-secret`), at least 16 bytes. Never sent to clients
   * and never logged. Needs {@link turnUrls}.
   */
  turnSecret?: string;
  /** Lifetime of TURN credentials, in seconds, 60…604 800 (a week). Only with {@link turnUrls}. Default 86 400. */
  turnTtlSeconds?: number;
  /**
   * Level of the relay's own pino logger (JSON lines on stderr): `fatal`, `error`, `warn`, `info`, `debug`, `trace`
   * or `silent`. Not together with {@link logger}.
   */
  logLevel?: LogLevel;
  /** A pino logger to log to instead (e.g. the application's, or a child of it). Not together with {@link logLevel}. */
  logger?: Logger;
  /**
   * Rooms shared with other relay processes through this Redis (`redis://`, `rediss://` or `unix://` URL; user,
   * password and database in the URL as node-redis reads them). Unset (the default): rooms live in this process's
   * memory and the Redis client is not even loaded. Only {@link startServer} (and the CLI) connect; see
   * `server/src/redis/` and `docs/deploy.md`. Every relay sharing a Redis must run with the same
   * {@link maxPeersPerRoom}, {@link resumeGraceMs} and {@link resumeQueueBytes}.
   */
  redisUrl?: string;
  /** Prefix of every Redis key and channel, so that several deployments can share one Redis. Default `vc:`. */
  redisPrefix?: string;
  /**
   * Lease of a relay process in Redis, in ms (renewed every third of it). A process whose lease ran out (it died, or
   * lost Redis) is declared gone by the others: its participants enter their grace period. Default 5 000.
   */
  nodeLeaseMs?: number;
  /** How often, in ms, this process sweeps Redis for expired leases and grace periods. Default 1 000. */
  sweepIntervalMs?: number;
}

/** {@link RelayOptions} after defaults and validation: every field present. */
export interface ResolvedRelayOptions {
  maxPeersPerRoom: number;
  maxMessageBytes: number;
  heartbeatIntervalMs: number;
  iceServers: IceServer[];
  /** Normalised origins; empty = any. */
  allowedOrigins: string[];
  tokenSecret: string | undefined;
  rateLimitPerSecond: number;
  rateLimitBurst: number;
  rateLimitCloseAfter: number;
  maxConnectionsPerIp: number;
  trustProxy: boolean;
  joinTimeoutMs: number;
  maxBufferedBytes: number;
  resumeGraceMs: number;
  resumeQueueBytes: number;
  maxResumingPeers: number;
  maxResumeQueueTotalBytes: number;
  pushBackBufferedBytes: number;
  turnUrls: string[];
  turnSecret: string | undefined;
  turnTtlSeconds: number;
  redisUrl: string | undefined;
  redisPrefix: string;
  nodeLeaseMs: number;
  sweepIntervalMs: number;
  /** The waiting room (`hosts/options.ts`). */
  knock: boolean;
  knockTimeoutMs: number;
  logLevel: LogLevel;
  /** The logger given, or one made for {@link logLevel}. */
  logger: Logger;
  /** The SFU (`sfu/options.ts`), or `undefined`: every room a mesh. */
  sfu: ResolvedSfuOptions | undefined;
}

/** Defaults of {@link RelayOptions} (no `logger`: without one, a logger at `logLevel` on stderr is made). */
export const RELAY_DEFAULTS: Readonly<Omit<ResolvedRelayOptions, 'logger' | 'sfu'>> = Object.freeze({
  maxPeersPerRoom: 6,
  maxMessageBytes: MAX_MESSAGE_BYTES,
  heartbeatIntervalMs: 30_000,
  iceServers: [],
  allowedOrigins: [],
  tokenSecret: undefined,
  rateLimitPerSecond: 100,
  rateLimitBurst: 500,
  rateLimitCloseAfter: 100,
  maxConnectionsPerIp: 50,
  trustProxy: false,
  joinTimeoutMs: 10_000,
  maxBufferedBytes: 1024 * 1024,
  resumeGraceMs: 15_000,
  resumeQueueBytes: 256 * 1024,
  maxResumingPeers: 10_000,
  maxResumeQueueTotalBytes: 64 * 1024 * 1024,
  pushBackBufferedBytes: 256 * 1024,
  turnUrls: [],
  turnSecret: undefined,
  turnTtlSeconds: 86_400,
  redisUrl: undefined,
  redisPrefix: 'vc:',
  nodeLeaseMs: 5_000,
  sweepIntervalMs: 1_000,
  ...HOST_DEFAULTS,
  logLevel: 'info',
});

/** Longest delay `setTimeout`/`setInterval` honour (a larger one silently becomes 1 ms). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Fills in defaults and validates.
 * @throws RangeError naming the option if a value is out of range; TypeError if a value has the wrong type or shape,
 *   or if options that only make sense together are given apart.
 */
export function resolveRelayOptions(options: RelayOptions = {}): ResolvedRelayOptions {
  const given = definedOnly(options);
  if (given.logger !== undefined && given.logLevel !== undefined) {
    throw new TypeError('logLevel and logger are exclusive: set the level on the logger you pass');
  }
  const { logger, janusUrl, janusApiSecret, janusAdminKey, sfuFrom, maxPeersPerSfuRoom, ...rest } = given;
  const settings = { ...RELAY_DEFAULTS, ...rest };
  if (rest.pushBackBufferedBytes === undefined && Number.isSafeInteger(settings.maxBufferedBytes)) {
    // The default follows a smaller outgoing cap, so that a signal accepted below the mark never reaches the cap.
    settings.pushBackBufferedBytes = Math.max(
      0,
      Math.min(RELAY_DEFAULTS.pushBackBufferedBytes, settings.maxBufferedBytes - settings.maxMessageBytes),
    );
  }
  if (!(LOG_LEVELS as readonly unknown[]).includes(settings.logLevel)) {
    throw new TypeError(`logLevel must be one of ${LOG_LEVELS.join(', ')}, got ${String(settings.logLevel)}`);
  }
  checkInteger('maxPeersPerRoom', settings.maxPeersPerRoom, 1, Number.MAX_SAFE_INTEGER);
  checkInteger('maxMessageBytes', settings.maxMessageBytes, 1, Number.MAX_SAFE_INTEGER);
  checkInteger('heartbeatIntervalMs', settings.heartbeatIntervalMs, 1, MAX_TIMER_MS);
  checkInteger('rateLimitPerSecond', settings.rateLimitPerSecond, 1, Number.MAX_SAFE_INTEGER);
  checkInteger('rateLimitBurst', settings.rateLimitBurst, 1, Number.MAX_SAFE_INTEGER);
  checkInteger('rateLimitCloseAfter', settings.rateLimitCloseAfter, 1, Number.MAX_SAFE_INTEGER);
  checkInteger('maxConnectionsPerIp', settings.maxConnectionsPerIp, 0, Number.MAX_SAFE_INTEGER);
  if (typeof settings.trustProxy !== 'boolean') throw new TypeError('trustProxy must be a boolean');
  checkInteger('joinTimeoutMs', settings.joinTimeoutMs, 1, MAX_TIMER_MS);
  checkInteger('maxBufferedBytes', settings.maxBufferedBytes, 1, Number.MAX_SAFE_INTEGER);
  checkInteger('resumeGraceMs', settings.resumeGraceMs, 0, MAX_TIMER_MS);
  checkInteger('resumeQueueBytes', settings.resumeQueueBytes, 0, Number.MAX_SAFE_INTEGER);
  checkInteger('maxResumingPeers', settings.maxResumingPeers, 0, Number.MAX_SAFE_INTEGER);
  checkInteger('maxResumeQueueTotalBytes', settings.maxResumeQueueTotalBytes, 0, Number.MAX_SAFE_INTEGER);
  checkTurn(settings, given.turnTtlSeconds !== undefined);
  checkRedis(settings);
  checkHostOptions(settings);
  if (settings.maxBufferedBytes < 2 * settings.maxMessageBytes) {
    throw new RangeError(
      `maxBufferedBytes must be at least twice maxMessageBytes (${2 * settings.maxMessageBytes}), ` +
        `got ${settings.maxBufferedBytes}: a reader would otherwise be dropped for one large message`,
    );
  }
  checkInteger(
    'pushBackBufferedBytes',
    settings.pushBackBufferedBytes,
    0,
    Math.max(0, settings.maxBufferedBytes - settings.maxMessageBytes),
  );
  if (!Array.isArray(settings.iceServers) || !settings.iceServers.every(isIceServer)) {
    throw new TypeError('iceServers must be an array of RTCIceServer objects ({ urls, username?, credential? })');
  }
  if (!Array.isArray(settings.allowedOrigins) || !settings.allowedOrigins.every((o) => typeof o === 'string')) {
    throw new TypeError('allowedOrigins must be an array of origin strings');
  }
  const allowedOrigins = [...normaliseOrigins(settings.allowedOrigins)];
  if (settings.tokenSecret !== undefined) {
    if (typeof settings.tokenSecret !== 'string') throw new TypeError('tokenSecret must be a string');
    if (Buffer.byteLength(settings.tokenSecret) < MIN_TOKEN_SECRET_BYTES) {
      // Never echo the secret, not even in an error.
      throw new RangeError(`tokenSecret must be at least ${MIN_TOKEN_SECRET_BYTES} bytes (HS256 needs a 256-bit key)`);
    }
  }
  const sfu = resolveSfuOptions(
    { janusUrl, janusApiSecret, janusAdminKey, sfuFrom, maxPeersPerSfuRoom },
    settings.maxPeersPerRoom,
  );
  if (sfu && settings.redisUrl !== undefined) {
    // A room's media mode lives in one process's memory (sfu/sfu-participants.ts), not yet in Redis.
    throw new RangeError('janusUrl and redisUrl cannot be combined yet: an SFU works with one relay process for now');
  }
  return {
    ...settings,
    sfu,
    // Copy so that a caller mutating its array later cannot change what the relay hands out.
    iceServers: structuredClone(settings.iceServers),
    turnUrls: [...settings.turnUrls],
    allowedOrigins,
    logLevel: logger ? (logger.level as LogLevel) : settings.logLevel,
    // Made last: nothing is created for options that are refused.
    logger: logger ?? createLogger(settings.logLevel),
  };
}

/** Shortest TURN secret accepted, in bytes: every participant sees an HMAC of it, so it must resist offline guessing. */
export const MIN_TURN_SECRET_BYTES = 16;

/** TURN options come together: URLs and secret both or neither, a TTL only with them. */
function checkTurn(
  settings: Pick<ResolvedRelayOptions, 'turnUrls' | 'turnSecret' | 'turnTtlSeconds'>,
  ttlGiven: boolean,
): void {
  const { turnUrls, turnSecret } = settings;
  if (!Array.isArray(turnUrls) || !turnUrls.every(isTurnUrl)) {
    throw new TypeError(
      'turnUrls must be an array of turn: or turns: URLs (RFC 7065), e.g. turn:turn.example.org:3478',
    );
  }
  if (turnSecret !== undefined && typeof turnSecret !== 'string') throw new TypeError('turnSecret must be a string');
  if (turnUrls.length > 0 && turnSecret === undefined) {
    throw new TypeError('turnUrls needs turnSecret, the static-auth-secret of the TURN server, to mint credentials');
  }
  if (turnSecret !== undefined && turnUrls.length === 0) {
    throw new TypeError('turnSecret is set but turnUrls is empty: give the TURN server URLs too');
  }
  if (turnSecret !== undefined && Buffer.byteLength(turnSecret) < MIN_TURN_SECRET_BYTES) {
    throw new RangeError(`turnSecret must be at least ${MIN_TURN_SECRET_BYTES} bytes (e.g. openssl rand -hex 32)`);
  }
  if (ttlGiven && turnUrls.length === 0) throw new TypeError('turnTtlSeconds is set but turnUrls is empty');
  checkInteger('turnTtlSeconds', settings.turnTtlSeconds, 60, 604_800);
}

/** Redis URL schemes node-redis connects to (`unix://` as `redis+unix` would be spelled elsewhere). */
const REDIS_URL = /^(rediss?:\/\/\S+|unix:\/\/\/?\S+)$/i;

/** The shared-rooms options: a Redis URL node-redis can read, a short prefix, timings a lease can work with. */
function checkRedis(
  settings: Pick<ResolvedRelayOptions, 'redisUrl' | 'redisPrefix' | 'nodeLeaseMs' | 'sweepIntervalMs'>,
): void {
  const { redisUrl, redisPrefix } = settings;
  if (redisUrl !== undefined && (typeof redisUrl !== 'string' || !REDIS_URL.test(redisUrl))) {
    throw new TypeError('redisUrl must be a redis://, rediss:// or unix:// URL, e.g. redis://127.0.0.1:6379');
  }
  if (typeof redisPrefix !== 'string' || !/^[\x21-\x7e]{0,64}$/.test(redisPrefix)) {
    throw new TypeError('redisPrefix must be at most 64 printable ASCII characters without spaces');
  }
  checkInteger('nodeLeaseMs', settings.nodeLeaseMs, 300, 600_000);
  checkInteger('sweepIntervalMs', settings.sweepIntervalMs, 50, settings.nodeLeaseMs);
}

/** `options` without the keys whose value is `undefined`, so that those mean "default" in a defaults spread. */
export function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** @throws RangeError `"<name> must be an integer in min..max, got …"`. */
export function checkInteger(name: string, value: unknown, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
    throw new RangeError(`${name} must be an integer in ${min}..${max}, got ${String(value)}`);
  }
}
