-- syncagent.lua: create or replace an agent's capacity, voice-blocks-
-- digital flag and skills. Presence, slot counters and timestamps are
-- kept; a new agent starts offline with nothing in use.
-- args: agent, cap voice, cap chat, cap email, vbd (0|1), (skill, level)...
local aid = arg(1)
local a = agent(aid)
if not a then
  redis.call('HSET', k('a', aid), 'presence', 'offline', 'since', istr(NOW), 'idle', '0', 'last', '0',
    'miss', '0', 'ndirect', '0',
    'asg:voice', '0', 'asg:chat', '0', 'asg:email', '0',
    'pend:voice', '0', 'pend:chat', '0', 'pend:email', '0',
    'wrap:voice', '0', 'wrap:chat', '0', 'wrap:email', '0')
  agents[aid] = nil
  a = agent(aid)
end
redis.call('HSET', k('a', aid), 'cap:voice', arg(2), 'cap:chat', arg(3), 'cap:email', arg(4), 'vbd', arg(5))
a.cap.voice, a.cap.chat, a.cap.email, a.vbd = tonumber(arg(2)), tonumber(arg(3)), tonumber(arg(4)), arg(5) == '1'
for f in pairs(a.skills) do redis.call('HDEL', k('a', aid), 's:' .. f) end
a.skills = {}
local i = 6
while arg(i) do
  redis.call('HSET', k('a', aid), 's:' .. arg(i), arg(i + 1))
  a.skills[arg(i)] = tonumber(arg(i + 1))
  i = i + 2
end
refresh(a)
redis.call('SADD', k('agents'), aid)
return reply('', '')
