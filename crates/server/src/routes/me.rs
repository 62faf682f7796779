//! The signed-in user's own account: profile, password, sessions, second factor, PIN.

use super::auth::{charge_failure, check_account, open_totp};
use super::views::{SessionView, UserView};
use crate::audit;
use crate::auth::extract::{AuthAny, Person, RequestMeta, users_only};
use crate::auth::session::requirements;
use crate::auth::totp;
use crate::auth::vault::TOTP;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::password;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::NoContent;
use comanda_domain::identity::SecurityEventKind;
use comanda_domain::{
    Locale, Permission, Secret, SessionId, User, ValidationError, password_policy, pin,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The user behind a session-authenticated request.
async fn current_user(
    state: &AppState,
    actor: &crate::auth::principal::Actor,
) -> Result<User, ApiError> {
    let id = actor.user_id.ok_or_else(users_only)?;
    state
        .storage
        .get_user(id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("session_revoked", "this account no longer exists"))
}

async fn require_password(
    state: &AppState,
    user: &User,
    given: &str,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    let login = user.login.as_str();
    check_account(state, login, meta).await?;
    if password::verify(&Secret::new(given), &user.password_hash).await {
        return Ok(());
    }
    charge_failure(state, login, meta).await;
    Err(ApiError::forbidden(
        "wrong_password",
        "the password is wrong",
    ))
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct MeView {
    #[serde(flatten)]
    user: UserView,
    session_id: Option<SessionId>,
    permissions: Vec<Permission>,
    /// What must be done before anything else: `password_change`, `totp_enrolment`.
    requires: Vec<&'static str>,
}

pub async fn me(State(state): State<AppState>, auth: AuthAny) -> Result<Json<MeView>, ApiError> {
    let user = current_user(&state, &auth.actor).await?;
    let session = match auth.actor.session_id {
        Some(id) => state.storage.get_session(id).await?,
        None => None,
    };
    let requires = session
        .as_ref()
        .map(|s| requirements(&user, s))
        .unwrap_or_default();
    Ok(Json(MeView {
        permissions: auth.actor.permissions.iter().collect(),
        session_id: auth.actor.session_id,
        requires,
        user: user.into(),
    }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    current_password: String,
    new_password: String,
}

/// Changes the password and ends every other session of the user.
pub async fn change_password(
    State(state): State<AppState>,
    auth: AuthAny,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<NoContent, ApiError> {
    let user = current_user(&state, &auth.actor).await?;
    require_password(&state, &user, &body.current_password, &auth.meta).await?;
    password_policy::check("new_password", &body.new_password, user.login.as_str())?;
    if body.new_password == body.current_password {
        return Err(ValidationError::new(
            "new_password",
            "same_as_current",
            "must differ from the current password",
        )
        .into());
    }
    let hash = password::hash(&Secret::new(body.new_password))
        .await
        .map_err(|_| ApiError::internal())?;
    state.storage.set_password(user.id, &hash, false).await?;
    state
        .storage
        .revoke_user_sessions(user.id, "password changed", auth.actor.session_id)
        .await?;
    state.principals.forget_user(user.id);
    audit::entry(SecurityEventKind::PasswordChanged, &auth.meta)
        .by(&auth.actor)
        .about(user.id)
        .record(&state)
        .await;
    Ok(NoContent)
}

pub async fn sessions(
    State(state): State<AppState>,
    auth: Person,
) -> Result<Json<crate::extract::PageView<SessionView>>, ApiError> {
    let user = current_user(&state, &auth.actor).await?;
    let sessions = state.storage.list_active_sessions(user.id).await?;
    Ok(Json(crate::extract::PageView::whole(
        sessions
            .into_iter()
            .map(|s| SessionView::new(s, auth.actor.session_id)),
    )))
}

pub async fn end_session(
    State(state): State<AppState>,
    auth: Person,
    ApiPath(id): ApiPath<SessionId>,
) -> Result<NoContent, ApiError> {
    let user = current_user(&state, &auth.actor).await?;
    let mine = state
        .storage
        .get_session(id)
        .await?
        .filter(|s| s.user_id == user.id);
    if mine.is_none()
        || !state
            .storage
            .revoke_session(id, "ended by the user")
            .await?
    {
        return Err(ApiError::not_found("session not found"));
    }
    state.principals.forget_session(id);
    audit::entry(SecurityEventKind::SessionRevoked, &auth.meta)
        .by(&auth.actor)
        .about(user.id)
        .detail("session_id", id.to_string())
        .record(&state)
        .await;
    Ok(NoContent)
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct Enrolment {
    /// Base32, for typing into an app by hand.
    secret: String,
    otpauth_uri: String,
    /// The URI as a QR code to scan.
    qr_svg: String,
}

/// Starts TOTP enrolment: a new secret, not active until confirmed with a code.
pub async fn start_totp(
    State(state): State<AppState>,
    auth: AuthAny,
) -> Result<Json<Enrolment>, ApiError> {
    let user = current_user(&state, &auth.actor).await?;
    if user.totp_enabled() {
        return Err(ApiError::conflict(
            "totp_already_enabled",
            "two-factor authentication is already on",
        ));
    }
    let secret = totp::generate_secret();
    let sealed = state.vault().seal(TOTP, user.id.as_uuid(), &secret);
    state
        .storage
        .set_totp_pending(user.id, Some(&sealed))
        .await?;
    let uri = totp::otpauth_uri(&state.auth.issuer, user.login.as_str(), &secret);
    let qr_svg = totp::qr_svg(&uri).ok_or_else(ApiError::internal)?;
    Ok(Json(Enrolment {
        secret: secret.expose().to_owned(),
        otpauth_uri: uri,
        qr_svg,
    }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    code: String,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct RecoveryCodes {
    /// Shown once. Each works once, in place of a code, if the phone is lost.
    recovery_codes: Vec<String>,
}

/// Confirms enrolment with a first code: the factor becomes active, this session counts
/// as verified, and recovery codes are handed out once.
pub async fn confirm_totp(
    State(state): State<AppState>,
    auth: AuthAny,
    ApiJson(body): ApiJson<CodeBody>,
) -> Result<Json<RecoveryCodes>, ApiError> {
    let user = current_user(&state, &auth.actor).await?;
    let Some(sealed) = user.totp_pending_secret.clone() else {
        return Err(ApiError::conflict(
            "no_enrolment_pending",
            "start enrolment first (POST /api/v1/me/totp)",
        ));
    };
    let secret = open_totp(&state, &user, &sealed)?;
    let Some(step) = totp::verify(
        &secret,
        &body.code,
        comanda_domain::clock::now().timestamp(),
    ) else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_totp",
            "the code does not match; check the phone's clock",
        )
        .with_details(json!({ "field": "code", "reason": "invalid_totp" })));
    };
    let codes = totp::generate_recovery_codes();
    let hashes: Vec<[u8; 32]> = codes.iter().map(|c| totp::recovery_hash(c)).collect();
    state
        .storage
        .enable_totp(user.id, &sealed, step, &hashes)
        .await?;
    if let Some(session) = auth.actor.session_id {
        state.storage.mark_session_mfa_verified(session).await?;
    }
    state.principals.forget_user(user.id);
    audit::entry(SecurityEventKind::TotpEnrolled, &auth.meta)
        .by(&auth.actor)
        .about(user.id)
        .record(&state)
        .await;
    Ok(Json(RecoveryCodes {
        recovery_codes: codes,
    }))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordOnly {
    password: String,
}

/// Turns the second factor off, for roles that may go without one.
pub async fn disable_totp(
    State(state): State<AppState>,
    auth: Person,
    ApiJson(body): ApiJson<PasswordOnly>,
) -> Result<NoContent, ApiError> {
    let user = current_user(&state, &auth.actor).await?;
    if user.role.is_privileged() {
        return Err(ApiError::conflict(
            "totp_required_for_role",
            "owners and admins must keep two-factor authentication",
        ));
    }
    require_password(&state, &user, &body.password, &auth.meta).await?;
    state.storage.disable_totp(user.id).await?;
    state.principals.forget_user(user.id);
    audit::entry(SecurityEventKind::TotpDisabled, &auth.meta)
        .by(&auth.actor)
        .about(user.id)
        .record(&state)
        .await;
    Ok(NoContent)
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LocaleBody {
    /// `pt-BR`, `en-US`, `id-ID`, or null for the store's language.
    locale: Option<String>,
}

/// `PUT /me/locale`: the language the apps speak to this person on any terminal.
pub async fn set_locale(
    State(state): State<AppState>,
    auth: AuthAny,
    ApiJson(body): ApiJson<LocaleBody>,
) -> Result<NoContent, ApiError> {
    let user = current_user(&state, &auth.actor).await?;
    let locale = body
        .locale
        .as_deref()
        .map(|tag| Locale::parse_field("locale", tag))
        .transpose()?;
    state.storage.set_locale(user.id, locale).await?;
    state.principals.forget_user(user.id);
    Ok(NoContent)
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnPinBody {
    password: String,
    pin: String,
}

pub async fn set_own_pin(
    State(state): State<AppState>,
    auth: Person,
    ApiJson(body): ApiJson<OwnPinBody>,
) -> Result<NoContent, ApiError> {
    let user = current_user(&state, &auth.actor).await?;
    require_password(&state, &user, &body.password, &auth.meta).await?;
    store_pin(&state, &auth.actor, &auth.meta, &user, &body.pin).await
}

/// Validates, hashes and stores a PIN for `user`, and logs who set it.
pub(crate) async fn store_pin(
    state: &AppState,
    actor: &crate::auth::principal::Actor,
    meta: &crate::auth::extract::RequestMeta,
    user: &User,
    pin_text: &str,
) -> Result<NoContent, ApiError> {
    pin::check("pin", pin_text)?;
    let hash = password::hash(&Secret::new(pin_text))
        .await
        .map_err(|_| ApiError::internal())?;
    state.storage.set_pin(user.id, Some(&hash)).await?;
    audit::entry(SecurityEventKind::PinSet, meta)
        .by(actor)
        .about(user.id)
        .record(state)
        .await;
    Ok(NoContent)
}
