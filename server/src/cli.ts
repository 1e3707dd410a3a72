#!/usr/bin/env node
/**
 * `video-chat-relay`: runs the demo server (demo page, element bundle and relay on one port). Settings come from
 * flags and environment variables (`--help`; see `config.ts`).
 * SIGTERM/SIGINT drain the relay: new upgrades get 503, every client is closed with 1012 "Service Restart", and the
 * process exits 0 (at the latest after 8 s, with 1, should the drain hang).
 * Exit codes: 0 after SIGINT/SIGTERM (and for `--help`, `--version`), 1 if the server cannot start, 2 for bad
 * arguments or options (one line on stderr pointing to `--help`).
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeOptionError, parseCommandLine, usage, UsageError, type Command } from './config.js';
import { PACKAGE_ROOT, startServer, type RunningServer } from './http.js';

/** SIGTERM/SIGINT: the process exits at the latest this long after the signal (the drain normally takes ~1 s). */
const SHUTDOWN_DEADLINE_MS = 8_000;

async function main(): Promise<void> {
  let options: Command;
  try {
    options = parseCommandLine(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`video-chat-relay: ${error.message}; see --help\n`);
    process.exitCode = 2;
    return;
  }
  if (options === 'help') {
    process.stdout.write(usage());
    return;
  }
  if (options === 'version') {
    process.stdout.write(`${packageVersion()}\n`);
    return;
  }

  let server: RunningServer;
  try {
    server = await startServer(options);
  } catch (error) {
    // Range and type errors are the options' validation (nothing was bound); anything else is the environment.
    const bad = error instanceof RangeError || error instanceof TypeError;
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`video-chat-relay: ${bad ? describeOptionError(message) : message}\n`);
    process.exitCode = bad ? 2 : 1;
    return;
  }
  const shutdown = (signal: NodeJS.Signals): void => {
    server.relay.logger.info({ signal }, 'shutting down');
    // The drain takes about CLOSE_GRACE_MS at worst; should anything hang, leave anyway, well within 10 s.
    setTimeout(() => {
      process.stderr.write('video-chat-relay: shutdown did not finish in time, exiting\n');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
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

/** The `version` of the package this file ships in. */
function packageVersion(): string {
  const manifest: unknown = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8'));
  const version =
    typeof manifest === 'object' && manifest !== null && 'version' in manifest ? manifest.version : undefined;
  if (typeof version !== 'string') throw new Error('package.json has no version');
  return version;
}

await main();
