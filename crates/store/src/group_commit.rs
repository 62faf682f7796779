//! Group commit of order writes: every commit waiting when the writer comes round goes
//! into one transaction, so many orders share one fsync. What does not depend on the
//! database driver lives here (numbering, hashing the log, the answer, which failures
//! fail the group); each backend writes the rows with its own driver: the shared sqlx
//! code for PostgreSQL, a thread with its own connection for SQLite.

use crate::orders::{
    CommitOutcome, OrderCommit, Respond, StockHold, order_due, order_to_text, payload_text,
};
use crate::packed::{self, Dictionaries, StoreDictionary};
use crate::{IdempotencyClaim, Result, StoreError, StoredResponse};
use comanda_domain::clock;
use comanda_domain::orders::Order;
use comanda_domain::orders::chain::{LoggedEvent, event_hash};
use comanda_domain::{OrderId, VariantId};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::mpsc::{Receiver, Sender};

/// Most commits one transaction carries.
pub const MAX_GROUP: usize = 256;

/// A commit waiting for the group commit that will carry it.
pub struct CommitJob {
    pub commit: OrderCommit,
    pub respond: Box<Respond>,
    pub rendered: Rendered,
    pub reply: tokio::sync::oneshot::Sender<Result<CommitOutcome>>,
    /// The storage's dictionaries, to read a kept answer with.
    pub dictionaries: Arc<Dictionaries>,
    /// The store's dictionary its values are packed with, if it has one yet.
    pub dictionary: Option<Arc<StoreDictionary>>,
    /// What each order that holds stock holds once written.
    pub holds: Vec<StockHold>,
}

impl CommitJob {
    /// Each event's payload as written to the log, in the order of the commit's events
    /// (and of [`Prepared::events`]).
    pub fn packed_payloads(&self) -> impl Iterator<Item = &[u8]> {
        self.rendered
            .payloads
            .iter()
            .map(|(_, packed)| packed.as_slice())
    }

    /// Renders what it can on the caller's task: the committer is one thread for the
    /// whole instance, so every serialization done here is one it does not do in line.
    pub fn new(
        mut commit: OrderCommit,
        respond: Box<Respond>,
        reply: tokio::sync::oneshot::Sender<Result<CommitOutcome>>,
        dictionaries: &Arc<Dictionaries>,
    ) -> Result<Self> {
        // Before anything is rendered: the first line that holds stock marks its order.
        let holds = commit
            .orders
            .iter_mut()
            .filter_map(|w| {
                let variants = w.order.stock_to_hold()?;
                Some(StockHold {
                    order: w.order.id,
                    variants,
                })
            })
            .collect();
        let dictionary = dictionaries.current(commit.store);
        let rendered = Rendered::new(&commit, &*respond, dictionary.as_deref())?;
        Ok(Self {
            commit,
            respond,
            rendered,
            reply,
            dictionaries: dictionaries.clone(),
            dictionary,
            holds,
        })
    }

    /// The commit runs inside a savepoint, so that its refusal undoes what it wrote
    /// before: several orders, or stock to hold, whose check comes after the writes.
    pub fn needs_savepoint(&self) -> bool {
        self.commit.orders.len() > 1 || !self.holds.is_empty()
    }
}

/// How a commit's holds change the stock: the rows of each order to write or drop, and
/// what moves from available to held (or back) per variant, in variant order so that
/// two writers lock levels in one order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct HoldChanges {
    pub put: Vec<(OrderId, VariantId, i64)>,
    pub drop: Vec<(OrderId, VariantId)>,
    pub moves: Vec<(VariantId, i64)>,
}

impl HoldChanges {
    /// `stored[i]` is what `holds[i]`'s order holds as stored.
    pub fn of(holds: &[StockHold], stored: &[Vec<(VariantId, i64)>]) -> Self {
        let mut changes = Self::default();
        let mut moves: BTreeMap<VariantId, i64> = BTreeMap::new();
        for (hold, before) in holds.iter().zip(stored) {
            let before: BTreeMap<VariantId, i64> = before.iter().copied().collect();
            let after: BTreeMap<VariantId, i64> = hold.variants.iter().copied().collect();
            for (variant, units) in &after {
                let was = before.get(variant).copied().unwrap_or(0);
                if was != *units {
                    changes.put.push((hold.order, *variant, *units));
                    let moved = moves.entry(*variant).or_default();
                    *moved = moved.saturating_add(units.saturating_sub(was));
                }
            }
            for (variant, was) in before.iter().filter(|(v, _)| !after.contains_key(v)) {
                changes.drop.push((hold.order, *variant));
                let moved = moves.entry(*variant).or_default();
                *moved = moved.saturating_sub(*was);
            }
        }
        changes.moves = moves.into_iter().filter(|(_, units)| *units != 0).collect();
        changes
    }
}

