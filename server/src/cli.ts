#!/usr/bin/env node
/**
 * `video-chat-relay`: runs the demo server (demo page, element bundle and relay on one port).
 * Exit codes: 0 after SIGINT/SIGTERM, 1 if the server cannot start, 2 for bad arguments.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEFAULT_HOST, DEFAULT_PORT, startServer, type RunningServer, type ServerOptions } from './http.js';
import { RELAY_DEFAULTS } from './options.js';

const USAGE = `Usage: video-chat-relay [options]

Serves the <video-chat> demo page, the element bundle and the signaling relay on one port.

Options:
  --port <n>                 TCP port, 0 for any free one (env PORT, default ${DEFAULT_PORT})
  --host <name>              interface to bind (env HOST, default ${DEFAULT_HOST})
  --max-peers-per-room <n>   participants per room (default ${RELAY_DEFAULTS.maxPeersPerRoom})
  --ice-servers <json>       JSON array of RTCIceServer objects handed to clients
                             (default []), e.g. '[{"urls":"stun:stun.example.org"}]'
  -h, --help                 show this help
`;

/** A usage error: reported with the usage text and exit code 2. */
class UsageError extends Error {}

const FLAGS = {
  port: { type: 'string' },
  host: { type: 'string' },
  'max-peers-per-room': { type: 'string' },
  'ice-servers': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** The flags as parsed by `node:util` `parseArgs`; unknown flags, missing values and positionals are usage errors. */
function parseFlags(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** Turns argv and the environment into server options, or `undefined` for `--help`. */
function parseCommandLine(argv: string[], env: NodeJS.ProcessEnv): ServerOptions | undefined {
  const values = parseFlags(argv);
  if (values.help) return undefined;

  const options: ServerOptions = {
    port: values.port !== undefined ? integer('--port', values.port, 0, 65535)
      : env['PORT'] ? integer('PORT', env['PORT'], 0, 65535) : DEFAULT_PORT,
    host: values.host ?? (env['HOST'] || DEFAULT_HOST),
  };
  if (values['max-peers-per-room'] !== undefined) {
    options.maxPeersPerRoom = integer('--max-peers-per-room', values['max-peers-per-room'], 1, Number.MAX_SAFE_INTEGER);
  }
  if (values['ice-servers'] !== undefined) {
    try {
      // Shape is checked by the relay's option validation; here only the JSON syntax.
      options.iceServers = JSON.parse(values['ice-servers']) as ServerOptions['iceServers'];
    } catch {
      throw new UsageError('--ice-servers must be a JSON array');
    }
  }
  return options;
}

function integer(flag: string, text: string, min: number, max: number): number {
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${flag} must be an integer in ${min}..${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

async function main(): Promise<void> {
  let options: ServerOptions | undefined;
  try {
    options = parseCommandLine(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`video-chat-relay: ${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (!options) {
    process.stdout.write(USAGE);
    return;
  }

  let server: RunningServer;
  try {
    server = await startServer(options);
  } catch (error) {
    const bad = error instanceof RangeError || error instanceof TypeError;
    process.stderr.write(`video-chat-relay: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = bad ? 2 : 1;
    return;
  }
  const shutdown = (): void => {
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`video-chat-relay: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  // Handlers before the line: whoever reads it may signal at once, and an unhandled SIGTERM kills without exit 0.
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  // Exactly one line on stdout, with the real port (scripts and tests read the URL from it).
  process.stdout.write(`video-chat relay listening on ${server.url} — open it in two tabs\n`);
}

await main();
