-- enqueue.lua: add a task unless it is already queued or offered, then
-- offer it if an eligible agent is free. Nothing else can change: the
-- router is work-conserving (after every call no free agent is eligible
-- for a waiting task; the differential test checks it), so an arrival
-- need not dispatch its whole queue.
-- args: conv, queue, media, prio, enq_ms, req, pref, target
local conv, qid = arg(1), arg(2)
local q = queue(qid)
if not q then return fail('not_found', 'queue ' .. qid .. ' not found') end
if not task(conv) then
  new_task(conv, q, arg(3), tonumber(arg(4)), tonumber(arg(5)), arg(6), arg(7), arg(8), '')
end
want('t' .. conv)
run_work()
return reply('', '')
