//! One delivery worker: lease a webhook with work, post its due deliveries or its next
//! events in order, write the outcome and let the lease go.

use super::{Pacer, Sender, WebhookConfig};
use crate::signature::signature_header;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use comanda_domain::{DeliveryId, clock};
use comanda_store::{Attempt, Delivery, DeliveryStatus, LeasedWebhook, OutboxEvent};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Events or due deliveries taken per lease when the API is quiet: fewer, larger writes
/// drain a backlog fastest (`docs/performance.md`).
const BATCH: i64 = 200;

/// ...and while deliveries are paced behind customers. Each lease ends in one write of
/// its deliveries; on PostgreSQL one of 200 (a row and five index entries each) is a
/// burst of a backend's CPU and WAL that the orders' next commit waits behind, and took
/// the order p999 from 15 to 50-67 ms; writes of 50 leave it where it is without a
/// backlog.
const PACED_BATCH: i64 = 50;

fn batch(courier: &Courier) -> i64 {
    if courier.pacer.pacing() {
        PACED_BATCH
    } else {
        BATCH
    }
}

/// What a worker delivers with: the settings, the HTTP client, and the instance's
/// shared pace.
pub struct Courier {
    pub config: WebhookConfig,
    pub sender: Sender,
    pub pacer: Arc<Pacer>,
}

pub async fn run(state: AppState, courier: Courier) {
    let config = &courier.config;
    loop {
        let now = clock::now();
        let until = now + chrono::Duration::from_std(config.lease()).unwrap_or_default();
        match state.storage.lease_webhooks(now, until, 1).await {
            Ok(leased) if !leased.is_empty() => {
                for webhook in leased {
                    deliver(&state, &courier, webhook).await;
                }
                continue;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot lease webhooks"),
        }
        tokio::select! {
            () = state.outbox_wake.notified() => {}
            () = tokio::time::sleep(config.poll) => {}
        }
    }
}

async fn deliver(state: &AppState, courier: &Courier, leased: LeasedWebhook) {
    let started = Instant::now();
    let id = leased.webhook.id;
    let outcome = if leased.retry_at.is_some() {
        retry_pending(state, courier, &leased, started).await
    } else {
        send_next(state, courier, &leased, started).await
    };
    let (taken, done) = match outcome {
        Ok(result) => result,
        Err(e) => {
            tracing::warn!(webhook = %id, error = %e, "cannot read the outbox");
            (leased.taken_seq, Vec::new())
        }
    };
    match state
        .storage
        .finish_lease(id, leased.token, taken, &done)
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!(webhook = %id, "lost the lease while delivering; another worker takes over")
        }
        Err(e) => {
            tracing::warn!(webhook = %id, error = %e, "cannot record deliveries; they will be sent again")
        }
    }
}

type Outcome = Result<(i64, Vec<Delivery>), comanda_store::StoreError>;

/// Due pending deliveries, oldest first, until one fails again.
async fn retry_pending(
    state: &AppState,
    courier: &Courier,
    leased: &LeasedWebhook,
    started: Instant,
) -> Outcome {
    let mut done = Vec::new();
    for (delivery, event) in state
        .storage
        .pending_deliveries(leased.webhook.id, batch(courier))
        .await?
    {
        if delivery.next_attempt_at.is_some_and(|at| at > clock::now()) {
            break;
        }
        if !attempt_in_turn(state, courier, leased, delivery, &event, &mut done, started).await {
            break;
        }
    }
    Ok((leased.taken_seq, done))
}

/// The events after the cursor that the webhook wants, until one fails.
async fn send_next(
    state: &AppState,
    courier: &Courier,
    leased: &LeasedWebhook,
    started: Instant,
) -> Outcome {
    let webhook = &leased.webhook;
    let mut taken = leased.taken_seq;
    let mut done = Vec::new();
    for event in state
        .storage
        .outbox_after(webhook.store_id, taken, batch(courier))
        .await?
    {
        taken = event.seq;
        if !webhook.events.matches(&event.kind) {
            continue;
        }
        let now = clock::now();
        let delivery = Delivery {
            id: DeliveryId::new(),
            webhook_id: webhook.id,
            store_id: webhook.store_id,
            seq: event.seq,
            event_id: event.id,
            kind: event.kind.clone(),
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: None,
            attempt_log: Vec::new(),
            created_at: now,
            updated_at: now,
        };
        if !attempt_in_turn(state, courier, leased, delivery, &event, &mut done, started).await {
            break;
        }
    }
    Ok((taken, done))
}

