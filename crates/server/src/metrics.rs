//! Prometheus metrics, one registry per server (no global state, so tests can run many
//! servers in one process). Served in the OpenMetrics text format at `/metrics`.

use crate::state::{AppState, BuildInfo};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use comanda_store::{Backend, PoolStats};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Request latency buckets in seconds: a POS request should take a few milliseconds;
/// the upper buckets catch the slow tail that makes a counter queue.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Routes with no match share one label, so scanners cannot create unbounded series.
const UNMATCHED_ROUTE: &str = "unmatched";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    pool: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
    git_sha: String,
    backend: String,
}

/// When the API last started a request: background work that should yield to
/// customers (webhook delivery) asks how long it has been quiet.
pub struct ApiActivity {
    epoch: Instant,
    /// Milliseconds after `epoch`.
    last_request_ms: AtomicU64,
}

impl Default for ApiActivity {
    fn default() -> Self {
        Self {
            epoch: Instant::now(),
            last_request_ms: AtomicU64::new(0),
        }
    }
}

impl ApiActivity {
    pub(crate) fn touch(&self) {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_request_ms.store(ms.max(1), Ordering::Relaxed);
    }

    /// How long since an API request last started (a long time if none ever did).
    pub fn idle_for(&self) -> Duration {
        match self.last_request_ms.load(Ordering::Relaxed) {
            0 => Duration::MAX,
            ms => self
                .epoch
                .elapsed()
                .saturating_sub(Duration::from_millis(ms)),
        }
    }
}

pub struct Metrics {
    pub activity: Arc<ApiActivity>,
    registry: Registry,
    requests: Family<HttpLabels, Counter>,
    latency: Family<HttpLabels, Histogram, fn() -> Histogram>,
    in_flight: Gauge,
    pool_connections: Family<PoolLabels, Gauge>,
    pool_idle: Family<PoolLabels, Gauge>,
    pool_max: Family<PoolLabels, Gauge>,
    resident_memory: Gauge,
    open_fds: Gauge,
    webhook_attempts: Family<OutcomeLabels, Counter>,
    connections: crate::serve::ConnectionGauges,
    /// Requests refused by a deadline, by which (`body`, `request`).
    timeouts: Family<KindLabels, Counter>,
    storage_writable: Gauge,
    storage_write_failures: Counter,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

impl Metrics {
    pub fn new(build: BuildInfo, backend: Backend) -> Self {
        let mut registry = Registry::default();
        let requests = Family::<HttpLabels, Counter>::default();
        let latency = Family::<HttpLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        let in_flight = Gauge::default();
        let pool_connections = Family::<PoolLabels, Gauge>::default();
        let pool_idle = Family::<PoolLabels, Gauge>::default();
        let pool_max = Family::<PoolLabels, Gauge>::default();
        let build_info = Family::<BuildLabels, Gauge>::default();
        let resident_memory = Gauge::default();
        let open_fds = Gauge::default();
        let start_time = Gauge::<f64, AtomicU64>::default();
        let webhook_attempts = Family::<OutcomeLabels, Counter>::default();
        let connections = crate::serve::ConnectionGauges::default();
        let timeouts = Family::<KindLabels, Counter>::default();
        let storage_writable = Gauge::default();
        storage_writable.set(1);
        let storage_write_failures = Counter::default();

        registry.register(
            "comanda_http_requests",
            "HTTP requests answered, by method, matched route and status",
            requests.clone(),
        );
        registry.register(
            "comanda_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, matched route and status",
            latency.clone(),
        );
        registry.register(
            "comanda_http_requests_in_flight",
            "HTTP requests being answered now",
            in_flight.clone(),
        );
        registry.register(
            "comanda_db_pool_connections",
            "Open database connections, by pool",
            pool_connections.clone(),
        );
        registry.register(
            "comanda_db_pool_idle_connections",
            "Idle database connections, by pool",
            pool_idle.clone(),
        );
        registry.register(
            "comanda_db_pool_max_connections",
            "Configured maximum database connections, by pool",
            pool_max.clone(),
        );
        registry.register(
            "comanda_build_info",
            "Version and build of the running binary",
            build_info.clone(),
        );
        registry.register(
            "process_resident_memory_bytes",
            "Resident memory size in bytes",
            resident_memory.clone(),
        );
        registry.register(
            "process_open_fds",
            "Open file descriptors",
            open_fds.clone(),
        );
        registry.register(
            "process_start_time_seconds",
            "Start time of the process since the Unix epoch in seconds",
            start_time.clone(),
        );

        registry.register(
            "comanda_webhook_attempts",
            "Webhook delivery attempts, by outcome (delivered, failed: tried again later, dead: given up)",
            webhook_attempts.clone(),
        );

        registry.register(
            "comanda_http_connections",
            "Open client connections",
            connections.open.clone(),
        );
        registry.register(
            "comanda_http_connections_shed",
            "Connections answered 503 at the connection cap, with no idle one to close",
            connections.shed.clone(),
        );
        registry.register(
            "comanda_http_connections_evicted",
            "Idle connections closed at the connection cap to make room for a newcomer",
            connections.evicted.clone(),
        );
        registry.register(
            "comanda_http_timeouts",
            "Requests answered 503 by a deadline: reading the body (body) or answering (request)",
            timeouts.clone(),
        );
        registry.register(
            "comanda_storage_writable",
            "1 while the database takes writes; 0 while it cannot (a full disk, an I/O error)",
            storage_writable.clone(),
        );
        registry.register(
            "comanda_storage_write_failures",
            "Writes refused because the database could not write",
            storage_write_failures.clone(),
        );
        for kind in ["body", "request"] {
            let _ = timeouts.get_or_create(&KindLabels { kind });
        }

        // At zero from the start, so `rate()` and `increase()` see the first attempt
        // (a series that appears at 1 has no increase) and dashboards find the metric.
        for outcome in ["delivered", "failed", "dead"] {
            let _ = webhook_attempts.get_or_create(&OutcomeLabels { outcome });
        }
        build_info
            .get_or_create(&BuildLabels {
                version: build.version.to_owned(),
                git_sha: build.git_sha.to_owned(),
                backend: backend.as_str().to_owned(),
            })
            .set(1);
        start_time.set(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or_default(),
        );

        Self {
            activity: Arc::default(),
            registry,
            requests,
            latency,
            in_flight,
            pool_connections,
            pool_idle,
            pool_max,
            resident_memory,
            open_fds,
            webhook_attempts,
            connections,
            timeouts,
            storage_writable,
            storage_write_failures,
        }
    }

