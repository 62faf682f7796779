//! The catalog as a file: export, and an all-or-nothing import; CSV for a spreadsheet,
//! or the whole catalog as JSON (see [`crate::catalog_bundle`]).

use super::catalog::{catalog_owner, require_own_catalog};
use crate::auth::extract::Auth;
use crate::catalog_bundle::{export_bundle, import_bundle};
use crate::catalog_csv::{ImportError, export_file, import_file};
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::menu::MenuCache;
use crate::state::AppState;
use aide::openapi::{ReferenceOr, RequestBody};
use aide::transform::TransformOperation;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use comanda_domain::{Permission, StoreId};
use comanda_store::ImportSummary;
use serde::Deserialize;
use serde_json::json;

/// Errors listed in a refusal; the count says how many there were in all.
const MAX_REPORTED_ERRORS: usize = 200;

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// `csv` (the default): the products, for a spreadsheet; `json`: the whole catalog
    /// (tax rates and modifier groups defined in full), for another store.
    #[serde(default)]
    format: ExportFormat,
}

#[derive(Debug, Default, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
enum ExportFormat {
    #[default]
    Csv,
    Json,
}

pub async fn export(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    auth.require_in(&state, Permission::CatalogRead, store)?;
    let code = state
        .storage
        .get_store(store)
        .await?
        .ok_or_else(|| ApiError::not_found("store not found"))?
        .code;
    let owner = catalog_owner(&state, store).await?;
    let (file, kind, extension) = match query.format {
        ExportFormat::Csv => (
            export_file(state.storage.as_ref(), owner).await?,
            "text/csv; charset=utf-8",
            "csv",
        ),
        ExportFormat::Json => (
            export_bundle(state.storage.as_ref(), owner).await?,
            "application/json",
            "json",
        ),
    };
    let disposition = format!("attachment; filename=\"catalog-{code}.{extension}\"");
    let mut response = file.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
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
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim_start().to_ascii_lowercase())
        .unwrap_or_default();
    let imported = if kind.starts_with("text/csv") {
        import_file(state.storage.as_ref(), store, &body).await
    } else if kind.starts_with("application/json") {
        import_bundle(state.storage.as_ref(), store, &body).await
    } else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send a CSV file as Content-Type: text/csv, or a catalog exported with \
             ?format=json as Content-Type: application/json",
        ));
    };
    match imported {
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

/// The file in either form: CSV as text, or JSON as exported with `?format=json`.
pub fn describe_import(op: TransformOperation<'_>) -> TransformOperation<'_> {
    let mut op = op.description(
        "All or nothing: a file with any problem imports nothing and is answered 422 \
         `import_rejected` with `details.errors` (at most 200) and `details.error_count`.",
    );
    op.inner_mut().request_body = Some(ReferenceOr::Item(RequestBody {
        content: crate::contract::media(&[
            ("text/csv", json!({ "type": "string" })),
            ("application/json", json!({ "type": "object" })),
        ]),
        required: true,
        ..Default::default()
    }));
    crate::contract::answer(op.inner_mut(), 415, "Neither CSV nor JSON", &[]);
    op
}

/// The file in the form asked for.
pub fn describe_export(op: TransformOperation<'_>) -> TransformOperation<'_> {
    let mut op = op;
    crate::contract::answer(
        op.inner_mut(),
        200,
        "The catalog as a file (`Content-Disposition: attachment`)",
        &[
            ("text/csv", json!({ "type": "string" })),
            ("application/json", json!({ "type": "object" })),
        ],
    );
    op
}
