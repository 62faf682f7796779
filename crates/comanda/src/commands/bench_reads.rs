//! `comanda bench reads`: the reads staff make all evening, against a database holding
//! months of orders. Fills S stores with N paid orders in all (through the storage's
//! order commits, as `bench zreport` does: real documents, real hash chains), puts a
//! live service in the first store (tables with open tabs, tickets on the grill), then
//! runs C clients through the real router, each cycling through: get an order, list
//! open orders, the floor, a station's tickets, the menu (revalidated with its ETag, as
//! terminals do), and the X report. Reports each read's p50/p99, reads per second,
//! errors and the process's memory.
//!
//! `--fill-only` stops after the fill and writes the order ids to a file, so that
//! `scripts/bench-reads.sh` can serve the same database with `comanda serve` and load
//! it from outside with wrk.

use super::bench_env::{self, percentile};
use super::bench_zreport::write_paid_day;
use crate::cli::BenchReadsArgs;
use crate::settings::{DatabaseTarget, Settings};
use anyhow::{Result, anyhow, bail};
use comanda_domain::{OrderId, Role, StoreId};
use comanda_store::TableDraft;
use serde_json::json;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The reads, in the order each client cycles through them.
const READS: [&str; 6] = [
    "order",
    "open orders",
    "floor",
    "station",
    "menu",
    "x report",
];
const TABLES: usize = 24;
/// Order paths written for an outside load generator.
const PATHS_HANDED_OVER: usize = 100_000;
/// Tabs open at tables, and of them the ones sent to the kitchen.
const OPEN_TABS: usize = 16;
const SENT_TABS: usize = 10;

