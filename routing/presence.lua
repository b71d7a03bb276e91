-- presence.lua: set an agent's presence. available: the miss streak
-- resets and the agent pulls work at once. Anything else: its pending
-- offers are canceled (not a miss) and their tasks go back at their score
-- and are dispatched to others.
-- args: agent, presence
local a = agent(arg(1))
if not a then return fail('not_found', 'agent ' .. arg(1) .. ' not found') end
local p = arg(2)
set_presence(a, p)
if p == 'available' then
  if a.miss ~= 0 then
    a.miss = 0
    save(a)
  end
  want_pull(a.id)
else
  cancel_agent_offers(a.id)
end
run_work()
return reply('', '')
