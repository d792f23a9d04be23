-- Ends a streak after a success; mirrors Streak::reset_by_success in src/streak.rs.
-- KEYS[1]: the subject's hash. ARGV: success_ms. A lock holds (only its token or time lifts
-- it) and a failure recorded after the success survives (this reset may arrive late).
local now = tonumber(ARGV[1])
local h = redis.call('HMGET', KEYS[1], 'l', 'u')
local l = tonumber(h[1])
if not l then return 0 end
local u = tonumber(h[2]) or 0
if u == -1 or u > now then return 0 end
if l > now then return 0 end
redis.call('DEL', KEYS[1])
return 1
