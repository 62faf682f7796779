//! The one error type handlers return. Every failure reaches the client as
//! `{"error": {"code", "message", "details"?}}` with a precise status; internal details
//! are logged, never sent.

use axum::Json;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use comanda_domain::ValidationError;
use comanda_store::StoreError;
use serde_json::{Value, json};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Option<Value>,
    /// Seconds after which a retry may succeed (503, 429).
    pub retry_after: Option<u32>,
    /// What few errors carry, boxed so that every `Result` stays small.
    extras: Option<Box<Extras>>,
}

#[derive(Debug, Default)]
struct Extras {
    headers: Vec<(HeaderName, HeaderValue)>,
    /// Why the database could not write: the response carries it to the layer that
    /// watches the database's health.
    cannot_write: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: None,
            retry_after: None,
            extras: None,
        }
    }

    fn extras(&mut self) -> &mut Extras {
        self.extras.get_or_insert_with(Box::default)
    }

    /// A header the answer must carry besides `Retry-After`.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.extras().headers.push((name, value));
        self
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn retry_after(mut self, seconds: u32) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message).retry_after(1)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn too_many_requests(retry_after: std::time::Duration) -> Self {
        let seconds = u32::try_from(retry_after.as_secs())
            .unwrap_or(u32::MAX)
            .saturating_add(1);
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            format!("too many attempts; try again in {seconds} s"),
        )
        .retry_after(seconds)
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on our side; it has been logged",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(details) = self.details {
            error["details"] = details;
        }
        let mut response = (self.status, Json(json!({ "error": error }))).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(extras) = self.extras {
            for (name, value) in extras.headers {
                response.headers_mut().insert(name, value);
            }
            if let Some(reason) = extras.cannot_write {
                response
                    .extensions_mut()
                    .insert(crate::write_health::CannotWrite(reason));
            }
        }
        response
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            e.to_string(),
        )
        .with_details(json!({ "field": e.field, "reason": e.code }))
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { entity } => ApiError::not_found(format!("{entity} not found")),
            StoreError::Conflict { entity, field } => ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("a {entity} with this {field} already exists"),
            )
            .with_details(json!({ "field": field })),
            StoreError::VersionMismatch { entity, current } => ApiError::new(
                StatusCode::CONFLICT,
                "version_conflict",
                format!("the {entity} was changed by someone else; reload and try again"),
            )
            .with_details(json!({ "current_version": current })),
            StoreError::Invalid(e) => e.into(),
            StoreError::InUse { entity, by } => ApiError::new(
                StatusCode::CONFLICT,
                "in_use",
                format!("the {entity} is still used by {by}"),
            )
            .with_details(json!({ "used_by": by })),
            StoreError::OutOfStock {
                variant,
                on_hand,
                available,
            } => ApiError::new(
                StatusCode::CONFLICT,
                "out_of_stock",
                format!(
                    "not enough stock: {available} available ({on_hand} on hand, the rest held \
                     by open orders); sell fewer, or record the stock received first"
                ),
            )
            .with_details(json!({
                "variant_id": variant,
                "on_hand": on_hand,
                "available": available,
            })),
            StoreError::MissingReference(reason) => {
                tracing::warn!(%reason, "write referred to a missing record");
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "unknown_reference",
                    "the request refers to something that does not exist",
                )
            }
            StoreError::Unavailable(reason) => {
                tracing::warn!(%reason, "database unavailable");
                storage_unavailable("the database is unavailable; try again shortly")
            }
            StoreError::CannotWrite(reason) => {
                tracing::error!(%reason, "the database cannot write");
                let mut e = storage_unavailable(
                    "the database cannot take writes now; nothing was written, try again shortly",
                );
                e.extras().cannot_write = Some(reason);
                e
            }
            StoreError::Migration(reason) | StoreError::Internal(reason) => {
                tracing::error!(%reason, "storage failure");
                ApiError::internal()
            }
        }
    }
}

/// The database cannot serve this now: 503, with when to try again.
fn storage_unavailable(message: &str) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "storage_unavailable",
        message,
    )
    .retry_after(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;

    async fn body(e: ApiError) -> (StatusCode, Option<String>, Value) {
        let response = e.into_response();
        let status = response.status();
        let retry = response
            .headers()
            .get(header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap_or_default().to_owned());
        let bytes = to_bytes(response.into_body(), 1 << 16).await.expect("body");
        (status, retry, serde_json::from_slice(&bytes).expect("json"))
    }

    #[tokio::test]
    async fn store_errors_map_to_precise_statuses() {
        let (status, _, json) = body(
            StoreError::Conflict {
                entity: "store",
                field: "code",
            }
            .into(),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(json["error"]["code"], "conflict");
        assert_eq!(json["error"]["details"]["field"], "code");

        let (status, retry, _) = body(StoreError::Unavailable("refused".into()).into()).await;
        assert_eq!(
            (status, retry.as_deref()),
            (StatusCode::SERVICE_UNAVAILABLE, Some("1"))
        );

        let (status, _, json) =
            body(StoreError::Internal("syntax error near SECRET".into()).into()).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            !json.to_string().contains("SECRET"),
            "internal details are not sent"
        );
    }

    #[tokio::test]
    async fn validation_errors_name_the_field() {
        let err = ValidationError::new("currency", "unknown_currency", "unknown currency");
        let (status, _, json) = body(err.into()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            json["error"]["details"],
            json!({"field": "currency", "reason": "unknown_currency"})
        );
    }
}
