/**
 * Hosts' room state shared by several relay processes through Redis (with `--redis-url` and room tokens): the lock,
 * the removed token IDs, the waiting queue, each member's role and the members a host removed. Every decision is one
 * Lua script, atomic, so that one process's rules hold across processes (`docs/hosts.md` "Several relay processes"):
 * a join or knock into a locked room, or with a removed token, is refused on every relay; of two hosts admitting one
 * knock on two relays, one takes it (`take`), the other gets `unknown-peer`.
 *
 * What a change means for participants travels as an `x` message on the channel of each relay concerned
 * (`P ch:<node>`, the relay's own channel, whose `x` messages reach {@link SharedHostParticipants} through the
 * Redis participants' `onExtension`): `xh` then JSON, see {@link HostEvent}. A relay delivers each to its own
 * participants only.
 *
 * Keys under the relay's `--redis-prefix` `P` (read only: `P room:<room>` and `P peer:<id>` of
 * `server/src/redis/scripts.ts`):
 * - `P h:<room>` HASH `locked` (`1` | `0`);
 * - `P h:rm:<room>` SET of removed token IDs (`jti`);
 * - `P h:out:<room>` SET of participant IDs removed or ended (their resume is refused);
 * - `P h:role:<room>` HASH participant ID → `"<h|g> <protocol> <token ID>"`, or `x`: removed before its relay
 *   recorded its role (the record, when it lands, bans its token ID);
 * - `P h:kq:<room>` ZSET knock ID → deadline (ms, Redis's clock: `--knock-timeout-ms` after the knock);
 * - `P h:k:<room>` HASH knock ID → `"<node> <name>"` (the relay holding the knocker's socket);
 * - `P h:rooms` SET of the rooms with host state (for the janitor).
 *
 * The state lives as long as the room has members or knockers: `left` (a departure on this relay) and `janitor`
 * (every relay, now and then) remove it once the room's membership hash is empty and nobody knocks.
 *
 * @module
 */
import type { Logger } from '../log.js';
import { runScript } from '../redis/lua.js';
import {
  ANNOUNCE,
  CHECK,
  END,
  ENTER,
  JANITOR,
  JANITOR_BATCH,
  KNOCK,
  LEFT,
  LOCK,
  RESUME,
  STATE,
  TAKE,
  TARGET,
  type Script,
} from './shared-scripts.js';

/** A member's role entry as stored. */
export interface RoleEntry {
  readonly role: 'host' | 'guest';
  readonly protocol: number;
  readonly tokenId: string | undefined;
}

/** The room as a script returns it: lock, hosts present (joining order), the queue (knocking order). */
export interface RoomSnapshot {
  readonly locked: boolean;
  readonly hosts: string[];
  readonly knocks: { id: string; name: string }[];
}

/** What the relays tell each other about a room (`xh` + JSON on a relay's channel). */
export type HostEvent =
  /** The room state; `q` (the queue, flat id/name pairs) when the hosts changed. */
  | { k: 'rs'; r: string; l: boolean; h: string[]; q: string[] | undefined }
  /** A knock joined the queue. */
  | { k: 'kn'; r: string; id: string; n: string }
  /** A knock left the queue with outcome `o`. */
  | { k: 'ke'; r: string; id: string; o: string }
  /** A host admitted this relay's knock `id`. */
  | { k: 'ad'; r: string; id: string }
  /** This relay's participant `id` is removed. */
  | { k: 'rm'; r: string; id: string }
  /** A host's request (`t`: `ask-unmute` or `mute-request`, media `m`) to this relay's participant `id`. */
  | { k: 'ask'; r: string; id: string; by: string; t: string; m: string }
  /** A host ended the call: every member out with 4005, the knocks `ks` denied with `ended`. */
  | { k: 'end'; r: string; ks: string[] };

const str = (v: unknown): v is string => typeof v === 'string';
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter(str) : []); // cjson sends {} for []

