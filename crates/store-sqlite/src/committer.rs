//! Order commits on SQLite, written by a thread that owns a connection of its own.
//!
//! Through sqlx every statement is handed to the connection's worker thread and its
//! result handed back, two thread wake-ups per statement; a group of commits runs a few
//! statements per order, and on a two-core till those hand-offs, not SQLite, were most
//! of the cost of taking an order. Here the whole group runs on the thread that holds
//! the connection, with cached statements, and each waiting request is woken once, when
//! its commit is durable. Both connections take the write lock up front
//! (`BEGIN IMMEDIATE`), so they queue behind each other instead of failing.

use crate::SqliteOptions;
use crate::errors::classify_direct as classify;
use chrono::SecondsFormat;
use comanda_domain::orders::Order;
use comanda_domain::orders::chain::GENESIS;
use comanda_domain::{StoreId, VariantId};
use comanda_store::group_commit::{
    self, Answer, CommitJob, Document, HoldChanges, KeyRow, LogHead, Prepared, Step, statements,
};
use comanda_store::log_tail::LogTail;
use comanda_store::packed::Dictionaries;
use comanda_store::{CommitOutcome, IdempotencyClaim, Result, StockHold};
use rusqlite::types::ToSql;
use rusqlite::{CachedStatement, Connection, TransactionBehavior};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::Receiver;

/// Starts the committer thread for `jobs`. If the thread cannot start or its connection
/// cannot open, the jobs are dropped: their requests fail as unavailable and the next
/// commit starts a new committer.
pub fn start(options: &SqliteOptions, jobs: Receiver<CommitJob>, tail: Arc<LogTail>) {
    let options = options.clone();
    let spawned = std::thread::Builder::new()
        .name("sqlite-commits".into())
        .spawn(move || match open(&options) {
            Ok(mut conn) => run(&mut conn, jobs, &tail),
            Err(e) => tracing::error!(error = %e, "cannot open the order committer's connection"),
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the order committer");
    }
}

/// How often the committer copies the write-ahead log into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(50);

/// How long the committer sleeps before it asks again for the write lock held by the
/// other connection.
const BUSY_POLL: Duration = Duration::from_micros(100);

thread_local! {
    /// How many times the committer asks for the write lock before giving up.
    static BUSY_TRIES: std::cell::Cell<u128> = const { std::cell::Cell::new(0) };
}

/// SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25... ms between tries, so an
/// order waiting on a 3 ms write of the log follower waited 8 ms or more; on a till where
/// the follower writes several times a second, that was the p99. The committer asks
/// again every 100 µs instead (the other connection is the sqlx one, whose writes
/// are few and short), up to the configured busy timeout.
fn ask_again_soon(tries: i32) -> bool {
    if u128::try_from(tries).unwrap_or(u128::MAX) >= BUSY_TRIES.get() {
        return false;
    }
    std::thread::sleep(BUSY_POLL);
    true
}

fn open(options: &SqliteOptions) -> rusqlite::Result<Connection> {
    let conn = Connection::open(&options.path)?;
    BUSY_TRIES.set(options.busy_timeout.as_micros() / BUSY_POLL.as_micros());
    conn.busy_handler(Some(ask_again_soon))?;
    conn.pragma_update(None, "synchronous", options.synchronous.pragma())?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    for (name, value) in crate::PRAGMAS {
        conn.pragma_update(None, name, value)?;
    }
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(conn)
}

/// Commits groups as they come. Automatic checkpoints are off on this connection: SQLite
/// runs them inside the commit that crosses 1,000 pages, so that group's answers would
/// wait for the copy and its fsync. A checkpoint run by another connection would never
/// catch up with a writer that never pauses, and the log would grow without end. So the
/// committer checkpoints itself, between groups, after answering.
fn run(conn: &mut Connection, mut jobs: Receiver<CommitJob>, tail: &LogTail) {
    let mut checkpointed = Instant::now();
    while let Some(first) = jobs.blocking_recv() {
        let group = group_commit::gather(first, &mut jobs);
        let outcomes = commit_group(conn, &group);
        group_commit::answer(group, outcomes, tail);
        if checkpointed.elapsed() >= CHECKPOINT_EVERY {
            if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                tracing::warn!(error = %e, "checkpoint failed");
            }
            checkpointed = Instant::now();
        }
    }
}

