//! `Idempotency-Key` on every write. A client that may retry a write (a waiter's tablet
//! on bad Wi-Fi, an integration behind a flaky proxy) sends a key of its choosing; the
//! first request with that key runs, and every retry of the same request gets the first
//! answer again, byte for byte, with `Idempotent-Replayed: true`. The same key with a
//! different request is refused (422); a retry while the first is still running waits its
//! turn (409, `Retry-After`).
//!
//! Only successful answers are kept: a refused request wrote nothing, so running it again
//! is harmless and lets a client correct it under the same key. A request that dies
//! mid-way (crash, timeout) holds its key for a short lease, after which a retry runs it
//! again; writes that must not run twice even then (orders) keep their answer in their
//! own transaction.

use crate::auth::extract::request_actor;
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use comanda_domain::clock;
use comanda_store::{ClaimOutcome, IdempotencyClaim, StoredResponse};
use serde_json::json;
use sha2::{Digest, Sha256};

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// How long an answer is kept for retries.
pub const KEEP_FOR: Duration = Duration::hours(24);

/// How long a running request holds its key before a retry may take it over.
const LEASE: Duration = Duration::seconds(30);

/// Keys are client-chosen (a UUID is typical); anything printable up to this length.
const MAX_KEY_LEN: usize = 255;

/// Requests and answers larger than this are not buffered for replay (a catalog upload
/// is the largest write).
const MAX_BUFFERED: usize = 64 * 1024 * 1024;

/// The headers a replay repeats; the rest (dates, request ids) belong to the retry.
const KEPT_HEADERS: [HeaderName; 4] = [
    header::CONTENT_TYPE,
    header::LOCATION,
    header::ETAG,
    header::LAST_MODIFIED,
];

pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !is_write(request.method()) {
        return next.run(request).await;
    }
    let Some(key) = request.headers().get(&IDEMPOTENCY_KEY) else {
        return next.run(request).await;
    };
    let key = match valid_key(key) {
        Ok(key) => key,
        Err(e) => return e.into_response(),
    };
    // An anonymous, failed or forged credential goes through untouched, before any kept
    // answer is looked at: the handler refuses it.
    let Some(scope) = caller_scope(&state, request.method(), request.headers()).await else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    let Ok(body) = to_bytes(body, MAX_BUFFERED).await else {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the body is too large",
        )
        .into_response();
    };
    let target = parts
        .uri
        .path_and_query()
        .map_or(parts.uri.path(), |p| p.as_str());
    let now = clock::now();
    let claim = IdempotencyClaim {
        scope,
        key,
        request_hash: request_hash(&parts.method, target, &body),
        lease_until: now + LEASE,
        expires_at: now + KEEP_FOR,
    };
    // Writes that keep their answer in their own transaction (orders) do not look first:
    // their transaction takes the key, and finds an answer kept there before writing
    // anything. Only when such a write is refused (a retry meets the version its first
    // attempt moved on) is the key looked at, to give the first answer instead.
    let own_transaction = keeps_answer_in_transaction(parts.uri.path());
    if !own_transaction {
        match state.storage.claim_idempotency_key(&claim, now).await {
            Ok(ClaimOutcome::Claimed) => {}
            Ok(outcome) => return settled(outcome),
            Err(e) => return ApiError::from(e).into_response(),
        }
    }
    let mut parts = parts;
    parts.extensions.insert(claim.clone());
    let response = next.run(Request::from_parts(parts, Body::from(body))).await;
    if !own_transaction {
        return finish(&state, &claim, response).await;
    }
    if response.status().is_success() {
        return response;
    }
    match state.storage.peek_idempotency_key(&claim, now).await {
        Ok(ClaimOutcome::Claimed) => response,
        Ok(outcome) => settled(outcome),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// The answer for a key that someone already holds.
fn settled(outcome: ClaimOutcome) -> Response {
    match outcome {
        ClaimOutcome::Replay(stored) => replay(stored),
        ClaimOutcome::Mismatch => key_reused().into_response(),
        ClaimOutcome::InProgress | ClaimOutcome::Claimed => in_progress().into_response(),
    }
}

/// Order writes (`/stores/{id}/orders...`, and the kitchen's under `/stores/{id}/kds...`)
/// keep their answer in the order's transaction.
fn keeps_answer_in_transaction(path: &str) -> bool {
    matches!(crate::routes::store_section(path), Some("orders" | "kds"))
}

fn is_write(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

fn valid_key(value: &HeaderValue) -> Result<String, ApiError> {
    let text = value.to_str().unwrap_or_default().trim();
    if text.is_empty() || text.len() > MAX_KEY_LEN || !text.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_idempotency_key",
            format!(
                "Idempotency-Key must be 1 to {MAX_KEY_LEN} printable characters, such as a UUID"
            ),
        )
        .with_details(json!({ "header": IDEMPOTENCY_KEY.as_str() })));
    }
    Ok(text.to_owned())
}

