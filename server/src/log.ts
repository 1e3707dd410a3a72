/**
 * Structured logging with pino: one JSON object per line on stderr (stdout belongs to the CLI's one "listening" line).
 *
 * What is logged never includes a message payload, a token, a resume secret, a TURN secret or credential: the relay
 * only passes counts, codes, rooms, peer IDs, remote addresses and origins to the logger. The redaction list below is a
 * second line of defence should a future log call pass a whole object carrying one of those fields.
 *
 * Levels: `error` unexpected failures; `warn` refusals that point at abuse or misconfiguration (rejected upgrades,
 * rate limiting, unauthorized joins, slow consumers); `info` start and shutdown; `debug` one line per connection,
 * join, leave and error reply; `trace` unused.
 *
 * @module
 */
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Log levels, most to least severe; `silent` logs nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Field names whose values are replaced by `[redacted]` wherever they appear (top level or one level down). */
const SECRET_FIELDS = [
  'token',
  'secret',
  'resume',
  'credential',
  'password',
  'tokenSecret',
  'turnSecret',
  'authorization',
  'janusApiSecret',
  'janusAdminKey',
  'apisecret',
  'admin_key',
  'pin',
];
export const REDACT_PATHS: readonly string[] = SECRET_FIELDS.flatMap((f) => [f, `*.${f}`]);

/**
 * Most bytes of log lines held in memory while stderr cannot be written (sonic-boom `maxLength`); lines beyond it are
 * dropped and counted in {@link lostLogLines}.
 */
export const MAX_UNWRITTEN_LOG_BYTES = 1024 * 1024;

let lost = 0;

/**
 * Log lines lost since the process started: writes to stderr that failed (e.g. `ENOSPC`, stderr on a full disk), and
 * lines dropped while earlier ones could not be written. Exported as `video_chat_log_lines_lost_total`.
 */
export function lostLogLines(): number {
  return lost;
}

/**
 * A logger writing to `destination` (default: stderr, synchronously, so nothing is lost when the process exits).
 * A failing write to stderr never throws into the relay: the line is counted as lost (see {@link lostLogLines}).
 */
export function createLogger(level: LogLevel, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, base: { name: 'video-chat-relay' }, redact: { paths: [...REDACT_PATHS], censor: '[redacted]' } },
    destination ?? stderrDestination(),
  );
}

/** stderr through sonic-boom, synchronous, with an `'error'` listener: without one a failed write would throw. */
function stderrDestination(): ReturnType<typeof pino.destination> {
  const destination = pino.destination({ dest: 2, sync: true, maxLength: MAX_UNWRITTEN_LOG_BYTES });
  destination.on('error', () => {
    lost++;
  });
  destination.on('drop', () => {
    lost++;
  });
  return destination;
}
