//! The outbox and the outbound webhooks that deliver it.
//!
//! Events are numbered per store (`seq`, from 1, without gaps) in the order their
//! transactions committed: every writer bumps the store's head row last in its
//! transaction, so a reader that has seen `seq` n has seen everything before it. Order
//! events are copied from the order log by a follower (a compare-and-set of the log
//! position, like the sales totals); the other producers (shifts, Z reports, stock
//! falling low) append in the transaction of their own change.
//!
//! Each webhook reads the outbox with its own cursor and delivers in order: a delivery
//! that fails is kept `pending` and holds back the later ones until it succeeds or runs
//! out of attempts (`dead`). A worker leases a webhook before it sends, so several
//! instances never deliver the same event to the same receiver at once.

use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use comanda_domain::webhooks::EventFilter;
use comanda_domain::{DeliveryId, OutboxEventId, StoreId, UserId, WebhookId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq)]
pub struct NewOutboxEvent {
    pub kind: String,
    pub payload: serde_json::Value,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct OutboxEvent {
    pub store_id: StoreId,
    pub seq: i64,
    pub id: OutboxEventId,
    pub kind: String,
    /// JSON text.
    #[serde(skip)]
    pub payload: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Webhook {
    pub id: WebhookId,
    pub store_id: StoreId,
    pub url: String,
    pub events: EventFilter,
    pub description: String,
    pub active: bool,
    pub version: i64,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A webhook leased to one worker until `lease_until`.
#[derive(Clone, Debug)]
pub struct LeasedWebhook {
    pub webhook: Webhook,
    pub secret: String,
    pub token: Uuid,
    /// Outbox events up to here are taken.
    pub taken_seq: i64,
    /// When the first pending delivery is due, if one is pending.
    pub retry_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not yet delivered: waiting for its next attempt.
    Pending,
    Delivered,
    /// Out of attempts; kept for a replay.
    Dead,
}

impl DeliveryStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Dead => "dead",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Dead]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// One try at posting an event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Attempt {
    pub at: DateTime<Utc>,
    pub duration_ms: i64,
    /// The receiver's HTTP status, if it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Delivery {
    pub id: DeliveryId,
    pub webhook_id: WebhookId,
    pub store_id: StoreId,
    pub seq: i64,
    pub event_id: OutboxEventId,
    pub kind: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub attempt_log: Vec<Attempt>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Which deliveries to send again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replay {
    One(DeliveryId),
    AllDead,
}

#[async_trait]
pub trait OutboxRepo: Send + Sync {
    /// How far the store's order log has been copied to the outbox.
    async fn outbox_log_position(&self, store: StoreId) -> Result<i64>;
    /// Appends `events` (made from the log after `from_log_seq` up to `to_log_seq`) and
    /// moves the position, in one transaction; `false` (nothing written) when the
    /// position moved meanwhile.
    async fn copy_log_to_outbox(
        &self,
        store: StoreId,
        from_log_seq: i64,
        to_log_seq: i64,
        events: &[NewOutboxEvent],
    ) -> Result<bool>;
    /// The outbox after `after_seq`, in order.
    async fn outbox_after(
        &self,
        store: StoreId,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<OutboxEvent>>;
    /// The number of the store's last event (0 before the first).
    async fn outbox_head(&self, store: StoreId) -> Result<i64>;

    /// Writes a new webhook that hears the events after the store's current head.
    async fn create_webhook(&self, webhook: &Webhook, secret: &str) -> Result<Webhook>;
    async fn get_webhook(&self, store: StoreId, id: WebhookId) -> Result<Option<Webhook>>;
    async fn list_webhooks(&self, store: StoreId) -> Result<Vec<Webhook>>;
    /// Replaces a webhook read at `expected_version`; `VersionMismatch` if stale.
    async fn update_webhook(&self, webhook: &Webhook, expected_version: i64) -> Result<Webhook>;
    async fn set_webhook_secret(&self, store: StoreId, id: WebhookId, secret: &str) -> Result<()>;
    /// Removes a webhook and its deliveries.
    async fn delete_webhook(&self, store: StoreId, id: WebhookId) -> Result<()>;

    /// Leases up to `limit` active webhooks that have work (a pending delivery due, or
    /// none pending and events past their cursor) and no live lease, until `until`.
    async fn lease_webhooks(
        &self,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<LeasedWebhook>>;
    /// A webhook's pending deliveries in order, each with its event.
    async fn pending_deliveries(
        &self,
        id: WebhookId,
        limit: i64,
    ) -> Result<Vec<(Delivery, OutboxEvent)>>;
    /// Writes what a lease did (deliveries made, failed or given up; the cursor moved
    /// to `taken_seq`) and ends the lease; `false` (nothing written) if the lease was
    /// lost (expired and taken by another worker).
    async fn finish_lease(
        &self,
        id: WebhookId,
        token: Uuid,
        taken_seq: i64,
        deliveries: &[Delivery],
    ) -> Result<bool>;

    /// Forgets what is no longer needed, in batches: finished deliveries last changed
    /// before `before`, and outbox events made before it that every webhook of their
    /// store has taken and no pending delivery needs; how many of each.
    async fn prune_outbox(&self, before: DateTime<Utc>) -> Result<(u64, u64)>;

    /// A webhook's deliveries, newest first, before `before_seq`.
    async fn list_deliveries(
        &self,
        store: StoreId,
        id: WebhookId,
        status: Option<DeliveryStatus>,
        before_seq: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Delivery>>;
    async fn get_delivery(
        &self,
        store: StoreId,
        id: WebhookId,
        delivery: DeliveryId,
    ) -> Result<Option<Delivery>>;
    /// Makes finished deliveries pending again, due at `now`; how many.
    async fn replay_deliveries(
        &self,
        store: StoreId,
        id: WebhookId,
        which: Replay,
        now: DateTime<Utc>,
    ) -> Result<u64>;
}
