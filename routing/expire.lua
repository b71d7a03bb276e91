-- expire.lua: time out up to 100 pending offers whose expiry is due:
-- compare-and-set pending -> timeout, slot freed, agent excluded for the
-- task, task back at its score; queues dispatched, then the agents pull.
-- args: none. extra: { number of offers examined }
local due = redis.call('ZRANGEBYSCORE', k('expiry'), '-inf', NOW, 'LIMIT', 0, 100)
local pulls = {}
for _, oid in ipairs(due) do
  local o = offer(oid)
  if o and o.state == 'pending' then
    local a = end_offer(o, 'timeout')
    if a and o.media == 'voice' then
      a.idle = NOW
      redis.call('HSET', k('a', a.id), 'idle', istr(NOW))
    end
    local t = task(o.conv)
    if t and t.state == 'offered' and t.offer == o.id then
      exclude(t, o.agent)
      requeue(t)
      want_queue(t.queue)
    end
    pulls[#pulls + 1] = o.agent
  else
    redis.call('ZREM', k('expiry'), oid)
  end
end
for _, aid in ipairs(pulls) do want_pull(aid) end
run_work()
return reply('', '', { istr(#due) })
