//! Other instances' order commits, heard through `LISTEN comanda_order_log`: each group
//! commit notifies `"{store_id}:{seq}"` in its transaction, so the notice arrives only
//! once the events are visible. Hearing it wakes this instance's kitchen streams, which
//! then read the events from the database. A notice lost while reconnecting costs only
//! time: idle streams look at the database on their own every 250 ms.

use comanda_domain::StoreId;
use comanda_store::log_tail::LogTail;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use std::sync::Weak;
use std::time::Duration;

const CHANNEL: &str = "comanda_order_log";

/// Runs until the storage is gone.
pub async fn follow(pool: PgPool, tail: Weak<LogTail>) {
    while tail.strong_count() > 0 {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::debug!(error = %e, "cannot listen for other instances' orders yet");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %e, "LISTEN {CHANNEL} failed");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        loop {
            let notice =
                match tokio::time::timeout(Duration::from_secs(5), listener.try_recv()).await {
                    // Wake now and then to notice the storage is gone.
                    Err(_) if tail.strong_count() == 0 => return,
                    Err(_) => continue,
                    Ok(Ok(Some(notice))) => notice,
                    // The connection dropped: reconnect.
                    Ok(Ok(None) | Err(_)) => break,
                };
            let Some(tail) = tail.upgrade() else { return };
            if let Some((store, seq)) = parse(notice.payload()) {
                tail.moved(store, seq);
            }
        }
    }
}

fn parse(payload: &str) -> Option<(StoreId, i64)> {
    let (store, seq) = payload.split_once(':')?;
    Some((store.parse().ok()?, seq.parse().ok()?))
}