pub async fn run(settings: &Settings, args: &BenchReadsArgs) -> Result<ExitCode> {
    if args.stores == 0 || args.orders < args.stores {
        bail!("--stores must be at least 1 and no more than --orders");
    }
    let mut db = bench_env::open(settings).await?;
    let storage = db.storage.clone();
    println!(
        "backend: {}; filling {} stores with {} paid orders in all",
        storage.backend(),
        args.stores,
        args.orders
    );
    let started = Instant::now();
    let mut stores = Vec::new();
    let mut ids: Vec<(StoreId, OrderId)> = Vec::with_capacity(args.orders);
    for _ in 0..args.stores {
        stores.push(bench_env::new_store(&*storage, "BRL").await?.id);
    }
    // One manager of every store, as an owner's reports would read them.
    let login = bench_env::person(&*storage, Role::Manager, stores.clone()).await?;
    for (s, store) in stores.iter().enumerate() {
        let share = args.orders / args.stores + usize::from(s < args.orders % args.stores);
        let day = write_paid_day(storage.clone(), *store, share).await?;
        ids.extend(day.ids.into_iter().map(|id| (*store, id)));
        eprintln!(
            "store {}/{}: {share} orders ({:.0} s)",
            s + 1,
            args.stores,
            started.elapsed().as_secs_f64()
        );
    }
    let (state, addr) = bench_env::serve(storage.clone()).await?;
    comanda_server::sales::follow_logs(state.clone());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients as usize)
        .build()?;
    let token = bench_env::sign_in(&client, addr, &login).await?;
    live_service(&*storage, &client, addr, &token, stores[0]).await?;
    for store in &stores {
        let (_, guard) = comanda_server::sales::caught_up(&state, *store)
            .await
            .map_err(|e| anyhow!("{}", e.message))?;
        drop(guard);
    }
    println!(
        "filled in {:.0} s; the sales totals have caught up",
        started.elapsed().as_secs_f64()
    );
    if args.fill_only {
        db.keep();
        return hand_over(&db, &login, stores[0], &ids);
    }

    let stop = Arc::new(AtomicBool::new(false));
    let ids = Arc::new(ids);
    let measured_from = Instant::now() + Duration::from_secs(args.warmup);
    let mut clients = Vec::new();
    for c in 0..args.clients as usize {
        let (client, token, ids, stop) = (client.clone(), token.clone(), ids.clone(), stop.clone());
        let live = stores[0];
        clients.push(tokio::spawn(async move {
            let mut tally: Vec<Vec<f64>> = vec![Vec::new(); READS.len()];
            let mut errors = 0u64;
            let mut etag = String::new();
            let mut n = c * 7919;
            let mut kind = c % READS.len();
            while !stop.load(Ordering::Relaxed) {
                n = n
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let url = match kind {
                    0 => {
                        let (store, id) = ids[(n >> 16) % ids.len()];
                        format!("http://{addr}/api/v1/stores/{store}/orders/{id}")
                    }
                    1 => format!("http://{addr}/api/v1/stores/{live}/orders?status=open,sent"),
                    2 => format!("http://{addr}/api/v1/stores/{live}/tables"),
                    3 => format!("http://{addr}/api/v1/stores/{live}/kds/grill/tickets"),
                    4 => format!("http://{addr}/api/v1/stores/{live}/catalog/menu"),
                    _ => format!("http://{addr}/api/v1/stores/{live}/reports/x"),
                };
                let mut request = client.get(url).bearer_auth(&token);
                if kind == 4 && !etag.is_empty() {
                    request = request.header("if-none-match", &etag);
                }
                let t = Instant::now();
                match request.send().await {
                    Ok(r) if r.status().is_success() || r.status().as_u16() == 304 => {
                        if let Some(tag) = r.headers().get("etag").and_then(|v| v.to_str().ok()) {
                            etag = tag.to_owned();
                        }
                        if r.bytes().await.is_err() {
                            errors += 1;
                        }
                    }
                    Ok(r) => {
                        errors += 1;
                        if errors <= 2 {
                            eprintln!("{}: {}", READS[kind], r.status());
                        }
                    }
                    Err(e) => {
                        errors += 1;
                        if errors <= 2 {
                            eprintln!("{}: {e}", READS[kind]);
                        }
                    }
                }
                if t >= measured_from {
                    tally[kind].push(t.elapsed().as_secs_f64() * 1e3);
                }
                kind = (kind + 1) % READS.len();
            }
            (tally, errors)
        }));
    }
    let peak_rss =
        bench_env::peak_rss_until(measured_from + Duration::from_secs(args.seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all: Vec<Vec<f64>> = vec![Vec::new(); READS.len()];
    let mut errors = 0;
    for c in clients {
        let (tally, e) = c.await?;
        for (into, from) in all.iter_mut().zip(tally) {
            into.extend(from);
        }
        errors += e;
    }
    let elapsed = measured_from.elapsed().as_secs_f64();
    let total: usize = all.iter().map(Vec::len).sum();
    println!();
    println!(
        "{} clients for {} s after {} s of warm-up, {} orders in {} stores",
        args.clients, args.seconds, args.warmup, args.orders, args.stores
    );
    println!();
    println!("| read | requests | p50 | p99 | max |");
    println!("|---|---|---|---|---|");
    for (name, samples) in READS.iter().zip(all.iter_mut()) {
        samples.sort_by(f64::total_cmp);
        println!(
            "| {name} | {} | {:.2} ms | {:.2} ms | {:.1} ms |",
            samples.len(),
            percentile(samples, 0.5),
            percentile(samples, 0.99),
            percentile(samples, 1.0)
        );
    }
    println!(
        "| **all** | {total} (**{:.0} /s**) | | | |",
        total as f64 / elapsed
    );
    println!();
    println!("errors (non-2xx/304 or failed requests): {errors}");
    println!(
        "peak RSS of the process (server and {} clients): {:.0} MiB",
        args.clients,
        peak_rss as f64 / 1024.0
    );
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// A Friday night in progress in `store`: tables, tabs open at some, tickets on the
/// grill for others; through the API, as terminals make them.
async fn live_service(
    storage: &dyn comanda_store::Storage,
    client: &reqwest::Client,
    addr: std::net::SocketAddr,
    token: &str,
    store: StoreId,
) -> Result<()> {
    let items = bench_env::menu(storage, store).await?;
    let base = format!("http://{addr}/api/v1/stores/{store}");
    for t in 0..TABLES {
        let table = storage
            .create_table(
                store,
                &TableDraft {
                    area_id: None,
                    name: format!("Mesa {}", t + 1),
                    seats: 4,
                    position: t as i32,
                    archived: false,
                },
            )
            .await
            .map_err(|e| anyhow!("{e}"))?;
        if t >= OPEN_TABS {
            continue;
        }
        let order = bench_env::post(
            client,
            &format!("{base}/orders"),
            token,
            json!({ "kind": "dine_in", "table_id": table.id, "guests": 2 }),
        )
        .await?;
        let id = order["id"].as_str().unwrap_or_default().to_owned();
        let mut version = order["version"].as_i64().unwrap_or(0);
        let body = json!({ "version": version, "lines": [items[t % items.len()], items[(t * 7) % items.len()]] });
        version = bench_env::post(client, &format!("{base}/orders/{id}/lines"), token, body)
            .await?["version"]
            .as_i64()
            .unwrap_or(0);
        if t < SENT_TABS {
            bench_env::post(
                client,
                &format!("{base}/orders/{id}/send"),
                token,
                json!({ "version": version }),
            )
            .await?;
        }
    }
    Ok(())
}

/// Leaves the database for `scripts/bench-reads.sh`: where it is, who signs in, and a
/// file of order paths for wrk to pick from.
fn hand_over(
    db: &bench_env::BenchDb,
    login: &str,
    live: StoreId,
    ids: &[(StoreId, OrderId)],
) -> Result<ExitCode> {
    // The scratch directory of the run (SQLite's file is in it); kept for the script,
    // which removes it when done.
    let dir = db.scratch().to_path_buf();
    let file = dir.join("order-paths.txt");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&file)?);
    // Every wrk thread loads the file into Lua: a spread sample of the orders is enough.
    let step = ids.len().div_ceil(PATHS_HANDED_OVER).max(1);
    for (store, id) in ids.iter().step_by(step) {
        writeln!(out, "/api/v1/stores/{store}/orders/{id}")?;
    }
    out.flush()?;
    if let DatabaseTarget::Sqlite { path } = &db.target {
        println!("database: {}", path.display());
    }
    println!("login: {login}");
    println!("password: {}", bench_env::PASSWORD);
    println!("live store: {live}");
    println!("order paths: {}", file.display());
    Ok(ExitCode::SUCCESS)
}
