//! POS terminals and integration API keys: credentials that are not a person.

use super::views::{ApiKeyView, DeviceView};
use crate::audit;
use crate::auth::extract::{Auth, users_only};
use crate::auth::principal::Actor;
use crate::auth::tokens::{OpaqueToken, TokenKind};
use crate::contract::outputs::Created;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::response::NoContent;
use comanda_domain::identity::{ApiKey, NewApiKey, NewDevice, SecurityEventKind};
use comanda_domain::validation::{ValidationError, bounded_text};
use comanda_domain::{ApiKeyId, DeviceId, Permission, PermissionSet, StoreId, clock};
use serde::{Deserialize, Serialize};

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDeviceBody {
    #[schemars(length(min = 1, max = 60))]
    name: String,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct RegisteredDevice {
    pub(crate) device: DeviceView,
    /// Configure the terminal with this (`X-Device-Token`); it is shown once.
    pub(crate) token: String,
}

pub async fn register(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
    ApiJson(body): ApiJson<NewDeviceBody>,
) -> Result<Created<RegisteredDevice>, ApiError> {
    auth.require_in(&state, Permission::DeviceManage, store)?;
    let name = bounded_text("name", &body.name, 1, 60)?;
    let created_by = auth.actor.user_id.ok_or_else(users_only)?;
    let token = OpaqueToken::generate(TokenKind::Device);
    let new = NewDevice {
        id: DeviceId::from_uuid(token.id),
        store_id: store,
        name,
        secret_hash: token.secret_hash,
        created_by,
    };
    let device = state.storage.create_device(&new).await?;
    audit::entry(SecurityEventKind::DeviceRegistered, &auth.meta)
        .by(&auth.actor)
        .in_store(store)
        .detail("device_id", device.id.to_string())
        .record(&state)
        .await;
    Ok(Created(RegisteredDevice {
        device,
        token: token.text,
    }))
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
) -> Result<Json<crate::extract::PageView<DeviceView>>, ApiError> {
    auth.require_in(&state, Permission::DeviceManage, store)?;
    Ok(Json(crate::extract::PageView::whole(
        state.storage.list_devices(store).await?,
    )))
}

/// Revokes a terminal and ends every session opened on it.
pub async fn revoke(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, DeviceId)>,
) -> Result<NoContent, ApiError> {
    auth.require_in(&state, Permission::DeviceManage, store)?;
    let found = state
        .storage
        .get_device(id)
        .await?
        .filter(|d| d.store_id == store && d.revoked_at.is_none());
    if found.is_none() || !state.storage.revoke_device(id).await? {
        return Err(ApiError::not_found("terminal not found"));
    }
    state
        .storage
        .revoke_device_sessions(id, "terminal revoked")
        .await?;
    state.principals.forget_all();
    audit::entry(SecurityEventKind::DeviceRevoked, &auth.meta)
        .by(&auth.actor)
        .in_store(store)
        .detail("device_id", id.to_string())
        .record(&state)
        .await;
    Ok(NoContent)
}

/// Whether `actor` may see and revoke `key`: the key's reach must be within the actor's,
/// so an all-stores key is an all-stores actor's (an owner's) alone, and a key touching a
/// store the actor cannot reach is not there for them.
fn key_visible(actor: &Actor, key: &ApiKey) -> bool {
    if key.all_stores {
        return actor.all_stores;
    }
    key.store_ids.iter().all(|s| actor.can_access(*s))
}

