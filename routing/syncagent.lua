-- syncagent.lua: create or replace an agent's capacity, voice-blocks-
-- digital flag and skills. Presence, slot counters and timestamps are
-- kept; a new agent starts offline with nothing in use.
-- args: agent, cap voice, cap chat, cap email, vbd (0|1), (skill, level)...
local aid = arg(1)
local a = agent(aid)
if not a then
  a = new_agent(aid)
  agents[aid] = a
end
a.cap.voice, a.cap.chat, a.cap.email, a.vbd = tonumber(arg(2)), tonumber(arg(3)), tonumber(arg(4)), arg(5) == '1'
local names, lv = {}, {}
local i = 6
while arg(i) do
  if lv[arg(i)] == nil then names[#names + 1] = arg(i) end
  lv[arg(i)] = tonumber(arg(i + 1))
  i = i + 2
end
table.sort(names)
local parts = {}
for j, n in ipairs(names) do parts[j] = n .. '=' .. istr(lv[n]) end
set_skills(a, table.concat(parts, ','))
save(a)
redis.call('SADD', k('agents'), aid)
return reply('', '')
