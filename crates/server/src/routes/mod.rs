//! The HTTP surface. API routes are declared through [`Api`], which records each method
//! and path as it adds them, so tests can prove that every route is covered by the
//! authorization table (`api_routes()`).

pub(crate) mod auth;
mod card;
mod catalog;
mod catalog_io;
mod catalog_share;
mod catering;
pub(crate) mod devices;
mod floor;
mod kds;
mod me;
mod menu;
pub(crate) mod orders;
mod payments;
mod reports;
mod security_log;
mod service_days;
mod shifts;
mod stock;
mod stores;
mod users;
mod views;
mod webhooks;

use crate::error::ApiError;
use crate::readiness::Phase;
use crate::state::AppState;
use crate::state::RequestDeadlines;
use crate::{contract, health, idempotency, metrics, observe};
use aide::axum::ApiRouter;
use aide::axum::routing::{self, ApiMethodRouter};
use aide::operation::OperationHandler;
use aide::transform::TransformOperation;
use aide::{OperationInput, OperationOutput};
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::handler::Handler;
use axum::http::{Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::StreamExt;
use std::any::Any;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};
use tower_http::compression::{CompressionLayer, CompressionLevel};

/// Where the API lives.
pub const API_PREFIX: &str = "/api/v1";

/// JSON bodies larger than this are refused with 413 before they are read in full.
const MAX_BODY_BYTES: usize = 256 * 1024;

/// A catalog file: 100,000 products fit with room to spare.
const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteSpec {
    pub method: Method,
    /// The full path template, e.g. `/api/v1/stores/{store_id}`.
    pub path: String,
}

/// A router that remembers what it routes, and documents each route from its handler's
/// types as it adds it (`crate::contract`).
struct Api {
    router: ApiRouter<AppState>,
    routes: Vec<RouteSpec>,
}