pub async fn list_api_keys(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<crate::extract::PageView<ApiKeyView>>, ApiError> {
    auth.require(&state, Permission::ApiKeyManage)?;
    let keys = state.storage.list_api_keys().await?;
    Ok(Json(crate::extract::PageView::whole(
        keys.into_iter()
            .filter(|k| key_visible(&auth.actor, k))
            .map(ApiKeyView::from),
    )))
}

/// The longest a key may be made to last, ten years: far enough for any integration,
/// near enough that every expiry is a date the server can write.
const MAX_KEY_DAYS: u32 = 3650;

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKeyBody {
    #[schemars(length(min = 1, max = 60))]
    name: String,
    #[schemars(with = "Vec<comanda_domain::Permission>")]
    permissions: Vec<String>,
    #[serde(default)]
    store_ids: Vec<StoreId>,
    #[serde(default)]
    all_stores: bool,
    expires_in_days: Option<u32>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct CreatedApiKey {
    api_key: ApiKeyView,
    /// Give this to the integration (`Authorization: Bearer ...`); it is shown once.
    key: String,
}

fn invalid(field: &str, reason: &'static str, message: String) -> ApiError {
    ValidationError::new(field, reason, message).into()
}

/// An API key holds at most what its creator holds, never rights over people or keys,
/// and only in the creator's stores.
pub async fn create_api_key(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<NewApiKeyBody>,
) -> Result<Created<CreatedApiKey>, ApiError> {
    auth.require(&state, Permission::ApiKeyManage)?;
    let created_by = auth.actor.user_id.ok_or_else(users_only)?;
    let name = bounded_text("name", &body.name, 1, 60)?;
    if body
        .expires_in_days
        .is_some_and(|d| !(1..=MAX_KEY_DAYS).contains(&d))
    {
        return Err(invalid(
            "expires_in_days",
            "out_of_range",
            format!(
                "a key lasts 1 to {MAX_KEY_DAYS} days; leave it out for a key that does not expire"
            ),
        ));
    }
    let mut permissions = Vec::new();
    for text in &body.permissions {
        let p: Permission = text.parse().map_err(|()| {
            invalid(
                "permissions",
                "unknown_permission",
                format!("unknown permission {text:?}"),
            )
        })?;
        if !p.grantable_to_api_keys() {
            return Err(invalid(
                "permissions",
                "not_grantable",
                format!("{p} cannot be given to an API key"),
            ));
        }
        permissions.push(p);
    }
    let permissions: PermissionSet = permissions.into_iter().collect();
    if permissions == PermissionSet::empty() {
        return Err(invalid(
            "permissions",
            "empty",
            "give the key at least one permission".into(),
        ));
    }
    if !permissions.is_subset_of(auth.actor.permissions) {
        return Err(ApiError::forbidden(
            "forbidden",
            "a key cannot hold permissions you do not have",
        ));
    }
    auth.require_grantable(body.all_stores, &body.store_ids)?;
    if !body.all_stores && body.store_ids.is_empty() {
        return Err(invalid(
            "store_ids",
            "empty",
            "give the key at least one store".into(),
        ));
    }
    let mut store_ids = body.store_ids;
    store_ids.sort();
    store_ids.dedup();
    let token = OpaqueToken::generate(TokenKind::ApiKey);
    let new = NewApiKey {
        id: ApiKeyId::from_uuid(token.id),
        name,
        secret_hash: token.secret_hash,
        permissions,
        all_stores: body.all_stores,
        store_ids,
        created_by,
        expires_at: body
            .expires_in_days
            .map(|d| clock::now() + chrono::Duration::days(i64::from(d))),
    };
    let key = state.storage.create_api_key(&new).await?;
    audit::entry(SecurityEventKind::ApiKeyCreated, &auth.meta)
        .by(&auth.actor)
        .detail("api_key_id", key.id.to_string())
        .record(&state)
        .await;
    Ok(Created(CreatedApiKey {
        api_key: key.into(),
        key: token.text,
    }))
}

pub async fn revoke_api_key(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<ApiKeyId>,
) -> Result<NoContent, ApiError> {
    auth.require(&state, Permission::ApiKeyManage)?;
    let missing = || ApiError::not_found("API key not found or already revoked");
    let visible = state
        .storage
        .get_api_key(id)
        .await?
        .is_some_and(|k| key_visible(&auth.actor, &k));
    if !visible || !state.storage.revoke_api_key(id).await? {
        return Err(missing());
    }
    state.principals.forget_api_key(id);
    audit::entry(SecurityEventKind::ApiKeyRevoked, &auth.meta)
        .by(&auth.actor)
        .detail("api_key_id", id.to_string())
        .record(&state)
        .await;
    Ok(NoContent)
}
