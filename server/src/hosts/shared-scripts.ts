/**
 * The Lua scripts of the hosts' room state in Redis (`shared-state.ts` documents the keys and the events they
 * publish). Each is one atomic step; each takes the key prefix as `ARGV[1]` and the room as `ARGV[2]`, and builds its
 * key names from them (one Redis primary, not Redis Cluster, as `server/src/redis/scripts.ts`). Deadlines come from
 * Redis's clock (`TIME`).
 *
 * @module
 */
import { luaScripts } from '../redis/lua.js';

export type { Script } from '../redis/lua.js';

/** Rooms one `janitor` call looks at, at most. */
export const JANITOR_BATCH = 200;

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

const script = luaScripts(PRELUDE);

/** `check`: ARGV prefix, room, token ID (`''`: none). `{locked, removed}` (each `1`/`0`). */
export const CHECK = script(
  'hosts-check',
  `
local removed = ARGV[3] ~= '' and redis.call('SISMEMBER', RM, ARGV[3]) == 1
return {locked() and 1 or 0, removed and 1 or 0}
`,
);

/**
 * `enter`: ARGV prefix, room, participant ID, role entry. Records the member's role; a host changes the room's hosts:
 * `rs` with the queue to every relay concerned. A member removed before this record landed (a host on another relay
 * acted on its `joined` first: {@link TARGET} left the mark `x`) has its token ID banned now. Returns the
 * {@link snapshot}.
 */
export const ENTER = script(
  'hosts-enter',
  `
if redis.call('HGET', ROLE, ARGV[3]) == 'x' then
  local jti = string.match(ARGV[4], '^%S %d+ (.+)$')
  if jti then redis.call('SADD', RM, jti) end
end
redis.call('HSET', ROLE, ARGV[3], ARGV[4])
redis.call('SADD', P .. 'h:rooms', room)
local m = members('')
if string.sub(ARGV[4], 1, 1) == 'h' then state(m, true) end
return snapshot(m)
`,
);

/** `state`: ARGV prefix, room. The {@link snapshot} (after a resume). */
export const STATE = script('hosts-state', `return snapshot(members(''))`);

/** `resume`: ARGV prefix, room, participant ID. `{removed (1/0), role entry or ''}`. */
export const RESUME = script(
  'hosts-resume',
  `
return {redis.call('SISMEMBER', OUT, ARGV[3]), redis.call('HGET', ROLE, ARGV[3]) or ''}
`,
);

/**
 * `left`: ARGV prefix, room, participant ID. It left for good: its role goes; a host's departure sends `rs` with the
 * queue. The room's state goes if nobody is left nor knocking.
 */
export const LEFT = script(
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
export const KNOCK = script(
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
export const TAKE = script(
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
export const ANNOUNCE = script(
  'hosts-announce',
  `
say(nodes(members(''), false), {k = 'ke', r = room, id = ARGV[3], o = ARGV[4]})
return 1
`,
);

/** `lock`: ARGV prefix, room, `1` or `0`. Every relay with a member hears the room state (`rs`). */
export const LOCK = script(
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
 * client); else its relay is told (`rm` with the close code's kind, or `ask`) and `{1}`. A `remove` bans its token ID;
 * one whose role its relay has not recorded yet (its `enter` still on the way) is marked `x`, and {@link ENTER} bans
 * it.
 */
export const TARGET = script(
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
  if jti and jti ~= '' then redis.call('SADD', RM, jti) elseif entry == '' then redis.call('HSET', ROLE, id, 'x') end
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
export const END = script(
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
 * the room go (a host's departure seen here: its grace period ran out, or its relay died) with `rs`, but for a
 * removal's mark `x` (it goes with its relay's `enter` and `left`, or with the room's state); knocks past their
 * deadline by more than 5 s (their relay died) end with `ke` timeout; an empty room's state goes. Returns how many rooms' state went.
 */
export const JANITOR = script(
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
    -- A removal's mark 'x' stays until its relay's enter (then left) lands: the ban waits for it (see ENTER).
    if not m[flat[i]] and flat[i + 1] ~= 'x' then
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
