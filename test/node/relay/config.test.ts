/**
 * The CLI's configuration, in process: flags and environment variables map onto the same options, a flag wins, the
 * help lists every setting with its default and variable, and option errors name the flag.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeOptionError, parseCommandLine, SETTINGS, usage, UsageError } from '../../../server/src/config.js';
import {
  DEFAULT_HOST,
  DEFAULT_PORT,
  RELAY_DEFAULTS,
  startServer,
  type ServerOptions,
} from '../../../server/src/index.js';

/** The server options of a command line that asks for a server (not --help or --version). */
function parse(argv: readonly string[], env: NodeJS.ProcessEnv): ServerOptions {
  const command = parseCommandLine(argv, env);
  assert.ok(typeof command === 'object', `${argv.join(' ')} → ${String(command)}`);
  return command;
}

describe('config: flags and environment', () => {
  it('gives port and host defaults and nothing else when nothing is set', () => {
    assert.deepEqual(parse([], {}), { port: DEFAULT_PORT, host: DEFAULT_HOST });
  });

  it('reads every setting from its flag and from its environment variable alike', () => {
    const samples: Record<string, string> = {
      integer: '7',
      string: 'example.test',
      json: '[{"urls":"stun:s.example.test"}]',
      list: 'https://a.example, http://b.example:8080',
      boolean: 'true',
    };
    for (const s of SETTINGS) {
      const text = samples[s.kind];
      assert.ok(text !== undefined, s.kind);
      const fromFlag = parse(s.kind === 'boolean' ? [`--${s.flag}`] : [`--${s.flag}`, text], {});
      const fromEnv = parse([], { [s.env]: text });
      assert.deepEqual(fromFlag, fromEnv, s.flag);
      assert.notEqual(fromFlag[s.option], undefined, s.flag);
    }
  });

  it('lets a flag win over the environment, and treats an empty variable as unset', () => {
    const env = { VIDEO_CHAT_MAX_PEERS_PER_ROOM: '3', PORT: '' };
    assert.equal(parse([], env).maxPeersPerRoom, 3);
    assert.equal(parse(['--max-peers-per-room', '4'], env).maxPeersPerRoom, 4);
    assert.equal(parse([], env).port, DEFAULT_PORT);
  });

  it('reads booleans from a bare flag or from the words people use in variables', () => {
    assert.equal(parse(['--trust-proxy'], {}).trustProxy, true);
    for (const yes of ['1', 'true', 'YES', 'on'])
      assert.equal(parse([], { VIDEO_CHAT_TRUST_PROXY: yes }).trustProxy, true);
    for (const no of ['0', 'false', 'No', 'off'])
      assert.equal(parse([], { VIDEO_CHAT_TRUST_PROXY: no }).trustProxy, false);
    assert.throws(
      () => parseCommandLine([], { VIDEO_CHAT_TRUST_PROXY: 'maybe' }),
      /VIDEO_CHAT_TRUST_PROXY must be true or false/,
    );
    assert.throws(() => parseCommandLine(['--trust-proxy=yes'], {}), UsageError);
  });

  it('splits lists at commas and trims them', () => {
    assert.deepEqual(parse(['--allowed-origins', ' https://a.example ,,http://b.example:8080 '], {}).allowedOrigins, [
      'https://a.example',
      'http://b.example:8080',
    ]);
  });

  it('reads PORT and HOST, the customary names', () => {
    assert.deepEqual(parse([], { PORT: '0', HOST: '127.0.0.1' }), { port: 0, host: '127.0.0.1' });
  });

  it('returns help for --help and -h, version for --version and -v', () => {
    assert.equal(parseCommandLine(['--help'], {}), 'help');
    assert.equal(parseCommandLine(['-h'], {}), 'help');
    assert.equal(parseCommandLine(['--version'], {}), 'version');
    assert.equal(parseCommandLine(['-v'], {}), 'version');
  });

  it('turns the demo off with --no-demo or VIDEO_CHAT_DEMO=false, and a flag wins over the variable', () => {
    assert.equal(parse([], {}).demo, undefined);
    assert.equal(parse(['--no-demo'], {}).demo, false);
    assert.equal(parse([], { VIDEO_CHAT_DEMO: 'false' }).demo, false);
    assert.equal(parse(['--demo'], { VIDEO_CHAT_DEMO: 'false' }).demo, true);
    assert.equal(parse(['--no-demo'], { VIDEO_CHAT_DEMO: 'true' }).demo, false);
    assert.throws(() => parseCommandLine(['--demo', '--no-demo'], {}), /contradict/);
  });

  it('reads the metrics server address from --metrics-port/--metrics-host or their variables', () => {
    const fromFlags = parse(['--metrics-port', '9464', '--metrics-host', '0.0.0.0'], {});
    assert.deepEqual([fromFlags.metricsPort, fromFlags.metricsHost], [9464, '0.0.0.0']);
    const fromEnv = parse([], { VIDEO_CHAT_METRICS_PORT: '9464', VIDEO_CHAT_METRICS_HOST: '::' });
    assert.deepEqual([fromEnv.metricsPort, fromEnv.metricsHost], [9464, '::']);
  });

  const bad: [string, string[], NodeJS.ProcessEnv, RegExp][] = [
    ['an unknown flag', ['--bogus'], {}, /^unknown option --bogus$/],
    ['a positional', ['room'], {}, /^unexpected argument room$/],
    ['a value for a boolean flag', ['--demo=false'], {}, /--demo/],
    ['a flag without value', ['--port'], {}, /port/],
    ['a non-integer flag', ['--max-peers-per-room', '2.5'], {}, /--max-peers-per-room must be a whole number/],
    ['a negative integer', ['--heartbeat-interval-ms', '-1'], {}, /heartbeat-interval-ms/],
    ['a non-integer variable', [], { VIDEO_CHAT_MAX_MESSAGE_BYTES: '1k' }, /VIDEO_CHAT_MAX_MESSAGE_BYTES must be/],
    ['JSON that does not parse', ['--ice-servers', '[{'], {}, /--ice-servers must be JSON/],
  ];
  for (const [name, argv, env, message] of bad) {
    it(`throws a UsageError for ${name}`, () => {
      assert.throws(
        () => parseCommandLine(argv, env),
        (error: unknown) => error instanceof UsageError && message.test(error.message),
      );
    });
  }
});

