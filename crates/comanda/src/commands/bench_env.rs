//! What the in-process benchmarks share: a scratch database (a temporary SQLite file,
//! or the configured PostgreSQL), a store, a person, and the real router on a local port.

use crate::database;
use crate::settings::{DatabaseTarget, Settings};
use anyhow::{Result, anyhow};
use comanda_domain::catalog::inputs::{ModifierGroupInput, ProductInput, TaxRateInput};
use comanda_domain::{
    Currency, DisplayName, Login, NewStore, NewUser, Role, Secret, StoreId, UserId,
};
use comanda_server::auth::config::AuthConfig;
use comanda_server::auth::limiter::{Limiter, Rate};
use comanda_server::readiness::Readiness;
use comanda_server::{AppState, router};
use comanda_store::Storage;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

pub const PASSWORD: &str = "bench passphrase 2580";

pub struct BenchDb {
    pub storage: Arc<dyn Storage>,
    pub target: DatabaseTarget,
    /// Holds the scratch SQLite file until the benchmark ends.
    _scratch: tempfile::TempDir,
}

impl BenchDb {
    /// The run's own temporary directory.
    pub fn scratch(&self) -> &std::path::Path {
        self._scratch.path()
    }

    /// Leaves the scratch directory in place when the benchmark ends.
    pub fn keep(&mut self) {
        self._scratch.disable_cleanup(true);
    }
}

/// A migrated database: a fresh SQLite file unless PostgreSQL is configured.
pub async fn open(settings: &Settings) -> Result<BenchDb> {
    let mut scratch = tempfile::Builder::new()
        .prefix("comanda-bench-")
        .tempdir()?;
    // To look at what a benchmark wrote, afterwards.
    if std::env::var_os("COMANDA_BENCH_KEEP").is_some() {
        scratch.disable_cleanup(true);
        eprintln!("keeping {}", scratch.path().display());
    }
    let mut local = settings.clone();
    if matches!(settings.database, DatabaseTarget::Sqlite { .. }) {
        local.database = DatabaseTarget::Sqlite {
            path: scratch.path().join("bench.db"),
        };
        local.data_dir = scratch.path().to_owned();
    }
    let storage = database::open(&local).await?;
    storage.migrate().await.map_err(|e| anyhow!("{e}"))?;
    Ok(BenchDb {
        storage,
        target: local.database,
        _scratch: scratch,
    })
}

/// Puts what was written before a load on disk before it is measured: a backlog written
/// in the seconds before the rush would otherwise be flushed during it, when a real one,
/// built up over an outage, is on disk long before. PostgreSQL checkpoints (the bench's
/// user may lack the right: then it only waits); SQLite's committer checkpoints on its
/// own.
pub async fn settle(db: &BenchDb) {
    if let DatabaseTarget::Postgres { url } = &db.target
        && let Err(e) = checkpoint(url.expose()).await
    {
        eprintln!("no checkpoint before the load ({e}); waiting instead");
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
}

async fn checkpoint(url: &str) -> Result<(), sqlx::Error> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await?;
    sqlx::query("CHECKPOINT").execute(&mut conn).await?;
    Ok(())
}

/// A store with a unique code, and a person of `role` working there; returns the store
/// and the person's login.
pub async fn store_and_person(
    storage: &dyn Storage,
    currency: &str,
    role: Role,
) -> Result<(NewStore, String)> {
    let store = new_store(storage, currency).await?;
    let login = person(storage, role, vec![store.id]).await?;
    Ok((store, login))
}

/// A store with a unique code.
pub async fn new_store(storage: &dyn Storage, currency: &str) -> Result<NewStore> {
    let suffix = uuid::Uuid::now_v7().simple().to_string();
    let tag = &suffix[20..];
    let store = NewStore::parse(&format!("bench-{tag}"), "Bench", currency, "UTC", "en-US")
        .map_err(|e| anyhow!("{e}"))?;
    storage
        .create_store(&store)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    Ok(store)
}

/// A person of `role` working in `stores`; their login.
pub async fn person(storage: &dyn Storage, role: Role, stores: Vec<StoreId>) -> Result<String> {
    let suffix = uuid::Uuid::now_v7().simple().to_string();
    let login = format!("bench{}", &suffix[20..]);
    storage
        .create_user(&NewUser {
            id: UserId::new(),
            login: Login::parse("login", &login).map_err(|e| anyhow!("{e}"))?,
            display_name: DisplayName::parse("display_name", "Bench")
                .map_err(|e| anyhow!("{e}"))?,
            password_hash: comanda_server::password::hash(&Secret::new(PASSWORD))
                .await
                .map_err(|e| anyhow!("{e}"))?,
            role,
            all_stores: false,
            store_ids: stores,
            must_change_password: false,
            company_id: None,
        })
        .await
        .map_err(|e| anyhow!("{e}"))?;
    Ok(login)
}