/// Keys belong to a caller, so two callers can never see each other's answers.
async fn caller_scope(
    state: &AppState,
    method: &Method,
    headers: &axum::http::HeaderMap,
) -> Option<String> {
    let actor = request_actor(state, method, headers).await.ok()?;
    match (actor.user_id, actor.api_key_id) {
        (Some(user), _) => Some(format!("user:{user}")),
        (None, Some(key)) => Some(format!("key:{key}")),
        (None, None) => None,
    }
}

fn request_hash(method: &Method, target: &str, body: &[u8]) -> Vec<u8> {
    let mut hash = Sha256::new();
    hash.update(method.as_str());
    hash.update(b"\n");
    hash.update(target);
    hash.update(b"\n");
    hash.update(body);
    hash.finalize()[..comanda_store::idempotency::REQUEST_HASH_LEN].to_vec()
}

/// Keeps a successful answer; frees the key after anything else.
async fn finish(state: &AppState, claim: &IdempotencyClaim, response: Response) -> Response {
    let (scope, key) = (claim.scope.as_str(), claim.key.as_str());
    if !response.status().is_success() {
        if let Err(e) = state.storage.release_idempotency_key(scope, key).await {
            tracing::warn!(error = %e, "could not free an idempotency key; it frees itself when its lease ends");
        }
        return response;
    }
    let (parts, body) = response.into_parts();
    let body = match to_bytes(body, MAX_BUFFERED).await {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = %e, "could not buffer an answer for replay");
            return ApiError::internal().into_response();
        }
    };
    let stored = StoredResponse {
        status: parts.status.as_u16(),
        headers: KEPT_HEADERS
            .iter()
            .filter_map(|name| {
                let value = parts.headers.get(name)?.to_str().ok()?;
                Some((name.as_str().to_owned(), value.to_owned()))
            })
            .collect(),
        body: body.to_vec(),
    };
    // The write is done; if its answer cannot be kept, a retry after the lease runs it
    // again, which is what a client without a key would have done anyway.
    if let Err(e) = state
        .storage
        .complete_idempotency_key(scope, key, &stored)
        .await
    {
        tracing::warn!(error = %e, "could not keep an answer for retries");
    }
    Response::from_parts(parts, Body::from(body))
}

pub fn replay(stored: StoredResponse) -> Response {
    let mut response = send_stored(stored);
    response
        .headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

/// A kept answer as a response: its status, the headers kept with it, its bytes.
pub fn send_stored(stored: StoredResponse) -> Response {
    let mut response = Response::new(Body::from(stored.body));
    *response.status_mut() = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    for (name, value) in stored.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            headers.insert(name, value);
        }
    }
    response
}

pub fn key_reused() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
        "this Idempotency-Key was used for a different request; use a new key for a new request",
    )
    .with_details(json!({ "header": IDEMPOTENCY_KEY.as_str() }))
}

pub fn in_progress() -> ApiError {
    ApiError::conflict(
        "idempotency_in_progress",
        "a request with this Idempotency-Key is still running; retry shortly",
    )
    .retry_after(1)
}

/// Forgets expired answers every so often, for the life of the server.
pub fn spawn_purger(state: AppState) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            every.tick().await;
            match state.storage.purge_idempotency_keys(clock::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(purged = n, "forgot expired idempotency keys"),
                Err(e) => tracing::warn!(error = %e, "could not purge idempotency keys"),
            }
        }
    });
}
