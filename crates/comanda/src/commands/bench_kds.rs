//! `comanda bench kds`: kitchen screens on a busy night. N station streams (SSE) are
//! connected through the real router while orders, each with a line for every cooking
//! station, are sent to the kitchen at a fixed rate. Measures the time from an order's
//! commit (the time its `sent` event was logged) to each screen receiving the ticket,
//! checks that every screen got every ticket once, and reports the memory each connected
//! stream costs.

use super::bench_env::{self, percentile, rss_kib};
use crate::cli::BenchKdsArgs;
use crate::settings::Settings;
use anyhow::{Result, anyhow};
use comanda_domain::catalog::inputs::ProductInput;
use comanda_domain::{Currency, Role};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const COOKING: [&str; 4] = ["grill", "fryer", "bar", "cold"];
const SCREENS: [&str; 5] = ["grill", "fryer", "bar", "cold", "expo"];

/// Tasks sending orders; each paces itself to its share of the rate.
const SENDERS: u32 = 16;

/// Extra idle screens connected briefly to measure what one costs: enough that the
/// memory the allocator already holds (sign-in hashing alone takes ~19 MiB) cannot hide it.
const CROWD: u32 = 2000;

/// What one screen saw.
#[derive(Default)]
struct Screen {
    connected: bool,
    latencies_ms: Vec<f64>,
    tickets: HashSet<String>,
    repeated: u64,
}

