-- PostgreSQL's twin of this migration adds the check that lets one statement write a
-- whole group of order commits. SQLite's committer writes statement by statement on its
-- own connection and needs no such check; the migration is here so that both backends
-- keep one schema history.
SELECT 1;
