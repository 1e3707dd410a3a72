/**
 * The Lua scripts of the SFU's shared room state (`shared-rooms.ts` documents the keys and what each decision does):
 * one atomic step per decision, under the relay's `--redis-prefix` (`ARGV[1]`), with Redis's own clock.
 *
 * @module
 */
import { luaScripts } from '../redis/lua.js';

export type { Script } from '../redis/lua.js';

const PRELUDE = `
local P = ARGV[1]
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function keys(room)
  return P .. 'room:' .. room, P .. 'sfu:' .. room, P .. 'sfu:caps:' .. room, P .. 'sfu:pend:' .. room,
    P .. 'sfu:by:' .. room
end
-- Nobody in the room and no reservation: the state goes; returns the Janus room to destroy ('' if none).
local function claim(room, except, t)
  local rk, sk, ck, pk, bk = keys(room)
  for _, id in ipairs(redis.call('HKEYS', rk)) do if id ~= except then return nil end end
  redis.call('ZREMRANGEBYSCORE', pk, '-inf', t)
  if redis.call('ZCARD', pk) > 0 then return nil end
  local st = redis.call('HMGET', sk, 'jid', 'secret')
  redis.call('DEL', sk, ck, pk, bk)
  redis.call('SREM', P .. 'sfu:rooms', room)
  return {st[1] or '', st[2] or ''}
end
`;

const script = luaScripts(PRELUDE);

/**
 * `admit`: ARGV prefix, room, reservation, capable (`1`/`0`), claim (`''`/`mesh`/`sfu`), sfuFrom, mesh capacity, SFU
 * capacity, jid, pin, secret (used if this join switches the room), node, reservation ms. `{0, "sfu-only"}`,
 * `{0, "full", capacity}`, or `{1, mode, switched, jid, pin, secret, stale jid, stale secret, claim}` (a stale Janus
 * room: state left by an earlier life of the room, for the caller to destroy; the claim that decides the room).
 */
export const ADMIT = script(
  'sfu-admit',
  `
local room, token, capable, claimed = ARGV[2], ARGV[3], ARGV[4] == '1', ARGV[5]
local sfuFrom, meshCap, sfuCap = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local node, ttl = ARGV[12], tonumber(ARGV[13])
local t = now()
local rk, sk, ck, pk = keys(room)
redis.call('ZREMRANGEBYSCORE', pk, '-inf', t)
local ids = redis.call('HKEYS', rk)
-- A write-back's hold ('r<node>', see sfu-restore) only keeps the room from being claimed: it is nobody's join.
local pending = {}
for _, p in ipairs(redis.call('ZRANGE', pk, 0, -1)) do
  if string.sub(p, 1, 1) ~= 'r' then pending[#pending + 1] = p end
end
local stale = {'', ''}
if #ids == 0 and #pending == 0 then
  local old = claim(room, '', t)
  if old then stale = old end
end
local st = redis.call('HMGET', sk, 'mode', 'claim')
local mode, held = st[1], st[2]
if not mode then
  mode, held = 'mesh', claimed
  redis.call('HSET', sk, 'mode', mode, 'claim', claimed)
  redis.call('SADD', P .. 'sfu:rooms', room)
end
-- A member whose caps are not recorded yet is one whose join is past the relay's script but not confirmed: it is
-- counted once, through its reservation.
local uncapped, all = 0, true
for _, id in ipairs(ids) do
  local c = redis.call('HGET', ck, id)
  if not c then uncapped = uncapped + 1 elseif c ~= '1' then all = false end
end
for _, p in ipairs(pending) do if string.sub(p, 1, 1) ~= '1' then all = false end end
if uncapped > #pending then all = false end
local size = #ids + #pending - math.min(#pending, uncapped)
local switched = false
if mode == 'sfu' then
  if not capable then return {0, 'sfu-only'} end
  if size >= sfuCap then return {0, 'full', sfuCap} end
else
  switched = capable and all and held ~= 'mesh' and (held == 'sfu' or size + 1 >= sfuFrom)
  if switched and size >= sfuCap then return {0, 'full', sfuCap} end
  if not switched and size >= meshCap then return {0, 'full', meshCap} end
end
redis.call('ZADD', pk, t + ttl, token)
local j = {'', '', ''}
if switched then
  mode = 'sfu'
  j = {ARGV[9], ARGV[10], ARGV[11]}
  redis.call('HSET', sk, 'mode', 'sfu', 'jid', j[1], 'pin', j[2], 'secret', j[3])
  local msg = 'x' .. cjson.encode({k = 'mode', r = room, mode = 'sfu', j = j[1], p = j[2], s = j[3]})
  local seen = {[node] = true}
  local function tell(n)
    if n and not seen[n] then seen[n] = true; redis.call('PUBLISH', P .. 'ch:' .. n, msg) end
  end
  for _, v in ipairs(redis.call('HVALS', rk)) do tell(string.match(v, '^%d+ (%S+)')) end
  for _, p in ipairs(pending) do tell(string.match(p, '^.(%S+) ')) end
elseif mode == 'sfu' then
  j = redis.call('HMGET', sk, 'jid', 'pin', 'secret')
end
return {1, mode, switched and 1 or 0, j[1] or '', j[2] or '', j[3] or '', stale[1], stale[2], held or ''}
`,
);

