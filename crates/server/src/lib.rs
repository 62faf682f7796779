//! comanda's HTTP server. Handlers are grouped by resource; none of them writes SQL, they
//! go through the `Storage` traits held in [`AppState`].

pub mod approval;
pub mod audit;
pub mod auth;
pub mod catalog_bundle;
pub mod catalog_csv;
pub mod contract;
pub mod error;
pub mod extract;
mod health;
pub mod https_client;
pub mod idempotency;
pub mod kitchen_messages;
pub mod log_reads;
pub mod menu;
pub mod menu_tail;
pub mod metrics;
pub mod observe;
pub mod order_cache;
pub mod outbox;
pub mod packing;
pub mod password;
pub mod readiness;
pub mod receipt;
pub mod report_page;
pub(crate) mod routes;
pub mod sale_catalog;
pub mod sales;
mod serve;
pub mod signature;
pub mod startup;
mod state;
pub mod statistics;
pub mod stripe;
pub mod web;
pub mod webhooks;
pub mod write_health;

pub use routes::{API_PREFIX, RouteSpec, api_routes, router};
pub use serve::{ConnectionGauges, ConnectionLimits, Drain, serve, shutdown_signal};
pub use state::{AppState, BuildInfo, RequestDeadlines};
