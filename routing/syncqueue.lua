-- syncqueue.lua: create or replace a queue's config and members (and each
-- member's set of queues). Waiting tasks and pending offers are kept.
-- args: queue, prio, timeout_ms, member...
local qid = arg(1)
redis.call('HSET', k('q', qid), 'prio', arg(2), 'timeout', arg(3))
local new, list = {}, {}
local i = 4
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
return reply('', '')
