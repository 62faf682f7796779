//! A store's catalog: pricing settings, tax rates, categories, modifier groups and
//! products. Every route names the store, and every record is looked up within it, so a
//! record of another store is simply not found.

use crate::auth::extract::Auth;
use crate::contract::outputs::Created;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, PageParams, PageView, query_id};
use crate::menu::MenuCache;
pub use crate::sale_catalog::{as_sold_in, catalog_owner};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::NoContent;
use comanda_domain::catalog::inputs::{
    CategoryInput, ModifierGroupInput, ProductInput, SettingsInput, TaxRateInput,
};
use comanda_domain::catalog::overrides;
use comanda_domain::catalog::{CatalogSettings, Category, ModifierGroup, Product, Status, TaxRate};
use comanda_domain::{
    CategoryId, Currency, ModifierGroupId, Permission, ProductId, StoreId, TaxRateId,
    ValidationError,
};
use comanda_store::ProductFilter;
use serde::Deserialize;
use serde_json::json;

/// The store, or 404.
pub async fn store_of(state: &AppState, store: StoreId) -> Result<comanda_domain::Store, ApiError> {
    state
        .storage
        .get_store(store)
        .await?
        .ok_or_else(|| ApiError::not_found("store not found"))
}

/// The store's currency, which every price it accepts must be in.
pub async fn currency_of(state: &AppState, store: StoreId) -> Result<Currency, ApiError> {
    Ok(store_of(state, store).await?.currency)
}

/// A shared catalog is changed at the store that owns it; a follower changes only its
/// own prices and availability (`…/products/{id}/override`).
pub async fn require_own_catalog(state: &AppState, store: StoreId) -> Result<(), ApiError> {
    match state.storage.catalog_source(store).await? {
        None => Ok(()),
        Some(source) => Err(ApiError::conflict(
            "catalog_shared",
            "this store sells from another store's catalog: change it there, or set this store's own prices and availability through the product's override",
        )
        .with_details(json!({ "source_store_id": source }))),
    }
}

/// Changes are based on a version; a PUT without one is refused rather than guessed.
fn version(sent: Option<i64>) -> Result<i64, ApiError> {
    sent.ok_or_else(|| {
        ValidationError::new(
            "version",
            "required",
            "send the version you changed (from the last read) so concurrent edits are caught",
        )
        .into()
    })
}

fn found<T>(record: Option<T>, what: &str) -> Result<Json<T>, ApiError> {
    record
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("{what} not found")))
}

/// `?status=active|archived|all`; active by default.
fn status_filter(status: Option<&str>) -> Result<Option<Status>, ApiError> {
    match status {
        None | Some("active") => Ok(Some(Status::Active)),
        Some("archived") => Ok(Some(Status::Archived)),
        Some("all") => Ok(None),
        Some(_) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "status must be active, archived or all",
        )),
    }
}

// Settings.

pub async fn get_settings(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
) -> Result<Json<CatalogSettings>, ApiError> {
    auth.require_in(&state, Permission::CatalogRead, store)?;
    let currency = currency_of(&state, store).await?;
    let settings = state
        .storage
        .catalog_settings(catalog_owner(&state, store).await?)
        .await?;
    Ok(Json(settings.unwrap_or_else(|| {
        CatalogSettings::defaults_for(currency)
    })))
}

pub async fn put_settings(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
    ApiJson(body): ApiJson<SettingsInput>,
) -> Result<Json<CatalogSettings>, ApiError> {
    auth.require_in(&state, Permission::StoreManage, store)?;
    require_own_catalog(&state, store).await?;
    let patch = body.parse()?;
    let currency = currency_of(&state, store).await?;
    let saved = state
        .storage
        .update_catalog_settings(
            store,
            body.version,
            &patch,
            CatalogSettings::defaults_for(currency),
        )
        .await?;
    MenuCache::refresh_soon(&state, store);
    Ok(Json(saved))
}

// Tax rates: set by those who answer for the store's books.

pub async fn list_tax_rates(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
) -> Result<Json<PageView<TaxRate>>, ApiError> {
    auth.require_in(&state, Permission::CatalogRead, store)?;
    let items = state
        .storage
        .list_tax_rates(catalog_owner(&state, store).await?)
        .await?;
    Ok(Json(PageView { items, next: None }))
}

pub async fn create_tax_rate(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
    ApiJson(body): ApiJson<TaxRateInput>,
) -> Result<Created<TaxRate>, ApiError> {
    auth.require_in(&state, Permission::StoreManage, store)?;
    require_own_catalog(&state, store).await?;
    let draft = body.parse()?;
    let rate = state.storage.create_tax_rate(store, &draft).await?;
    MenuCache::refresh_soon(&state, store);
    Ok(Created(rate))
}

