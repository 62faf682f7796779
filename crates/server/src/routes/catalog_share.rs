//! Sharing a catalog between stores, and what each store changes about the products it
//! sells: its own price of a variant, its own sold-out switch.

use super::catalog::{as_sold_in, catalog_owner, currency_of};
use crate::auth::extract::Auth;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, PageView};
use crate::menu::MenuCache;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::response::NoContent;
use comanda_domain::catalog::Product;
use comanda_domain::catalog::overrides::{OverrideInput, ProductOverride};
use comanda_domain::{Permission, ProductId, StoreId, ValidationError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct CatalogSource {
    /// The store whose catalog this one sells from; `null`: its own.
    source_store_id: Option<StoreId>,
    /// The stores selling from this store's catalog.
    followers: Vec<StoreId>,
}

async fn source_view(state: &AppState, store: StoreId) -> Result<CatalogSource, ApiError> {
    let (source_store_id, followers) = comanda_store::try_join(
        state.storage.catalog_source(store),
        state.storage.catalog_followers(store),
    )
    .await?;
    Ok(CatalogSource {
        source_store_id,
        followers,
    })
}

pub async fn get_source(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
) -> Result<Json<CatalogSource>, ApiError> {
    auth.require_in(&state, Permission::CatalogRead, store)?;
    Ok(Json(source_view(&state, store).await?))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceBody {
    #[schemars(with = "Option<uuid::Uuid>")]
    source_store_id: Option<String>,
}

/// Makes this store sell from another store's catalog (`null`: from its own again). One
/// must run this store and be able to read the other.
pub async fn put_source(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
    ApiJson(body): ApiJson<SourceBody>,
) -> Result<Json<CatalogSource>, ApiError> {
    auth.require_in(&state, Permission::StoreManage, store)?;
    let source = body
        .source_store_id
        .as_deref()
        .map(|id| {
            id.trim().parse::<StoreId>().map_err(|_| {
                ValidationError::new("source_store_id", "invalid_id", "not a valid id")
            })
        })
        .transpose()?;
    if let Some(source) = source {
        auth.require_in(&state, Permission::CatalogRead, source)?;
    }
    state.storage.follow_catalog(store, source).await?;
    MenuCache::refresh_soon(&state, store);
    Ok(Json(source_view(&state, store).await?))
}

pub async fn list_overrides(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
) -> Result<Json<PageView<ProductOverride>>, ApiError> {
    auth.require_in(&state, Permission::CatalogRead, store)?;
    let items = state.storage.product_overrides(store).await?;
    Ok(Json(PageView { items, next: None }))
}

/// Sets this store's price of some variants and its sold-out switch for a product,
/// replacing what was set before; answers with the product as this store sells it.
pub async fn put_override(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, ProductId)>,
    ApiJson(body): ApiJson<OverrideInput>,
) -> Result<Json<Product>, ApiError> {
    auth.require_in(&state, Permission::CatalogManage, store)?;
    let product = state
        .storage
        .get_product(catalog_owner(&state, store).await?, id)
        .await?
        .ok_or_else(|| ApiError::not_found("product not found"))?;
    let change = body.parse(&product, currency_of(&state, store).await?)?;
    state.storage.set_product_override(store, &change).await?;
    MenuCache::refresh_soon(&state, store);
    let mut sold = [product];
    as_sold_in(&state, store, &mut sold).await?;
    let [product] = sold;
    Ok(Json(product))
}

pub async fn delete_override(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, ProductId)>,
) -> Result<NoContent, ApiError> {
    auth.require_in(&state, Permission::CatalogManage, store)?;
    state.storage.clear_product_override(store, id).await?;
    MenuCache::refresh_soon(&state, store);
    Ok(NoContent)
}
