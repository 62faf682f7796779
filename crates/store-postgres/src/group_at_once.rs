//! A whole group of order commits in one statement.
//!
//! Written statement by statement, a group costs three round trips per commit and four
//! more around them, each one a wake-up of a PostgreSQL backend on the same two cores
//! as the server: that, not the fsync, was most of an order's latency on PostgreSQL.
//! Here the group is one data-modifying statement, with every row bound as arrays, run
//! as its own transaction: one round trip and one fsync for the group.
//!
//! It is optimistic. The log heads come from what this committer wrote last, the
//! answers are worked out as if every commit will be written, and the statement ends by
//! checking that every key was taken, every order was still at the version its change
//! was based on and every head was still where this committer left it.
//! `comanda_group_written` raises otherwise, which undoes the whole statement, and the
//! group goes the statement-by-statement way, which refuses the commits one by one.

use comanda_domain::StoreId;
use comanda_store::group_commit::{AtOnce, CommitJob, LogHead, Prepared};
use comanda_store::{CommitOutcome, Result};
use sqlx::PgConnection;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// The statement's check found a commit it could not write as worked out.
const REFUSED: &str = "CM001";

const WRITE_GROUP: &str = concat!(
    "WITH keys AS (
        INSERT INTO idempotency_keys (id, request_hash, status, headers, body, created_at, lease_until, expires_at)
        SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::int4[], $4::text[], $5::bytea[], $6::int8[], $7::int8[], $8::int8[])
        ",
    comanda_store::key_answer_taken_over!(),
    "
        RETURNING 1
    ), opened AS (
        INSERT INTO orders (id, store_id, number, kind, status, table_id, opened_by, total, version, opened_at, updated_at, document, in_kitchen)
        SELECT * FROM unnest($9::uuid[], $10::uuid[], $11::int8[], $12::text[], $13::text[], $14::uuid[], $15::uuid[], $16::int8[], $17::int8[], $18::timestamptz[], $19::timestamptz[], $20::bytea[], $48::bool[])
        RETURNING 1
    ), changed AS (
        UPDATE orders o
        SET status = v.status, table_id = v.table_id, total = v.total, version = v.version, updated_at = v.updated_at, document = v.document, in_kitchen = v.in_kitchen
        FROM unnest($21::uuid[], $22::uuid[], $23::text[], $24::uuid[], $25::int8[], $26::int8[], $27::timestamptz[], $28::bytea[], $29::int8[], $49::bool[])
            AS v (id, store_id, status, table_id, total, version, updated_at, document, expected, in_kitchen)
        WHERE o.id = v.id AND o.store_id = v.store_id AND o.version = v.expected
        RETURNING 1
    ), logged AS (
        INSERT INTO order_events (store_id, seq, order_id, kind, payload, actor_id, device_id, at, hash)
        SELECT * FROM unnest($30::uuid[], $31::int8[], $32::uuid[], $33::text[], $34::bytea[], $35::uuid[], $36::uuid[], $37::timestamptz[], $38::bytea[])
        RETURNING 1
    ), moved AS (
        UPDATE order_log_heads h
        SET seq = v.seq, hash = v.hash, last_number = v.last_number
        FROM unnest($39::uuid[], $40::int8[], $41::int8[], $42::int8[], $43::bytea[], $44::int8[])
            AS v (store_id, was_seq, was_number, seq, hash, last_number)
        WHERE h.store_id = v.store_id AND h.seq = v.was_seq AND h.last_number = v.was_number
        RETURNING h.store_id, h.seq
    )
    SELECT comanda_group_written(
            (SELECT count(*) FROM keys) = $45
            AND (SELECT count(*) FROM changed) = $46
            AND (SELECT count(*) FROM moved) = $47),
        (SELECT count(pg_notify('comanda_order_log', store_id::text || ':' || seq::text)) FROM moved)"
);

const READ_HEAD: &str = "SELECT seq, hash, last_number FROM order_log_heads WHERE store_id = $1";

/// The log heads this committer left, per store. A head it has not seen, or one it may
/// no longer know (after a group went the other way), is read before the statement.
#[derive(Default)]
pub struct OneStatement {
    heads: HashMap<StoreId, LogHead>,
}

