-- Records one failure in one statement: Streak::record_failure of src/streak.rs, step by step
-- (the shared scenarios and the differential test against the memory store hold them equal).
-- $1 key, $2 now_ms, $3 idle_ms, $4 notify_at (0: never), $5 lock_after (0: never),
-- $6 lock_until_ms of a lock that starts now (-1: until unlocked), $7 token hash (or NULL),
-- stored only by the failure that starts a lock. A new row takes $8 notified, $9 lock_until_ms,
-- $10 token hash, $11 outcome: a first failure, computed by the Rust rules themselves.
-- The WHERE clause refuses to touch a row this release cannot read: no row comes back and
-- the store reports it, naming its key. `outcome` says what this failure did (1: crossed the
-- notify threshold, 2: started a lock): RETURNING sees only the new row.
INSERT INTO rampart_attempts_streaks AS s
    (subject_key, layout, failures, first_ms, last_ms, notified, lock_until_ms, token_hash,
     expires_ms, outcome)
VALUES ($1, 1, 1, $2, $2, $8, $9, $10, $2 + $3, $11)
ON CONFLICT (subject_key) DO UPDATE SET
    (layout, failures, first_ms, last_ms, notified, lock_until_ms, token_hash, expires_ms,
     outcome) = (
        SELECT 1, n.failures, n.first_ms, n.last_ms, n.notified OR n.crossed,
               CASE WHEN n.newly THEN $6 ELSE n.lock_until_ms END,
               CASE WHEN n.newly THEN $7 ELSE n.token_hash END,
               n.last_ms + $3,
               CAST(n.crossed AS INT) + 2 * CAST(n.newly AS INT)
        FROM (
            SELECT c.*,
                   ($4 > 0 AND c.failures >= $4 AND NOT c.notified) AS crossed,
                   ($5 > 0 AND c.failures >= $5
                    AND NOT (c.lock_until_ms = -1 OR c.lock_until_ms > $2)) AS newly
            FROM (
                -- An expired streak starts over (its lock and token go with it).
                SELECT CASE WHEN e.over THEN 1 ELSE LEAST(s.failures + 1, 4294967295) END
                           AS failures,
                       CASE WHEN e.over THEN $2 ELSE s.first_ms END AS first_ms,
                       -- Replicas' clocks differ a little: never move the last failure back.
                       CASE WHEN e.over THEN $2 ELSE GREATEST(s.last_ms, $2) END AS last_ms,
                       CASE WHEN e.over THEN FALSE ELSE s.notified END AS notified,
                       CASE WHEN e.over THEN 0 ELSE s.lock_until_ms END AS lock_until_ms,
                       CASE WHEN e.over THEN NULL ELSE s.token_hash END AS token_hash
                FROM (SELECT s.failures = 0 OR GREATEST($2 - s.last_ms, 0) >= $3 AS over) AS e
            ) AS c
        ) AS n
    )
WHERE s.layout = 1
  AND s.failures BETWEEN 0 AND 4294967295
  AND s.first_ms BETWEEN 0 AND 253402300799999
  AND s.last_ms BETWEEN 0 AND 253402300799999
  AND s.notified IS NOT NULL
  AND (s.lock_until_ms = -1 OR s.lock_until_ms BETWEEN 0 AND 253402300799999)
  AND (s.token_hash IS NULL OR octet_length(s.token_hash) = 32)
RETURNING layout, failures, first_ms, last_ms, notified, lock_until_ms, outcome
