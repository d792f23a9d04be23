-- The stored unlock-token hash, for a constant-time comparison in the client.
-- KEYS[1]: the subject's hash.
return redis.call('HGET', KEYS[1], 't')
