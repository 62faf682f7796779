//! Reading a store's order log after a position, for the work that follows it (kitchen
//! streams, the sales totals, the outbox copy).

use crate::state::AppState;
use comanda_domain::StoreId;
use comanda_domain::orders::chain::LoggedEvent;
use comanda_store::StoreError;
use std::sync::Arc;

/// Where a reader takes the events from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The database: exact, whichever instance wrote them. For anything that must count
    /// every committed event (reports, a shift's close).
    Database,
    /// What this instance committed, when it holds everything after the position, else
    /// the database. It may not yet know of another instance's commits, so only for
    /// readers that come round again when the log moves (it spares the database the
    /// reads of a log it was just sent).
    TailFirst,
}

/// At most `limit` events after `seq`, in order.
pub async fn after(
    state: &AppState,
    store: StoreId,
    seq: i64,
    limit: usize,
    source: Source,
) -> Result<Vec<Arc<LoggedEvent>>, StoreError> {
    if source == Source::TailFirst
        && let Some(known) = state.storage.log_tail().store(store).after(seq, limit)
    {
        return Ok(known);
    }
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let events = state.storage.log_after(store, seq, limit).await?;
    Ok(events.into_iter().map(Arc::new).collect())
}
