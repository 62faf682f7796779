-- Reads that stay bounded when a store has months of orders.
--
-- The kitchen works on orders with a line sent and not yet finished. Paid orders stay
-- `paid` for good, so finding those by status read every order a store ever sold; the
-- flag is kept with the document on every write and only flagged orders are indexed.
ALTER TABLE orders ADD COLUMN in_kitchen INTEGER NOT NULL DEFAULT 0 CHECK (in_kitchen IN (0, 1));

UPDATE orders SET in_kitchen = 1
WHERE status IN ('sent', 'ready', 'served', 'paid')
  AND EXISTS (
      SELECT 1 FROM json_each(orders.document, '$.lines') AS line
      WHERE json_extract(line.value, '$.status') IN ('sent', 'preparing')
  );

CREATE INDEX orders_kitchen ON orders (store_id, number) WHERE in_kitchen = TRUE;

-- Preparation times read a period's bumps, not the store's whole log.
CREATE INDEX order_events_bumped ON order_events (store_id, at) WHERE kind = 'bumped';
