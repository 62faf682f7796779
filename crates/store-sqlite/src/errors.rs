use comanda_store::StoreError;
use comanda_store::rows::unique_violation;

/// SQLite's extended result codes for a busy or locked database: another process holds
/// the write lock longer than the busy timeout.
const SQLITE_BUSY: &str = "5";
const SQLITE_LOCKED: &str = "6";

pub fn classify(err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(err.to_string())
        }
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StoreError::MissingReference(db.message().to_owned())
        }
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            let message = db.message();
            // "UNIQUE constraint failed: table.col[, table.col...]"
            let key = message.split_once(": ").map_or("", |(_, key)| key);
            unique_violation(|k| k.sqlite == key, message)
        }
        sqlx::Error::Database(db)
            if matches!(db.code().as_deref(), Some(SQLITE_BUSY | SQLITE_LOCKED)) =>
        {
            StoreError::Unavailable(format!("database is busy: {}", db.message()))
        }
        _ => StoreError::Internal(err.to_string()),
    }
}
