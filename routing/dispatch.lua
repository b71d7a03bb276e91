-- dispatch.lua: do a list of work items: "q<id>" dispatches a queue,
-- "a<id>" lets an agent pull work. Used by Dispatch, Pull and to finish
-- what another script left in its reply's "more" list.
-- args: item...
local i = 1
while arg(i) do
  want(arg(i))
  i = i + 1
end
run_work()
return reply('', '')
