//! Outbound webhooks through HTTP on both backends, against a real receiver on
//! 127.0.0.1: every event ends delivered or dead-lettered, in order, signed; dead ones
//! are replayed on request; private receivers are refused unless allowed; and two
//! instances on one PostgreSQL never deliver an event twice.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use bytes::Bytes;
use comanda_domain::webhooks::RetryPolicy;
use comanda_server::AppState;
use comanda_server::readiness::Readiness;
use comanda_server::signature::verify_signature;
use comanda_server::webhooks::{Sender, WebhookConfig};
use comanda_testkit::identity::{InStore, Org, brl};
use comanda_testkit::{TestDb, TestPostgres, on_both_backends};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

on_both_backends!(
    events_reach_a_flaky_receiver_in_order_signed_and_complete,
    dead_deliveries_are_kept_and_replayed_on_request,
    receivers_on_private_addresses_are_refused_unless_allowed,
    stock_falling_low_is_an_event,
);

/// What the receiver was sent.
#[derive(Clone, Debug)]
struct Hit {
    path: String,
    event_id: String,
    sequence: i64,
    answered: u16,
}

#[derive(Default)]
struct Receiver {
    hits: Mutex<Vec<Hit>>,
    requests: AtomicUsize,
    /// Fails now and then (500s, and answers later than the sender waits).
    flaky: AtomicBool,
    /// Answers 503 to everything.
    down: AtomicBool,
    /// The signing secret of each path.
    secrets: Mutex<HashMap<String, String>>,
    bad_signatures: AtomicUsize,
}

impl Receiver {
    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().expect("hits").clone()
    }
}

async fn hook(
    State(r): State<Arc<Receiver>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let n = r.requests.fetch_add(1, Ordering::SeqCst);
    let path = uri.path().to_owned();
    let secret = r.secrets.lock().expect("secrets").get(&path).cloned();
    let signature = headers
        .get("comanda-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let now = chrono::Utc::now().timestamp();
    if secret.is_none_or(|s| verify_signature(signature, &body, s.as_bytes(), now).is_err()) {
        r.bad_signatures.fetch_add(1, Ordering::SeqCst);
    }
    let event: Value = serde_json::from_slice(&body).unwrap_or_default();
    let answered = if r.down.load(Ordering::SeqCst) {
        StatusCode::SERVICE_UNAVAILABLE
    } else if r.flaky.load(Ordering::SeqCst) && n % 4 == 1 {
        StatusCode::INTERNAL_SERVER_ERROR
    } else if r.flaky.load(Ordering::SeqCst) && n % 6 == 3 {
        // Longer than the sender waits: it counts as a failure and is sent again.
        tokio::time::sleep(Duration::from_millis(400)).await;
        StatusCode::REQUEST_TIMEOUT
    } else {
        StatusCode::OK
    };
    assert_eq!(
        headers
            .get("comanda-event-id")
            .and_then(|v| v.to_str().ok()),
        event["id"].as_str()
    );
    r.hits.lock().expect("hits").push(Hit {
        path,
        event_id: event["id"].as_str().unwrap_or_default().to_owned(),
        sequence: event["sequence"].as_i64().unwrap_or_default(),
        answered: answered.as_u16(),
    });
    answered
}

/// A receiver on a free local port; its base URL.
async fn receiver() -> (String, Arc<Receiver>) {
    let shared = Arc::new(Receiver::default());
    let app = axum::Router::new()
        .fallback(axum::routing::post(hook))
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, shared)
}

/// Quick retries and short waits, so a test sees many attempts in little time.
fn quick(max_attempts: u32) -> WebhookConfig {
    WebhookConfig {
        allow_private: true,
        retry: RetryPolicy {
            max_attempts,
            base: Duration::from_millis(20),
            cap: Duration::from_millis(80),
        },
        timeout: Duration::from_millis(200),
        workers: 2,
        poll: Duration::from_millis(20),
        ..WebhookConfig::default()
    }
}

