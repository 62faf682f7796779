use crate::{TestPostgres, TestSqlite};
use comanda_store::Storage;
use std::sync::Arc;

/// A fresh, migrated database on one backend, for tests that run on both.
pub enum TestDb {
    Sqlite {
        db: TestSqlite,
        storage: Arc<dyn Storage>,
    },
    Postgres {
        db: TestPostgres,
        storage: Arc<dyn Storage>,
    },
}

impl TestDb {
    pub async fn sqlite() -> Option<Self> {
        let db = TestSqlite::new();
        let storage = db.open_migrated().await;
        Some(TestDb::Sqlite { db, storage })
    }

    /// `None` (skip) when PostgreSQL is unreachable outside CI.
    pub async fn postgres() -> Option<Self> {
        let db = TestPostgres::create().await?;
        let storage = db.open_migrated().await;
        Some(TestDb::Postgres { db, storage })
    }

    pub fn storage(&self) -> Arc<dyn Storage> {
        match self {
            TestDb::Sqlite { storage, .. } | TestDb::Postgres { storage, .. } => storage.clone(),
        }
    }

    /// The URL `COMANDA_DATABASE_URL` takes for this database.
    pub fn url(&self) -> String {
        match self {
            TestDb::Sqlite { db, .. } => db.url(),
            TestDb::Postgres { db, .. } => db.url.clone(),
        }
    }
}

/// Runs each named `async fn(TestDb)` once on SQLite and once on PostgreSQL, as tests
/// `sqlite::<name>` and `postgres::<name>`.
#[macro_export]
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let Some(db) = $crate::TestDb::sqlite().await else { return };
                    super::$test(db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let Some(db) = $crate::TestDb::postgres().await else { return };
                    super::$test(db).await;
                }
            )*
        }
    };
}