describe('config: --help', () => {
  it('lists every setting with its default and its environment variable', () => {
    const text = usage();
    for (const s of SETTINGS) {
      const at = text.indexOf(`--${s.flag}${s.metavar ? ` ${s.metavar}` : ''}`);
      assert.ok(at !== -1, s.flag);
      const entry = text.slice(at, text.indexOf('\n', text.indexOf('\n', at) + 1));
      assert.ok(entry.includes(`default ${s.defaultText}`), `${s.flag}: ${entry}`);
      assert.ok(entry.includes(`env ${s.env}`), `${s.flag}: ${entry}`);
    }
    assert.ok(text.includes(`default ${RELAY_DEFAULTS.maxPeersPerRoom}`));
  });

  it('has one setting per flag, option and variable', () => {
    for (const key of ['flag', 'option', 'env'] as const) {
      assert.equal(new Set(SETTINGS.map((s) => s[key])).size, SETTINGS.length, key);
    }
  });
});

describe('config: option errors', () => {
  it('are refused by startServer before binding, and described with the flag and variable', async () => {
    const options = parse(['--max-peers-per-room', '0', '--port', '0', '--host', '127.0.0.1'], {});
    const error = await startServer(options).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof RangeError);
    assert.match(
      describeOptionError(error.message),
      /^maxPeersPerRoom \(--max-peers-per-room, VIDEO_CHAT_MAX_PEERS_PER_ROOM\) must be an integer in 1\.\./,
    );
  });

  it('checks the port range', async () => {
    await assert.rejects(
      startServer({ port: 70_000, host: '127.0.0.1' }),
      /^RangeError: port must be an integer in 0\.\.65535/,
    );
  });

  it('leaves a message without a known option name alone', () => {
    assert.equal(describeOptionError('something else'), 'something else');
  });
});
