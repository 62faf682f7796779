use comanda_store::StoreError;
use comanda_store::rows::{unique_rule, unique_violation};
use sqlx::postgres::PgDatabaseError;

/// Whether a SQLSTATE means "the server cannot take this now, try again": a connection
/// exception (class 08), insufficient resources (53: disk full, out of memory, too many
/// connections), an operator intervention (57: shutting down, starting up, a statement
/// cancelled by its timeout), a system error (58), a serialization failure or deadlock
/// (40001, 40P01), or a lock not available in time (55P03).
fn transient(state: &str) -> bool {
    ["08", "53", "57", "58"]
        .iter()
        .any(|class| state.starts_with(class))
        || matches!(state, "40001" | "40P01" | "55P03")
}

pub fn classify(err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        // A connection cut mid-message (during the handshake, say) reads as broken data.
        | sqlx::Error::Protocol(_) => StoreError::Unavailable(err.to_string()),
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StoreError::MissingReference(db.message().to_owned())
        }
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            let detail = db
                .try_downcast_ref::<PgDatabaseError>()
                .and_then(PgDatabaseError::detail)
                .unwrap_or_default();
            let rule = unique_rule(db.table().unwrap_or_default(), key_columns(detail));
            unique_violation(&rule, db.message())
        }
        // Out of disk or memory, an I/O error: the server answers but cannot write.
        sqlx::Error::Database(db)
            if db
                .code()
                .is_some_and(|c| matches!(c.as_ref(), "53100" | "53200" | "58030")) =>
        {
            StoreError::CannotWrite(db.message().to_owned())
        }
        sqlx::Error::Database(db) if db.code().is_some_and(|c| transient(&c)) =>
        {
            StoreError::Unavailable(db.message().to_owned())
        }
        _ => StoreError::Internal(err.to_string()),
    }
}

/// The columns of a unique violation's detail, "Key (store_id, name)=(...) already
/// exists.", which PostgreSQL always sends with one.
fn key_columns(detail: &str) -> impl Iterator<Item = &str> {
    let columns = detail
        .strip_prefix("Key (")
        .and_then(|rest| rest.split_once(")="))
        .map_or("", |(columns, _)| columns);
    columns.split(',').filter(|c| !c.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_violation_names_its_table_and_columns() {
        let detail = "Key (store_id, name)=(0199..., Mesa 1) already exists.";
        assert_eq!(
            unique_rule("dining_tables", key_columns(detail)),
            "dining_tables(store_id, name)"
        );
        assert_eq!(unique_rule("t", key_columns("no key here")), "t()");
    }
}
