-- Order documents and event payloads are kept packed (zstd against a dictionary of
-- their shapes; see comanda_store::packed), a seventh of their size: bytes, not text.
-- The values already stored are converted as they are and read as JSON text, as before.
-- Packed values are small and do not compress further, so PostgreSQL's own compression
-- of large values no longer finds anything to do on these columns.
--
-- The log's index by (store, kind, at) goes: nothing reads by it since bumps have an
-- index of their own.

DROP INDEX order_events_kind;
ALTER TABLE orders ALTER COLUMN document TYPE bytea USING convert_to(document, 'UTF8');
ALTER TABLE order_events ALTER COLUMN payload TYPE bytea USING convert_to(payload, 'UTF8');
