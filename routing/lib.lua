-- lib.lua: shared by every mutating script. router.go prepends it to each
-- script's body, so each script is one chunk (one EVALSHA) and these locals
-- are visible to the body.
--
-- Calling convention (see doc.go):
--   KEYS[1]  the hash tag, e.g. "{parley}"; every key name is built from it.
--   ARGV[1]  now in Unix milliseconds
--   ARGV[2]  scan depth
--   ARGV[3]  miss limit (consecutive missed offers before away)
--   ARGV[4]  n, the number of offer ids that follow
--   ARGV[5 .. 4+n]  fresh offer ids (a pool; unused ones are discarded)
--   ARGV[5+n ..]    the script's own arguments, read with arg(i)
--
-- Reply: { code, message, offered, ended, more, extra, away }
--   code, message  "" and "" on success, else a parley error code and message
--   offered, ended lists of offer records (see offer_record)
--   more           work items left undone because the id pool ran out
--   extra          a script-specific value (a list of strings)
--   away           { agent, reason } of agents this call set away
--
-- Every number is an integer below 2^53. Numbers are turned into strings
-- only with istr (string.format %d), never with tostring or "..", which
-- would print 15-digit scores in exponent form.
--
-- Speed matters: each redis.call costs a few microseconds (its reply is
-- serialized and parsed back), so reads are cached per call, a waiting
-- task's eligibility is encoded in its ZSET member (no read of the task
-- to decide), and agents with a free slot are kept in per-media sets.

local P = KEYS[1]
local NOW = tonumber(ARGV[1])
local DEPTH = tonumber(ARGV[2])
local MISS_LIMIT = tonumber(ARGV[3])
local NIDS = tonumber(ARGV[4])
local ids_used = 0

local MEDIA = { 'voice', 'chat', 'email' }
local ENDED_TTL = 3600         -- seconds an ended offer stays readable
local CONV_TTL = 30 * 86400    -- seconds an accepted conversation's queue is remembered
local EPOCH = 1704067200000    -- 2024-01-01 in ms (Go: Epoch)
local PRIO_UNIT = 2199023255552 -- 2^41 (Go: timeBits)
local AGING_UNIT = 60000       -- ms one priority point is worth (Go: AgingStep)

local OUT_OFFERED, OUT_ENDED, OUT_MORE, OUT_AWAY = {}, {}, {}, {}

local function arg(i) return ARGV[4 + NIDS + i] end

local function istr(n) return string.format('%d', n) end

local function k(...) return P .. ':' .. table.concat({ ... }, ':') end

-- idless compares two decimal ids (no sign, no leading zeros) numerically.
local function idless(a, b)
  if #a ~= #b then return #a < #b end
  return a < b
end

