//! What `comanda backup` and `comanda restore` need of an SQLite database file.

use crate::{SqliteStorage, classify};
use comanda_store::{Result, StoreError};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

impl SqliteStorage {
    /// Writes a consistent copy of the database as of one moment into `dest` (which must
    /// not exist). `VACUUM INTO` reads inside one transaction, so writers go on meanwhile
    /// and the copy is compact, with no WAL beside it.
    pub async fn snapshot_into(&self, dest: &Path) -> Result<()> {
        sqlx::query("VACUUM INTO ?")
            .bind(dest.to_string_lossy().into_owned())
            .execute(&self.reader)
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// SQLite's own check of every page and index; the problems it found, none when sound.
    pub async fn integrity_problems(&self) -> Result<Vec<String>> {
        let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(&self.reader)
            .await
            .map_err(classify)?;
        Ok(rows.into_iter().filter(|r| r != "ok").collect())
    }

    /// Folds the WAL into the database file, leaves WAL mode and closes, so the file
    /// alone is the whole database and can be renamed; the next open turns WAL back on.
    /// Takes the storage by value: sqlx's `close` can miss a connection whose return to
    /// the pool was under way when it began, and that connection lives until the pool is
    /// dropped, so the pools go before the file is settled.
    pub async fn close_settled(self) -> Result<()> {
        self.reader.close().await;
        self.writer.close().await;
        let path = self.options.path.clone();
        drop(self);
        settle_file(&path).await
    }
}

/// Leaves WAL mode on a database file no server has open, so the file alone is the whole
/// database and can be renamed.
pub async fn settle_file(path: &Path) -> Result<()> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || leave_wal(&path))
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))?
}

fn file_error(path: &Path, e: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(format!("{}: {e}", path.display()))
}

/// Leaving WAL needs the only connection to the file; a closed pool's connections end on
/// their own threads a moment after `close` returns, and until then SQLite refuses at
/// once rather than waiting, hence the retries.
fn leave_wal(path: &Path) -> Result<()> {
    let conn = rusqlite::Connection::open(path).map_err(|e| file_error(path, e))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match conn.query_row("PRAGMA journal_mode = DELETE", [], |r| {
            r.get::<_, String>(0)
        }) {
            Ok(mode) if mode.eq_ignore_ascii_case("delete") => return Ok(()),
            Ok(mode) if Instant::now() > deadline => {
                return Err(StoreError::Unavailable(format!(
                    "{} is still in {mode} mode: another process has it open",
                    path.display()
                )));
            }
            Err(e) if Instant::now() > deadline => return Err(file_error(path, e)),
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Rows per table and the newest migration applied, read from a database file nobody
/// else has open (a snapshot) without changing a byte of it.
pub fn describe_file(path: &Path) -> Result<(BTreeMap<String, i64>, i64)> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| file_error(path, e))?;
    let read = || -> rusqlite::Result<(BTreeMap<String, i64>, i64)> {
        let mut tables = conn.prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' \
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> '_sqlx_migrations' ORDER BY name",
        )?;
        let names: Vec<String> = tables
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut counts = BTreeMap::new();
        for name in names {
            let quoted = name.replace('"', "\"\"");
            let n: i64 =
                conn.query_row(&format!("SELECT count(*) FROM \"{quoted}\""), [], |r| {
                    r.get(0)
                })?;
            counts.insert(name, n);
        }
        let migrated: bool = conn.query_row(
            "SELECT count(*) > 0 FROM sqlite_schema WHERE name = '_sqlx_migrations'",
            [],
            |r| r.get(0),
        )?;
        let version = if migrated {
            conn.query_row(
                "SELECT coalesce(max(version), 0) FROM _sqlx_migrations WHERE success",
                [],
                |r| r.get(0),
            )?
        } else {
            0
        };
        Ok((counts, version))
    };
    read().map_err(|e| file_error(path, e))
}
