-- staffed.lua (read-only): the queue's available members and their free
-- slots per media (voice blocking digital counts no digital slot free).
-- args: queue. extra: { available, free voice, free chat, free email }
local n, fr = 0, { voice = 0, chat = 0, email = 0 }
for _, aid in ipairs(redis.call('SINTER', k('q', arg(1), 'members'), k('avail'))) do
  local a = agent(aid)
  if a and a.presence == 'available' then
    n = n + 1
    for _, m in ipairs(MEDIA) do
      local s = a.cap[m] - a.load[m]
      if m ~= 'voice' and a.vbd and a.load.voice > 0 then s = 0 end
      if s > 0 then fr[m] = fr[m] + s end
    end
  end
end
return reply('', '', { istr(n), istr(fr.voice), istr(fr.chat), istr(fr.email) })
