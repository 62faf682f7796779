use comanda_store::StoreError;
use comanda_store::rows::{unique_rule, unique_violation};

/// SQLite's primary result codes for a database that cannot take a write now but may
/// later: another process holds the lock past the busy timeout, memory or the disk ran
/// out, the file cannot be read, written or opened.
const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;
const SQLITE_NOMEM: i32 = 7;
const SQLITE_IOERR: i32 = 10;
const SQLITE_FULL: i32 = 13;
const SQLITE_CANTOPEN: i32 = 14;

const SQLITE_READONLY: i32 = 8;

/// What an (extended) result code means for the caller, if it means "not now".
fn transient(code: i32, message: &str) -> Option<StoreError> {
    match code & 0xff {
        SQLITE_BUSY | SQLITE_LOCKED => Some(busy(message)),
        SQLITE_NOMEM | SQLITE_IOERR | SQLITE_FULL | SQLITE_CANTOPEN | SQLITE_READONLY => {
            Some(StoreError::CannotWrite(message.to_owned()))
        }
        _ => None,
    }
}

pub fn classify(err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Io(_) => StoreError::Unavailable(err.to_string()),
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StoreError::MissingReference(db.message().to_owned())
        }
        sqlx::Error::Database(db) if db.is_unique_violation() => unique(db.message()),
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|c| c.parse::<i32>().ok())
            .and_then(|code| transient(code, db.message()))
            .unwrap_or_else(|| StoreError::Internal(err.to_string())),
        _ => StoreError::Internal(err.to_string()),
    }
}

/// The same classification for the order committer's own connection.
pub fn classify_direct(err: rusqlite::Error) -> StoreError {
    use rusqlite::ffi;
    let rusqlite::Error::SqliteFailure(failure, message) = &err else {
        return StoreError::Internal(err.to_string());
    };
    let message = message.as_deref().unwrap_or_default();
    match failure.extended_code {
        ffi::SQLITE_CONSTRAINT_FOREIGNKEY => StoreError::MissingReference(message.to_owned()),
        ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => unique(message),
        code => transient(code, message).unwrap_or_else(|| StoreError::Internal(err.to_string())),
    }
}

/// "UNIQUE constraint failed: table.col[, table.col...]"
fn unique(message: &str) -> StoreError {
    let key = message.split_once(": ").map_or("", |(_, key)| key);
    let table = key.split_once('.').map_or("", |(table, _)| table);
    let columns = key
        .split(", ")
        .map(|c| c.split_once('.').map_or(c, |(_, column)| column));
    unique_violation(&unique_rule(table, columns), message)
}

fn busy(message: &str) -> StoreError {
    StoreError::Unavailable(format!("database is busy: {message}"))
}
