-- release.lua: an assigned conversation ended. One slot of media is freed
-- (never below 0) and the agent pulls work.
-- args: agent, media
local a = agent(arg(1))
if not a then return fail('not_found', 'agent ' .. arg(1) .. ' not found') end
local m = arg(2)
if a.asg[m] > 0 then
  add_count(a, 'asg', m, -1)
  if m == 'voice' then
    a.idle = NOW
    redis.call('HSET', k('a', a.id), 'idle', istr(NOW))
  end
end
want_pull(a.id)
run_work()
return reply('', '')