/// Starts what `serve` runs beside the API: the log follower and the delivery workers.
fn run_background(state: &AppState, config: WebhookConfig) {
    state.set_webhook_config(config);
    comanda_server::sales::follow_logs(state.clone());
    comanda_server::webhooks::start(state.clone()).expect("start webhooks");
}

/// Registers a webhook for `events` at `base` + `path`; its id.
async fn subscribe(t: &InStore<'_>, r: &Receiver, base: &str, path: &str, events: Value) -> String {
    let created = t
        .ok(
            &t.org.owner.token,
            Method::POST,
            "/webhooks",
            json!({ "url": format!("{base}{path}"), "events": events, "description": "test" }),
        )
        .await;
    let secret = created["secret"].as_str().expect("secret");
    assert!(secret.starts_with("whsec_"));
    r.secrets
        .lock()
        .expect("secrets")
        .insert(path.to_owned(), secret.to_owned());
    created["id"].as_str().expect("id").to_owned()
}

/// Counter orders opened and cancelled: two events each.
async fn orders(t: &InStore<'_>, n: usize) {
    for _ in 0..n {
        let token = &t.org.cashier.token;
        let order = t
            .ok(token, Method::POST, "/orders", json!({ "kind": "counter" }))
            .await;
        let id = order["id"].as_str().expect("id");
        t.ok(
            token,
            Method::POST,
            &format!("/orders/{id}/cancel"),
            json!({ "version": 1, "reason": "test" }),
        )
        .await;
    }
}

async fn all_deliveries(t: &InStore<'_>, webhook: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut before = String::new();
    loop {
        let page = t
            .call(
                &t.org.owner.token,
                Method::GET,
                &format!("/webhooks/{webhook}/deliveries?limit=500{before}"),
                None,
            )
            .await;
        assert_eq!(page.status, 200, "{page:?}");
        out.extend(page.body["items"].as_array().cloned().unwrap_or_default());
        match page.body["next"].as_i64() {
            Some(seq) => before = format!("&before={seq}"),
            None => return out,
        }
    }
}

async fn outbox(t: &InStore<'_>) -> Vec<Value> {
    let r = t
        .call(&t.org.owner.token, Method::GET, "/events?limit=1000", None)
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    r.body["items"].as_array().cloned().unwrap_or_default()
}

