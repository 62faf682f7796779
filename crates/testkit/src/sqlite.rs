use comanda_store::Storage;
use comanda_store::conformance::Harness;
use comanda_store_sqlite::{SqliteOptions, SqliteStorage};
use std::path::PathBuf;
use std::sync::Arc;
use tempfile::TempDir;

/// A temporary directory holding a SQLite database file; removed on drop.
pub struct TestSqlite {
    pub dir: TempDir,
}

impl TestSqlite {
    pub fn new() -> Self {
        Self {
            dir: tempfile::Builder::new()
                .prefix("comanda-test-")
                .tempdir()
                .expect("temp dir"),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("comanda.db")
    }

    /// The URL form `COMANDA_DATABASE_URL` accepts.
    pub fn url(&self) -> String {
        format!("sqlite://{}", self.path().display())
    }

    pub async fn open_migrated(&self) -> Arc<SqliteStorage> {
        let storage = SqliteStorage::open(&SqliteOptions::new(self.path()))
            .await
            .expect("open SQLite");
        comanda_store::Ops::migrate(&storage)
            .await
            .expect("migrate SQLite");
        Arc::new(storage)
    }
}

impl Default for TestSqlite {
    fn default() -> Self {
        Self::new()
    }
}

pub struct SqliteHarness {
    storage: Arc<SqliteStorage>,
    _db: TestSqlite,
}

impl Harness for SqliteHarness {
    fn storage(&self) -> Arc<dyn Storage> {
        self.storage.clone()
    }

    fn reopen(&self) -> comanda_store::conformance::Reopened<'_> {
        Box::pin(async move {
            let storage: Arc<dyn Storage> = self._db.open_migrated().await;
            storage
        })
    }
}

pub async fn sqlite_harness() -> Option<SqliteHarness> {
    let db = TestSqlite::new();
    let storage = db.open_migrated().await;
    Some(SqliteHarness { storage, _db: db })
}
