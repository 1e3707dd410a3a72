/**
 * The relay's settings, one row each: its flag, its environment variable, the option of {@link ServerOptions} it
 * fills, how its text is read and what `--help` says about it (`config.ts` reads them from argv and the environment
 * and writes `--help` from them), so that a flag, its variable and its help can only change together.
 *
 * Nearly all of it is that one table, kept whole, in `--help` order.
 *
 * @module
 */
import { DEFAULT_HOST, DEFAULT_PORT, SERVER_DEFAULTS, type ServerOptions } from './http.js';
import { LOG_LEVELS } from './log.js';
import { RELAY_DEFAULTS } from './options.js';

/** How a setting's text becomes a value. */
export type Kind =
  /** decimal digits → number */
  | 'integer'
  /** as is */
  | 'string'
  /** JSON text → value (shape checked by the options) */
  | 'json'
  /** comma-separated → array of trimmed, non-empty strings */
  | 'list'
  /** a flag without value; in the environment `1`/`true` or `0`/`false` */
  | 'boolean';

/** One setting: flag, environment variable, option, reader and help. */
export interface Setting {
  /** The flag without `--`. */
  flag: string;
  /** The environment variable read when the flag is absent. */
  env: string;
  /** The option it sets. */
  option: keyof ServerOptions;
  kind: Kind;
  /** Placeholder in `--help`, e.g. `<n>`. */
  metavar: string;
  help: string;
  /** The default as `--help` shows it. */
  defaultText: string;
  /** A boolean that is on by default: `--no-<flag>` turns it off (and `--<flag>` is accepted, on). */
  negatable?: true;
}

const env = (flag: string): string => `VIDEO_CHAT_${flag.toUpperCase().replaceAll('-', '_')}`;