/// What a route's document says beyond what its handler's types tell.
type Describe = fn(TransformOperation<'_>) -> TransformOperation<'_>;

impl Api {
    fn new() -> Self {
        // The document is generated on this thread as routes are added; start clean.
        aide::generate::reset_context();
        aide::generate::extract_schemas(true);
        aide::generate::infer_responses(true);
        Self {
            router: ApiRouter::new(),
            routes: Vec::new(),
        }
    }

    fn add(self, method: Method, path: &'static str, route: ApiMethodRouter<AppState>) -> Self {
        self.add_limited(method, path, route, MAX_BODY_BYTES)
    }

    fn add_limited(
        mut self,
        method: Method,
        path: &'static str,
        route: ApiMethodRouter<AppState>,
        limit: usize,
    ) -> Self {
        self.routes.push(RouteSpec {
            method,
            path: format!("{API_PREFIX}{path}")
                .trim_end_matches('/')
                .to_owned(),
        });
        self.router = self.router.api_route(path, with_body_limit(route, limit));
        self
    }

    /// A route taking a file upload rather than a JSON document.
    fn upload<H, I, O, T>(self, path: &'static str, h: H, describe: Describe) -> Self
    where
        H: Handler<T, AppState> + OperationHandler<I, O>,
        I: OperationInput,
        O: OperationOutput,
        T: 'static,
    {
        let route = routing::post_with(h, describe);
        self.add_limited(Method::POST, path, route, MAX_IMPORT_BYTES)
    }
}

/// `get`, `post`, ... for handlers whose types say it all, and `get_with`, ... for those
/// whose document needs a word more (an answer built by hand, a status of their own).
macro_rules! api_methods {
    ($($name:ident, $name_with:ident, $method:ident;)*) => {
        impl Api {
            $(
                fn $name<H, I, O, T>(self, path: &'static str, h: H) -> Self
                where
                    H: Handler<T, AppState> + OperationHandler<I, O>,
                    I: OperationInput,
                    O: OperationOutput,
                    T: 'static,
                {
                    self.$name_with(path, h, |op| op)
                }

                fn $name_with<H, I, O, T>(self, path: &'static str, h: H, describe: Describe) -> Self
                where
                    H: Handler<T, AppState> + OperationHandler<I, O>,
                    I: OperationInput,
                    O: OperationOutput,
                    T: 'static,
                {
                    self.add(Method::$method, path, routing::$name_with(h, describe))
                }
            )*
        }
    };
}

api_methods! {
    get, get_with, GET;
    post, post_with, POST;
    put, put_with, PUT;
    patch, patch_with, PATCH;
    delete, delete_with, DELETE;
}

fn api() -> Api {
    Api::new()
        .get("/", api_index)
        // Signing in and out.
        .post("/auth/login", auth::login)
        .get_with("/openapi.json", contract::serve, contract::answers_document)
        .post_with("/webhooks/stripe", card::webhook, card::describe_webhook)
        .post("/auth/refresh", auth::refresh)
        .post("/auth/logout", auth::logout)
        .post("/auth/pin", auth::pin_login)
        .get("/device/staff", auth::terminal_staff)
        // One's own account.
        .get("/me", me::me)
        .post("/me/password", me::change_password)
        .get("/me/sessions", me::sessions)
        .delete("/me/sessions/{session_id}", me::end_session)
        .post("/me/totp", me::start_totp)
        .post("/me/totp/confirm", me::confirm_totp)
        .delete("/me/totp", me::disable_totp)
        .put("/me/pin", me::set_own_pin)
        .put("/me/locale", me::set_locale)
        // Stores and what belongs to them.
        .get("/stores", stores::list)
        .post("/stores", stores::create)
        .get("/stores/{store_id}", stores::get)
        .patch("/stores/{store_id}", stores::update)
        .get("/stores/{store_id}/users", stores::users)
        .get("/stores/{store_id}/devices", devices::list)
        .post("/stores/{store_id}/devices", devices::register)
        .delete("/stores/{store_id}/devices/{device_id}", devices::revoke)
        // People.
        .get("/users", users::list)
        .post("/users", users::create)
        .get("/users/{user_id}", users::get)
        .patch("/users/{user_id}", users::update)
        .post("/users/{user_id}/disable", users::disable)
        .post("/users/{user_id}/enable", users::enable)
        .post("/users/{user_id}/password", users::reset_password)
        .put("/users/{user_id}/pin", users::set_pin)
        .delete("/users/{user_id}/totp", users::reset_totp)
        // Integrations and oversight.
        .get("/api-keys", devices::list_api_keys)
        .post("/api-keys", devices::create_api_key)
        .delete("/api-keys/{api_key_id}", devices::revoke_api_key)
        .get("/audit/security-events", security_log::list)
        // The catalog of a store.
        .get_with(
            "/stores/{store_id}/catalog/menu",
            menu::menu,
            crate::menu::describe,
        )
        .get("/stores/{store_id}/catalog/settings", catalog::get_settings)
        .put("/stores/{store_id}/catalog/settings", catalog::put_settings)
        .get(
            "/stores/{store_id}/catalog/tax-rates",
            catalog::list_tax_rates,
        )
        .post(
            "/stores/{store_id}/catalog/tax-rates",
            catalog::create_tax_rate,
        )
        .get(
            "/stores/{store_id}/catalog/tax-rates/{tax_rate_id}",
            catalog::get_tax_rate,
        )
        .put(
            "/stores/{store_id}/catalog/tax-rates/{tax_rate_id}",
            catalog::update_tax_rate,
        )
        .delete(
            "/stores/{store_id}/catalog/tax-rates/{tax_rate_id}",
            catalog::archive_tax_rate,
        )
        .get(
            "/stores/{store_id}/catalog/categories",
            catalog::list_categories,
        )
        .post(
            "/stores/{store_id}/catalog/categories",
            catalog::create_category,
        )
        .get(
            "/stores/{store_id}/catalog/categories/{category_id}",
            catalog::get_category,
        )
        .put(
            "/stores/{store_id}/catalog/categories/{category_id}",
            catalog::update_category,
        )
        .delete(
            "/stores/{store_id}/catalog/categories/{category_id}",
            catalog::delete_category,
        )
        .get(
            "/stores/{store_id}/catalog/modifier-groups",
            catalog::list_groups,
        )
        .post(
            "/stores/{store_id}/catalog/modifier-groups",
            catalog::create_group,
        )
        .get(
            "/stores/{store_id}/catalog/modifier-groups/{group_id}",
            catalog::get_group,
        )
        .put(
            "/stores/{store_id}/catalog/modifier-groups/{group_id}",
            catalog::update_group,
        )
        .delete(
            "/stores/{store_id}/catalog/modifier-groups/{group_id}",
            catalog::archive_group,
        )
        .get(
            "/stores/{store_id}/catalog/products",
            catalog::list_products,
        )
        .post(
            "/stores/{store_id}/catalog/products",
            catalog::create_product,
        )
        .get(
            "/stores/{store_id}/catalog/products/{product_id}",
            catalog::get_product,
        )
        .put(
            "/stores/{store_id}/catalog/products/{product_id}",
            catalog::update_product,
        )
        .delete(
            "/stores/{store_id}/catalog/products/{product_id}",
            catalog::archive_product,
        )
        .put(
            "/stores/{store_id}/catalog/products/{product_id}/availability",
            catalog::set_availability,
        )
        .put(
            "/stores/{store_id}/catalog/products/{product_id}/override",
            catalog_share::put_override,
        )
        .delete(
            "/stores/{store_id}/catalog/products/{product_id}/override",
            catalog_share::delete_override,
        )
        .get(
            "/stores/{store_id}/catalog/overrides",
            catalog_share::list_overrides,
        )
        .get(
            "/stores/{store_id}/catalog/source",
            catalog_share::get_source,
        )
        .put(
            "/stores/{store_id}/catalog/source",
            catalog_share::put_source,
        )
        .get_with(
            "/stores/{store_id}/catalog/export",
            catalog_io::export,
            catalog_io::describe_export,
        )
        .upload(
            "/stores/{store_id}/catalog/import",
            catalog_io::import,
            catalog_io::describe_import,
        )
        // The floor.
        .get("/stores/{store_id}/areas", floor::list_areas)
        .post("/stores/{store_id}/areas", floor::create_area)
        .get("/stores/{store_id}/tables", floor::list_tables)
        .post("/stores/{store_id}/tables", floor::create_table)
        .get("/stores/{store_id}/tables/{table_id}", floor::get_table)
        .put("/stores/{store_id}/tables/{table_id}", floor::update_table)
        .get_with(
            "/stores/{store_id}/floor/stream",
            floor::stream,
            contract::answers_events,
        )
        // Orders.
        .get("/stores/{store_id}/order-settings", orders::get_settings)
        .put("/stores/{store_id}/order-settings", orders::put_settings)
        .get_with(
            "/stores/{store_id}/orders",
            orders::list,
            orders::answers_orders,
        )
        .post_with(
            "/stores/{store_id}/orders",
            orders::open,
            orders::answers_new_order,
        )
        .get("/stores/{store_id}/orders/{order_id}", orders::get)
        .post_with(
            "/stores/{store_id}/orders/{order_id}/lines",
            orders::add_lines,
            orders::answers_order,
        )
        .post_with(
            "/stores/{store_id}/orders/{order_id}/lines/{line_id}/remove",
            orders::remove_line,
            orders::answers_order,
        )
        .post_with(
            "/stores/{store_id}/orders/{order_id}/lines/{line_id}/void",
            orders::void_line,
            orders::answers_order,
        )
        .put_with(
            "/stores/{store_id}/orders/{order_id}/lines/{line_id}/discount",
            orders::set_line_discount,
            orders::answers_order,
        )
        .put_with(
            "/stores/{store_id}/orders/{order_id}/discount",
            orders::set_discount,
            orders::answers_order,
        )
        .put_with(
            "/stores/{store_id}/orders/{order_id}/tip",
            orders::set_tip,
            orders::answers_order,
        )
        .put_with(
            "/stores/{store_id}/orders/{order_id}/service",
            orders::set_service,
            orders::answers_order,
        )
        .post_with(
            "/stores/{store_id}/orders/{order_id}/send",
            orders::send_to_kitchen,
            orders::answers_order,
        )
        .post_with(
            "/stores/{store_id}/orders/{order_id}/ready",
            orders::ready,
            orders::answers_order,
        )
        .post_with(
            "/stores/{store_id}/orders/{order_id}/served",
            orders::served,
            orders::answers_order,
        )
        .post_with(
            "/stores/{store_id}/orders/{order_id}/cancel",
            orders::cancel,
            orders::answers_order,
        )
        .post_with(
            "/stores/{store_id}/orders/{order_id}/move",
            orders::move_table,
            orders::answers_order,
        )
        .post_with(
            "/stores/{store_id}/orders/{order_id}/rush",
            orders::rush,
            orders::answers_order,
        )
        .post_with(
            "/stores/{store_id}/orders/{order_id}/fire",
            orders::fire,
            orders::answers_order,
        )
        .post_with(
            "/stores/{store_id}/orders/{order_id}/merge",
            orders::merge,
            orders::answers_order,
        )
        .post_with(
            "/stores/{store_id}/orders/{order_id}/split",
            orders::split,
            orders::answers_order,
        )
        // Paying.
        .post_with(
            "/stores/{store_id}/orders/{order_id}/payments",
            payments::take,
            orders::answers_order,
        )
        .post_with(
            "/stores/{store_id}/orders/{order_id}/age-check",
            payments::age_check,
            orders::answers_order,
        )
        .post_with(
            "/stores/{store_id}/orders/{order_id}/refunds",
            payments::refund,
            orders::answers_order,
        )
        .post_with(
            "/stores/{store_id}/orders/{order_id}/close",
            orders::close,
            orders::answers_order,
        )
        .get(
            "/stores/{store_id}/orders/{order_id}/receipt",
            payments::receipt,
        )
        .get_with(
            "/stores/{store_id}/orders/{order_id}/receipt.html",
            payments::receipt_html,
            contract::answers_html,
        )
        // Shifts and reports.
        .get("/stores/{store_id}/shifts", shifts::list)
        .post("/stores/{store_id}/shifts", shifts::open)
        .get("/stores/{store_id}/shifts/{shift_id}", shifts::get)
        .post("/stores/{store_id}/shifts/{shift_id}/cash", shifts::cash)
        .post("/stores/{store_id}/shifts/{shift_id}/close", shifts::close)
        .get_with(
            "/stores/{store_id}/reports/x",
            reports::x_report,
            reports::describe_report,
        )
        .get("/stores/{store_id}/reports/z", reports::z_list)
        .post_with(
            "/stores/{store_id}/reports/z",
            reports::close_day,
            reports::describe_close,
        )
        .get_with(
            "/stores/{store_id}/reports/z/{number}",
            reports::z_get,
            reports::describe_report,
        )
        // The kitchen display.
        .get("/stores/{store_id}/kds/stations", kds::list_stations)
        .put(
            "/stores/{store_id}/kds/stations/{station}",
            kds::put_station,
        )
        .get("/stores/{store_id}/kds/prep-times", kds::prep_times)
        .get("/stores/{store_id}/kds/{station}/tickets", kds::tickets)
        .get_with(
            "/stores/{store_id}/kds/{station}/stream",
            kds::stream,
            contract::answers_events,
        )
        .post_with(
            "/stores/{store_id}/kds/{station}/tickets/{order_id}/start",
            kds::start,
            orders::answers_order,
        )
        .post_with(
            "/stores/{store_id}/kds/{station}/tickets/{order_id}/bump",
            kds::bump,
            orders::answers_order,
        )
        .post_with(
            "/stores/{store_id}/kds/{station}/tickets/{order_id}/recall",
            kds::recall,
            orders::answers_order,
        )
        // Stock of a store.
        .get("/stores/{store_id}/catalog/stock", stock::levels)
        .get("/stores/{store_id}/catalog/stock/movements", stock::ledger)
        .post("/stores/{store_id}/catalog/stock/movements", stock::record)
        .post(
            "/stores/{store_id}/catalog/stock/transfers",
            stock::transfer,
        )
        .put(
            "/stores/{store_id}/catalog/stock/{variant_id}/threshold",
            stock::set_threshold,
        )
        // Outbound webhooks and the outbox.
        .get("/stores/{store_id}/webhooks", webhooks::list)
        .post("/stores/{store_id}/webhooks", webhooks::create)
        .get("/stores/{store_id}/webhooks/{webhook_id}", webhooks::get)
        .patch("/stores/{store_id}/webhooks/{webhook_id}", webhooks::update)
        .delete("/stores/{store_id}/webhooks/{webhook_id}", webhooks::delete)
        .post(
            "/stores/{store_id}/webhooks/{webhook_id}/secret",
            webhooks::roll_secret,
        )
        .get(
            "/stores/{store_id}/webhooks/{webhook_id}/deliveries",
            webhooks::deliveries,
        )
        .get(
            "/stores/{store_id}/webhooks/{webhook_id}/deliveries/{delivery_id}",
            webhooks::delivery,
        )
        .post(
            "/stores/{store_id}/webhooks/{webhook_id}/deliveries/{delivery_id}/replay",
            webhooks::replay_one,
        )
        .post(
            "/stores/{store_id}/webhooks/{webhook_id}/replay",
            webhooks::replay_dead,
        )
        .get("/stores/{store_id}/events", webhooks::events)
        // Catering: companies, contracts, service days, statements.
        .get("/companies", catering::list_companies)
        .post("/companies", catering::create_company)
        .get("/companies/{company_id}", catering::get_company)
        .get(
            "/companies/{company_id}/contracts",
            catering::company_contracts,
        )
        .post("/contracts", catering::create_contract)
        .get("/contracts/{contract_id}", catering::get_contract)
        .patch("/contracts/{contract_id}", catering::update_contract)
        .get("/contracts/{contract_id}/service-days", service_days::list)
        .post(
            "/contracts/{contract_id}/service-days",
            service_days::generate,
        )
        .post(
            "/contracts/{contract_id}/service-days/{date}/confirm",
            service_days::change::<service_days::Confirm>,
        )
        .post(
            "/contracts/{contract_id}/service-days/{date}/served",
            service_days::change::<service_days::Served>,
        )
        .post(
            "/contracts/{contract_id}/service-days/{date}/dispute",
            service_days::change::<service_days::Dispute>,
        )
        .post(
            "/contracts/{contract_id}/service-days/{date}/resolve",
            service_days::change::<service_days::Resolve>,
        )
        .post(
            "/contracts/{contract_id}/service-days/{date}/cancel",
            service_days::change::<service_days::Cancel>,
        )
        .post(
            "/contracts/{contract_id}/service-days/{date}/order",
            service_days::order,
        )
        .get(
            "/contracts/{contract_id}/statements/{month}",
            service_days::statement,
        )
}

/// Bodies over `limit` are refused: by declared length before any is read, else as
/// they are read.
fn with_body_limit(route: ApiMethodRouter<AppState>, limit: usize) -> ApiMethodRouter<AppState> {
    route
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(limit, read_body))
}

/// Every API route, for tests that must cover them all.
pub fn api_routes() -> Vec<RouteSpec> {
    api().routes
}

/// Writes every API route's operation into `doc`, paths without the API prefix.
pub(crate) fn document_into(doc: &mut aide::openapi::OpenApi) {
    let _ = api().router.finish_api(doc);
}

/// The whole HTTP surface. Layers, outermost first: request id + access log, then per
/// route: metrics, running apart from the connection, panic guard; for the API, readiness then idempotency keys.
pub fn router(state: AppState) -> Router {
    let api = Router::from(api().router)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            note_catalog_writes,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            idempotency::layer,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), require_ready));

    Router::new()
        .route("/live", get(health::live))
        .route("/ready", get(health::ready))
        .route("/health", get(health::health))
        .route("/metrics", get(metrics::endpoint))
        .nest(API_PREFIX, api)
        .route("/api/docs", get(crate::contract::docs_page))
        .merge(crate::web::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(compression())
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            run_to_completion,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), watch_writes))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(middleware::from_fn(observe::observe))
        .with_state(state)
}