fn commit_group(conn: &mut Connection, group: &[CommitJob]) -> Result<Vec<Result<CommitOutcome>>> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(classify)?;
    let mut heads: HashMap<StoreId, (LogHead, bool)> = HashMap::new();
    let mut outcomes = Vec::with_capacity(group.len());
    for job in group {
        let store = job.commit.store;
        let (head, moved) = match heads.entry(store) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(first) => first.insert((take_head(&tx, store)?, false)),
        };
        let several = job.needs_savepoint();
        if several {
            tx.execute_batch(statements::SAVEPOINT).map_err(classify)?;
        }
        let outcome = commit_in(&tx, job, head);
        let written = match group_commit::step(&outcome, several) {
            Step::Moved => true,
            Step::Refused => false,
            Step::FailGroup(e) => return Err(e),
        };
        *moved |= written;
        if several {
            let end = if written {
                statements::RELEASE
            } else {
                statements::ROLLBACK_TO
            };
            tx.execute_batch(end).map_err(classify)?;
        }
        outcomes.push(outcome);
    }
    for (store, (head, moved)) in &heads {
        if *moved {
            let mut update = tx.prepare_cached(statements::MOVE_HEAD).map_err(classify)?;
            execute(
                &mut update,
                &[
                    &uuid(store.as_uuid()),
                    &head.seq,
                    &head.hash,
                    &head.last_number,
                ],
            )?;
        }
    }
    tx.commit().map_err(classify)?;
    Ok(outcomes)
}

/// One commit inside the group's transaction; see the shared sqlx version for the order
/// of writes and what a refusal undoes.
fn commit_in(conn: &Connection, job: &CommitJob, head: &mut LogHead) -> Result<CommitOutcome> {
    let commit = &job.commit;
    let prepared = Prepared::new(job, head)?;
    if let Some(claim) = &commit.idempotency
        && let Err(outcome) = keep_answer(conn, claim, &prepared.answer, &job.dictionaries)?
    {
        return Ok(outcome);
    }
    let written = prepared.orders.iter().zip(&prepared.documents);
    for ((order, document), write) in written.zip(&commit.orders) {
        if let Err(e) = write_order(conn, commit.store, order, document, write.expected_version) {
            if let (Some(claim), 1) = (&commit.idempotency, commit.orders.len()) {
                let mut give_back = conn
                    .prepare_cached(statements::GIVE_KEY_BACK)
                    .map_err(classify)?;
                execute(&mut give_back, &[&claim.key_id()])?;
            }
            return Err(e);
        }
    }
    hold_stock(conn, commit.store, &job.holds)?;
    let mut insert = conn
        .prepare_cached(statements::INSERT_EVENT)
        .map_err(classify)?;
    for (e, packed) in prepared.events.iter().zip(job.packed_payloads()) {
        execute(
            &mut insert,
            &[
                &uuid(e.store_id.as_uuid()),
                &e.seq,
                &uuid(e.order_id.as_uuid()),
                &e.kind,
                &packed,
                &e.actor.map(|a| uuid(a.as_uuid())),
                &e.device.map(|d| uuid(d.as_uuid())),
                &timestamp(e.at),
                &e.hash,
            ],
        )?;
    }
    *head = prepared.head.clone();
    Ok(prepared.committed())
}

