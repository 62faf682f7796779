//! Orders, their tables, and the store's hash-chained order log.

use crate::page::{Limit, Page};
use crate::{Result, StoredResponse};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use comanda_domain::orders::chain::LoggedEvent;
use comanda_domain::orders::commands::{Event, OrderPolicy};
use comanda_domain::orders::kitchen::Station;
use comanda_domain::orders::{Order, OrderKind, OrderStatus};
use comanda_domain::{DeviceId, OrderId, ServiceAreaId, StoreId, TableId, UserId};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ServiceArea {
    pub id: ServiceAreaId,
    pub store_id: StoreId,
    pub name: String,
    pub position: i32,
    pub archived: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct DiningTable {
    pub id: TableId,
    pub store_id: StoreId,
    pub area_id: Option<ServiceAreaId>,
    pub name: String,
    pub seats: i32,
    pub position: i32,
    pub archived: bool,
    pub version: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableDraft {
    pub area_id: Option<ServiceAreaId>,
    pub name: String,
    pub seats: i32,
    pub position: i32,
    pub archived: bool,
}

/// Which orders a list returns; every filter is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrderFilter {
    pub statuses: Vec<OrderStatus>,
    pub table: Option<TableId>,
    pub kind: Option<OrderKind>,
    pub opened_by: Option<UserId>,
    pub opened_from: Option<DateTime<Utc>>,
    pub opened_until: Option<DateTime<Utc>>,
}

/// One order to write: a new one (`expected_version: None`, numbered on write) or a
/// change to one read at `expected_version`.
#[derive(Clone, Debug)]
pub struct OrderWrite {
    pub order: Order,
    pub expected_version: Option<i64>,
}

/// What one order holds of the stock of each counted variant once a commit is written
/// (see [`Order::stock_to_hold`]): every variant it holds, none left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StockHold {
    pub order: OrderId,
    pub variants: Vec<(comanda_domain::VariantId, i64)>,
}

/// Orders changed together (a merge writes two) and the events they log, in order;
/// `events[i].0` indexes `orders`.
#[derive(Clone, Debug)]
pub struct OrderCommit {
    pub store: StoreId,
    pub orders: Vec<OrderWrite>,
    pub events: Vec<(usize, Event)>,
    pub actor: Option<UserId>,
    pub device: Option<DeviceId>,
    /// The request's `Idempotency-Key`, whose answer is kept in the write's transaction.
    pub idempotency: Option<crate::IdempotencyClaim>,
}

#[derive(Clone, Debug)]
pub enum CommitOutcome {
    /// Written: the orders as stored (numbered), the events as logged, and the answer.
    Committed {
        orders: Vec<Order>,
        events: Vec<LoggedEvent>,
        response: StoredResponse,
    },
    /// Another request with the same key finished first; nothing was written.
    Replayed(StoredResponse),
    /// The key is held by a different request (`mismatch`) or one still running;
    /// nothing was written.
    KeyTaken { mismatch: bool },
}

/// Builds the answer to a write from the orders as they will be stored.
pub type Respond = dyn Fn(&[Order]) -> Result<StoredResponse> + Send + Sync;

#[async_trait]
pub trait OrderRepo: Send + Sync {
    async fn create_area(&self, store: StoreId, name: &str, position: i32) -> Result<ServiceArea>;
    async fn list_areas(&self, store: StoreId) -> Result<Vec<ServiceArea>>;

    /// `Invalid` (`area_id`) for an area of another store; `Conflict` for a taken name.
    async fn create_table(&self, store: StoreId, draft: &TableDraft) -> Result<DiningTable>;
    async fn update_table(
        &self,
        store: StoreId,
        id: TableId,
        expected_version: i64,
        draft: &TableDraft,
    ) -> Result<DiningTable>;
    async fn get_table(&self, store: StoreId, id: TableId) -> Result<Option<DiningTable>>;
    async fn list_tables(&self, store: StoreId) -> Result<Vec<DiningTable>>;

    /// The store's approval rules; the defaults (version 0) until first changed.
    async fn order_policy(&self, store: StoreId) -> Result<OrderPolicy>;
    /// Replaces the rules set at `expected_version` (0 for the defaults).
    async fn set_order_policy(
        &self,
        store: StoreId,
        expected_version: i64,
        policy: &OrderPolicy,
    ) -> Result<OrderPolicy>;

