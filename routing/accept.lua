-- accept.lua: compare-and-set an offer pending -> accepted. The slot stays
-- taken (now an assigned conversation), the agent's miss streak resets,
-- the task's other pending offers are rescinded (their agents pull) and
-- the task is deleted; its queue is remembered for Transfer's wrap-up.
-- args: offer id, agent. extra: the accepted offer's record
local o = offer(arg(1))
if not o then return fail('not_found', 'offer ' .. arg(1) .. ' not found') end
if o.agent ~= arg(2) then return fail('forbidden', 'offer ' .. o.id .. ' is not yours') end
if o.state ~= 'pending' then return fail('conflict', 'offer already ' .. o.state) end
end_offer(o, 'accepted')
local t = task(o.conv)
if t and has(t.offers, o.id) then
  for _, oid in ipairs(t.offers) do
    if oid ~= o.id then
      local x = offer(oid)
      if x and x.state == 'pending' then
        end_offer(x, 'rescinded', 'accepted_elsewhere')
        want_pull(x.agent)
      end
    end
  end
  delete_task(t)
end
redis.call('SET', k('c', o.conv), o.queue, 'EX', CONV_TTL)
run_work()
return reply('', '', push_offer({}, o))