/// The outbox once it holds `n` events (order events are copied from the log in the
/// background).
async fn outbox_of(t: &InStore<'_>, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let events = outbox(t).await;
        if events.len() >= n {
            return events;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {n} events: {events:?}",
            events.len()
        );
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

/// Waits until every one of `expected` events has a finished delivery.
async fn settled(t: &InStore<'_>, webhook: &str, expected: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let deliveries = all_deliveries(t, webhook).await;
        let finished = deliveries
            .iter()
            .filter(|d| d["status"] != "pending")
            .count();
        if finished == expected && deliveries.len() == expected {
            return deliveries;
        }
        assert!(
            Instant::now() < deadline,
            "{finished} of {expected} deliveries finished: {deliveries:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn events_reach_a_flaky_receiver_in_order_signed_and_complete(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let t = InStore::new(&org);
    let (base, r) = receiver().await;
    r.flaky.store(true, Ordering::SeqCst);
    run_background(&org.server.state, quick(6));
    let webhook = subscribe(&t, &r, &base, "/orders", json!(["order.*"])).await;
    orders(&t, 12).await;

    let ours = outbox_of(&t, 24).await;
    let kinds: HashSet<&str> = ours.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds, HashSet::from(["order.opened", "order.cancelled"]));
    assert_eq!(ours.len(), 24, "opened and cancelled per order: {ours:?}");
    let deliveries = settled(&t, &webhook, 24).await;
    // Each event once, each delivered (the receiver never fails six times running).
    let delivered: HashSet<&str> = deliveries
        .iter()
        .filter(|d| d["status"] == "delivered")
        .filter_map(|d| d["event_id"].as_str())
        .collect();
    let expected: HashSet<&str> = ours.iter().filter_map(|e| e["id"].as_str()).collect();
    assert_eq!(delivered, expected);
    // Failed attempts are in the log of the delivery, with why.
    let retried: Vec<&Value> = deliveries
        .iter()
        .filter(|d| d["attempts"].as_i64() > Some(1))
        .collect();
    assert!(
        !retried.is_empty(),
        "the receiver failed some: {deliveries:?}"
    );
    for d in &retried {
        let log = d["attempt_log"].as_array().expect("attempt log");
        assert_eq!(log.len() as i64, d["attempts"].as_i64().unwrap_or_default());
        assert!(log[0]["error"].is_string(), "{d}");
    }
    // The receiver saw every event signed, and took them in the outbox's order: the
    // first successful receipt of each event comes after the previous event's.
    let hits = r.hits();
    assert_eq!(r.bad_signatures.load(Ordering::SeqCst), 0);
    let mut seen = HashSet::new();
    let mut order = Vec::new();
    for hit in hits.iter().filter(|h| h.answered == 200) {
        if seen.insert(hit.event_id.clone()) {
            order.push(hit.sequence);
        }
    }
    assert_eq!(seen.len(), 24);
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    // Retried events reach the receiver more than once; it dedupes by the event id.
    assert!(hits.len() > 24);

    let text = reqwest::get(org.url("/metrics")).await.expect("metrics");
    let text = text.text().await.expect("text");
    assert!(
        text.contains("comanda_webhook_attempts_total{outcome=\"delivered\"} 24"),
        "{text}"
    );
}

async fn dead_deliveries_are_kept_and_replayed_on_request(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let t = InStore::new(&org);
    let (base, r) = receiver().await;
    run_background(&org.server.state, quick(2));
    let webhook = subscribe(&t, &r, &base, "/hook", json!(["order.opened"])).await;
    r.down.store(true, Ordering::SeqCst);
    orders(&t, 1).await;
    let deliveries = settled(&t, &webhook, 1).await;
    let dead = &deliveries[0];
    assert_eq!(dead["status"], "dead", "{dead}");
    assert_eq!(dead["attempts"], 2);
    assert_eq!(dead["attempt_log"][1]["status"], 503);
    // A dead delivery does not hold back the next events.
    r.down.store(false, Ordering::SeqCst);
    orders(&t, 1).await;
    let deliveries = settled(&t, &webhook, 2).await;
    assert_eq!(
        deliveries[0]["status"], "delivered",
        "newest first: {deliveries:?}"
    );

    let owner = &org.owner.token;
    let id = dead["id"].as_str().expect("id");
    let listed = t
        .call(
            owner,
            Method::GET,
            &format!("/webhooks/{webhook}/deliveries?status=dead"),
            None,
        )
        .await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));
    // Waiters do not manage webhooks.
    let refused = t
        .call(
            &org.waiter.token,
            Method::POST,
            &format!("/webhooks/{webhook}/replay"),
            None,
        )
        .await;
    assert_eq!(refused.status, 403, "{refused:?}");
    let replayed = t
        .call(
            owner,
            Method::POST,
            &format!("/webhooks/{webhook}/replay"),
            None,
        )
        .await;
    assert_eq!(
        (replayed.status, &replayed.body["replayed"]),
        (202, &json!(1))
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let again = loop {
        let one = t
            .call(
                owner,
                Method::GET,
                &format!("/webhooks/{webhook}/deliveries/{id}"),
                None,
            )
            .await;
        if one.body["status"] == "delivered" {
            break one.body;
        }
        assert!(Instant::now() < deadline, "{one:?}");
        tokio::time::sleep(Duration::from_millis(30)).await;
    };
    assert_eq!(again["attempt_log"].as_array().map(Vec::len), Some(3));
    assert_eq!(again["attempt_log"][2]["status"], 200);
    // A delivery already delivered can be sent again; one still pending cannot be.
    let resent = t
        .call(
            owner,
            Method::POST,
            &format!("/webhooks/{webhook}/deliveries/{id}/replay"),
            None,
        )
        .await;
    assert_eq!(resent.status, 202, "{resent:?}");
    let unknown = t
        .call(
            owner,
            Method::POST,
            &format!(
                "/webhooks/{webhook}/deliveries/{}/replay",
                uuid::Uuid::now_v7()
            ),
            None,
        )
        .await;
    assert_eq!(unknown.status, 404);
}

