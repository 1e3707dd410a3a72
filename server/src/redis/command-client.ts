/**
 * One `@redis/client` command connection, for the relay's parts that keep room state of their own in Redis (hosts'
 * locks and queues, `hosts/shared-state.ts`; the SFU's room modes, `sfu/shared-rooms.ts`), beside the relay's own two
 * connections (`connection.ts`). Those parts load this module with a dynamic `import()` only when `--redis-url` is
 * given (the lint rule refuses a static import of `redis/` outside this folder).
 *
 * @module
 */
import { createClient } from '@redis/client';

/** What the callers use of a node-redis client. */
export interface CommandClient {
  sendCommand<T>(args: string[]): Promise<T>;
  close(): Promise<unknown>;
  destroy(): void;
}

/** The URL as node-redis reads it: `unix:///path` (or `unix://path`) becomes a socket path. */
export function clientOptions(url: string): { url?: string; socket: { path?: string } } {
  const unix = /^unix:\/\/(.*)$/i.exec(url);
  if (unix) {
    const path = (unix[1] ?? '').split('?', 1)[0] ?? '';
    return { socket: { path: path.startsWith('/') ? path : `/${path}` } };
  }
  return { url, socket: {} };
}

/**
 * Connects a command client named `name` (`CLIENT SETNAME`): commands are refused at once while Redis is away (no
 * offline queue), a PING every 5 s notices a dead path, connecting gives up after 5 s, and reconnecting waits 50 ms
 * doubling up to 1 s. `onError` hears the client's errors (it reconnects by itself).
 * @throws when Redis cannot be reached the first time.
 */
export async function openCommandClient(
  url: string,
  name: string,
  onError: (error: Error) => void,
): Promise<CommandClient> {
  const base = clientOptions(url);
  const client = createClient({
    ...base,
    name,
    disableOfflineQueue: true,
    pingInterval: 5_000,
    socket: {
      ...base.socket,
      connectTimeout: 5_000,
      reconnectStrategy: (retries: number) => Math.min(1_000, 50 * 2 ** Math.min(retries, 5)),
    },
  });
  client.on('error', onError);
  await client.connect();
  return client;
}
