//! Signing in and out: password (+ TOTP), refresh-token rotation, staff PIN on a
//! registered terminal.

use crate::audit;
use crate::auth::extract::{AuthAny, RequestMeta, Terminal};
use crate::auth::limiter::{Decision, Rate};
use crate::auth::session::{self, TokenResponse};
use crate::auth::tokens::{OpaqueToken, TokenKind};
use crate::auth::totp;
use crate::auth::vault::TOTP;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::password;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::response::NoContent;
use comanda_domain::identity::{SecurityEventKind, SessionKind};
use comanda_domain::{Login, Role, Sealed, Secret, User, UserId, clock};
use comanda_store::{Limit, Rotation, UserFilter};
use serde::{Deserialize, Serialize};

async fn throttle(state: &AppState, key: &str, rate: Rate, cost: u32) -> Result<(), ApiError> {
    match state.limiter.take(key, rate, cost).await {
        Decision::Allowed => Ok(()),
        Decision::Limited { retry_after } => Err(ApiError::too_many_requests(retry_after)),
    }
}

fn ip_key(kind: &str, meta: &RequestMeta) -> String {
    format!(
        "{kind}:ip:{}",
        meta.ip
            .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
    )
}

/// Every attempt costs the client's IP a token. An account's failures are counted per
/// client address: a guesser is stopped after a handful of misses from where they are,
/// while the account's owner, signing in from elsewhere, is not locked out by them. An
/// account that many addresses are guessing at is slowed down instead (each attempt on it
/// waits before it is checked), never locked.
async fn throttle_attempt(
    state: &AppState,
    meta: &RequestMeta,
    login: &str,
) -> Result<(), ApiError> {
    let outcome = match throttle(state, &ip_key("login", meta), state.auth.login_per_ip, 1).await {
        Ok(()) => check_account(state, login, meta).await,
        limited => limited,
    };
    // Throttled attempts are the ones the limiter does not bound, so each must not cost a
    // write: the log gets one entry per IP and login per minute.
    let log_key = format!("{}:{login}", ip_key("throttle-log", meta));
    let log = || state.throttle_log.take(&log_key, THROTTLE_LOG_RATE, 1) == Decision::Allowed;
    if outcome.is_err() && log() {
        audit::entry(SecurityEventKind::LoginThrottled, meta)
            .login(login)
            .record_later(state);
    }
    outcome?;
    if slowed(state, login).await {
        if log() {
            audit::entry(SecurityEventKind::LoginThrottled, meta)
                .login(login)
                .detail("slowed_ms", SLOW_DOWN.as_millis() as u64)
                .record_later(state);
        }
        tokio::time::sleep(SLOW_DOWN).await;
    }
    Ok(())
}

const THROTTLE_LOG_RATE: Rate = Rate::new(1, std::time::Duration::from_secs(60));

/// How long each attempt on an account under a spread-out attack waits.
const SLOW_DOWN: std::time::Duration = std::time::Duration::from_secs(1);

/// The bucket that counts one account's failed sign-ins (and failed password re-entries)
/// from one client address.
fn account_key(login: &str, meta: &RequestMeta) -> String {
    let ip = meta
        .ip
        .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    format!("login:account:{login}:{ip}")
}

/// The bucket of one account's failures from every address together.
fn account_wide_key(login: &str) -> String {
    format!("login:account-wide:{login}")
}

/// Ten addresses' worth of failures before an account is slowed down.
fn account_wide_rate(state: &AppState) -> Rate {
    let per_address = state.auth.login_per_account;
    Rate::new(per_address.burst.saturating_mul(10), per_address.per)
}

async fn slowed(state: &AppState, login: &str) -> bool {
    let key = account_wide_key(login);
    let decision = state.limiter.take(&key, account_wide_rate(state), 0).await;
    matches!(decision, Decision::Limited { .. })
}

/// Refuses with 429 while the failure budget of `key` (a PIN on one terminal, say) is
/// spent.
pub(crate) async fn check_failures(state: &AppState, key: &str) -> Result<(), ApiError> {
    throttle(state, key, state.auth.login_per_account, 0).await
}

/// Counts a failure against `key`.
pub(crate) async fn charge_failures(state: &AppState, key: &str) {
    let _ = state
        .limiter
        .take(key, state.auth.login_per_account, 1)
        .await;
}

/// Refuses with 429 while this address's failure budget on the account is spent.
pub(crate) async fn check_account(
    state: &AppState,
    login: &str,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    check_failures(state, &account_key(login, meta)).await
}

/// Counts a failure against the account, from this address and from all together.
pub(crate) async fn charge_failure(state: &AppState, login: &str, meta: &RequestMeta) {
    charge_failures(state, &account_key(login, meta)).await;
    let wide = account_wide_key(login);
    let _ = state.limiter.take(&wide, account_wide_rate(state), 1).await;
}

fn wrong_credentials() -> ApiError {
    ApiError::unauthorized("invalid_credentials", "wrong login or password")
}

