//! What handlers answer, as the document shows it: the error shape every failure has,
//! and the wrappers that give a success its status code in the handler's type.

use crate::error::ApiError;
use aide::OperationOutput;
use aide::generate::GenContext;
use aide::openapi::{Operation, Response};
use axum::Json;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use schemars::JsonSchema;
use serde::Serialize;

/// Every failure: `{"error": {"code", "message", "details"?}}`.
#[derive(Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorDetail {
    /// Stable and machine-readable, such as `validation_failed` or `not_found`.
    pub code: String,
    /// For people; may change between releases.
    pub message: String,
    /// What the code needs: the field and the rule for a validation error, the header
    /// for a header's error, and so on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The document's answer for one error status.
pub fn error_response(ctx: &mut GenContext, status: u16) -> Response {
    let json_schema = ctx.schema.subschema_for::<ErrorBody>();
    Response {
        description: error_description(status).to_owned(),
        content: super::media_of("application/json", json_schema),
        ..Default::default()
    }
}

pub fn error_description(status: u16) -> &'static str {
    match status {
        400 => "The request is malformed: a query, path or header that does not read",
        401 => "No valid credential: sign in, or send a valid token",
        402 => "The card was declined",
        403 => "The caller may not do this here",
        404 => "No such resource, or not one the caller may see",
        409 => "The resource is not in a state that allows this, or it changed meanwhile",
        413 => "The body is too large",
        415 => "The body is not JSON",
        422 => "The body does not read as this operation's input; `details.field` names the field",
        429 => "Too many attempts; `Retry-After` says when to try again",
        502 => "The payment provider did not answer as expected",
        503 => "Not ready, or no answer in time; retry with the same Idempotency-Key",
        _ => "Error",
    }
}

/// Every error status the API answers with its error shape.
pub const ERROR_STATUSES: [u16; 12] = [400, 401, 402, 403, 404, 409, 413, 415, 422, 429, 502, 503];

/// Statuses any handler may answer through [`ApiError`]; the extractors and the
/// operation's method add their own (401 and 403 with a credential, 413 and 415 with a
/// body).
const HANDLER_ERRORS: [u16; 6] = [400, 404, 409, 422, 429, 503];

impl OperationOutput for ApiError {
    type Inner = ErrorBody;

    fn inferred_responses(
        ctx: &mut GenContext,
        _operation: &mut Operation,
    ) -> Vec<(Option<u16>, Response)> {
        HANDLER_ERRORS
            .iter()
            .map(|&status| (Some(status), error_response(ctx, status)))
            .collect()
    }
}

/// A success with a status of its own, the status in the type so that the document
/// can say it: [`Created`] (201), [`Accepted`] (202).
macro_rules! status_answer {
    ($(#[$doc:meta])* $name:ident, $status:expr) => {
        $(#[$doc])*
        pub struct $name<T>(pub T);

        impl<T: Serialize> IntoResponse for $name<T> {
            fn into_response(self) -> axum::response::Response {
                (StatusCode::from_u16($status).unwrap_or(StatusCode::OK), Json(self.0)).into_response()
            }
        }

        impl<T: JsonSchema> OperationOutput for $name<T> {
            type Inner = T;

            fn operation_response(ctx: &mut GenContext, operation: &mut Operation) -> Option<Response> {
                Json::<T>::operation_response(ctx, operation)
            }

            fn inferred_responses(
                ctx: &mut GenContext,
                operation: &mut Operation,
            ) -> Vec<(Option<u16>, Response)> {
                Self::operation_response(ctx, operation)
                    .map(|response| vec![(Some($status), response)])
                    .unwrap_or_default()
            }
        }
    };
}

status_answer!(
    /// A resource made by the request: 201 with the resource.
    Created,
    201
);
status_answer!(
    /// Work queued by the request: 202 with what was queued.
    Accepted,
    202
);
