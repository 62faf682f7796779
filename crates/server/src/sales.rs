//! The running sales totals, folded from each store's order log into the current
//! business day, and the stock that sales and refunds moved, written to the ledger in
//! the same transaction. A follower keeps them close behind the log in the background; anything
//! that must be exact (an X or Z report, a shift's close) first catches up to the log
//! itself, under the same per-store lock, so a report always counts every committed
//! sale once and only once. With several instances the totals' position is moved with
//! a compare-and-set: whichever instance folds a stretch of the log first writes it.

use crate::error::ApiError;
use crate::log_reads::{self, Source};
use crate::state::AppState;
use comanda_domain::StoreId;
use comanda_domain::reports::{Totals, stock_moved};
use comanda_store::{SalesPosition, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Events read from the log per transaction of totals.
const BATCH: usize = 2_000;
/// The kinds the totals count; the others are skipped without reading their payload.
const COUNTED: [&str; 6] = [
    "paid",
    "payment_taken",
    "refunded",
    "line_voided",
    "sale_refused",
    "cancelled",
];

#[derive(Default)]
pub struct SalesLedger {
    locks: Mutex<HashMap<StoreId, Arc<tokio::sync::Mutex<()>>>>,
}

impl SalesLedger {
    fn lock_of(&self, store: StoreId) -> Arc<tokio::sync::Mutex<()>> {
        self.locks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(store)
            .or_default()
            .clone()
    }
}

/// Folds the log into the totals up to its end; the position reached. While the
/// returned guard is held nobody else folds this store's log.
pub async fn caught_up(
    state: &AppState,
    store: StoreId,
) -> Result<(SalesPosition, tokio::sync::OwnedMutexGuard<()>), ApiError> {
    folded(state, store, Source::Database).await
}

/// [`caught_up`], reading the log from `source`.
async fn folded(
    state: &AppState,
    store: StoreId,
    source: Source,
) -> Result<(SalesPosition, tokio::sync::OwnedMutexGuard<()>), ApiError> {
    let guard = state.sales_ledger.lock_of(store).lock_owned().await;
    let shop = state
        .storage
        .get_store(store)
        .await?
        .ok_or_else(|| ApiError::not_found("store not found"))?;
    let tz = shop.timezone.tz();
    loop {
        let position = state.storage.sales_position(store).await?;
        let events = log_reads::after(state, store, position.applied_seq, BATCH, source).await?;
        let Some(last) = events.last().map(|e| e.seq) else {
            return Ok((position, guard));
        };
        let mut totals = Totals::default();
        let mut stock = Vec::new();
        // A paid order's sale, or a catering order closed on account, ends its holds.
        let settled: Vec<_> = events
            .iter()
            .filter(|e| matches!(e.kind.as_str(), "paid" | "closed"))
            .map(|e| e.order_id)
            .collect();
        for event in events.iter().filter(|e| COUNTED.contains(&e.kind.as_str())) {
            let payload: serde_json::Value = serde_json::from_str(&event.payload)
                .map_err(|e| StoreError::Internal(format!("unreadable event payload: {e}")))?;
            totals.fold(&event.kind, &payload, event.at.with_timezone(&tz));
            let reference = format!("order {}", event.order_id);
            stock.extend(stock_moved(&event.kind, &payload, &reference, event.actor));
        }
        // `false`: another instance folded this stretch first; read the position again.
        state
            .storage
            .apply_sales(store, position, last, &totals, &stock, &settled)
            .await?;
    }
}

/// Folds the log to its end and lets go: for reads (stock, an X report) that must count
/// every sale made so far.
pub async fn up_to_date(state: &AppState, store: StoreId) -> Result<SalesPosition, ApiError> {
    // The follower is usually there already: then there is nothing to fold and no
    // reason to queue behind the store's lock, which would line every X report up
    // behind the others at the end of the evening.
    let position = state.storage.sales_position(store).await?;
    let head = state
        .storage
        .log_head(store)
        .await?
        .map_or(0, |(seq, _)| seq);
    if position.applied_seq >= head {
        return Ok(position);
    }
    let (position, _guard) = caught_up(state, store).await?;
    Ok(position)
}

/// Keeps every store's totals and outbox close behind its log: wakes when a log moves
/// (here or, on PostgreSQL, on another instance), and looks for new stores now and then.
pub fn follow_logs(state: AppState) {
    tokio::spawn(async move {
        let tail = state.storage.log_tail();
        let mut seen: HashMap<StoreId, i64> = HashMap::new();
        let mut listed: Option<Instant> = None;
        loop {
            if listed.is_none_or(|at| at.elapsed() > Duration::from_secs(30)) {
                if let Ok(stores) = state.storage.logged_stores().await {
                    for store in stores {
                        seen.entry(store).or_insert(-1);
                    }
                }
                listed = Some(Instant::now());
            }
            // Stores whose first order came after the last listing.
            for store in tail.stores() {
                seen.entry(store).or_insert(-1);
            }
            for (store, done) in &mut seen {
                let head = *tail.store(*store).watch().borrow();
                if head <= *done {
                    continue;
                }
                let totals = folded(&state, *store, Source::TailFirst).await;
                if let Err(e) = &totals {
                    tracing::warn!(store = %store, error = %e.message, "sales totals fell behind");
                }
                let outbox = crate::outbox::copy_log(&state, *store, Source::TailFirst).await;
                match &outbox {
                    Ok(true) => state.outbox_wake.notify_one(),
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(store = %store, error = %e.message, "the outbox fell behind the order log")
                    }
                }
                if let (Ok((position, _)), Ok(_)) = (totals, outbox) {
                    *done = position.applied_seq.max(head);
                }
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    });
}
