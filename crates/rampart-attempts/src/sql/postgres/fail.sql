-- Records one failure in one statement: Streak::record_failure of src/streak.rs, step by step
-- (the shared scenarios and the differential test against the memory store hold them equal).
-- $1 key, $2 now_ms, $3 idle_ms, $4 notify_at (0: never), $5 lock_after (0: never),
-- $6 lock_until_ms of a lock that starts now (-1: until unlocked), $7 token hash (or NULL),
-- stored only by the failure that starts a lock. A new row takes $8 notified, $9 lock_until_ms,
-- $10 token hash, $11 outcome: a first failure, computed by the Rust rules themselves.
-- The WHERE clause refuses to touch a row this release cannot read: no row comes back and
-- the store reports it, naming its key. `outcome` says what this failure did (1: crossed the
-- notify threshold, 2: started a lock): RETURNING sees only the new row.
--
-- The rules, named once here and written out in full below (DO UPDATE has no FROM or WITH,
-- and sub-SELECTs that named them cost a third of the statement's throughput, measured):
--   over    = the stored streak expired: (s.failures = 0 OR GREATEST($2 - s.last_ms, 0) >= $3);
--             it starts over (its notification, lock and token go with it)
--   count   = CASE WHEN over THEN 1 ELSE LEAST(s.failures + 1, 4294967295) END
--   last    = CASE WHEN over THEN $2 ELSE GREATEST(s.last_ms, $2) END (replicas' clocks differ
--             a little: never move the last failure back)
--   crossed = $4 > 0 AND count >= $4 AND (over OR NOT s.notified)
--   newly   = $5 > 0 AND count >= $5 AND NOT (NOT over AND (s.lock_until_ms = -1 OR s.lock_until_ms > $2))
INSERT INTO rampart_attempts_streaks AS s
    (subject_key, layout, failures, first_ms, last_ms, notified, lock_until_ms, token_hash,
     expires_ms, outcome)
VALUES ($1, 1, 1, $2, $2, $8, $9, $10, $2 + $3, $11)
ON CONFLICT (subject_key) DO UPDATE SET
    -- count (the layout stays 1: the WHERE clause let only layout 1 through)
    failures = CASE WHEN (s.failures = 0 OR GREATEST($2 - s.last_ms, 0) >= $3) THEN 1 ELSE LEAST(s.failures + 1, 4294967295) END,
    first_ms = CASE WHEN (s.failures = 0 OR GREATEST($2 - s.last_ms, 0) >= $3) THEN $2 ELSE s.first_ms END,
    -- last
    last_ms = CASE WHEN (s.failures = 0 OR GREATEST($2 - s.last_ms, 0) >= $3) THEN $2 ELSE GREATEST(s.last_ms, $2) END,
    -- (NOT over AND s.notified) OR crossed
    notified = (NOT (s.failures = 0 OR GREATEST($2 - s.last_ms, 0) >= $3) AND s.notified) OR ($4 > 0
         AND CASE WHEN (s.failures = 0 OR GREATEST($2 - s.last_ms, 0) >= $3) THEN 1 ELSE LEAST(s.failures + 1, 4294967295) END >= $4
         AND ((s.failures = 0 OR GREATEST($2 - s.last_ms, 0) >= $3) OR NOT s.notified)),
    -- newly: the new lock; over: none; else the stored one
    lock_until_ms = CASE
        WHEN ($5 > 0
         AND CASE WHEN (s.failures = 0 OR GREATEST($2 - s.last_ms, 0) >= $3) THEN 1 ELSE LEAST(s.failures + 1, 4294967295) END >= $5
         AND NOT (NOT (s.failures = 0 OR GREATEST($2 - s.last_ms, 0) >= $3) AND (s.lock_until_ms = -1 OR s.lock_until_ms > $2)))
        THEN $6
        WHEN (s.failures = 0 OR GREATEST($2 - s.last_ms, 0) >= $3) THEN 0
        ELSE s.lock_until_ms END,
    -- the same for the token hash
    token_hash = CASE
        WHEN ($5 > 0
         AND CASE WHEN (s.failures = 0 OR GREATEST($2 - s.last_ms, 0) >= $3) THEN 1 ELSE LEAST(s.failures + 1, 4294967295) END >= $5
         AND NOT (NOT (s.failures = 0 OR GREATEST($2 - s.last_ms, 0) >= $3) AND (s.lock_until_ms = -1 OR s.lock_until_ms > $2)))
        THEN $7
        WHEN (s.failures = 0 OR GREATEST($2 - s.last_ms, 0) >= $3) THEN NULL
        ELSE s.token_hash END,
    -- last + idle
    expires_ms = (CASE WHEN (s.failures = 0 OR GREATEST($2 - s.last_ms, 0) >= $3) THEN $2 ELSE GREATEST(s.last_ms, $2) END) + $3,
    -- crossed + 2 * newly
    outcome = CASE WHEN ($4 > 0
         AND CASE WHEN (s.failures = 0 OR GREATEST($2 - s.last_ms, 0) >= $3) THEN 1 ELSE LEAST(s.failures + 1, 4294967295) END >= $4
         AND ((s.failures = 0 OR GREATEST($2 - s.last_ms, 0) >= $3) OR NOT s.notified)) THEN 1 ELSE 0 END
        + CASE WHEN ($5 > 0
         AND CASE WHEN (s.failures = 0 OR GREATEST($2 - s.last_ms, 0) >= $3) THEN 1 ELSE LEAST(s.failures + 1, 4294967295) END >= $5
         AND NOT (NOT (s.failures = 0 OR GREATEST($2 - s.last_ms, 0) >= $3) AND (s.lock_until_ms = -1 OR s.lock_until_ms > $2))) THEN 2 ELSE 0 END
WHERE s.layout = 1
  AND s.failures BETWEEN 0 AND 4294967295
  AND s.first_ms BETWEEN 0 AND 253402300799999
  AND s.last_ms BETWEEN 0 AND 253402300799999
  AND s.notified IS NOT NULL
  AND (s.lock_until_ms = -1 OR s.lock_until_ms BETWEEN 0 AND 253402300799999)
  AND (s.token_hash IS NULL OR octet_length(s.token_hash) = 32)
RETURNING layout, failures, first_ms, last_ms, notified, lock_until_ms, outcome
