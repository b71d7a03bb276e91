-- enqueue.lua: add a task unless it is already queued or offered, then
-- dispatch its queue and, if it still waits, offer the task itself.
-- args: conv, queue, media, prio, enq_ms, score, req (JSON object or "")
local conv, qid = arg(1), arg(2)
if not queue(qid) then return fail('not_found', 'queue ' .. qid .. ' not found') end
local t = task(conv)
if t then
  qid = t.queue
else
  local score = tonumber(arg(6))
  redis.call('HSET', k('t', conv), 'queue', qid, 'media', arg(3), 'prio', arg(4),
    'enq', arg(5), 'score', arg(6), 'req', arg(7), 'state', 'queued', 'offer', '', 'nexcl', '0')
  redis.call('ZADD', wait_key(qid, arg(3)), score, pad(conv))
  redis.call('ZADD', k('q', qid, 'age'), tonumber(arg(5)), conv)
  redis.call('SADD', k('tasks'), conv)
  tasks[conv] = nil -- forget the cached miss
end
want_queue(qid)
want('t' .. conv) -- in case more than DEPTH unofferable tasks wait ahead
run_work()
return reply('', '')