/// The parts of a commit that do not depend on its place in the log.
pub struct Rendered {
    /// Each event's payload: its text, which the log's hash covers, and the text packed.
    pub payloads: Vec<(String, Vec<u8>)>,
    /// Each order's document and amount due, and the answer: known before the commit
    /// when no order in it is new (a new order's number, which both show, is given in
    /// the commit).
    pub ready: Option<(Vec<Document>, Answer)>,
}

/// An order as stored: its document, packed, and what it costs with its tip.
#[derive(Clone)]
pub struct Document {
    pub packed: Vec<u8>,
    pub due: i64,
    /// A line is with the kitchen: the order is on the kitchen screens.
    pub in_kitchen: bool,
}

impl Document {
    fn of(order: &Order, dictionary: Option<&StoreDictionary>) -> Result<Self> {
        Ok(Self {
            packed: packed::pack_with(dictionary, order_to_text(order)?.as_bytes())?,
            due: order_due(order)?,
            in_kitchen: order.lines.iter().any(|l| l.in_kitchen()),
        })
    }
}

/// The answer to a commit, and its body as kept for retries.
#[derive(Clone)]
pub struct Answer {
    pub response: StoredResponse,
    pub packed_body: Vec<u8>,
}

impl Answer {
    fn of(response: StoredResponse, dictionary: Option<&StoreDictionary>) -> Result<Self> {
        Ok(Self {
            packed_body: packed::pack_with(dictionary, &response.body)?,
            response,
        })
    }
}

impl Rendered {
    fn new(
        commit: &OrderCommit,
        respond: &Respond,
        dictionary: Option<&StoreDictionary>,
    ) -> Result<Self> {
        let payloads = commit
            .events
            .iter()
            .map(|(_, event)| {
                let text = payload_text(event)?;
                let packed = packed::pack_payload_with(dictionary, text.as_bytes())?;
                Ok((text, packed))
            })
            .collect::<Result<_>>()?;
        let known = commit.orders.iter().all(|w| w.expected_version.is_some());
        let ready = if known {
            let orders: Vec<Order> = commit.orders.iter().map(|w| w.order.clone()).collect();
            let documents = orders
                .iter()
                .map(|o| Document::of(o, dictionary))
                .collect::<Result<_>>()?;
            Some((documents, Answer::of(respond(&orders)?, dictionary)?))
        } else {
            None
        };
        Ok(Self { payloads, ready })
    }
}

/// The queue of a storage's group commits: a committer, started on first use, takes
/// every commit waiting and writes them in one transaction.
#[derive(Default)]
pub struct CommitQueue {
    sender: std::sync::Mutex<Option<Sender<CommitJob>>>,
    /// What the committer wrote last, for the screens following the log.
    pub tail: std::sync::Arc<crate::log_tail::LogTail>,
    /// The storage's store dictionaries (see [`crate::packed`]).
    pub dictionaries: Arc<Dictionaries>,
}

impl CommitQueue {
    /// Queues `job`, starting the committer with `start` if none is running (the first
    /// use, or a runtime that ended). Gives the job back if it cannot be queued.
    pub fn submit(
        &self,
        job: CommitJob,
        start: impl FnOnce(Receiver<CommitJob>),
    ) -> std::result::Result<(), Box<CommitJob>> {
        let mut sender = self.sender.lock().unwrap_or_else(|e| e.into_inner());
        let job = match sender.as_ref() {
            Some(tx) => match tx.try_send(job) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Full(job)) => return Err(Box::new(job)),
                Err(TrySendError::Closed(job)) => job,
            },
            None => job,
        };
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(Box::new(job));
        }
        let (tx, rx) = tokio::sync::mpsc::channel(MAX_GROUP * 16);
        start(rx);
        let result = tx.try_send(job).map_err(|e| match e {
            TrySendError::Full(job) | TrySendError::Closed(job) => Box::new(job),
        });
        *sender = Some(tx);
        result
    }
}

