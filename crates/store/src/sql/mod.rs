//! SQL shared by the backends. SQLite and PostgreSQL accept the same text for these
//! queries (`$N` placeholders, `RETURNING`, `ON CONFLICT`), so each backend instantiates
//! this code for its own pool types instead of keeping a copy; the conformance suite then
//! runs the one text on both. Backend-specific SQL (queue claims, notifications) stays in
//! the backend crates.
//!
//! Every query is a `&'static str`, or a `QueryBuilder` that pushes only static fragments
//! and binds every value: nothing is ever built from input.
//!
//! The expanding crate names its error classifier (`fn(sqlx::Error) -> StoreError`) and
//! implements [`SqlBackend`] for its storage type.

mod audit;
mod catalog;
mod catalog_import;
mod catalog_share;
mod catering;
mod devices;
mod idempotency;
mod orders;
pub mod outbox;
mod reports;
mod sessions;
mod stock;
mod stores;
mod users;

/// Pushes `(id, id, ...)`, each id bound: the store list of a scoped query. Never empty;
/// callers decide what an empty scope means first.
pub fn push_store_list<'a, DB>(
    query: &mut sqlx::QueryBuilder<'a, DB>,
    stores: &[comanda_domain::StoreId],
) where
    DB: sqlx::Database,
    uuid::Uuid: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    query.push("(");
    let mut list = query.separated(", ");
    for store in stores {
        list.push_bind(store.as_uuid());
    }
    query.push(")");
}

/// Names a backend's sqlx database type and pools for [`impl_sql_repos!`].
pub trait SqlBackend {
    type Db: sqlx::Database;

    /// The pool that takes writes (SQLite: its single writer connection).
    fn writer(&self) -> &sqlx::Pool<Self::Db>;

    /// The pool for reads that need not see a write in flight.
    fn reader(&self) -> &sqlx::Pool<Self::Db>;

    /// Where order commits wait for their group commit.
    fn commit_queue(&self) -> &crate::group_commit::CommitQueue;

    /// How a transaction that writes begins; `None`: the driver's `BEGIN`. SQLite takes
    /// the write lock up front (`BEGIN IMMEDIATE`): a transaction that read first and
    /// then found another connection had written since would be refused, not made to wait.
    const BEGIN_WRITE: Option<&'static str> = None;

    /// Put before a column in a condition to keep the planner from searching by it:
    /// SQLite's unary `+`, which makes the term unusable by an index (PostgreSQL, which
    /// plans from the statistics comanda keeps current, needs no such hint). Lists
    /// use it so that a filter on a column whose index covers a store's whole history
    /// (a table's orders, over a year) never wins over the index of what is open now.
    const NOT_AN_INDEX: &'static str = "";

    /// Whether a query may name the index it must use (SQLite's `INDEXED BY`, which
    /// fails the statement rather than fall back to another plan). Used where a
    /// planner without statistics picks an index that covers a store's whole history:
    /// with a store and four statuses to match, SQLite took the status index and read
    /// every paid order to find the ten in the kitchen.
    const INDEXED_BY: bool = false;

    /// Moves a store's log head at the end of a group commit (`$1` store, `$2` seq,
    /// `$3` hash, `$4` last order number). PostgreSQL's also notifies the other
    /// instances, in the same round trip; the notice is delivered when the transaction
    /// commits.
    const MOVE_HEAD: &'static str = crate::group_commit::statements::MOVE_HEAD;

    /// Deletes up to a batch of expired kept answers (`$1` now, `$2` the batch); run
    /// until it deletes none. This one takes a range of the expiry index up to the
    /// batch-th answer to expire (a list of keys to delete would let a planner without
    /// statistics scan the table to match them).
    const PURGE_ANSWERS: &'static str = "DELETE FROM idempotency_keys
         WHERE expires_at <= $1
           AND expires_at <= coalesce((
               SELECT expires_at FROM idempotency_keys WHERE expires_at <= $1
               ORDER BY expires_at LIMIT 1 OFFSET $2 - 1), $1)";

    /// Leases webhooks with work to one worker (see [`outbox::LEASE_WEBHOOKS`]).
    const LEASE_WEBHOOKS: &'static str = outbox::LEASE_WEBHOOKS;

    /// Starts following other instances' log movements, if the backend can.
    fn follow_other_instances(&self, tail: &std::sync::Arc<crate::log_tail::LogTail>) {
        let _ = tail;
    }

    /// A writer of whole groups in one statement, tried first by the shared committer;
    /// `None`: every group is written statement by statement.
    fn group_at_once(&self) -> Option<Box<dyn crate::group_commit::AtOnce<Self::Db>>> {
        None
    }

