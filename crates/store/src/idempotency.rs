//! Remembered answers to retried writes. A client that sends `Idempotency-Key` with a
//! write gets, for every retry with that key, the first answer byte for byte; the key is
//! held by one request at a time, and a request that never finished (a crash, a 5xx)
//! leaves the key free to try again.

use crate::{Result, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// One key of one caller: `scope` names the caller (`user:…`, `key:…`, `device:…`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyClaim {
    pub scope: String,
    pub key: String,
    /// A digest of the method, path and body ([`REQUEST_HASH_LEN`] bytes): the same key
    /// with another request is refused.
    pub request_hash: Vec<u8>,
    /// The key is held this long by the request that claimed it; after that a retry may
    /// take it over (the first one crashed or hung).
    pub lease_until: DateTime<Utc>,
    /// The answer is kept until then.
    pub expires_at: DateTime<Utc>,
}

/// How many bytes of a request's SHA-256 are kept to tell it from another request under
/// the same key: 128 bits, as many as a random UUID has, and half the bytes of each
/// kept answer.
pub const REQUEST_HASH_LEN: usize = 16;

/// The row a caller's key is kept under: the first 16 bytes of SHA-256 of the scope, a
/// NUL and the key. A kept answer's row is read only by its caller with its key, so the
/// two never need to be read back; a 16-byte digest instead of both (77 bytes for a user
/// and a UUID key) is kept in the row and again in the expiry index. Keys cannot hold a
/// NUL (they are printable), so no two (scope, key) pairs hash the same input.
pub fn key_id(scope: &str, key: &str) -> Vec<u8> {
    let mut digest = Sha256::new();
    digest.update(scope.as_bytes());
    digest.update([0]);
    digest.update(key.as_bytes());
    digest.finalize()[..16].to_vec()
}

impl IdempotencyClaim {
    /// The row this claim's key is kept under ([`key_id`]).
    pub fn key_id(&self) -> Vec<u8> {
        key_id(&self.scope, &self.key)
    }
}

/// A finished answer, as it was sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    /// The headers worth repeating (content type, location, ETag), as name/value pairs.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The key is now held by this request: run it, then complete or release the key.
    Claimed,
    /// The same request was answered before: send this again.
    Replay(StoredResponse),
    /// The key was used for a different request.
    Mismatch,
    /// Another request holds the key right now.
    InProgress,
}

#[async_trait]
pub trait IdempotencyRepo: Send + Sync {
    async fn claim_idempotency_key(
        &self,
        claim: &IdempotencyClaim,
        now: DateTime<Utc>,
    ) -> Result<ClaimOutcome>;

    /// What a claim would find, without taking the key (`Claimed`: the key is free).
    /// For writes that keep their answer in their own transaction.
    async fn peek_idempotency_key(
        &self,
        claim: &IdempotencyClaim,
        now: DateTime<Utc>,
    ) -> Result<ClaimOutcome>;

    /// Keeps the answer for retries. A no-op if the key was completed already (by the
    /// write itself, in its own transaction).
    async fn complete_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        response: &StoredResponse,
    ) -> Result<()>;

    /// Frees a key whose request did not finish, so a retry runs it again.
    async fn release_idempotency_key(&self, scope: &str, key: &str) -> Result<()>;

    /// Forgets answers that expired before `now`; returns how many.
    async fn purge_idempotency_keys(&self, now: DateTime<Utc>) -> Result<u64>;
}

/// The headers nearly every kept answer has; kept as empty text (NULL before), 38 bytes
/// a kept answer. Empty rather than NULL: on PostgreSQL a row with no NULL has no null
/// bitmap, 8 bytes less an answer.
const USUAL_HEADERS: [(&str, &str); 1] = [("content-type", "application/json")];

impl StoredResponse {
    /// The headers as kept: JSON text, or empty for the usual ones.
    #[doc(hidden)]
    pub fn headers_text(&self) -> Result<String> {
        let usual = self.headers.len() == USUAL_HEADERS.len()
            && self
                .headers
                .iter()
                .zip(USUAL_HEADERS)
                .all(|((name, value), (n, v))| name == n && value == v);
        if usual {
            return Ok(String::new());
        }
        serde_json::to_string(&self.headers).map_err(|e| StoreError::Internal(e.to_string()))
    }

    #[doc(hidden)]
    pub fn from_row(
        status: i32,
        headers: Option<String>,
        body: Option<Vec<u8>>,
        dictionaries: &crate::packed::Dictionaries,
    ) -> Result<Self> {
        let headers = match headers.filter(|text| !text.is_empty()) {
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| StoreError::Internal(format!("stored response headers: {e}")))?,
            None => USUAL_HEADERS
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
        };
        Ok(Self {
            status: u16::try_from(status)
                .map_err(|_| StoreError::Internal(format!("stored status {status}")))?,
            headers,
            body: body
                .map(|body| dictionaries.unpack(body))
                .transpose()?
                .unwrap_or_default(),
        })
    }
}
