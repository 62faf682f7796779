use crate::{SqliteStorage, classify};
use async_trait::async_trait;
use comanda_store::rows::{APPLIED_MIGRATIONS_SQL, AppliedMigrationRow};
use comanda_store::{
    AppliedMigration, Backend, KnownMigration, Ops, PoolStats, Result, known_migrations,
    migrate_error,
};
use sqlx::migrate::Migrator;

pub(crate) fn migrator() -> Migrator {
    let mut migrator = sqlx::migrate!("./migrations");
    // A rollback to the previous release must keep working against a schema a newer
    // release has expanded (see docs/migrations.md).
    migrator.set_ignore_missing(true);
    migrator
}

/// The migrations this release carries, for tools that have no database open yet.
pub fn known() -> Vec<KnownMigration> {
    known_migrations(&migrator())
}

#[async_trait]
impl Ops for SqliteStorage {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map_err(classify)?;
        Ok(())
    }

    fn known_migrations(&self) -> Vec<KnownMigration> {
        known_migrations(&migrator())
    }

    async fn applied_migrations(&self) -> Result<Vec<AppliedMigration>> {
        let exists = sqlx::query(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_optional(&self.reader)
        .await
        .map_err(classify)?
        .is_some();
        if !exists {
            return Ok(Vec::new());
        }
        let rows = sqlx::query_as::<_, AppliedMigrationRow>(APPLIED_MIGRATIONS_SQL)
            .fetch_all(&self.reader)
            .await
            .map_err(classify)?;
        Ok(rows.into_iter().map(AppliedMigration::from).collect())
    }

    async fn run_migrations(&self) -> Result<()> {
        migrator()
            .run(&self.writer)
            .await
            .map_err(|e| migrate_error(e, classify))
    }

    /// `PRAGMA optimize` analyzes only the tables whose size changed much since they
    /// were last analyzed, each on a sample (`analysis_limit`), so it takes milliseconds
    /// even on a database of millions of orders; 0x10000 looks at every table, not only
    /// those this connection has used.
    async fn refresh_statistics(&self) -> Result<()> {
        let mut conn = self.writer.acquire().await.map_err(classify)?;
        sqlx::query("PRAGMA analysis_limit = 1000")
            .execute(&mut *conn)
            .await
            .map_err(classify)?;
        sqlx::query("PRAGMA optimize = 0x10002")
            .execute(&mut *conn)
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn upkeep_problem(&self) -> Result<Option<String>> {
        Ok(None)
    }

    fn pool_stats(&self) -> Vec<PoolStats> {
        [("writer", &self.writer), ("reader", &self.reader)]
            .into_iter()
            .map(|(name, pool)| PoolStats {
                pool: name,
                size: pool.size(),
                idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
                max: pool.options().get_max_connections(),
            })
            .collect()
    }

    async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}
