use crate::auth::config::AuthConfig;
use crate::auth::limiter::{Limiter, LocalBuckets};
use crate::auth::principal::PrincipalCache;
use crate::auth::tokens::{SigningKey, random_bytes};
use crate::error::ApiError;
use crate::menu::MenuCache;
use crate::metrics::Metrics;
use crate::readiness::Readiness;
use comanda_store::{Storage, StoreError};
use std::ops::Deref;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

const SIGNING_KEY: &str = "access_token_hs256";

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

/// How long a request may take: to send its body, and to be answered (until the
/// response head; a stream then runs as long as it runs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestDeadlines {
    pub body: std::time::Duration,
    pub answer: std::time::Duration,
}

impl Default for RequestDeadlines {
    fn default() -> Self {
        Self {
            body: std::time::Duration::from_secs(30),
            answer: std::time::Duration::from_secs(30),
        }
    }
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
    pub auth: AuthConfig,
    pub limiter: Limiter,
    pub principals: PrincipalCache,
    /// Keeps the security log to one "throttled" entry per client per minute.
    pub throttle_log: LocalBuckets,
    /// Each store's latest menu document, ready to send.
    pub menus: MenuCache,
    /// What each store sells, for pricing order lines.
    pub sales: crate::sale_catalog::SaleCache,
    /// Orders this instance wrote last.
    pub orders: crate::order_cache::OrderCache,
    /// Kitchen stream messages, shared by the screens of a station.
    pub kitchen_messages: crate::kitchen_messages::KitchenMessages,
    /// Who is folding which store's log into its sales totals.
    pub sales_ledger: crate::sales::SalesLedger,
    signing_key: OnceLock<SigningKey>,
    /// The card processor, when one is configured.
    stripe: OnceLock<crate::stripe::Stripe>,
    /// Wakes the webhook workers when the outbox grew.
    pub outbox_wake: tokio::sync::Notify,
    /// Whether the database takes writes (it may not: a full disk).
    pub write_health: crate::write_health::WriteHealth,
    webhooks: OnceLock<crate::webhooks::WebhookConfig>,
    /// The keys secrets at rest are sealed with.
    vault: OnceLock<crate::auth::vault::Vault>,
    deadlines: OnceLock<RequestDeadlines>,
}

impl AppState {
    /// Turns card payments on (once, at start-up).
    pub fn set_stripe(&self, stripe: crate::stripe::Stripe) {
        let _ = self.0.stripe.set(stripe);
    }

    pub fn stripe(&self) -> Option<&crate::stripe::Stripe> {
        self.0.stripe.get()
    }

    /// Sets how webhooks are delivered (once, at start-up, before the workers start).
    pub fn set_webhook_config(&self, config: crate::webhooks::WebhookConfig) {
        let _ = self.0.webhooks.set(config);
    }

    pub fn webhook_config(&self) -> &crate::webhooks::WebhookConfig {
        self.0.webhooks.get_or_init(Default::default)
    }

    /// Sets how long requests may take (once, at start-up, before serving).
    pub fn set_deadlines(&self, deadlines: RequestDeadlines) {
        let _ = self.0.deadlines.set(deadlines);
    }

    pub fn deadlines(&self) -> RequestDeadlines {
        *self.0.deadlines.get_or_init(RequestDeadlines::default)
    }

    /// Sets the keys secrets at rest are sealed with (once, at start-up, before serving).
    pub fn set_vault(&self, vault: crate::auth::vault::Vault) {
        let _ = self.0.vault.set(vault);
    }

    /// The keys secrets at rest are sealed with: the configured ones, or in a process
    /// that set none (a test), a key of its own.
    pub fn vault(&self) -> &crate::auth::vault::Vault {
        self.0
            .vault
            .get_or_init(crate::auth::vault::Vault::ephemeral)
    }

    pub fn new(storage: Arc<dyn Storage>, readiness: Readiness) -> Self {
        Self::with_auth(storage, readiness, AuthConfig::default(), Limiter::local())
    }

    pub fn with_auth(
        storage: Arc<dyn Storage>,
        readiness: Readiness,
        auth: AuthConfig,
        limiter: Limiter,
    ) -> Self {
        let build = BuildInfo::CURRENT;
        Self(Arc::new(Inner {
            metrics: Metrics::new(build, storage.backend()),
            storage,
            readiness,
            started_at: Instant::now(),
            build,
            principals: PrincipalCache::new(auth.principal_ttl),
            auth,
            limiter,
            throttle_log: LocalBuckets::default(),
            menus: MenuCache::default(),
            sales: Default::default(),
            orders: Default::default(),
            kitchen_messages: Default::default(),
            sales_ledger: Default::default(),
            signing_key: OnceLock::new(),
            stripe: OnceLock::new(),
            outbox_wake: tokio::sync::Notify::new(),
            write_health: Default::default(),
            webhooks: OnceLock::new(),
            vault: OnceLock::new(),
            deadlines: OnceLock::new(),
        }))
    }

    /// Loads the token signing key from the database, creating it on first use; every
    /// instance sharing the database signs with the same key.
    pub async fn load_signing_key(&self) -> Result<(), StoreError> {
        if self.signing_key.get().is_none() {
            let key = self
                .storage
                .server_secret(SIGNING_KEY, &random_bytes::<32>())
                .await?;
            let _ = self.signing_key.set(SigningKey::new(key));
        }
        Ok(())
    }

    pub fn signing_key(&self) -> Result<&SigningKey, ApiError> {
        self.signing_key
            .get()
            .ok_or_else(|| ApiError::unavailable("the server is still starting"))
    }
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
