-- syncagent.lua: create or replace an agent's capacity and skills.
-- Presence, slot counters and timestamps are kept; a new agent starts
-- offline with nothing in use.
-- args: agent, cap voice, cap chat, cap email, (skill, level)...
local aid = arg(1)
if redis.call('EXISTS', k('a', aid)) == 0 then
  redis.call('HSET', k('a', aid), 'presence', 'offline', 'idle', '0', 'last', '0',
    'asg:voice', '0', 'asg:chat', '0', 'asg:email', '0',
    'pend:voice', '0', 'pend:chat', '0', 'pend:email', '0')
end
redis.call('HSET', k('a', aid), 'cap:voice', arg(2), 'cap:chat', arg(3), 'cap:email', arg(4))
for _, f in ipairs(redis.call('HKEYS', k('a', aid))) do
  if f:sub(1, 2) == 's:' then redis.call('HDEL', k('a', aid), f) end
end
local i = 5
while arg(i) do
  redis.call('HSET', k('a', aid), 's:' .. arg(i), arg(i + 1))
  i = i + 2
end
redis.call('SADD', k('agents'), aid)
return reply('', '')
