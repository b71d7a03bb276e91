-- lib.lua: shared by every mutating script. router.go prepends it to each
-- script's body, so each script is one chunk (one EVALSHA) and these locals
-- are visible to the body.
--
-- Calling convention (see doc.go):
--   KEYS[1]  the hash tag, e.g. "{parley}"; every key name is built from it.
--   ARGV[1]  now in Unix milliseconds
--   ARGV[2]  scan depth
--   ARGV[3]  n, the number of offer ids that follow
--   ARGV[4 .. 3+n]  fresh offer ids (a pool; unused ones are discarded)
--   ARGV[4+n ..]    the script's own arguments, read with arg(i)
--
-- Reply: { code, message, offered, ended, more, extra }
--   code, message  "" and "" on success, else a parley error code and message
--   offered, ended lists of offer records (see offer_record)
--   more           work items left undone because the id pool ran out
--   extra          a script-specific value (a list of strings)
--
-- Every number is an integer below 2^53. Numbers are turned into strings
-- only with istr (string.format %d), never with tostring or "..", which
-- would print 15-digit scores in exponent form.

local P = KEYS[1]
local NOW = tonumber(ARGV[1])
local DEPTH = tonumber(ARGV[2])
local NIDS = tonumber(ARGV[3])
local ids_used = 0

local MEDIA = { 'voice', 'chat', 'email' }
local ENDED_TTL = 3600 -- seconds an ended offer stays readable

local OUT_OFFERED, OUT_ENDED, OUT_MORE = {}, {}, {}

local function arg(i) return ARGV[3 + NIDS + i] end

local function istr(n) return string.format('%d', n) end

local function k(...) return P .. ':' .. table.concat({ ... }, ':') end

-- idless compares two decimal ids (no sign, no leading zeros) numerically.
local function idless(a, b)
  if #a ~= #b then return #a < #b end
  return a < b
end

