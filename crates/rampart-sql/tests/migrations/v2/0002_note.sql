-- The next release of the test schema.
ALTER TABLE items ADD COLUMN note TEXT;
