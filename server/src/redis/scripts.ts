/**
 * The Lua scripts behind rooms shared through Redis: every change that touches more than one key is one script, so
 * that Redis runs it atomically, and a script that changes membership publishes its announcement in the same step
 * (`docs/decisions/0008-rooms-in-redis.md` has the layout).
 *
 * Every script takes the key prefix as `ARGV[1]` and builds its key names from it, so they need one Redis primary
 * (with or without replicas and Sentinel), not Redis Cluster. Deadlines come from Redis's own clock (`TIME`), so the
 * relays' clocks do not matter.
 *
 * Keys (`P` is the prefix, `vc:` by default):
 * - `P nodes` ZSET node → lease deadline (ms); `P reaped` ZSET node → when it was declared gone (kept an hour);
 * - `P node:<node>` SET of the participant IDs that node serves;
 * - `P room:<room>` HASH participant ID → `"<seq> <node> <name>"` (join order, node, display name);
 * - `P seq` the join-order counter;
 * - `P peer:<id>` HASH `room`, `node`, `name`, `state` (`live` | `grace`), `secret` (SHA-256 hex of the resume
 *   secret), `seq`, `qbytes` (bytes queued), `ghost` (`1`: written back by another node, see {@link GHOST});
 * - `P grace` ZSET participant ID → grace deadline (ms); `P q:<id>` LIST of encoded `signal` frames kept for it.
 *
 * Channel `P ch:<node>`: the node's inbox. Messages: `s<to>\n<frame>` (a signal for participant `to`), `S…` (the
 * same, already re-routed once), `j<json>` (`{"k":"joined",r,id,m,s,n}`, `{"k":"left",r,id}`,
 * `{"k":"moved",r,id,node}`), `c<n>` (the node's own canary); and, published by the relays themselves without a script
 * (the fast path of `routes.ts`): `f<to> <from> <from node> <room>\n<frame>` (a signal sent straight to the node a
 * cached route names), `e<from> <to>` (that signal's addressee is not in the room: `unknown-peer`), `e<from> <to> full`
 * (its resume queue is full), `m<to> <node> <token>` (a drain marker) and `r<to> <token>` (its echo).
 *
 * @module
 */
import { luaScripts, type Script } from './lua.js';

export type { Script };

/** Shared Lua: the time in ms, the room entry parser, the nodes hosting a room, and a participant's departure. */
const PRELUDE = `
local P = ARGV[1]
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function entry(v)
  return string.match(v, '^(%d+) (%S+) (.*)$')
end
local function nodes_of(rk, except)
  local seen, out = {}, {}
  local vals = redis.call('HVALS', rk)
  for _, v in ipairs(vals) do
    local _, n = entry(v)
    if n ~= except and not seen[n] then seen[n] = true; out[#out + 1] = n end
  end
  return out
end
local function depart(id, except)
  local pk = P .. 'peer:' .. id
  local p = redis.call('HMGET', pk, 'room', 'node')
  if not p[1] then redis.call('ZREM', P .. 'grace', id); return 0 end
  local rk = P .. 'room:' .. p[1]
  redis.call('HDEL', rk, id)
  redis.call('SREM', P .. 'node:' .. p[2], id)
  redis.call('DEL', pk, P .. 'q:' .. id)
  redis.call('ZREM', P .. 'grace', id)
  local msg = 'j' .. cjson.encode({k = 'left', r = p[1], id = id})
  local targets = nodes_of(rk, except)
  local own = p[2] ~= except
  for _, n in ipairs(targets) do
    if n == p[2] then own = false end
    redis.call('PUBLISH', P .. 'ch:' .. n, msg)
  end
  -- Its own node too (unless it asked): it may still hold the participant's grace period.
  if own then redis.call('PUBLISH', P .. 'ch:' .. p[2], msg) end
  return 1
end
`;

const script = luaScripts(PRELUDE);

/**
 * `join`: ARGV prefix, room, id, node, name, capacity, secret digest. `{0}` if the room is full (participants in
 * their grace period count); otherwise `{1, seq, id₁, name₁, seq₁, node₁, …}` for the members already there, and
 * `joined` published to every other node hosting one of them.
 */
export const JOIN = script(
  'join',
  `
local room, id, node, name, cap, digest = ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]), ARGV[7]
local rk = P .. 'room:' .. room
if redis.call('HLEN', rk) >= cap then return {0} end
local seq = redis.call('INCR', P .. 'seq')
local all = redis.call('HGETALL', rk)
redis.call('HSET', rk, id, seq .. ' ' .. node .. ' ' .. name)
redis.call('HSET', P .. 'peer:' .. id, 'room', room, 'node', node, 'name', name, 'state', 'live', 'secret', digest,
  'seq', seq, 'qbytes', 0)
redis.call('SADD', P .. 'node:' .. node, id)
local out = {1, seq}
local seen = {}
local msg = 'j' .. cjson.encode({k = 'joined', r = room, id = id, m = name, s = seq, n = node})
for i = 1, #all, 2 do
  local s, n, m = entry(all[i + 1])
  out[#out + 1] = all[i]; out[#out + 1] = m; out[#out + 1] = s; out[#out + 1] = n
  if n ~= node and not seen[n] then seen[n] = true; redis.call('PUBLISH', P .. 'ch:' .. n, msg) end
end
return out
`,
);

