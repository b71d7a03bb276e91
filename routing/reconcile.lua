-- reconcile.lua: rebuild the routing state from PostgreSQL's truth in one
-- atomic step, then dispatch every queue (highest priority first).
-- args: snapshot JSON (ids as strings; see reconcile.go)
local snap = cjson.decode(arg(1))
local SQ, SA, ST = {}, {}, {}
for _, q in ipairs(snap.queues) do SQ[q.id] = q end
for _, a in ipairs(snap.agents) do SA[a.id] = a end
for _, t in ipairs(snap.tasks) do ST[t.conv] = t end

local old_queues = redis.call('SMEMBERS', k('queues'))
local old_agents = redis.call('SMEMBERS', k('agents'))
local old_tasks = redis.call('SMEMBERS', k('tasks'))

-- Queues whose wait and age sets are rebuilt from scratch.
local qids = {}
for _, qid in ipairs(old_queues) do qids[qid] = true end
for qid in pairs(SQ) do qids[qid] = true end
for _, t in ipairs(snap.tasks) do qids[t.queue] = true end
for _, conv in ipairs(old_tasks) do
  local t = task(conv)
  if t then qids[t.queue] = true end
end

-- 1. Pending offers. One stays when its agent is in the snapshot and
-- available and its task is in the snapshot (same queue and media) and
-- still lists it; the others are canceled. Then each agent's kept offers
-- are trimmed, newest first, to what its capacity leaves after the
-- assigned conversations and wrap-ups.
local oids, seen = {}, {}
local function note(oid)
  if not seen[oid] then
    seen[oid] = true
    oids[#oids + 1] = oid
  end
end
for _, oid in ipairs(redis.call('ZRANGE', k('expiry'), 0, -1)) do note(oid) end
for _, aid in ipairs(old_agents) do
  local a = agent(aid)
  if a then
    for _, oid in ipairs(a.offers) do note(oid) end
  end
end
local kept = {} -- agent id -> list of offers
for _, oid in ipairs(oids) do
  local o = offer(oid)
  if o and o.state == 'pending' then
    local st, t, a = ST[o.conv], task(o.conv), agent(o.agent)
    if st and SA[o.agent] and a and a.presence == 'available'
        and st.queue == o.queue and st.media == o.media
        and t and t.state == 'offered' and has(t.offers, oid) then
      kept[o.agent] = kept[o.agent] or {}
      table.insert(kept[o.agent], o)
    else
      end_offer(o, 'canceled')
    end
  else
    redis.call('ZREM', k('expiry'), oid)
  end
end
local valid = {} -- offer id -> true
local pend = {}  -- agent id -> media -> count
for aid, list in pairs(kept) do
  table.sort(list, function(x, y)
    if x.created ~= y.created then return tonumber(x.created) < tonumber(y.created) end
    return x.id < y.id
  end)
  local spec, a = SA[aid], agent(aid)
  pend[aid] = { voice = 0, chat = 0, email = 0 }
  for _, o in ipairs(list) do
    local m = o.media
    local used = (tonumber(spec.asg[m]) or 0) + a.wrap[m] + pend[aid][m]
    if used < (tonumber(spec.cap[m]) or 0) then
      valid[o.id] = true
      pend[aid][m] = pend[aid][m] + 1
    else
      end_offer(o, 'canceled')
    end
  end
end

-- 2. Tasks not in the snapshot go (their offers were canceled above).
for _, conv in ipairs(old_tasks) do
  if not ST[conv] then
    local t = task(conv)
    if t then delete_task(t) end
  end
end

-- 3. Agents: those not in the snapshot go; the others get the snapshot's
-- capacity, flag and skills, load = assigned + wrap-ups + kept offers;
-- presence, timestamps, miss streak and wrap-ups are kept (offline when
-- new). Queue sets are rebuilt in step 4, direct sets in step 5.
local olda = {}
for _, aid in ipairs(old_agents) do olda[aid] = agent(aid) end
for _, aid in ipairs(old_agents) do
  if not SA[aid] then
    redis.call('HDEL', k('ag'), aid)
    agents[aid] = false
  end
  redis.call('DEL', k('a', aid, 'queues'), k('a', aid, 'direct'))
end
for _, qid in ipairs(old_queues) do
  for _, aid in ipairs(redis.call('SMEMBERS', k('q', qid, 'members'))) do
    redis.call('DEL', k('a', aid, 'queues'))
  end
end
redis.call('DEL', k('agents'), k('avail'))
for _, spec in ipairs(snap.agents) do
  local aid = spec.id
  local a = olda[aid] or new_agent(aid)
  agents[aid] = a
  local p = pend[aid] or { voice = 0, chat = 0, email = 0 }
  redis.call('DEL', k('a', aid, 'queues'), k('a', aid, 'direct'))
  a.ndirect, a.vbd, a.offers = 0, spec.vbd == '1', {}
  for _, m in ipairs(MEDIA) do
    a.cap[m], a.asg[m], a.pend[m] = tonumber(spec.cap[m]) or 0, tonumber(spec.asg[m]) or 0, p[m]
  end
  local names = {}
  for name in pairs(spec.skills) do names[#names + 1] = name end
  table.sort(names)
  local parts = {}
  for i, name in ipairs(names) do parts[i] = name .. '=' .. istr(tonumber(spec.skills[name])) end
  set_skills(a, table.concat(parts, ','))
  save(a)
  local presence = a.presence
  for _, o in ipairs(kept[aid] or {}) do
    if valid[o.id] then a.offers[#a.offers + 1] = o.id end
  end
  redis.call('SADD', k('agents'), aid)
  if presence == 'available' then redis.call('SADD', k('avail'), aid) end
end

-- 4. Queues: those not in the snapshot go; the others get the snapshot's
-- config and members.
for _, qid in ipairs(old_queues) do
  redis.call('DEL', k('q', qid, 'members'))
end
redis.call('DEL', k('queues'), k('qcfg'))
local order = {}
for _, q in ipairs(snap.queues) do
  redis.call('HSET', k('qcfg'), q.id, q.cfg)
  for _, aid in ipairs(q.members) do
    redis.call('SADD', k('q', q.id, 'members'), aid)
    redis.call('SADD', k('a', aid, 'queues'), q.id)
  end
  redis.call('SADD', k('queues'), q.id)
  order[#order + 1] = parse_queue(q.id, q.cfg)
end

-- Fresh reads from here on (the rewritten agents stored first); the free
-- sets rebuilt from the rewritten agents.
flush()
redis.call('DEL', k('free', 'voice'), k('free', 'chat'), k('free', 'email'))
local oldt = tasks
reset_cache()
for _, spec in ipairs(snap.agents) do
  local a = agent(spec.id)
  for _, m in ipairs(MEDIA) do
    a.fr[m] = false
  end
  save(a)
end

-- 5. Tasks: written from the snapshot, offered if an offer of theirs
-- stayed, else waiting at their score (in their queue, or in the direct
-- set of their target when it is a known agent). Exclusions and the step
-- of tasks that were already here (same queue) are kept.
for qid in pairs(qids) do
  clear_waiting(qid)
  redis.call('DEL', k('q', qid, 'age'))
end
redis.call('DEL', k('tasks'), k('steps'))
for _, st in ipairs(snap.tasks) do
  local old = oldt[st.conv]
  local q = queue(st.queue)
  local offers, nexcl, step = {}, 0, 0
  if old then
    for _, oid in ipairs(old.offers) do
      if valid[oid] then offers[#offers + 1] = oid end
    end
    nexcl = old.nexcl
    if old.queue == st.queue then step = old.step end
  else
    redis.call('DEL', k('t', st.conv, 'excl'))
  end
  local target = st.target
  if target ~= '' and not SA[target] then target = '' end
  local score = score_of(q, st.prio, st.enq)
  if q and step > #q.steps then step = #q.steps end
  local t = { conv = st.conv, queue = st.queue, media = st.media, prio = st.prio, score = score,
    enq = st.enq, state = 'offered', offers = offers, nexcl = nexcl, req = st.req, pref = st.pref,
    target = target, step = step, tm = false, mem = '' }
  redis.call('DEL', k('t', st.conv))
  redis.call('HSET', k('t', st.conv), 'queue', st.queue, 'media', st.media, 'prio', istr(st.prio),
    'enq', istr(st.enq), 'score', istr(score), 'req', st.req, 'state', 'offered',
    'offers', table.concat(offers, ' '), 'nexcl', istr(nexcl), 'pref', st.pref, 'target', target,
    'step', istr(step), 'mem', '')
  tasks[st.conv] = t
  redis.call('ZADD', k('q', st.queue, 'age'), st.enq, st.conv)
  redis.call('SADD', k('tasks'), st.conv)
  advance_step(t, q)
  if #offers == 0 then place(t, q) end
end

-- 6. Dispatch every queue, highest priority first.
table.sort(order, function(x, y)
  if x.prio ~= y.prio then return x.prio > y.prio end
  return idless(x.id, y.id)
end)
for _, q in ipairs(order) do want_queue(q.id) end
run_work()
return reply('', '')