/// A backend's way of writing a whole group in one statement, which the shared
/// committer tries before writing it statement by statement. All or nothing: `None`
/// when the group could not be written so (a commit in it would be refused, another
/// instance moved a log head, the connection failed), and then nothing of it was.
#[async_trait::async_trait]
pub trait AtOnce<Db: sqlx::Database>: Send {
    async fn write(
        &mut self,
        conn: &mut Db::Connection,
        group: &[CommitJob],
    ) -> Option<Vec<Result<CommitOutcome>>>;
}

/// `first` and every commit queued behind it, up to [`MAX_GROUP`].
pub fn gather(first: CommitJob, jobs: &mut Receiver<CommitJob>) -> Vec<CommitJob> {
    let mut group = vec![first];
    while group.len() < MAX_GROUP {
        match jobs.try_recv() {
            Ok(job) => group.push(job),
            Err(_) => break,
        }
    }
    group
}

/// Answers every commit of a group: its own outcome, or the group's failure (nothing of
/// the group was written, so each may be retried with its key).
pub fn answer(
    group: Vec<CommitJob>,
    outcomes: Result<Vec<Result<CommitOutcome>>>,
    tail: &crate::log_tail::LogTail,
) {
    match outcomes {
        Ok(outcomes) => {
            for outcome in &outcomes {
                if let Ok(CommitOutcome::Committed { events, .. }) = outcome {
                    tail.append(events);
                }
            }
            for (job, outcome) in group.into_iter().zip(outcomes) {
                let _ = job.reply.send(outcome);
            }
        }
        Err(e) => {
            // Every commit of the group failed with it: a disk that cannot write is said
            // as such, anything else as a database that is away.
            let failure = match e {
                StoreError::CannotWrite(_) => e,
                other => StoreError::Unavailable(other.to_string()),
            };
            for job in group {
                let _ = job.reply.send(Err(failure.clone()));
            }
        }
    }
}

/// Where a store's log stands inside a group commit.
#[derive(Clone, Debug)]
pub struct LogHead {
    pub seq: i64,
    pub hash: Vec<u8>,
    pub last_number: i64,
}

/// A commit worked out before anything is written: the orders numbered, the events
/// chained, the answer, and where the log will stand after it.
pub struct Prepared {
    pub orders: Vec<Order>,
    pub documents: Vec<Document>,
    pub events: Vec<LoggedEvent>,
    pub answer: Answer,
    pub head: LogHead,
}

impl Prepared {
    pub fn new(job: &CommitJob, head: &LogHead) -> Result<Self> {
        let commit = &job.commit;
        let store = commit.store;
        let mut orders: Vec<Order> = commit.orders.iter().map(|w| w.order.clone()).collect();
        let mut next = head.clone();
        for (order, write) in orders.iter_mut().zip(&commit.orders) {
            if write.expected_version.is_none() {
                next.last_number += 1;
                order.number = next.last_number;
            }
        }
        let at = clock::now();
        let mut events = Vec::with_capacity(commit.events.len());
        let mut packed_payloads = Vec::with_capacity(commit.events.len());
        for ((index, event), (payload, packed)) in commit.events.iter().zip(&job.rendered.payloads)
        {
            let order_id = orders
                .get(*index)
                .map(|o| o.id)
                .ok_or_else(|| StoreError::Internal("event for no order".into()))?;
            next.seq += 1;
            let payload = payload.clone();
            packed_payloads.push(packed.clone());
            let hash = event_hash(
                &next.hash,
                store,
                next.seq,
                order_id,
                event.kind,
                &payload,
                commit.actor,
                commit.device,
                at,
            );
            events.push(LoggedEvent {
                store_id: store,
                seq: next.seq,
                order_id,
                kind: event.kind.to_owned(),
                payload,
                actor: commit.actor,
                device: commit.device,
                at,
                hash: hash.clone(),
            });
            next.hash = hash;
        }
        let (documents, answer) = match &job.rendered.ready {
            Some((documents, answer)) => (documents.clone(), answer.clone()),
            None => {
                let dictionary = job.dictionary.as_deref();
                (
                    orders
                        .iter()
                        .map(|o| Document::of(o, dictionary))
                        .collect::<Result<_>>()?,
                    Answer::of((job.respond)(&orders)?, dictionary)?,
                )
            }
        };
        Ok(Self {
            orders,
            documents,
            events,
            answer,
            head: next,
        })
    }