-- pad turns a conversation id into the head of its ZSET member: 19
-- digits, so that equal scores order by conversation id.
local function pad(conv) return string.rep('0', 19 - #conv) .. conv end

local function unpad(s) return s:match('^0*(%d+)$') end

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

-- wait_key names the ZSET of a queue's waiting tasks of one media.
local function wait_key(qid, m) return k('q', qid, 'wait', m) end

local function hash(key)
  local v = redis.call('HGETALL', key)
  if #v == 0 then return nil end
  local h = {}
  for i = 1, #v, 2 do h[v[i]] = v[i + 1] end
  return h
end

local function reply(code, msg, extra)
  return { code, msg, OUT_OFFERED, OUT_ENDED, OUT_MORE, extra or {}, OUT_AWAY }
end

local function fail(code, msg) return reply(code, msg) end

------------------------------------------------------------------------
-- Requirements: "name=level,name=level" sorted by name ("" = none),
-- parsed once per call into lists of { name, level }.

local REQS = {}

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

local function reset_cache() queues, agents, tasks, EXCL = {}, {}, {}, {} end

-- parse_queue decodes a P:qcfg value (Go: QueueSpec.config):
-- prio|timeout|par|aging|prof|sticky|wrap|paused|steps, steps being
-- "expire_ms:skip:req;...".
local QPAT = '^(%d+)|(%d+)|(%d+)|(%d)|(%d)|(%d+)|(%d+)|(%d)|(.*)$'
local function parse_queue(qid, v)
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

-- agent loads an agent hash: presence, since, idle, last, miss, vbd,
-- ndirect, cap:<m>, asg:<m>, pend:<m>, wrap:<m> and one s:<skill> field
-- per skill (so one HGETALL gives everything eligibility needs).
local function agent(aid)
  local a = agents[aid]
  if a == nil then
    local v = redis.call('HGETALL', k('a', aid))
    if #v > 0 then
      local h, skills = {}, {}
      for i = 1, #v, 2 do
        local f = v[i]
        if f:byte(1) == 115 and f:byte(2) == 58 then -- "s:"
          skills[f:sub(3)] = tonumber(v[i + 1])
        else
          h[f] = v[i + 1]
        end
      end
      a = { id = aid, presence = h.presence, idle = tonumber(h.idle) or 0,
        last = tonumber(h.last) or 0, miss = tonumber(h.miss) or 0, vbd = h.vbd == '1',
        ndirect = tonumber(h.ndirect) or 0,
        cap = { voice = tonumber(h['cap:voice']) or 0, chat = tonumber(h['cap:chat']) or 0, email = tonumber(h['cap:email']) or 0 },
        asg = { voice = tonumber(h['asg:voice']) or 0, chat = tonumber(h['asg:chat']) or 0, email = tonumber(h['asg:email']) or 0 },
        pend = { voice = tonumber(h['pend:voice']) or 0, chat = tonumber(h['pend:chat']) or 0, email = tonumber(h['pend:email']) or 0 },
        wrap = { voice = tonumber(h['wrap:voice']) or 0, chat = tonumber(h['wrap:chat']) or 0, email = tonumber(h['wrap:email']) or 0 },
        load = {}, skills = skills, fr = {} }
      for _, m in ipairs(MEDIA) do
        a.load[m] = a.asg[m] + a.pend[m] + a.wrap[m]
        a.fr[m] = free(a, m)
      end
    else
      a = false
    end
    agents[aid] = a
  end
  return a
end

-- refresh brings agent a's membership of the P:free:<m> sets in step
-- with its state (a.fr is the membership as stored).
local function refresh(a)
  for _, m in ipairs(MEDIA) do
    local f = free(a, m)
    if f ~= a.fr[m] then
      if f then redis.call('SADD', k('free', m), a.id) else redis.call('SREM', k('free', m), a.id) end
      a.fr[m] = f
    end
  end
end

-- add_count changes slot counter kind ('asg', 'pend' or 'wrap') of media
-- m by d, never below 0; extra field/value pairs go into the same HSET.
local function add_count(a, kind, m, d, ...)
  local t = a[kind]
  local n = t[m] + d
  if n < 0 then n = 0 end
  t[m] = n
  a.load[m] = a.asg[m] + a.pend[m] + a.wrap[m]
  redis.call('HSET', k('a', a.id), kind .. ':' .. m, istr(n), ...)
  refresh(a)
end

local function task(conv)
  local t = tasks[conv]
  if t == nil then
    local h = hash(k('t', conv))
    if h then
      local offers = {}
      if h.offers and h.offers ~= '' then offers = split(h.offers, ' ') end
      t = { conv = conv, queue = h.queue, media = h.media, prio = tonumber(h.prio),
        score = tonumber(h.score), enq = tonumber(h.enq), state = h.state,
        offers = offers, nexcl = tonumber(h.nexcl) or 0, req = h.req or '',
        pref = h.pref or '', target = h.target or '', step = tonumber(h.step) or 0,
        mem = h.mem or '' }
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

-- A waiting task's member in its queue's wait set is
-- "<pad(conv)>|<x if it has exclusions, else ->|<effective requirement>"
-- (fixed offsets), so a dispatch or pull decides eligibility without
-- reading the task.
local function parse_member(mem)
  return unpad(mem:sub(1, 19)), mem:byte(21) == 120, mem:sub(23)
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

-- ranked_eligible: agent a may be offered a task of media m (conversation
-- conv, exclusions flagged, requirement list reqs).
local function eligible(a, m, conv, flagged, reqs)
  return a and free(a, m) and not excluded(conv, a.id, flagged) and satisfies(a, reqs)
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

local function offer(oid)
  local h = hash(k('o', oid))
  if h then
    h.id = oid
  end
  return h
end

-- offer_record is how an offer travels back to Go: all strings.
local function offer_record(o)
  return { o.id, o.conv, o.agent, o.queue, o.state, o.created, o.expires,
    o.ended or '', o.reason or '' }
end

local function score_of(q, prio, enq)
  if q and q.aging then return (100 - prio) * AGING_UNIT + enq - EPOCH end
  return (100 - prio) * PRIO_UNIT + enq - EPOCH
end

-- unplace takes a queued task out of its wait set (or its target's
-- direct set).
local function unplace(t)
  if t.mem == '' then return end
  if t.target ~= '' then
    if redis.call('ZREM', k('a', t.target, 'direct'), t.mem) == 1 then
      local a = agent(t.target)
      if a then
        a.ndirect = a.ndirect - 1
        redis.call('HINCRBY', k('a', t.target), 'ndirect', -1)
      end
    end
  else
    redis.call('ZREM', wait_key(t.queue, t.media), t.mem)
  end
  t.mem = ''
end

-- place puts task t (of queue q) among the waiting: its queue's wait set,
-- or for a direct transfer its target's direct set (member
-- "<pad(conv)>|<media>|<queue>").
local function place(t, q)
  local mem
  if t.target ~= '' then
    mem = pad(t.conv) .. '|' .. t.media .. '|' .. t.queue
    if redis.call('ZADD', k('a', t.target, 'direct'), t.score, mem) == 1 then
      local a = agent(t.target)
      if a then
        a.ndirect = a.ndirect + 1
        redis.call('HINCRBY', k('a', t.target), 'ndirect', 1)
      end
    end
  else
    mem = pad(t.conv) .. (t.nexcl > 0 and '|x|' or '|-|') .. eff_req(t, q)
    redis.call('ZADD', wait_key(t.queue, t.media), t.score, mem)
  end
  t.mem, t.state, t.offers = mem, 'queued', {}
  redis.call('HSET', k('t', t.conv), 'state', 'queued', 'offers', '', 'mem', mem)
