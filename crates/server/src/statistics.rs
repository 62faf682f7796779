//! Keeps the query planner's statistics current: when the server is ready (right after
//! its migrations), every ten minutes, and after a bulk import. Hot queries are written
//! so that no statistics can turn them into a scan; the rest plan well on current ones.
//! PostgreSQL's autovacuum would do this too, but waits longer and may be switched off.

use crate::AppState;
use std::time::Duration;

const EVERY: Duration = Duration::from_secs(600);

/// Refreshes now and then every ten minutes, for the life of the server.
pub fn spawn_upkeep(state: AppState) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(EVERY);
        loop {
            every.tick().await;
            refresh(&state).await;
        }
    });
}

/// Refreshes once, in the background: after a write of many rows at once.
pub fn refresh_soon(state: &AppState) {
    let state = state.clone();
    tokio::spawn(async move { refresh(&state).await });
}

async fn refresh(state: &AppState) {
    if let Err(e) = state.storage.refresh_statistics().await {
        tracing::warn!(error = %e, "could not refresh the planner's statistics");
    }
}