fn reason(body: &Value) -> &str {
    body["error"]["details"]["reason"]
        .as_str()
        .unwrap_or_default()
}

async fn receivers_on_private_addresses_are_refused_unless_allowed(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let t = InStore::new(&org);
    let owner = &org.owner.token;
    for (url, code) in [
        ("http://127.0.0.1:9/hook", "url_not_allowed"),
        ("http://localhost:9/hook", "url_not_allowed"),
        ("http://169.254.169.254/latest/meta-data", "url_not_allowed"),
        ("http://[::1]:9/", "url_not_allowed"),
        ("ftp://example.com/hook", "invalid_url"),
        ("https://user:pw@example.com/hook", "invalid_url"),
    ] {
        let r = t
            .call(
                owner,
                Method::POST,
                "/webhooks",
                Some(json!({ "url": url, "events": ["*"] })),
            )
            .await;
        assert_eq!((r.status, reason(&r.body)), (422, code), "{url}: {r:?}");
        if code == "url_not_allowed" {
            // The refusal says how an operator allows receivers inside their network.
            assert!(
                r.body.to_string().contains("COMANDA_WEBHOOK_ALLOW_PRIVATE"),
                "{url}: {r:?}"
            );
        }
    }
    let unknown = t
        .call(
            owner,
            Method::POST,
            "/webhooks",
            Some(json!({ "url": "https://example.com/hook", "events": ["order.eaten"] })),
        )
        .await;
    assert_eq!(
        (unknown.status, reason(&unknown.body)),
        (422, "unknown_event_type")
    );
    let listed = t.call(owner, Method::GET, "/webhooks", None).await;
    assert_eq!(listed.body["items"], json!([]), "nothing written");

    // A public address is taken; a later change to a private one is refused too.
    let made = t
        .ok(
            owner,
            Method::POST,
            "/webhooks",
            json!({ "url": "https://example.com/hook", "events": ["order.paid"] }),
        )
        .await;
    let id = made["id"].as_str().expect("id");
    assert!(made.get("secret").is_some());
    let fetched = t
        .call(owner, Method::GET, &format!("/webhooks/{id}"), None)
        .await;
    assert!(
        fetched.body.get("secret").is_none(),
        "the secret is shown once"
    );
    let moved = t
        .call(
            owner,
            Method::PATCH,
            &format!("/webhooks/{id}"),
            Some(json!({ "version": 1, "url": "http://10.0.0.5/" })),
        )
        .await;
    assert_eq!(
        (moved.status, reason(&moved.body)),
        (422, "url_not_allowed")
    );
    let stale = t
        .call(
            owner,
            Method::PATCH,
            &format!("/webhooks/{id}"),
            Some(json!({ "version": 7, "active": false })),
        )
        .await;
    assert_eq!(stale.status, 409, "{stale:?}");

    // Names are checked when they are resolved, at each attempt: a name that points at
    // a loopback address is refused then, whatever it was when the webhook was saved.
    let (base, r) = receiver().await;
    let port = base.rsplit(':').next().expect("port");
    let guarded = Sender::new(&WebhookConfig::default()).expect("sender");
    let refused = guarded
        .post(&format!("http://localhost:{port}/x"), &[], "{}".into())
        .await
        .expect_err("loopback refused");
    assert!(refused.contains("no public address"), "{refused}");
    let numeric = guarded
        .post(&format!("http://127.0.0.1:{port}/x"), &[], "{}".into())
        .await
        .expect_err("loopback refused");
    assert!(numeric.contains("private"), "{numeric}");
    assert!(r.hits().is_empty());
    let allowed = Sender::new(&WebhookConfig {
        allow_private: true,
        ..Default::default()
    })
    .expect("sender");
    let answer = allowed
        .post(&format!("http://localhost:{port}/x"), &[], "{}".into())
        .await
        .expect("allowed");
    assert_eq!(answer.status, 200);
}

