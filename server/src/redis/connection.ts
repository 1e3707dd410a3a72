/**
 * The relay's two connections to Redis, through `@redis/client` (node-redis, `redis/node-redis`): one for commands
 * and scripts, one subscribed to this node's inbox channel. This module is loaded only when `--redis-url` is given
 * (a dynamic `import()` in `http.ts`), so a relay without Redis never loads the client.
 *
 * Behaviours relied on, from node-redis 6 and measured:
 * - `disableOfflineQueue: true`: while disconnected a command fails at once (`ClientOfflineError`) instead of piling
 *   up; so a `join` during an outage is refused at once, not minutes later.
 * - Commands of one client run in the order they were sent (one TCP connection, pipelined); so signals of one sender
 *   reach Redis, and so their addressee's channel, in send order.
 * - After a reconnect the client resubscribes by itself; what was published meanwhile is lost (pub/sub is at most
 *   once), which is why membership and grace queues live in keys, never only in messages.
 * - `reconnectStrategy` decides: before the first `ready` it gives up (the relay exits 1 naming the URL); after it,
 *   it retries with a capped backoff.
 * - A script runs by `EVALSHA`; after an empty Redis restart the cache is empty (`NOSCRIPT`) and it runs by `EVAL`.
 *
 * A subscriber whose socket silently stops delivering (a frozen path: no error, no close) is the worst case seen by
 * socket.io and LiveKit users; {@link RedisConnection.canary} publishes a numbered canary to the node's own channel and
 * {@link RedisConnection.frozenFor} tells when one has been out too long while nothing at all was delivered, so the
 * caller replaces the subscriber ({@link RedisConnection.resubscribe}).
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import { createClient, type RedisClientType } from '@redis/client';
import type { Logger } from '../log.js';
import { loadScripts, runScript } from './lua.js';
import { SCRIPTS, type Script } from './scripts.js';
import { clientOptions } from './command-client.js';

/** How long to wait for Redis at start before giving up (ms). */
export const CONNECT_TIMEOUT_MS = 5_000;

/** The longest wait between two reconnection attempts after Redis was lost (ms). */
const MAX_RECONNECT_DELAY_MS = 1_000;

/** A reply of one of our scripts: integers and strings, in (nested) arrays. */
export type ScriptReply = number | string | ScriptReply[] | null;

/** What the connection tells its owner. */
export interface ConnectionEvents {
  /** A message arrived on the node's channel. */
  message(text: string): void;
  /** The command connection is ready again after it was lost (write back what the node holds). */
  reconnected(): void;
  /** Redis became unreachable (the command connection is down). */
  lost(): void;
}

/** `url` with its password hidden, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

/**
 * Two connections to one Redis and the node's channel. Create with {@link RedisConnection.open}.
 */
export class RedisConnection {
  readonly url: string;
  #channel: string;
  readonly #log: Logger;
  readonly #events: ConnectionEvents;
  #command: RedisClientType;
  #subscriber: RedisClientType;
  #ready = false;
  #everReady = false;
  #closed = false;
  /** The canary sent last, the last one that came back, and when the oldest one still out was sent (ms). */
  #canarySent = 0;
  #canaryBack = 0;
  #canaryOutSince = 0;
  /** Messages the subscriber delivered, and that count at the previous {@link frozenFor} check. */
  #delivered = 0;
  #deliveredChecked = 0;

  private constructor(url: string, channel: string, log: Logger, events: ConnectionEvents) {
    this.url = url;
    this.#channel = channel;
    this.#log = log;
    this.#events = events;
    this.#command = this.#client('command');
    this.#subscriber = this.#client('subscriber');
  }

  /**
   * Connects both clients, loads the scripts and subscribes to `channel`.
   * @throws Error `cannot reach Redis at <url, password hidden>: <reason>` within {@link CONNECT_TIMEOUT_MS}.
   */
  static async open(url: string, channel: string, log: Logger, events: ConnectionEvents): Promise<RedisConnection> {
    const conn = new RedisConnection(url, channel, log, events);
    try {
      await conn.#command.connect();
      await conn.#subscriber.connect();
      await conn.#subscribe(conn.#subscriber);
      await conn.#loadScripts();
    } catch (error) {
      conn.#closed = true;
      conn.#command.destroy();
      conn.#subscriber.destroy();
      const reason = error instanceof Error ? error.message || error.name : String(error);
      throw new Error(`cannot reach Redis at ${redactUrl(url)}: ${reason}`);
    }
    conn.#ready = true;
    conn.#everReady = true;
    return conn;
  }

  /** The node's inbox channel. */
  get channel(): string {
    return this.#channel;
  }

  /** Whether commands can be sent now (the command connection is ready). */
  get up(): boolean {
    return this.#ready && !this.#closed && this.#command.isReady;
  }