/// Scripts, pages and API answers of a kilobyte or more go out as brotli or gzip, as the
/// client accepts. Quality 4: these are compressed per request, and brotli's default (11)
/// costs a hundred times the CPU for a few per cent. Live streams (`text/event-stream`)
/// and images are never compressed: a stream must reach the screen as each event is sent.
fn compression() -> CompressionLayer<impl Predicate> {
    CompressionLayer::new()
        .quality(CompressionLevel::Precise(4))
        .compress_when(DefaultPredicate::new().and(SizeAbove::new(1024)))
}

/// A request runs to its end even when its client hangs up: the connection closing
/// drops the response future, and a handler dropped between a database `BEGIN` and its
/// `COMMIT` can hand the pool a connection still inside the transaction (sqlx does not
/// guard every await of a begin), which on SQLite keeps the write lock and fails every
/// write after it. Run apart, the write finishes, and the client's retry with its
/// idempotency key gets the answer it missed.
///
/// The client waits for that answer only until the request's deadline: past it (a
/// database gone silent, say) it is answered 503 with `Retry-After`, while the request
/// itself still runs to its end.
async fn run_to_completion(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let deadlines = state.deadlines();
    req.extensions_mut().insert(BodyDeadline {
        at: tokio::time::Instant::now() + deadlines.body,
        state: state.clone(),
    });
    // A catalog file may take longer to check and write than any other request.
    let answer = if store_section(req.uri().path()) == Some("catalog")
        && req.method() == Method::POST
        && req.uri().path().ends_with("/import")
    {
        deadlines.answer * 4
    } else {
        deadlines.answer
    };
    match tokio::time::timeout(answer, tokio::spawn(next.run(req))).await {
        Ok(Ok(response)) => response,
        // Panics are answered inside (CatchPanicLayer); this is a runtime shutting down.
        Ok(Err(_)) => ApiError::unavailable("the server is stopping").into_response(),
        Err(_) => {
            state.metrics.timed_out("request");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "request_timeout",
                format!(
                    "no answer within {} s; it may still complete: retry with the same Idempotency-Key",
                    answer.as_secs()
                ),
            )
            .retry_after(1)
            .into_response()
        }
    }
}

