/**
 * Command-line and environment configuration of `video-chat-relay`: argv and the environment read through one table,
 * {@link SETTINGS} (`settings.ts`: for every setting its flag, its environment variable, the option of
 * {@link ServerOptions} it fills, how its text is read and what `--help` says about it), so the three can never drift
 * apart; `--help` is written from it.
 *
 * Only the syntax is checked here (an integer is digits, JSON parses); ranges and combinations are checked by the
 * options themselves ({@link resolveRelayOptions}, {@link startServer}), so the programmatic API and the CLI refuse
 * exactly the same things.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEFAULT_HOST, DEFAULT_PORT, type ServerOptions } from './http.js';
import { SETTINGS, type Setting } from './settings.js';

export { SETTINGS, type Setting } from './settings.js';

/** A usage error: reported in one line with a pointer to `--help`, and exit code 2. */
export class UsageError extends Error {}

/** The `--help` text, generated from {@link SETTINGS}. */
export function usage(): string {
  const lines = SETTINGS.map((s) => {
    const head = `  --${s.flag}${s.metavar ? ` ${s.metavar}` : ''}${s.negatable ? `, --no-${s.flag}` : ''}`;
    return `${head.padEnd(32)} ${s.help}\n${' '.repeat(33)}default ${s.defaultText}; env ${s.env}`;
  });
  return `Usage: video-chat-relay [options]

Serves the <video-chat> demo page, the element bundle and the signaling relay on one port.
Every option may also come from its environment variable; a flag wins over the environment.

Options:
${lines.join('\n')}
${'  -h, --help'.padEnd(32)} show this help
${'  -v, --version'.padEnd(32)} print the version
`;
}

const FLAGS: NonNullable<ParseArgsConfig['options']> = {
  ...Object.fromEntries(
    SETTINGS.map((s) => [s.flag, { type: s.kind === 'boolean' ? ('boolean' as const) : ('string' as const) }]),
  ),
  ...Object.fromEntries(SETTINGS.filter((s) => s.negatable).map((s) => [`no-${s.flag}`, { type: 'boolean' as const }])),
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
};

/** What the command line asks for: a help or version text, or a server with these options. */
export type Command = 'help' | 'version' | ServerOptions;

/**
 * Turns argv and the environment into server options, or `'help'`/`'version'` for `--help`/`--version`.
 * @throws UsageError for unknown flags, positionals, missing values, or text of the wrong syntax.
 */
export function parseCommandLine(argv: readonly string[], environment: NodeJS.ProcessEnv): Command {
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    values = parseArgs({ args: [...argv], options: FLAGS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError(parseArgsMessage(error));
  }
  if (values['help']) return 'help';
  if (values['version']) return 'version';

  const options: Record<string, unknown> = { port: DEFAULT_PORT, host: DEFAULT_HOST };
  for (const setting of SETTINGS) {
    const flagValue = values[setting.flag];
    if (setting.negatable && values[`no-${setting.flag}`] === true) {
      if (flagValue === true) throw new UsageError(`--${setting.flag} and --no-${setting.flag} contradict each other`);
      options[setting.option] = false;
      continue;
    }
    if (flagValue === true) {
      options[setting.option] = true;
      continue;
    }
    // An empty environment variable counts as unset, as shells and container runtimes often export empty ones.
    const text = typeof flagValue === 'string' ? flagValue : environment[setting.env] || undefined;
    if (text === undefined) continue;
    const source = typeof flagValue === 'string' ? `--${setting.flag}` : setting.env;
    options[setting.option] = read(setting, text, source);
  }
  return options;
}

/** `node:util.parseArgs`'s error as a short line: `unknown option --x`, `unexpected argument x`, or its own message. */
function parseArgsMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const quoted = /'([^']*)'/.exec(error.message)?.[1];
  const code = 'code' in error ? error.code : undefined;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && quoted !== undefined) return `unknown option ${quoted}`;
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL' && quoted !== undefined) return `unexpected argument ${quoted}`;
  return error.message;
}

function read(setting: Setting, text: string, source: string): unknown {
  switch (setting.kind) {
    case 'integer': {
      const value = /^\d+$/.test(text) ? Number(text) : NaN;
      if (!Number.isSafeInteger(value))
        throw new UsageError(`${source} must be a whole number, got ${JSON.stringify(text)}`);
      return value;
    }
    case 'string':
      return text;
    case 'boolean':
      if (/^(1|true|yes|on)$/i.test(text)) return true;
      if (/^(0|false|no|off)$/i.test(text)) return false;
      throw new UsageError(`${source} must be true or false, got ${JSON.stringify(text)}`);
    case 'list':
      return text
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean);
    case 'json':
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new UsageError(`${source} must be JSON`);
      }
  }
}

/**
 * An option error's message with the option name (its first word) followed by its flag and environment variable,
 * e.g. `maxPeersPerRoom (--max-peers-per-room, VIDEO_CHAT_MAX_PEERS_PER_ROOM) must be …`.
 */
export function describeOptionError(message: string): string {
  return message.replace(/^\w+/, (name) => {
    const setting = SETTINGS.find((s) => s.option === name);
    return setting ? `${name} (--${setting.flag}, ${setting.env})` : name;
  });
}
