/**
 * The one way the relay defines and runs its Lua scripts in Redis: the rooms' scripts (`scripts.ts`), the hosts'
 * (`hosts/shared-scripts.ts`) and the SFU's (`sfu/shared-scripts.ts`). A script is its source (a prelude of shared
 * Lua, then its body) and the source's SHA-1; it runs by `EVALSHA`, and by `EVAL` when Redis answers `NOSCRIPT` (its
 * script cache is emptied by a restart, a failover or `SCRIPT FLUSH`), as the Redis docs on that error advise
 * (https://redis.io/docs/latest/develop/reference/errors/common/noscript/).
 *
 * This module loads no Redis client (only `node:crypto`), so the hosts' and the SFU's script modules may import it
 * statically; the client comes in through {@link ScriptClient}, from a connection opened with `import()`.
 *
 * @module
 */
import { createHash } from 'node:crypto';

/** A script, with its SHA-1 (hex) for `EVALSHA`. */
export interface Script {
  readonly name: string;
  readonly source: string;
  readonly sha1: string;
}

/** What running a script needs of a `@redis/client` connection. */
export interface ScriptClient {
  sendCommand<T>(args: string[]): Promise<T>;
}

/**
 * The script maker of one family of scripts: each script's source is `prelude` (its shared Lua: key names, helper
 * functions) followed by its body.
 * @returns `script(name, body)`, whose result carries the source and its SHA-1.
 */
export function luaScripts(prelude: string): (name: string, body: string) => Script {
  return (name, body) => {
    const source = prelude + body;
    return { name, source, sha1: createHash('sha1').update(source).digest('hex') };
  };
}

/**
 * Runs `script` with no keys and `argv` as its ARGV (numbers as decimal strings): `EVALSHA`, then `EVAL` with the
 * source if Redis does not have it cached (`NOSCRIPT`).
 * @returns the script's reply, as the client decodes it.
 * @rejects whatever the client rejects with (`ClientOfflineError` while Redis is unreachable, a script's error).
 */
export async function runScript<T>(
  client: ScriptClient,
  script: Script,
  argv: readonly (string | number)[],
): Promise<T> {
  const args = argv.map(String);
  try {
    return await client.sendCommand<T>(['EVALSHA', script.sha1, '0', ...args]);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return client.sendCommand<T>(['EVAL', script.source, '0', ...args]);
  }
}

/** Puts `scripts` into Redis's script cache (`SCRIPT LOAD`), so that their first `EVALSHA` finds them. */
export async function loadScripts(client: ScriptClient, scripts: readonly Script[]): Promise<void> {
  await Promise.all(scripts.map((s) => client.sendCommand(['SCRIPT', 'LOAD', s.source])));
}
