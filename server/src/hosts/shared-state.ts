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
 * - `P h:role:<room>` HASH participant ID → `"<h|g> <protocol> <token ID>"`;
 * - `P h:kq:<room>` ZSET knock ID → deadline (ms, Redis's clock: `--knock-timeout-ms` after the knock);
 * - `P h:k:<room>` HASH knock ID → `"<node> <name>"` (the relay holding the knocker's socket);
 * - `P h:rooms` SET of the rooms with host state (for the janitor).
 *
 * The state lives as long as the room has members or knockers: `left` (a departure on this relay) and `janitor`
 * (every relay, now and then) remove it once the room's membership hash is empty and nobody knocks.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../log.js';

/** Rooms one `janitor` call looks at, at most. */
const JANITOR_BATCH = 200;

const PRELUDE = `
local P, room = ARGV[1], ARGV[2]
local HK, RM, OUT, ROLE = P .. 'h:' .. room, P .. 'h:rm:' .. room, P .. 'h:out:' .. room, P .. 'h:role:' .. room
local KQ, KN, RK = P .. 'h:kq:' .. room, P .. 'h:k:' .. room, P .. 'room:' .. room
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- The room's members: id -> {seq, node} (but 'except').
local function members(except)
  local out, flat = {}, redis.call('HGETALL', RK)
  for i = 1, #flat, 2 do
    local seq, node = string.match(flat[i + 1], '^(%d+) (%S+)')
    if seq and flat[i] ~= except then out[flat[i]] = {tonumber(seq), node} end
  end
  return out
end
-- IDs of the hosts present, in joining order.
local function hosts(m)
  local list, flat = {}, redis.call('HGETALL', ROLE)
  for i = 1, #flat, 2 do
    local e = m[flat[i]]
    if e and string.sub(flat[i + 1], 1, 1) == 'h' then list[#list + 1] = {e[1], flat[i]} end
  end
  table.sort(list, function(a, b) return a[1] < b[1] end)
  local ids = {}
  for i, v in ipairs(list) do ids[i] = v[2] end
  return ids
end
-- The queue: {id, name, ...} in knocking order.
local function queue()
  local out = {}
  for _, k in ipairs(redis.call('ZRANGE', KQ, 0, -1)) do
    local v = redis.call('HGET', KN, k)
    if v then out[#out + 1] = k; out[#out + 1] = string.match(v, '^%S+ (.*)$') or '' end
  end
  return out
end
-- The relays with a member (and, with knockers, a knocker) of the room.
local function nodes(m, knockers)
  local seen, out = {}, {}
  local function add(n) if n and not seen[n] then seen[n] = true; out[#out + 1] = n end end
  for _, e in pairs(m) do add(e[2]) end
  if knockers then for _, v in ipairs(redis.call('HVALS', KN)) do add(string.match(v, '^(%S+)')) end end
  return out
end
local function say(targets, event)
  local msg = 'xh' .. cjson.encode(event)
  for _, n in ipairs(targets) do redis.call('PUBLISH', P .. 'ch:' .. n, msg) end
end
local function locked() return redis.call('HGET', HK, 'locked') == '1' end
-- The room state to every relay concerned; with the queue when the hosts changed (new hosts get it, knockers the count).
local function state(m, changed)
  local h = hosts(m)
  local event = {k = 'rs', r = room, l = locked(), h = h}
  if changed then event.q = queue() end
  say(nodes(m, changed), event)
  return h
end
local function forget_if_empty(m)
  if next(m) == nil and redis.call('ZCARD', KQ) == 0 then
    redis.call('DEL', HK, RM, OUT, ROLE, KQ, KN)
    redis.call('SREM', P .. 'h:rooms', room)
    return true
  end
  return false
end
-- {locked, #hosts, hosts..., queue...}
local function snapshot(m)
  local h = hosts(m)
  local out = {locked() and 1 or 0, #h}
  for _, id in ipairs(h) do out[#out + 1] = id end
  for _, v in ipairs(queue()) do out[#out + 1] = v end
  return out
end
`;

/** A script and its SHA-1 (`EVALSHA`). */
interface Script {
  readonly name: string;
  readonly source: string;
  readonly sha1: string;
}

function script(name: string, body: string): Script {
  const source = PRELUDE + body;
  return { name, source, sha1: createHash('sha1').update(source).digest('hex') };
}

/** `check`: ARGV prefix, room, token ID (`''`: none). `{locked, removed}` (each `1`/`0`). */
const CHECK = script(
  'hosts-check',
  `
local removed = ARGV[3] ~= '' and redis.call('SISMEMBER', RM, ARGV[3]) == 1
return {locked() and 1 or 0, removed and 1 or 0}
`,
);

/**
 * `enter`: ARGV prefix, room, participant ID, role entry. Records the member's role; a host changes the room's hosts:
 * `rs` with the queue to every relay concerned. Returns the {@link snapshot}.
 */
const ENTER = script(
  'hosts-enter',
  `
redis.call('HSET', ROLE, ARGV[3], ARGV[4])
redis.call('SADD', P .. 'h:rooms', room)
local m = members('')
if string.sub(ARGV[4], 1, 1) == 'h' then state(m, true) end
return snapshot(m)
`,
);

/** `state`: ARGV prefix, room. The {@link snapshot} (after a resume). */
const STATE = script('hosts-state', `return snapshot(members(''))`);

/** `resume`: ARGV prefix, room, participant ID. `{removed (1/0), role entry or ''}`. */
const RESUME = script(
  'hosts-resume',
  `
return {redis.call('SISMEMBER', OUT, ARGV[3]), redis.call('HGET', ROLE, ARGV[3]) or ''}
`,
);

/**
 * `left`: ARGV prefix, room, participant ID. It left for good: its role goes; a host's departure sends `rs` with the
 * queue. The room's state goes if nobody is left nor knocking.
 */
const LEFT = script(
  'hosts-left',
  `
local id = ARGV[3]
local entry = redis.call('HGET', ROLE, id)
redis.call('HDEL', ROLE, id)
local m = members(id)
if not forget_if_empty(m) and entry and string.sub(entry, 1, 1) == 'h' then state(m, true) end
return 1
`,
);

/**
 * `knock`: ARGV prefix, room, knock ID, node, name, timeout ms, token ID, queue limit. `{0, "locked" | "removed" |
 * "full"}` or `{1, hosts present}`; a knock is announced (`kn`) to every relay with a member.
 */
const KNOCK = script(
  'hosts-knock',
  `
local id, node, name, ttl, jti, max = ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]), ARGV[7], tonumber(ARGV[8])
if locked() then return {0, 'locked'} end
if jti ~= '' and redis.call('SISMEMBER', RM, jti) == 1 then return {0, 'removed'} end
if redis.call('ZCARD', KQ) >= max then return {0, 'full'} end
redis.call('ZADD', KQ, now() + ttl, id)
redis.call('HSET', KN, id, node .. ' ' .. name)
redis.call('SADD', P .. 'h:rooms', room)
local m = members('')
say(nodes(m, false), {k = 'kn', r = room, id = id, n = name})
return {1, #hosts(m)}
`,
);

/**
 * `take`: ARGV prefix, room, knock ID, outcome. The knock leaves the queue, once: `{0}` if it was not there. For
 * `admitted` its relay is told to let it in (`ad`); otherwise every relay concerned hears the end (`ke`). `{1}`.
 */
const TAKE = script(
  'hosts-take',
  `
local id, outcome = ARGV[3], ARGV[4]
local v = redis.call('HGET', KN, id)
if not v then return {0} end
local node = string.match(v, '^(%S+)')
redis.call('HDEL', KN, id)
redis.call('ZREM', KQ, id)
if outcome == 'admitted' then
  say({node}, {k = 'ad', r = room, id = id})
else
  local targets = nodes(members(''), false)
  local found = false
  for _, n in ipairs(targets) do if n == node then found = true end end
  if not found then targets[#targets + 1] = node end
  say(targets, {k = 'ke', r = room, id = id, o = outcome})
end
return {1}
`,
);

/** `announce`: ARGV prefix, room, knock ID, outcome. An admission's outcome to the hosts of every relay (`ke`). */
const ANNOUNCE = script(
  'hosts-announce',
  `
say(nodes(members(''), false), {k = 'ke', r = room, id = ARGV[3], o = ARGV[4]})
return 1
`,
);

/** `lock`: ARGV prefix, room, `1` or `0`. Every relay with a member hears the room state (`rs`). */
const LOCK = script(
  'hosts-lock',
  `
redis.call('HSET', HK, 'locked', ARGV[3])
redis.call('SADD', P .. 'h:rooms', room)
state(members(''), false)
return 1
`,
);

/**
 * `target`: ARGV prefix, room, by, participant ID, kind (`remove` | `end-one` | `ask-unmute` | `mute-request`),
 * media. `{0}` when the participant is not another member of the room (or, for a request, not a live version-2
 * client); else its relay is told (`rm` with the close code's kind, or `ask`) and `{1}`. A `remove` bans its token ID.
 */
const TARGET = script(
  'hosts-target',
  `
local by, id, kind = ARGV[3], ARGV[4], ARGV[5]
if id == by then return {0} end
local m = members('')
local e = m[id]
if not e then return {0} end
local entry = redis.call('HGET', ROLE, id) or ''
local _, protocol, jti = string.match(entry, '^(%S) (%d+) ?(.*)$')
if kind == 'remove' then
  if jti and jti ~= '' then redis.call('SADD', RM, jti) end
  redis.call('SADD', OUT, id)
  say({e[2]}, {k = 'rm', r = room, id = id})
  return {1}
end
if not protocol or tonumber(protocol) < 2 then return {0} end
if redis.call('HGET', P .. 'peer:' .. id, 'state') ~= 'live' then return {0} end
say({e[2]}, {k = 'ask', r = room, id = id, by = by, t = kind, m = ARGV[6]})
return {1}
`,
);

/**
 * `end`: ARGV prefix, room. Every member is out (their resume is refused), the queue is emptied, and every relay with
 * a member or a knocker hears `end` with the knock IDs.
 */
const END = script(
  'hosts-end',
  `
local m = members('')
for id in pairs(m) do redis.call('SADD', OUT, id) end
local targets = nodes(m, true)
local ks = redis.call('ZRANGE', KQ, 0, -1)
redis.call('DEL', KQ, KN)
local event = {k = 'end', r = room}
if #ks > 0 then event.ks = ks end
say(targets, event)
return 1
`,
);

/**
 * `janitor`: ARGV prefix, '' (no room), batch. For a sample of the rooms with state: roles of participants no longer in
 * the room go (a host's departure seen here: its grace period ran out, or its relay died) with `rs`; knocks past their
 * deadline by more than 5 s (their relay died) end with `ke` timeout; an empty room's state goes. Returns how many rooms' state went.
 */
const JANITOR = script(
  'hosts-janitor',
  `
local gone = 0
for _, r in ipairs(redis.call('SRANDMEMBER', P .. 'h:rooms', tonumber(ARGV[3]))) do
  room = r
  HK, RM, OUT, ROLE = P .. 'h:' .. r, P .. 'h:rm:' .. r, P .. 'h:out:' .. r, P .. 'h:role:' .. r
  KQ, KN, RK = P .. 'h:kq:' .. r, P .. 'h:k:' .. r, P .. 'room:' .. r
  local m = members('')
  local host_left = false
  local flat = redis.call('HGETALL', ROLE)
  for i = 1, #flat, 2 do
    if not m[flat[i]] then
      redis.call('HDEL', ROLE, flat[i])
      if string.sub(flat[i + 1], 1, 1) == 'h' then host_left = true end
    end
  end
  for _, k in ipairs(redis.call('ZRANGEBYSCORE', KQ, '-inf', now() - 5000)) do
    redis.call('ZREM', KQ, k)
    redis.call('HDEL', KN, k)
    say(nodes(m, false), {k = 'ke', r = r, id = k, o = 'timeout'})
  end
  if forget_if_empty(m) then gone = gone + 1 elseif host_left then state(m, true) end
end
return gone
`,
);

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

/** The minimal `@redis/client` surface used here. */
interface Client {
  sendCommand<T>(args: string[]): Promise<T>;
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
  destroy(): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** The URL as node-redis reads it (`unix:///path` becomes a socket path), as `server/src/redis/connection.ts` does. */
function clientOptions(url: string): { url?: string; socket: { path?: string } } {
  const unix = /^unix:\/\/(.*)$/i.exec(url);
  if (!unix) return { url, socket: {} };
  const path = (unix[1] ?? '').split('?', 1)[0] ?? '';
  return { socket: { path: path.startsWith('/') ? path : `/${path}` } };
}

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
    this.#client = (async () => {
      const { createClient } = await import('@redis/client');
      const base = clientOptions(url);
      const client = createClient({
        ...base,
        name: 'video-chat-hosts',
        disableOfflineQueue: true,
        pingInterval: 5_000,
        socket: {
          ...base.socket,
          connectTimeout: 5_000,
          reconnectStrategy: (retries: number) => Math.min(1_000, 50 * 2 ** Math.min(retries, 5)),
        },
      }) as unknown as Client;
      client.on('error', (error) => {
        if (!this.#closed) log.debug({ err: error.message }, 'hosts: Redis client error');
      });
      await client.connect();
      return client;
    })();
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
    const client = await this.#client;
    const argv = [this.#prefix, ...args.map(String)];
    try {
      return await client.sendCommand<Reply>(['EVALSHA', script.sha1, '0', ...argv]);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.sendCommand<Reply>(['EVAL', script.source, '0', ...argv]);
    }
  }
}