/// A person's TOTP secret, opened. A secret this server cannot open (its key was not
/// configured, or the value was damaged) is the server's failure, not the caller's.
pub(crate) fn open_totp(
    state: &AppState,
    user: &User,
    sealed: &Sealed,
) -> Result<Secret, ApiError> {
    state
        .vault()
        .open(TOTP, user.id.as_uuid(), sealed)
        .map_err(|error| {
            tracing::error!(%error, user = %user.id, "cannot open a TOTP secret");
            ApiError::internal()
        })
}

/// Checks a TOTP code (never the same time step twice) or spends a recovery code. A
/// recovery code needs no secret opened: it still works on a server whose key for
/// secrets at rest is lost.
pub(crate) async fn second_factor_ok(
    state: &AppState,
    user: &User,
    sealed: &Sealed,
    code: &str,
    meta: &RequestMeta,
) -> Result<bool, ApiError> {
    if totp::looks_like_recovery_code(code) {
        let used = state
            .storage
            .use_recovery_code(user.id, &totp::recovery_hash(code))
            .await?;
        if used {
            audit::entry(SecurityEventKind::RecoveryCodeUsed, meta)
                .by_user(user.id)
                .about(user.id)
                .record(state)
                .await;
        }
        return Ok(used);
    }
    let secret = open_totp(state, user, sealed)?;
    match totp::verify(&secret, code, clock::now().timestamp()) {
        Some(step) => Ok(state.storage.advance_totp_step(user.id, step).await?),
        None => Ok(false),
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    login: String,
    password: String,
    /// A 6-digit TOTP code or a recovery code, for accounts with a second factor.
    totp: Option<String>,
}

pub async fn login(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Json<TokenResponse>, ApiError> {
    let typed = body.login.trim().to_lowercase();
    throttle_attempt(&state, &meta, &typed).await?;

    let password = Secret::new(body.password);
    let user = match Login::parse("login", &typed) {
        Ok(login) => state.storage.find_user_by_login(&login).await?,
        Err(_) => None,
    };
    let fail = |reason: &'static str, user: Option<UserId>| {
        let mut entry = audit::entry(SecurityEventKind::LoginFailed, &meta)
            .login(&typed)
            .detail("reason", reason);
        if let Some(id) = user {
            entry = entry.about(id);
        }
        entry
    };
    let Some(user) = user else {
        // Same work as a wrong password, so the answer's timing does not reveal accounts.
        password::verify(&password, password::dummy_hash().await).await;
        charge_failure(&state, &typed, &meta).await;
        fail("unknown_login", None).record(&state).await;
        return Err(wrong_credentials());
    };
    if !password::verify(&password, &user.password_hash).await {
        charge_failure(&state, &typed, &meta).await;
        fail("wrong_password", Some(user.id)).record(&state).await;
        return Err(wrong_credentials());
    }
    if user.disabled {
        fail("disabled", Some(user.id)).record(&state).await;
        return Err(ApiError::forbidden(
            "account_disabled",
            "this account is disabled",
        ));
    }
    let mfa_verified = match &user.totp_secret {
        None => false,
        Some(sealed) => {
            let Some(code) = body
                .totp
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
            else {
                return Err(ApiError::unauthorized(
                    "totp_required",
                    "enter the code from your authenticator app",
                ));
            };
            if !second_factor_ok(&state, &user, sealed, code, &meta).await? {
                charge_failure(&state, &typed, &meta).await;
                fail("wrong_totp", Some(user.id)).record(&state).await;
                return Err(ApiError::unauthorized(
                    "invalid_totp",
                    "the code is wrong, expired or already used",
                ));
            }
            true
        }
    };
    let tokens = session::open(
        &state,
        &user,
        SessionKind::Password,
        None,
        mfa_verified,
        &meta,
    )
    .await?;
    audit::entry(SecurityEventKind::LoginSucceeded, &meta)
        .by_user(user.id)
        .about(user.id)
        .detail("session_id", tokens.session_id.to_string())
        .record(&state)
        .await;
    Ok(Json(tokens))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    refresh_token: String,
}

impl RefreshBody {
    pub fn new(refresh_token: String) -> Self {
        Self { refresh_token }
    }
}

pub async fn refresh(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiJson(body): ApiJson<RefreshBody>,
) -> Result<Json<TokenResponse>, ApiError> {
    throttle(
        &state,
        &ip_key("refresh", &meta),
        state.auth.login_per_ip,
        1,
    )
    .await?;
    let invalid = || {
        ApiError::unauthorized(
            "invalid_refresh_token",
            "the refresh token is not valid; sign in again",
        )
    };
    let (id, secret_hash) =
        OpaqueToken::parse(TokenKind::Refresh, &body.refresh_token).ok_or_else(invalid)?;
    let successor = state.signing_key()?.successor_secret(&secret_hash);
    let (next, stored) = session::stored_refresh_token(
        &state,
        OpaqueToken::from_secret(TokenKind::Refresh, uuid::Uuid::now_v7(), successor),
    );
    let grace = chrono::Duration::from_std(state.auth.refresh_reuse_grace)
        .unwrap_or(chrono::Duration::zero());
    let (session, next) = match state
        .storage
        .rotate_refresh_token(id, &secret_hash, &stored, grace)
        .await?
    {
        Rotation::Rotated(session) => (session, next),
        // The same token spent a moment ago by a request made at the same time (two tabs,
        // a page reloading while its stream renewed): both get the one successor.
        Rotation::Replayed {
            session,
            successor: successor_id,
        } => (
            session,
            OpaqueToken::from_secret(TokenKind::Refresh, successor_id, successor),
        ),
        Rotation::Reused(session) => {
            state.principals.forget_session(session.id);
            audit::entry(SecurityEventKind::RefreshTokenReused, &meta)
                .about(session.user_id)
                .detail("session_id", session.id.to_string())
                .record(&state)
                .await;
            return Err(ApiError::unauthorized(
                "refresh_token_reused",
                "this refresh token was already used; the session has been ended for safety",
            ));
        }
        Rotation::Invalid => return Err(invalid()),
    };
    let user = state
        .storage
        .get_user(session.user_id)
        .await?
        .filter(|u| !u.disabled);
    let Some(user) = user else {
        state
            .storage
            .revoke_session(session.id, "user disabled")
            .await?;
        return Err(invalid());
    };
    Ok(Json(session::tokens(&state, &user, &session, next)?))
}

pub async fn logout(State(state): State<AppState>, auth: AuthAny) -> Result<NoContent, ApiError> {
    if let Some(session) = auth.actor.session_id {
        state.storage.revoke_session(session, "logout").await?;
        state.principals.forget_session(session);
        audit::entry(SecurityEventKind::LoggedOut, &auth.meta)
            .by(&auth.actor)
            .record(&state)
            .await;
    }
    Ok(NoContent)
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PinBody {
    user_id: UserId,
    pin: String,
}

/// Staff sign-in on a registered terminal: tap your name, type your PIN. The session acts
/// only in the terminal's store. Owners and admins must use their password and code.
pub async fn pin_login(
    State(state): State<AppState>,
    terminal: Terminal,
    ApiJson(body): ApiJson<PinBody>,
) -> Result<Json<TokenResponse>, ApiError> {
    let meta = &terminal.meta;
    let device = &terminal.device;
    let account_key = format!("pin:{}:{}", device.id, body.user_id);
    throttle(&state, &ip_key("login", meta), state.auth.login_per_ip, 1).await?;
    check_failures(&state, &account_key).await?;

    let pin = Secret::new(body.pin);
    let user = state
        .storage
        .get_user(body.user_id)
        .await?
        .filter(|u| u.can_access(device.store_id) && !u.disabled);
    if user.as_ref().is_some_and(|u| u.role.is_privileged()) {
        return Err(ApiError::forbidden(
            "pin_login_not_allowed",
            "owners and admins sign in with their password and code",
        ));
    }
    let stored = user.as_ref().and_then(|u| u.pin_hash.as_ref());
    let verified = match stored {
        Some(hash) => password::verify(&pin, hash).await,
        None => {
            password::verify(&pin, password::dummy_hash().await).await;
            false
        }
    };
    let (Some(user), true) = (user, verified) else {
        charge_failures(&state, &account_key).await;
        audit::entry(SecurityEventKind::PinLoginFailed, meta)
            .about(body.user_id)
            .in_store(device.store_id)
            .detail("device_id", device.id.to_string())
            .record(&state)
            .await;
        return Err(ApiError::unauthorized("invalid_credentials", "wrong PIN"));
    };
    let tokens = session::open(
        &state,
        &user,
        SessionKind::Pin,
        Some(device.id),
        false,
        meta,
    )
    .await?;
    audit::entry(SecurityEventKind::PinLoginSucceeded, meta)
        .by_user(user.id)
        .about(user.id)
        .in_store(device.store_id)
        .detail("device_id", device.id.to_string())
        .record(&state)
        .await;
    Ok(Json(tokens))
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct StaffTile {
    id: UserId,
    display_name: String,
    role: Role,
}

/// Who can sign in with a PIN on this terminal: the names a POS shows as tiles.
pub async fn terminal_staff(
    State(state): State<AppState>,
    terminal: Terminal,
) -> Result<Json<Vec<StaffTile>>, ApiError> {
    let filter = UserFilter {
        store: Some(terminal.device.store_id),
        ..UserFilter::default()
    };
    let page = state
        .storage
        .list_users(&filter, None, Limit::new(Some(Limit::MAX)))
        .await?;
    Ok(Json(
        page.items
            .into_iter()
            .filter(|u| u.pin_hash.is_some() && !u.disabled && !u.role.is_privileged())
            .map(|u| StaffTile {
                id: u.id,
                display_name: u.display_name.into(),
                role: u.role,
            })
            .collect(),
    ))
}
