//! `comanda bench orders`: the Friday-night load. N concurrent clients (terminals), each
//! in a loop: open a counter order, add three lines with modifiers one request at a time,
//! send it to the kitchen; every request with its own `Idempotency-Key`, through the real
//! router on a local port. Reports throughput, latency percentiles, errors and memory.

use super::bench_env::{self, percentile};
use super::bench_outbox;
use crate::cli::BenchOrdersArgs;
use crate::settings::Settings;
use anyhow::Result;
use comanda_domain::Role;
use serde_json::{Value, json};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What one client saw from `from` on: what comes before is the warm-up.
struct Tally {
    from: Instant,
    latencies_ms: Vec<f64>,
    errors: u64,
    orders: u64,
}

impl Tally {
    fn new(from: Instant) -> Self {
        Self {
            from,
            latencies_ms: Vec::new(),
            errors: 0,
            orders: 0,
        }
    }
}

pub async fn run(settings: &Settings, args: &BenchOrdersArgs) -> Result<ExitCode> {
    let db = bench_env::open(settings).await?;
    let storage = db.storage.clone();
    let (store, login) = bench_env::store_and_person(&*storage, "BRL", Role::Manager).await?;
    let items = bench_env::menu(&*storage, store.id).await?;
    let drain = if args.webhook_backlog > 0 {
        let (base, receiver) = bench_outbox::receiver().await?;
        bench_outbox::subscribe(&*storage, store.id, &base, 1).await?;
        bench_outbox::fill(&*storage, store.id, args.webhook_backlog).await?;
        Some(receiver)
    } else {
        None
    };
    // Runs with and without a backlog start alike, with the database checkpointed: on
    // PostgreSQL a checkpoint's flush of what earlier runs wrote stalls commits for
    // 100-300 ms on this VM's disk, which is no part of what is being compared.
    bench_env::settle(&db).await;
    let (state, addr) = bench_env::serve(storage.clone()).await?;
    // What `serve` runs beside the API: the follower folding sales totals and copying
    // order events to the outbox.
    comanda_server::sales::follow_logs(state.clone());
    if drain.is_some() {
        bench_outbox::start_delivery(&state, 4, args.webhook_busy_rate)?;
    }
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients as usize)
        .build()?;
    let token = bench_env::sign_in(&client, addr, &login).await?;
    let base = format!("http://{addr}/api/v1/stores/{}/orders", store.id);
    println!(
        "backend: {}; {} clients for {} s after {} s of warm-up, each: open, 3 x add a line with 2 modifiers, send; offered: {}",
        storage.backend(),
        args.clients,
        args.seconds,
        args.warmup,
        if args.rate > 0 {
            format!("{} operations/s", args.rate)
        } else {
            "as fast as they can".into()
        }
    );

    // Each client paces its requests so all of them together offer `rate` per second.
    let pace = (args.rate > 0)
        .then(|| Duration::from_secs_f64(f64::from(args.clients) / f64::from(args.rate)));
    let clients = args.clients;
    let stop = Arc::new(AtomicBool::new(false));
    let items = Arc::new(items);
    // The first seconds after a start open the database connections and prepare each
    // one's statements: a server that has just started, not the one taking Friday
    // night's orders. They run but are not counted.
    let measured_from = Instant::now() + Duration::from_secs(args.warmup);
    let mut tasks = Vec::new();
    for c in 0..args.clients {
        let (client, base, token, items, stop) = (
            client.clone(),
            base.clone(),
            token.clone(),
            items.clone(),
            stop.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::new(measured_from);
            let mut n = c as usize;
            let mut pacer = pace.map(|every| {
                let start =
                    tokio::time::Instant::now() + every.mul_f64(f64::from(c) / f64::from(clients));
                let mut ticker = tokio::time::interval_at(start, every);
                ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                ticker
            });
            while !stop.load(Ordering::Relaxed) {
                if one_order(
                    &client,
                    &base,
                    &token,
                    &items,
                    &mut n,
                    &mut tally,
                    pacer.as_mut(),
                )
                .await
                    && Instant::now() >= tally.from
                {
                    tally.orders += 1;
                }
            }
            tally
        }));
    }
    let peak_rss =
        bench_env::peak_rss_until(measured_from + Duration::from_secs(args.seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Tally::new(measured_from);
    for task in tasks {
        let tally = task.await?;
        all.latencies_ms.extend(tally.latencies_ms);
        all.errors += tally.errors;
        all.orders += tally.orders;
    }
    let elapsed = measured_from.elapsed().as_secs_f64();
    all.latencies_ms.sort_by(f64::total_cmp);
    let ops = all.latencies_ms.len();
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| order operations | {ops} in {elapsed:.1} s: **{:.0} /s** |",
        ops as f64 / elapsed
    );
    println!(
        "| orders completed (open, 3 lines, sent) | {} ({:.0} /s) |",
        all.orders,
        all.orders as f64 / elapsed
    );
    println!(
        "| latency p50 / p99 / p999 / max | {:.2} / {:.2} / {:.2} / {:.1} ms |",
        percentile(&all.latencies_ms, 0.5),
        percentile(&all.latencies_ms, 0.99),
        percentile(&all.latencies_ms, 0.999),
        percentile(&all.latencies_ms, 1.0)
    );
    println!("| errors (non-2xx or failed requests) | {} |", all.errors);
    if let Some(receiver) = &drain {
        println!(
            "| webhook deliveries during the run (backlog {} + the orders' events) | {} |",
            args.webhook_backlog,
            receiver.distinct()
        );
    }
    println!(
        "| peak RSS of the process (server and clients) | {:.0} MiB |",
        peak_rss as f64 / 1024.0
    );
    Ok(if all.errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// One order's five requests; false if any failed.
async fn one_order(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    items: &[Value],
    n: &mut usize,
    tally: &mut Tally,
    mut pacer: Option<&mut tokio::time::Interval>,
) -> bool {
    if let Some(p) = pacer.as_mut() {
        p.tick().await;
    }
    let Some(order) = timed(client, base, token, json!({ "kind": "counter" }), tally).await else {
        return false;
    };
    let Some(id) = order.id else {
        return false;
    };
    let mut version = order.version;
    for _ in 0..3 {
        if let Some(p) = pacer.as_mut() {
            p.tick().await;
        }
        *n = (*n + 7) % items.len();
        let body = json!({ "version": version, "lines": [items[*n].clone()] });
        let Some(changed) = timed(client, &format!("{base}/{id}/lines"), token, body, tally).await
        else {
            return false;
        };
        version = changed.version;
    }
    if let Some(p) = pacer.as_mut() {
        p.tick().await;
    }
    timed(
        client,
        &format!("{base}/{id}/send"),
        token,
        json!({ "version": version }),
        tally,
    )
    .await
    .is_some()
}

/// What a client needs of an order's answer; the rest is skipped, not built. Real tills
/// run on their own devices; here the clients share the server's two cores, so they
/// should cost as little of them as they can.
#[derive(serde::Deserialize)]
struct Answer {
    id: Option<String>,
    version: i64,
}

async fn timed(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    body: Value,
    tally: &mut Tally,
) -> Option<Answer> {
    let started = Instant::now();
    let sent = client
        .post(url)
        .bearer_auth(token)
        .header("idempotency-key", uuid::Uuid::now_v7().to_string())
        .json(&body)
        .send()
        .await;
    let result = match sent {
        Ok(r) if r.status().is_success() => r.json::<Answer>().await.ok(),
        _ => None,
    };
    if started >= tally.from {
        tally
            .latencies_ms
            .push(started.elapsed().as_secs_f64() * 1e3);
    }
    if result.is_none() {
        tally.errors += 1;
    }
    result
}
