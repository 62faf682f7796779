-- Webhook events from the card processor already handled, by their id: a delivery
-- repeated by the processor is answered without being handled again.
CREATE TABLE processor_events (
    provider    TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    kind        TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (provider, event_id)
) STRICT;
