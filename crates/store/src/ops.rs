use crate::Result;
use crate::migrations::{AppliedMigration, KnownMigration, MigrationStatus};
use async_trait::async_trait;
use serde::Serialize;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub const fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A connection pool's occupancy, for `/metrics`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolStats {
    pub pool: &'static str,
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

/// Operating the database itself: reachability, schema, pools.
#[async_trait]
pub trait Ops: Send + Sync {
    fn backend(&self) -> Backend;

    /// One round trip to the database.
    async fn ping(&self) -> Result<()>;

    /// The migrations embedded in this backend.
    fn known_migrations(&self) -> Vec<KnownMigration>;

    /// The database's migration history; empty before the first migration.
    async fn applied_migrations(&self) -> Result<Vec<AppliedMigration>>;

    /// Runs the embedded migrator: pending migrations, in order, each in a transaction.
    async fn run_migrations(&self) -> Result<()>;

    async fn migration_status(&self) -> Result<MigrationStatus> {
        let applied = self.applied_migrations().await?;
        Ok(MigrationStatus::compute(&self.known_migrations(), &applied))
    }

    /// Applies pending migrations; returns the versions applied now.
    async fn migrate(&self) -> Result<Vec<i64>> {
        let before = self.migration_status().await?;
        self.run_migrations().await?;
        let after = self.migration_status().await?;
        Ok(before.applied_since(&after))
    }

    fn pool_stats(&self) -> Vec<PoolStats>;

    /// Brings the query planner's statistics up to date where the data changed enough
    /// since they were taken (cheap when nothing did). Every hot query is written to be
    /// bounded whatever the statistics say; current ones keep the rest well planned.
    async fn refresh_statistics(&self) -> Result<()>;

    /// Whether the database keeps its own statistics and reclaims space by itself; a
    /// sentence for `comanda check` when it does not.
    async fn upkeep_problem(&self) -> Result<Option<String>>;

    /// Closes the pools, waiting for connections in use to be returned.
    async fn close(&self);
}
