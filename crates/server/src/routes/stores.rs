//! Stores, and the staff of one store.

use super::views::UserView;
use crate::audit;
use crate::auth::extract::Auth;
use crate::contract::outputs::Created;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, PageParams, PageView};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use comanda_domain::identity::SecurityEventKind;
use comanda_domain::{
    Locale, NewStore, Permission, Store, StoreId, StoreName, StorePatch, Timezone,
};
use comanda_store::UserFilter;
use serde::Deserialize;

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(page): ApiQuery<PageParams>,
) -> Result<Json<PageView<Store>>, ApiError> {
    auth.require(&state, Permission::StoreRead)?;
    let stores = state
        .storage
        .list_stores(auth.actor.store_scope(), page.cursor()?, page.limit()?)
        .await?;
    Ok(Json(PageView::from(stores, |s| s)))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStoreBody {
    code: String,
    #[schemars(length(min = 1))]
    name: String,
    currency: String,
    timezone: String,
    locale: String,
}

pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<NewStoreBody>,
) -> Result<Created<Store>, ApiError> {
    auth.require(&state, Permission::StoreCreate)?;
    let new = NewStore::parse(
        &body.code,
        &body.name,
        &body.currency,
        &body.timezone,
        &body.locale,
    )?;
    let store = state.storage.create_store(&new).await?;
    audit::entry(SecurityEventKind::StoreCreated, &auth.meta)
        .by(&auth.actor)
        .in_store(store.id)
        .detail("code", store.code.as_str())
        .record(&state)
        .await;
    Ok(Created(store))
}

pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<StoreId>,
) -> Result<Json<Store>, ApiError> {
    auth.require_in(&state, Permission::StoreRead, id)?;
    let store = state
        .storage
        .get_store(id)
        .await?
        .ok_or_else(|| ApiError::not_found("store not found"))?;
    Ok(Json(store))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StorePatchBody {
    /// The version the change is based on; a stale one is refused with 409.
    version: i64,
    name: Option<String>,
    timezone: Option<String>,
    locale: Option<String>,
}

pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<StoreId>,
    ApiJson(body): ApiJson<StorePatchBody>,
) -> Result<Json<Store>, ApiError> {
    auth.require_in(&state, Permission::StoreManage, id)?;
    let patch = StorePatch {
        name: body
            .name
            .as_deref()
            .map(|n| StoreName::parse("name", n))
            .transpose()?,
        timezone: body
            .timezone
            .as_deref()
            .map(|t| Timezone::parse("timezone", t))
            .transpose()?,
        locale: body
            .locale
            .as_deref()
            .map(|l| Locale::parse_field("locale", l))
            .transpose()?,
    };
    let store = state.storage.update_store(id, body.version, &patch).await?;
    audit::entry(SecurityEventKind::StoreUpdated, &auth.meta)
        .by(&auth.actor)
        .in_store(id)
        .detail("version", store.version)
        .record(&state)
        .await;
    Ok(Json(store))
}

pub async fn users(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<StoreId>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> Result<Json<PageView<UserView>>, ApiError> {
    auth.require_in(&state, Permission::UserRead, id)?;
    let filter = UserFilter {
        store: Some(id),
        ..UserFilter::default()
    };
    let users = state
        .storage
        .list_users(&filter, page.cursor()?, page.limit()?)
        .await?;
    Ok(Json(PageView::from(users, UserView::from)))
}
