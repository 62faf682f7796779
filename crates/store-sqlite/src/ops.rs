use crate::{SqliteStorage, classify};
use async_trait::async_trait;
use comanda_store::idempotency::{REQUEST_HASH_LEN, key_id};
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

/// Answers kept under their caller and key as text, before migration 20261207000007:
/// moved, a batch at a time, under their digest.
type AnswerByName = (
    String,
    String,
    Vec<u8>,
    i32,
    Option<String>,
    Option<Vec<u8>>,
    i64,
    i64,
    i64,
);

impl SqliteStorage {
    /// Migration 20261207000007 keeps answers by a digest SQL cannot compute here, and
    /// leaves those kept before in `idempotency_keys_by_name`: they move over now, in
    /// one transaction with the old table's removal, so a retry sent across the upgrade
    /// still gets its first answer. Unfinished claims are dropped (their requests died
    /// with the binary being replaced). Nothing to do once the table is gone.
    async fn move_answers_kept_by_name(&self) -> Result<()> {
        const BATCH: i64 = 1000;
        let mut tx = self.writer.begin().await.map_err(classify)?;
        let waiting = sqlx::query(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'idempotency_keys_by_name'",
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?
        .is_some();
        if !waiting {
            return Ok(());
        }
        let mut after = (String::new(), String::new());
        loop {
            let batch: Vec<AnswerByName> = sqlx::query_as(
                "SELECT scope, key, request_hash, status, headers, body, created_at, lease_until, expires_at
                 FROM idempotency_keys_by_name
                 WHERE status IS NOT NULL AND (scope, key) > ($1, $2)
                 ORDER BY scope, key LIMIT $3",
            )
            .bind(&after.0)
            .bind(&after.1)
            .bind(BATCH)
            .fetch_all(&mut *tx)
            .await
            .map_err(classify)?;
            let Some(last) = batch.last() else { break };
            after = (last.0.clone(), last.1.clone());
            for (scope, key, hash, status, headers, body, created, lease, expires) in batch {
                let hash = &hash[..hash.len().min(REQUEST_HASH_LEN)];
                sqlx::query(
                    "INSERT INTO idempotency_keys (id, request_hash, status, headers, body, created_at, lease_until, expires_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING",
                )
                .bind(key_id(&scope, &key))
                .bind(hash)
                .bind(status)
                .bind(headers.unwrap_or_default())
                .bind(body)
                .bind(created)
                .bind(lease)
                .bind(expires)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
            }
        }
        sqlx::query("DROP TABLE idempotency_keys_by_name")
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        tx.commit().await.map_err(classify)
    }
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
            .map_err(|e| migrate_error(e, classify))?;
        self.move_answers_kept_by_name().await
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
