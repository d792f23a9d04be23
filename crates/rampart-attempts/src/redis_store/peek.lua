-- The live streak, or an empty array. KEYS[1]: the subject's hash. ARGV: now_ms, idle_ms.
-- Returns {c, f, l, n, u} (see fail.lua).
local now = tonumber(ARGV[1])
local idle = tonumber(ARGV[2])
local h = redis.call('HMGET', KEYS[1], 'c', 'f', 'l', 'n', 'u')
local c = tonumber(h[1]) or 0
local l = tonumber(h[3]) or 0
if c == 0 or now - l >= idle then return {} end
return {c, tonumber(h[2]) or l, l, tonumber(h[4]) or 0, tonumber(h[5]) or 0}
