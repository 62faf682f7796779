//! What `comanda backup` and `comanda restore` need of PostgreSQL: a snapshot that
//! `pg_dump` can share, row counts inside it, and creating and renaming databases.

use crate::{PgStorage, classify};
use comanda_store::{Result, StoreError};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection, Postgres, Transaction};
use std::collections::BTreeMap;
use std::str::FromStr;

/// A read-only transaction whose snapshot is exported: `pg_dump --snapshot` sees exactly
/// what it sees, so counts taken here describe the dump. Kept open until the dump is done.
pub struct ExportedSnapshot {
    tx: Transaction<'static, Postgres>,
    pub id: String,
}

impl ExportedSnapshot {
    pub async fn table_counts(&mut self) -> Result<BTreeMap<String, i64>> {
        counts(&mut self.tx).await
    }

    /// The newest migration applied, as this snapshot sees it.
    pub async fn schema_version(&mut self) -> Result<i64> {
        let migrated: bool =
            sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
                .fetch_one(&mut *self.tx)
                .await
                .map_err(classify)?;
        if !migrated {
            return Ok(0);
        }
        sqlx::query_scalar("SELECT coalesce(max(version), 0) FROM _sqlx_migrations")
            .fetch_one(&mut *self.tx)
            .await
            .map_err(classify)
    }

    pub async fn finish(self) -> Result<()> {
        self.tx.commit().await.map_err(classify)
    }
}

impl PgStorage {
    pub async fn export_snapshot(&self) -> Result<ExportedSnapshot> {
        let mut tx = self.pool.begin().await.map_err(classify)?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        let id: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
            .fetch_one(&mut *tx)
            .await
            .map_err(classify)?;
        Ok(ExportedSnapshot { tx, id })
    }

    /// Fresh planner statistics: `pg_restore` loads rows but leaves the tables unanalysed,
    /// and without statistics a walk of the order log plans as a scan per page.
    pub async fn analyze(&self) -> Result<()> {
        sqlx::query("ANALYZE")
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Rows per table of the schema, read in one snapshot.
    pub async fn table_counts(&self) -> Result<BTreeMap<String, i64>> {
        let mut snapshot = self.export_snapshot().await?;
        let counts = snapshot.table_counts().await?;
        snapshot.finish().await?;
        Ok(counts)
    }
}

async fn counts(conn: &mut PgConnection) -> Result<BTreeMap<String, i64>> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() \
         AND tablename <> '_sqlx_migrations' ORDER BY tablename",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(classify)?;
    let mut counts = BTreeMap::new();
    for table in tables {
        let quoted = table.replace('"', "\"\"");
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM \"{quoted}\""))
            .fetch_one(&mut *conn)
            .await
            .map_err(classify)?;
        counts.insert(table, n);
    }
    Ok(counts)
}

/// Database-level operations, made from the server's maintenance database `postgres`.
pub struct PgAdmin {
    maintenance: PgConnectOptions,
}

impl PgAdmin {
    pub fn new(url: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("invalid PostgreSQL URL: {e}")))?;
        Ok(Self {
            maintenance: options
                .database("postgres")
                .application_name("comanda-admin"),
        })
    }

    async fn connect(&self) -> Result<PgConnection> {
        self.maintenance.connect().await.map_err(classify)
    }

    pub async fn exists(&self, database: &str) -> Result<bool> {
        let mut conn = self.connect().await?;
        let found = sqlx::query("SELECT 1 FROM pg_database WHERE datname = $1")
            .bind(database)
            .fetch_optional(&mut conn)
            .await
            .map_err(classify)?
            .is_some();
        let _ = conn.close().await;
        Ok(found)
    }

    /// Sessions connected to `database` other than ours: a server still running on it.
    pub async fn sessions(&self, database: &str) -> Result<i64> {
        let mut conn = self.connect().await?;
        let n = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(database)
        .fetch_one(&mut conn)
        .await
        .map_err(classify)?;
        let _ = conn.close().await;
        Ok(n)
    }

    pub async fn create(&self, database: &str) -> Result<()> {
        self.execute(&format!("CREATE DATABASE {}", ident(database)))
            .await
    }

    pub async fn rename(&self, from: &str, to: &str) -> Result<()> {
        self.execute(&format!(
            "ALTER DATABASE {} RENAME TO {}",
            ident(from),
            ident(to)
        ))
        .await
    }

    pub async fn drop(&self, database: &str) -> Result<()> {
        self.execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            ident(database)
        ))
        .await
    }

    async fn execute(&self, sql: &str) -> Result<()> {
        let mut conn = self.connect().await?;
        let outcome = sqlx::query(sql).execute(&mut conn).await.map_err(classify);
        let _ = conn.close().await;
        outcome.map(|_| ())
    }
}

/// A quoted identifier: database names come from URLs, not from SQL.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl PgAdmin {
    /// The database server's clock.
    pub async fn server_time(&self) -> Result<chrono::DateTime<chrono::Utc>> {
        let mut conn = self.connect().await?;
        let now = sqlx::query_scalar("SELECT now()")
            .fetch_one(&mut conn)
            .await
            .map_err(classify)?;
        let _ = conn.close().await;
        Ok(now)
    }
}
