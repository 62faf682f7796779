//! Extractors that authenticate a request. A handler that takes [`Auth`] cannot run for
//! an anonymous caller, an expired or revoked session, or a user who still owes a
//! password change or a second factor; [`AuthAny`] admits the last two, and is used only
//! by the handlers that let them settle it.

use super::principal::{Actor, Restriction};
use super::tokens::{OpaqueToken, TokenError, TokenKind};
use crate::error::ApiError;
use crate::observe::REQUEST_ID;
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use comanda_domain::identity::Device;
use comanda_domain::{ApiKeyId, DeviceId, SessionId, UserId, clock};
use serde_json::json;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Where a request came from, for the security log and rate limits.
#[derive(Clone, Debug, Default)]
pub struct RequestMeta {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

impl RequestMeta {
    pub fn from_parts(parts: &Parts, trusted_proxies: &[IpAddr]) -> Self {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let header_text = |name: &str, max: usize| -> Option<String> {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.chars().take(max).collect())
        };
        Self {
            ip: peer.map(|peer| client_ip(peer, &parts.headers, trusted_proxies)),
            user_agent: header_text("user-agent", 200),
            request_id: header_text(REQUEST_ID.as_str(), 128),
        }
    }

    pub fn ip_text(&self) -> Option<String> {
        self.ip.map(|ip| ip.to_string())
    }
}

/// The client's address: the peer, or, when the peer is a trusted proxy, the last
/// address in `X-Forwarded-For` that is not itself a trusted proxy.
fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|part| part.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    forwarded
        .into_iter()
        .rev()
        .find(|ip| !trusted.contains(ip))
        .unwrap_or(peer)
}

impl FromRequestParts<AppState> for RequestMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self::from_parts(parts, &state.auth.trusted_proxies))
    }
}

fn unauthenticated(code: &'static str, message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, code, message)
        .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
}

pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Resolves a bearer credential (access token or API key) to an actor. Public so the
/// benchmark can measure exactly what every request pays.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Arc<Actor>, ApiError> {
    if OpaqueToken::looks_like(TokenKind::ApiKey, token) {
        return authenticate_api_key(state, token).await;
    }
    let keys = state.signing_key()?;
    let claims = keys
        .verify(token, clock::now().timestamp())
        .map_err(|e| match e {
            TokenError::Expired => {
                unauthenticated("token_expired", "the access token has expired; refresh it")
            }
            TokenError::Malformed | TokenError::BadSignature => {
                unauthenticated("unauthenticated", "invalid access token")
            }
        })?;
    let session_id = SessionId::from_uuid(claims.sid);
    if let Some(actor) = state.principals.session(session_id)
        && actor.user_id == Some(UserId::from_uuid(claims.sub))
    {
        return Ok(actor);
    }
    let revoked = || unauthenticated("session_revoked", "this session has ended; sign in again");
    let session = state
        .storage
        .get_session(session_id)
        .await?
        .ok_or_else(revoked)?;
    if !session.is_active(clock::now()) || session.user_id.as_uuid() != claims.sub {
        return Err(revoked());
    }
    let user = state
        .storage
        .get_user(session.user_id)
        .await?
        .ok_or_else(revoked)?;
    if user.disabled {
        return Err(revoked());
    }
    let terminal_store = match session.device_id {
        Some(device) => state
            .storage
            .get_device(device)
            .await?
            .filter(|d| d.revoked_at.is_none())
            .map(|d| d.store_id),
        None => None,
    };
    if session.device_id.is_some() && terminal_store.is_none() {
        return Err(revoked());
    }
    let actor = Arc::new(Actor::for_session(&session, &user, terminal_store));
    state.principals.remember_session(session_id, actor.clone());
    Ok(actor)
}

async fn authenticate_api_key(state: &AppState, token: &str) -> Result<Arc<Actor>, ApiError> {
    let invalid = || unauthenticated("unauthenticated", "invalid API key");
    let (id, secret_hash) = OpaqueToken::parse(TokenKind::ApiKey, token).ok_or_else(invalid)?;
    let id = ApiKeyId::from_uuid(id);
    if let Some(actor) = state.principals.api_key(id, &secret_hash) {
        return Ok(actor);
    }
    let key = state
        .storage
        .find_api_key(id, &secret_hash)
        .await?
        .ok_or_else(invalid)?;
    if !key.is_active(clock::now()) {
        return Err(invalid());
    }
    // Written at most once per cache period, not on every request.
    state.storage.touch_api_key(id).await?;
    let actor = Arc::new(Actor::for_api_key(&key));
    state
        .principals
        .remember_api_key(id, secret_hash, actor.clone());
    Ok(actor)
}

async fn actor_of(parts: &Parts, state: &AppState) -> Result<Arc<Actor>, ApiError> {
    request_actor(state, &parts.method, &parts.headers).await
}

