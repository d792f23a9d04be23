-- Ends one streak after a success (run once per reset of a batch, in one transaction):
-- Streak::reset_by_success of src/streak.rs, as postgres/reset.sql. ?1 key, ?2 success time.
DELETE FROM rampart_attempts_streaks
WHERE subject_key = ?1
  AND layout = 1
  AND last_ms <= ?2
  AND lock_until_ms <> -1
  AND lock_until_ms <= ?2
