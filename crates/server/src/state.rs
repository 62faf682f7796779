use crate::metrics::Metrics;
use crate::readiness::Readiness;
use comanda_store::Storage;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Instant;

#[derive(Clone, Copy, Debug)]
pub struct BuildInfo {
    pub version: &'static str,
    /// Set by the build (`COMANDA_GIT_SHA`), "unknown" otherwise.
    pub git_sha: &'static str,
}

impl BuildInfo {
    pub const CURRENT: BuildInfo = BuildInfo {
        version: env!("CARGO_PKG_VERSION"),
        git_sha: match option_env!("COMANDA_GIT_SHA") {
            Some(sha) => sha,
            None => "unknown",
        },
    };
}

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub storage: Arc<dyn Storage>,
    pub metrics: Metrics,
    pub readiness: Readiness,
    pub started_at: Instant,
    pub build: BuildInfo,
}

impl AppState {
    pub fn new(storage: Arc<dyn Storage>, readiness: Readiness) -> Self {
        let build = BuildInfo::CURRENT;
        Self(Arc::new(Inner {
            metrics: Metrics::new(build, storage.backend()),
            storage,
            readiness,
            started_at: Instant::now(),
            build,
        }))
    }
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