/**
 * `route`: ARGV prefix, to, the sender's room (`''`: not checked, a re-route), the encoded frame, the queue cap in
 * bytes, the envelope kind (`s` or `S`). 0: no such participant in that room; 1: published to its node; 2: queued
 * (it is in its grace period); 3: its queue is full.
 */
export const ROUTE = script(
  'route',
  `
local to, room, frame, cap = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local pk = P .. 'peer:' .. to
local p = redis.call('HMGET', pk, 'room', 'node', 'state', 'qbytes')
if not p[1] or (room ~= '' and p[1] ~= room) then return 0 end
if p[3] == 'live' then
  redis.call('PUBLISH', P .. 'ch:' .. p[2], ARGV[6] .. to .. '\\n' .. frame)
  return 1
end
local bytes = tonumber(p[4]) + #frame
if bytes > cap then return 3 end
redis.call('RPUSH', P .. 'q:' .. to, frame)
redis.call('HSET', pk, 'qbytes', bytes)
return 2
`,
);

/** `grace`: ARGV prefix, id, node, grace ms. 1 if that node served it live and it is now in its grace period. */
export const GRACE = script(
  'grace',
  `
local id, node = ARGV[2], ARGV[3]
local pk = P .. 'peer:' .. id
local p = redis.call('HMGET', pk, 'node', 'state')
if p[1] ~= node or p[2] ~= 'live' then return 0 end
redis.call('HSET', pk, 'state', 'grace')
redis.call('ZADD', P .. 'grace', now() + tonumber(ARGV[4]), id)
return 1
`,
);

/**
 * `resume`: ARGV prefix, id, room, secret digest, new secret digest, node. `{0}` if refused; otherwise
 * `{1, old node, name, seq, n, frame₁ … frameₙ, id₁, name₁, seq₁, node₁, …}`: the queued frames in order, then the
 * others in the room. The previous node, if another, gets `moved` (it closes a connection it still holds with 4001).
 */
export const RESUME = script(
  'resume',
  `
local id, room, digest, fresh, node = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local pk = P .. 'peer:' .. id
local p = redis.call('HMGET', pk, 'room', 'node', 'secret', 'name', 'seq')
if not p[1] or p[1] ~= room or p[3] ~= digest then return {0} end
local old = p[2]
redis.call('HSET', pk, 'node', node, 'state', 'live', 'secret', fresh, 'qbytes', 0)
redis.call('ZREM', P .. 'grace', id)
local rk = P .. 'room:' .. room
redis.call('HSET', rk, id, p[5] .. ' ' .. node .. ' ' .. p[4])
if old ~= node then
  redis.call('SREM', P .. 'node:' .. old, id)
  redis.call('SADD', P .. 'node:' .. node, id)
  local moved = 'j' .. cjson.encode({k = 'moved', r = room, id = id, node = node})
  redis.call('PUBLISH', P .. 'ch:' .. old, moved)
  -- The room's other nodes too: they drop or re-point their cached route to it (routes.ts).
  for _, n in ipairs(nodes_of(rk, node)) do
    if n ~= old then redis.call('PUBLISH', P .. 'ch:' .. n, moved) end
  end
end
local q = redis.call('LRANGE', P .. 'q:' .. id, 0, -1)
redis.call('DEL', P .. 'q:' .. id)
local out = {1, old, p[4], p[5], #q}
for _, f in ipairs(q) do out[#out + 1] = f end
local all = redis.call('HGETALL', rk)
for i = 1, #all, 2 do
  if all[i] ~= id then
    local s, n, m = entry(all[i + 1])
    out[#out + 1] = all[i]; out[#out + 1] = m; out[#out + 1] = s; out[#out + 1] = n
  end
end
return out
`,
);

/** `leave`: ARGV prefix, id, node. 1 if that node served it and it left (`left` published to the room's other nodes). */
export const LEAVE = script(
  'leave',
  `
local id, node = ARGV[2], ARGV[3]
if redis.call('HGET', P .. 'peer:' .. id, 'node') ~= node then return 0 end
return depart(id, node)
`,
);

/**
 * `lease`: ARGV prefix, node, lease ms. 1: renewed; 2: registered afresh (first call, or Redis lost its data: the
 * node should write back what it holds); 0: this node was declared gone (it must not go on as this node).
 */
export const LEASE = script(
  'lease',
  `
local node = ARGV[2]
local known = redis.call('ZSCORE', P .. 'nodes', node)
if not known and redis.call('ZSCORE', P .. 'reaped', node) then return 0 end
redis.call('ZADD', P .. 'nodes', now() + tonumber(ARGV[3]), node)
if known then return 1 end
return 2
`,
);

/**
 * `sweep`: ARGV prefix, grace ms, batch. Nodes whose lease ran out: their live participants enter their grace period
 * and the node is marked gone. Grace periods that ran out: the participant departs (`left` to every node of its
 * room). `{nodes gone, participants put in grace, participants departed}`.
 */
