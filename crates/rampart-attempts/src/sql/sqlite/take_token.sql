-- Single use: see postgres/take_token.sql.
DELETE FROM rampart_attempts_streaks WHERE subject_key = ?1 AND token_hash = ?2
