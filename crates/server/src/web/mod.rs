//! The web apps served by the binary itself: the POS terminal, the kitchen screen and
//! the back office, in the reader's language, with their scripts and styles compiled in.
//! No build step and no second server: `comanda serve` is the whole product.

mod assets;
pub mod i18n;
mod pages;
pub mod session;

use crate::state::AppState;
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{Redirect, Response};
use axum::routing::{get, post};

/// Scripts and styles come only from this server, no page may frame ours, and
/// nothing inline runs: an injected `<script>` is inert.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        // Pages carry a session's token: never kept by a shared cache.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// `/app/...` and `/assets/...`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/app") }))
        .route("/app", get(pages::home))
        .route("/app/login", get(pages::login))
        .route("/app/account", get(pages::account))
        .route("/app/session", post(session::sign_in))
        .route("/app/session/refresh", post(session::refresh))
        .route("/app/session/logout", post(session::sign_out))
        .route("/app/session/pin", post(session::pin_sign_in))
        .route("/app/pin", get(pages::pin))
        .route(
            "/app/stores/{store_id}/terminal",
            post(session::register_terminal),
        )
        .route("/app/stores/{store_id}/pos", get(pages::pos))
        .route("/app/stores/{store_id}/kds", get(pages::kds_default))
        .route("/app/stores/{store_id}/kds/{station}", get(pages::kds))
        .route("/app/stores/{store_id}/office", get(pages::office))
        .route("/assets/{file}", get(assets::serve))
        .layer(middleware::from_fn(security_headers))
}
