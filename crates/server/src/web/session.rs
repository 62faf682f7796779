//! Browser sessions: the API's own tokens, kept in cookies the page's scripts cannot
//! read (`HttpOnly`), sent only to this site (`SameSite=Strict`) and only over HTTPS
//! when the server is reached over HTTPS. A request authenticated by cookie that
//! changes anything must also carry the session's anti-forgery token in
//! `X-CSRF-Token`; requests with a bearer token never look at cookies.

use crate::auth::config;
use crate::auth::extract::{Auth, AuthAny, RequestMeta, Terminal};
use crate::auth::principal::Actor;
use crate::auth::session::TokenResponse;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::routes::auth::{self, LoginBody, PinBody, RefreshBody};
use crate::routes::devices::{self, NewDeviceBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use comanda_domain::{StoreId, clock};
use serde_json::json;
use subtle::ConstantTimeEq;

pub const ACCESS_COOKIE: &str = "comanda_access";
pub const REFRESH_COOKIE: &str = "comanda_refresh";
pub const LANG_COOKIE: &str = "comanda_lang";
/// A browser registered as a store's terminal: where staff sign in with their PIN.
pub const DEVICE_COOKIE: &str = "comanda_device";
/// A terminal stays registered until a manager revokes it.
const DEVICE_COOKIE_SECONDS: i64 = 5 * 365 * 24 * 3600;
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The refresh token goes only to the endpoint that uses it.
const REFRESH_PATH: &str = "/app/session";

/// The value of cookie `name`, if the request has it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// The access token of a browser session.
pub fn access_token(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, ACCESS_COOKIE)
}

/// Refuses a cookie-authenticated change without the session's anti-forgery token.
pub fn check_csrf(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
    actor: &Actor,
) -> Result<(), ApiError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let forged = || {
        ApiError::forbidden(
            "csrf_failed",
            "this change needs the page's X-CSRF-Token header; reload the page",
        )
    };
    let session = actor.session_id.ok_or_else(forged)?;
    let expected = state.signing_key()?.csrf_token(session.as_uuid());
    let sent = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(forged)?;
    if bool::from(sent.as_bytes().ct_eq(expected.as_bytes())) {
        Ok(())
    } else {
        Err(forged())
    }
}

/// Sign-in, refresh and sign-out are posted only by this site's own pages, reached at a
/// name this server answers to: the `Host` must be one of the allowed origins' (or, with
/// none configured, an IP address or `localhost`, which no other site can make a browser
/// send), and the `Origin` a browser names must be that very origin, scheme included. So
/// another site can neither sign a victim in as someone else nor, by pointing its own
/// name at this server (DNS rebinding), sign in from the victim's network.
fn same_origin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let allowed = &state.auth.allowed_origins;
    let known_host = if allowed.is_empty() {
        config::is_address(&host)
    } else {
        allowed
            .iter()
            .any(|o| o.split_once("://").is_some_and(|(_, h)| h == host))
    };
    if !known_host {
        return Err(ApiError::forbidden(
            "unknown_host",
            format!(
                "this server does not sign in pages at {host:?}; its operator lists the addresses staff use in COMANDA_ALLOWED_ORIGINS"
            ),
        ));
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        // Not a browser: nothing cross-site to fear.
        return Ok(());
    };
    let origin = origin.trim_end_matches('/').to_ascii_lowercase();
    let expected = if allowed.is_empty() {
        let scheme = if over_https(headers) { "https" } else { "http" };
        origin == format!("{scheme}://{host}")
    } else {
        allowed.contains(&origin) && origin.ends_with(&format!("://{host}"))
    };
    if expected {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "cross_origin",
            "sign-in is accepted only from this server's own pages",
        ))
    }
}

/// Whether the browser reached us over HTTPS (directly or through a proxy that says so).
fn over_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

