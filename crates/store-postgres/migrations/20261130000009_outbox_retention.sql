-- Old outbox events and finished deliveries are pruned by age; these keep the hourly
-- prune from reading the whole outbox.
CREATE INDEX outbox_events_created ON outbox_events (created_at);
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (updated_at) WHERE status <> 'pending';