    async fn get_order(&self, store: StoreId, id: OrderId) -> Result<Option<Order>>;
    /// Newest first; `before` is the cursor.
    async fn list_orders(
        &self,
        store: StoreId,
        filter: &OrderFilter,
        before: Option<OrderId>,
        limit: Limit,
    ) -> Result<Page<Order, OrderId>>;

    /// Writes orders and appends their events to the store's log, chained, in one
    /// transaction; with the request's key, keeps `respond`'s answer in it too. A stale
    /// `expected_version` fails with `VersionMismatch` and writes nothing. Commits that
    /// arrive together share one database transaction (group commit), each in its own
    /// savepoint, and none is answered before that transaction is durable.
    async fn commit_orders(
        &self,
        commit: OrderCommit,
        respond: Box<Respond>,
    ) -> Result<CommitOutcome>;

    /// The events of one order, in sequence.
    async fn order_events(&self, store: StoreId, order: OrderId) -> Result<Vec<LoggedEvent>>;

    /// The store's log after `after_seq`, in sequence, at most `limit`.
    async fn log_after(
        &self,
        store: StoreId,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<LoggedEvent>>;

    /// Stores that have a log, for verifying every chain.
    async fn logged_stores(&self) -> Result<Vec<StoreId>>;

    /// Gives each store that has sold enough since its last dictionary a new one, made
    /// of its latest orders (see [`crate::packed`]), and packs every store's new values
    /// with its newest, including dictionaries another instance made. The stores given a
    /// new one.
    async fn refresh_packing_dictionaries(
        &self,
        rule: &crate::packed::Renewal,
    ) -> Result<Vec<StoreId>>;

    /// The last sequence number and hash of a store's log, kept apart from the events,
    /// so events cut from the end are noticed too.
    async fn log_head(&self, store: StoreId) -> Result<Option<(i64, Vec<u8>)>>;

    /// The orders with a line still in the kitchen, and the
    /// sequence of the store's log they are current to, read in one snapshot: a screen
    /// that starts from them and follows the log from that sequence misses nothing and
    /// sees nothing twice.
    async fn kitchen_orders(&self, store: StoreId) -> Result<(i64, Vec<Order>)>;

    /// The kitchen's bumps logged in `[from, until)`, in log order.
    async fn bumps_between(
        &self,
        store: StoreId,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<LoggedEvent>>;

    /// The store's configured kitchen stations, in screen order.
    async fn list_stations(&self, store: StoreId) -> Result<Vec<Station>>;

    /// Creates (`expected_version` 0) or changes a station; `VersionMismatch` if stale.
    async fn put_station(
        &self,
        store: StoreId,
        station: &Station,
        expected_version: i64,
    ) -> Result<Station>;

    /// The end of the logs as this instance wrote them, and their movements.
    fn log_tail(&self) -> std::sync::Arc<crate::log_tail::LogTail>;
}

/// An order's document as stored.
#[doc(hidden)]
pub fn order_to_text(order: &Order) -> Result<String> {
    serde_json::to_string(order).map_err(|e| crate::StoreError::Internal(e.to_string()))
}

/// An order's document as read from its row (packed, or JSON text from before values
/// were packed).
#[doc(hidden)]
pub fn order_from_stored(
    dictionaries: &crate::packed::Dictionaries,
    stored: Vec<u8>,
) -> Result<Order> {
    serde_json::from_slice(&dictionaries.unpack(stored)?)
        .map_err(|e| crate::StoreError::Internal(format!("unreadable order document: {e}")))
}

/// What the order costs with its tip, for lists and reports.
#[doc(hidden)]
pub fn order_due(order: &Order) -> Result<i64> {
    comanda_domain::orders::totals::totals(order)
        .map(|t| t.due)
        .map_err(|e| crate::StoreError::Internal(format!("order totals: {e}")))
}

#[doc(hidden)]
pub fn payload_text(event: &Event) -> Result<String> {
    serde_json::to_string(&event.payload).map_err(|e| crate::StoreError::Internal(e.to_string()))
}