fn set_cookie(name: &str, value: &str, path: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!(
        "{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn with_cookies(mut response: Response, cookies: [HeaderValue; 2]) -> Response {
    for cookie in cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The session's cookies and what the page needs to go on.
fn signed_in(state: &AppState, headers: &HeaderMap, tokens: &TokenResponse) -> Response {
    let secure = over_https(headers);
    let session_left = (tokens.session_expires_at - clock::now())
        .num_seconds()
        .max(0);
    let csrf = state
        .signing_key()
        .map(|k| k.csrf_token(tokens.session_id.as_uuid()))
        .unwrap_or_default();
    let body = Json(json!({
        "csrf": csrf,
        "expires_in": tokens.expires_in,
        "requires": tokens.requires,
    }));
    with_cookies(
        body.into_response(),
        [
            set_cookie(
                ACCESS_COOKIE,
                &tokens.access_token,
                "/",
                i64::try_from(tokens.expires_in).unwrap_or(900),
                secure,
            ),
            set_cookie(
                REFRESH_COOKIE,
                &tokens.refresh_token,
                REFRESH_PATH,
                session_left,
                secure,
            ),
        ],
    )
}

fn cleared(response: Response, headers: &HeaderMap) -> Response {
    let secure = over_https(headers);
    with_cookies(
        response,
        [
            set_cookie(ACCESS_COOKIE, "", "/", 0, secure),
            set_cookie(REFRESH_COOKIE, "", REFRESH_PATH, 0, secure),
        ],
    )
}

/// `POST /app/session`: signs in with login, password and (for accounts that have one)
/// the authenticator code, exactly as `POST /api/v1/auth/login` does.
pub async fn sign_in(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: ApiJson<LoginBody>,
) -> Result<Response, ApiError> {
    same_origin(&state, &headers)?;
    let Json(tokens) = auth::login(State(state.clone()), meta, body).await?;
    Ok(signed_in(&state, &headers, &tokens))
}

/// `POST /app/session/refresh`: a new access token from the refresh cookie (rotated).
pub async fn refresh(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    same_origin(&state, &headers)?;
    let Some(token) = cookie(&headers, REFRESH_COOKIE) else {
        return Err(ApiError::unauthorized(
            "invalid_refresh_token",
            "no session in this browser; sign in again",
        ));
    };
    let body = RefreshBody::new(token.to_owned());
    match auth::refresh(State(state.clone()), meta, ApiJson(body)).await {
        Ok(Json(tokens)) => Ok(signed_in(&state, &headers, &tokens)),
        Err(e) => Ok(cleared(e.into_response(), &headers)),
    }
}

/// `POST /app/session/logout`: ends the session and forgets its cookies.
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: AuthAny,
) -> Result<Response, ApiError> {
    same_origin(&state, &headers)?;
    let status = auth::logout(State(state), auth).await?;
    Ok(cleared(status.into_response(), &headers))
}

/// `POST /app/session/pin`: a member of staff signs in with their PIN on this browser,
/// which must be a registered terminal, exactly as `POST /api/v1/auth/pin` does.
pub async fn pin_sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    terminal: Terminal,
    body: ApiJson<PinBody>,
) -> Result<Response, ApiError> {
    same_origin(&state, &headers)?;
    let Json(tokens) = auth::pin_login(State(state.clone()), terminal, body).await?;
    Ok(signed_in(&state, &headers, &tokens))
}

/// `POST /app/stores/{store_id}/terminal`: a manager registers this browser as one of
/// the store's terminals; its token goes into a cookie no script can read.
pub async fn register_terminal(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: Auth,
    path: ApiPath<StoreId>,
    body: ApiJson<NewDeviceBody>,
) -> Result<Response, ApiError> {
    let crate::contract::outputs::Created(registered) =
        devices::register(State(state), auth, path, body).await?;
    let cookie = format!(
        "{DEVICE_COOKIE}={}; Path=/; Max-Age={DEVICE_COOKIE_SECONDS}; HttpOnly; SameSite=Strict{}",
        registered.token,
        if over_https(&headers) { "; Secure" } else { "" }
    );
    let mut response = (
        axum::http::StatusCode::CREATED,
        Json(json!({ "device": registered.device })),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}
