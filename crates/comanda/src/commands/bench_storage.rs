//! `comanda bench storage`: what an order costs on disk. Terminals take N paid
//! three-line orders through the real router (open, three lines with two modifiers and a
//! note each, send, pay by card), every request with its `Idempotency-Key`, as a till
//! does; then the database is measured table by table, once with the kept answers to
//! those requests and once after they have expired and been purged.

use super::bench_env::{self, BenchDb};
use crate::cli::BenchStorageArgs;
use crate::settings::{DatabaseTarget, Settings};
use anyhow::{Context, Result, anyhow};
use comanda_domain::{Role, clock};
use serde_json::{Value, json};
use sqlx::Connection;
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Tills taking orders at once.
const TILLS: usize = 8;

/// Orders taken before measuring, enough for the store's first dictionary.
const WARM_UP: usize = 50;

/// Orders between two vacuums on PostgreSQL (see [`vacuum`]).
const BETWEEN_VACUUMS: usize = 250;

pub async fn run(settings: &Settings, args: &BenchStorageArgs) -> Result<ExitCode> {
    let db = bench_env::open(settings).await?;
    let storage = db.storage.clone();
    let (store, login) = bench_env::store_and_person(&*storage, "BRL", Role::Manager).await?;
    let items = Arc::new(bench_env::menu(&*storage, store.id).await?);
    let (_state, addr) = bench_env::serve(storage.clone()).await?;
    let client = reqwest::Client::new();
    let token = bench_env::sign_in(&client, addr, &login).await?;
    let base = Arc::new(format!("http://{addr}/api/v1/stores/{}/orders", store.id));
    println!(
        "backend: {}; {} paid orders: open, 3 x add a line (2 modifiers, a note), send, pay by card; {TILLS} tills",
        storage.backend(),
        args.orders
    );
    // A store that has been selling: its first orders, then its own dictionary, as the
    // server's upkeep makes it (see comanda_store::packed). They are not counted.
    let started = args.orders.min(WARM_UP);
    for n in 0..started {
        paid_order(&client, &base, &token, &items, n).await?;
    }
    let made = storage
        .refresh_packing_dictionaries(&comanda_server::packing::renewal())
        .await
        .map_err(|e| anyhow!("{e}"))?;
    println!(
        "{started} orders before measuring; {} store dictionary made",
        made.len()
    );
    // PostgreSQL is the configured database, which may hold earlier runs: what counts
    // is what these orders added.
    let before = measure(&db, false).await?;
    let events_before = events_in(&breakdown(&db).await?);
    let till = Till {
        client: client.clone(),
        base: base.clone(),
        token: token.clone(),
        items: items.clone(),
    };
    let mut done = 0;
    while done < args.orders {
        let chunk = (args.orders - done).min(BETWEEN_VACUUMS);
        till.take(started + done, chunk).await?;
        done += chunk;
        eprint!("\r{done} orders");
        vacuum(&db).await?;
    }
    eprintln!();

    let kept = measure(&db, false).await?.minus(&before);
    let parts = breakdown(&db).await?;
    storage
        .purge_idempotency_keys(clock::now() + chrono::Duration::days(2))
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let expired = measure(&db, true).await?.minus(&before);
    let orders = args.orders as f64;
    let events = (events_in(&parts) - events_before) as f64;
    println!();
    println!("| table (with its indexes) | bytes per order, answers kept | after they expired |");
    println!("|---|---|---|");
    for (table, bytes) in &kept.tables {
        let after = expired.tables.get(table).copied().unwrap_or(0);
        if *bytes as f64 / orders >= 1.0 {
            println!(
                "| {table} | {:.0} | {:.0} |",
                *bytes as f64 / orders,
                after as f64 / orders
            );
        }
    }
    println!(
        "| **all** | **{:.0}** | **{:.0}** |",
        kept.total() as f64 / orders,
        expired.total() as f64 / orders
    );
    println!();
    println!(
        "events: {events:.0} ({:.1} per order), {:.0} bytes per event with their indexes",
        events / orders,
        kept.tables.get("order_events").copied().unwrap_or(0) as f64 / events
    );
    println!();
    println!("| what is stored | rows | average bytes as stored |");
    println!("|---|---|---|");
    for (what, rows, bytes) in parts {
        println!("| {what} | {rows} | {bytes:.0} |");
    }
    println!();
    println!(
        "database: {:.1} MiB with the answers kept, {:.1} MiB in use after they expired",
        kept.total() as f64 / 1048576.0,
        expired.total() as f64 / 1048576.0
    );
    Ok(ExitCode::SUCCESS)
}

/// What each till needs to take orders.
#[derive(Clone)]
struct Till {
    client: reqwest::Client,
    base: Arc<String>,
    token: String,
    items: Arc<Vec<Value>>,
}

impl Till {
    /// Orders `first..first + count`, taken by [`TILLS`] tills at once.
    async fn take(&self, first: usize, count: usize) -> Result<()> {
        let next = Arc::new(AtomicUsize::new(first));
        let mut tills = Vec::new();
        for _ in 0..TILLS {
            let (till, next) = (self.clone(), next.clone());
            tills.push(tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= first + count {
                        return Ok::<_, anyhow::Error>(());
                    }
                    paid_order(&till.client, &till.base, &till.token, &till.items, n).await?;
                }
            }));
        }
        for till in tills {
            till.await??;
        }
        Ok(())
    }
}

