-- position.lua (read-only): a task's 0-based place among the waiting
-- tasks of its queue (all media, in score then id order); 0 when offered
-- or a direct transfer.
-- args: conv. extra: { position } or {} when not queued
local conv = arg(1)
local v = redis.call('HMGET', k('t', conv), 'queue', 'state', 'score', 'mem', 'target')
if not v[1] then return reply('', '') end
if v[2] ~= 'queued' or (v[5] and v[5] ~= '') then return reply('', '', { '0' }) end
-- its class member (lib.lua); members of equal score compare as tasks do
local cmem, pos = pad16(tonumber(v[3])) .. v[4]:sub(1, 19) .. v[4]:sub(21, 21), 0
for _, m in ipairs(MEDIA) do
  for _, req in ipairs(classes(v[1], m)) do
    local key = class_key(v[1], m, req)
    pos = pos + redis.call('ZCOUNT', key, '-inf', '(' .. v[3])
    for _, x in ipairs(redis.call('ZRANGEBYSCORE', key, v[3], v[3])) do
      if x < cmem then pos = pos + 1 end
    end
  end
end
return reply('', '', { istr(pos) })
