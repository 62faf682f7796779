-- PostgreSQL's twin of this migration has large text values compressed with lz4.
-- SQLite does not compress; the migration is here so that both backends keep one
-- schema history.
SELECT 1;
