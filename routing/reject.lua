-- reject.lua: compare-and-set an offer pending -> rejected. The slot is
-- freed, the agent excluded for the task (not a miss), the task back at
-- its score when no other offer of it is pending; the queue is
-- dispatched, then the agent pulls other work.
-- args: offer id, agent
local o = offer(arg(1))
if not o then return fail('not_found', 'offer ' .. arg(1) .. ' not found') end
if o.agent ~= arg(2) then return fail('forbidden', 'offer ' .. o.id .. ' is not yours') end
if o.state ~= 'pending' then return fail('conflict', 'offer already ' .. o.state) end
local a = end_offer(o, 'rejected')
if a and o.media == 'voice' then set_idle(a) end
offer_gone(o, true)
want_pull(o.agent)
run_work()
return reply('', '', push_offer({}, o))