pub async fn run(settings: &Settings, args: &BenchKdsArgs) -> Result<ExitCode> {
    let db = bench_env::open(settings).await?;
    let storage = db.storage.clone();
    let (store, login) = bench_env::store_and_person(&*storage, "BRL", Role::Manager).await?;
    let mut products = Vec::new();
    for (i, station) in COOKING.iter().enumerate() {
        let product = serde_json::from_value::<ProductInput>(json!({
            "name": format!("Prato {i}"), "station": station,
            "variants": [{ "price": { "amount": 2500, "currency": "BRL" } }],
        }))?
        .parse(Currency::Brl)
        .map_err(|e| anyhow!("{e}"))?;
        let product = storage
            .create_product(store.id, &product)
            .await
            .map_err(|e| anyhow!("{e}"))?;
        products.push(json!({ "product_id": product.id, "quantity": 1, "notes": "sem sal" }));
    }
    let (_state, addr) = bench_env::serve(storage.clone()).await?;
    let client = reqwest::Client::new();
    let token = bench_env::sign_in(&client, addr, &login).await?;
    let base = format!("http://{addr}/api/v1/stores/{}", store.id);
    println!(
        "backend: {}; {} station streams; {} orders/s for {} s, each with a line for {}",
        storage.backend(),
        args.streams,
        args.rate,
        args.seconds,
        COOKING.join(", ")
    );

    // Memory per stream: RSS moves in the allocator's steps, so it is read before and
    // after a crowd of extra idle screens, which then leave.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before_crowd = rss_kib();
    let crowd_stop = Arc::new(AtomicBool::new(false));
    let crowd: Vec<_> = (0..CROWD)
        .map(|_| {
            let url = format!("{base}/kds/cold/stream");
            tokio::spawn(watch(
                client.clone(),
                url,
                token.clone(),
                crowd_stop.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let with_crowd = rss_kib();
    crowd_stop.store(true, Ordering::Relaxed);
    let mut crowded = 0;
    for screen in crowd {
        crowded += u32::from(screen.await?.connected);
    }
    if crowded < CROWD {
        return Err(anyhow!("only {crowded} of {CROWD} extra screens connected"));
    }
    let per_stream_kib = with_crowd.saturating_sub(before_crowd) as f64 / f64::from(CROWD);
    let stop = Arc::new(AtomicBool::new(false));
    let mut screens = Vec::new();
    for i in 0..args.streams {
        let station = SCREENS[i as usize % SCREENS.len()];
        let url = format!("{base}/kds/{station}/stream");
        screens.push(tokio::spawn(watch(
            client.clone(),
            url,
            token.clone(),
            stop.clone(),
        )));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let connected_kib = rss_kib();

    let sent = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let every = Duration::from_secs_f64(f64::from(SENDERS) / f64::from(args.rate.max(1)));
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let mut senders = Vec::new();
    for s in 0..SENDERS {
        let (client, base, token, lines, sent, errors) = (
            client.clone(),
            base.clone(),
            token.clone(),
            json!(products),
            sent.clone(),
            errors.clone(),
        );
        senders.push(tokio::spawn(async move {
            let start =
                tokio::time::Instant::now() + every.mul_f64(f64::from(s) / f64::from(SENDERS));
            let mut ticker = tokio::time::interval_at(start, every);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            while Instant::now() < deadline {
                ticker.tick().await;
                match send_order(&client, &base, &token, &lines).await {
                    Some(()) => sent.fetch_add(1, Ordering::Relaxed),
                    None => errors.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    let mut peak_kib = connected_kib;
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        peak_kib = peak_kib.max(rss_kib());
    }
    for sender in senders {
        sender.await?;
    }
    // Let the last tickets arrive.
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    let sent = sent.load(Ordering::Relaxed);
    let mut latencies = Vec::new();
    let (mut missing, mut repeated) = (0u64, 0u64);
    for screen in screens {
        let screen = screen.await?;
        missing += sent.saturating_sub(screen.tickets.len() as u64);
        repeated += screen.repeated;
        latencies.extend(screen.latencies_ms);
    }
    latencies.sort_by(f64::total_cmp);
    let errors = errors.load(Ordering::Relaxed);
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| orders sent to the kitchen | {sent} ({:.0} /s) |",
        sent as f64 / args.seconds as f64
    );
    println!("| tickets delivered to screens | {} |", latencies.len());
    println!(
        "| commit to screen p50 / p99 / p999 / max | {:.2} / {:.2} / {:.2} / {:.1} ms |",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        percentile(&latencies, 0.999),
        percentile(&latencies, 1.0)
    );
    println!("| tickets missing / repeated | {missing} / {repeated} |");
    println!("| errors (orders not sent) | {errors} |");
    println!(
        "| memory per connected stream (idle; server and client side, {CROWD} streams) | {per_stream_kib:.1} KiB |"
    );
    println!(
        "| peak RSS of the process (server, senders, screens) | {:.0} MiB |",
        peak_kib as f64 / 1024.0
    );
    Ok(if errors == 0 && missing == 0 && repeated == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Opens an order with `lines` and sends it to the kitchen.
async fn send_order(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    lines: &Value,
) -> Option<()> {
    let post = |url: String, body: Value| {
        client
            .post(url)
            .bearer_auth(token)
            .header("idempotency-key", uuid::Uuid::now_v7().to_string())
            .json(&body)
            .send()
    };
    let opened = post(
        format!("{base}/orders"),
        json!({ "kind": "counter", "lines": lines }),
    )
    .await
    .ok()
    .filter(|r| r.status().is_success())?
    .json::<Value>()
    .await
    .ok()?;
    let id = opened["id"].as_str()?;
    post(format!("{base}/orders/{id}/send"), json!({ "version": 1 }))
        .await
        .ok()
        .filter(|r| r.status().is_success())
        .map(|_| ())
}

/// One screen: reads its stream until told to stop, timing each ticket from its commit.
async fn watch(
    client: reqwest::Client,
    url: String,
    token: String,
    stop: Arc<AtomicBool>,
) -> Screen {
    let mut screen = Screen::default();
    let Ok(mut response) = client.get(&url).bearer_auth(&token).send().await else {
        return screen;
    };
    screen.connected = response.status().is_success();
    let mut buffer = String::new();
    while !stop.load(Ordering::Relaxed) {
        let chunk = match tokio::time::timeout(Duration::from_millis(200), response.chunk()).await {
            Err(_) => continue,
            Ok(Ok(Some(chunk))) => chunk,
            Ok(_) => break,
        };
        let arrived = chrono::Utc::now();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            if !block.lines().any(|l| l == "event: ticket") {
                continue;
            }
            let Some(data) = block
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .and_then(|d| serde_json::from_str::<Value>(d).ok())
            else {
                continue;
            };
            let logged = data["logged_at"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
            if let Some(logged) = logged {
                let ms = (arrived - logged.with_timezone(&chrono::Utc)).num_microseconds();
                screen
                    .latencies_ms
                    .push(ms.unwrap_or_default() as f64 / 1e3);
            }
            let order = data["order_id"].as_str().unwrap_or_default().to_owned();
            if !screen.tickets.insert(order) {
                screen.repeated += 1;
            }
        }
    }
    screen
}
