-- Order documents and event payloads are kept packed (zstd against a dictionary of
-- their shapes; see comanda_store::packed), a seventh of their size. A STRICT table's
-- TEXT column cannot hold them, so both tables are rebuilt with BLOB columns. The
-- values already stored are copied as they are and read as JSON text, as before.
--
-- The log's index by (store, kind, at) goes: nothing reads by it since bumps have an
-- index of their own, and it cost each event about 60 bytes.

CREATE TABLE orders_packed (
    id         BLOB    NOT NULL PRIMARY KEY,
    store_id   BLOB    NOT NULL REFERENCES stores (id),
    number     INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    table_id   BLOB    REFERENCES dining_tables (id),
    opened_by  BLOB,
    total      INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    opened_at  TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    document   BLOB    NOT NULL,
    in_kitchen INTEGER NOT NULL DEFAULT 0 CHECK (in_kitchen IN (0, 1))
) STRICT;

INSERT INTO orders_packed (id, store_id, number, kind, status, table_id, opened_by, total, version, opened_at, updated_at, document, in_kitchen)
SELECT id, store_id, number, kind, status, table_id, opened_by, total, version, opened_at, updated_at, CAST(document AS BLOB), in_kitchen
FROM orders;

DROP TABLE orders;
ALTER TABLE orders_packed RENAME TO orders;

CREATE UNIQUE INDEX orders_number ON orders (store_id, number);
CREATE INDEX orders_store ON orders (store_id, id);
CREATE INDEX orders_status ON orders (store_id, status, id);
CREATE INDEX orders_table ON orders (store_id, table_id, id) WHERE table_id IS NOT NULL;
CREATE INDEX orders_kitchen ON orders (store_id, number) WHERE in_kitchen = TRUE;

CREATE TABLE order_events_packed (
    store_id  BLOB    NOT NULL REFERENCES stores (id),
    seq       INTEGER NOT NULL,
    order_id  BLOB    NOT NULL,
    kind      TEXT    NOT NULL,
    payload   BLOB    NOT NULL,
    actor_id  BLOB,
    device_id BLOB,
    at        TEXT    NOT NULL,
    prev_hash BLOB    NOT NULL,
    hash      BLOB    NOT NULL,
    PRIMARY KEY (store_id, seq)
) STRICT, WITHOUT ROWID;

INSERT INTO order_events_packed (store_id, seq, order_id, kind, payload, actor_id, device_id, at, prev_hash, hash)
SELECT store_id, seq, order_id, kind, CAST(payload AS BLOB), actor_id, device_id, at, prev_hash, hash
FROM order_events;

DROP TABLE order_events;
ALTER TABLE order_events_packed RENAME TO order_events;

CREATE INDEX order_events_order ON order_events (order_id, seq);
CREATE INDEX order_events_bumped ON order_events (store_id, at) WHERE kind = 'bumped';

CREATE TRIGGER order_events_no_update BEFORE UPDATE ON order_events
BEGIN
    SELECT RAISE(ABORT, 'the order log is append-only');
END;

CREATE TRIGGER order_events_no_delete BEFORE DELETE ON order_events
BEGIN
    SELECT RAISE(ABORT, 'the order log is append-only');
END;
