use crate::settings::{DatabaseTarget, Settings};
use anyhow::{Result, anyhow};
use comanda_store::Storage;
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
                ..PgOptions::default()
            };
            Arc::new(PgStorage::connect_lazy(url.expose(), &options).map_err(|e| anyhow!("{e}"))?)
        }
    })
}