/// Moves the units the commit's orders hold; `OutOfStock` when one is not available
/// (the caller's savepoint undoes the rest of the commit).
fn hold_stock(conn: &Connection, store: StoreId, holds: &[StockHold]) -> Result<()> {
    if holds.is_empty() {
        return Ok(());
    }
    let store = uuid(store.as_uuid());
    let mut stored = Vec::with_capacity(holds.len());
    for hold in holds {
        let mut read = conn
            .prepare_cached(statements::READ_HOLDS)
            .map_err(classify)?;
        bind(&mut read, &[&uuid(hold.order.as_uuid())]).map_err(classify)?;
        let mut rows = read.raw_query();
        let mut held = Vec::new();
        while let Some(row) = rows.next().map_err(classify)? {
            let variant: [u8; 16] = row.get(0).map_err(classify)?;
            held.push((
                VariantId::from_uuid(uuid::Uuid::from_bytes(variant)),
                row.get(1).map_err(classify)?,
            ));
        }
        stored.push(held);
    }
    let changes = HoldChanges::of(holds, &stored);
    for (variant, units) in &changes.moves {
        let id = uuid(variant.as_uuid());
        let mut move_held = conn
            .prepare_cached(statements::MOVE_HELD)
            .map_err(classify)?;
        if execute(&mut move_held, &[&store, &id, units])? == 0 && *units > 0 {
            let level = first_row(conn, statements::READ_LEVEL, &[&store, &id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(classify)?;
            return Err(group_commit::out_of_stock(*variant, level));
        }
    }
    for (order, variant, units) in &changes.put {
        let mut put = conn
            .prepare_cached(statements::PUT_HOLD)
            .map_err(classify)?;
        let (order, variant) = (uuid(order.as_uuid()), uuid(variant.as_uuid()));
        execute(&mut put, &[&store, &order, &variant, units])?;
    }
    for (order, variant) in &changes.drop {
        let mut drop = conn
            .prepare_cached(statements::DROP_HOLD)
            .map_err(classify)?;
        execute(
            &mut drop,
            &[&uuid(order.as_uuid()), &uuid(variant.as_uuid())],
        )?;
    }
    Ok(())
}

fn keep_answer(
    conn: &Connection,
    claim: &IdempotencyClaim,
    answer: &Answer,
    dictionaries: &Dictionaries,
) -> Result<std::result::Result<(), CommitOutcome>> {
    let mut keep = conn
        .prepare_cached(statements::KEEP_ANSWER)
        .map_err(classify)?;
    let kept = execute(
        &mut keep,
        &[
            &claim.key_id(),
            &claim.request_hash,
            &i32::from(answer.response.status),
            &answer.response.headers_text()?,
            &answer.packed_body,
            &comanda_domain::clock::now().timestamp_millis(),
            &claim.lease_until.timestamp_millis(),
            &claim.expires_at.timestamp_millis(),
        ],
    )?;
    if kept == 1 {
        return Ok(Ok(()));
    }
    let row: Option<KeyRow> = first_row(conn, statements::READ_KEY, &[&claim.key_id()], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })
    .map_err(classify)?;
    let body = row.as_ref().and_then(|r| r.3.as_deref());
    for number in dictionaries.missing(body) {
        let content = first_row(conn, statements::READ_DICTIONARY, &[&number], |r| r.get(0))
            .map_err(classify)?;
        dictionaries.learn_stored(number, content)?;
    }
    Ok(Err(group_commit::key_taken(claim, row, dictionaries)?))
}

fn take_head(conn: &Connection, store: StoreId) -> Result<LogHead> {
    first_row(
        conn,
        statements::TAKE_HEAD,
        &[&uuid(store.as_uuid()), &GENESIS.as_slice()],
        |r| {
            Ok(LogHead {
                seq: r.get(0)?,
                hash: r.get(1)?,
                last_number: r.get(2)?,
            })
        },
    )
    .map_err(missing_store)?
    .ok_or_else(|| comanda_store::StoreError::Internal("no log head returned".into()))
}

fn missing_store(e: rusqlite::Error) -> comanda_store::StoreError {
    match classify(e) {
        comanda_store::StoreError::MissingReference(_) => {
            comanda_store::StoreError::NotFound { entity: "store" }
        }
        other => other,
    }
}

fn write_order(
    conn: &Connection,
    store: StoreId,
    order: &Order,
    document: &Document,
    expected: Option<i64>,
) -> Result<()> {
    let id = uuid(order.id.as_uuid());
    let store = uuid(store.as_uuid());
    let table = order.table_id.map(|t| uuid(t.as_uuid()));
    let Some(expected) = expected else {
        let mut insert = conn
            .prepare_cached(statements::INSERT_ORDER)
            .map_err(classify)?;
        execute(
            &mut insert,
            &[
                &id,
                &store,
                &order.number,
                &order.kind.as_str(),
                &order.status.as_str(),
                &table,
                &order.opened_by.map(|u| uuid(u.as_uuid())),
                &document.due,
                &order.version,
                &timestamp(order.opened_at),
                &timestamp(order.updated_at),
                &document.packed,
                &document.in_kitchen,
            ],
        )?;
        return Ok(());
    };
    let mut update = conn
        .prepare_cached(statements::UPDATE_ORDER)
        .map_err(classify)?;
    let updated = execute(
        &mut update,
        &[
            &id,
            &store,
            &order.status.as_str(),
            &table,
            &document.due,
            &order.version,
            &timestamp(order.updated_at),
            &document.packed,
            &expected,
            &document.in_kitchen,
        ],
    )?;
    if updated == 1 {
        return Ok(());
    }
    let current = first_row(conn, statements::ORDER_VERSION, &[&id, &store], |r| {
        r.get(0)
    })
    .map_err(classify)?;
    Err(group_commit::stale(current))
}

/// Binds `values` to `$1`, `$2`, ... (the shared statements number their parameters and
/// may use them out of order, which positional binding would get wrong).
fn bind(statement: &mut CachedStatement<'_>, values: &[&dyn ToSql]) -> rusqlite::Result<()> {
    if values.len() > PARAMETERS.len() {
        return Err(rusqlite::Error::InvalidParameterCount(
            values.len(),
            PARAMETERS.len(),
        ));
    }
    for (name, value) in PARAMETERS.iter().zip(values) {
        let index = statement
            .parameter_index(name)?
            .ok_or_else(|| rusqlite::Error::InvalidParameterName((*name).to_owned()))?;
        statement.raw_bind_parameter(index, value)?;
    }
    Ok(())
}

fn execute(statement: &mut CachedStatement<'_>, values: &[&dyn ToSql]) -> Result<usize> {
    bind(statement, values).map_err(classify)?;
    statement.raw_execute().map_err(classify)
}

/// The first row of a query, if any.
fn first_row<T>(
    conn: &Connection,
    sql: &str,
    values: &[&dyn ToSql],
    read: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Option<T>> {
    let mut statement = conn.prepare_cached(sql)?;
    bind(&mut statement, values)?;
    let mut rows = statement.raw_query();
    rows.next()?.map(read).transpose()
}

const PARAMETERS: [&str; 13] = [
    "$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9", "$10", "$11", "$12", "$13",
];

/// Ids as sqlx stores them on SQLite: the 16 bytes.
fn uuid(id: uuid::Uuid) -> [u8; 16] {
    id.into_bytes()
}

/// Times as sqlx stores them on SQLite, so reads and range filters see one format.
fn timestamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}
