//! Managing people. Who may manage whom: the permission table says whether, the role
//! ladder (`Role::can_assign`) says whom, and the stores say where. Nobody manages
//! their own account here; that is what `/me` is for.

use super::me::store_pin;
use super::views::UserView;
use crate::audit;
use crate::auth::extract::Auth;
use crate::auth::principal::Actor;
use crate::contract::outputs::Created;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, PageParams, PageView};
use crate::password;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::response::NoContent;
use comanda_domain::catering::CompanyKind;
use comanda_domain::identity::SecurityEventKind;
use comanda_domain::{
    CompanyId, DisplayName, Login, NewUser, Permission, Role, Secret, StoreId, User, UserId,
    UserPatch, ValidationError, password_policy,
};
use comanda_store::UserFilter;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Whether `actor` may see `target`: all-stores actors see everyone; others see the
/// store-bound people of their stores.
fn visible(actor: &Actor, target: &User) -> bool {
    actor.all_stores
        || (!target.all_stores && target.store_ids.iter().any(|s| actor.stores.contains(s)))
}

async fn load_visible(state: &AppState, auth: &Auth, id: UserId) -> Result<User, ApiError> {
    state
        .storage
        .get_user(id)
        .await?
        .filter(|u| visible(&auth.actor, u))
        .ok_or_else(|| ApiError::not_found("user not found"))
}

fn role_check(auth: &Auth, role: Role) -> Result<(), ApiError> {
    let allowed = auth.actor.role.is_some_and(|mine| mine.can_assign(role));
    if allowed {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "role_not_assignable",
            format!("you may not manage people with the role {role}"),
        )
        .with_details(json!({ "role": role.as_str() })))
    }
}

/// A user `auth` may change: visible, someone else, and in a role below theirs.
async fn load_manageable(state: &AppState, auth: &Auth, id: UserId) -> Result<User, ApiError> {
    auth.require(state, Permission::UserManage)?;
    let user = load_visible(state, auth, id).await?;
    if auth.actor.user_id == Some(user.id) {
        return Err(ApiError::forbidden(
            "cannot_manage_self",
            "change your own account through /api/v1/me",
        ));
    }
    role_check(auth, user.role)?;
    Ok(user)
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(page): ApiQuery<PageParams>,
) -> Result<Json<PageView<UserView>>, ApiError> {
    auth.require(&state, Permission::UserRead)?;
    let filter = UserFilter {
        sharing_any_of: auth.actor.store_scope().map(<[StoreId]>::to_vec),
        ..UserFilter::default()
    };
    let users = state
        .storage
        .list_users(&filter, page.cursor()?, page.limit()?)
        .await?;
    Ok(Json(PageView::from(users, UserView::from)))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    login: String,
    display_name: String,
    role: Role,
    #[serde(default)]
    store_ids: Vec<StoreId>,
    #[serde(default)]
    all_stores: bool,
    /// Omit to have one generated; either way it must be changed at first password
    /// sign-in.
    password: Option<String>,
    /// Staff who only ever sign in with a PIN at a terminal: no password is given or
    /// shown, and none must be changed.
    #[serde(default)]
    pin_only: bool,
    /// For the `client` role: the client company whose contracts the person sees.
    #[serde(default)]
    company_id: Option<CompanyId>,
}

