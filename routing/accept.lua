-- accept.lua: compare-and-set an offer pending -> accepted. The slot stays
-- taken (now an assigned conversation) and the task is deleted.
-- args: offer id, agent
local o = offer(arg(1))
if not o then return fail('not_found', 'offer ' .. arg(1) .. ' not found') end
if o.agent ~= arg(2) then return fail('forbidden', 'offer ' .. o.id .. ' is not yours') end
if o.state ~= 'pending' then return fail('conflict', 'offer already ' .. o.state) end
end_offer(o, 'accepted')
local t = task(o.conv)
if t and t.offer == o.id then delete_task(t) end
return reply('', '', offer_record(o))
