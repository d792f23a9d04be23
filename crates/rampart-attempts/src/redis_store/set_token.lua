-- Stores the unlock-token hash of a lock that just started (only if the streak exists).
-- KEYS[1]: the subject's hash. ARGV: token hash (32 bytes).
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 't', ARGV[1])
  return 1
end
return 0