end

-- make_offer reserves agent a for task t of queue q. It answers false
-- when the id pool is used up (nothing was written then).
local function make_offer(a, t, q)
  local oid
  repeat
    if ids_used >= NIDS then return false end
    ids_used = ids_used + 1
    oid = ARGV[4 + ids_used]
  until redis.call('EXISTS', k('o', oid)) == 0
  local exp = NOW + q.timeout
  local o = { id = oid, conv = t.conv, agent = a.id, queue = q.id, media = t.media,
    state = 'pending', created = istr(NOW), expires = istr(exp) }
  redis.call('HSET', k('o', oid), 'conv', o.conv, 'agent', o.agent, 'queue', o.queue,
    'media', o.media, 'state', o.state, 'created', o.created, 'expires', o.expires)
  redis.call('ZADD', k('expiry'), exp, oid)
  redis.call('SADD', k('a', a.id, 'offers'), oid)
  a.last = NOW
  add_count(a, 'pend', t.media, 1, 'last', o.created)
  if t.state == 'queued' then unplace(t) end
  t.state = 'offered'
  t.offers[#t.offers + 1] = oid
  redis.call('HSET', k('t', t.conv), 'state', 'offered', 'offers', table.concat(t.offers, ' '), 'mem', '')
  OUT_OFFERED[#OUT_OFFERED + 1] = offer_record(o)
  return true
end

-- end_offer moves pending offer o to state (the compare-and-set is the
-- caller's check o.state == 'pending'). The slot is freed unless the
-- offer was accepted, in which case it becomes an assigned conversation.
-- The task is the caller's business.
local function end_offer(o, state, reason)
  o.state, o.ended, o.reason = state, istr(NOW), reason or state
  redis.call('HSET', k('o', o.id), 'state', state, 'ended', o.ended, 'reason', o.reason)
  redis.call('EXPIRE', k('o', o.id), ENDED_TTL)
  redis.call('ZREM', k('expiry'), o.id)
  redis.call('SREM', k('a', o.agent, 'offers'), o.id)
  local a = agent(o.agent)
  if a then
    if state == 'accepted' then
      a.pend[o.media] = math.max(a.pend[o.media] - 1, 0)
      a.miss = 0
      add_count(a, 'asg', o.media, 1, 'pend:' .. o.media, istr(a.pend[o.media]), 'miss', '0')
    else
      add_count(a, 'pend', o.media, -1)
    end
  end
  OUT_ENDED[#OUT_ENDED + 1] = offer_record(o)
  return a
end

-- set_idle starts agent a's voice idle time now.
local function set_idle(a)
  a.idle = NOW
  redis.call('HSET', k('a', a.id), 'idle', istr(NOW))
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
-- schedules the next step change in P:steps. Direct transfers have none.
local function advance_step(t, q)
  local n, i = 0, t.step
  if q and t.target == '' then n = #q.steps end
  while i < n do
    local st = q.steps[i + 1]
    local expired = st.exp > 0 and t.enq + st.exp <= NOW
    if not expired and not (st.skip and not logged_in_match(q, merge_req(st.req, t.req))) then break end
    i = i + 1
  end
  if i > n then i = n end
  if i ~= t.step then
    t.step = i
    redis.call('HSET', k('t', t.conv), 'step', istr(i))
  end
  if i < n and q.steps[i + 1].exp > 0 then
    redis.call('ZADD', k('steps'), t.enq + q.steps[i + 1].exp, t.conv)
  else
    redis.call('ZREM', k('steps'), t.conv)
  end
end

local function delete_task(t)
  unplace(t)
  redis.call('DEL', k('t', t.conv), k('t', t.conv, 'excl'))
  redis.call('ZREM', k('q', t.queue, 'age'), t.conv)
  redis.call('ZREM', k('steps'), t.conv)
  redis.call('SREM', k('tasks'), t.conv)
  tasks[t.conv] = false
end

-- new_task writes a task and places it among the waiting (or its
-- target's direct set); excl_aid, when not '', is excluded from the start.
-- Returns the task.
local function new_task(conv, q, media, prio, enq, req, pref, target, excl_aid)
  local score = score_of(q, prio, enq)
  local t = { conv = conv, queue = q.id, media = media, prio = prio, score = score, enq = enq,
    state = 'queued', offers = {}, nexcl = 0, req = req, pref = pref, target = target, step = 0, mem = '' }
  redis.call('HSET', k('t', conv), 'queue', q.id, 'media', media, 'prio', istr(prio),
    'enq', istr(enq), 'score', istr(score), 'req', req, 'state', 'queued', 'offers', '',
    'nexcl', '0', 'pref', pref, 'target', target, 'step', '0', 'mem', '')
  tasks[conv] = t
  if excl_aid ~= '' then exclude(t, excl_aid) end
  redis.call('ZADD', k('q', q.id, 'age'), enq, conv)
  redis.call('SADD', k('tasks'), conv)
  advance_step(t, q)
  place(t, q)
  return t
end

local function has(list, x)
  for i, y in ipairs(list) do
    if y == x then return i end
  end
  return nil
end

------------------------------------------------------------------------
-- Work lists: queues to dispatch ("q<id>"), agents who pull ("a<id>")
-- and single tasks to offer ("t<conv>").

local WORK, WORK_SEEN = {}, {}

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
  local list = {}
  for _, oid in ipairs(redis.call('SMEMBERS', k('a', aid, 'offers'))) do
    local o = offer(oid)
    if o and o.state == 'pending' then
      list[#list + 1] = o
    else
      redis.call('SREM', k('a', aid, 'offers'), oid)
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
  if p == 'available' then
    a.idle = NOW
    redis.call('HSET', k('a', a.id), 'presence', p, 'since', istr(NOW), 'idle', istr(NOW))
    redis.call('SADD', k('avail'), a.id)
  else
    redis.call('HSET', k('a', a.id), 'presence', p, 'since', istr(NOW))
    redis.call('SREM', k('avail'), a.id)
  end
  a.presence = p
  refresh(a)
end

-- missed counts a missed offer against agent a; at the miss limit the
-- agent is set away (its other offers canceled).
local function missed(a)
  a.miss = a.miss + 1
  redis.call('HSET', k('a', a.id), 'miss', istr(a.miss))
  if a.miss >= MISS_LIMIT and a.presence == 'available' then
    set_presence(a, 'away')
    cancel_agent_offers(a.id)
    OUT_AWAY[#OUT_AWAY + 1] = { a.id, 'missed_offers' }
  end
end

------------------------------------------------------------------------
-- Dispatch (a queue offers its head tasks) and pull (an agent takes the
-- best head task across its queues). Both answer false when the id pool
-- ran out before they finished.

-- free_members lists the members of queue qid free on media m.
local function free_members(qid, m)
  local cands = {}
  for _, aid in ipairs(redis.call('SINTER', k('q', qid, 'members'), k('free', m))) do
    local a = agent(aid)
    if a and free(a, m) then cands[#cands + 1] = a end
  end
  return cands
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

-- live_task returns the task behind a wait-set member, dropping debris
-- (a member whose task is gone, not queued or placed elsewhere).
local function live_task(key, conv, mem)
  local t = task(conv)
  if t and t.state == 'queued' and t.mem == mem then return t end
  redis.call('ZREM', key, mem)
  return nil
end

-- dispatch_media offers the waiting tasks of media m of queue q, in
-- order, each to its chosen eligible agents, skipping at most DEPTH tasks
-- nobody free can take.
local function dispatch_media(q, m)
  local key = wait_key(q.id, m)
  local heads = redis.call('ZRANGE', key, 0, DEPTH - 1)
  if #heads == 0 then return true end
  local cands = free_members(q.id, m)
  if #cands == 0 then return true end
  local skipped, first = 0, true
  while true do
    if not first then heads = redis.call('ZRANGE', key, skipped, skipped + DEPTH - 1) end
    first = false
    for _, mem in ipairs(heads) do
      local conv, flagged, req = parse_member(mem)
      local reqs = parse_req(req)
      local elig = {}
      for _, a in ipairs(cands) do
        if eligible(a, m, conv, flagged, reqs) then elig[#elig + 1] = a end
      end
      local t = #elig > 0 and live_task(key, conv, mem)
      if t then
        if not offer_to(choose(q, t, elig, reqs), t, q) then return false end
        local left = {}
        for _, a in ipairs(cands) do
          if free(a, m) then left[#left + 1] = a end
        end
        cands = left
        if #cands == 0 then return true end
      elseif #elig == 0 then
        skipped = skipped + 1
        if skipped >= DEPTH then return true end
      end
    end
    if #heads < DEPTH then return true end
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
  for _, a in ipairs(free_members(q.id, t.media)) do
    if eligible(a, t.media, conv, t.nexcl > 0, reqs) then elig[#elig + 1] = a end
  end
  if #elig == 0 then return true end
  return offer_to(choose(q, t, elig, reqs), t, q)
end

-- first_eligible returns the member and score of the first of the DEPTH
-- head tasks of media m of queue q that agent a may take (a is free on
-- m). Heads are read in growing chunks, without scores (formatting scores
-- costs more than the rest of a pull).
local function first_eligible(q, m, a)
  local key = wait_key(q.id, m)
  local from, chunk = 0, 4
  while from < DEPTH do
    local to = math.min(from + chunk, DEPTH) - 1
    local heads = redis.call('ZRANGE', key, from, to)
    for _, mem in ipairs(heads) do
      local ok
      if #mem == 22 then -- no requirement
        ok = mem:byte(21) ~= 120 or not excluded(unpad(mem:sub(1, 19)), a.id, true)
      else
        local req = mem:sub(23)
        ok = satisfies(a, parse_req(req)) and (mem:byte(21) ~= 120 or not excluded(unpad(mem:sub(1, 19)), a.id, true))
      end
      if ok then return mem, tonumber(redis.call('ZSCORE', key, mem)) end
    end
    if #heads < to - from + 1 then return nil end
    from = to + 1
    chunk = chunk * 4
  end
  return nil
end

-- pull_direct offers agent a the first direct transfer it can take.
-- Returns offered, ok (ok false: id pool used up).
local function pull_direct(a)
  local key = k('a', a.id, 'direct')
  for _, mem in ipairs(redis.call('ZRANGE', key, 0, DEPTH - 1)) do
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
      local bmem, bscore, bq, bm = nil, nil, nil, nil
      for _, q in ipairs(qs) do
        if bq and q.prio < bq.prio then break end
        for _, m in ipairs(MEDIA) do
          if free(a, m) then
            local mem, score = first_eligible(q, m, a)
            if mem and (bmem == nil or score < bscore or (score == bscore and mem < bmem)) then
              bmem, bscore, bq, bm = mem, score, q, m
            end
          end
        end
      end
      if not bmem then return true end
      local t = live_task(wait_key(bq.id, bm), (parse_member(bmem)), bmem)
      if t then
        if not offer_to({ a }, t, bq) then return false end
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
    local seq = redis.call('HINCRBY', k('a', a.id), 'wseq', 1)
    redis.call('ZADD', k('wrap'), NOW + wrap_ms, a.id .. '|' .. m .. '|' .. istr(seq))
    a.wrap[m] = a.wrap[m] + 1
    add_count(a, 'asg', m, -1, 'wrap:' .. m, istr(a.wrap[m]))
  else
    add_count(a, 'asg', m, -1)
    if m == 'voice' then set_idle(a) end
  end
end
