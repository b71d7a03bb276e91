-- transfer.lua: an assigned conversation leaves agent (one slot of media
-- released, with the wrap-up of the queue it was accepted from) and
-- enters a queue as a new task the agent is excluded from (unless it is
-- its target); the queue is dispatched, the task tried on its own, then
-- the agent pulls.
-- args: conv, agent, media, queue, prio, enq_ms, req, pref, target
local conv, aid, m = arg(1), arg(2), arg(3)
local q = queue(arg(4))
if not q then return fail('not_found', 'queue ' .. arg(4) .. ' not found') end
local a = agent(aid)
if not a then return fail('not_found', 'agent ' .. aid .. ' not found') end
local wrap = 0
local from = redis.call('GET', k('c', conv))
if from then
  local fq = queue(from)
  if fq then wrap = fq.wrap end
  redis.call('DEL', k('c', conv))
end
release(a, m, wrap)
local target = arg(9)
if not task(conv) then
  local excl = aid
  if target == aid then excl = '' end
  new_task(conv, q, m, tonumber(arg(5)), tonumber(arg(6)), arg(7), arg(8), target, excl)
end
want_queue(q.id)
want('t' .. conv)
want_pull(aid)
run_work()
return reply('', '')
