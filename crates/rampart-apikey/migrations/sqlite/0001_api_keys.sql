-- rampart-apikey schema version 1 (SQLite). STRICT: a value of the wrong type is refused on
-- write instead of being stored and misread later.
CREATE TABLE rampart_api_keys (
    -- The 16-character base62 public id: the one key every check looks up (unique index).
    -- Compared byte for byte: base62 is case-sensitive, "abc..." and "ABC..." are two keys.
    public_id TEXT COLLATE BINARY PRIMARY KEY NOT NULL CHECK (length(public_id) = 16),
    -- The ApiKeyRecord in its serde JSON form (format version in its "v" field): the keyed
    -- hash of the secret, never the secret. Bounded: 64 scopes of 128 bytes fit in 9 KiB.
    record    TEXT NOT NULL CHECK (length(CAST(record AS BLOB)) <= 16384),
    -- Bumped by every save; a save names the revision it read (compare-and-swap), so two
    -- concurrent rotations or a rotation racing a revocation cannot overwrite each other.
    revision  INTEGER NOT NULL DEFAULT 1 CHECK (revision > 0)
) STRICT;
