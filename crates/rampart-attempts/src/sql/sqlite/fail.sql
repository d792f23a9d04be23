-- Records one failure in one statement (its own transaction): Streak::record_failure of
-- src/streak.rs, step by step, as postgres/fail.sql (which documents the parameters; SQLite
-- has no booleans: 0 and 1, and min/max for LEAST/GREATEST).
INSERT INTO rampart_attempts_streaks AS s
    (subject_key, layout, failures, first_ms, last_ms, notified, lock_until_ms, token_hash,
     expires_ms, outcome)
VALUES (?1, 1, 1, ?2, ?2, ?8, ?9, ?10, ?2 + ?3, ?11)
ON CONFLICT (subject_key) DO UPDATE SET
    (layout, failures, first_ms, last_ms, notified, lock_until_ms, token_hash, expires_ms,
     outcome) = (
        SELECT 1, n.failures, n.first_ms, n.last_ms, n.notified OR n.crossed,
               CASE WHEN n.newly THEN ?6 ELSE n.lock_until_ms END,
               CASE WHEN n.newly THEN ?7 ELSE n.token_hash END,
               n.last_ms + ?3,
               n.crossed + 2 * n.newly
        FROM (
            SELECT c.*,
                   (?4 > 0 AND c.failures >= ?4 AND NOT c.notified) AS crossed,
                   (?5 > 0 AND c.failures >= ?5
                    AND NOT (c.lock_until_ms = -1 OR c.lock_until_ms > ?2)) AS newly
            FROM (
                SELECT CASE WHEN e.over THEN 1 ELSE min(s.failures + 1, 4294967295) END
                           AS failures,
                       CASE WHEN e.over THEN ?2 ELSE s.first_ms END AS first_ms,
                       CASE WHEN e.over THEN ?2 ELSE max(s.last_ms, ?2) END AS last_ms,
                       CASE WHEN e.over THEN 0 ELSE s.notified END AS notified,
                       CASE WHEN e.over THEN 0 ELSE s.lock_until_ms END AS lock_until_ms,
                       CASE WHEN e.over THEN NULL ELSE s.token_hash END AS token_hash
                FROM (SELECT s.failures = 0 OR max(?2 - s.last_ms, 0) >= ?3 AS over) AS e
            ) AS c
        ) AS n
    )
WHERE s.layout = 1
  AND s.failures BETWEEN 0 AND 4294967295
  AND s.first_ms BETWEEN 0 AND 253402300799999
  AND s.last_ms BETWEEN 0 AND 253402300799999
  AND s.notified IN (0, 1)
  AND (s.lock_until_ms = -1 OR s.lock_until_ms BETWEEN 0 AND 253402300799999)
  AND (s.token_hash IS NULL OR length(s.token_hash) = 32)
RETURNING layout, failures, first_ms, last_ms, notified, lock_until_ms, outcome