/// A client company's person belongs to one client company and to no store; staff belong
/// to stores and to no company.
async fn company_of(
    state: &AppState,
    auth: &Auth,
    body: &NewUserBody,
) -> Result<Option<CompanyId>, ApiError> {
    if body.role != Role::Client {
        return match body.company_id {
            Some(_) => Err(ValidationError::new(
                "company_id",
                "clients_only",
                "only people with the client role belong to a company",
            )
            .into()),
            None => Ok(None),
        };
    }
    auth.require(state, Permission::CompanyManage)?;
    if body.all_stores || !body.store_ids.is_empty() {
        return Err(ValidationError::new(
            "store_ids",
            "not_for_clients",
            "a client company's people work in no store",
        )
        .into());
    }
    let id = body
        .company_id
        .ok_or_else(|| ValidationError::new("company_id", "required", "name the client company"))?;
    match super::catering::visible_company(state, auth, id).await? {
        Some(company) if company.kind == CompanyKind::Client => Ok(Some(id)),
        _ => Err(
            ValidationError::new("company_id", "unknown_company", "no such client company").into(),
        ),
    }
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct CreatedUser {
    user: UserView,
    /// Only when generated: shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    temporary_password: Option<String>,
}

/// The password to give someone else: theirs to change at first sign-in.
async fn assigned_password(
    given: Option<String>,
    login: &Login,
) -> Result<(comanda_domain::PasswordHash, Option<String>), ApiError> {
    let (password, generated) = match given {
        Some(p) => {
            password_policy::check("password", &p, login.as_str())?;
            (Secret::new(p), false)
        }
        None => (
            password::generate(16).map_err(|_| ApiError::internal())?,
            true,
        ),
    };
    let hash = password::hash(&password)
        .await
        .map_err(|_| ApiError::internal())?;
    Ok((hash, generated.then(|| password.expose().to_owned())))
}

/// A PIN-only account's password: random, kept by nobody, so the account cannot sign
/// in with one. Owners, admins and client people sign in with a password (and owners
/// and admins with a second factor), so they cannot be PIN-only.
async fn pin_only_password(
    body: &NewUserBody,
) -> Result<(comanda_domain::PasswordHash, Option<String>), ApiError> {
    if body.password.is_some() {
        return Err(ValidationError::new(
            "password",
            "pin_only",
            "a PIN-only account has no password: leave password out, or pin_only false",
        )
        .into());
    }
    if body.role.is_privileged() || body.role == Role::Client {
        return Err(ValidationError::new(
            "pin_only",
            "role_needs_password",
            "owners, admins and client people sign in with a password; pin_only is for staff at terminals",
        )
        .into());
    }
    let secret = password::generate(32).map_err(|_| ApiError::internal())?;
    let hash = password::hash(&secret)
        .await
        .map_err(|_| ApiError::internal())?;
    Ok((hash, None))
}

pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<NewUserBody>,
) -> Result<Created<CreatedUser>, ApiError> {
    auth.require(&state, Permission::UserManage)?;
    role_check(&auth, body.role)?;
    auth.require_grantable(body.all_stores, &body.store_ids)?;
    let login = Login::parse("login", &body.login)?;
    let display_name = DisplayName::parse("display_name", &body.display_name)?;
    let company_id = company_of(&state, &auth, &body).await?;
    if company_id.is_none() && !body.all_stores && body.store_ids.is_empty() {
        return Err(ValidationError::new("store_ids", "empty", "assign at least one store").into());
    }
    let (password_hash, temporary_password) = if body.pin_only {
        pin_only_password(&body).await?
    } else {
        assigned_password(body.password, &login).await?
    };
    let mut store_ids = body.store_ids;
    store_ids.sort();
    store_ids.dedup();
    let new = NewUser {
        id: UserId::new(),
        login,
        display_name,
        password_hash,
        role: body.role,
        all_stores: body.all_stores,
        store_ids,
        must_change_password: !body.pin_only,
        company_id,
    };
    let user = state.storage.create_user(&new).await?;
    audit::entry(SecurityEventKind::UserCreated, &auth.meta)
        .by(&auth.actor)
        .about(user.id)
        .detail("role", user.role.as_str())
        .record(&state)
        .await;
    Ok(Created(CreatedUser {
        user: user.into(),
        temporary_password,
    }))
}

pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<UserId>,
) -> Result<Json<UserView>, ApiError> {
    auth.require(&state, Permission::UserRead)?;
    Ok(Json(load_visible(&state, &auth, id).await?.into()))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatchBody {
    version: i64,
    display_name: Option<String>,
    role: Option<Role>,
    store_ids: Option<Vec<StoreId>>,
    all_stores: Option<bool>,
}

pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(body): ApiJson<UserPatchBody>,
) -> Result<Json<UserView>, ApiError> {
    let target = load_manageable(&state, &auth, id).await?;
    if let Some(role) = body.role {
        role_check(&auth, role)?;
    }
    let client = target.role == Role::Client;
    if body.role.is_some_and(|r| (r == Role::Client) != client) {
        return Err(ValidationError::new(
            "role",
            "client_role_fixed",
            "a client company's person stays a client, and staff do not become one",
        )
        .into());
    }
    if client && (body.all_stores == Some(true) || body.store_ids.is_some()) {
        return Err(ValidationError::new(
            "store_ids",
            "not_for_clients",
            "a client company's people work in no store",
        )
        .into());
    }
    auth.require_grantable(
        body.all_stores == Some(true),
        body.store_ids.as_deref().unwrap_or_default(),
    )?;
    // A scoped manager edits assignments within their stores; the others stay.
    let store_ids = body.store_ids.map(|mut requested| {
        requested.extend(
            target
                .store_ids
                .iter()
                .filter(|s| !auth.actor.can_access(**s)),
        );
        requested.sort();
        requested.dedup();
        requested
    });
    let patch = UserPatch {
        display_name: body
            .display_name
            .as_deref()
            .map(|n| DisplayName::parse("display_name", n))
            .transpose()?,
        role: body.role,
        all_stores: body.all_stores,
        store_ids,
    };
    let user = state.storage.update_user(id, body.version, &patch).await?;
    state.principals.forget_user(id);
    audit::entry(SecurityEventKind::UserUpdated, &auth.meta)
        .by(&auth.actor)
        .about(id)
        .detail("role", user.role.as_str())
        .record(&state)
        .await;
    Ok(Json(user.into()))
}

async fn set_disabled(
    state: &AppState,
    auth: &Auth,
    id: UserId,
    disabled: bool,
) -> Result<Json<UserView>, ApiError> {
    load_manageable(state, auth, id).await?;
    state.storage.set_disabled(id, disabled).await?;
    if disabled {
        state
            .storage
            .revoke_user_sessions(id, "user disabled", None)
            .await?;
    }
    state.principals.forget_user(id);
    let kind = if disabled {
        SecurityEventKind::UserDisabled
    } else {
        SecurityEventKind::UserEnabled
    };
    audit::entry(kind, &auth.meta)
        .by(&auth.actor)
        .about(id)
        .record(state)
        .await;
    let user = state
        .storage
        .get_user(id)
        .await?
        .ok_or_else(|| ApiError::not_found("user not found"))?;
    Ok(Json(user.into()))
}

pub async fn disable(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<UserId>,
) -> Result<Json<UserView>, ApiError> {
    set_disabled(&state, &auth, id, true).await
}

pub async fn enable(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<UserId>,
) -> Result<Json<UserView>, ApiError> {
    set_disabled(&state, &auth, id, false).await
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordBody {
    password: Option<String>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct ResetPassword {
    #[serde(skip_serializing_if = "Option::is_none")]
    temporary_password: Option<String>,
}

/// Sets a temporary password (given, or generated and shown once) and ends every session.
pub async fn reset_password(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(body): ApiJson<ResetPasswordBody>,
) -> Result<Json<ResetPassword>, ApiError> {
    let user = load_manageable(&state, &auth, id).await?;
    let (hash, temporary_password) = assigned_password(body.password, &user.login).await?;
    state.storage.set_password(id, &hash, true).await?;
    state
        .storage
        .revoke_user_sessions(id, "password reset", None)
        .await?;
    state.principals.forget_user(id);
    audit::entry(SecurityEventKind::PasswordReset, &auth.meta)
        .by(&auth.actor)
        .about(id)
        .record(&state)
        .await;
    Ok(Json(ResetPassword { temporary_password }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PinBody {
    pin: String,
}

pub async fn set_pin(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(body): ApiJson<PinBody>,
) -> Result<NoContent, ApiError> {
    let user = load_manageable(&state, &auth, id).await?;
    store_pin(&state, &auth.actor, &auth.meta, &user, &body.pin).await
}

/// Removes a lost second factor; the person enrols again at their next sign-in.
pub async fn reset_totp(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<UserId>,
) -> Result<NoContent, ApiError> {
    load_manageable(&state, &auth, id).await?;
    state.storage.disable_totp(id).await?;
    state
        .storage
        .revoke_user_sessions(id, "second factor reset", None)
        .await?;
    state.principals.forget_user(id);
    audit::entry(SecurityEventKind::TotpReset, &auth.meta)
        .by(&auth.actor)
        .about(id)
        .record(&state)
        .await;
    Ok(NoContent)
}