-- pad turns a conversation id into its ZSET member: 19 digits, so that
-- equal scores order by conversation id.
local function pad(conv) return string.rep('0', 19 - #conv) .. conv end

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
  return { code, msg, OUT_OFFERED, OUT_ENDED, OUT_MORE, extra or {} }
end

local function fail(code, msg) return reply(code, msg) end

------------------------------------------------------------------------
-- Cached reads. Tables are loaded once per script call and kept in step
-- with every write this script makes.

local queues, agents, tasks = {}, {}, {}

local function reset_cache() queues, agents, tasks = {}, {}, {} end

local function queue(qid)
  local q = queues[qid]
  if q == nil then
    local v = redis.call('HMGET', k('q', qid), 'prio', 'timeout')
    if v[1] then
      q = { id = qid, prio = tonumber(v[1]), timeout = tonumber(v[2]) }
    else
      q = false
    end
    queues[qid] = q
  end
  return q
end

-- agent loads an agent hash: presence, idle, last, cap:<m>, asg:<m>,
-- pend:<m> and one s:<skill> field per skill (so one HGETALL gives
-- everything eligibility needs).
local function agent(aid)
  local a = agents[aid]
  if a == nil then
    local h = hash(k('a', aid))
    if h then
      a = { id = aid, presence = h.presence, idle = tonumber(h.idle) or 0,
        last = tonumber(h.last) or 0, cap = {}, asg = {}, pend = {}, load = {}, skills = {} }
      for _, m in ipairs(MEDIA) do
        a.cap[m] = tonumber(h['cap:' .. m]) or 0
        a.asg[m] = tonumber(h['asg:' .. m]) or 0
        a.pend[m] = tonumber(h['pend:' .. m]) or 0
        a.load[m] = a.asg[m] + a.pend[m]
      end
      for f, v in pairs(h) do
        if f:sub(1, 2) == 's:' then a.skills[f:sub(3)] = tonumber(v) end
      end
    else
      a = false
    end
    agents[aid] = a
  end
  return a
end

-- add_count changes slot counter kind ('asg' or 'pend') of media m by d,
-- never below 0.
local function add_count(a, kind, m, d)
  local t = a[kind]
  local n = t[m] + d
  if n < 0 then n = 0 end
  t[m] = n
  a.load[m] = a.asg[m] + a.pend[m]
  redis.call('HSET', k('a', a.id), kind .. ':' .. m, istr(n))
end

local function task(conv)
  local t = tasks[conv]
  if t == nil then
    local h = hash(k('t', conv))
    if h then
      t = { conv = conv, mem = pad(conv), queue = h.queue, media = h.media,
        score = tonumber(h.score), enq = tonumber(h.enq), state = h.state,
        offer = h.offer or '', nexcl = tonumber(h.nexcl) or 0, reqjson = h.req or '' }
    else
      t = false
    end
    tasks[conv] = t
  end
  return t
end

local function excluded(t, aid)
  if t.nexcl == 0 then return false end
  if t.excl == nil then
    t.excl = {}
    for _, x in ipairs(redis.call('SMEMBERS', k('t', t.conv, 'excl'))) do t.excl[x] = true end
  end
  return t.excl[aid] == true
end

local function requires(t)
  if t.req == nil then
    if t.reqjson == '' or t.reqjson == '{}' then
      t.req = false
    else
      t.req = cjson.decode(t.reqjson)
    end
  end
  return t.req
end

-- eligible reports whether agent a may be offered task t now. Queue
-- membership is the caller's business (it found a through the queue's
-- members or t through the agent's queues).
local function eligible(a, t)
  if not a or a.presence ~= 'available' then return false end
  local m = t.media
  if a.load[m] == nil or a.load[m] >= a.cap[m] then return false end
  if excluded(t, a.id) then return false end
  local req = requires(t)
  if req then
    local s = a.skills
    for name, lvl in pairs(req) do
      local have = s[name] or 0
      if have < tonumber(lvl) then return false end
    end
  end
  return true
end

-- better reports whether agent a ranks above agent b for media m.
local function better(a, b, m)
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

-- make_offer reserves agent a for task t of queue q. It answers false
-- when the id pool is used up (nothing was written then).
local function make_offer(a, t, q)
  local oid
  repeat
    if ids_used >= NIDS then return false end
    ids_used = ids_used + 1
    oid = ARGV[3 + ids_used]
  until redis.call('EXISTS', k('o', oid)) == 0
  local exp = NOW + q.timeout
  local o = { id = oid, conv = t.conv, agent = a.id, queue = q.id, media = t.media,
    state = 'pending', created = istr(NOW), expires = istr(exp) }
  redis.call('HSET', k('o', oid), 'conv', o.conv, 'agent', o.agent, 'queue', o.queue,
    'media', o.media, 'state', o.state, 'created', o.created, 'expires', o.expires)
  redis.call('ZADD', k('expiry'), exp, oid)
  redis.call('SADD', k('a', a.id, 'offers'), oid)
  add_count(a, 'pend', t.media, 1)
  a.last = NOW
  redis.call('HSET', k('a', a.id), 'last', istr(NOW))
  redis.call('ZREM', wait_key(t.queue, t.media), t.mem)
  redis.call('HSET', k('t', t.conv), 'state', 'offered', 'offer', oid)
  t.state, t.offer = 'offered', oid
  OUT_OFFERED[#OUT_OFFERED + 1] = offer_record(o)
  return true
end

-- end_offer moves pending offer o to state (the compare-and-set is the
-- caller's check o.state == 'pending'). The slot is freed unless the
-- offer was accepted, in which case it becomes an assigned conversation.
-- The task is the caller's business.
local function end_offer(o, state)
  o.state, o.ended, o.reason = state, istr(NOW), state
  redis.call('HSET', k('o', o.id), 'state', state, 'ended', o.ended, 'reason', o.reason)
  redis.call('EXPIRE', k('o', o.id), ENDED_TTL)
  redis.call('ZREM', k('expiry'), o.id)
  redis.call('SREM', k('a', o.agent, 'offers'), o.id)
  local a = agent(o.agent)
  if a then
    add_count(a, 'pend', o.media, -1)
    if state == 'accepted' then add_count(a, 'asg', o.media, 1) end
  end
  OUT_ENDED[#OUT_ENDED + 1] = offer_record(o)
  return a
end

------------------------------------------------------------------------
-- Tasks

-- requeue puts an offered task back among the waiting at its own score.
local function requeue(t)
  redis.call('ZADD', wait_key(t.queue, t.media), t.score, t.mem)
  redis.call('HSET', k('t', t.conv), 'state', 'queued', 'offer', '')
  t.state, t.offer = 'queued', ''
end

local function exclude(t, aid)
  if redis.call('SADD', k('t', t.conv, 'excl'), aid) == 1 then
    t.nexcl = t.nexcl + 1
    redis.call('HSET', k('t', t.conv), 'nexcl', istr(t.nexcl))
    if t.excl then t.excl[aid] = true end
  end
end

local function delete_task(t)
  redis.call('DEL', k('t', t.conv), k('t', t.conv, 'excl'))
  redis.call('ZREM', wait_key(t.queue, t.media), t.mem)
  redis.call('ZREM', k('q', t.queue, 'age'), t.conv)
  redis.call('SREM', k('tasks'), t.conv)
  tasks[t.conv] = false
end

------------------------------------------------------------------------
-- Dispatch (a queue offers its head tasks) and pull (an agent takes the
-- best head task across its queues). Both answer false when the id pool
-- ran out before they finished.

-- candidates lists the available members of queue qid with a free slot
-- of media m.
local function candidates(qid, m)
  local cands = {}
  for _, aid in ipairs(redis.call('SINTER', k('q', qid, 'members'), k('avail'))) do
    local a = agent(aid)
    if a and a.presence == 'available' and a.load[m] < a.cap[m] then cands[#cands + 1] = a end
  end
  return cands
end

-- best_agent returns the best-ranked agent of cands that may take task t.
local function best_agent(cands, t)
  local best = nil
  for _, a in ipairs(cands) do
    if eligible(a, t) and (best == nil or better(a, best, t.media)) then best = a end
  end
  return best
end

-- head_task returns the task behind a wait-set member, dropping debris
-- (a member whose task is gone or not queued).
local function head_task(qid, m, mem)
  local t = task(mem:match('^0*(%d+)$'))
  if t and t.state == 'queued' and t.queue == qid and t.media == m then return t end
  redis.call('ZREM', wait_key(qid, m), mem)
  return nil
end

-- dispatch_media offers the waiting tasks of media m of queue q, in
-- order, each to its best eligible agent, skipping at most DEPTH tasks
-- nobody free can take.
local function dispatch_media(q, m)
  if redis.call('ZCARD', wait_key(q.id, m)) == 0 then return true end
  local cands = candidates(q.id, m)
  local top = nil -- skill -> highest level among cands, built on first need
  local function reachable(t)
    local req = requires(t)
    if not req then return true end
    if not top then
      top = {}
      for _, a in ipairs(cands) do
        for name, lvl in pairs(a.skills) do
          if lvl > (top[name] or 0) then top[name] = lvl end
        end
      end
    end
    for name, lvl in pairs(req) do
      if (top[name] or 0) < tonumber(lvl) then return false end
    end
    return true
  end
  local skipped = 0
  while #cands > 0 do
    local heads = redis.call('ZRANGE', wait_key(q.id, m), skipped, skipped + DEPTH - 1)
    for _, mem in ipairs(heads) do
      local t = head_task(q.id, m, mem)
      if t then
        local best = reachable(t) and best_agent(cands, t)
        if best then
          if not make_offer(best, t, q) then return false end
          if best.load[m] >= best.cap[m] then
            for i, a in ipairs(cands) do
              if a == best then
                table.remove(cands, i)
                break
              end
            end
            if #cands == 0 then return true end
          end
        else
          skipped = skipped + 1
          if skipped >= DEPTH then return true end
        end
      end
    end
    if #heads < DEPTH then break end
  end
  return true
end

local function dispatch_queue(qid)
  local q = queue(qid)
  if not q then return true end
  for _, m in ipairs(MEDIA) do
    if not dispatch_media(q, m) then return false end
  end
  return true
end

-- offer_task offers one queued task to the best eligible member of its
-- queue: a new task is tried even when more than DEPTH tasks nobody can
-- take wait ahead of it.
local function offer_task(conv)
  local t = task(conv)
  if not t or t.state ~= 'queued' then return true end
  local q = queue(t.queue)
  if not q then return true end
  local best = best_agent(candidates(q.id, t.media), t)
  if best and not make_offer(best, t, q) then return false end
  return true
end

-- first_eligible returns the first task among the DEPTH head tasks of
-- media m of queue q that agent a may take.
local function first_eligible(q, m, a)
  for _, mem in ipairs(redis.call('ZRANGE', wait_key(q.id, m), 0, DEPTH - 1)) do
    local t = head_task(q.id, m, mem)
    if t and eligible(a, t) then return t end
  end
  return nil
end

local function pull_agent(aid)
  local a = agent(aid)
  if not a or a.presence ~= 'available' then return true end
  local qs = {}
  for _, qid in ipairs(redis.call('SMEMBERS', k('a', aid, 'queues'))) do
    local q = queue(qid)
    if q then qs[#qs + 1] = q end
  end
  table.sort(qs, function(x, y)
    if x.prio ~= y.prio then return x.prio > y.prio end
    return idless(x.id, y.id)
  end)
  while true do
    local bt, bq = nil, nil
    for _, q in ipairs(qs) do
      if bq and q.prio < bq.prio then break end
      for _, m in ipairs(MEDIA) do
        if a.load[m] < a.cap[m] then
          local t = first_eligible(q, m, a)
          if t and (bt == nil or t.score < bt.score or (t.score == bt.score and t.mem < bt.mem)) then
            bt, bq = t, q
          end
        end
      end
    end
    if not bt then return true end
    if not make_offer(a, bt, bq) then return false end
  end
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

-- cancel_agent_offers cancels every pending offer of agent aid (it went
-- away, offline or was removed): no miss, tasks back at their score and
-- their queues dispatched.
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
    local t = task(o.conv)
    if t and t.state == 'offered' and t.offer == o.id then
      requeue(t)
      want_queue(t.queue)
    end
  end
end

-- set_presence stores presence p for agent a.
local function set_presence(a, p)
  if a.presence == p then return end
  if p == 'available' then
    a.idle = NOW
    redis.call('HSET', k('a', a.id), 'presence', p, 'idle', istr(NOW))
    redis.call('SADD', k('avail'), a.id)
  else
    redis.call('HSET', k('a', a.id), 'presence', p)
    redis.call('SREM', k('avail'), a.id)
  end
  a.presence = p
end
