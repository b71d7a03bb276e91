-- removeagent.lua: delete an agent. Its pending offers are canceled and
-- their tasks dispatched to others; direct transfers to it become
-- ordinary tasks of their queues; its assigned conversations are
-- forgotten.
-- args: agent
local aid = arg(1)
local a = agent(aid)
if a then
  set_presence(a, 'offline')
  cancel_agent_offers(aid)
  for _, mem in ipairs(redis.call('ZRANGE', k('a', aid, 'direct'), 0, -1)) do
    local t = task(unpad(mem:match('^(%d+)|')))
    if t and t.state == 'queued' and t.target == aid then
      unplace(t)
      t.target = ''
      redis.call('HSET', k('t', t.conv), 'target', '')
      local q = queue(t.queue)
      advance_step(t, q)
      place(t, q)
      want_queue(t.queue)
    end
  end
end
for _, qid in ipairs(redis.call('SMEMBERS', k('a', aid, 'queues'))) do
  redis.call('SREM', k('q', qid, 'members'), aid)
end
redis.call('HDEL', k('ag'), aid)
redis.call('DEL', k('a', aid, 'queues'), k('a', aid, 'direct'))
redis.call('SREM', k('agents'), aid)
redis.call('SREM', k('avail'), aid)
for _, m in ipairs(MEDIA) do redis.call('SREM', k('free', m), aid) end
agents[aid] = false
run_work()
return reply('', '')