/// A request refused because the database could not write tells the database's health
/// watch, which makes `/ready` say so and probes until writes work again.
async fn watch_writes(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    if let Some(failure) = response
        .extensions()
        .get::<crate::write_health::CannotWrite>()
    {
        state.write_health.failed(&state, &failure.0);
    }
    response
}

/// When the request's body must have arrived whole.
#[derive(Clone)]
struct BodyDeadline {
    at: tokio::time::Instant,
    state: AppState,
}

/// The part of a store that an API path is about: `orders` for
/// `/stores/{id}/orders/...`, with or without the API prefix.
pub fn store_section(path: &str) -> Option<&str> {
    let mut segments = path.trim_start_matches(API_PREFIX).split('/').skip(1);
    (segments.next() == Some("stores"))
        .then(|| segments.nth(1))
        .flatten()
}

/// Tells the order pricing cache that a catalog may have changed, so the next order
/// through this instance reads it again. Any write under `/stores/{id}/catalog/` counts,
/// answered or not: a failed write that moved nothing only costs one read.
async fn note_catalog_writes(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let catalog_write = req.method() != Method::GET
        && req.method() != Method::HEAD
        && store_section(req.uri().path()) == Some("catalog");
    let response = next.run(req).await;
    if catalog_write {
        state.sales.note_write();
    }
    response
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

/// Reads the body whole, within its limit and its deadline, before the handler runs: a
/// body declared over the limit is refused before any of it is read (a client announcing
/// megabytes cannot hold a connection while it uploads them), so is one that grows past
/// it as it is read, and one still arriving at the deadline (a byte a second) is answered
/// 503.
async fn read_body(State(limit): State<usize>, req: Request, next: Next) -> Response {
    // Answered at once; the connection then closes, reading for a moment what the client
    // still sends (`serve`'s lingering close), so that it reads this instead of a reset.
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body is too large (at most {} KiB)", limit / 1024),
        )
        .with_header(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        )
        .into_response()
    };
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let deadline = req.extensions().get::<BodyDeadline>().cloned();
    let at = deadline.as_ref().map_or_else(
        || tokio::time::Instant::now() + RequestDeadlines::default().body,
        |d| d.at,
    );
    let (parts, body) = req.into_parts();
    let mut stream = body.into_data_stream();
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large();
    }
    let mut read = Vec::new();
    let reading = async {
        while let Some(chunk) = stream.next().await {
            // A connection that broke mid-body: nobody is there to answer.
            let chunk = chunk.map_err(|_| ())?;
            if read.len() + chunk.len() > limit {
                return Err(());
            }
            read.extend_from_slice(&chunk);
        }
        Ok(())
    };
    match tokio::time::timeout_at(at, reading).await {
        Ok(Ok(())) => next.run(Request::from_parts(parts, Body::from(read))).await,
        Ok(Err(())) => too_large(),
        Err(_) => {
            if let Some(deadline) = deadline {
                deadline.state.metrics.timed_out("body");
            }
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "body_timeout",
                "the body did not arrive in time; send it again",
            )
            .retry_after(1)
            .into_response()
        }
    }
}

/// What answers here.
#[derive(serde::Serialize, schemars::JsonSchema)]
struct ApiIndex {
    /// `comanda`.
    service: &'static str,
    version: String,
    /// `v1`.
    api: &'static str,
}

async fn api_index(State(state): State<AppState>) -> axum::Json<ApiIndex> {
    axum::Json(ApiIndex {
        service: "comanda",
        version: state.build.version.to_string(),
        api: "v1",
    })
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
