-- lib.lua: shared by every mutating script. router.go builds from it and
-- the scripts' files one Redis function library (FUNCTION LOAD; each
-- script body becomes a function that calls begin first), or, on a Redis
-- without functions, one EVAL script per body (lib.lua, then the body in
-- a function called with KEYS and ARGV). Either way each transition is
-- one call, and these locals are visible to the bodies.
--
-- Calling convention (see doc.go):
--   KEYS[1]  the hash tag, e.g. "{parley}"; every key name is built from it.
--   ARGV[1]  now in Unix milliseconds
--   ARGV[2]  scan depth
--   ARGV[3]  miss limit (consecutive missed offers before away)
--   ARGV[4]  n, the most offers this call may make
--   ARGV[5]  a fresh offer id base: the call's offers are <base>-1 .. <base>-n
--   ARGV[6 ..]  the script's own arguments, read with arg(i)
--
-- Reply: { code, message, body }, body one string (each element of a
-- reply costs Redis about 1,600 instructions to send, each nested table
-- about 4,000 more): the lines n_offered, n_ended, n_more, n_extra,
-- n_away, then the fields of each list in that order, one a line (no
-- field holds a newline: offer ids come from Go, the rest are ids,
-- numbers and fixed words).
--   code, message  "" and "" on success, else a parley error code and
--                  message (body "")
--   offered, ended offer records, 9 fields each (see push_offer)
--   more           work items left undone because the id pool ran out
--   extra          a script-specific list of strings
--   away           agent, reason of each agent this call set away
--
-- Every number is an integer below 2^53. Numbers are turned into strings
-- only with istr (string.format %d), never with tostring or "..", which
-- would print 15-digit scores in exponent form.
--
-- Speed matters: each redis.call costs about 15,000 instructions (its
-- reply is serialized and parsed back), so reads are cached per call,
-- waiting tasks are indexed by requirement class, agents with a free slot
-- are kept in per-media sets and agent records in one hash (doc.go).

-- Per call (set by begin): the hash tag, the arguments, the common ones
-- decoded, and how many of the fresh offer ids were used.
local P, A, NOW, DEPTH, MISS_LIMIT, NIDS
local ids_used = 0

local MEDIA = { 'voice', 'chat', 'email' }
-- Arguments of redis.call are passed as strings: Redis formats a Lua
-- number argument with printf("%.17g"), which costs more than the call.
local ENDED_TTL = '3600'       -- seconds an ended offer stays readable
local CONV_TTL = '2592000'     -- 30 days: how long an accepted conversation's queue is remembered
local EPOCH = 1704067200000    -- 2024-01-01 in ms (Go: Epoch)
local PRIO_UNIT = 2199023255552 -- 2^41 (Go: timeBits)
local AGING_UNIT = 60000       -- ms one priority point is worth (Go: AgingStep)

local OUT_OFFERED, OUT_ENDED, OUT_MORE, OUT_AWAY

local function arg(i) return A[5 + i] end

local function istr(n) return string.format('%d', n) end

-- nstr is istr with a cache for small numbers, and NOW's own string.
local STRS = {}
local function nstr(n)
  if n == NOW then return A[1] end
  local v = STRS[n]
  if v == nil then
    v = string.format('%d', n)
    if n >= 0 and n < 1000 then STRS[n] = v end
  end
  return v
end

-- num is tonumber with a cache for short strings (slot counters, levels):
-- tonumber goes through strtod, a table lookup does not.
local NUMS, NNUMS = {}, 0
local function num(s)
  local n = NUMS[s]
  if n == nil then
    n = tonumber(s)
    if #s <= 4 then
      if NNUMS >= 10000 then NUMS, NNUMS = {}, 0 end
      NUMS[s], NNUMS = n, NNUMS + 1
    end
  end
  return n
end

-- k names a key: P:a[:b[:c[:d]]] (one concatenation, no table).
local function k(a, b, c, d)
  if d then return P .. ':' .. a .. ':' .. b .. ':' .. c .. ':' .. d end
  if c then return P .. ':' .. a .. ':' .. b .. ':' .. c end
  if b then return P .. ':' .. a .. ':' .. b end
  return P .. ':' .. a
end

-- idless compares two decimal ids (no sign, no leading zeros) numerically.
local function idless(a, b)
  if #a ~= #b then return #a < #b end
  return a < b
end

