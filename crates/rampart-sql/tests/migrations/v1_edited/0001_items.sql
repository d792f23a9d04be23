-- Migration 1 edited after it was applied (name may now be NULL).
CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT);
