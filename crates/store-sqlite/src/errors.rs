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
        sqlx::Error::Database(db) if db.is_unique_violation() => unique(db.message()),
        sqlx::Error::Database(db)
            if matches!(db.code().as_deref(), Some(SQLITE_BUSY | SQLITE_LOCKED)) =>
        {
            busy(db.message())
        }
        _ => StoreError::Internal(err.to_string()),
    }
}

/// The same classification for the order committer's own connection.
pub fn classify_direct(err: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    use rusqlite::ffi;
    let rusqlite::Error::SqliteFailure(failure, message) = &err else {
        return StoreError::Internal(err.to_string());
    };
    let message = message.as_deref().unwrap_or_default();
    match failure.extended_code {
        ffi::SQLITE_CONSTRAINT_FOREIGNKEY => StoreError::MissingReference(message.to_owned()),
        ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => unique(message),
        _ if matches!(
            failure.code,
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked
        ) =>
        {
            busy(message)
        }
        _ => StoreError::Internal(err.to_string()),
    }
}

/// "UNIQUE constraint failed: table.col[, table.col...]"
fn unique(message: &str) -> StoreError {
    let key = message.split_once(": ").map_or("", |(_, key)| key);
    unique_violation(|k| k.sqlite == key, message)
}

fn busy(message: &str) -> StoreError {
    StoreError::Unavailable(format!("database is busy: {message}"))
}
