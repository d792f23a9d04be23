-- The live streaks of several subjects in one round trip, one consistent snapshot.
-- KEYS: the subjects' hashes. ARGV: now_ms, then one idle_ms per key.
-- Returns one array per key: {} when there is no live streak, else {c, f, l, n, u} (as
-- peek.lua, which this repeats per key).
local now = tonumber(ARGV[1])
local out = {}
for i, key in ipairs(KEYS) do
  local idle = tonumber(ARGV[i + 1])
  local h = redis.call('HMGET', key, 'c', 'f', 'l', 'n', 'u')
  local c = tonumber(h[1]) or 0
  local l = tonumber(h[3]) or 0
  if c == 0 or now - l >= idle then
    out[i] = {}
  else
    out[i] = {c, tonumber(h[2]) or l, l, tonumber(h[4]) or 0, tonumber(h[5]) or 0}
  end
end
return out
