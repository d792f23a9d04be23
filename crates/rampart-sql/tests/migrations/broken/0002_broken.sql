-- Its first statement works, its second fails: the migration must leave no trace.
ALTER TABLE items ADD COLUMN broken TEXT;
SELECT * FROM no_such_table;
