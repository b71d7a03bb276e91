-- remove.lua: the conversation left the queue (customer gone, closed).
-- Its pending offer is canceled, the slot freed and that agent pulls.
-- args: conv
local t = task(arg(1))
if not t then return reply('', '') end
if t.state == 'offered' and t.offer ~= '' then
  local o = offer(t.offer)
  if o and o.state == 'pending' then
    end_offer(o, 'canceled')
    want_pull(o.agent)
  end
end
delete_task(t)
run_work()
return reply('', '')
