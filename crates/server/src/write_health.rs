//! Whether the database takes writes. A write refused because the database cannot write
//! (a full disk, an I/O error) marks it so: `/ready` then says why (a load balancer
//! stops sending this instance traffic it cannot take), `comanda_storage_writable` drops
//! to 0, and a probe tries a small real write every second until one works. Nothing
//! needs a restart: the connection a failed write leaves is closed, not reused.

use crate::state::AppState;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often the probe tries a write while the database cannot take one.
const PROBE_EVERY: Duration = Duration::from_secs(1);

/// Carried by a response refused because the database could not write.
#[derive(Clone, Debug)]
pub struct CannotWrite(pub String);

#[derive(Default)]
pub struct WriteHealth {
    state: Mutex<Broken>,
}

#[derive(Default)]
struct Broken {
    /// Why writes fail, and since when; `None` while they work.
    since: Option<(String, Instant)>,
    /// Whether a probe is running (one at a time).
    probing: bool,
}

impl WriteHealth {
    fn lock(&self) -> std::sync::MutexGuard<'_, Broken> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Why the database cannot take writes, if it cannot.
    pub fn problem(&self) -> Option<String> {
        self.lock().since.as_ref().map(|(reason, since)| {
            format!(
                "the database cannot write ({reason}) for {} s",
                since.elapsed().as_secs()
            )
        })
    }

    /// A write failed for want of a writable database: mark it, and probe until one works.
    pub fn failed(&self, state: &AppState, reason: &str) {
        state.metrics.storage_write_failed();
        let mut broken = self.lock();
        if broken.since.is_none() {
            tracing::error!(reason, "the database cannot write; probing until it can");
            broken.since = Some((reason.to_owned(), Instant::now()));
        }
        if !broken.probing {
            broken.probing = true;
            tokio::spawn(probe(state.clone()));
        }
    }

    /// A probe's write worked: writes work. Under the lock, so a failure reported meanwhile
    /// either is cleared here or starts a probe of its own.
    fn recovered(&self) {
        let mut broken = self.lock();
        broken.probing = false;
        if let Some((_, since)) = broken.since.take() {
            tracing::info!(
                after_s = since.elapsed().as_secs(),
                "the database takes writes again"
            );
        }
    }
}

async fn probe(state: AppState) {
    state.metrics.set_storage_writable(false);
    loop {
        tokio::time::sleep(PROBE_EVERY).await;
        match state.storage.probe_write().await {
            Ok(()) => break,
            Err(e) => tracing::debug!(error = %e, "the database still cannot write"),
        }
    }
    state.write_health.recovered();
    state.metrics.set_storage_writable(true);
}
