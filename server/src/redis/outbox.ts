/**
 * Batches per destination for the cross-node fast path (`routes.ts`): the messages this node publishes to another
 * node's channel within one turn of the event loop (fast-path frames `f`, drain markers `m`, their echoes `r`, bounces
 * `e`) go out as **one** `PUBLISH` per destination channel: one Redis command, one subscriber message, one parse on
 * arrival, instead of one of each per signal. The profile of the saturated cross-process path (issue 11) showed the
 * per-command costs of `@redis/client` (a promise, an `AbortSignal.timeout` timer per command, queueing, RESP
 * encoding) and of the subscriber's per-message push handling as the largest part of the cross path beyond what one
 * relay does anyway.
 *
 * - **When.** A batch goes at `setImmediate` (after every socket read of this turn: under load, the signals of many
 *   clients share one batch), or at once when it reaches {@link BATCH_MAX_BYTES}, or when something that must come
 *   after it is sent another way: {@link Outbox.flush} runs before any script of `NodeState.script` (a `leave` must
 *   not overtake the signals its sender sent before it) and before the node retires.
 * - **Format.** A batch of one message is that message, unchanged. Two or more: `b` then, per message, its length in
 *   UTF-16 code units in decimal, `:`, and the message (`b12:f…<frame>9:m…`). The receiver ({@link splitBatch}) hands
 *   each to its usual handler, in order: per-sender order holds, and each message keeps its own outcome (a bounce still
 *   names its signal).
 * - **Outcome.** Each message's `done` hears the `PUBLISH` reply of its batch: the number of subscribers that received
 *   it (0: nobody listens there), or `undefined` if the command failed.
 *
 * A relay of an older version ignores `b` messages: during a rolling upgrade from a version without batching, signals
 * between an old and a new relay can be lost until the old ones are gone.
 *
 * @module
 */
import type { RedisConnection } from './connection.js';

/** A batch is published at once when it reaches this many UTF-16 code units (about bytes, for JSON text). */
export const BATCH_MAX_BYTES = 64 * 1024;

/** Hears the reply of the `PUBLISH` that carried a message: receivers (0: nobody), or `undefined` if it failed. */
export type Delivered = (received: number | undefined) => void;

interface Batch {
  channel: string;
  messages: string[];
  done: (Delivered | undefined)[];
  bytes: number;
}

/** Per-destination batches of one node's command connection (see the module comment). */
export class Outbox {
  readonly #conn: () => RedisConnection;
  /** Pending batches by channel, in the order their first message came (a `Map` keeps insertion order). */
  #batches = new Map<string, Batch>();
  #scheduled: NodeJS.Immediate | undefined;

  /** @param conn the node's connection (read at each flush: it is set after construction). */
  constructor(conn: () => RedisConnection) {
    this.#conn = conn;
  }

  /** Queues `message` for `channel`; `done` hears its `PUBLISH`'s reply. */
  publish(channel: string, message: string, done?: Delivered): void {
    let batch = this.#batches.get(channel);
    if (!batch) this.#batches.set(channel, (batch = { channel, messages: [], done: [], bytes: 0 }));
    batch.messages.push(message);
    batch.done.push(done);
    batch.bytes += message.length;
    if (batch.bytes >= BATCH_MAX_BYTES) {
      this.#batches.delete(channel);
      this.#send(batch);
    } else {
      this.#scheduled ??= setImmediate(() => this.flush());
    }
  }

  /** Publishes every pending batch now (in the order their first messages were queued). */
  flush(): void {
    if (this.#scheduled !== undefined) {
      clearImmediate(this.#scheduled);
      this.#scheduled = undefined;
    }
    if (this.#batches.size === 0) return;
    const batches = this.#batches;
    this.#batches = new Map();
    for (const batch of batches.values()) this.#send(batch);
  }

  #send(batch: Batch): void {
    const { messages, done } = batch;
    const conn = this.#conn();
    if (!conn.up) {
      for (const d of done) d?.(undefined);
      return;
    }
    const text = messages.length === 1 ? (messages[0] as string) : joinBatch(messages);
    conn.publish(batch.channel, text).then(
      (received) => {
        for (const d of done) d?.(received);
      },
      () => {
        for (const d of done) d?.(undefined);
      },
    );
  }
}

/** `b` and each message as `<length>:<message>` (see the module comment). */
export function joinBatch(messages: readonly string[]): string {
  const parts: string[] = ['b'];
  for (const m of messages) parts.push(`${m.length}:`, m);
  // One flat string (`join`), not a rope of `+=`: the socket write would have to flatten it.
  return parts.join('');
}

/**
 * Calls `each` with every message of a batch (`text` starts with `b`), in order. A malformed batch stops at the first
 * bad length: what came before it is handed on, nothing after it.
 * @returns how many messages were handed on.
 */
export function splitBatch(text: string, each: (message: string) => void): number {
  let at = 1;
  let count = 0;
  while (at < text.length) {
    let length = 0;
    let i = at;
    for (let c = text.charCodeAt(i); c >= 0x30 && c <= 0x39 && i - at < 10; c = text.charCodeAt(++i)) {
      length = length * 10 + (c - 0x30);
    }
    const end = i + 1 + length;
    if (i === at || text.charCodeAt(i) !== 0x3a /* : */ || length === 0 || end > text.length) return count;
    each(text.slice(i + 1, end));
    count++;
    at = end;
  }
  return count;
}
