//! The order log's hash chain. Each event's hash covers the previous event's hash and
//! every field of the event as stored (the payload as its exact JSON text), so changing
//! or removing any event breaks every hash after it, and `comanda audit verify` finds it.
//! The previous hash is not stored with an event: it is the hash of the event before
//! it in the store's log (or [`GENESIS`]), which a walk of the log has in hand.

use crate::ids::{DeviceId, OrderId, StoreId, UserId};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// The hash before a store's first event.
pub const GENESIS: [u8; 32] = [0; 32];

/// An event as the log keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedEvent {
    pub store_id: StoreId,
    /// Per store, from 1, without gaps.
    pub seq: i64,
    pub order_id: OrderId,
    pub kind: String,
    /// JSON text, exactly as hashed.
    pub payload: String,
    pub actor: Option<UserId>,
    pub device: Option<DeviceId>,
    pub at: DateTime<Utc>,
    pub hash: Vec<u8>,
}

fn field(hash: &mut Sha256, bytes: &[u8]) {
    // Length-prefixed, so no two different events can hash the same bytes.
    hash.update((bytes.len() as u64).to_be_bytes());
    hash.update(bytes);
}

#[allow(clippy::too_many_arguments)]
pub fn event_hash(
    prev: &[u8],
    store: StoreId,
    seq: i64,
    order: OrderId,
    kind: &str,
    payload: &str,
    actor: Option<UserId>,
    device: Option<DeviceId>,
    at: DateTime<Utc>,
) -> Vec<u8> {
    let mut hash = Sha256::new();
    field(&mut hash, prev);
    field(&mut hash, store.as_uuid().as_bytes());
    field(&mut hash, &seq.to_be_bytes());
    field(&mut hash, order.as_uuid().as_bytes());
    field(&mut hash, kind.as_bytes());
    field(&mut hash, payload.as_bytes());
    field(
        &mut hash,
        actor
            .map(|a| *a.as_uuid().as_bytes())
            .unwrap_or_default()
            .as_slice(),
    );
    field(
        &mut hash,
        device
            .map(|d| *d.as_uuid().as_bytes())
            .unwrap_or_default()
            .as_slice(),
    );
    field(&mut hash, &at.timestamp_micros().to_be_bytes());
    hash.finalize().to_vec()
}

impl LoggedEvent {
    /// The hash this event must have when `prev` is the hash of the event before it.
    pub fn expected_hash(&self, prev: &[u8]) -> Vec<u8> {
        event_hash(
            prev,
            self.store_id,
            self.seq,
            self.order_id,
            &self.kind,
            &self.payload,
            self.actor,
            self.device,
            self.at,
        )
    }
}

/// What is wrong with a chain, first problem first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainBreak {
    /// A sequence number is missing (an event was removed) or repeated.
    Gap { expected: i64, found: i64 },
    /// The event's hash is not the one its content and the event before it give (it
    /// was changed, or an event before it was).
    Altered { seq: i64 },
}

/// Walks a store's events in sequence order from `start` (the sequence and hash the
/// walk begins after), returning the last sequence and hash reached.
pub struct Verifier {
    pub next_seq: i64,
    pub last_hash: Vec<u8>,
}

impl Default for Verifier {
    fn default() -> Self {
        Self {
            next_seq: 1,
            last_hash: GENESIS.to_vec(),
        }
    }
}

impl Verifier {
    pub fn check(&mut self, event: &LoggedEvent) -> Result<(), ChainBreak> {
        if event.seq != self.next_seq {
            return Err(ChainBreak::Gap {
                expected: self.next_seq,
                found: event.seq,
            });
        }
        if event.expected_hash(&self.last_hash) != event.hash {
            return Err(ChainBreak::Altered { seq: event.seq });
        }
        self.next_seq += 1;
        self.last_hash.clone_from(&event.hash);
        Ok(())
    }
}
