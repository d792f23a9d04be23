-- Deletes at most $2 rows whose streak expired by $1 (Unix ms). The outer condition is
-- checked again on a row a concurrent failure has just renewed: that row stays.
DELETE FROM rampart_attempts_streaks
WHERE expires_ms <= $1
  AND subject_key IN (
      SELECT subject_key FROM rampart_attempts_streaks WHERE expires_ms <= $1 LIMIT $2
  )
