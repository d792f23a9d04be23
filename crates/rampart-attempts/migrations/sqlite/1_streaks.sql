-- rampart-attempts, schema version 1 (SQLite). The columns are documented in the crate's
-- `sql` module docs; the limits below are those the store checks on every read. STRICT:
-- SQLite refuses a value of the wrong type instead of storing it as given.

-- One row: the schema version this database holds. A release refuses a newer one instead
-- of misreading its rows.
CREATE TABLE rampart_attempts_schema (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    version   INTEGER NOT NULL
) STRICT;
INSERT INTO rampart_attempts_schema (singleton, version) VALUES (1, 1);

-- One row per subject with a streak. 253402300799999 is 9999-12-31T23:59:59.999Z in Unix
-- ms: a bound that keeps every sum the statements compute far from integer overflow.
CREATE TABLE rampart_attempts_streaks (
    subject_key   TEXT NOT NULL PRIMARY KEY,
    layout        INTEGER NOT NULL CHECK (layout > 0),
    failures      INTEGER NOT NULL CHECK (failures BETWEEN 0 AND 4294967295),
    first_ms      INTEGER NOT NULL CHECK (first_ms BETWEEN 0 AND 253402300799999),
    last_ms       INTEGER NOT NULL CHECK (last_ms BETWEEN 0 AND 253402300799999),
    notified      INTEGER NOT NULL CHECK (notified IN (0, 1)),
    lock_until_ms INTEGER NOT NULL
                  CHECK (lock_until_ms = -1 OR lock_until_ms BETWEEN 0 AND 253402300799999),
    token_hash    BLOB CHECK (token_hash IS NULL OR length(token_hash) = 32),
    expires_ms    INTEGER NOT NULL,
    outcome       INTEGER NOT NULL CHECK (outcome BETWEEN 0 AND 3)
) STRICT, WITHOUT ROWID;

-- The sweep of expired rows walks this index.
CREATE INDEX rampart_attempts_streaks_expires ON rampart_attempts_streaks (expires_ms);
