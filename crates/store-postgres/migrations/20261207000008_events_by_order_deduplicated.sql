-- An order's events are found by the order alone: the index by (order_id, seq) held a
-- 36-byte entry for each event, one for every seq; by order_id alone, PostgreSQL's
-- B-tree deduplication keeps an order's seven events as one key and seven 6-byte
-- pointers (about 200 bytes less an order). The reader sorts the few rows of one order
-- by seq itself. SQLite's index entries carry the table's key (store_id, seq) anyway,
-- so its index stays as it is.
DROP INDEX order_events_order;
CREATE INDEX order_events_order ON order_events (order_id);
