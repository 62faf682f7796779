//! `comanda bench outbox`: how fast the outbox drains to a receiver. A backlog of N
//! events is written to one store's outbox, W webhooks point at a receiver on 127.0.0.1
//! that answers 200 and counts distinct event ids, and the delivery workers start; the
//! time until every webhook has every event gives the throughput. `bench orders
//! --webhook-backlog N` uses the same pieces to measure order latency while a backlog
//! drains.

use super::bench_env;
use crate::cli::BenchOutboxArgs;
use crate::settings::Settings;
use anyhow::{Result, anyhow};
use comanda_domain::webhooks::EventFilter;
use comanda_domain::{Role, StoreId, WebhookId, clock};
use comanda_server::AppState;
use comanda_server::webhooks::WebhookConfig;
use comanda_store::{NewOutboxEvent, Storage, Webhook};
use std::collections::HashSet;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Counts what reached it: distinct (path, event id) pairs, and requests.
#[derive(Default)]
pub struct Receiver {
    seen: Mutex<HashSet<(String, String)>>,
    requests: std::sync::atomic::AtomicU64,
}

impl Receiver {
    pub fn distinct(&self) -> usize {
        self.seen.lock().map(|s| s.len()).unwrap_or_default()
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(std::sync::atomic::Ordering::Relaxed)
    }
}

async fn receive(
    axum::extract::State(r): axum::extract::State<Arc<Receiver>>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> axum::http::StatusCode {
    r.requests
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let id = headers
        .get("comanda-event-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if let Ok(mut seen) = r.seen.lock() {
        seen.insert((uri.path().to_owned(), id));
    }
    axum::http::StatusCode::OK
}

/// A receiver on a free local port; its base URL.
pub async fn receiver() -> Result<(String, Arc<Receiver>)> {
    let shared = Arc::new(Receiver::default());
    let app = axum::Router::new()
        .fallback(axum::routing::post(receive))
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((url, shared))
}

/// `events` synthetic `order.paid` events (a few hundred bytes each, like a real one)
/// appended to the store's outbox in batches.
pub async fn fill(storage: &dyn Storage, store: StoreId, events: usize) -> Result<()> {
    let mut written = 0;
    while written < events {
        let batch: Vec<NewOutboxEvent> = (written..events.min(written + 1_000))
            .map(|n| NewOutboxEvent {
                kind: "order.paid".into(),
                payload: serde_json::json!({
                    "order_id": uuid::Uuid::now_v7(), "log_seq": n, "at": clock::now(),
                    "details": { "total": 4_590 + n as i64 % 100, "currency": "BRL",
                                 "tenders": [{ "kind": "cash", "amount": 5_000, "change": 410 }] },
                }),
                at: clock::now(),
            })
            .collect();
        // The log position stays where it is: these events come from no log.
        let at = storage
            .outbox_log_position(store)
            .await
            .map_err(|e| anyhow!("{e}"))?;
        storage
            .copy_log_to_outbox(store, at, at, &batch)
            .await
            .map_err(|e| anyhow!("{e}"))?;
        written += batch.len();
    }
    Ok(())
}

/// `count` webhooks for every event, at `base/hook/{n}`; made before the backlog so
/// they hear all of it.
pub async fn subscribe(
    storage: &dyn Storage,
    store: StoreId,
    base: &str,
    count: usize,
) -> Result<()> {
    for n in 0..count {
        let now = clock::now();
        let webhook = Webhook {
            id: WebhookId::new(),
            store_id: store,
            url: format!("{base}/hook/{n}"),
            events: EventFilter::parse("events", &["*".to_owned()]).map_err(|e| anyhow!("{e}"))?,
            description: "bench".into(),
            active: true,
            version: 1,
            created_by: None,
            created_at: now,
            updated_at: now,
        };
        storage
            .create_webhook(&webhook, "whsec_bench")
            .await
            .map_err(|e| anyhow!("{e}"))?;
    }
    Ok(())
}

/// Starts the log follower and the delivery workers, as `serve` does, posting to
/// 127.0.0.1.
pub fn start_delivery(state: &AppState, workers: usize, busy_rate: u32) -> Result<()> {
    state.set_webhook_config(WebhookConfig {
        allow_private: true,
        workers,
        busy_rate,
        ..WebhookConfig::default()
    });
    comanda_server::webhooks::start(state.clone()).map_err(anyhow::Error::msg)
}

pub async fn run(settings: &Settings, args: &BenchOutboxArgs) -> Result<ExitCode> {
    let db = bench_env::open(settings).await?;
    let storage = db.storage.clone();
    let (store, _) = bench_env::store_and_person(&*storage, "BRL", Role::Manager).await?;
    let (base, receiver) = receiver().await?;
    subscribe(&*storage, store.id, &base, args.webhooks).await?;
    let filling = Instant::now();
    fill(&*storage, store.id, args.events).await?;
    let filled = filling.elapsed().as_secs_f64();
    println!(
        "backend: {}; backlog: {} events written in {filled:.1} s ({:.0}/s); {} webhook(s), {} workers",
        storage.backend(),
        args.events,
        args.events as f64 / filled,
        args.webhooks,
        args.workers
    );
    let (state, _addr) = bench_env::serve(storage.clone()).await?;
    let expected = args.events * args.webhooks;
    let started = Instant::now();
    comanda_server::sales::follow_logs(state.clone());
    start_delivery(
        &state,
        args.workers,
        comanda_server::webhooks::DEFAULT_BUSY_RATE,
    )?;
    let deadline = started + Duration::from_secs(args.timeout_secs);
    while receiver.distinct() < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = started.elapsed().as_secs_f64();
    let delivered = receiver.distinct();
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| deliveries | {delivered} of {expected} in {took:.1} s: **{:.0} /s** |",
        delivered as f64 / took
    );
    println!(
        "| requests received (a retry or a resend counts again) | {} |",
        receiver.requests()
    );
    println!(
        "| peak RSS of the process (server, receiver) | {:.0} MiB |",
        bench_env::rss_kib() as f64 / 1024.0
    );
    Ok(if delivered == expected {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