/**
 * `confirm`: ARGV prefix, room, reservation, participant ID (`''`: the join failed), capable. Ends a reservation; the
 * participant's capability is recorded, and the node of the reservation brokers it.
 */
export const CONFIRM = script(
  'sfu-confirm',
  `
local room, token, id, cap = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local rk, sk, ck, pk, bk = keys(room)
redis.call('ZREM', pk, token)
if id ~= '' and redis.call('HEXISTS', rk, id) == 1 and redis.call('EXISTS', sk) == 1 then
  redis.call('HSET', ck, id, cap)
  local node = string.match(token, '^.(%S+) ')
  if node then redis.call('HSET', bk, id, node) end
end
return 1
`,
);

/**
 * `take`: ARGV prefix, room, participant ID, node. The participant (which resumed on `node`) is brokered by `node`
 * from now on. `{previous broker or '', mode or '', jid, pin, secret, claim, capability or ''}`.
 */
export const TAKE = script(
  'sfu-take',
  `
local room, id, node = ARGV[2], ARGV[3], ARGV[4]
local rk, sk, ck, pk, bk = keys(room)
local before = redis.call('HGET', bk, id) or ''
local st = redis.call('HMGET', sk, 'mode', 'jid', 'pin', 'secret', 'claim')
if st[1] then redis.call('HSET', bk, id, node) end
return {before, st[1] or '', st[2] or '', st[3] or '', st[4] or '', st[5] or '', redis.call('HGET', ck, id) or ''}
`,
);

/**
 * `release`: ARGV prefix, room, participant ID, node. The participant is no longer served by `node`: if it moved to
 * another relay, nothing changes (`{0}`); otherwise its capability goes and, if the room is empty, its state
 * (`{1, jid, secret}`: the caller destroys that Janus room, if any).
 */
export const RELEASE = script(
  'sfu-release',
  `
local room, id, node = ARGV[2], ARGV[3], ARGV[4]
local rk, sk, ck, pk, bk = keys(room)
local owner = redis.call('HGET', P .. 'peer:' .. id, 'node')
if owner and owner ~= node then return {0} end
redis.call('HDEL', ck, id)
redis.call('HDEL', bk, id)
local gone = claim(room, id, now())
if not gone then return {0} end
return {1, gone[1], gone[2]}
`,
);

/** `janitor`: ARGV prefix, batch. Claims every empty room: `{room₁, jid₁, secret₁, …}`. */
export const JANITOR = script(
  'sfu-janitor',
  `
local out = {}
local t = now()
local rooms = redis.call('SRANDMEMBER', P .. 'sfu:rooms', tonumber(ARGV[2]))
for _, room in ipairs(rooms) do
  local gone = claim(room, '', t)
  if gone then out[#out + 1] = room; out[#out + 1] = gone[1]; out[#out + 1] = gone[2] end
end
return out
`,
);

/**
 * `restore` (the write-back after Redis lost its data): ARGV prefix, room, mode, claim, jid, pin, secret, node, hold
 * ms, then participant ID and capability (`1`/`0`) pairs. The room's state is written unless Redis has it (a room
 * known in mesh takes the SFU's: the room never goes back; a claim Redis holds empty is filled); the capabilities,
 * and this node as each member's broker, are written; and the room is held
 * (`r<node>` in its reservations, counted by no join) for hold ms against a claim, since the relay's own write-back
 * of its members travels on another connection and may land after this.
 */
export const RESTORE = script(
  'sfu-restore',
  `
local room, mode, claimed, node, hold = ARGV[2], ARGV[3], ARGV[4], ARGV[8], tonumber(ARGV[9])
local rk, sk, ck, pk, bk = keys(room)
local cur = redis.call('HGET', sk, 'mode')
local wrote = 0
if not cur or (cur ~= 'sfu' and mode == 'sfu') then
  redis.call('HSET', sk, 'mode', mode, 'claim', claimed)
  if mode == 'sfu' then redis.call('HSET', sk, 'jid', ARGV[5], 'pin', ARGV[6], 'secret', ARGV[7]) end
  redis.call('SADD', P .. 'sfu:rooms', room)
  wrote = 1
end
for i = 10, #ARGV - 1, 2 do
  redis.call('HSET', ck, ARGV[i], ARGV[i + 1])
  redis.call('HSET', bk, ARGV[i], node)
end
-- Redis holds the room without a claim (another relay wrote it back first, knowing none): this relay's fills it.
if claimed ~= '' and redis.call('HGET', sk, 'claim') == '' then redis.call('HSET', sk, 'claim', claimed) end
redis.call('ZADD', pk, now() + hold, 'r' .. node)
return wrote
`,
);
