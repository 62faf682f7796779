//! The catalog as a CSV file: export, and an all-or-nothing import.

use super::catalog::{catalog_owner, require_own_catalog};
use crate::auth::extract::Auth;
use crate::catalog_csv::{ImportError, export_file, import_file};
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::menu::MenuCache;
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use comanda_domain::{Permission, StoreId};
use comanda_store::ImportSummary;
use serde_json::json;

/// Errors listed in a refusal; the count says how many there were in all.
const MAX_REPORTED_ERRORS: usize = 200;

pub async fn export(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
) -> Result<Response, ApiError> {
    auth.require_in(&state, Permission::CatalogRead, store)?;
    let code = state
        .storage
        .get_store(store)
        .await?
        .ok_or_else(|| ApiError::not_found("store not found"))?
        .code;
    let csv = export_file(state.storage.as_ref(), catalog_owner(&state, store).await?).await?;
    let disposition = format!("attachment; filename=\"catalog-{code}.csv\"");
    let mut response = csv.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

pub async fn import(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ImportSummary>, ApiError> {
    auth.require_in(&state, Permission::CatalogManage, store)?;
    require_own_catalog(&state, store).await?;
    let is_csv = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/csv"));
    if !is_csv {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the file as Content-Type: text/csv",
        ));
    }
    match import_file(state.storage.as_ref(), store, &body).await {
        Ok(summary) => {
            MenuCache::refresh_soon(&state, store);
            crate::statistics::refresh_soon(&state);
            Ok(Json(summary))
        }
        Err(ImportError::Store(e)) => Err(e.into()),
        Err(ImportError::Rejected(errors)) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "import_rejected",
            format!(
                "{} problem(s) in the file; nothing was imported",
                errors.len()
            ),
        )
        .with_details(json!({
            "error_count": errors.len(),
            "errors": &errors[..errors.len().min(MAX_REPORTED_ERRORS)],
        }))),
    }
}
