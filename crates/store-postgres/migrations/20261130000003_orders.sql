-- Orders and their log. An order's current state is kept as a JSON document beside the
-- columns lists filter on; every change appends events to the store's log in the same
-- transaction, each chained to the one before by its hash.

CREATE TABLE service_areas (
    id         UUID        NOT NULL PRIMARY KEY,
    store_id   UUID        NOT NULL REFERENCES stores (id),
    name       TEXT        NOT NULL,
    position   INTEGER     NOT NULL,
    archived   BOOLEAN     NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX service_areas_store ON service_areas (store_id);

CREATE TABLE dining_tables (
    id         UUID        NOT NULL PRIMARY KEY,
    store_id   UUID        NOT NULL REFERENCES stores (id),
    area_id    UUID        REFERENCES service_areas (id),
    name       TEXT        NOT NULL,
    seats      INTEGER     NOT NULL,
    position   INTEGER     NOT NULL,
    archived   BOOLEAN     NOT NULL DEFAULT FALSE,
    version    BIGINT      NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE UNIQUE INDEX dining_tables_name ON dining_tables (store_id, name) WHERE NOT archived;

-- The head of each store's log: last sequence and hash, and the last order number.
CREATE TABLE order_log_heads (
    store_id    UUID   NOT NULL PRIMARY KEY REFERENCES stores (id),
    seq         BIGINT NOT NULL,
    hash        BYTEA  NOT NULL,
    last_number BIGINT NOT NULL
);

CREATE TABLE orders (
    id         UUID        NOT NULL PRIMARY KEY,
    store_id   UUID        NOT NULL REFERENCES stores (id),
    number     BIGINT      NOT NULL,
    kind       TEXT        NOT NULL,
    status     TEXT        NOT NULL,
    table_id   UUID        REFERENCES dining_tables (id),
    opened_by  UUID,
    total      BIGINT      NOT NULL,
    version    BIGINT      NOT NULL,
    opened_at  TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    document   TEXT        NOT NULL
);

CREATE UNIQUE INDEX orders_number ON orders (store_id, number);
CREATE INDEX orders_store ON orders (store_id, id);
CREATE INDEX orders_status ON orders (store_id, status, id);
CREATE INDEX orders_table ON orders (store_id, table_id, id) WHERE table_id IS NOT NULL;

CREATE TABLE order_events (
    store_id  UUID        NOT NULL REFERENCES stores (id),
    seq       BIGINT      NOT NULL,
    order_id  UUID        NOT NULL,
    kind      TEXT        NOT NULL,
    payload   TEXT        NOT NULL,
    actor_id  UUID,
    device_id UUID,
    at        TIMESTAMPTZ NOT NULL,
    prev_hash BYTEA       NOT NULL,
    hash      BYTEA       NOT NULL,
    PRIMARY KEY (store_id, seq)
);

CREATE INDEX order_events_order ON order_events (order_id, seq);

CREATE FUNCTION order_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the order log is append-only';
END;
$$;

CREATE TRIGGER order_events_append_only BEFORE UPDATE OR DELETE ON order_events
    FOR EACH ROW EXECUTE FUNCTION order_events_append_only();
