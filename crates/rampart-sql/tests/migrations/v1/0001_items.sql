-- A test schema: plain SQL both SQLite and PostgreSQL run.
CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT NOT NULL);