/** Every setting, in `--help` order. Environment variables are `VIDEO_CHAT_<FLAG>` except the customary PORT/HOST. */
export const SETTINGS: readonly Setting[] = [
  {
    flag: 'port',
    env: 'PORT',
    option: 'port',
    kind: 'integer',
    metavar: '<n>',
    help: 'TCP port, 0 for any free one',
    defaultText: String(DEFAULT_PORT),
  },
  {
    flag: 'host',
    env: 'HOST',
    option: 'host',
    kind: 'string',
    metavar: '<name>',
    help: 'interface to bind',
    defaultText: DEFAULT_HOST,
  },
  {
    flag: 'max-peers-per-room',
    env: env('max-peers-per-room'),
    option: 'maxPeersPerRoom',
    kind: 'integer',
    metavar: '<n>',
    help: 'participants per room',
    defaultText: String(RELAY_DEFAULTS.maxPeersPerRoom),
  },
  {
    flag: 'max-message-bytes',
    env: env('max-message-bytes'),
    option: 'maxMessageBytes',
    kind: 'integer',
    metavar: '<bytes>',
    help: 'largest frame a client may send; larger closes with 1009',
    defaultText: String(RELAY_DEFAULTS.maxMessageBytes),
  },
  {
    flag: 'heartbeat-interval-ms',
    env: env('heartbeat-interval-ms'),
    option: 'heartbeatIntervalMs',
    kind: 'integer',
    metavar: '<ms>',
    help: 'ping period; a socket missing a pong is dropped',
    defaultText: String(RELAY_DEFAULTS.heartbeatIntervalMs),
  },
  {
    flag: 'ice-servers',
    env: env('ice-servers'),
    option: 'iceServers',
    kind: 'json',
    metavar: '<json>',
    help: 'JSON array of RTCIceServer handed to clients, e.g. \'[{"urls":"stun:stun.example.org"}]\'',
    defaultText: '[]',
  },
  {
    flag: 'turn-urls',
    env: env('turn-urls'),
    option: 'turnUrls',
    kind: 'list',
    metavar: '<urls>',
    help: 'comma-separated turn:/turns: URLs; clients get per-peer ephemeral credentials for them',
    defaultText: 'none',
  },
  {
    flag: 'turn-secret',
    env: env('turn-secret'),
    option: 'turnSecret',
    kind: 'string',
    metavar: '<secret>',
    help: "the TURN server's static-auth-secret (>= 16 bytes); prefer the variable to the flag",
    defaultText: 'none',
  },
  {
    flag: 'turn-ttl',
    env: env('turn-ttl'),
    option: 'turnTtlSeconds',
    kind: 'integer',
    metavar: '<s>',
    help: 'lifetime of TURN credentials in seconds',
    defaultText: String(RELAY_DEFAULTS.turnTtlSeconds),
  },
  {
    flag: 'janus-url',
    env: env('janus-url'),
    option: 'janusUrl',
    kind: 'string',
    metavar: '<url>',
    help: "Janus's private WebSocket API (ws://…); rooms switch to its VideoRoom SFU (the media server sees the media)",
    defaultText: 'none (mesh only)',
  },
  {
    flag: 'janus-secret',
    env: env('janus-secret'),
    option: 'janusApiSecret',
    kind: 'string',
    metavar: '<secret>',
    help: "Janus's api_secret; prefer the variable to the flag",
    defaultText: 'none',
  },
  {
    flag: 'janus-admin-key',
    env: env('janus-admin-key'),
    option: 'janusAdminKey',
    kind: 'string',
    metavar: '<key>',
    help: "the VideoRoom plugin's admin_key (required with --janus-url); prefer the variable to the flag",
    defaultText: 'none',
  },
  {
    flag: 'sfu-from',
    env: env('sfu-from'),
    option: 'sfuFrom',
    kind: 'integer',
    metavar: '<n>',
    help: 'participants at which a room whose members all can switches to the SFU (with --janus-url)',
    defaultText: '5',
  },
  {
    flag: 'max-peers-per-sfu-room',
    env: env('max-peers-per-sfu-room'),
    option: 'maxPeersPerSfuRoom',
    kind: 'integer',
    metavar: '<n>',
    help: 'participants per room on the SFU (with --janus-url)',
    defaultText: '25',
  },
  {
    flag: 'allowed-origins',
    env: env('allowed-origins'),
    option: 'allowedOrigins',
    kind: 'list',
    metavar: '<origins>',
    help: 'comma-separated origins (scheme://host[:port]) whose pages may connect; others get 403',
    defaultText: 'any origin',
  },
  {
    flag: 'token-secret',
    env: env('token-secret'),
    option: 'tokenSecret',
    kind: 'string',
    metavar: '<secret>',
    help: 'require HS256 room tokens signed with this secret (>= 32 bytes); prefer the variable to the flag',
    defaultText: 'no tokens',
  },
  {
    flag: 'knock',
    env: env('knock'),
    option: 'knock',
    kind: 'boolean',
    metavar: '',
    help: 'guests wait for a host to admit them unless their token says knock: false (needs --token-secret)',
    defaultText: 'off',
  },
  {
    flag: 'knock-timeout-ms',
    env: env('knock-timeout-ms'),
    option: 'knockTimeoutMs',
    kind: 'integer',
    metavar: '<ms>',
    help: 'a guest waiting for a host is denied (timeout) after this long',
    defaultText: String(RELAY_DEFAULTS.knockTimeoutMs),
  },
  {
    flag: 'rate-limit-per-second',
    env: env('rate-limit-per-second'),
    option: 'rateLimitPerSecond',
    kind: 'integer',
    metavar: '<n>',
    help: 'messages per second per socket, sustained (token bucket refill)',
    defaultText: String(RELAY_DEFAULTS.rateLimitPerSecond),
  },
  {
    flag: 'rate-limit-burst',
    env: env('rate-limit-burst'),
    option: 'rateLimitBurst',
    kind: 'integer',
    metavar: '<n>',
    help: 'messages per socket at once after a quiet period (bucket size)',
    defaultText: String(RELAY_DEFAULTS.rateLimitBurst),
  },
  {
    flag: 'rate-limit-close-after',
    env: env('rate-limit-close-after'),
    option: 'rateLimitCloseAfter',
    kind: 'integer',
    metavar: '<n>',
    help: 'messages refused with rate-limited before the socket is closed (1008)',
    defaultText: String(RELAY_DEFAULTS.rateLimitCloseAfter),
  },
  {
    flag: 'max-connections-per-ip',
    env: env('max-connections-per-ip'),
    option: 'maxConnectionsPerIp',
    kind: 'integer',
    metavar: '<n>',
    help: 'open connections per client address (IPv6: /64), 0 = no limit; more get 429',
    defaultText: String(RELAY_DEFAULTS.maxConnectionsPerIp),
  },
  {
    flag: 'trust-proxy',
    env: env('trust-proxy'),
    option: 'trustProxy',
    kind: 'boolean',
    metavar: '',
    help: 'count clients by the last X-Forwarded-For address (only behind your own reverse proxy)',
    defaultText: 'off',
  },
  {
    flag: 'join-timeout-ms',
    env: env('join-timeout-ms'),
    option: 'joinTimeoutMs',
    kind: 'integer',
    metavar: '<ms>',
    help: 'a connection in no room for this long is closed (4000)',
    defaultText: String(RELAY_DEFAULTS.joinTimeoutMs),
  },
  {
    flag: 'max-buffered-bytes',
    env: env('max-buffered-bytes'),
    option: 'maxBufferedBytes',
    kind: 'integer',
    metavar: '<bytes>',
    help: 'data queued for a client that does not read before it is dropped',
    defaultText: String(RELAY_DEFAULTS.maxBufferedBytes),
  },
  {
    flag: 'resume-grace-ms',
    env: env('resume-grace-ms'),
    option: 'resumeGraceMs',
    kind: 'integer',
    metavar: '<ms>',
    help: 'a dropped participant can resume its ID this long; 0 = off',
    defaultText: String(RELAY_DEFAULTS.resumeGraceMs),
  },
  {
    flag: 'resume-queue-bytes',
    env: env('resume-queue-bytes'),
    option: 'resumeQueueBytes',
    kind: 'integer',
    metavar: '<bytes>',
    help: 'signals kept for a participant in its grace period',
    defaultText: String(RELAY_DEFAULTS.resumeQueueBytes),
  },
  {
    flag: 'max-resuming-peers',
    env: env('max-resuming-peers'),
    option: 'maxResumingPeers',
    kind: 'integer',
    metavar: '<n>',
    help: 'participants in their grace period, relay-wide; a drop beyond it leaves at once',
    defaultText: String(RELAY_DEFAULTS.maxResumingPeers),
  },
  {
    flag: 'max-resume-queue-total-bytes',
    env: env('max-resume-queue-total-bytes'),
    option: 'maxResumeQueueTotalBytes',
    kind: 'integer',
    metavar: '<bytes>',
    help: 'signals queued for all participants in grace together (unknown-peer beyond)',
    defaultText: String(RELAY_DEFAULTS.maxResumeQueueTotalBytes),
  },
  {
    flag: 'push-back-buffered-bytes',
    env: env('push-back-buffered-bytes'),
    option: 'pushBackBufferedBytes',
    kind: 'integer',
    metavar: '<bytes>',
    help: 'a signal to a peer with more than this queued is refused to its sender (rate-limited)',
    defaultText: `${RELAY_DEFAULTS.pushBackBufferedBytes} (at most max-buffered-bytes - max-message-bytes)`,
  },
  {
    flag: 'headers-timeout-ms',
    env: env('headers-timeout-ms'),
    option: 'headersTimeoutMs',
    kind: 'integer',
    metavar: '<ms>',
    help: 'time to send complete HTTP request headers (408 after)',
    defaultText: String(SERVER_DEFAULTS.headersTimeoutMs),
  },
  {
    flag: 'request-timeout-ms',
    env: env('request-timeout-ms'),
    option: 'requestTimeoutMs',
    kind: 'integer',
    metavar: '<ms>',
    help: 'time to send a whole HTTP request (not a WebSocket once open)',
    defaultText: String(SERVER_DEFAULTS.requestTimeoutMs),
  },
  {
    flag: 'public-metrics',
    env: env('public-metrics'),
    option: 'publicMetrics',
    kind: 'boolean',
    metavar: '',
    help: 'serve /metrics to any client, not only to loopback ones (restrict it in front of the relay)',
    defaultText: 'off',
  },
  {
    flag: 'metrics-port',
    env: env('metrics-port'),
    option: 'metricsPort',
    kind: 'integer',
    metavar: '<n>',
    help: 'serve /metrics on this port instead (a second server; any client that reaches it may scrape)',
    defaultText: 'none (/metrics on the main port)',
  },
  {
    flag: 'metrics-host',
    env: env('metrics-host'),
    option: 'metricsHost',
    kind: 'string',
    metavar: '<name>',
    help: 'interface of the --metrics-port server',
    defaultText: DEFAULT_HOST,
  },
  {
    flag: 'demo',
    env: env('demo'),
    option: 'demo',
    kind: 'boolean',
    metavar: '',
    negatable: true,
    help: 'serve the demo pages at /; --no-demo (production): only the bundle, /healthz, /metrics and the relay',
    defaultText: 'on',
  },
  {
    flag: 'redis-url',
    env: env('redis-url'),
    option: 'redisUrl',
    kind: 'string',
    metavar: '<url>',
    help: 'share rooms with other relay processes through this Redis (redis://, rediss://, unix://); exit 1 if unreachable',
    defaultText: 'none (rooms in this process only)',
  },
  {
    flag: 'redis-prefix',
    env: env('redis-prefix'),
    option: 'redisPrefix',
    kind: 'string',
    metavar: '<text>',
    help: 'prefix of every Redis key and channel (deployments sharing one Redis)',
    defaultText: RELAY_DEFAULTS.redisPrefix,
  },
  {
    flag: 'node-lease-ms',
    env: env('node-lease-ms'),
    option: 'nodeLeaseMs',
    kind: 'integer',
    metavar: '<ms>',
    help: 'with --redis-url: a process that has not renewed its lease this long is gone; its participants get the grace period',
    defaultText: String(RELAY_DEFAULTS.nodeLeaseMs),
  },
  {
    flag: 'sweep-interval-ms',
    env: env('sweep-interval-ms'),
    option: 'sweepIntervalMs',
    kind: 'integer',
    metavar: '<ms>',
    help: 'with --redis-url: how often expired leases and grace periods are swept',
    defaultText: String(RELAY_DEFAULTS.sweepIntervalMs),
  },
  {
    flag: 'log-level',
    env: env('log-level'),
    option: 'logLevel',
    kind: 'string',
    metavar: '<level>',
    help: `JSON logs on stderr at this level or above: ${LOG_LEVELS.join(', ')}`,
    defaultText: RELAY_DEFAULTS.logLevel,
  },
];