-- pad turns a conversation id into the head of its ZSET member: 19
-- digits, so that equal scores order by conversation id.
local function pad(conv) return string.rep('0', 19 - #conv) .. conv end

local function unpad(s) return s:match('^0*(%d+)$') end

local function pad16(n)
  local s = string.format('%d', n)
  return string.rep('0', 16 - #s) .. s
end

-- split cuts s at each plain separator sep (keeps empty fields).
local function split(s, sep)
  local out, i = {}, 1
  while true do
    local j = string.find(s, sep, i, true)
    if not j then
      out[#out + 1] = s:sub(i)
      return out
    end
    out[#out + 1] = s:sub(i, j - 1)
    i = j + 1
  end
end

-- A queue's waiting tasks are kept by media and requirement class (the
-- effective requirement, eff_req): class_key names the
-- ZSET of one class, whose members "<score padded to 16><pad(conv)><x or
-- ->" sort as strings exactly as the tasks sort (score, then conversation
-- id), and firsts_key a ZSET of the first member of each class of the
-- queue's tasks of media m, "<class member>|<req>", all scored 0 so they
-- sort as the tasks do (no score is ever read: formatting and parsing a
-- double costs more than a redis.call). A pull reads the firsts of its
-- queues and takes the best it qualifies for, looking into a class only
-- when that first task has exclusions; a dispatch looks at the first
-- members of each class some free member qualifies for. Neither scans
-- past tasks nobody free can take.
local function firsts_key(qid, m) return k('q', qid, 'first', m) end
local function class_key(qid, m, req) return k('q', qid, 'wk', m) .. ':' .. req end

-- has returns the index of x in list, or nil.
local function has(list, x)
  for i, y in ipairs(list) do
    if y == x then return i end
  end
  return nil
end

local function hash(key)
  local v = redis.call('HGETALL', key)
  if #v == 0 then return nil end
  local h = {}
  for i = 1, #v, 2 do h[v[i]] = v[i + 1] end
  return h
end

------------------------------------------------------------------------
-- Requirements: "name=level,name=level" sorted by name ("" = none),
-- parsed once per call into lists of { name, level }.

local REQS, NREQS = {}, 0 -- kept across calls (a pure cache), emptied when large

local function parse_req(s)
  local r = REQS[s]
  if r == nil then
    r = {}
    if s ~= '' then
      for _, pair in ipairs(split(s, ',')) do
        local eq = string.find(pair, '=', 1, true)
        r[#r + 1] = { pair:sub(1, eq - 1), tonumber(pair:sub(eq + 1)) }
      end
    end
    REQS[s] = r
    NREQS = NREQS + 1
  end
  return r
end

-- merge_req combines two requirement strings, the higher level winning.
local function merge_req(x, y)
  if x == '' then return y end
  if y == '' then return x end
  local lv, names = {}, {}
  for _, s in ipairs({ x, y }) do
    for _, r in ipairs(parse_req(s)) do
      if lv[r[1]] == nil then names[#names + 1] = r[1] end
      if (lv[r[1]] or 0) < r[2] then lv[r[1]] = r[2] end
    end
  end
  table.sort(names)
  local parts = {}
  for i, n in ipairs(names) do parts[i] = n .. '=' .. istr(lv[n]) end
  return table.concat(parts, ',')
end

local function satisfies(a, reqs)
  local s = a.skills
  for _, r in ipairs(reqs) do
    if (s[r[1]] or 0) < r[2] then return false end
  end
  return true
end

------------------------------------------------------------------------
-- Cached reads. Tables are loaded once per script call and kept in step
-- with every write this script makes.

local queues, agents, tasks, EXCL = {}, {}, {}, {}
local RAW, SKILLS = {}, {} -- agent records fetched but not decoded; skills string -> map (kept)

local function reset_cache() queues, agents, tasks, EXCL, RAW = {}, {}, {}, {}, {} end

-- parse_queue decodes a P:qcfg value (Go: QueueSpec.config):
-- prio|timeout|par|aging|prof|sticky|wrap|paused|steps, steps being
-- "expire_ms:skip:req;...".
local QPAT = '^(%d+)|(%d+)|(%d+)|(%d)|(%d)|(%d+)|(%d+)|(%d)|(.*)$'
local PARSED, NPARSED = {}, 0 -- qid|config -> parsed queue, kept across calls (never mutated)
local function parse_queue(qid, v)
  local key = qid .. '|' .. v
  local q = PARSED[key]
  if q then return q end
  local prio, timeout, par, aging, prof, sticky, wrap, paused, steps = v:match(QPAT)
  local q = { id = qid, prio = tonumber(prio), timeout = tonumber(timeout), par = tonumber(par),
    aging = aging == '1', prof = prof == '1', sticky = tonumber(sticky), wrap = tonumber(wrap),
    paused = paused == '1', stepstr = steps, steps = {} }
  if q.stepstr ~= '' then
    for i, st in ipairs(split(q.stepstr, ';')) do
      local g = split(st, ':')
      q.steps[i] = { exp = tonumber(g[1]), skip = g[2] == '1', req = g[3] }
    end
  end
  if NPARSED > 1024 then PARSED, NPARSED = {}, 0 end
  PARSED[key], NPARSED = q, NPARSED + 1
  return q
end

local function queue(qid)
  local q = queues[qid]
  if q == nil then
    local v = redis.call('HGET', k('qcfg'), qid)
    if v then q = parse_queue(qid, v) else q = false end
    queues[qid] = q
  end
  return q
end

-- load_queues caches the configs of qids with one HMGET.
local function load_queues(qids)
  local need = {}
  for _, qid in ipairs(qids) do
    if queues[qid] == nil then need[#need + 1] = qid end
  end
  if #need > 0 then
    local v = redis.call('HMGET', k('qcfg'), unpack(need))
    for i, qid in ipairs(need) do
      if v[i] then queues[qid] = parse_queue(qid, v[i]) else queues[qid] = false end
    end
  end
end

-- free reports whether agent a may get an offer of media m as far as
-- presence and slots go: available, load below capacity, and for chat and
-- email no voice slot in use when voice blocks digital. The P:free:<m>
-- sets hold exactly the agents free on m.
local function free(a, m)
  if a.presence ~= 'available' or a.load[m] >= a.cap[m] then return false end
  if m ~= 'voice' and a.vbd and a.load.voice > 0 then return false end
  return true
end

-- An agent is one field of the HASH P:ag (agent id -> record), so one
-- HGET loads an agent, one HMGET any number of them, one HSET stores a
-- change. The record, skills last:
--   "presence|since|idle|last|miss|ndirect|wseq|asg voice|asg chat|
--   asg email|pend voice|pend chat|pend email|wrap voice|wrap chat|
--   wrap email|vbd|cap voice|cap chat|cap email|offers|skills"
-- with offers the ids of its pending offers, space separated, and skills
-- "name=level,..." sorted by name.
-- (Literals: a function library may use no library while it loads.)
local AG_PAT = '^(%a+)|(%d+)|(%d+)|(%d+)|(%d+)|(%d+)|(%d+)|(%d+)|(%d+)|(%d+)|(%d+)|(%d+)|(%d+)|(%d+)|(%d+)|(%d+)|([01])|(%d+)|(%d+)|(%d+)|([^|]*)|(.*)$'

-- skillmap turns a skills string into a map name -> level (cached).
local function skillmap(s)
  local sk = SKILLS[s]
  if sk == nil then
    sk = {}
    for _, r in ipairs(parse_req(s)) do sk[r[1]] = r[2] end
    SKILLS[s] = sk
  end
  return sk
end

local function new_agent(aid)
  return { id = aid, presence = 'offline', since = NOW, idle = 0, last = 0, miss = 0, ndirect = 0,
    wseq = 0, vbd = false, skillstr = '', skills = {}, offers = {},
    cap = { voice = 0, chat = 0, email = 0 }, asg = { voice = 0, chat = 0, email = 0 },
    pend = { voice = 0, chat = 0, email = 0 }, wrap = { voice = 0, chat = 0, email = 0 },
    load = { voice = 0, chat = 0, email = 0 }, fr = { voice = false, chat = false, email = false } }
end

-- set_skills sets agent a's skills from a "name=level,..." string.
local function set_skills(a, s) a.skillstr, a.skills = s, skillmap(s) end

local function decode_agent(aid, raw)
  local p, since, idle, last, miss, nd, wseq, av, ac, ae, pv, pc, pe, wv, wc, we, vbd, cv, cc, ce, ofs, sk = raw:match(AG_PAT)
  local a = { id = aid, presence = p, since = tonumber(since), idle = tonumber(idle), last = tonumber(last),
    miss = num(miss), ndirect = num(nd), wseq = num(wseq), vbd = vbd == '1',
    cap = { voice = num(cv), chat = num(cc), email = num(ce) },
    asg = { voice = num(av), chat = num(ac), email = num(ae) },
    pend = { voice = num(pv), chat = num(pc), email = num(pe) },
    wrap = { voice = num(wv), chat = num(wc), email = num(we) },
    offers = ofs == '' and {} or split(ofs, ' '), load = {}, fr = {} }
  set_skills(a, sk)
  for _, m in ipairs(MEDIA) do
    a.load[m] = a.asg[m] + a.pend[m] + a.wrap[m]
    a.fr[m] = free(a, m)
  end
  return a
end

-- agent loads (and caches) agent aid, false when unknown.
local function agent(aid)
  local a = agents[aid]
  if a == nil then
    local raw = RAW[aid]
    if raw == nil then raw = redis.call('HGET', k('ag'), aid) end
    a = raw and decode_agent(aid, raw) or false
    agents[aid] = a
  end
  return a
end

-- prefetch fetches the records of the agents of ids not loaded yet with
-- one HMGET per 500, without decoding them.
local function prefetch(ids)
  local need = {}
  for _, aid in ipairs(ids) do
    if agents[aid] == nil and RAW[aid] == nil then need[#need + 1] = aid end
  end
  for i = 1, #need, 500 do
    local part = { unpack(need, i, math.min(i + 499, #need)) }
    local v = redis.call('HMGET', k('ag'), unpack(part))
    for j, aid in ipairs(part) do RAW[aid] = v[j] or false end
  end
end

-- skills_of returns agent aid's skill map from its decoded or prefetched
-- record (nil when unknown).
local function skills_of(aid)
  local a = agents[aid]
  if a then return a.skills end
  local raw = RAW[aid]
  if raw then return skillmap(raw:match('^.*|(.*)$')) end
  return nil
end

-- save marks agent a changed. Its record and its membership of the
-- P:free:<m> sets (a.fr is the membership as stored) are written by
-- flush, once per call however often the agent changed: an agent that
-- frees a slot and takes an offer in one call costs one HSET and no set
-- write at all.
local DIRTY = {}
local function save(a)
  if not a.dirty then
    a.dirty = true
    DIRTY[#DIRTY + 1] = a
  end
end

local function encode_agent(a)
  return table.concat({ a.presence, nstr(a.since), nstr(a.idle), nstr(a.last), nstr(a.miss),
    nstr(a.ndirect), nstr(a.wseq), nstr(a.asg.voice), nstr(a.asg.chat), nstr(a.asg.email),
    nstr(a.pend.voice), nstr(a.pend.chat), nstr(a.pend.email), nstr(a.wrap.voice), nstr(a.wrap.chat),
    nstr(a.wrap.email), a.vbd and '1' or '0', nstr(a.cap.voice), nstr(a.cap.chat), nstr(a.cap.email),
    table.concat(a.offers, ' '), a.skillstr }, '|')
end

-- write_chunks runs cmd key v[1..n] in calls of at most 1,000 arguments.
local function write_chunks(cmd, key, v)
  for i = 1, #v, 1000 do
    redis.call(cmd, key, unpack(v, i, math.min(i + 999, #v)))
  end
end

-- flush stores the changed agents: one HSET for all records, one SADD or
-- SREM per free set that changes. Agents removed meanwhile (no longer
-- the cached record) are skipped. Runs before the free sets are read and
-- at the end of every call (reply).
local function flush()
  if #DIRTY == 0 then return end
  local recs, add, rem = {}, { voice = {}, chat = {}, email = {} }, { voice = {}, chat = {}, email = {} }
  for _, a in ipairs(DIRTY) do
    a.dirty = false
    if agents[a.id] == a then
      recs[#recs + 1] = a.id
      recs[#recs + 1] = encode_agent(a)
      for _, m in ipairs(MEDIA) do
        local f = free(a, m)
        if f ~= a.fr[m] then
          local l = f and add[m] or rem[m]
          l[#l + 1] = a.id
          a.fr[m] = f
        end
      end
    end
  end
  DIRTY = {}
  write_chunks('HSET', k('ag'), recs)
  for _, m in ipairs(MEDIA) do
    write_chunks('SADD', k('free', m), add[m])
    write_chunks('SREM', k('free', m), rem[m])
  end
end

-- reply ends a call: changed agents are stored (flush), and the reply
-- goes back to Go.
local function reply(code, msg, extra)
  flush()
  if code ~= '' then return { code, msg, '' } end
  extra = extra or {}
  local out = { istr(#OUT_OFFERED / 9), istr(#OUT_ENDED / 9), istr(#OUT_MORE), istr(#extra), istr(#OUT_AWAY / 2) }
  for _, list in ipairs({ OUT_OFFERED, OUT_ENDED, OUT_MORE, extra, OUT_AWAY }) do
    for _, v in ipairs(list) do out[#out + 1] = v end
  end
  return { '', '', table.concat(out, '\n') }
end

local function fail(code, msg) return reply(code, msg) end

-- add_count changes slot counter kind ('asg', 'pend' or 'wrap') of media
-- m by d, never below 0, and stores the agent (with whatever else the
-- caller changed in it).
local function add_count(a, kind, m, d)
  local t = a[kind]
  local n = t[m] + d
  if n < 0 then n = 0 end
  t[m] = n
  a.load[m] = a.asg[m] + a.pend[m] + a.wrap[m]
  save(a)
end

local function task(conv)
  local t = tasks[conv]
  if t == nil then
    local h = hash(k('t', conv))
    if h then
      local offers = {}
      if h.offers and h.offers ~= '' then offers = split(h.offers, ' ') end
      t = { conv = conv, queue = h.queue, media = h.media, prio = num(h.prio),
        score = tonumber(h.score), enq = tonumber(h.enq), state = h.state,
        offers = offers, nexcl = h.nexcl and num(h.nexcl) or 0, req = h.req or '',
        pref = h.pref or '', target = h.target or '', step = h.step and num(h.step) or 0,
        tm = h.tm == '1', mem = h.mem or '' }
    else
      t = false
    end
    tasks[conv] = t
  end
  return t
end

-- excluded reports whether agent aid is excluded for conversation conv
-- (flagged: the task has exclusions at all).
local function excluded(conv, aid, flagged)
  if not flagged then return false end
  local e = EXCL[conv]
  if e == nil then
    e = {}
    for _, x in ipairs(redis.call('SMEMBERS', k('t', conv, 'excl'))) do e[x] = true end
    EXCL[conv] = e
  end
  return e[aid] == true
end

-- eff_req is what an agent needs for task t of queue q now: its current
-- step's requirement and its own, the higher level winning per skill.
-- A direct transfer needs nothing.
local function eff_req(t, q)
  if t.target ~= '' then return '' end
  local sreq = ''
  if q and t.step < #q.steps then sreq = q.steps[t.step + 1].req end
  return merge_req(sreq, t.req)
end

-- better reports whether agent a ranks above agent b for media m;
-- preqs (proficiency-first) compares the sum of levels in those skills
-- first.
local function better(a, b, m, preqs)
  if preqs and #preqs > 0 then
    local x, y = 0, 0
    for _, r in ipairs(preqs) do
      x = x + (a.skills[r[1]] or 0)
      y = y + (b.skills[r[1]] or 0)
    end
    if x ~= y then return x > y end
  end
  if m == 'voice' then
    if a.idle ~= b.idle then return a.idle < b.idle end
  else
    -- spare ratio (cap-load)/cap compared without division
    local x = (a.cap[m] - a.load[m]) * b.cap[m]
    local y = (b.cap[m] - b.load[m]) * a.cap[m]
    if x ~= y then return x > y end
    if a.last ~= b.last then return a.last < b.last end
  end
  return idless(a.id, b.id)
end

------------------------------------------------------------------------
-- Offers

-- An offer is one string at P:of:<id> (kept ENDED_TTL after it ended):
-- "conv|agent|queue|media|state|created|expires|ended|reason".
local OF_PAT = '^(%d+)|(%d+)|(%d+)|(%a+)|(%a+)|(%d+)|(%d+)|(%d*)|(.*)$'

local function offer(oid)
  local v = redis.call('GET', k('of', oid))
  if not v then return nil end
  local o = { id = oid }
  o.conv, o.agent, o.queue, o.media, o.state, o.created, o.expires, o.ended, o.reason = v:match(OF_PAT)
  return o
end

-- store_offer writes offer o (an ended one expires after ENDED_TTL).
local function store_offer(o)
  local v = table.concat({ o.conv, o.agent, o.queue, o.media, o.state, o.created, o.expires,
    o.ended or '', o.reason or '' }, '|')
  if o.ended and o.ended ~= '' then
    redis.call('SET', k('of', o.id), v, 'EX', ENDED_TTL)
  else
    redis.call('SET', k('of', o.id), v)
  end
end

-- push_offer appends offer o to list as it travels back to Go: 9
-- strings (Go: parseOffer).
local function push_offer(list, o)
  local n = #list
  list[n + 1], list[n + 2], list[n + 3], list[n + 4], list[n + 5] = o.id, o.conv, o.agent, o.queue, o.state
  list[n + 6], list[n + 7], list[n + 8], list[n + 9] = o.created, o.expires, o.ended or '', o.reason or ''
  return list
end

local function score_of(q, prio, enq)
  if q and q.aging then return (100 - prio) * AGING_UNIT + enq - EPOCH end
  return (100 - prio) * PRIO_UNIT + enq - EPOCH
end

-- class_member is waiting task t's member in its class set, built from
-- its wait-set member t.mem (which holds the exclusion flag as placed).
local function class_member(t)
  return pad16(t.score) .. t.mem:sub(1, 19) .. t.mem:sub(21, 21)
end

-- RANGES caches, per call, the first members of class sets as read from
-- index 0 (at most 4, complete = the set holds no more), kept in step
-- with the removals this call makes and dropped on any other write, so
-- that taking a class's head tells its next head without another read.
local RANGES = {}

-- class_added: member cmem was added to class req (key) of queue qid,
-- media m; when it comes first, it replaces the class's first entry. The
-- class's first two members are read (and kept in RANGES) to know.
local function class_added(qid, m, req, key, cmem)
  local v = redis.call('ZRANGE', key, '0', '1')
  v.complete = #v < 2
  RANGES[key] = v
  if v[1] == cmem then
    if v[2] then redis.call('ZREM', firsts_key(qid, m), v[2] .. '|' .. req) end
    redis.call('ZADD', firsts_key(qid, m), '0', cmem .. '|' .. req)
  end
end

-- class_removed: member cmem was removed from class req (key) of queue
-- qid, media m; when it was first, the next member's entry replaces it
-- (none: the class is gone).
local function class_removed(qid, m, req, key, cmem)
  local first = redis.call('ZREM', firsts_key(qid, m), cmem .. '|' .. req) == 1
  local r, head = RANGES[key], nil
  if r then
    for i, x in ipairs(r) do
      if x == cmem then
        table.remove(r, i)
        break
      end
    end
    if #r > 0 then
      head = r[1]
    elseif r.complete then
      head = false
    else
      RANGES[key] = nil
    end
  end
  if not first then return end
  if head == nil then head = redis.call('ZRANGE', key, '0', '0')[1] or false end
  if head then redis.call('ZADD', firsts_key(qid, m), '0', head .. '|' .. req) end
end

-- classes lists the requirement classes of queue qid's waiting tasks of
-- media m, in the order of their first tasks.
local function classes(qid, m)
  local out = {}
  for i, e in ipairs(redis.call('ZRANGE', firsts_key(qid, m), '0', '-1')) do out[i] = e:sub(38) end
  return out
end

-- clear_waiting deletes queue qid's class sets (reconcile rebuilds them).
local function clear_waiting(qid)
  for _, m in ipairs(MEDIA) do
    for _, req in ipairs(classes(qid, m)) do
      redis.call('DEL', class_key(qid, m, req))
      RANGES[class_key(qid, m, req)] = nil
    end
    redis.call('DEL', firsts_key(qid, m))
  end
end

-- unplace takes a queued task out of its class set (or its target's
-- direct set).
local function unplace(t)
  if t.mem == '' then return end
  if t.target ~= '' then
    if redis.call('ZREM', k('a', t.target, 'direct'), t.mem) == 1 then
      local a = agent(t.target)
      if a then
        a.ndirect = a.ndirect - 1
        save(a)
      end
    end
  else
    local req, cmem = t.mem:sub(23), class_member(t)
    local key = class_key(t.queue, t.media, req)
    if redis.call('ZREM', key, cmem) == 1 then class_removed(t.queue, t.media, req, key, cmem) end
  end
  t.mem = ''
end

-- place puts task t (of queue q) among the waiting: its class set (t.mem
-- "<pad(conv)>|<x or ->|<req>", the exclusion flag as placed and the
-- class), or for a direct transfer its target's direct set (t.mem the
-- member "<pad(conv)>|<media>|<queue>"). fresh: new_task writes the task.
local function place(t, q, fresh)
  local mem
  if t.target ~= '' then
    mem = pad(t.conv) .. '|' .. t.media .. '|' .. t.queue
    if redis.call('ZADD', k('a', t.target, 'direct'), istr(t.score), mem) == 1 then
      local a = agent(t.target)
      if a then
        a.ndirect = a.ndirect + 1
        save(a)
      end
    end
  else
    local req = eff_req(t, q)
    mem = pad(t.conv) .. (t.nexcl > 0 and '|x|' or '|-|') .. req
    t.mem = mem
    local key = class_key(t.queue, t.media, req)
    if redis.call('ZADD', key, istr(t.score), class_member(t)) == 1 then
      class_added(t.queue, t.media, req, key, class_member(t))
    end
  end
  t.mem, t.state, t.offers = mem, 'queued', {}
  if not fresh then redis.call('HSET', k('t', t.conv), 'state', 'queued', 'offers', '', 'mem', mem) end
end

-- make_offer reserves agent a for task t of queue q. It answers false
-- when the id pool is used up (nothing was written then).
local function make_offer(a, t, q)
  if ids_used >= NIDS then return false end
  ids_used = ids_used + 1
  local oid = A[5] .. '-' .. istr(ids_used)
  local exp = NOW + q.timeout
  local o = { id = oid, conv = t.conv, agent = a.id, queue = q.id, media = t.media,
    state = 'pending', created = istr(NOW), expires = istr(exp) }
  store_offer(o)
  redis.call('ZADD', k('expiry'), o.expires, oid)
  a.offers[#a.offers + 1] = oid
  a.last = NOW
  add_count(a, 'pend', t.media, 1)
  if t.state == 'queued' then unplace(t) end
  t.state = 'offered'
  t.offers[#t.offers + 1] = oid
  redis.call('HSET', k('t', t.conv), 'state', 'offered', 'offers', table.concat(t.offers, ' '), 'mem', '')
  push_offer(OUT_OFFERED, o)
  return true
end

-- end_offer moves pending offer o to state (the compare-and-set is the
-- caller's check o.state == 'pending'). The slot is freed unless the
-- offer was accepted, in which case it becomes an assigned conversation.
-- The task is the caller's business.
local function end_offer(o, state, reason)
  o.state, o.ended, o.reason = state, istr(NOW), reason or state
  store_offer(o)
  redis.call('ZREM', k('expiry'), o.id)
  local a = agent(o.agent)
  if a then
    local i = has(a.offers, o.id)
    if i then table.remove(a.offers, i) end
    if state == 'accepted' then
      a.pend[o.media] = math.max(a.pend[o.media] - 1, 0)
      a.miss = 0
      add_count(a, 'asg', o.media, 1)
    else
      add_count(a, 'pend', o.media, -1)
    end
  end
  push_offer(OUT_ENDED, o)
  return a
end

-- set_idle starts agent a's voice idle time now.
local function set_idle(a)
  a.idle = NOW
  save(a)
end

------------------------------------------------------------------------
-- Tasks

local function exclude(t, aid)
  if redis.call('SADD', k('t', t.conv, 'excl'), aid) == 1 then
    t.nexcl = t.nexcl + 1
    redis.call('HSET', k('t', t.conv), 'nexcl', istr(t.nexcl))
    if EXCL[t.conv] then EXCL[t.conv][aid] = true end
  end
end

-- logged_in_match reports whether a member of q who is not offline has
-- the skills of requirement string req.
local function logged_in_match(q, req)
  local reqs = parse_req(req)
  for _, aid in ipairs(redis.call('SMEMBERS', k('q', q.id, 'members'))) do
    local a = agent(aid)
    if a and a.presence ~= 'offline' and satisfies(a, reqs) then return true end
  end
  return false
end

-- advance_step moves task t of queue q past expired steps and steps to
-- skip (from its current step on: steps only widen), stores the step and
-- schedules the next step change in P:steps (t.tm: scheduled there).
-- Direct transfers have none. fresh: t is new, never scheduled, and
-- new_task writes it whole afterwards.
local function advance_step(t, q, fresh)
  local n, i = 0, t.step
  if q and t.target == '' then n = #q.steps end
  while i < n do
    local st = q.steps[i + 1]
    local expired = st.exp > 0 and t.enq + st.exp <= NOW
    if not expired and not (st.skip and not logged_in_match(q, merge_req(st.req, t.req))) then break end
    i = i + 1
  end
  if i > n then i = n end
  local tm = i < n and q.steps[i + 1].exp > 0
  if tm and (fresh or i ~= t.step or not t.tm) then
    redis.call('ZADD', k('steps'), istr(t.enq + q.steps[i + 1].exp), t.conv)
  elseif not tm and t.tm then
    redis.call('ZREM', k('steps'), t.conv)
  end
  if i ~= t.step or tm ~= t.tm then
    t.step, t.tm = i, tm
    if not fresh then redis.call('HSET', k('t', t.conv), 'step', istr(i), 'tm', tm and '1' or '0') end
  end
end

local function delete_task(t)
  unplace(t)
  redis.call('DEL', k('t', t.conv), k('t', t.conv, 'excl'))
  redis.call('ZREM', k('q', t.queue, 'age'), t.conv)
  if t.tm then redis.call('ZREM', k('steps'), t.conv) end
  redis.call('SREM', k('tasks'), t.conv)
  tasks[t.conv] = false
end

-- new_task writes a task and places it among the waiting (or its
-- target's direct set); excl_aid, when not '', is excluded from the start.
-- Returns the task.
local function new_task(conv, q, media, prio, enq, req, pref, target, excl_aid)
  local score = score_of(q, prio, enq)
  local t = { conv = conv, queue = q.id, media = media, prio = prio, score = score, enq = enq,
    state = 'queued', offers = {}, nexcl = 0, req = req, pref = pref, target = target, step = 0,
    tm = false, mem = '' }
  tasks[conv] = t
  if excl_aid ~= '' and redis.call('SADD', k('t', conv, 'excl'), excl_aid) == 1 then t.nexcl = 1 end
  redis.call('ZADD', k('q', q.id, 'age'), istr(enq), conv)
  redis.call('SADD', k('tasks'), conv)
  advance_step(t, q, true)
  place(t, q, true)
  redis.call('HSET', k('t', conv), 'queue', q.id, 'media', media, 'prio', istr(prio),
    'enq', istr(enq), 'score', istr(score), 'req', req, 'state', 'queued', 'offers', '',
    'nexcl', istr(t.nexcl), 'pref', pref, 'target', target, 'step', istr(t.step),
    'tm', t.tm and '1' or '0', 'mem', t.mem)
  return t
end

------------------------------------------------------------------------
-- Work lists: queues to dispatch ("q<id>"), agents who pull ("a<id>")
-- and single tasks to offer ("t<conv>").

local WORK, WORK_SEEN

local function want(item)
  if not WORK_SEEN[item] then
    WORK_SEEN[item] = true
    WORK[#WORK + 1] = item
  end
end

local function want_queue(qid) want('q' .. qid) end
local function want_pull(aid) want('a' .. aid) end

-- requeue puts an offered task with no pending offer left back among the
-- waiting at its own score and asks for its queue to be dispatched.
local function requeue(t)
  place(t, queue(t.queue))
  want_queue(t.queue)
end

-- offer_gone does the task side of offer o ending other than accepted.
-- excl (rejected, missed): the agent is excluded for the task and a
-- direct transfer's target dropped (the task becomes an ordinary task of
-- its queue). The task goes back when no offer of it is pending.
local function offer_gone(o, excl)
  local t = task(o.conv)
  if not t or t.state ~= 'offered' then return end
  local i = has(t.offers, o.id)
  if not i then return end
  table.remove(t.offers, i)
  if excl then
    exclude(t, o.agent)
    if t.target ~= '' then
      t.target = ''
      redis.call('HSET', k('t', t.conv), 'target', '')
      advance_step(t, queue(t.queue))
    end
  end
  if #t.offers == 0 then
    requeue(t)
  else
    redis.call('HSET', k('t', t.conv), 'offers', table.concat(t.offers, ' '))
  end
end

-- cancel_agent_offers cancels every pending offer of agent aid (it went
-- away, offline or was removed): no miss, tasks back at their score when
-- no other offer of theirs is pending, and their queues dispatched.
-- Offers are canceled oldest first, so the reply's order is stable.
local function cancel_agent_offers(aid)
  local a, list = agent(aid), {}
  if not a then return end
  for _, oid in ipairs({ unpack(a.offers) }) do
    local o = offer(oid)
    if o and o.state == 'pending' then
      list[#list + 1] = o
    else
      table.remove(a.offers, has(a.offers, oid))
      save(a)
    end
  end
  table.sort(list, function(x, y)
    if x.created ~= y.created then return tonumber(x.created) < tonumber(y.created) end
    return x.id < y.id
  end)
  for _, o in ipairs(list) do
    end_offer(o, 'canceled')
    offer_gone(o, false)
  end
end

-- set_presence stores presence p for agent a.
local function set_presence(a, p)
  if a.presence == p then return end
  a.presence, a.since = p, NOW
  if p == 'available' then
    a.idle = NOW
    redis.call('SADD', k('avail'), a.id)
  else
    redis.call('SREM', k('avail'), a.id)
  end
  save(a)
end

-- missed counts a missed offer against agent a; at the miss limit the
-- agent is set away (its other offers canceled).
local function missed(a)
  a.miss = a.miss + 1
  save(a)
  if a.miss >= MISS_LIMIT and a.presence == 'available' then
    set_presence(a, 'away')
    cancel_agent_offers(a.id)
    local n = #OUT_AWAY
    OUT_AWAY[n + 1], OUT_AWAY[n + 2] = a.id, 'missed_offers'
  end
end

------------------------------------------------------------------------
-- Dispatch (a queue offers its head tasks) and pull (an agent takes the
-- best head task across its queues). Both answer false when the id pool
-- ran out before they finished.

-- free_members lists the members of queue qid free on media m as
-- candidates { id, skills }: their records are fetched in one call but
-- only decoded (eligible_free) once their skills qualify for a task.
local function free_members(qid, m)
  flush()
  local ids = redis.call('SINTER', k('q', qid, 'members'), k('free', m))
  prefetch(ids)
  local cands = {}
  for _, aid in ipairs(ids) do
    local sk = skills_of(aid)
    if sk then cands[#cands + 1] = { id = aid, skills = sk } end
  end
  return cands
end

-- eligible_free returns the agents among candidates cands with the skills
-- of requirement list reqs that are free on media m, decoded.
local function eligible_free(cands, reqs, m)
  local out = {}
  for _, c in ipairs(cands) do
    if satisfies(c, reqs) then
      local a = agent(c.id)
      if a and free(a, m) then out[#out + 1] = a end
    end
  end
  return out
end

-- RANK_PAT reads from an agent record only what ranks it on media m (see
-- better): idle, last, and the assigned, pending, wrap-up and capacity
-- counts of m. Matching it costs half a full decode, with no tables.
local RANK_PAT = {
  voice = '^%a+|%d+|(%d+)|(%d+)|%d+|%d+|%d+|(%d+)|%d+|%d+|(%d+)|%d+|%d+|(%d+)|%d+|%d+|[01]|(%d+)|',
  chat = '^%a+|%d+|(%d+)|(%d+)|%d+|%d+|%d+|%d+|(%d+)|%d+|%d+|(%d+)|%d+|%d+|(%d+)|%d+|[01]|%d+|(%d+)|',
  email = '^%a+|%d+|(%d+)|(%d+)|%d+|%d+|%d+|%d+|%d+|(%d+)|%d+|%d+|(%d+)|%d+|%d+|(%d+)|[01]|%d+|%d+|(%d+)|',
}

-- ranked_free returns the agents among candidates cands with the skills
-- of requirement list reqs that are free on media m, each as a decoded
-- agent when this call loaded it already, else as just what ranks it on
-- m (the free set says it is free: flush ran before it was read). Only
-- the agents chosen are decoded then (offer_task).
local function ranked_free(cands, reqs, m)
  local out = {}
  for _, c in ipairs(cands) do
    if satisfies(c, reqs) then
      local a = agents[c.id]
      if a == nil and RAW[c.id] then
        local idle, last, g, p, w, cap = RAW[c.id]:match(RANK_PAT[m])
        if idle then
          a = { id = c.id, skills = c.skills, idle = tonumber(idle), last = tonumber(last),
            cap = { [m] = num(cap) }, load = { [m] = num(g) + num(p) + num(w) }, light = true }
        end
      end
      if a and (a.light or free(a, m)) then out[#out + 1] = a end
    end
  end
  return out
end

-- choose picks the agents to offer task t of queue q among the eligible
-- agents elig: the preferred agent alone within the sticky window, else
-- the best ranked, up to the queue's parallel offers.
local function choose(q, t, elig, reqs)
  if q.sticky > 0 and t.pref ~= '' and NOW - t.enq < q.sticky then
    for _, a in ipairs(elig) do
      if a.id == t.pref then return { a } end
    end
  end
  local preqs = q.prof and reqs or nil
  if q.par <= 1 or #elig == 1 then
    local best = elig[1]
    for i = 2, #elig do
      if better(elig[i], best, t.media, preqs) then best = elig[i] end
    end
    return { best }
  end
  table.sort(elig, function(x, y) return better(x, y, t.media, preqs) end)
  local out = {}
  for i = 1, math.min(q.par, #elig) do out[i] = elig[i] end
  return out
end

-- offer_to makes offers of task t of queue q to each agent of chosen;
-- false when the id pool cannot cover them all (nothing written then).
local function offer_to(chosen, t, q)
  if ids_used + #chosen > NIDS then return false end
  for _, a in ipairs(chosen) do
    if not make_offer(a, t, q) then return false end
  end
  return true
end

-- live_task returns the task behind a direct-set member, dropping debris
-- (a member whose task is gone, not queued or placed elsewhere).
local function live_task(key, conv, mem)
  local t = task(conv)
  if t and t.state == 'queued' and t.mem == mem then return t end
  redis.call('ZREM', key, mem)
  return nil
end


-- class_task returns the task behind class member cmem of class c (of
-- queue qid, media m), dropping debris (a member whose task is gone, not
-- waiting or placed elsewhere).
local function class_task(qid, m, c, cmem)
  local t = task(unpad(cmem:sub(17, 35)))
  if t and t.state == 'queued' and t.target == '' and t.queue == qid and t.media == m
      and t.mem ~= '' and t.mem:sub(23) == c.req and class_member(t) == cmem then
    return t
  end
  redis.call('ZREM', c.key, cmem)
  class_removed(qid, m, c.req, c.key, cmem)
  return nil
end

-- class_head finds the first member of class c, from index c.skip on,
-- that one of the agents ok(conv) accepts when it carries the exclusion
-- flag (an unflagged member suits every agent of the class). Members
-- no agent accepts are skipped for good (c.skip grows): the agents of a
-- class only become fewer during one call. At most DEPTH members of a
-- class are looked at. Returns the member or nil.
local function class_head(c, ok)
  while c.skip < DEPTH do
    local v, last
    if c.skip == 0 then
      v = RANGES[c.key]
      if not v then
        v = redis.call('ZRANGE', c.key, '0', '3')
        v.complete = #v < 4
        RANGES[c.key] = v
      end
      last = v.complete
    else
      v = redis.call('ZRANGE', c.key, istr(c.skip), istr(c.skip + 3))
      last = #v < 4
    end
    for _, cmem in ipairs(v) do
      if cmem:byte(36) ~= 120 or ok(unpad(cmem:sub(17, 35))) then return cmem end
      c.skip = c.skip + 1
      if c.skip >= DEPTH then return nil end
    end
    if last then return nil end
  end
  return nil
end

-- dispatch_media offers the waiting tasks of media m of queue q, in
-- order, each to its chosen eligible agents: it repeatedly takes the
-- first head among the requirement classes some free member qualifies
-- for (see class_head) until no free member or no such head is left.
local function dispatch_media(q, m)
  local names = classes(q.id, m)
  if #names == 0 then return true end
  local cands = free_members(q.id, m)
  if #cands == 0 then return true end
  local cls = {}
  for _, req in ipairs(names) do
    local reqs = parse_req(req)
    local elig = eligible_free(cands, reqs, m)
    if #elig > 0 then
      cls[#cls + 1] = { req = req, reqs = reqs, key = class_key(q.id, m, req), elig = elig, skip = 0 }
    end
  end
  while true do
    local best, live = nil, {}
    for _, c in ipairs(cls) do
      local el = {}
      for _, a in ipairs(c.elig) do
        if free(a, m) then el[#el + 1] = a end
      end
      c.elig = el
      if #el > 0 then
        c.head = class_head(c, function(conv)
          for _, a in ipairs(el) do
            if not excluded(conv, a.id, true) then return true end
          end
          return false
        end)
        if c.head then
          live[#live + 1] = c
          if best == nil or c.head < best.head then best = c end
        end
      end
    end
    if best == nil then return true end
    cls = live
    local cmem = best.head
    local t = class_task(q.id, m, best, cmem)
    if t then
      local flagged = cmem:byte(36) == 120
      local elig = {}
      for _, a in ipairs(best.elig) do
        if not excluded(t.conv, a.id, flagged) then elig[#elig + 1] = a end
      end
      if not offer_to(choose(q, t, elig, best.reqs), t, q) then return false end
    end
  end
end

local function dispatch_queue(qid)
  local q = queue(qid)
  if not q or q.paused then return true end
  for _, m in ipairs(MEDIA) do
    if not dispatch_media(q, m) then return false end
  end
  return true
end

-- offer_task offers one queued task: a direct transfer to its target,
-- else to its chosen eligible members (a new task is tried even when more
-- than DEPTH tasks nobody can take wait ahead of it).
local function offer_task(conv)
  local t = task(conv)
  if not t or t.state ~= 'queued' then return true end
  local q = queue(t.queue)
  if not q then return true end
  if t.target ~= '' then
    local a = agent(t.target)
    if a and free(a, t.media) and not excluded(conv, a.id, t.nexcl > 0) then
      return offer_to({ a }, t, q)
    end
    return true
  end
  if q.paused then return true end
  local reqs = parse_req(eff_req(t, q))
  local elig = {}
  for _, a in ipairs(ranked_free(free_members(q.id, t.media), reqs, t.media)) do
    if not excluded(conv, a.id, t.nexcl > 0) then elig[#elig + 1] = a end
  end
  if #elig == 0 then return true end
  local chosen = {}
  for _, x in ipairs(choose(q, t, elig, reqs)) do
    local a = agent(x.id)
    if a and free(a, t.media) then chosen[#chosen + 1] = a end
  end
  return offer_to(chosen, t, q)
end

-- qualifying_classes appends to cands the classes of queue q's waiting
-- tasks of media m that agent a qualifies for, each with its first
-- member (head). Past the first whose head has no exclusions (any
-- qualified agent may take it) the others come later.
local function qualifying_classes(cands, q, m, a)
  for _, e in ipairs(redis.call('ZRANGE', firsts_key(q.id, m), '0', '-1')) do
    local req = e:sub(38)
    if satisfies(a, parse_req(req)) then
      cands[#cands + 1] = { q = q, m = m, req = req, key = class_key(q.id, m, req), head = e:sub(1, 36), skip = 0 }
      if e:byte(36) ~= 120 then return end
    end
  end
end

-- first_eligible returns the first waiting task that agent a may take
-- among candidate classes cands, as its class member (members compare as
-- the tasks order), and its class. A head without exclusions is taken as
-- it is; a class whose head has them is looked into (class_head). No
-- class is looked into once its head is worse than the best found.
local function first_eligible(cands, a)
  table.sort(cands, function(x, y) return x.head < y.head end)
  local ok = function(conv) return not excluded(conv, a.id, true) end
  local bmem, bc = nil, nil
  for _, c in ipairs(cands) do
    if bmem and c.head > bmem then break end
    local cmem = c.head
    if cmem:byte(36) == 120 then cmem = class_head(c, ok) end
    if cmem and (bmem == nil or cmem < bmem) then bmem, bc = cmem, c end
  end
  return bmem, bc
end

-- pull_direct offers agent a the first direct transfer it can take.
-- Returns offered, ok (ok false: id pool used up).
local function pull_direct(a)
  local key = k('a', a.id, 'direct')
  for _, mem in ipairs(redis.call('ZRANGE', key, '0', istr(DEPTH - 1))) do
    local c, m, qid = mem:match('^(%d+)|(%a+)|(%d+)$')
    if free(a, m) then
      local t = live_task(key, unpad(c), mem)
      local q = queue(qid)
      if t and q and not excluded(t.conv, a.id, t.nexcl > 0) then
        if not offer_to({ a }, t, q) then return false, false end
        return true, true
      end
    end
  end
  return false, true
end

local function pull_agent(aid)
  local a = agent(aid)
  if not a or a.presence ~= 'available' then return true end
  local qids = redis.call('SMEMBERS', k('a', aid, 'queues'))
  load_queues(qids)
  local qs = {}
  for _, qid in ipairs(qids) do
    local q = queues[qid]
    if q and not q.paused then qs[#qs + 1] = q end
  end
  table.sort(qs, function(x, y)
    if x.prio ~= y.prio then return x.prio > y.prio end
    return idless(x.id, y.id)
  end)
  while a.presence == 'available' do
    local any = false
    for _, m in ipairs(MEDIA) do
      if free(a, m) then any = true end
    end
    if not any then return true end
    local took = false
    if a.ndirect > 0 then
      local ok
      took, ok = pull_direct(a)
      if not ok then return false end
    end
    if not took then
      -- the best task of the highest priority queues that have one
      local bmem, bc, i = nil, nil, 1
      while not bmem and i <= #qs do
        local cands, prio = {}, qs[i].prio
        while i <= #qs and qs[i].prio == prio do
          for _, m in ipairs(MEDIA) do
            if free(a, m) then qualifying_classes(cands, qs[i], m, a) end
          end
          i = i + 1
        end
        bmem, bc = first_eligible(cands, a)
      end
      if not bmem then return true end
      local t = class_task(bc.q.id, bc.m, bc, bmem)
      if t then
        if not offer_to({ a }, t, bc.q) then return false end
      end
    end
  end
  return true
end

-- run_work does the queued work in order; what the id pool could not
-- cover goes back to Go in OUT_MORE, to be finished by dispatch.lua.
local function run_work()
  for i, item in ipairs(WORK) do
    local kind, id = item:sub(1, 1), item:sub(2)
    local done
    if kind == 'q' then
      done = dispatch_queue(id)
    elseif kind == 'a' then
      done = pull_agent(id)
    else
      done = offer_task(id)
    end
    if not done then
      for j = i, #WORK do OUT_MORE[#OUT_MORE + 1] = WORK[j] end
      return
    end
  end
end

-- release frees one assigned slot of media m of agent a (never below 0);
-- with wrap_ms > 0 the slot stays taken (as wrap-up) until NOW + wrap_ms,
-- when expire.lua frees it. A voice slot freed now starts idle time.
local function release(a, m, wrap_ms)
  if a.asg[m] <= 0 then return end
  if wrap_ms > 0 then
    a.wseq = a.wseq + 1
    redis.call('ZADD', k('wrap'), istr(NOW + wrap_ms), a.id .. '|' .. m .. '|' .. istr(a.wseq))
    a.wrap[m] = a.wrap[m] + 1
    add_count(a, 'asg', m, -1)
  else
    add_count(a, 'asg', m, -1)
    if m == 'voice' then set_idle(a) end
  end
end

-- begin starts a call: every script and function runs it first, with its
-- KEYS and ARGV. Caches of pure decodings (requirements, skills) are kept
-- between calls of a loaded function library, and emptied when large.
local function begin(keys, args)
  P, A = keys[1], args
  NOW, DEPTH, MISS_LIMIT, NIDS = tonumber(args[1]), num(args[2]), num(args[3]), num(args[4])
  ids_used = 0
  OUT_OFFERED, OUT_ENDED, OUT_MORE, OUT_AWAY = {}, {}, {}, {}
  WORK, WORK_SEEN = {}, {}
  DIRTY, RANGES = {}, {}
  reset_cache()
  if NREQS > 4096 then REQS, NREQS, SKILLS = {}, 0, {} end
end