/// Attempts `delivery` and keeps it; whether the next one may go: not while this one
/// is still pending (order), nor once the lease's time budget is spent.
async fn attempt_in_turn(
    state: &AppState,
    courier: &Courier,
    leased: &LeasedWebhook,
    mut delivery: Delivery,
    event: &OutboxEvent,
    done: &mut Vec<Delivery>,
    started: Instant,
) -> bool {
    courier.pacer.turn().await;
    attempt(state, courier, leased, &mut delivery, event).await;
    let held = delivery.status == DeliveryStatus::Pending;
    done.push(delivery);
    !held && started.elapsed() <= courier.config.budget()
}

/// What receivers get: the event's id (their key for deduplication), type, store,
/// number in the store's outbox, time, and the event itself.
fn body_of(event: &OutboxEvent) -> String {
    // Strings and times always serialize.
    let kind = serde_json::to_string(&event.kind).unwrap_or_default();
    let at = serde_json::to_string(&event.created_at).unwrap_or_default();
    format!(
        r#"{{"id":"{}","type":{kind},"store_id":"{}","sequence":{},"created_at":{at},"data":{}}}"#,
        event.id, event.store_id, event.seq, event.payload
    )
}

async fn attempt(
    state: &AppState,
    courier: &Courier,
    leased: &LeasedWebhook,
    delivery: &mut Delivery,
    event: &OutboxEvent,
) {
    let body = body_of(event);
    let number = delivery.attempts + 1;
    let at = clock::now();
    let headers = [
        ("comanda-event-id", event.id.to_string()),
        ("comanda-event-type", event.kind.clone()),
        ("comanda-delivery-id", delivery.id.to_string()),
        ("comanda-attempt", number.to_string()),
        (
            "comanda-signature",
            signature_header(leased.secret.as_bytes(), at.timestamp(), body.as_bytes()),
        ),
    ];
    let started = Instant::now();
    let answer = courier
        .sender
        .post(&leased.webhook.url, &headers, body)
        .await;
    let duration_ms = started.elapsed().as_millis() as i64;
    let (status, error) = match answer {
        Ok(a) if (200..300).contains(&a.status) => (Some(i32::from(a.status)), None),
        Ok(a) => (
            Some(i32::from(a.status)),
            Some(
                a.excerpt
                    .unwrap_or_else(|| format!("answered {}", a.status)),
            ),
        ),
        Err(e) => (None, Some(e)),
    };
    let delivered = error.is_none();
    delivery.attempts = number;
    delivery.updated_at = clock::now();
    delivery.attempt_log.push(Attempt {
        at,
        duration_ms,
        status,
        error,
    });
    if delivered {
        delivery.status = DeliveryStatus::Delivered;
        delivery.next_attempt_at = None;
        state.metrics.webhook_attempt("delivered");
        return;
    }
    let random = u64::from_le_bytes(crate::auth::tokens::random_bytes::<8>());
    match courier.config.retry.next_delay(number as u32, random) {
        Some(wait) => {
            delivery.status = DeliveryStatus::Pending;
            delivery.next_attempt_at = Some(later(delivery.updated_at, wait));
            state.metrics.webhook_attempt("failed");
        }
        None => {
            delivery.status = DeliveryStatus::Dead;
            delivery.next_attempt_at = None;
            state.metrics.webhook_attempt("dead");
            tracing::warn!(webhook = %leased.webhook.id, event = %event.id, kind = %event.kind, "webhook delivery dead after {number} attempts");
        }
    }
}

fn later(at: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    at + chrono::Duration::from_std(wait).unwrap_or_default()
}
