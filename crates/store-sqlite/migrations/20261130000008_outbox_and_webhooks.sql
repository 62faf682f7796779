-- The outbox: the events integrations hear about, numbered per store in the order their
-- transactions committed (the head row is locked by every writer, last in its
-- transaction), and the outbound webhooks that deliver them, each with its own cursor.

CREATE TABLE outbox_heads (
    store_id BLOB    NOT NULL PRIMARY KEY REFERENCES stores (id),
    -- The last event's number.
    seq      INTEGER NOT NULL,
    -- How far the order log has been copied.
    log_seq  INTEGER NOT NULL
) STRICT;

CREATE TABLE outbox_events (
    store_id   BLOB    NOT NULL REFERENCES stores (id),
    seq        INTEGER NOT NULL,
    id         BLOB    NOT NULL UNIQUE,
    kind       TEXT    NOT NULL,
    payload    TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    PRIMARY KEY (store_id, seq)
) STRICT;

CREATE TABLE webhooks (
    id          BLOB    NOT NULL PRIMARY KEY,
    store_id    BLOB    NOT NULL REFERENCES stores (id),
    url         TEXT    NOT NULL,
    secret      TEXT    NOT NULL,
    events      TEXT    NOT NULL,
    description TEXT    NOT NULL,
    active      INTEGER NOT NULL,
    -- Outbox events up to here have been taken (delivered, dead, or pending below).
    taken_seq   INTEGER NOT NULL,
    -- When the earliest pending delivery is due; NULL when none is pending.
    retry_at    TEXT,
    lease_token BLOB,
    lease_until TEXT,
    version     INTEGER NOT NULL,
    created_by  BLOB,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
) STRICT;

CREATE INDEX webhooks_store ON webhooks (store_id);

CREATE TABLE webhook_deliveries (
    id              BLOB    NOT NULL PRIMARY KEY,
    webhook_id      BLOB    NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    store_id        BLOB    NOT NULL,
    seq             INTEGER NOT NULL,
    event_id        BLOB    NOT NULL,
    kind            TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at TEXT,
    last_status     INTEGER,
    last_error      TEXT,
    history         TEXT    NOT NULL,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL,
    UNIQUE (webhook_id, seq)
) STRICT;

CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (webhook_id, seq) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_status ON webhook_deliveries (webhook_id, status, seq);
