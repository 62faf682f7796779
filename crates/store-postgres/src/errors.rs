use comanda_store::StoreError;
use comanda_store::rows::unique_violation;

/// SQLSTATEs meaning "the server cannot take this now": shutting down, starting up,
/// out of connections, or a replica in recovery.
const UNAVAILABLE_STATES: &[&str] = &[
    "57P01", "57P02", "57P03", "53300", "08006", "08001", "08004",
];

pub fn classify(err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => StoreError::Unavailable(err.to_string()),
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StoreError::MissingReference(db.message().to_owned())
        }
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            let constraint = db.constraint().unwrap_or_default();
            unique_violation(|k| k.postgres == constraint, db.message())
        }
        sqlx::Error::Database(db)
            if db
                .code()
                .is_some_and(|c| UNAVAILABLE_STATES.contains(&c.as_ref())) =>
        {
            StoreError::Unavailable(db.message().to_owned())
        }
        _ => StoreError::Internal(err.to_string()),
    }
}
