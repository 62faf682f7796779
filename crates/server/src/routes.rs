use crate::error::ApiError;
use crate::readiness::Phase;
use crate::state::AppState;
use crate::{health, metrics, observe};
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::any::Any;
use tower_http::catch_panic::CatchPanicLayer;

/// The whole HTTP surface. Layers, outermost first: request id + access log, then per
/// route: metrics, panic guard.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/", get(api_index))
        .layer(middleware::from_fn_with_state(state.clone(), require_ready));

    Router::new()
        .route("/live", get(health::live))
        .route("/ready", get(health::ready))
        .route("/health", get(health::health))
        .route("/metrics", get(metrics::endpoint))
        .nest("/api/v1", api)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(middleware::from_fn(observe::observe))
        .with_state(state)
}

/// The API answers 503 until start-up (migrations, first-run setup) has finished, so a
/// request never meets a half-built schema.
async fn require_ready(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match state.readiness.phase() {
        Phase::Serving => next.run(req).await,
        Phase::Starting { reason } => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            format!("server is starting: {reason}"),
        )
        .retry_after(2)
        .into_response(),
    }
}

async fn api_index(State(state): State<AppState>) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({
        "service": "comanda",
        "version": state.build.version,
        "api": "v1",
    }))
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!("no route for {method} {}", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{method} is not allowed on {}", uri.path()),
    )
}

fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    tracing::error!(panic = %message, "handler panicked");
    ApiError::internal().into_response()
}
