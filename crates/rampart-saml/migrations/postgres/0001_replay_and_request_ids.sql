-- rampart-saml schema version 1 (PostgreSQL).

-- Assertions accepted, each until it expires (its NotOnOrAfter plus the clock skew).
CREATE TABLE rampart_saml_replay (
    -- SHA-256 of (issuer length as u64 big-endian, issuer, assertion ID): the issuer is part
    -- of the key (IDs are unique per issuer only, SAML core 1.3.4) and any ID length gives
    -- 32 bytes. The same digest as the Redis cache's layout version 2.
    digest     BYTEA PRIMARY KEY CHECK (octet_length(digest) = 32),
    -- Unix time in milliseconds; a row at or past it no longer counts and may be replaced.
    expires_at BIGINT NOT NULL
);
CREATE INDEX rampart_saml_replay_expires_at ON rampart_saml_replay (expires_at);

-- AuthnRequest IDs issued and not yet answered: each is consumed by one response.
CREATE TABLE rampart_saml_request_ids (
    -- SHA-256 of the request ID.
    digest     BYTEA PRIMARY KEY CHECK (octet_length(digest) = 32),
    -- Unix time in milliseconds after which the ID is no longer accepted.
    expires_at BIGINT NOT NULL
);
CREATE INDEX rampart_saml_request_ids_expires_at ON rampart_saml_request_ids (expires_at);
