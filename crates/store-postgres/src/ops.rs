use crate::{PgStorage, classify};
use async_trait::async_trait;
use comanda_store::rows::{APPLIED_MIGRATIONS_SQL, AppliedMigrationRow};
use comanda_store::{
    AppliedMigration, Backend, KnownMigration, Ops, PoolStats, Result, StoreError,
    known_migrations, migrate_error,
};
use sqlx::migrate::Migrator;
use sqlx::{ConnectOptions, Connection};
use std::time::Duration;

/// A ping gets this long through the pool, then as long again for a direct connection
/// that explains the failure; together they stay inside the 1.5 s a probe allows.
const PING_TIMEOUT: Duration = Duration::from_millis(600);

pub(crate) fn migrator() -> Migrator {
    let mut migrator = sqlx::migrate!("./migrations");
    // A rollback to the previous release must keep working against a schema a newer
    // release has expanded (see docs/migrations.md). Instances migrating together are
    // serialised by the migrator's advisory lock.
    migrator.set_ignore_missing(true);
    migrator
}

/// The migrations this release carries, for tools that have no database open yet.
pub fn known() -> Vec<KnownMigration> {
    known_migrations(&migrator())
}

#[async_trait]
impl Ops for PgStorage {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn ping(&self) -> Result<()> {
        match tokio::time::timeout(PING_TIMEOUT, sqlx::query("SELECT 1").execute(&self.pool)).await
        {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) if !matches!(e, sqlx::Error::PoolTimedOut) => Err(classify(e)),
            // The pool retries refused connections silently and then reports only that it
            // timed out; one direct attempt tells the operator why.
            _ => Err(self.diagnose().await),
        }
    }

    fn known_migrations(&self) -> Vec<KnownMigration> {
        known_migrations(&migrator())
    }

    async fn applied_migrations(&self) -> Result<Vec<AppliedMigration>> {
        let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
            .fetch_one(&self.pool)
            .await
            .map_err(classify)?;
        if !exists {
            return Ok(Vec::new());
        }
        let rows = sqlx::query_as::<_, AppliedMigrationRow>(APPLIED_MIGRATIONS_SQL)
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        Ok(rows.into_iter().map(AppliedMigration::from).collect())
    }

    /// On a connection of its own: a migration may run longer than the pool's statement
    /// timeout allows (an index built over millions of rows).
    async fn run_migrations(&self) -> Result<()> {
        let own = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect_with(self.connect.clone())
            .await
            .map_err(classify)?;
        let result = migrator()
            .run(&own)
            .await
            .map_err(|e| migrate_error(e, classify));
        own.close().await;
        result
    }

    /// Analyzes each of comanda's tables that changed by more than a twentieth since it
    /// was last analyzed (PostgreSQL's own autovacuum waits for a tenth, and may be
    /// off). A table analyzes in well under a second: it reads a sample, not the table.
    async fn refresh_statistics(&self) -> Result<()> {
        let stale: Vec<String> = sqlx::query_scalar(
            "SELECT relname::text FROM pg_stat_user_tables
             WHERE schemaname = current_schema()
               AND n_mod_since_analyze > 1000 + 0.05 * greatest(n_live_tup, 0)",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        for table in stale {
            let quoted = format!("\"{}\"", table.replace('"', "\"\""));
            sqlx::query(&format!("ANALYZE {quoted}"))
                .execute(&self.pool)
                .await
                .map_err(classify)?;
            tracing::debug!(table, "analyzed");
        }
        Ok(())
    }

    async fn upkeep_problem(&self) -> Result<Option<String>> {
        let autovacuum: String = sqlx::query_scalar("SELECT current_setting('autovacuum')")
            .fetch_one(&self.pool)
            .await
            .map_err(classify)?;
        Ok((autovacuum != "on").then(|| {
            "autovacuum is off: comanda keeps its tables analyzed itself, but nothing vacuums them, so space from expired answers and delivered outbox events is never reused; set autovacuum = on in postgresql.conf".to_owned()
        }))
    }

    fn pool_stats(&self) -> Vec<PoolStats> {
        vec![PoolStats {
            pool: "main",
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
        }]
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

impl PgStorage {
    async fn diagnose(&self) -> StoreError {
        match tokio::time::timeout(PING_TIMEOUT, self.connect.connect()).await {
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
                StoreError::Unavailable(
                    "the database accepts connections but the pool could not get one in time"
                        .into(),
                )
            }
            Ok(Err(e)) => classify(e),
            Err(_) => StoreError::Unavailable(format!(
                "the database did not answer within {} ms",
                PING_TIMEOUT.as_millis()
            )),
        }
    }
}
