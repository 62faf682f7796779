use crate::settings::{DatabaseTarget, Settings};
use anyhow::{Context, Result, anyhow, bail};
use comanda_domain::StoreId;
use comanda_store::{Limit, Storage};
use comanda_store_postgres::{PgOptions, PgStorage};
use comanda_store_sqlite::{SqliteOptions, SqliteStorage};
use std::sync::Arc;

/// Opens the configured backend. SQLite opens its file now (a failure is a configuration
/// error); PostgreSQL connects lazily so a database that is down is waited for, not fatal.
pub async fn open(settings: &Settings) -> Result<Arc<dyn Storage>> {
    settings.prepare_data_dir()?;
    Ok(match &settings.database {
        DatabaseTarget::Sqlite { path } => {
            let options = SqliteOptions {
                synchronous: settings.sqlite_synchronous,
                ..SqliteOptions::new(path)
            };
            Arc::new(
                SqliteStorage::open(&options)
                    .await
                    .map_err(|e| anyhow!("{e}"))?,
            )
        }
        DatabaseTarget::Postgres { url } => {
            let options = PgOptions {
                max_connections: settings.db_max_connections,
                acquire_timeout: settings.db_acquire_timeout,
                statement_timeout: settings.db_statement_timeout,
            };
            Arc::new(PgStorage::connect_lazy(url.expose(), &options).map_err(|e| anyhow!("{e}"))?)
        }
    })
}

/// Opens the configured database for an operator command, which needs the schema the
/// binary expects.
pub async fn open_current(settings: &Settings) -> Result<Arc<dyn Storage>> {
    let storage = open(settings).await?;
    let status = storage
        .migration_status()
        .await
        .map_err(|e| anyhow!("{e}"))?;
    if let Some(problem) = status.problem() {
        bail!("the database schema is not current ({problem}); run `comanda migrate` first");
    }
    Ok(storage)
}

/// The stores named by code (any case) or id.
pub async fn store_ids(storage: &dyn Storage, names: &[String]) -> Result<Vec<StoreId>> {
    let stores = storage
        .list_stores(None, None, Limit::new(Some(Limit::MAX)))
        .await
        .map_err(|e| anyhow!("{e}"))?;
    names
        .iter()
        .map(|name| {
            stores
                .items
                .iter()
                .find(|s| s.code.as_str() == name.to_lowercase() || s.id.to_string() == *name)
                .map(|s| s.id)
                .with_context(|| format!("no store with the code or id {name:?}"))
        })
        .collect()
}

/// Held by `serve` for as long as it runs on an SQLite file, and by `restore` while it
/// replaces the file: a restore cannot swap a database out from under a running server,
/// nor can two servers share one file.
pub struct SqliteLock {
    _file: std::fs::File,
}

pub fn lock_sqlite(db: &std::path::Path) -> Result<SqliteLock> {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    let path = std::path::PathBuf::from(name);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(SqliteLock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "{} is in use by a running comanda (it holds {}); stop it first",
            db.display(),
            path.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}
