//! comanda on PostgreSQL: the production backend, safe for several instances on one
//! database. Connections are made lazily so the server can start, report itself not
//! ready, and recover on its own while the database is down.

mod backup;
mod errors;
mod group_at_once;
mod listen;
mod ops;

use comanda_store::StoreError;
use comanda_store::log_tail::LogTail;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

pub use backup::{ExportedSnapshot, PgAdmin};
pub use errors::classify;
pub use ops::known as known_migrations;

#[derive(Clone, Debug)]
pub struct PgOptions {
    pub max_connections: u32,
    /// How long a request may wait for a connection before failing with 503; short, so
    /// requests fail fast instead of piling up while the database is unreachable.
    pub acquire_timeout: Duration,
    /// How long one statement may run before PostgreSQL cancels it (503 to the client);
    /// zero: no limit. Migrations run on a connection of their own, without it.
    pub statement_timeout: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(3),
            statement_timeout: Duration::from_secs(15),
        }
    }
}

pub struct PgStorage {
    pool: PgPool,
    connect: PgConnectOptions,
    commits: comanda_store::group_commit::CommitQueue,
    /// Whether this instance listens for other instances' log movements yet.
    listening: std::sync::Mutex<bool>,
}

impl PgStorage {
    /// Validates the URL and builds the pool without connecting. Only a malformed URL fails.
    pub fn connect_lazy(url: &str, options: &PgOptions) -> Result<Self, StoreError> {
        let connect = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("invalid PostgreSQL URL: {e}")))?
            .application_name("comanda");
        let mut pooled = connect.clone();
        if !options.statement_timeout.is_zero() {
            let ms = options.statement_timeout.as_millis().to_string();
            // A transaction left open by a stalled instance is ended by the server too.
            let idle = (options.statement_timeout * 4).as_millis().to_string();
            pooled = pooled.options([
                ("statement_timeout", ms.as_str()),
                ("idle_in_transaction_session_timeout", idle.as_str()),
            ]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout)
            .connect_lazy_with(pooled);
        Ok(Self {
            pool,
            connect,
            commits: Default::default(),
            listening: std::sync::Mutex::new(false),
        })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

impl comanda_store::sql::SqlBackend for PgStorage {
    type Db = sqlx::Postgres;

    fn writer(&self) -> &PgPool {
        &self.pool
    }

    fn reader(&self) -> &PgPool {
        &self.pool
    }
    fn commit_queue(&self) -> &comanda_store::group_commit::CommitQueue {
        &self.commits
    }

    /// Several instances lease at once: `SKIP LOCKED` passes over the webhooks another
    /// instance is leasing right now instead of waiting for them (and the lease itself
    /// keeps them apart afterwards).
    const LEASE_WEBHOOKS: &'static str =
        comanda_store::lease_webhooks_sql!("FOR UPDATE SKIP LOCKED");

    const MOVE_HEAD: &'static str = "WITH moved AS (
            UPDATE order_log_heads SET seq = $2, hash = $3, last_number = $4 WHERE store_id = $1
            RETURNING store_id, seq
        )
        SELECT pg_notify('comanda_order_log', store_id::text || ':' || seq::text) FROM moved";

    fn group_at_once(
        &self,
    ) -> Option<Box<dyn comanda_store::group_commit::AtOnce<sqlx::Postgres>>> {
        Some(Box::<group_at_once::OneStatement>::default())
    }

    fn follow_other_instances(&self, tail: &Arc<LogTail>) {
        let mut started = self.listening.lock().unwrap_or_else(|e| e.into_inner());
        if *started || tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        *started = true;
        tokio::spawn(listen::follow(self.pool.clone(), Arc::downgrade(tail)));
    }
}

comanda_store::impl_sql_repos!(PgStorage, crate::classify);

/// The migrations embedded in this backend, newest last.
pub fn migrations() -> Vec<comanda_store::KnownMigration> {
    comanda_store::known_migrations(&ops::migrator())
}