pub async fn get_tax_rate(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, TaxRateId)>,
) -> Result<Json<TaxRate>, ApiError> {
    auth.require_in(&state, Permission::CatalogRead, store)?;
    found(
        state
            .storage
            .get_tax_rate(catalog_owner(&state, store).await?, id)
            .await?,
        "tax rate",
    )
}

pub async fn update_tax_rate(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, TaxRateId)>,
    ApiJson(body): ApiJson<TaxRateInput>,
) -> Result<Json<TaxRate>, ApiError> {
    auth.require_in(&state, Permission::StoreManage, store)?;
    require_own_catalog(&state, store).await?;
    let draft = body.parse()?;
    let rate = state
        .storage
        .update_tax_rate(store, id, version(body.version)?, &draft)
        .await?;
    MenuCache::refresh_soon(&state, store);
    Ok(Json(rate))
}

pub async fn archive_tax_rate(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, TaxRateId)>,
) -> Result<NoContent, ApiError> {
    auth.require_in(&state, Permission::StoreManage, store)?;
    require_own_catalog(&state, store).await?;
    state.storage.archive_tax_rate(store, id).await?;
    MenuCache::refresh_soon(&state, store);
    Ok(NoContent)
}

// Categories.

pub async fn list_categories(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
) -> Result<Json<PageView<Category>>, ApiError> {
    auth.require_in(&state, Permission::CatalogRead, store)?;
    let items = state
        .storage
        .list_categories(catalog_owner(&state, store).await?)
        .await?;
    Ok(Json(PageView { items, next: None }))
}

pub async fn create_category(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
    ApiJson(body): ApiJson<CategoryInput>,
) -> Result<Created<Category>, ApiError> {
    auth.require_in(&state, Permission::CatalogManage, store)?;
    require_own_catalog(&state, store).await?;
    let draft = body.parse()?;
    let category = state.storage.create_category(store, &draft).await?;
    MenuCache::refresh_soon(&state, store);
    Ok(Created(category))
}

pub async fn get_category(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, CategoryId)>,
) -> Result<Json<Category>, ApiError> {
    auth.require_in(&state, Permission::CatalogRead, store)?;
    found(
        state
            .storage
            .get_category(catalog_owner(&state, store).await?, id)
            .await?,
        "category",
    )
}

pub async fn update_category(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, CategoryId)>,
    ApiJson(body): ApiJson<CategoryInput>,
) -> Result<Json<Category>, ApiError> {
    auth.require_in(&state, Permission::CatalogManage, store)?;
    require_own_catalog(&state, store).await?;
    let draft = body.parse()?;
    let category = state
        .storage
        .update_category(store, id, version(body.version)?, &draft)
        .await?;
    MenuCache::refresh_soon(&state, store);
    Ok(Json(category))
}

pub async fn delete_category(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, CategoryId)>,
) -> Result<NoContent, ApiError> {
    auth.require_in(&state, Permission::CatalogManage, store)?;
    require_own_catalog(&state, store).await?;
    state.storage.delete_category(store, id).await?;
    MenuCache::refresh_soon(&state, store);
    Ok(NoContent)
}

// Modifier groups.

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[schemars(with = "Option<crate::contract::inputs::ListStatus>")]
    status: Option<String>,
    /// The `next` of the previous page.
    #[schemars(with = "Option<uuid::Uuid>")]
    after: Option<String>,
    /// 1 to 500; 50 when left out.
    #[schemars(range(min = 1, max = 500))]
    limit: Option<u32>,
}

pub async fn list_groups(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<PageView<ModifierGroup>>, ApiError> {
    auth.require_in(&state, Permission::CatalogRead, store)?;
    let page = PageParams {
        after: query.after,
        limit: query.limit,
    };
    let groups = state
        .storage
        .list_modifier_groups(
            catalog_owner(&state, store).await?,
            status_filter(query.status.as_deref())?,
            page.cursor()?,
            page.limit()?,
        )
        .await?;
    Ok(Json(PageView::from(groups, |g| g)))
}

pub async fn create_group(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
    ApiJson(body): ApiJson<ModifierGroupInput>,
) -> Result<Created<ModifierGroup>, ApiError> {
    auth.require_in(&state, Permission::CatalogManage, store)?;
    require_own_catalog(&state, store).await?;
    let draft = body.parse(currency_of(&state, store).await?)?;
    let group = state.storage.create_modifier_group(store, &draft).await?;
    MenuCache::refresh_soon(&state, store);
    Ok(Created(group))
}

pub async fn get_group(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, ModifierGroupId)>,
) -> Result<Json<ModifierGroup>, ApiError> {
    auth.require_in(&state, Permission::CatalogRead, store)?;
    found(
        state
            .storage
            .get_modifier_group(catalog_owner(&state, store).await?, id)
            .await?,
        "modifier group",
    )
}