/// The real router on a local port, with sign-in limits out of the way.
pub async fn serve(storage: Arc<dyn Storage>) -> Result<(AppState, SocketAddr)> {
    let auth = AuthConfig {
        login_per_ip: Rate::new(1_000_000, Duration::from_secs(1)),
        login_per_account: Rate::new(1_000_000, Duration::from_secs(1)),
        ..AuthConfig::default()
    };
    let state = AppState::with_auth(storage, Readiness::serving(), auth, Limiter::local());
    state.load_signing_key().await.map_err(|e| anyhow!("{e}"))?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = router(state.clone());
    let limits = comanda_server::ConnectionLimits {
        grace: Duration::ZERO,
        ..Default::default()
    };
    let gauges = state.metrics.connection_gauges();
    tokio::spawn(async move {
        let _ = comanda_server::serve(listener, app, std::future::pending(), limits, gauges).await;
    });
    Ok((state, addr))
}

/// Signs `login` in through the API; the access token.
pub async fn sign_in(client: &reqwest::Client, addr: SocketAddr, login: &str) -> Result<String> {
    let signed_in: serde_json::Value = client
        .post(format!("http://{addr}/api/v1/auth/login"))
        .json(&serde_json::json!({ "login": login, "password": PASSWORD }))
        .send()
        .await?
        .json()
        .await?;
    signed_in["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("no access token"))
}

/// The value below which `p` of the sorted samples fall.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// The resident memory of this process, in KiB (0 where /proc is not available).
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// The highest resident memory of this process, sampled every 200 ms until `deadline`,
/// in KiB: how long a load runs.
pub async fn peak_rss_until(deadline: std::time::Instant) -> u64 {
    let mut peak = 0;
    while std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        peak = peak.max(rss_kib());
    }
    peak
}

/// Products on the benchmarks' menu.
pub const MENU_PRODUCTS: usize = 30;

/// A small restaurant's menu in `store`: a default 5 % tax, two modifier groups (one
/// required) and [`MENU_PRODUCTS`] grill dishes. Returns one line to order per product,
/// with two modifiers and a note, as `POST .../lines` takes it.
pub async fn menu(storage: &dyn Storage, store: StoreId) -> Result<Vec<Value>> {
    let parse_err = |e: comanda_domain::ValidationError| anyhow!("{e}");
    let tax = serde_json::from_value::<TaxRateInput>(
        json!({ "name": "ISS", "rate": "5", "default": true }),
    )?
    .parse()
    .map_err(parse_err)?;
    storage
        .create_tax_rate(store, &tax)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let mut groups = Vec::new();
    for (name, min, max) in [("Ponto", 1, 1), ("Extras", 0, 3)] {
        let group = serde_json::from_value::<ModifierGroupInput>(json!({
            "name": name, "min_choices": min, "max_choices": max,
            "options": (0..4).map(|o| json!({ "name": format!("{name} {o}"), "price_delta": { "amount": o * 200, "currency": "BRL" } })).collect::<Vec<_>>(),
        }))?
        .parse(Currency::Brl)
        .map_err(parse_err)?;
        groups.push(
            storage
                .create_modifier_group(store, &group)
                .await
                .map_err(|e| anyhow!("{e}"))?,
        );
    }
    let mut items = Vec::with_capacity(MENU_PRODUCTS);
    for p in 0..MENU_PRODUCTS {
        let product = serde_json::from_value::<ProductInput>(json!({
            "name": format!("Prato {p}"), "station": "grill",
            "modifier_group_ids": groups.iter().map(|g| g.id.to_string()).collect::<Vec<_>>(),
            "variants": [{ "price": { "amount": 1500 + p * 100, "currency": "BRL" } }],
        }))?
        .parse(Currency::Brl)
        .map_err(parse_err)?;
        let product = storage
            .create_product(store, &product)
            .await
            .map_err(|e| anyhow!("{e}"))?;
        items.push(json!({
            "product_id": product.id,
            "quantity": 1 + p % 3,
            "options": [groups[0].options[p % 4].id, groups[1].options[p % 4].id],
            "notes": "sem cebola",
        }));
    }
    Ok(items)
}

/// A write through the API with its own `Idempotency-Key`, which must succeed; the
/// order in the answer (or the answer itself).
pub async fn post(client: &reqwest::Client, url: &str, token: &str, body: Value) -> Result<Value> {
    let answer = client
        .post(url)
        .bearer_auth(token)
        .header("idempotency-key", uuid::Uuid::now_v7().to_string())
        .json(&body)
        .send()
        .await?;
    let status = answer.status();
    let body: Value = answer.json().await?;
    if !status.is_success() {
        anyhow::bail!("{url}: {status} {body}");
    }
    Ok(body.get("order").cloned().unwrap_or(body))
}
