-- An event's previous hash is the hash of the event before it in its store's log (or
-- the genesis hash): a walk of the log has it in hand, so it is no longer stored with
-- each event (32 bytes an event). A release that writes it cannot write events here,
-- so this migration is one-way.

ALTER TABLE order_events DROP COLUMN prev_hash;