#[async_trait::async_trait]
impl AtOnce<sqlx::Postgres> for OneStatement {
    async fn write(
        &mut self,
        conn: &mut PgConnection,
        group: &[CommitJob],
    ) -> Option<Vec<Result<CommitOutcome>>> {
        if !each_row_once(group) {
            return None;
        }
        let mut heads = HashMap::new();
        for job in group {
            let store = job.commit.store;
            if let Entry::Vacant(unread) = heads.entry(store) {
                let head = match self.heads.get(&store) {
                    Some(head) => head.clone(),
                    None => read_head(conn, store).await?,
                };
                unread.insert((head.clone(), head));
            }
        }
        let mut prepared = Vec::with_capacity(group.len());
        for job in group {
            let (_, head) = heads.get_mut(&job.commit.store)?;
            let commit = Prepared::new(job, head).ok()?;
            *head = commit.head.clone();
            prepared.push(commit);
        }
        let rows = Rows::of(group, &prepared, &heads).ok()?;
        match rows.write(conn).await {
            Ok(()) => {
                for (store, (_, head)) in heads {
                    self.heads.insert(store, head);
                }
                Some(prepared.into_iter().map(|p| Ok(p.committed())).collect())
            }
            Err(e) => {
                for store in heads.keys() {
                    self.heads.remove(store);
                }
                let refused = matches!(&e, sqlx::Error::Database(db) if db.code().as_deref() == Some(REFUSED));
                if !refused {
                    tracing::debug!(error = %e, "a group commit in one statement failed; writing it statement by statement");
                }
                None
            }
        }
    }
}

/// One statement may not change a row twice (two changes of one tab, a retry beside
/// its first attempt): such a group is written statement by statement. So is one that
/// holds stock, whose holds are checked one commit after another.
fn each_row_once(group: &[CommitJob]) -> bool {
    let mut orders = HashSet::new();
    let mut keys = HashSet::new();
    group.iter().all(|job| {
        job.holds.is_empty()
            && job.commit.orders.iter().all(|w| orders.insert(w.order.id))
            && job
                .commit
                .idempotency
                .as_ref()
                .is_none_or(|c| keys.insert(c.key_id()))
    })
}

async fn read_head(conn: &mut PgConnection, store: StoreId) -> Option<LogHead> {
    let row: Option<(i64, Vec<u8>, i64)> = sqlx::query_as(READ_HEAD)
        .bind(store.as_uuid())
        .fetch_optional(conn)
        .await
        .ok()?;
    // No head yet: the statement-by-statement way creates it.
    let (seq, hash, last_number) = row?;
    Some(LogHead {
        seq,
        hash,
        last_number,
    })
}

type Time = chrono::DateTime<chrono::Utc>;

/// The group's rows, column by column.
#[derive(Default)]
struct Rows {
    key: Vec<Vec<u8>>,
    key_request: Vec<Vec<u8>>,
    key_status: Vec<i32>,
    key_headers: Vec<String>,
    key_body: Vec<Vec<u8>>,
    key_created: Vec<i64>,
    key_lease: Vec<i64>,
    key_expires: Vec<i64>,
    new_id: Vec<Uuid>,
    new_store: Vec<Uuid>,
    new_number: Vec<i64>,
    new_kind: Vec<&'static str>,
    new_status: Vec<&'static str>,
    new_table: Vec<Option<Uuid>>,
    new_opened_by: Vec<Option<Uuid>>,
    new_total: Vec<i64>,
    new_version: Vec<i64>,
    new_opened_at: Vec<Time>,
    new_updated_at: Vec<Time>,
    new_document: Vec<Vec<u8>>,
    new_in_kitchen: Vec<bool>,
    changed_id: Vec<Uuid>,
    changed_store: Vec<Uuid>,
    changed_status: Vec<&'static str>,
    changed_table: Vec<Option<Uuid>>,
    changed_total: Vec<i64>,
    changed_version: Vec<i64>,
    changed_updated_at: Vec<Time>,
    changed_document: Vec<Vec<u8>>,
    changed_expected: Vec<i64>,
    changed_in_kitchen: Vec<bool>,
    event_store: Vec<Uuid>,
    event_seq: Vec<i64>,
    event_order: Vec<Uuid>,
    event_kind: Vec<String>,
    event_payload: Vec<Vec<u8>>,
    event_actor: Vec<Option<Uuid>>,
    event_device: Vec<Option<Uuid>>,
    event_at: Vec<Time>,
    event_hash: Vec<Vec<u8>>,
    head_store: Vec<Uuid>,
    head_was_seq: Vec<i64>,
    head_was_number: Vec<i64>,
    head_seq: Vec<i64>,
    head_hash: Vec<Vec<u8>>,
    head_number: Vec<i64>,
}

