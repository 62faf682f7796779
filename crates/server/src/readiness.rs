//! Whether this instance may take traffic. The process listens from the first moment
//! (so `/live` answers and probes see why it is not ready), but the API waits until the
//! database is reachable and its schema current.

use std::sync::{Arc, RwLock};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Connecting, migrating or bootstrapping; the reason is the last obstacle met.
    Starting { reason: String },
    /// Start-up finished; readiness now follows the database's answers.
    Serving,
}

#[derive(Clone)]
pub struct Readiness(Arc<RwLock<Phase>>);

impl Readiness {
    pub fn starting() -> Self {
        Self(Arc::new(RwLock::new(Phase::Starting {
            reason: "starting up".to_owned(),
        })))
    }

    /// Already serving: for tests and tools that prepared the database themselves.
    pub fn serving() -> Self {
        Self(Arc::new(RwLock::new(Phase::Serving)))
    }

    pub fn phase(&self) -> Phase {
        self.0
            .read()
            .map(|p| p.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    pub fn set(&self, phase: Phase) {
        let mut guard = self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *guard = phase;
    }

    pub fn waiting(&self, reason: impl Into<String>) {
        self.set(Phase::Starting {
            reason: reason.into(),
        });
    }
}