async fn stock_falling_low_is_an_event(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let t = InStore::new(&org);
    let manager = &org.manager.token;
    let gin = t
        .ok(
            manager,
            Method::POST,
            "/catalog/products",
            json!({ "name": "Gin", "track_stock": true, "variants": [{ "sku": "GIN", "price": brl(9000) }] }),
        )
        .await;
    let variant = gin["variants"][0]["id"]
        .as_str()
        .expect("variant")
        .to_owned();
    t.ok(
        manager,
        Method::PUT,
        &format!("/catalog/stock/{variant}/threshold"),
        json!({ "low_threshold": 2 }),
    )
    .await;
    let movement = |q: i64, kind: &str| json!({ "movements": [{ "variant_id": variant, "kind": kind, "quantity": q }] });
    t.ok(
        manager,
        Method::POST,
        "/catalog/stock/movements",
        movement(5, "receipt"),
    )
    .await;
    t.ok(
        manager,
        Method::POST,
        "/catalog/stock/movements",
        movement(-2, "adjustment"),
    )
    .await;
    assert!(
        outbox(&t).await.is_empty(),
        "5 -> 3 is still above the threshold"
    );
    t.ok(
        manager,
        Method::POST,
        "/catalog/stock/movements",
        movement(-1, "adjustment"),
    )
    .await;
    t.ok(
        manager,
        Method::POST,
        "/catalog/stock/movements",
        movement(-1, "adjustment"),
    )
    .await;
    let events = outbox(&t).await;
    assert_eq!(events.len(), 1, "only the crossing: {events:?}");
    assert_eq!(events[0]["kind"], "stock.low");
    assert_eq!(events[0]["seq"], 1);
    assert_eq!(events[0]["data"]["on_hand"], 2);
    assert_eq!(events[0]["data"]["threshold"], 2);
}

/// Two instances sharing one PostgreSQL, each with its own pool, log follower and
/// workers, deliver every event to every webhook exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgres_deliver_each_event_once() {
    let Some(pg) = TestPostgres::create().await else {
        return;
    };
    let first = pg.open_migrated().await;
    let second = pg.open_migrated().await;
    let org = Org::new(first).await;
    let t = InStore::new(&org);
    let (base, r) = receiver().await;
    let config = WebhookConfig {
        workers: 3,
        ..quick(3)
    };
    run_background(&org.server.state, config.clone());
    let other = AppState::new(second, Readiness::serving());
    run_background(&other, config);
    let mut webhooks = Vec::new();
    for n in 0..3 {
        webhooks.push(subscribe(&t, &r, &base, &format!("/hook/{n}"), json!(["*"])).await);
    }
    orders(&t, 40).await;
    for webhook in &webhooks {
        settled(&t, webhook, 80).await;
    }
    let hits = r.hits();
    assert_eq!(r.bad_signatures.load(Ordering::SeqCst), 0);
    let mut per_path: HashMap<(String, String), usize> = HashMap::new();
    for hit in &hits {
        *per_path
            .entry((hit.path.clone(), hit.event_id.clone()))
            .or_default() += 1;
    }
    assert_eq!(per_path.len(), 240);
    let twice: Vec<_> = per_path.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
}
