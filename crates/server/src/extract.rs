//! Axum's extractors, with every rejection turned into the API's error shape: malformed
//! JSON is a 400, a well-formed body with wrong or unknown fields a 422 naming the field,
//! an oversized body a 413, never a plain-text answer or a 500.
//!
//! Text from clients is refused at this door when it holds control characters (tab and
//! line breaks excepted), wherever it is in a body or a query: NUL is text PostgreSQL
//! cannot store and SQLite would, and the rest is nothing a person types.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use comanda_domain::ValidationError;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// A JSON request body.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !json_content_type(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "the body is too large",
                )
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", e.body_text())
            }
        })?;
        if let Some(field) = control_characters_in_json(&bytes) {
            return Err(control_characters(field).into());
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// `application/json`, or a `+json` type, with any parameters.
fn json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    let essence = essence.to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Whether `text` holds a character no client text may: a control character other than
/// tab and line breaks. Single-line fields refuse those too, in their own checks.
pub fn has_refused_control(text: &str) -> bool {
    text.chars().any(refused_control)
}

fn refused_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

fn control_characters(field: String) -> ValidationError {
    // The field's name may be the offender: it is named with its control characters
    // escaped, never echoed.
    let field: String = field
        .chars()
        .map(|c| {
            if refused_control(c) {
                format!("\\u{{{:04x}}}", u32::from(c))
            } else {
                c.to_string()
            }
        })
        .collect();
    ValidationError::new(
        field,
        "control_characters",
        "must not contain control characters",
    )
}

/// The path of the first string in a JSON body holding a refused control character. JSON
/// carries them only as `\u00XX` escapes, or DEL and C1 characters as they are, so a body
/// without either is passed over in one scan.
fn control_characters_in_json(bytes: &[u8]) -> Option<String> {
    let suspect = bytes.windows(4).any(|w| w == b"\\u00")
        || bytes.contains(&0x7f)
        || bytes
            .windows(2)
            .any(|w| w[0] == 0xc2 && (0x80..=0x9f).contains(&w[1]));
    if !suspect {
        return None;
    }
    let value: Value = serde_json::from_slice(bytes).ok()?;
    refused_in(&value, String::new())
}

fn refused_in(value: &Value, path: String) -> Option<String> {
    match value {
        Value::String(s) => has_refused_control(s).then_some(path),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| refused_in(v, format!("{path}[{i}]"))),
        Value::Object(fields) => fields.iter().find_map(|(k, v)| {
            let path = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if has_refused_control(k) {
                return Some(path);
            }
            refused_in(v, path)
        }),
        _ => None,
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(e) => {
            // serde's message names the field and what was wrong with it.
            let detail =
                std::error::Error::source(&e).map_or_else(|| e.body_text(), |s| s.to_string());
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                detail.clone(),
            )
            .with_details(json!({ "reason": detail }))
        }
        JsonRejection::JsonSyntaxError(e) => {
            let detail =
                std::error::Error::source(&e).map_or_else(|| e.body_text(), |s| s.to_string());
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("the body is not valid JSON: {detail}"),
            )
        }
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with Content-Type: application/json",
        ),
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the body is too large",
            )
        }
        other => ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", other.body_text()),
    }
}

/// Query-string parameters.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        if let Some(name) = control_characters_in_query(parts.uri.query()) {
            return Err(control_characters(name).into());
        }
        let query = parts.uri.query().unwrap_or_default();
        let parameters =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(parameters)
            .map(Self)
            .map_err(|e| query_rejection(&e.path().to_string(), &e.into_inner().to_string()))
    }
}

/// A query that does not read as the route's parameters: a 400 naming the parameter
/// (`details.field`) and what it needs.
fn query_rejection(path: &str, reason: &str) -> ApiError {
    // A missing or unknown parameter is an error of the whole query, which names it.
    let field = match path {
        "" | "." => reason.split('`').nth(1).unwrap_or_default().to_owned(),
        path => path.to_owned(),
    };
    let message = if reason.starts_with("missing field") {
        format!("the query parameter `{field}` is required")
    } else if field.is_empty() {
        format!("the query is not valid: {reason}")
    } else {
        format!("the query parameter `{field}` is not valid: {reason}")
    };
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", message)
        .with_details(json!({ "field": field }))
}

/// The parameter whose value holds a refused control character. Only a percent-escape
/// can carry one in a query.
fn control_characters_in_query(query: Option<&str>) -> Option<String> {
    let query = query.filter(|q| q.contains('%'))?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    pairs
        .into_iter()
        .find(|(name, value)| has_refused_control(name) || has_refused_control(value))
        .map(|(name, _)| name)
}

/// Path parameters; a malformed one (an id that is not a UUID) is a 400 naming it.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let path = parts.uri.path();
        if path.contains('%') && has_refused_control(&percent_decoded(path)) {
            return Err(ApiError::not_found("no such resource"));
        }
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| Self(v))
            .map_err(path_rejection)
    }
}

