//! Keeps each store's compression dictionary current (see `comanda_store::packed`):
//! when the server is ready and every ten minutes, a store that has sold enough since
//! its last dictionary gets a new one, and dictionaries other instances made are taken
//! up.

use crate::AppState;
use comanda_store::packed::Renewal;
use std::time::Duration;

const EVERY: Duration = Duration::from_secs(600);

/// When stores get a new dictionary, and what it is made of: their recent orders as
/// this server answers a write of them.
pub fn renewal() -> Renewal {
    Renewal {
        answer: Some(crate::routes::orders::answer_of_document),
        ..Renewal::default()
    }
}

/// Refreshes now and then every ten minutes, for the life of the server.
pub fn spawn_upkeep(state: AppState) {
    tokio::spawn(async move {
        let rule = renewal();
        let mut every = tokio::time::interval(EVERY);
        loop {
            every.tick().await;
            match state.storage.refresh_packing_dictionaries(&rule).await {
                Ok(made) if made.is_empty() => {}
                Ok(made) => tracing::info!(stores = made.len(), "new packing dictionaries"),
                Err(e) => tracing::warn!(error = %e, "could not refresh packing dictionaries"),
            }
        }
    });
}
