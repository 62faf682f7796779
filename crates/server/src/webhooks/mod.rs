//! Outbound webhooks: workers that lease a webhook, post its outbox events in order
//! (signed, one attempt each, backing off and finally dead-lettering a receiver that
//! keeps failing), and record what happened. Nothing here runs on a request's path: a
//! sale is committed whether or not any receiver is up.

mod pacer;
mod sender;
mod worker;

use crate::state::AppState;
use comanda_domain::webhooks::RetryPolicy;
use std::time::Duration;

pub use pacer::Pacer;
pub use sender::Sender;

/// Deliveries a second while customers are being served: a few hundred keeps
/// integrations current within seconds and leaves the cores to the orders
/// (`docs/performance.md`).
pub const DEFAULT_BUSY_RATE: u32 = 500;

/// How webhooks are delivered; `COMANDA_WEBHOOK_*` settings.
#[derive(Clone, Debug)]
pub struct WebhookConfig {
    /// Whether receivers on loopback or private networks are allowed (off by default:
    /// see `comanda_domain::webhooks::forbidden_address`).
    pub allow_private: bool,
    pub retry: RetryPolicy,
    /// How long one attempt may take, answer included.
    pub timeout: Duration,
    /// Workers per instance; each delivers to one webhook at a time.
    pub workers: usize,
    /// How often idle workers look for due retries and other instances' events.
    pub poll: Duration,
    /// How long delivered and dead deliveries, and events every webhook has taken, are
    /// kept (the polling feed's reach back, too).
    pub retention: Duration,
    /// Attempts a second per instance while the API is busy; 0: never paced.
    pub busy_rate: u32,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            allow_private: false,
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(10),
            workers: 4,
            poll: Duration::from_secs(1),
            retention: Duration::from_secs(30 * 24 * 3600),
            busy_rate: DEFAULT_BUSY_RATE,
        }
    }
}

impl WebhookConfig {
    /// Sending stops starting new attempts after this long in one lease...
    fn budget(&self) -> Duration {
        Duration::from_secs(10)
    }

    /// ...so a lease outlives its worker's last attempt by a wide margin, and no other
    /// worker takes the webhook while an attempt may still be under way.
    fn lease(&self) -> Duration {
        (self.budget() + self.timeout * 2).max(Duration::from_secs(60))
    }
}

/// A new signing secret, shown once to whoever creates or rolls the webhook.
pub fn new_secret() -> String {
    let bytes = crate::auth::tokens::random_bytes::<32>();
    format!("whsec_{}", data_encoding::BASE64URL_NOPAD.encode(&bytes))
}

/// Starts this instance's delivery workers, and the hourly prune of what is past
/// retention.
pub fn start(state: AppState) -> Result<(), String> {
    let config = state.webhook_config().clone();
    let sender = Sender::new(&config)?;
    let pacer = std::sync::Arc::new(Pacer::new(state.metrics.activity.clone(), config.busy_rate));
    for _ in 0..config.workers.max(1) {
        let courier = worker::Courier {
            config: config.clone(),
            sender: sender.clone(),
            pacer: pacer.clone(),
        };
        tokio::spawn(worker::run(state.clone(), courier));
    }
    tokio::spawn(prune_hourly(state, config.retention));
    Ok(())
}

async fn prune_hourly(state: AppState, retention: Duration) {
    let keep = chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::days(30));
    loop {
        match state
            .storage
            .prune_outbox(comanda_domain::clock::now() - keep)
            .await
        {
            Ok((0, 0)) => {}
            Ok((deliveries, events)) => {
                tracing::info!(deliveries, events, "pruned the outbox past retention")
            }
            Err(e) => tracing::warn!(error = %e, "cannot prune the outbox"),
        }
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
}