/// Who a request acts as: its bearer credential, or its session cookie together with the
/// session's anti-forgery token for a change. Every layer that needs the caller (the
/// idempotency keys too) asks this, so none can act for a forged request.
pub async fn request_actor(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Arc<Actor>, ApiError> {
    if let Some(token) = bearer(headers) {
        return authenticate(state, token).await;
    }
    let token = crate::web::session::access_token(headers)
        .ok_or_else(|| unauthenticated("unauthenticated", "sign in first"))?;
    let actor = authenticate(state, token).await?;
    crate::web::session::check_csrf(state, method, headers, &actor)?;
    Ok(actor)
}

/// An authenticated caller with nothing left to settle.
pub struct Auth {
    pub actor: Arc<Actor>,
    pub meta: RequestMeta,
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let actor = actor_of(parts, state).await?;
        if let Some(restriction) = actor.restriction {
            let message = match restriction {
                Restriction::PasswordChangeRequired => {
                    "choose a new password first (POST /api/v1/me/password)"
                }
                Restriction::TotpRequired => {
                    "set up two-factor authentication first (POST /api/v1/me/totp), or sign in with your code"
                }
            };
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                restriction.code(),
                message,
            ));
        }
        Ok(Self {
            actor,
            meta: RequestMeta::from_parts(parts, &state.auth.trusted_proxies),
        })
    }
}

/// The refusal for an API key on a route that is for people.
pub fn users_only() -> ApiError {
    ApiError::forbidden("users_only", "this is for people, not API keys")
}

/// The actor, if it is a person.
fn person(actor: Arc<Actor>) -> Result<Arc<Actor>, ApiError> {
    if actor.user_id.is_none() {
        return Err(users_only());
    }
    Ok(actor)
}

/// A person (not an API key) with nothing left to settle: for the `/me` routes.
pub struct Person {
    pub actor: Arc<Actor>,
    pub meta: RequestMeta,
}

impl FromRequestParts<AppState> for Person {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Auth { actor, meta } = Auth::from_request_parts(parts, state).await?;
        Ok(Self {
            actor: person(actor)?,
            meta,
        })
    }
}

/// An authenticated user who may still owe a password change or a second factor.
pub struct AuthAny {
    pub actor: Arc<Actor>,
    pub meta: RequestMeta,
}

impl FromRequestParts<AppState> for AuthAny {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let actor = person(actor_of(parts, state).await?)?;
        Ok(Self {
            actor,
            meta: RequestMeta::from_parts(parts, &state.auth.trusted_proxies),
        })
    }
}

pub const DEVICE_TOKEN: &str = "x-device-token";

/// A registered, unrevoked POS terminal (`X-Device-Token`).
pub struct Terminal {
    pub device: Device,
    pub meta: RequestMeta,
}

impl FromRequestParts<AppState> for Terminal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let invalid = || {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_device",
                "this terminal is not registered or was revoked",
            )
            .with_details(json!({ "header": DEVICE_TOKEN }))
        };
        // A browser registered as a terminal keeps its token in a cookie.
        let token = parts
            .headers
            .get(DEVICE_TOKEN)
            .and_then(|v| v.to_str().ok())
            .or_else(|| {
                crate::web::session::cookie(&parts.headers, crate::web::session::DEVICE_COOKIE)
            })
            .ok_or_else(invalid)?;
        let (id, secret_hash) = OpaqueToken::parse(TokenKind::Device, token).ok_or_else(invalid)?;
        let device = state
            .storage
            .find_device(DeviceId::from_uuid(id), &secret_hash)
            .await?
            .filter(|d| d.revoked_at.is_none())
            .ok_or_else(invalid)?;
        Ok(Self {
            device,
            meta: RequestMeta::from_parts(parts, &state.auth.trusted_proxies),
        })
    }
}

/// Who may read what a terminal sells (the menu): a signed-in person or key with the
/// permission, or a registered terminal of that store by its device token alone, so a
/// till can load its menu before anyone signs in on it.
pub enum StoreReader {
    Actor(Auth),
    Terminal(Terminal),
}

impl FromRequestParts<AppState> for StoreReader {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let has_bearer = parts.headers.contains_key(header::AUTHORIZATION);
        if !has_bearer && parts.headers.contains_key(DEVICE_TOKEN) {
            return Terminal::from_request_parts(parts, state)
                .await
                .map(Self::Terminal);
        }
        Auth::from_request_parts(parts, state)
            .await
            .map(Self::Actor)
    }
}

impl StoreReader {
    pub fn require_in(
        &self,
        state: &AppState,
        permission: comanda_domain::Permission,
        store: comanda_domain::StoreId,
    ) -> Result<(), ApiError> {
        match self {
            StoreReader::Actor(auth) => auth.require_in(state, permission, store),
            StoreReader::Terminal(t) if t.device.store_id == store => Ok(()),
            StoreReader::Terminal(_) => Err(super::authorize::store_forbidden(store)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.2".parse().expect("ip");
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("198.51.100.9, 203.0.113.5, 10.0.0.2"),
        );
        assert_eq!(
            client_ip(proxy, &headers, &[]),
            proxy,
            "untrusted peer: header ignored"
        );
        let client: IpAddr = "203.0.113.5".parse().expect("ip");
        assert_eq!(client_ip(proxy, &headers, &[proxy]), client);
        let spoofer: IpAddr = "192.0.2.1".parse().expect("ip");
        assert_eq!(client_ip(spoofer, &headers, &[proxy]), spoofer);
    }

    #[test]
    fn bearer_tokens_are_read_case_insensitively() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer abc.def"),
        );
        assert_eq!(bearer(&headers), Some("abc.def"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic xyz"));
        assert_eq!(bearer(&headers), None);
    }
}
