//! `GET .../catalog/menu`: the whole menu in one download, answered with 304 when the
//! terminal already holds the current revision with the same variants sold out.

use super::catalog::currency_of;
use crate::auth::extract::StoreReader;
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::menu::etag;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use comanda_domain::{Permission, StoreId};
use std::collections::HashSet;

/// Terminals must revalidate (a cheap 304) rather than trust a stale copy.
const CACHE_CONTROL: &str = "private, no-cache";

pub async fn menu(
    State(state): State<AppState>,
    reader: StoreReader,
    ApiPath(store): ApiPath<StoreId>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    reader.require_in(&state, Permission::CatalogRead, store)?;
    let currency = currency_of(&state, store).await?;
    let revision = state.storage.catalog_revision(store).await?;
    let menu = state
        .menus
        .get(&state.storage, store, currency, revision)
        .await?;
    let sold_out = if menu.counts_stock() {
        let in_stock: HashSet<_> = state.storage.in_stock(store).await?.into_iter().collect();
        menu.sold_out(&in_stock)
    } else {
        Vec::new()
    };
    let current = etag(menu.revision, &sold_out);
    if matches_any(&headers, &current) {
        return Ok(with_validators(
            StatusCode::NOT_MODIFIED.into_response(),
            &current,
        ));
    }
    let gzip = accepts_gzip(&headers);
    let mut response = Response::new(Body::from(menu.body(&sold_out, gzip)?));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    Ok(with_validators(response, &current))
}

fn with_validators(mut response: Response, tag: &str) -> Response {
    let h = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(tag) {
        h.insert(header::ETAG, value);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    response
}

/// `If-None-Match` holding `tag` (weak or strong) or `*`.
fn matches_any(headers: &HeaderMap, tag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|t| t == "*" || t == tag || t.strip_prefix("W/") == Some(tag))
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|p| p.replace(' ', "") == "q=0");
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: header::HeaderName, value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_static(value));
        h
    }

    #[test]
    fn if_none_match_accepts_lists_weak_tags_and_star() {
        let tag = "\"menu-7\"";
        assert!(matches_any(
            &headers(header::IF_NONE_MATCH, "\"menu-7\""),
            tag
        ));
        assert!(matches_any(
            &headers(header::IF_NONE_MATCH, "\"menu-6\", W/\"menu-7\""),
            tag
        ));
        assert!(matches_any(&headers(header::IF_NONE_MATCH, "*"), tag));
        assert!(!matches_any(
            &headers(header::IF_NONE_MATCH, "\"menu-6\""),
            tag
        ));
        assert!(!matches_any(&HeaderMap::new(), tag));
    }

    #[test]
    fn gzip_is_used_only_when_accepted() {
        assert!(accepts_gzip(&headers(
            header::ACCEPT_ENCODING,
            "br, gzip;q=0.8"
        )));
        assert!(!accepts_gzip(&headers(header::ACCEPT_ENCODING, "gzip;q=0")));
        assert!(!accepts_gzip(&headers(header::ACCEPT_ENCODING, "identity")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}
