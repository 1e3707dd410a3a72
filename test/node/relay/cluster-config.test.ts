/**
 * The shared-rooms settings (issue 11): `--redis-url` / `VIDEO_CHAT_REDIS_URL`, `--redis-prefix`, `--node-lease-ms`,
 * `--sweep-interval-ms`, read by the CLI and validated by the options like every other setting.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCommandLine, usage } from '../../../server/src/config.js';
import { resolveRelayOptions } from '../../../server/src/options.js';

const resolve = (options: Parameters<typeof resolveRelayOptions>[0]) =>
  resolveRelayOptions({ logLevel: 'silent', ...options });

describe('shared rooms settings', () => {
  it('reads the URL from the flag or VIDEO_CHAT_REDIS_URL (the flag wins), and the prefix and timings', () => {
    assert.equal(
      (parseCommandLine([], { VIDEO_CHAT_REDIS_URL: 'redis://10.0.0.5:6379' }) as { redisUrl?: string }).redisUrl,
      'redis://10.0.0.5:6379',
    );
    const parsed = parseCommandLine(
      [
        '--redis-url',
        'unix:///run/redis.sock',
        '--redis-prefix',
        'staging:',
        '--node-lease-ms',
        '3000',
        '--sweep-interval-ms',
        '500',
      ],
      { VIDEO_CHAT_REDIS_URL: 'redis://ignored' },
    );
    assert.deepEqual(
      parsed !== 'help' && parsed !== 'version'
        ? [parsed.redisUrl, parsed.redisPrefix, parsed.nodeLeaseMs, parsed.sweepIntervalMs]
        : [],
      ['unix:///run/redis.sock', 'staging:', 3000, 500],
    );
    assert.match(usage(), /--redis-url <url>/);
  });

  it('defaults: no Redis, prefix vc:, lease 5 s, sweep 1 s', () => {
    const config = resolve({});
    assert.deepEqual(
      [config.redisUrl, config.redisPrefix, config.nodeLeaseMs, config.sweepIntervalMs],
      [undefined, 'vc:', 5000, 1000],
    );
  });

  it('accepts redis://, rediss:// and unix:// URLs and refuses anything else, naming the option', () => {
    for (const url of ['redis://127.0.0.1:6379', 'rediss://user:pw@redis.example.org:6380/2', 'unix:///tmp/r.sock']) {
      assert.equal(resolve({ redisUrl: url }).redisUrl, url);
    }
    for (const url of ['http://127.0.0.1:6379', 'redis://', '127.0.0.1:6379', '']) {
      assert.throws(
        () => resolve({ redisUrl: url }),
        /^TypeError: redisUrl must be a redis:\/\/, rediss:\/\/ or unix:\/\//,
      );
    }
  });

  it('refuses a prefix with spaces or too long, a lease below 300 ms and a sweep slower than the lease', () => {
    assert.throws(() => resolve({ redisPrefix: 'a b' }), /redisPrefix/);
    assert.throws(() => resolve({ redisPrefix: 'x'.repeat(65) }), /redisPrefix/);
    assert.throws(() => resolve({ nodeLeaseMs: 100 }), /nodeLeaseMs must be an integer in 300\.\.600000/);
    assert.throws(
      () => resolve({ nodeLeaseMs: 1000, sweepIntervalMs: 2000 }),
      /sweepIntervalMs must be an integer in 50\.\.1000/,
    );
  });
});
