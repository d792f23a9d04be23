-- Ends streaks after successes: Streak::reset_by_success of src/streak.rs. $1 keys, $2 the
-- successes' times (arrays of one length). A lock holds (only its token or time lifts it) and
-- a failure recorded after the success survives (a reset may arrive late). Rows of another
-- layout are left alone.
DELETE FROM rampart_attempts_streaks AS s
USING unnest($1::text[], $2::int8[]) AS r(k, at)
WHERE s.subject_key = r.k
  AND s.layout = 1
  AND s.last_ms <= r.at
  AND s.lock_until_ms <> -1
  AND s.lock_until_ms <= r.at
