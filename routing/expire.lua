-- expire.lua: the timers. Up to 100 due items of each kind, in order:
--  1. offers past expiry: compare-and-set pending -> timeout, slot freed,
--     agent excluded for the task and its miss streak grown (at the limit
--     it is set away), task back at its score when no other offer of it
--     is pending, its queue dispatched;
--  2. wrap-ups ended: the slot frees (voice starts idle time);
--  3. step changes: the task moves to its next step(s); waiting, it is
--     re-encoded and its queue dispatched; offered, its offers stand.
-- Then the agents of 1 and 2 pull, in that order.
-- args: none. extra: { number of items examined }
local LIMIT = 100
local pulls = {}
local due = redis.call('ZRANGEBYSCORE', k('expiry'), '-inf', NOW, 'LIMIT', 0, LIMIT)
for _, oid in ipairs(due) do
  local o = offer(oid)
  if o and o.state == 'pending' then
    local a = end_offer(o, 'timeout')
    if a and o.media == 'voice' then set_idle(a) end
    offer_gone(o, true)
    if a then missed(a) end
    pulls[#pulls + 1] = o.agent
  else
    redis.call('ZREM', k('expiry'), oid)
  end
end
local wraps = redis.call('ZRANGEBYSCORE', k('wrap'), '-inf', NOW, 'LIMIT', 0, LIMIT)
for _, w in ipairs(wraps) do
  redis.call('ZREM', k('wrap'), w)
  local aid, m = w:match('^(%d+)|(%a+)|')
  local a = agent(aid)
  if a and a.wrap[m] > 0 then
    add_count(a, 'wrap', m, -1)
    if m == 'voice' then set_idle(a) end
    pulls[#pulls + 1] = aid
  end
end
local steps = redis.call('ZRANGEBYSCORE', k('steps'), '-inf', NOW, 'LIMIT', 0, LIMIT)
for _, conv in ipairs(steps) do
  local t = task(conv)
  if not t then
    redis.call('ZREM', k('steps'), conv)
  else
    local q = queue(t.queue)
    advance_step(t, q)
    if t.state == 'queued' and t.target == '' then
      local old = t.mem
      unplace(t)
      place(t, q)
      want_queue(t.queue)
    end
  end
end
for _, aid in ipairs(pulls) do want_pull(aid) end
run_work()
return reply('', '', { istr(math.max(#due, #wraps, #steps)) })
