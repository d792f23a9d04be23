-- Records one failure in one statement (its own transaction): Streak::record_failure of
-- src/streak.rs, step by step, as postgres/fail.sql (which documents the parameters and names
-- the rules written out below; SQLite has no booleans: 0 and 1, and min/max for LEAST/GREATEST).
INSERT INTO rampart_attempts_streaks AS s
    (subject_key, layout, failures, first_ms, last_ms, notified, lock_until_ms, token_hash,
     expires_ms, outcome)
VALUES (?1, 1, 1, ?2, ?2, ?8, ?9, ?10, ?2 + ?3, ?11)
ON CONFLICT (subject_key) DO UPDATE SET
    -- count (the layout stays 1: the WHERE clause let only layout 1 through)
    failures = CASE WHEN (s.failures = 0 OR max(?2 - s.last_ms, 0) >= ?3) THEN 1 ELSE min(s.failures + 1, 4294967295) END,
    first_ms = CASE WHEN (s.failures = 0 OR max(?2 - s.last_ms, 0) >= ?3) THEN ?2 ELSE s.first_ms END,
    -- last
    last_ms = CASE WHEN (s.failures = 0 OR max(?2 - s.last_ms, 0) >= ?3) THEN ?2 ELSE max(s.last_ms, ?2) END,
    -- (NOT over AND s.notified) OR crossed
    notified = (NOT (s.failures = 0 OR max(?2 - s.last_ms, 0) >= ?3) AND s.notified) OR (?4 > 0
         AND CASE WHEN (s.failures = 0 OR max(?2 - s.last_ms, 0) >= ?3) THEN 1 ELSE min(s.failures + 1, 4294967295) END >= ?4
         AND ((s.failures = 0 OR max(?2 - s.last_ms, 0) >= ?3) OR NOT s.notified)),
    -- newly: the new lock; over: none; else the stored one
    lock_until_ms = CASE
        WHEN (?5 > 0
         AND CASE WHEN (s.failures = 0 OR max(?2 - s.last_ms, 0) >= ?3) THEN 1 ELSE min(s.failures + 1, 4294967295) END >= ?5
         AND NOT (NOT (s.failures = 0 OR max(?2 - s.last_ms, 0) >= ?3) AND (s.lock_until_ms = -1 OR s.lock_until_ms > ?2)))
        THEN ?6
        WHEN (s.failures = 0 OR max(?2 - s.last_ms, 0) >= ?3) THEN 0
        ELSE s.lock_until_ms END,
    -- the same for the token hash
    token_hash = CASE
        WHEN (?5 > 0
         AND CASE WHEN (s.failures = 0 OR max(?2 - s.last_ms, 0) >= ?3) THEN 1 ELSE min(s.failures + 1, 4294967295) END >= ?5
         AND NOT (NOT (s.failures = 0 OR max(?2 - s.last_ms, 0) >= ?3) AND (s.lock_until_ms = -1 OR s.lock_until_ms > ?2)))
        THEN ?7
        WHEN (s.failures = 0 OR max(?2 - s.last_ms, 0) >= ?3) THEN NULL
        ELSE s.token_hash END,
    -- last + idle
    expires_ms = (CASE WHEN (s.failures = 0 OR max(?2 - s.last_ms, 0) >= ?3) THEN ?2 ELSE max(s.last_ms, ?2) END) + ?3,
    -- crossed + 2 * newly
    outcome = CASE WHEN (?4 > 0
         AND CASE WHEN (s.failures = 0 OR max(?2 - s.last_ms, 0) >= ?3) THEN 1 ELSE min(s.failures + 1, 4294967295) END >= ?4
         AND ((s.failures = 0 OR max(?2 - s.last_ms, 0) >= ?3) OR NOT s.notified)) THEN 1 ELSE 0 END
        + CASE WHEN (?5 > 0
         AND CASE WHEN (s.failures = 0 OR max(?2 - s.last_ms, 0) >= ?3) THEN 1 ELSE min(s.failures + 1, 4294967295) END >= ?5
         AND NOT (NOT (s.failures = 0 OR max(?2 - s.last_ms, 0) >= ?3) AND (s.lock_until_ms = -1 OR s.lock_until_ms > ?2))) THEN 2 ELSE 0 END
WHERE s.layout = 1
  AND s.failures BETWEEN 0 AND 4294967295
  AND s.first_ms BETWEEN 0 AND 253402300799999
  AND s.last_ms BETWEEN 0 AND 253402300799999
  AND s.notified IN (0, 1)
  AND (s.lock_until_ms = -1 OR s.lock_until_ms BETWEEN 0 AND 253402300799999)
  AND (s.token_hash IS NULL OR length(s.token_hash) = 32)
RETURNING layout, failures, first_ms, last_ms, notified, lock_until_ms, outcome
