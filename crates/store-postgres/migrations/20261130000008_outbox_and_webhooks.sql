-- The outbox: the events integrations hear about, numbered per store in the order their
-- transactions committed (the head row is locked by every writer, last in its
-- transaction), and the outbound webhooks that deliver them, each with its own cursor.

CREATE TABLE outbox_heads (
    store_id UUID    NOT NULL PRIMARY KEY REFERENCES stores (id),
    -- The last event's number.
    seq      BIGINT  NOT NULL,
    -- How far the order log has been copied.
    log_seq  BIGINT  NOT NULL
);

CREATE TABLE outbox_events (
    store_id   UUID    NOT NULL REFERENCES stores (id),
    seq        BIGINT  NOT NULL,
    id         UUID    NOT NULL UNIQUE,
    kind       TEXT    NOT NULL,
    payload    TEXT    NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (store_id, seq)
);

CREATE TABLE webhooks (
    id          UUID    NOT NULL PRIMARY KEY,
    store_id    UUID    NOT NULL REFERENCES stores (id),
    url         TEXT    NOT NULL,
    secret      TEXT    NOT NULL,
    events      TEXT    NOT NULL,
    description TEXT    NOT NULL,
    active      BOOLEAN NOT NULL,
    -- Outbox events up to here have been taken (delivered, dead, or pending below).
    taken_seq   BIGINT  NOT NULL,
    -- When the earliest pending delivery is due; NULL when none is pending.
    retry_at    TIMESTAMPTZ,
    lease_token UUID,
    lease_until TIMESTAMPTZ,
    version     BIGINT  NOT NULL,
    created_by  UUID,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE INDEX webhooks_store ON webhooks (store_id);

CREATE TABLE webhook_deliveries (
    id              UUID    NOT NULL PRIMARY KEY,
    webhook_id      UUID    NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    store_id        UUID    NOT NULL,
    seq             BIGINT  NOT NULL,
    event_id        UUID    NOT NULL,
    kind            TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at TIMESTAMPTZ,
    last_status     INTEGER,
    last_error      TEXT,
    history         TEXT    NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (webhook_id, seq)
);

CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (webhook_id, seq) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_status ON webhook_deliveries (webhook_id, status, seq);
