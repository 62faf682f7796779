-- On PostgreSQL this release indexes an order's events by order_id alone, so that B-tree
-- deduplication keeps one key per order. SQLite has no such deduplication and its index
-- entries carry the table's key (store_id, seq) anyway: its index stays as it is. This
-- migration keeps both backends at the same versions.
SELECT 1;