    pub fn committed(self) -> CommitOutcome {
        CommitOutcome::Committed {
            orders: self.orders,
            events: self.events,
            response: self.answer.response,
        }
    }
}

/// A key row as read back: request hash, status, headers, body.
pub type KeyRow = (Vec<u8>, Option<i32>, Option<String>, Option<Vec<u8>>);

/// What a commit whose key could not be taken gets: the first answer, or the key's owner.
/// The answer's dictionary must have been read (see [`Dictionaries::missing`]).
pub fn key_taken(
    claim: &IdempotencyClaim,
    row: Option<KeyRow>,
    dictionaries: &Dictionaries,
) -> Result<CommitOutcome> {
    Ok(match row {
        Some((hash, _, _, _)) if hash != claim.request_hash => {
            CommitOutcome::KeyTaken { mismatch: true }
        }
        Some((_, Some(status), headers, body)) => CommitOutcome::Replayed(
            StoredResponse::from_row(status, headers, body, dictionaries)?,
        ),
        _ => CommitOutcome::KeyTaken { mismatch: false },
    })
}

/// What a commit's outcome means for its group.
pub enum Step {
    /// Written: the store's log moved.
    Moved,
    /// Refused on its own (a stale version, a taken key); the group goes on.
    Refused,
    /// A database error in a single-order commit, whose writes cannot be undone alone:
    /// the group fails.
    FailGroup(StoreError),
}

/// `several`: the commit ran inside a savepoint, so its own failure can be rolled back.
pub fn step(outcome: &Result<CommitOutcome>, several: bool) -> Step {
    match outcome {
        Ok(CommitOutcome::Committed { .. }) => Step::Moved,
        Ok(_)
        | Err(
            StoreError::VersionMismatch { .. }
            | StoreError::NotFound { .. }
            | StoreError::OutOfStock { .. },
        ) => Step::Refused,
        Err(e @ StoreError::CannotWrite(_)) if !several => Step::FailGroup(e.clone()),
        Err(e) if !several => Step::FailGroup(StoreError::Unavailable(e.to_string())),
        Err(_) => Step::Refused,
    }
}

/// When a write may keep its answer under a key that already has a row: the key expired,
/// or it is this request's own unfinished claim. Shared by [`statements::KEEP_ANSWER`] and
/// the backends' writes of whole groups, which must take keys over by the same rule.
#[doc(hidden)]
#[macro_export]
macro_rules! key_answer_taken_over {
    () => {
        "ON CONFLICT (id) DO UPDATE
         SET request_hash = excluded.request_hash, status = excluded.status, headers = excluded.headers, body = excluded.body,
             created_at = excluded.created_at, lease_until = excluded.lease_until, expires_at = excluded.expires_at
         WHERE idempotency_keys.expires_at <= excluded.created_at
            OR (idempotency_keys.status IS NULL AND idempotency_keys.request_hash = excluded.request_hash)"
    };
}

