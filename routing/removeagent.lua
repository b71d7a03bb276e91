-- removeagent.lua: delete an agent. Its pending offers are canceled and
-- their tasks dispatched to others; its assigned conversations are
-- forgotten.
-- args: agent
local aid = arg(1)
local a = agent(aid)
if a then
  set_presence(a, 'offline')
  cancel_agent_offers(aid)
end
for _, qid in ipairs(redis.call('SMEMBERS', k('a', aid, 'queues'))) do
  redis.call('SREM', k('q', qid, 'members'), aid)
end
redis.call('DEL', k('a', aid), k('a', aid, 'queues'), k('a', aid, 'offers'))
redis.call('SREM', k('agents'), aid)
redis.call('SREM', k('avail'), aid)
agents[aid] = false
run_work()
return reply('', '')
