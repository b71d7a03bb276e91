-- syncqueue.lua: create or replace a queue's config and members (and each
-- member's set of queues). Waiting tasks and pending offers are kept; when
-- the steps or the ordering mode changed, the queue's tasks are re-scored
-- and re-encoded (a task keeps its step index, bounded by the new number
-- of steps, then moves past expired ones).
-- args: queue, config (see QueueSpec.config), member...
local qid = arg(1)
local old = queue(qid)
redis.call('HSET', k('qcfg'), qid, arg(2))
local q = parse_queue(qid, arg(2))
queues[qid] = q
local new, list = {}, {}
local i = 3
while arg(i) do
  if not new[arg(i)] then
    new[arg(i)] = true
    list[#list + 1] = arg(i)
  end
  i = i + 1
end
for _, aid in ipairs(redis.call('SMEMBERS', k('q', qid, 'members'))) do
  if not new[aid] then redis.call('SREM', k('a', aid, 'queues'), qid) end
end
redis.call('DEL', k('q', qid, 'members'))
for _, aid in ipairs(list) do
  redis.call('SADD', k('q', qid, 'members'), aid)
  redis.call('SADD', k('a', aid, 'queues'), qid)
end
redis.call('SADD', k('queues'), qid)
if old and (old.stepstr ~= q.stepstr or old.aging ~= q.aging) then
  for _, conv in ipairs(redis.call('ZRANGE', k('q', qid, 'age'), 0, -1)) do
    local t = task(conv)
    if t and t.queue == qid then
      local placed = t.state == 'queued'
      if placed then unplace(t) end
      t.score = score_of(q, t.prio, t.enq)
      if t.step > #q.steps then t.step = #q.steps end
      if t.tm then redis.call('ZREM', k('steps'), conv) end -- step timings changed: schedule anew
      t.tm = false
      redis.call('HSET', k('t', conv), 'score', istr(t.score), 'step', istr(t.step), 'tm', '0')
      advance_step(t, q)
      if placed then place(t, q) end
    end
  end
end
return reply('', '')