  /**
   * Runs a script (`EVALSHA`, or `EVAL` if Redis does not have it cached).
   * @param script the script.
   * @param args its ARGV after the prefix, which the caller puts first.
   * @rejects ClientOfflineError at once while Redis is unreachable.
   */
  run(script: Script, args: readonly (string | number)[]): Promise<ScriptReply> {
    return runScript<ScriptReply>(this.#command, script, args);
  }

  /**
   * Publishes `message` to `channel` on the command connection (so it keeps its place among the scripts run before
   * and after it: Redis executes one connection's commands in order).
   * @returns how many subscribers received it (0: nobody listens on that channel).
   * @rejects ClientOfflineError at once while Redis is unreachable.
   */
  publish(channel: string, message: string): Promise<number> {
    return this.#command.sendCommand<number>(['PUBLISH', channel, message]).then(Number);
  }

  /** Publishes the next canary to the node's own channel (with every lease renewal). */
  canary(): void {
    if (!this.up) return;
    if (this.#canaryBack === this.#canarySent) this.#canaryOutSince = performance.now();
    this.#canarySent += 1;
    this.#command.sendCommand(['PUBLISH', this.#channel, `c${this.#canarySent}`]).catch(() => {});
  }

  /**
   * Whether the subscriber looks frozen: a canary has been out for more than `ms` and the subscriber delivered
   * nothing at all since the previous check. (A subscriber that is merely slow under load, with its canary stuck
   * behind thousands of signals, is still delivering: replacing it would lose them.)
   */
  frozenFor(ms: number): boolean {
    const progressed = this.#delivered !== this.#deliveredChecked;
    this.#deliveredChecked = this.#delivered;
    return this.#canaryBack < this.#canarySent && performance.now() - this.#canaryOutSince > ms && !progressed;
  }

  /**
   * Replaces the subscriber connection (one that stopped delivering, or a node that takes a new ID and channel): a new
   * connection subscribes, then the old one is dropped. Messages in between may be lost, as on any reconnect.
   * @param channel the channel to subscribe to from now on (default: the same).
   */
  async resubscribe(channel: string = this.#channel): Promise<void> {
    this.#channel = channel;
    const old = this.#subscriber;
    const fresh = this.#client('subscriber');
    this.#subscriber = fresh;
    old.destroy();
    await fresh.connect();
    await this.#subscribe(fresh);
    this.#canaryBack = this.#canarySent;
  }

  /** Closes both connections (pending commands are answered first). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([this.#command.close(), this.#subscriber.close()]);
    this.#command.destroy();
    this.#subscriber.destroy();
  }

  #client(role: 'command' | 'subscriber'): RedisClientType {
    const base = clientOptions(this.url);
    const client: RedisClientType = createClient({
      ...base,
      name: `video-chat-${role}`,
      disableOfflineQueue: true,
      // A PING now and then on an idle connection: a path that died is noticed (and reconnected) by the client.
      pingInterval: 5_000,
      socket: {
        ...base.socket,
        connectTimeout: CONNECT_TIMEOUT_MS,
        reconnectStrategy: (retries: number, cause: Error) =>
          // Before the first success there is nothing to keep: give up and let the relay exit naming the URL.
          this.#everReady && !this.#closed
            ? Math.min(MAX_RECONNECT_DELAY_MS, 50 * 2 ** Math.min(retries, 5)) + Math.floor(Math.random() * 50)
            : cause,
      },
    });
    client.on('error', (error: Error) => {
      if (this.#closed) return;
      if (role === 'command' && this.#ready) {
        this.#ready = false;
        this.#log.error({ err: error.message, redis: redactUrl(this.url) }, 'Redis connection lost');
        this.#events.lost();
      } else {
        this.#log.debug({ err: error.message, role }, 'Redis client error');
      }
    });
    if (role === 'command') {
      client.on('reconnecting', () => {
        if (this.#closed || !this.#ready) return;
        this.#ready = false;
        this.#log.error({ redis: redactUrl(this.url) }, 'Redis connection lost');
        this.#events.lost();
      });
      client.on('ready', () => this.#comeBack(client));
    }
    return client;
  }

  /**
   * The command connection is ready again after a loss. The node counts as back only once the scripts are loaded and
   * the subscriber is subscribed again too (node-redis resubscribes before its 'ready'): the node's participants are
   * written back after this, and a signal routed to them before the node can receive would be lost without anyone
   * knowing; until then the others get unknown-peer, which they can see. Tried again every second until it works or
   * the connection is lost again.
   */
  #comeBack(client: RedisClientType): void {
    if (!this.#everReady || this.#closed || this.#ready || client !== this.#command || !client.isReady) return;
    Promise.all([this.#loadScripts(), this.#subscriberReady()]).then(
      () => {
        if (this.#closed || this.#ready) return;
        this.#ready = true;
        this.#log.info({ redis: redactUrl(this.url) }, 'Redis connection back');
        this.#events.reconnected();
      },
      (error: unknown) => {
        this.#log.warn({ err: String(error) }, 'Redis back, but not usable yet: trying again');
        setTimeout(() => this.#comeBack(client), 1000).unref();
      },
    );
  }

  /** Resolves once the subscriber connection is ready (subscribed); rejects after {@link CONNECT_TIMEOUT_MS}. */
  async #subscriberReady(): Promise<void> {
    const deadline = performance.now() + CONNECT_TIMEOUT_MS;
    while (!this.#subscriber.isReady) {
      if (this.#closed || performance.now() > deadline) throw new Error('Redis subscriber not back');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async #subscribe(client: RedisClientType): Promise<void> {
    await client.subscribe(this.#channel, (message) => {
      this.#delivered += 1;
      if (message.charCodeAt(0) === 0x63 /* c */) {
        const n = Number(message.slice(1));
        if (n > this.#canaryBack) this.#canaryBack = n;
        return;
      }
      this.#events.message(message);
    });
  }

  #loadScripts(): Promise<void> {
    return loadScripts(this.#command, SCRIPTS);
  }
}