/// PostgreSQL's autovacuum, as it runs at comanda's thresholds (a table is vacuumed
/// when 5 % of its rows are dead: at this size, every few hundred orders): the space of
/// an order's earlier versions is reused by the orders after it, as in a database that
/// has been running for months. Measured without it, the table would also hold the
/// free space of 2,000 orders' updates at once. SQLite reuses a freed page at once.
async fn vacuum(db: &BenchDb) -> Result<()> {
    if let DatabaseTarget::Postgres { url } = &db.target {
        let mut conn = sqlx::PgConnection::connect(url.expose()).await?;
        sqlx::query("VACUUM orders, order_events, idempotency_keys")
            .execute(&mut conn)
            .await?;
    }
    Ok(())
}

/// One paid order through the API; an error names the step that failed.
async fn paid_order(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    items: &[Value],
    n: usize,
) -> Result<()> {
    let order = bench_env::post(client, base, token, json!({ "kind": "counter" })).await?;
    let id = order["id"].as_str().context("no order id")?.to_owned();
    let mut version = order["version"].as_i64().context("no version")?;
    for k in 0..3 {
        let line = items[(n * 7 + k * 11) % items.len()].clone();
        let body = json!({ "version": version, "lines": [line] });
        version =
            bench_env::post(client, &format!("{base}/{id}/lines"), token, body).await?["version"]
                .as_i64()
                .context("no version")?;
    }
    let body = json!({ "version": version });
    version = bench_env::post(client, &format!("{base}/{id}/send"), token, body).await?["version"]
        .as_i64()
        .context("no version")?;
    let body =
        json!({ "version": version, "kind": "external_card", "reference": format!("{n:06}") });
    bench_env::post(client, &format!("{base}/{id}/payments"), token, body).await?;
    Ok(())
}

/// Bytes on disk per table, each with its indexes (and PostgreSQL's TOAST).
struct Sizes {
    tables: BTreeMap<String, u64>,
}

impl Sizes {
    /// From (table, bytes) rows.
    fn of(rows: Vec<(String, i64)>) -> Sizes {
        let tables = rows
            .into_iter()
            .map(|(t, b)| (t, u64::try_from(b).unwrap_or(0)))
            .collect();
        Sizes { tables }
    }

    fn total(&self) -> u64 {
        self.tables.values().sum()
    }

    fn minus(self, before: &Sizes) -> Sizes {
        let tables = self
            .tables
            .into_iter()
            .map(|(t, b)| {
                let was = before.tables.get(&t).copied().unwrap_or(0);
                (t, b.saturating_sub(was))
            })
            .collect();
        Sizes { tables }
    }
}

/// After a purge SQLite keeps the freed pages in the file for the next answers to use
/// (they count nowhere); PostgreSQL's VACUUM marks them free the same way, and a
/// `VACUUM FULL` of the one table (`reclaimed`) gives its size without them.
async fn measure(db: &BenchDb, reclaimed: bool) -> Result<Sizes> {
    match &db.target {
        DatabaseTarget::Sqlite { path } => sqlite_sizes(path).await,
        DatabaseTarget::Postgres { url } => postgres_sizes(url.expose(), reclaimed).await,
    }
}

async fn sqlite_sizes(path: &std::path::Path) -> Result<Sizes> {
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await?;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await?;
    // Pages in use per table: its own b-tree and its indexes' (free pages count nowhere).
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT coalesce(m.tbl_name, d.name), sum(d.pgsize) FROM dbstat d
         LEFT JOIN sqlite_schema m ON m.name = d.name
         GROUP BY 1",
    )
    .fetch_all(&mut conn)
    .await?;
    Ok(Sizes::of(rows))
}

async fn postgres_sizes(url: &str, reclaimed: bool) -> Result<Sizes> {
    let mut conn = sqlx::PgConnection::connect(url).await?;
    if reclaimed {
        sqlx::query("VACUUM FULL idempotency_keys")
            .execute(&mut conn)
            .await?;
    }
    sqlx::query("VACUUM ANALYZE").execute(&mut conn).await?;
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT c.relname::text, pg_total_relation_size(c.oid) FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = current_schema() AND c.relkind = 'r'",
    )
    .fetch_all(&mut conn)
    .await?;
    Ok(Sizes::of(rows))
}

/// The big values as stored (packed), by what they are: each kind of event's payload, the order
/// document, the kept answers.
async fn breakdown(db: &BenchDb) -> Result<Vec<(String, i64, f64)>> {
    // DOUBLE PRECISION: PostgreSQL's avg of integers is numeric; SQLite reads the name
    // as REAL.
    const SQL: &str = "SELECT 'event ' || kind, count(*), CAST(coalesce(avg(length(payload)), 0) AS DOUBLE PRECISION) FROM order_events GROUP BY kind
         UNION ALL SELECT 'order document', count(*), CAST(coalesce(avg(length(document)), 0) AS DOUBLE PRECISION) FROM orders
         UNION ALL SELECT 'kept answer', count(*), CAST(coalesce(avg(length(body)), 0) AS DOUBLE PRECISION) FROM idempotency_keys";
    Ok(match &db.target {
        DatabaseTarget::Sqlite { path } => {
            let mut conn =
                sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await?;
            sqlx::query_as(SQL).fetch_all(&mut conn).await?
        }
        DatabaseTarget::Postgres { url } => {
            let mut conn = sqlx::PgConnection::connect(url.expose()).await?;
            sqlx::query_as(SQL).fetch_all(&mut conn).await?
        }
    })
}

/// Log events counted in a [`breakdown`].
fn events_in(parts: &[(String, i64, f64)]) -> i64 {
    parts
        .iter()
        .filter(|(what, _, _)| what.starts_with("event "))
        .map(|(_, rows, _)| rows)
        .sum()
}