impl Rows {
    fn of(
        group: &[CommitJob],
        prepared: &[Prepared],
        heads: &HashMap<StoreId, (LogHead, LogHead)>,
    ) -> Result<Self> {
        let mut rows = Self::default();
        let now = comanda_domain::clock::now().timestamp_millis();
        for (job, commit) in group.iter().zip(prepared) {
            let store = job.commit.store.as_uuid();
            if let Some(claim) = &job.commit.idempotency {
                rows.key.push(claim.key_id());
                rows.key_request.push(claim.request_hash.clone());
                rows.key_status
                    .push(i32::from(commit.answer.response.status));
                rows.key_headers
                    .push(commit.answer.response.headers_text()?);
                rows.key_body.push(commit.answer.packed_body.clone());
                rows.key_created.push(now);
                rows.key_lease.push(claim.lease_until.timestamp_millis());
                rows.key_expires.push(claim.expires_at.timestamp_millis());
            }
            let writes = commit
                .orders
                .iter()
                .zip(&commit.documents)
                .zip(&job.commit.orders);
            for ((order, document), write) in writes {
                let table = order.table_id.map(|t| t.as_uuid());
                match write.expected_version {
                    None => {
                        rows.new_id.push(order.id.as_uuid());
                        rows.new_store.push(store);
                        rows.new_number.push(order.number);
                        rows.new_kind.push(order.kind.as_str());
                        rows.new_status.push(order.status.as_str());
                        rows.new_table.push(table);
                        rows.new_opened_by
                            .push(order.opened_by.map(|u| u.as_uuid()));
                        rows.new_total.push(document.due);
                        rows.new_version.push(order.version);
                        rows.new_opened_at.push(order.opened_at);
                        rows.new_updated_at.push(order.updated_at);
                        rows.new_document.push(document.packed.clone());
                        rows.new_in_kitchen.push(document.in_kitchen);
                    }
                    Some(expected) => {
                        rows.changed_id.push(order.id.as_uuid());
                        rows.changed_store.push(store);
                        rows.changed_status.push(order.status.as_str());
                        rows.changed_table.push(table);
                        rows.changed_total.push(document.due);
                        rows.changed_version.push(order.version);
                        rows.changed_updated_at.push(order.updated_at);
                        rows.changed_document.push(document.packed.clone());
                        rows.changed_in_kitchen.push(document.in_kitchen);
                        rows.changed_expected.push(expected);
                    }
                }
            }
            for (e, packed) in commit.events.iter().zip(job.packed_payloads()) {
                rows.event_store.push(e.store_id.as_uuid());
                rows.event_seq.push(e.seq);
                rows.event_order.push(e.order_id.as_uuid());
                rows.event_kind.push(e.kind.clone());
                rows.event_payload.push(packed.to_vec());
                rows.event_actor.push(e.actor.map(|a| a.as_uuid()));
                rows.event_device.push(e.device.map(|d| d.as_uuid()));
                rows.event_at.push(e.at);
                rows.event_hash.push(e.hash.clone());
            }
        }
        for (store, (was, head)) in heads {
            rows.head_store.push(store.as_uuid());
            rows.head_was_seq.push(was.seq);
            rows.head_was_number.push(was.last_number);
            rows.head_seq.push(head.seq);
            rows.head_hash.push(head.hash.clone());
            rows.head_number.push(head.last_number);
        }
        Ok(rows)
    }

    async fn write(self, conn: &mut PgConnection) -> std::result::Result<(), sqlx::Error> {
        let counts = [self.key.len(), self.changed_id.len(), self.head_store.len()]
            .map(|n| i64::try_from(n).unwrap_or(i64::MAX));
        sqlx::query(WRITE_GROUP)
            .bind(self.key)
            .bind(self.key_request)
            .bind(self.key_status)
            .bind(self.key_headers)
            .bind(self.key_body)
            .bind(self.key_created)
            .bind(self.key_lease)
            .bind(self.key_expires)
            .bind(self.new_id)
            .bind(self.new_store)
            .bind(self.new_number)
            .bind(self.new_kind)
            .bind(self.new_status)
            .bind(self.new_table)
            .bind(self.new_opened_by)
            .bind(self.new_total)
            .bind(self.new_version)
            .bind(self.new_opened_at)
            .bind(self.new_updated_at)
            .bind(self.new_document)
            .bind(self.changed_id)
            .bind(self.changed_store)
            .bind(self.changed_status)
            .bind(self.changed_table)
            .bind(self.changed_total)
            .bind(self.changed_version)
            .bind(self.changed_updated_at)
            .bind(self.changed_document)
            .bind(self.changed_expected)
            .bind(self.event_store)
            .bind(self.event_seq)
            .bind(self.event_order)
            .bind(self.event_kind)
            .bind(self.event_payload)
            .bind(self.event_actor)
            .bind(self.event_device)
            .bind(self.event_at)
            .bind(self.event_hash)
            .bind(self.head_store)
            .bind(self.head_was_seq)
            .bind(self.head_was_number)
            .bind(self.head_seq)
            .bind(self.head_hash)
            .bind(self.head_number)
            .bind(counts[0])
            .bind(counts[1])
            .bind(counts[2])
            .bind(self.new_in_kitchen)
            .bind(self.changed_in_kitchen)
            .execute(conn)
            .await?;
        Ok(())
    }
}
