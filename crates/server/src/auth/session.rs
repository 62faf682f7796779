//! Opening a session and handing out its tokens.

use super::extract::RequestMeta;
use super::tokens::{AccessClaims, OpaqueToken, TokenKind};
use crate::error::ApiError;
use crate::state::AppState;
use chrono::Duration as ChronoDuration;
use comanda_domain::identity::{NewRefreshToken, NewSession, Session, SessionKind};
use comanda_domain::{DeviceId, SessionId, User, clock};
use serde::Serialize;

/// What sign-in and refresh return.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    pub refresh_token: String,
    pub session_id: SessionId,
    pub session_expires_at: chrono::DateTime<chrono::Utc>,
    /// What the user must do before anything else: `password_change`, `totp_enrolment`.
    pub requires: Vec<&'static str>,
}

fn chrono(d: std::time::Duration) -> ChronoDuration {
    ChronoDuration::from_std(d).unwrap_or(ChronoDuration::days(1))
}

pub fn new_refresh_token(state: &AppState) -> (OpaqueToken, NewRefreshToken) {
    stored_refresh_token(state, OpaqueToken::generate(TokenKind::Refresh))
}

/// `token` as the refresh token of a session, with this server's lifetime.
pub fn stored_refresh_token(
    state: &AppState,
    token: OpaqueToken,
) -> (OpaqueToken, NewRefreshToken) {
    let stored = NewRefreshToken {
        id: token.id,
        secret_hash: token.secret_hash,
        expires_at: clock::now() + chrono(state.auth.refresh_ttl),
    };
    (token, stored)
}

pub fn requirements(user: &User, session: &Session) -> Vec<&'static str> {
    let mut requires = Vec::new();
    // A PIN at a registered terminal is the credential a manager set up for it; the
    // password, and its first change, belong to password sign-ins.
    if user.must_change_password && session.kind == SessionKind::Password {
        requires.push("password_change");
    }
    if user.role.is_privileged() && !(user.totp_enabled() && session.mfa_verified) {
        requires.push("totp_enrolment");
    }
    requires
}

/// The access token for `session` plus the refresh token just stored for it.
pub fn tokens(
    state: &AppState,
    user: &User,
    session: &Session,
    refresh: OpaqueToken,
) -> Result<TokenResponse, ApiError> {
    let now = clock::now();
    let ttl = state.auth.access_ttl;
    let claims = AccessClaims {
        sub: user.id.as_uuid(),
        sid: session.id.as_uuid(),
        iat: now.timestamp(),
        exp: now.timestamp() + i64::try_from(ttl.as_secs()).unwrap_or(900),
    };
    Ok(TokenResponse {
        access_token: state.signing_key()?.issue(&claims),
        token_type: "Bearer",
        expires_in: ttl.as_secs(),
        refresh_token: refresh.text,
        session_id: session.id,
        session_expires_at: session.expires_at,
        requires: requirements(user, session),
    })
}

pub async fn open(
    state: &AppState,
    user: &User,
    kind: SessionKind,
    device: Option<DeviceId>,
    mfa_verified: bool,
    meta: &RequestMeta,
) -> Result<TokenResponse, ApiError> {
    let lifetime = match kind {
        SessionKind::Password => state.auth.refresh_ttl,
        SessionKind::Pin => state.auth.pin_session_ttl,
    };
    let new = NewSession {
        id: SessionId::new(),
        user_id: user.id,
        kind,
        device_id: device,
        mfa_verified,
        expires_at: clock::now() + chrono(lifetime),
        ip: meta.ip_text(),
        user_agent: meta.user_agent.clone(),
    };
    let (refresh, stored) = new_refresh_token(state);
    let session = state.storage.create_session(&new, &stored).await?;
    tokens(state, user, &session, refresh)
}
