//! Request ids and the access log. Every request gets an id (the client's `x-request-id`
//! if it is sane, else a new UUIDv7), echoed in the response and attached to every log
//! line written while answering it.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;
use tracing::Instrument;
use uuid::Uuid;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Accepts ids a log line can carry safely: short, and without spaces, quotes or control
/// characters that could forge or break log entries.
fn sane_request_id(value: &HeaderValue) -> Option<&str> {
    let id = value.to_str().ok()?;
    let ok = (1..=128).contains(&id.len())
        && id.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/' | b'+' | b'=')
        });
    ok.then_some(id)
}

/// Probes are polled every few seconds; logging each at info would drown the log.
fn is_probe(path: &str) -> bool {
    matches!(path, "/live" | "/ready" | "/health" | "/metrics")
}

pub async fn observe(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(sane_request_id)
        .map_or_else(|| Uuid::now_v7().to_string(), str::to_owned);
    let header = HeaderValue::from_str(&id).unwrap_or_else(|_| HeaderValue::from_static("invalid"));
    req.headers_mut().insert(REQUEST_ID, header.clone());

    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %method,
        route = tracing::field::Empty,
    );
    let started = Instant::now();
    let mut response = next.run(req).instrument(span.clone()).await;
    response.headers_mut().insert(REQUEST_ID, header);

    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1e3;
    span.in_scope(|| {
        if is_probe(&path) {
            tracing::debug!(status, latency_ms, path, "answered");
        } else if response.status().is_server_error() {
            tracing::warn!(status, latency_ms, path, "request failed");
        } else {
            tracing::info!(status, latency_ms, path, "answered");
        }
    });
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sane_request_ids_are_kept() {
        let ok = HeaderValue::from_static("req-123_abc.def");
        assert_eq!(sane_request_id(&ok), Some("req-123_abc.def"));
        for bad in ["", "has space", "quote\"", &"x".repeat(129)] {
            let v = HeaderValue::from_str(bad).expect("valid header");
            assert_eq!(sane_request_id(&v), None, "{bad:?}");
        }
    }
}
