-- Records one failure; mirrors Streak::record_failure in src/streak.rs line by line.
-- KEYS[1]: the subject's hash. ARGV: now_ms, idle_ms, notify_at (0: never),
-- lock_after (0: never), lock_ms (0: until unlocked), token hash (32 bytes, or empty): stored
-- as 't' only when this failure newly locks, in the same script, so a lock never exists
-- without its token (an outage cannot fall between the two).
-- Layout version 1 (tests/vectors/redis_streak_v1.txt). Fields: v layout version,
-- c count, f first failure ms, l last failure ms, n notified (0/1), u lock end ms (0: none, -1: until unlocked), t unlock-token hash.
-- Returns {c, f, l, n, u, crossed_notify, newly_locked}.
local now = tonumber(ARGV[1])
local idle = tonumber(ARGV[2])
local notify_at = tonumber(ARGV[3])
local lock_after = tonumber(ARGV[4])
local lock_ms = tonumber(ARGV[5])
local token = ARGV[6] or ''
local h = redis.call('HMGET', KEYS[1], 'c', 'f', 'l', 'n', 'u')
local c = tonumber(h[1]) or 0
local f = tonumber(h[2]) or now
local l = tonumber(h[3]) or 0
local n = tonumber(h[4]) or 0
local u = tonumber(h[5]) or 0
if c == 0 or now - l >= idle then
  -- a new streak (the old one expired while its key lingered)
  c = 0; f = now; l = 0; n = 0; u = 0
  redis.call('HDEL', KEYS[1], 't')
end
c = c + 1
if now > l then l = now end
local crossed = 0
if notify_at > 0 and c >= notify_at and n == 0 then
  n = 1; crossed = 1
end
local newly = 0
local locked = (u == -1) or (u > now)
if lock_after > 0 and c >= lock_after and not locked then
  if lock_ms == 0 then u = -1 else u = now + lock_ms end
  newly = 1
end
redis.call('HSET', KEYS[1], 'v', 1, 'c', c, 'f', f, 'l', l, 'n', n, 'u', u)
if newly == 1 then
  -- a new lock: an earlier lock's token must not lift it
  if token ~= '' then redis.call('HSET', KEYS[1], 't', token) else redis.call('HDEL', KEYS[1], 't') end
end
redis.call('PEXPIRE', KEYS[1], idle)
return {c, f, l, n, u, crossed, newly}