/** Parses an `x` message of this module (the text after `x`), or `undefined` for anything else. */
export function parseHostEvent(text: string): HostEvent | undefined {
  if (!text.startsWith('h')) return undefined;
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(text.slice(1)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const { k, r, id } = m;
  if (!str(r)) return undefined;
  switch (k) {
    case 'rs':
      return { k, r, l: m['l'] === true, h: strings(m['h']), q: m['q'] === undefined ? undefined : strings(m['q']) };
    case 'end':
      return { k, r, ks: strings(m['ks']) };
    case 'kn':
      return str(id) && str(m['n']) ? { k, r, id, n: m['n'] } : undefined;
    case 'ke':
      return str(id) && str(m['o']) ? { k, r, id, o: m['o'] } : undefined;
    case 'ad':
    case 'rm':
      return str(id) ? { k, r, id } : undefined;
    case 'ask':
      return str(id) && str(m['by']) && str(m['t']) && str(m['m'])
        ? { k, r, id, by: m['by'], t: m['t'], m: m['m'] }
        : undefined;
    default:
      return undefined;
  }
}

/** Encodes a role entry (`"<h|g> <protocol> <token ID>"`). */
function encodeEntry(entry: RoleEntry): string {
  return `${entry.role === 'host' ? 'h' : 'g'} ${entry.protocol} ${entry.tokenId ?? ''}`;
}

/** Decodes a role entry, or `undefined` for `''`. */
function decodeEntry(text: string): RoleEntry | undefined {
  const match = /^([hg]) (\d+) ?(.*)$/s.exec(text);
  if (!match) return undefined;
  const tokenId = match[3] ?? '';
  return { role: match[1] === 'h' ? 'host' : 'guest', protocol: Number(match[2]), tokenId: tokenId || undefined };
}

type Reply = number | string | null | Reply[];

function snapshotOf(reply: Reply): RoomSnapshot {
  const flat = Array.isArray(reply) ? reply.map((v) => String(v)) : [];
  const count = Number(flat[1] ?? 0);
  const hosts = flat.slice(2, 2 + count);
  const knocks = [];
  for (let i = 2 + count; i + 1 < flat.length; i += 2) knocks.push({ id: flat[i] ?? '', name: flat[i + 1] ?? '' });
  return { locked: flat[0] === '1', hosts, knocks };
}

/** The command connection (`redis/command-client.ts`, loaded on demand). */
type Client = import('../redis/command-client.js').CommandClient;

/**
 * The hosts' shared room state over its own `@redis/client` command connection (loaded with a dynamic `import()`).
 * Every method rejects when Redis does not answer; the caller decides.
 */
export class SharedHostState {
  readonly #prefix: string;
  readonly #client: Promise<Client>;
  #closed = false;

  constructor(url: string, prefix: string, log: Logger) {
    this.#prefix = prefix;
    this.#client = import('../redis/command-client.js').then((m) =>
      m.openCommandClient(url, 'video-chat-hosts', (error) => {
        if (!this.#closed) log.debug({ err: error.message }, 'hosts: Redis client error');
      }),
    );
    this.#client.catch((error: unknown) => log.error({ err: String(error) }, 'hosts: cannot reach Redis'));
  }

  /** Whether the room is locked and whether `tokenId` was removed from it. */
  async check(room: string, tokenId: string | undefined): Promise<{ locked: boolean; removed: boolean }> {
    const out = await this.#run(CHECK, [room, tokenId ?? '']);
    const [locked, removed] = Array.isArray(out) ? out.map(String) : [];
    return { locked: locked === '1', removed: removed === '1' };
  }

  /** Records a member's role (a host's arrival goes to every relay); @returns the room as it is now. */
  async enter(room: string, id: string, entry: RoleEntry): Promise<RoomSnapshot> {
    return snapshotOf(await this.#run(ENTER, [room, id, encodeEntry(entry)]));
  }

  /** The room as it is now. */
  async state(room: string): Promise<RoomSnapshot> {
    return snapshotOf(await this.#run(STATE, [room]));
  }

  /** Whether participant `id` was removed (or ended), and its role entry. */
  async resume(room: string, id: string): Promise<{ out: boolean; entry: RoleEntry | undefined }> {
    const out = await this.#run(RESUME, [room, id]);
    const [gone, entry] = Array.isArray(out) ? out.map(String) : [];
    return { out: gone === '1', entry: decodeEntry(entry ?? '') };
  }

  /** Participant `id` left the room for good. */
  async left(room: string, id: string): Promise<void> {
    await this.#run(LEFT, [room, id]);
  }

  /** Queues a knock held by `node`. @returns the number of hosts present, or why it is refused. */
  async knock(
    room: string,
    knock: { id: string; node: string; name: string; timeoutMs: number; tokenId: string | undefined },
    max: number,
  ): Promise<{ ok: true; hosts: number } | { ok: false; reason: 'locked' | 'removed' | 'full' }> {
    const out = await this.#run(KNOCK, [
      room,
      knock.id,
      knock.node,
      knock.name,
      knock.timeoutMs,
      knock.tokenId ?? '',
      max,
    ]);
    const [ok, second] = Array.isArray(out) ? out.map(String) : [];
    if (ok === '1') return { ok: true, hosts: Number(second) };
    return { ok: false, reason: second === 'locked' || second === 'removed' ? second : 'full' };
  }

  /** Takes knock `id` off the queue with `outcome`. @returns whether it was there (only one caller gets `true`). */
  async take(room: string, id: string, outcome: string): Promise<boolean> {
    const out = await this.#run(TAKE, [room, id, outcome]);
    return Array.isArray(out) && String(out[0]) === '1';
  }

  /** Tells the hosts of every relay how an admission ended. */
  async announce(room: string, id: string, outcome: string): Promise<void> {
    await this.#run(ANNOUNCE, [room, id, outcome]);
  }

  /** Locks or unlocks the room. */
  async lock(room: string, locked: boolean): Promise<void> {
    await this.#run(LOCK, [room, locked ? '1' : '0']);
  }

  /** A host's action on participant `id`. @returns whether `id` is another member it can be done to. */
  async target(
    room: string,
    by: string,
    id: string,
    kind: 'remove' | 'ask-unmute' | 'mute-request',
    media = '',
  ): Promise<boolean> {
    const out = await this.#run(TARGET, [room, by, id, kind, media]);
    return Array.isArray(out) && String(out[0]) === '1';
  }

  /** Ends the call for everyone in `room`. */
  async end(room: string): Promise<void> {
    await this.#run(END, [room]);
  }

  /** Tidies a sample of rooms (see the script). @returns how many rooms' state went. */
  async janitor(): Promise<number> {
    return Number(await this.#run(JANITOR, ['', JANITOR_BATCH]));
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const client = await this.#client.catch(() => undefined);
    if (!client) return;
    await client.close().catch(() => undefined);
    client.destroy();
  }

  async #run(script: Script, args: readonly (string | number)[]): Promise<Reply> {
    return runScript<Reply>(await this.#client, script, [this.#prefix, ...args]);
  }
}