export const SWEEP = script(
  'sweep',
  `
local t = now()
local grace, batch = tonumber(ARGV[2]), tonumber(ARGV[3])
local dead = redis.call('ZRANGEBYSCORE', P .. 'nodes', '-inf', t, 'LIMIT', 0, 10)
local graced = 0
for _, n in ipairs(dead) do
  for _, id in ipairs(redis.call('SMEMBERS', P .. 'node:' .. n)) do
    local pk = P .. 'peer:' .. id
    if redis.call('HGET', pk, 'state') == 'live' then
      redis.call('HSET', pk, 'state', 'grace')
      redis.call('ZADD', P .. 'grace', t + grace, id)
      graced = graced + 1
    end
  end
  redis.call('ZREM', P .. 'nodes', n)
  redis.call('ZADD', P .. 'reaped', t, n)
end
redis.call('ZREMRANGEBYSCORE', P .. 'reaped', '-inf', t - 3600000)
local left = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'grace', '-inf', t, 'LIMIT', 0, batch)) do
  left = left + depart(id, false)
end
return {#dead, graced, left}
`,
);

/**
 * `restore`: ARGV prefix, id, room, node, name, seq, state, secret digest, grace ms. Writes back a participant this
 * node serves, unless Redis has it (other than as a ghost): 1 if written, 0 if it was there.
 */
export const RESTORE = script(
  'restore',
  `
local id, room, node, name, seq, state = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local pk = P .. 'peer:' .. id
if redis.call('EXISTS', pk) == 1 then
  -- Kept unless another node wrote it back as a ghost (see GHOST): the node that serves it takes it over.
  if redis.call('HGET', pk, 'ghost') ~= '1' then return 0 end
  redis.call('SREM', P .. 'node:' .. redis.call('HGET', pk, 'node'), id)
  redis.call('ZREM', P .. 'grace', id)
  redis.call('HDEL', pk, 'ghost')
end
redis.call('HSET', pk, 'room', room, 'node', node, 'name', name, 'state', state, 'secret', ARGV[8], 'seq', seq,
  'qbytes', 0)
redis.call('HSET', P .. 'room:' .. room, id, seq .. ' ' .. node .. ' ' .. name)
redis.call('SADD', P .. 'node:' .. node, id)
if state == 'grace' then redis.call('ZADD', P .. 'grace', now() + tonumber(ARGV[9]), id) end
local cur = tonumber(redis.call('GET', P .. 'seq') or '0')
if cur < tonumber(seq) then redis.call('SET', P .. 'seq', seq) end
return 1
`,
);

/**
 * `ghost`: ARGV prefix, id, room, node, name, seq, grace ms. After an empty Redis restart, a member of `room` that
 * this node's clients were told about, served by `node`, and that nobody wrote back: unless `node` holds a lease
 * (it is alive and writes back its own) or Redis has the participant, it is written back in its grace period, owned
 * by `node`, marked `ghost` and with a secret no resume matches. The sweep then departs it when the grace period
 * ends, which publishes `left` to every node of the room; a late write-back by its node (`restore`) takes it over.
 * 1 if written, 0 if not.
 */
export const GHOST = script(
  'ghost',
  `
local id, room, node, name, seq = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
if redis.call('ZSCORE', P .. 'nodes', node) then return 0 end
local pk = P .. 'peer:' .. id
if redis.call('EXISTS', pk) == 1 then return 0 end
redis.call('HSET', pk, 'room', room, 'node', node, 'name', name, 'state', 'grace', 'secret', '-', 'seq', seq,
  'qbytes', 0, 'ghost', 1)
redis.call('HSET', P .. 'room:' .. room, id, seq .. ' ' .. node .. ' ' .. name)
redis.call('SADD', P .. 'node:' .. node, id)
redis.call('ZADD', P .. 'grace', now() + tonumber(ARGV[7]), id)
local cur = tonumber(redis.call('GET', P .. 'seq') or '0')
if cur < tonumber(seq) then redis.call('SET', P .. 'seq', seq) end
return 1
`,
);

/**
 * `retire`: ARGV prefix, node, grace ms. A node shutting down (SIGTERM): its live participants enter their grace
 * period (they resume on another node) and its lease is withdrawn. Returns how many entered grace.
 */
export const RETIRE = script(
  'retire',
  `
local node, grace = ARGV[2], tonumber(ARGV[3])
local t = now()
local n = 0
for _, id in ipairs(redis.call('SMEMBERS', P .. 'node:' .. node)) do
  local pk = P .. 'peer:' .. id
  if redis.call('HGET', pk, 'state') == 'live' then
    redis.call('HSET', pk, 'state', 'grace')
    redis.call('ZADD', P .. 'grace', t + grace, id)
    n = n + 1
  end
end
redis.call('ZREM', P .. 'nodes', node)
return n
`,
);

/** Every script, loaded with `SCRIPT LOAD` on each (re)connect. */
export const SCRIPTS: readonly Script[] = [JOIN, ROUTE, GRACE, RESUME, LEAVE, LEASE, SWEEP, RESTORE, GHOST, RETIRE];
