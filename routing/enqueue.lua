-- enqueue.lua: add a task unless it is already queued or offered, then
-- dispatch its queue and, if it still waits, offer the task itself.
-- args: conv, queue, media, prio, enq_ms, req, pref, target
local conv, qid = arg(1), arg(2)
local q = queue(qid)
if not q then return fail('not_found', 'queue ' .. qid .. ' not found') end
local t = task(conv)
if t then
  qid = t.queue
else
  new_task(conv, q, arg(3), tonumber(arg(4)), tonumber(arg(5)), arg(6), arg(7), arg(8), '')
end
want_queue(qid)
want('t' .. conv) -- in case more than DEPTH unofferable tasks wait ahead
run_work()
return reply('', '')
