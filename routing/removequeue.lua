-- removequeue.lua: delete a queue's config and membership. Its tasks and
-- their pending offers are left alone (see RemoveQueue).
-- args: queue
local qid = arg(1)
for _, aid in ipairs(redis.call('SMEMBERS', k('q', qid, 'members'))) do
  redis.call('SREM', k('a', aid, 'queues'), qid)
end
redis.call('DEL', k('q', qid, 'members'))
redis.call('HDEL', k('qcfg'), qid)
redis.call('SREM', k('queues'), qid)
return reply('', '')
