-- Single use: deletes the streak (and its token) only if the stored hash is still the one
-- the client has already matched in constant time; a concurrent second use finds nothing.
-- KEYS[1]: the subject's hash. ARGV: token hash.
if redis.call('HGET', KEYS[1], 't') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
