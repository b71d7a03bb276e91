-- release.lua: an assigned conversation ended. One slot of media is freed
-- (never below 0), after wrap_ms of wrap-up when wrap_ms > 0; the agent
-- pulls work.
-- args: agent, media, wrap_ms
local a = agent(arg(1))
if not a then return fail('not_found', 'agent ' .. arg(1) .. ' not found') end
release(a, arg(2), tonumber(arg(3)))
want_pull(a.id)
run_work()
return reply('', '')
