-- A store's kitchen stations as their screens show them: name, order, and when a ticket
-- turns amber and red. Stations nobody configured show with the defaults.
CREATE TABLE kitchen_stations (
    store_id     UUID    NOT NULL REFERENCES stores (id),
    code         TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    warn_after_s INTEGER NOT NULL,
    late_after_s INTEGER NOT NULL,
    position     INTEGER NOT NULL,
    version      BIGINT  NOT NULL,
    PRIMARY KEY (store_id, code)
);

-- The preparation-time report reads the bumps of a period.
CREATE INDEX order_events_kind ON order_events (store_id, kind, at);
