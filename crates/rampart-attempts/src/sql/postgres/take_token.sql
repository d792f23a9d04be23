-- Single use: deletes the streak (and its token) only if the stored hash is still the one the
-- store has already matched in constant time; a concurrent second use finds nothing.
DELETE FROM rampart_attempts_streaks WHERE subject_key = $1 AND token_hash = $2
