//! Shifts, the running sales totals folded from each store's order log, and the Z
//! reports that close business days.

use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use comanda_domain::catalog::stock::NewMovement;
use comanda_domain::reports::{TotalRow, Totals};
use comanda_domain::shifts::Shift;
use comanda_domain::{DeviceId, ShiftId, StoreId, UserId};
use serde::Serialize;

/// How far a store's totals have read its log, and the business day they add to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SalesPosition {
    pub applied_seq: i64,
    pub day: i64,
    /// The day covers the log after this sequence.
    pub day_from_seq: i64,
    pub day_opened_at: DateTime<Utc>,
}

/// A closed business day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ZReport {
    pub store_id: StoreId,
    pub number: i64,
    pub from_seq: i64,
    pub to_seq: i64,
    pub opened_at: DateTime<Utc>,
    pub closed_at: DateTime<Utc>,
    pub closed_by: Option<UserId>,
    /// The report as it was issued (JSON).
    pub document: String,
}

#[async_trait]
pub trait ReportRepo: Send + Sync {
    /// Writes a new shift, numbered; `Conflict` if the terminal has one open.
    async fn open_shift(&self, shift: &Shift) -> Result<Shift>;
    async fn get_shift(&self, store: StoreId, id: ShiftId) -> Result<Option<Shift>>;
    /// The terminal's open shift.
    async fn open_shift_of(&self, store: StoreId, device: DeviceId) -> Result<Option<Shift>>;
    /// Replaces a shift read at `expected_version`; `VersionMismatch` if stale.
    async fn save_shift(&self, shift: &Shift, expected_version: i64) -> Result<Shift>;
    /// The open shifts, or those closed in business day `day`, by number.
    async fn list_shifts(&self, store: StoreId, day: Option<i64>) -> Result<Vec<Shift>>;

    /// Where the store's totals stand (day 1, nothing read, for a new store).
    async fn sales_position(&self, store: StoreId) -> Result<SalesPosition>;
    /// Adds `changes` (the events after `from.applied_seq` up to `to_seq`) to the day
    /// `from.day`, and moves the position, in one transaction; `false` (nothing written)
    /// when the position moved meanwhile (another instance got there first).
    /// Stock sold and given back in that stretch is written to the ledger in the same
    /// transaction (for products that track stock; never refused, the sale was made),
    /// and the orders `settled` (paid, or closed on account) give back what they held.
    async fn apply_sales(
        &self,
        store: StoreId,
        from: SalesPosition,
        to_seq: i64,
        changes: &Totals,
        stock: &[NewMovement],
        settled: &[comanda_domain::OrderId],
    ) -> Result<bool>;
    /// A day's totals.
    async fn sales_totals(&self, store: StoreId, day: i64) -> Result<Vec<TotalRow>>;
    /// Closes the business day at `at` (its totals read up to `at.applied_seq`) with its
    /// Z report, and opens the next; `false` (nothing written) if the position moved.
    async fn close_day(
        &self,
        store: StoreId,
        at: SalesPosition,
        closed_at: DateTime<Utc>,
        closed_by: Option<UserId>,
        document: &str,
    ) -> Result<bool>;
    /// Z reports, newest first, before `before` (a number).
    async fn z_reports(
        &self,
        store: StoreId,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<ZReport>>;
    async fn z_report(&self, store: StoreId, number: i64) -> Result<Option<ZReport>>;

    /// Whether the card processor's webhook event `id` was already handled.
    async fn processor_event_seen(&self, provider: &str, id: &str) -> Result<bool>;
    /// Records a handled webhook event; `false` if it was already recorded.
    async fn note_processor_event(&self, provider: &str, id: &str, kind: &str) -> Result<bool>;
}
