-- Deletes at most ?2 rows whose streak expired by ?1 (Unix ms); one statement, atomic.
DELETE FROM rampart_attempts_streaks
WHERE subject_key IN (
    SELECT subject_key FROM rampart_attempts_streaks WHERE expires_ms <= ?1 LIMIT ?2
)