    /// Starts a committer of the backend's own for the queued order commits, or gives
    /// `jobs` back for the shared one, which writes through the writer pool.
    fn start_committer(
        &self,
        jobs: tokio::sync::mpsc::Receiver<crate::group_commit::CommitJob>,
        tail: std::sync::Arc<crate::log_tail::LogTail>,
    ) -> Option<tokio::sync::mpsc::Receiver<crate::group_commit::CommitJob>> {
        let _ = tail;
        Some(jobs)
    }
}

/// Implements every repository trait except [`Ops`](crate::Ops) for a storage type.
#[macro_export]
macro_rules! impl_sql_repos {
    ($storage:ty, $classify:path) => {
        mod sql_repos {
            use super::*;
            use ::std::collections::HashMap;
            use ::uuid::Uuid;
            use $classify as classify;
            use $crate::sql::SqlBackend as _;
            use $crate::{Result, StoreError};

            type Db = <$storage as $crate::sql::SqlBackend>::Db;

            async fn begin_write(
                pool: &::sqlx::Pool<Db>,
            ) -> Result<::sqlx::Transaction<'static, Db>> {
                match <$storage as $crate::sql::SqlBackend>::BEGIN_WRITE {
                    Some(statement) => pool.begin_with(statement).await,
                    None => pool.begin().await,
                }
                .map_err(classify)
            }

            /// Reads store dictionaries `numbers`, which this storage has not read yet
            /// (another instance made them, or they are old), on `conn`.
            async fn read_dictionaries(
                conn: &mut Conn,
                dictionaries: &$crate::packed::Dictionaries,
                numbers: Vec<i64>,
            ) -> Result<()> {
                for number in numbers {
                    let row: Option<(Vec<u8>,)> =
                        ::sqlx::query_as($crate::group_commit::statements::READ_DICTIONARY)
                            .bind(number)
                            .fetch_optional(&mut *conn)
                            .await
                            .map_err(classify)?;
                    dictionaries.learn_stored(number, row.map(|(content,)| content))?;
                }
                Ok(())
            }

            /// Reads the store dictionaries `values` were packed with that this storage has
            /// not read, on a connection of `pool` taken only when there are any.
            async fn read_dictionaries_from<'a>(
                pool: &::sqlx::Pool<Db>,
                dictionaries: &$crate::packed::Dictionaries,
                values: impl IntoIterator<Item = &'a [u8]>,
            ) -> Result<()> {
                let missing = dictionaries.missing(values);
                if missing.is_empty() {
                    return Ok(());
                }
                let mut conn = pool.acquire().await.map_err(classify)?;
                read_dictionaries(&mut *conn, dictionaries, missing).await
            }

            /// Zero rows touched by an update of one row means it does not exist.
            fn one_row(affected: u64, entity: &'static str) -> Result<()> {
                if affected == 0 {
                    Err(StoreError::NotFound { entity })
                } else {
                    Ok(())
                }
            }

            /// A link to a store failed its foreign key: the store does not exist.
            fn missing_store(e: ::sqlx::Error) -> StoreError {
                match classify(e) {
                    StoreError::MissingReference(_) => StoreError::NotFound { entity: "store" },
                    other => other,
                }
            }

            /// The children of several parents in one query (`prefix` ends in `IN (`,
            /// `suffix` closes it and orders by parent first), e.g. the stores of a page
            /// of users.
            async fn children<'c, E>(
                exec: E,
                prefix: &'static str,
                parents: &[Uuid],
                suffix: &'static str,
            ) -> Result<HashMap<Uuid, Vec<Uuid>>>
            where
                E: ::sqlx::Executor<'c, Database = Db>,
            {
                let mut map: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
                if parents.is_empty() {
                    return Ok(map);
                }
                let mut query = ::sqlx::QueryBuilder::<Db>::new(prefix);
                let mut list = query.separated(", ");
                for parent in parents {
                    list.push_bind(*parent);
                }
                query.push(suffix);
                let rows: Vec<(Uuid, Uuid)> = query
                    .build_query_as()
                    .fetch_all(exec)
                    .await
                    .map_err(classify)?;
                for (parent, child) in rows {
                    map.entry(parent).or_default().push(child);
                }
                Ok(map)
            }

            $crate::impl_sql_stores!($storage);
            $crate::impl_sql_users!($storage);
            $crate::impl_sql_sessions!($storage);
            $crate::impl_sql_devices!($storage);
            $crate::impl_sql_audit!($storage);
            $crate::impl_sql_catalog!($storage);
            $crate::impl_sql_catalog_share!($storage);
            $crate::impl_sql_stock!($storage);
            $crate::impl_sql_idempotency!($storage);
            $crate::impl_sql_orders!($storage);
            $crate::impl_sql_reports!($storage);
            $crate::impl_sql_outbox!($storage);
            $crate::impl_sql_catering!($storage);
        }
    };
}
