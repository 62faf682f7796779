//! comanda's embedded default. SQLite allows one writer at a time, so writes go through a
//! single connection (no `SQLITE_BUSY` storms between our own connections) and reads use
//! a pool that WAL lets run beside the writer.
//!
//! Durability: `synchronous = FULL` by default. In WAL mode `NORMAL` survives a process
//! crash but can lose the last commits on power loss; a till that printed a receipt must
//! not forget the sale, and an fsync costs ~0.3 ms here. `NORMAL` is available for
//! machines with battery-backed storage.

mod backup;
mod committer;
mod errors;
mod ops;

use comanda_store::StoreError;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

pub use backup::{describe_file, settle_file};
pub use errors::classify;
pub use ops::known as known_migrations;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Synchronous {
    Full,
    Normal,
}

impl FromStr for Synchronous {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "full" => Ok(Self::Full),
            "normal" => Ok(Self::Normal),
            other => Err(format!(
                "unknown SQLite synchronous mode {other:?}; use full or normal"
            )),
        }
    }
}

impl Synchronous {
    fn pragma(self) -> &'static str {
        match self {
            Self::Full => "FULL",
            Self::Normal => "NORMAL",
        }
    }
}

/// Set on every connection, sqlx's and the order committer's.
const PRAGMAS: [(&str, &str); 2] = [("temp_store", "memory"), ("cache_size", "-16384")];

#[derive(Clone, Debug)]
pub struct SqliteOptions {
    pub path: PathBuf,
    pub synchronous: Synchronous,
    pub readers: u32,
    pub busy_timeout: Duration,
}

impl SqliteOptions {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            synchronous: Synchronous::Full,
            readers: 4,
            busy_timeout: Duration::from_secs(5),
        }
    }
}

pub struct SqliteStorage {
    writer: SqlitePool,
    reader: SqlitePool,
    options: SqliteOptions,
    commits: comanda_store::group_commit::CommitQueue,
}

/// Whether a connection given back to its pool may be used again: not if it is still
/// inside a transaction. A transaction dropped unfinished is rolled back on the
/// connection's thread, in order; but when SQLite has already rolled it back itself (a
/// COMMIT that failed on a full disk or an I/O error), that ROLLBACK fails, sqlx counts
/// the transaction as still open, and every later `BEGIN` on the connection would fail
/// (`begin_with at non-zero transaction depth`). Such a connection is closed instead;
/// the pool opens a fresh one, so writes recover by themselves once the disk has room.
async fn settled_outside_transaction(
    conn: &mut sqlx::SqliteConnection,
) -> Result<bool, sqlx::Error> {
    use sqlx::{Connection, Database, TransactionManager};
    type Manager = <sqlx::Sqlite as Database>::TransactionManager;
    if Manager::get_transaction_depth(conn) == 0 {
        return Ok(true);
    }
    // The rollback queued by the dropped transaction runs before this ping answers.
    conn.ping().await?;
    Ok(Manager::get_transaction_depth(conn) == 0)
}

impl SqliteStorage {
    /// Opens (creating if needed) the database file. Errors here are configuration errors:
    /// a path that cannot be created or a file that is not a database.
    pub async fn open(options: &SqliteOptions) -> Result<Self, StoreError> {
        let mut base = SqliteConnectOptions::new()
            .filename(&options.path)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match options.synchronous {
                Synchronous::Full => SqliteSynchronous::Full,
                Synchronous::Normal => SqliteSynchronous::Normal,
            })
            .busy_timeout(options.busy_timeout)
            .foreign_keys(true);
        for (name, value) in PRAGMAS {
            base = base.pragma(name, value);
        }
        // No memory map: each connection maps the file on its own, and every page a
        // connection has touched counts in the process's resident memory once per
        // connection; with months of orders the four readers held 1 GB. The 16 MB
        // page cache per connection (`PRAGMAS`) bounds what reads keep instead.
        let base = base
            // sqlx hands rows from SQLite's thread to ours through a channel; with the
            // default of 50 slots a large read wakes both threads every few rows.
            .row_buffer_size(1024);

        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .after_release(|conn, _| Box::pin(settled_outside_transaction(conn)))
            // A connection to a file does not go stale as a socket does; the default
            // ping before each checkout would cost a round trip to SQLite's thread.
            .test_before_acquire(false)
            .acquire_timeout(options.busy_timeout)
            .connect_with(base.clone().create_if_missing(true))
            .await
            .map_err(|e| open_error(&options.path, &e))?;
        let reader = SqlitePoolOptions::new()
            .max_connections(options.readers.max(1))
            .after_release(|conn, _| Box::pin(settled_outside_transaction(conn)))
            .test_before_acquire(false)
            .acquire_timeout(options.busy_timeout)
            .connect_with(base.read_only(true))
            .await
            .map_err(|e| open_error(&options.path, &e))?;
        Ok(Self {
            writer,
            reader,
            options: options.clone(),
            commits: Default::default(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.options.path
    }
}

impl comanda_store::sql::SqlBackend for SqliteStorage {
    type Db = sqlx::Sqlite;

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }
    fn commit_queue(&self) -> &comanda_store::group_commit::CommitQueue {
        &self.commits
    }

    const BEGIN_WRITE: Option<&'static str> = Some("BEGIN IMMEDIATE");
    const NOT_AN_INDEX: &'static str = "+";
    const INDEXED_BY: bool = true;
    /// Answers are kept in the order they were given (a rowid table, see migration
    /// 20261207000007) and all for the same time, so the oldest expire first: each batch
    /// looks at the oldest answers only and deletes those expired, with no index by
    /// expiry to keep (about 30 bytes an answer). An answer taken over in place (its key
    /// reused after it expired) or a clock set back can leave an unexpired answer among
    /// the oldest; the batch goes past it, and a whole batch of unexpired ones ends the
    /// purge until they expire. An expired answer left behind meanwhile is never
    /// replayed: a claim takes over an expired key.
    const PURGE_ANSWERS: &'static str = "DELETE FROM idempotency_keys WHERE rowid IN (
         SELECT rowid FROM (SELECT rowid, expires_at FROM idempotency_keys ORDER BY rowid LIMIT $2)
         WHERE expires_at <= $1)";

    fn start_committer(
        &self,
        jobs: tokio::sync::mpsc::Receiver<comanda_store::group_commit::CommitJob>,
        tail: std::sync::Arc<comanda_store::log_tail::LogTail>,
    ) -> Option<tokio::sync::mpsc::Receiver<comanda_store::group_commit::CommitJob>> {
        committer::start(&self.options, jobs, tail);
        None
    }
}

comanda_store::impl_sql_repos!(SqliteStorage, crate::classify);

/// The migrations embedded in this backend, newest last.
pub fn migrations() -> Vec<comanda_store::KnownMigration> {
    comanda_store::known_migrations(&ops::migrator())
}

fn open_error(path: &Path, e: &sqlx::Error) -> StoreError {
    StoreError::Unavailable(format!(
        "cannot open SQLite database {}: {e}",
        path.display()
    ))
}