fn path_rejection(rejection: PathRejection) -> ApiError {
    use axum::extract::path::ErrorKind;
    let PathRejection::FailedToDeserializePathParams(e) = rejection else {
        return ApiError::not_found("no such resource");
    };
    let (field, value, expected) = match e.kind() {
        ErrorKind::ParseErrorAtKey {
            key,
            value,
            expected_type,
        } => (key.clone(), value.clone(), *expected_type),
        ErrorKind::DeserializeError { key, value, .. } => (key.clone(), value.clone(), ""),
        ErrorKind::InvalidUtf8InPathParam { key } => (key.clone(), String::new(), ""),
        _ => return ApiError::not_found("no such resource"),
    };
    let what = if expected.contains("Id") || expected.contains("Uuid") || field.ends_with("id") {
        "an id as the API gives it (a UUID, such as 01a2c3d4-0000-7000-8000-000000000000)"
    } else {
        "of the expected form"
    };
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_path",
        format!("the path parameter `{field}` ({value:?}) is not {what}"),
    )
    .with_details(json!({ "field": field }))
}

/// `?after=...&limit=...` on every list.
#[derive(Debug, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// The `next` of the previous page.
    #[schemars(with = "Option<uuid::Uuid>")]
    pub after: Option<String>,
    /// 1 to 500; 50 when left out.
    #[schemars(range(min = 1, max = 500))]
    pub limit: Option<u32>,
}

impl PageParams {
    pub fn limit(&self) -> Result<comanda_store::Limit, ApiError> {
        page_limit(self.limit)
    }

    /// The cursor as an id, or a 400 for one that was never handed out.
    pub fn cursor<T: std::str::FromStr>(&self) -> Result<Option<T>, ApiError> {
        self.after
            .as_deref()
            .map(|c| {
                c.parse().map_err(|_| {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "invalid_cursor",
                        "unknown pagination cursor",
                    )
                })
            })
            .transpose()
    }
}

/// A list's `limit`: 1 to [`Limit::MAX`](comanda_store::Limit::MAX), [`Limit::DEFAULT`](comanda_store::Limit::DEFAULT)
/// when left out.
pub fn page_limit(requested: Option<u32>) -> Result<comanda_store::Limit, ApiError> {
    use comanda_store::Limit;
    let n = bounded_limit(
        requested.map(i64::from),
        i64::from(Limit::DEFAULT.get()),
        i64::from(Limit::MAX),
    )?;
    Ok(comanda_store::Limit::new(u32::try_from(n).ok()))
}

/// A `limit` from 1 to `max`, `default` when left out. More is refused rather than cut
/// short without a word: a client asking for 1,000 would otherwise take fewer for all.
pub fn bounded_limit(requested: Option<i64>, default: i64, max: i64) -> Result<i64, ApiError> {
    match requested {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "limit_out_of_range",
            format!(
                "`limit` is 1 to {max}; page through a longer list with `after` (each page's `next`)"
            ),
        )
        .with_details(json!({ "field": "limit", "max": max }))),
    }
}

/// An id given as a query parameter (`?category_id=`), or a 400 naming the parameter.
pub fn query_id<T: std::str::FromStr>(
    name: &str,
    value: Option<&str>,
) -> Result<Option<T>, ApiError> {
    value
        .map(|v| {
            v.parse().map_err(|_| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_query",
                    format!("{name} is not an id"),
                )
            })
        })
        .transpose()
}

/// A page whose cursor is a sequence or a number: pass `next` as the list's own
/// cursor parameter (`before` or `after`, as the route says).
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct SeqPage<T> {
    pub items: Vec<T>,
    pub next: Option<i64>,
}

/// A page of results as the API returns it.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct PageView<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl<T> PageView<T> {
    /// A list that is whole in one page (a store's terminals, a person's sessions): the
    /// same shape as every list, with no `next`.
    pub fn whole(items: impl IntoIterator<Item = T>) -> Self {
        Self {
            items: items.into_iter().collect(),
            next: None,
        }
    }

    pub fn from<U, C: std::fmt::Display>(
        page: comanda_store::Page<U, C>,
        view: impl Fn(U) -> T,
    ) -> Self {
        Self {
            items: page.items.into_iter().map(view).collect(),
            next: page.next.map(|c| c.to_string()),
        }
    }
}

/// A URL path with its percent-escapes decoded (bytes that are not UTF-8 replaced).
fn percent_decoded(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(high), Some(low)) => {
                out.push(u8::try_from(high * 16 + low).unwrap_or_default());
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_found_by_their_path_in_a_body() {
        let body = br#"{"name": "ok", "lines": [{"note": "fine\nline"}, {"note": "a\u0000b"}]}"#;
        assert_eq!(
            control_characters_in_json(body).as_deref(),
            Some("lines[1].note")
        );
        assert_eq!(
            control_characters_in_json(br#"{"name": "Caf\u00e9\ttab"}"#),
            None
        );
        assert_eq!(
            control_characters_in_json("{\"n\": \"a\u{85}b\"}".as_bytes()).as_deref(),
            Some("n"),
            "a C1 character sent as it is"
        );
        assert_eq!(
            control_characters_in_json(br#"{"a\u0007": 1}"#).as_deref(),
            Some("a\u{7}"),
            "in a key"
        );
    }

    #[test]
    fn control_characters_are_found_in_a_query_and_a_path() {
        assert_eq!(
            control_characters_in_query(Some("q=%00&limit=5")).as_deref(),
            Some("q")
        );
        assert_eq!(control_characters_in_query(Some("q=caf%C3%A9+x")), None);
        assert_eq!(control_characters_in_query(Some("q=plain")), None);
        assert!(has_refused_control(&percent_decoded("/kds/a%00b/tickets")));
        assert_eq!(percent_decoded("/a%2Fb%zz"), "/a/b%zz");
    }
}
