-- remove.lua: the conversation left the queue (customer gone, closed).
-- Its pending offers are canceled, the slots freed and those agents pull.
-- args: conv
local t = task(arg(1))
if not t then return reply('', '') end
for _, oid in ipairs(t.offers) do
  local o = offer(oid)
  if o and o.state == 'pending' then
    end_offer(o, 'canceled')
    want_pull(o.agent)
  end
end
delete_task(t)
run_work()
return reply('', '')
