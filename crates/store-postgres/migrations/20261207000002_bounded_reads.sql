-- Reads that stay bounded when a store has months of orders.
--
-- The kitchen works on orders with a line sent and not yet finished. Paid orders stay
-- `paid` for good, so finding those by status read every order a store ever sold; the
-- flag is kept with the document on every write and only flagged orders are indexed.
ALTER TABLE orders ADD COLUMN in_kitchen BOOLEAN NOT NULL DEFAULT FALSE;

UPDATE orders SET in_kitchen = TRUE
WHERE status IN ('sent', 'ready', 'served', 'paid')
  AND EXISTS (
      SELECT 1 FROM jsonb_array_elements(document::jsonb -> 'lines') AS line
      WHERE line ->> 'status' IN ('sent', 'preparing')
  );

CREATE INDEX orders_kitchen ON orders (store_id, number) WHERE in_kitchen = TRUE;

-- Preparation times read a period's bumps, not the store's whole log.
CREATE INDEX order_events_bumped ON order_events (store_id, at) WHERE kind = 'bumped';

-- The log tables grow all day; PostgreSQL's default is to re-analyze a table after a
-- tenth of it changed, which for a year of orders means weeks between analyses.
-- comanda also analyzes on its own (see `docs/operations.md`), for servers where
-- autovacuum is off.
ALTER TABLE orders SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_vacuum_scale_factor = 0.05);
ALTER TABLE order_events SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.05);
ALTER TABLE idempotency_keys SET (autovacuum_analyze_scale_factor = 0.05, autovacuum_vacuum_scale_factor = 0.05);
