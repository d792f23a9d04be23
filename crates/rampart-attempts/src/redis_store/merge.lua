-- Merges what one replica counted apart from Redis (src/redis_store/pending.rs): per item,
-- first a success Redis may have missed (the rule of reset.lua), then the failures the
-- fail-open fallback answered, added to the live streak (the rules of fail.lua). Layout
-- version 1 (see fail.lua).
-- KEYS: per item, the subject's hash, then the item's marker key.
-- ARGV[1]: now_ms; then per item 9 values: reset_ms (0: none), count, first_ms, last_ms,
-- notified (0/1: the fallback notified), lock end (0: none, -1: until unlocked, else ms),
-- unlock-token hash (or empty), idle_ms, notify_at (0: never).
-- Returns per item {applied, crossed, c, f, l}: applied 1 by this call, 2 by an earlier
-- call (one whose reply was lost: a timeout); crossed 1 when the merged count reached
-- notify_at and neither side had notified: that merge claimed the streak's one notification
-- (n = 1) and the caller owes it. The item's marker keeps this answer, so a caller that never
-- saw the first reply still learns of the crossing, and each item is applied once.
local now = tonumber(ARGV[1])
local out = {}
for i = 1, #KEYS / 2 do
  local key, marker = KEYS[2 * i - 1], KEYS[2 * i]
  local a = 1 + (i - 1) * 9
  local reset = tonumber(ARGV[a + 1])
  local count = tonumber(ARGV[a + 2])
  local first = tonumber(ARGV[a + 3])
  local last = tonumber(ARGV[a + 4])
  local notified = tonumber(ARGV[a + 5])
  local lock = tonumber(ARGV[a + 6])
  local token = ARGV[a + 7]
  local idle = tonumber(ARGV[a + 8])
  local notify_at = tonumber(ARGV[a + 9])
  -- Failures are applied once per item id; the marker lives as long as they could count.
  -- A success alone is idempotent and needs none.
  local prior = false
  if count > 0 then prior = redis.call('GET', marker) end
  if prior then
    local pc, pf, pl = string.match(prior, '^1 (%d+) (%d+) (%d+)$')
    if pc then
      out[i] = {2, 1, tonumber(pc), tonumber(pf), tonumber(pl)}
    else
      out[i] = {2, 0, 0, 0, 0}
    end
  else
    local h = redis.call('HMGET', key, 'c', 'f', 'l', 'n', 'u')
    local c = tonumber(h[1]) or 0
    local f = tonumber(h[2]) or first
    local l = tonumber(h[3]) or 0
    local n = tonumber(h[4]) or 0
    local u = tonumber(h[5]) or 0
    if reset > 0 and h[3] and not (u == -1 or u > reset) and l <= reset then
      redis.call('DEL', key)
      c = 0
    end
    if count == 0 then
      out[i] = {1, 0, 0, 0, 0}
    else
      if c == 0 or first - l >= idle then
        -- Redis holds no streak these failures continue: they start one
        c = 0; f = first; l = 0; n = 0; u = 0
        redis.call('HDEL', key, 't')
      end
      c = c + count
      if first < f then f = first end
      if last > l then l = last end
      local crossed = 0
      if notified == 1 then
        n = 1
      elseif notify_at > 0 and c >= notify_at and n == 0 then
        n = 1; crossed = 1
      end
      -- A lock the fallback started still holds, with the token its owner was sent,
      -- unless Redis has a lock (and token) of its own. A merged count past the lockout
      -- threshold without either locks on the next failure, which issues a token.
      if (lock == -1 or lock > now) and not (u == -1 or u > now) then
        u = lock
        if token ~= '' then redis.call('HSET', key, 't', token) else redis.call('HDEL', key, 't') end
      end
      redis.call('HSET', key, 'v', 1, 'c', c, 'f', f, 'l', l, 'n', n, 'u', u)
      redis.call('PEXPIRE', key, math.max(l + idle - now, 1))
      local answer = '0'
      if crossed == 1 then answer = string.format('1 %d %d %d', c, f, l) end
      redis.call('SET', marker, answer, 'PX', ARGV[a + 8])
      out[i] = {1, crossed, c, f, l}
    end
  end
end
return out