/// The statements of a commit, in the `$N` form both SQLite and PostgreSQL read.
pub mod statements {
    /// A new key, an expired one, or this request's own claim (same request, not
    /// finished) takes the answer; anything else is someone else's.
    pub const KEEP_ANSWER: &str = concat!(
        "INSERT INTO idempotency_keys (id, request_hash, status, headers, body, created_at, lease_until, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ",
        crate::key_answer_taken_over!()
    );
    pub const READ_KEY: &str =
        "SELECT request_hash, status, headers, body FROM idempotency_keys WHERE id = $1";
    pub const GIVE_KEY_BACK: &str = "DELETE FROM idempotency_keys WHERE id = $1";
    /// Takes a store's log head (a row lock on PostgreSQL), creating it on first use.
    pub const TAKE_HEAD: &str =
        "INSERT INTO order_log_heads (store_id, seq, hash, last_number) VALUES ($1, 0, $2, 0)
         ON CONFLICT (store_id) DO UPDATE SET seq = order_log_heads.seq
         RETURNING seq, hash, last_number";
    pub const MOVE_HEAD: &str =
        "UPDATE order_log_heads SET seq = $2, hash = $3, last_number = $4 WHERE store_id = $1";
    pub const INSERT_ORDER: &str = "INSERT INTO orders (id, store_id, number, kind, status, table_id, opened_by, total, version, opened_at, updated_at, document, in_kitchen)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
    pub const UPDATE_ORDER: &str = "UPDATE orders SET status = $3, table_id = $4, total = $5, version = $6, updated_at = $7, document = $8, in_kitchen = $10
         WHERE id = $1 AND store_id = $2 AND version = $9";
    pub const ORDER_VERSION: &str = "SELECT version FROM orders WHERE id = $1 AND store_id = $2";
    /// A store dictionary's content, for [`Dictionaries::learn_stored`](crate::packed::Dictionaries::learn_stored).
    pub const READ_DICTIONARY: &str = "SELECT content FROM packing_dictionaries WHERE number = $1";
    macro_rules! insert_events {
        () => {
            "INSERT INTO order_events (store_id, seq, order_id, kind, payload, actor_id, device_id, at, hash) "
        };
    }
    /// The start of a multi-row insert of events (a query builder adds the rows).
    pub const INSERT_EVENTS: &str = insert_events!();
    /// One event, for a driver that runs a cached statement per row.
    pub const INSERT_EVENT: &str = concat!(
        insert_events!(),
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    );
    /// What an order holds of the stock, by variant.
    pub const READ_HOLDS: &str = "SELECT variant_id, quantity FROM stock_holds WHERE order_id = $1";
    pub const PUT_HOLD: &str =
        "INSERT INTO stock_holds (store_id, order_id, variant_id, quantity) VALUES ($1, $2, $3, $4)
         ON CONFLICT (order_id, variant_id) DO UPDATE SET quantity = excluded.quantity";
    pub const DROP_HOLD: &str = "DELETE FROM stock_holds WHERE order_id = $1 AND variant_id = $2";
    /// Moves units from available to held (`$3` > 0, only if that many are available)
    /// or back (`$3` < 0). No row: nothing was ever received, nothing is available.
    pub const MOVE_HELD: &str = "UPDATE stock_levels SET held = held + $3
         WHERE store_id = $1 AND variant_id = $2 AND ($3 <= 0 OR on_hand - held >= $3)";
    pub const READ_LEVEL: &str =
        "SELECT on_hand, held FROM stock_levels WHERE store_id = $1 AND variant_id = $2";
    pub const SAVEPOINT: &str = "SAVEPOINT several_orders";
    pub const RELEASE: &str = "RELEASE SAVEPOINT several_orders";
    pub const ROLLBACK_TO: &str = "ROLLBACK TO SAVEPOINT several_orders";
}

/// Why an update of an order touched no row.
pub fn stale(current: Option<i64>) -> StoreError {
    match current {
        Some(current) => StoreError::VersionMismatch {
            entity: "order",
            current,
        },
        None => StoreError::NotFound { entity: "order" },
    }
}

/// Why units could not be held: what the variant's level says (none: never received).
pub fn out_of_stock(variant: VariantId, level: Option<(i64, i64)>) -> StoreError {
    let (on_hand, held) = level.unwrap_or((0, 0));
    StoreError::OutOfStock {
        variant,
        on_hand,
        available: on_hand.saturating_sub(held).max(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_change_by_what_differs_and_net_out_across_the_orders_of_a_commit() {
        let (tab, split_off) = (OrderId::new(), OrderId::new());
        let (beer, wine, gone) = (VariantId::new(), VariantId::new(), VariantId::new());
        let stored = [vec![(beer, 3), (wine, 1), (gone, 2)], vec![]];
        // Two beers move to the new order, the wine stays, the last line was removed.
        let holds = [
            StockHold {
                order: tab,
                variants: vec![(beer, 1), (wine, 1)],
            },
            StockHold {
                order: split_off,
                variants: vec![(beer, 2)],
            },
        ];
        let changes = HoldChanges::of(&holds, &stored);
        assert_eq!(changes.put, vec![(tab, beer, 1), (split_off, beer, 2)]);
        assert_eq!(changes.drop, vec![(tab, gone)]);
        assert_eq!(
            changes.moves,
            vec![(gone, -2)],
            "the beers only moved between tabs"
        );
    }
}
