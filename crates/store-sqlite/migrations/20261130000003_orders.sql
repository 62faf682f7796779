-- Orders and their log. An order's current state is kept as a JSON document beside the
-- columns lists filter on; every change appends events to the store's log in the same
-- transaction, each chained to the one before by its hash.

CREATE TABLE service_areas (
    id         BLOB    NOT NULL PRIMARY KEY,
    store_id   BLOB    NOT NULL REFERENCES stores (id),
    name       TEXT    NOT NULL,
    position   INTEGER NOT NULL,
    archived   INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
    created_at TEXT    NOT NULL
) STRICT;

CREATE INDEX service_areas_store ON service_areas (store_id);

CREATE TABLE dining_tables (
    id         BLOB    NOT NULL PRIMARY KEY,
    store_id   BLOB    NOT NULL REFERENCES stores (id),
    area_id    BLOB    REFERENCES service_areas (id),
    name       TEXT    NOT NULL,
    seats      INTEGER NOT NULL,
    position   INTEGER NOT NULL,
    archived   INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
    version    INTEGER NOT NULL,
    created_at TEXT    NOT NULL
) STRICT;

CREATE UNIQUE INDEX dining_tables_name ON dining_tables (store_id, name) WHERE archived = 0;

-- The head of each store's log: last sequence and hash, and the last order number.
CREATE TABLE order_log_heads (
    store_id    BLOB    NOT NULL PRIMARY KEY REFERENCES stores (id),
    seq         INTEGER NOT NULL,
    hash        BLOB    NOT NULL,
    last_number INTEGER NOT NULL
) STRICT;

CREATE TABLE orders (
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
    document   TEXT    NOT NULL
) STRICT;

CREATE UNIQUE INDEX orders_number ON orders (store_id, number);
CREATE INDEX orders_store ON orders (store_id, id);
CREATE INDEX orders_status ON orders (store_id, status, id);
CREATE INDEX orders_table ON orders (store_id, table_id, id) WHERE table_id IS NOT NULL;

CREATE TABLE order_events (
    store_id  BLOB    NOT NULL REFERENCES stores (id),
    seq       INTEGER NOT NULL,
    order_id  BLOB    NOT NULL,
    kind      TEXT    NOT NULL,
    payload   TEXT    NOT NULL,
    actor_id  BLOB,
    device_id BLOB,
    at        TEXT    NOT NULL,
    prev_hash BLOB    NOT NULL,
    hash      BLOB    NOT NULL,
    PRIMARY KEY (store_id, seq)
) STRICT, WITHOUT ROWID;

CREATE INDEX order_events_order ON order_events (order_id, seq);

CREATE TRIGGER order_events_no_update BEFORE UPDATE ON order_events
BEGIN
    SELECT RAISE(ABORT, 'the order log is append-only');
END;

CREATE TRIGGER order_events_no_delete BEFORE DELETE ON order_events
BEGIN
    SELECT RAISE(ABORT, 'the order log is append-only');
END;