    /// A write refused because the database could not write.
    pub fn storage_write_failed(&self) {
        self.storage_write_failures.inc();
        self.storage_writable.set(0);
    }

    pub fn set_storage_writable(&self, writable: bool) {
        self.storage_writable.set(i64::from(writable));
    }

    /// What the accept loop updates: open, shed and evicted connections.
    pub fn connection_gauges(&self) -> crate::serve::ConnectionGauges {
        self.connections.clone()
    }

    /// Counts a request refused by a deadline: `body` or `request`.
    pub fn timed_out(&self, kind: &'static str) {
        self.timeouts.get_or_create(&KindLabels { kind }).inc();
    }

    /// Counts one webhook delivery attempt: `delivered`, `failed` or `dead`.
    pub fn webhook_attempt(&self, outcome: &'static str) {
        self.webhook_attempts
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let labels = HttpLabels {
            method: method.to_owned(),
            route: route.to_owned(),
            status,
        };
        self.requests.get_or_create(&labels).inc();
        self.latency.get_or_create(&labels).observe(seconds);
    }

    /// Gauges that are cheaper to read at scrape time than to keep current.
    fn refresh(&self, pools: &[PoolStats]) {
        for p in pools {
            let labels = PoolLabels {
                pool: p.pool.to_owned(),
            };
            self.pool_connections
                .get_or_create(&labels)
                .set(i64::from(p.size));
            self.pool_idle.get_or_create(&labels).set(i64::from(p.idle));
            self.pool_max.get_or_create(&labels).set(i64::from(p.max));
        }
        if let Some(bytes) = process::resident_memory_bytes() {
            self.resident_memory.set(bytes);
        }
        if let Some(n) = process::open_fds() {
            self.open_fds.set(n);
        }
    }

    pub fn render(&self, pools: &[PoolStats]) -> String {
        self.refresh(pools);
        let mut out = String::with_capacity(8 * 1024);
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// Standard HTTP methods keep their name; anything else is folded into one label.
fn method_label(method: &axum::http::Method) -> &str {
    use axum::http::Method;
    match *method {
        Method::GET
        | Method::POST
        | Method::PUT
        | Method::PATCH
        | Method::DELETE
        | Method::HEAD
        | Method::OPTIONS => method.as_str(),
        _ => "other",
    }
}

/// Counts and times every request by its matched route. Applied per route, so the
/// route template (`/api/v1/stores/{store_id}`) is known, never the raw path.
pub async fn track(
    State(state): State<AppState>,
    matched: Option<MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    let route = matched
        .as_ref()
        .map_or(UNMATCHED_ROUTE, |m| m.as_str())
        .to_owned();
    tracing::Span::current().record("route", route.as_str());
    let method = method_label(req.method()).to_owned();
    let metrics = &state.metrics;
    if route.starts_with("/api/") {
        metrics.activity.touch();
    }
    metrics.in_flight.inc();
    let started = Instant::now();
    let response = next.run(req).await;
    metrics.in_flight.dec();
    metrics.observe(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

pub async fn endpoint(State(state): State<AppState>) -> impl IntoResponse {
    let body = state.metrics.render(&state.storage.pool_stats());
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        body,
    )
}

/// Linux process figures from `/proc`; absent elsewhere.
mod process {
    pub fn resident_memory_bytes() -> Option<i64> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let kib: i64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kib * 1024)
    }

    pub fn open_fds() -> Option<i64> {
        let count = std::fs::read_dir("/proc/self/fd").ok()?.count();
        i64::try_from(count).ok()
    }
}
