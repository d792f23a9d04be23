-- The rows of several keys ($1, a text array), read as one snapshot.
SELECT subject_key, layout, failures, first_ms, last_ms, notified, lock_until_ms, token_hash
FROM rampart_attempts_streaks
WHERE subject_key = ANY($1)
