//! Deliveries yield to customers. While the API is busy (a request started within the
//! last second), an instance's workers together start at most `busy_rate` attempts a
//! second; when it is quiet they go as fast as receivers answer. A backlog built up
//! during an outage then drains in the quiet hours instead of competing with Friday
//! night's orders for the same two cores and the same database writer.

use crate::metrics::ApiActivity;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// How recently a request must have started for the API to count as busy.
const BUSY_WINDOW: Duration = Duration::from_secs(1);

pub struct Pacer {
    activity: Arc<ApiActivity>,
    /// Between two attempts while busy; `None`: never paced.
    every: Option<Duration>,
    next: Mutex<Instant>,
}

impl Pacer {
    /// `busy_rate` attempts a second while the API is busy; 0 turns pacing off.
    pub fn new(activity: Arc<ApiActivity>, busy_rate: u32) -> Self {
        Self {
            activity,
            every: (busy_rate > 0).then(|| Duration::from_secs(1) / busy_rate),
            next: Mutex::new(Instant::now()),
        }
    }

    /// Whether attempts are being paced now: the API is busy and pacing is on.
    pub fn pacing(&self) -> bool {
        self.every.is_some() && self.activity.idle_for() < BUSY_WINDOW
    }

    /// Waits for this attempt's turn.
    pub async fn turn(&self) {
        let Some(every) = self.every else { return };
        if !self.pacing() {
            return;
        }
        let at = {
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            let at = (*next).max(Instant::now());
            *next = at + every;
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn eleven_turns(pacer: &Pacer) -> Duration {
        let started = Instant::now();
        for _ in 0..11 {
            pacer.turn().await;
        }
        started.elapsed()
    }

    #[tokio::test]
    async fn paced_only_while_the_api_is_busy() {
        let activity = Arc::new(ApiActivity::default());
        let pacer = Pacer::new(activity.clone(), 100);
        assert!(!pacer.pacing());
        assert!(
            eleven_turns(&pacer).await < Duration::from_millis(50),
            "no request yet: unpaced"
        );
        activity.touch();
        assert!(pacer.pacing());
        assert!(
            eleven_turns(&pacer).await >= Duration::from_millis(95),
            "busy: ten intervals of 10 ms at least"
        );
        let off = Pacer::new(activity.clone(), 0);
        activity.touch();
        assert!(!off.pacing());
        assert!(eleven_turns(&off).await < Duration::from_millis(50));
    }
}
