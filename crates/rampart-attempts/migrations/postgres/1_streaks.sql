-- rampart-attempts, schema version 1 (PostgreSQL). The columns are documented in the
-- crate's `sql` module docs; the limits below are those the store checks on every read.

-- One row: the schema version this database holds. A release refuses a newer one (a
-- rolling deploy that migrated ahead of it) instead of misreading its rows.
CREATE TABLE rampart_attempts_schema (
    singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    version   BIGINT NOT NULL
);
INSERT INTO rampart_attempts_schema (version) VALUES (1);

-- One row per subject with a streak. 253402300799999 is 9999-12-31T23:59:59.999Z in Unix
-- ms: a bound that keeps every sum the statements compute far from BIGINT overflow.
CREATE TABLE rampart_attempts_streaks (
    subject_key   TEXT COLLATE "C" PRIMARY KEY,
    layout        SMALLINT NOT NULL CHECK (layout > 0),
    failures      BIGINT NOT NULL CHECK (failures BETWEEN 0 AND 4294967295),
    first_ms      BIGINT NOT NULL CHECK (first_ms BETWEEN 0 AND 253402300799999),
    last_ms       BIGINT NOT NULL CHECK (last_ms BETWEEN 0 AND 253402300799999),
    notified      BOOLEAN NOT NULL,
    lock_until_ms BIGINT NOT NULL
                  CHECK (lock_until_ms = -1 OR lock_until_ms BETWEEN 0 AND 253402300799999),
    token_hash    BYTEA CHECK (token_hash IS NULL OR octet_length(token_hash) = 32),
    expires_ms    BIGINT NOT NULL,
    outcome       SMALLINT NOT NULL CHECK (outcome BETWEEN 0 AND 3)
);

-- The sweep of expired rows walks this index.
CREATE INDEX rampart_attempts_streaks_expires ON rampart_attempts_streaks (expires_ms);
