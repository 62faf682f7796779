//! Copies each store's order log into its outbox: the kinds integrations hear about
//! (`order.opened`, `order.paid`, ...) as outbox events, in log order, with the
//! position moved in the same transaction (a compare-and-set, so with several instances
//! a stretch of the log is copied once). Runs in the log follower, off the request path.

use crate::error::ApiError;
use crate::log_reads::{self, Source};
use crate::state::AppState;
use comanda_domain::StoreId;
use comanda_domain::orders::chain::LoggedEvent;
use comanda_domain::webhooks::order_event_type;
use comanda_store::{NewOutboxEvent, StoreError};

/// Log events read per transaction.
const BATCH: usize = 200;

fn outbox_event(event: &LoggedEvent) -> Result<Option<NewOutboxEvent>, StoreError> {
    let Some(kind) = order_event_type(&event.kind) else {
        return Ok(None);
    };
    let details: serde_json::Value = serde_json::from_str(&event.payload)
        .map_err(|e| StoreError::Internal(format!("unreadable event payload: {e}")))?;
    Ok(Some(NewOutboxEvent {
        kind: kind.to_owned(),
        payload: serde_json::json!({
            "order_id": event.order_id,
            "log_seq": event.seq,
            "actor_id": event.actor,
            "device_id": event.device,
            "at": event.at,
            "details": details,
        }),
        at: event.at,
    }))
}

/// Copies the store's log to its outbox up to the log's end; whether anything was added.
pub async fn copy_log(state: &AppState, store: StoreId, source: Source) -> Result<bool, ApiError> {
    let mut added = false;
    loop {
        let from = state.storage.outbox_log_position(store).await?;
        let events = log_reads::after(state, store, from, BATCH, source).await?;
        let Some(last) = events.last().map(|e| e.seq) else {
            return Ok(added);
        };
        let mut out = Vec::new();
        for event in &events {
            out.extend(outbox_event(event)?);
        }
        // `false`: another instance copied this stretch first; read the position again.
        if state
            .storage
            .copy_log_to_outbox(store, from, last, &out)
            .await?
        {
            added |= !out.is_empty();
        }
    }
}