pub async fn update_group(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, ModifierGroupId)>,
    ApiJson(body): ApiJson<ModifierGroupInput>,
) -> Result<Json<ModifierGroup>, ApiError> {
    auth.require_in(&state, Permission::CatalogManage, store)?;
    require_own_catalog(&state, store).await?;
    let draft = body.parse(currency_of(&state, store).await?)?;
    let group = state
        .storage
        .update_modifier_group(store, id, version(body.version)?, &draft)
        .await?;
    MenuCache::refresh_soon(&state, store);
    Ok(Json(group))
}

pub async fn archive_group(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, ModifierGroupId)>,
) -> Result<NoContent, ApiError> {
    auth.require_in(&state, Permission::CatalogManage, store)?;
    require_own_catalog(&state, store).await?;
    state.storage.archive_modifier_group(store, id).await?;
    MenuCache::refresh_soon(&state, store);
    Ok(NoContent)
}

// Products.

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductQuery {
    /// Name prefix, SKU prefix or barcode.
    q: Option<String>,
    #[schemars(with = "Option<uuid::Uuid>")]
    category_id: Option<String>,
    #[schemars(with = "Option<crate::contract::inputs::ListStatus>")]
    status: Option<String>,
    /// The `next` of the previous page.
    #[schemars(with = "Option<uuid::Uuid>")]
    after: Option<String>,
    /// 1 to 500; 50 when left out.
    #[schemars(range(min = 1, max = 500))]
    limit: Option<u32>,
}

pub async fn list_products(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
    ApiQuery(query): ApiQuery<ProductQuery>,
) -> Result<Json<PageView<Product>>, ApiError> {
    auth.require_in(&state, Permission::CatalogRead, store)?;
    let category = query_id("category_id", query.category_id.as_deref())?;
    let filter = ProductFilter {
        status: status_filter(query.status.as_deref())?,
        category,
        search: query.q,
    };
    let page = PageParams {
        after: query.after,
        limit: query.limit,
    };
    let mut products = state
        .storage
        .list_products(
            catalog_owner(&state, store).await?,
            &filter,
            page.cursor()?,
            page.limit()?,
        )
        .await?;
    as_sold_in(&state, store, &mut products.items).await?;
    Ok(Json(PageView::from(products, |p| p)))
}

pub async fn create_product(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
    ApiJson(body): ApiJson<ProductInput>,
) -> Result<Created<Product>, ApiError> {
    auth.require_in(&state, Permission::CatalogManage, store)?;
    require_own_catalog(&state, store).await?;
    let draft = body.parse(currency_of(&state, store).await?)?;
    let product = state.storage.create_product(store, &draft).await?;
    MenuCache::refresh_soon(&state, store);
    Ok(Created(product))
}

pub async fn get_product(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, ProductId)>,
) -> Result<Json<Product>, ApiError> {
    auth.require_in(&state, Permission::CatalogRead, store)?;
    let mut product = state
        .storage
        .get_product(catalog_owner(&state, store).await?, id)
        .await?;
    as_sold_in(&state, store, product.as_mut_slice()).await?;
    found(product, "product")
}

pub async fn update_product(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, ProductId)>,
    ApiJson(body): ApiJson<ProductInput>,
) -> Result<Json<Product>, ApiError> {
    auth.require_in(&state, Permission::CatalogManage, store)?;
    require_own_catalog(&state, store).await?;
    let draft = body.parse(currency_of(&state, store).await?)?;
    let product = state
        .storage
        .update_product(store, id, version(body.version)?, &draft)
        .await?;
    MenuCache::refresh_soon(&state, store);
    Ok(Json(product))
}

pub async fn archive_product(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, ProductId)>,
) -> Result<NoContent, ApiError> {
    auth.require_in(&state, Permission::CatalogManage, store)?;
    require_own_catalog(&state, store).await?;
    state.storage.archive_product(store, id).await?;
    MenuCache::refresh_soon(&state, store);
    Ok(NoContent)
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityBody {
    available: bool,
}

/// Marks a product sold out here, or back. Staff press this mid-service, so it needs no
/// version; it is kept as this store's override, so a chain's other stores, which may
/// share the product, keep selling it.
pub async fn set_availability(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, ProductId)>,
    ApiJson(body): ApiJson<AvailabilityBody>,
) -> Result<Json<Product>, ApiError> {
    auth.require_in(&state, Permission::ProductAvailability, store)?;
    let owner = catalog_owner(&state, store).await?;
    let mut product = state
        .storage
        .get_product(owner, id)
        .await?
        .ok_or_else(|| ApiError::not_found("product not found"))?;
    let mut change = state
        .storage
        .product_overrides(store)
        .await?
        .into_iter()
        .find(|o| o.product_id == id)
        .unwrap_or(overrides::ProductOverride {
            product_id: id,
            available: None,
            prices: Default::default(),
        });
    change.available = (product.available != body.available).then_some(body.available);
    state.storage.set_product_override(store, &change).await?;
    MenuCache::refresh_soon(&state, store);
    change.apply(&mut product);
    Ok(Json(product))
}
