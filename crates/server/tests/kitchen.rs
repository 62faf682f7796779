//! The kitchen display through HTTP on both backends: tickets routed to their stations,
//! a stream that a screen can drop and resume without losing or repeating a ticket, and
//! bump/recall telling the floor when an order is ready.

use comanda_server::AppState;
use comanda_server::auth::limiter::Limiter;
use comanda_server::readiness::Readiness;
use comanda_testkit::identity::{Org, relaxed_auth};
use comanda_testkit::{TestDb, TestPostgres, TestServer, on_both_backends};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

on_both_backends!(
    a_dropped_screen_resumes_and_sees_every_ticket_once,
    bumps_make_the_order_ready_and_recall_takes_it_back,
    courses_stations_and_preparation_times,
);

struct Kitchen<'a> {
    org: &'a Org,
    base: String,
}

impl<'a> Kitchen<'a> {
    fn new(org: &'a Org) -> Self {
        Self {
            org,
            base: format!("/api/v1/stores/{}", org.store_a),
        }
    }

    async fn ok(&self, token: &str, method: Method, path: &str, body: Option<Value>) -> Value {
        let r = self
            .org
            .call(method, &format!("{}{path}", self.base), Some(token), body)
            .await;
        assert!((200..300).contains(&r.status), "{path}: {r:?}");
        r.body
    }

    /// Two products, one made at the grill and one at the bar.
    async fn menu(&self) -> (String, String) {
        let owner = &self.org.owner.token;
        let mut ids = Vec::new();
        for (name, station) in [("Picanha", "grill"), ("Caipirinha", "bar")] {
            let p = self
                .ok(
                    owner,
                    Method::POST,
                    "/catalog/products",
                    Some(json!({ "name": name, "station": station,
                        "variants": [{ "price": { "amount": 3000, "currency": "BRL" } }] })),
                )
                .await;
            ids.push(p["id"].as_str().expect("id").to_owned());
        }
        (ids[0].clone(), ids[1].clone())
    }

    /// Opens an order with one of each and sends it; its id.
    async fn order(&self, grill: &str, bar: &str) -> String {
        self.sent(json!([
            { "product_id": grill, "quantity": 1, "notes": "ao ponto" },
            { "product_id": bar, "quantity": 2 },
        ]))
        .await
    }

    /// A cook's action (`start`, `bump`, `recall`) on an order's ticket at a station.
    async fn cook(&self, station: &str, order: &str, action: &str) -> Value {
        let body = (action != "recall").then(|| json!({}));
        let path = format!("/kds/{station}/tickets/{order}/{action}");
        self.ok(&self.org.kitchen.token, Method::POST, &path, body)
            .await
    }

    /// Opens a counter order with `lines` and sends it to the kitchen; its id.
    async fn sent(&self, lines: Value) -> String {
        let waiter = &self.org.waiter.token;
        let opened = self
            .ok(
                waiter,
                Method::POST,
                "/orders",
                Some(json!({ "kind": "counter", "lines": lines })),
            )
            .await;
        let id = opened["id"].as_str().expect("id").to_owned();
        self.ok(
            waiter,
            Method::POST,
            &format!("/orders/{id}/send"),
            Some(json!({ "version": 1 })),
        )
        .await;
        id
    }
}

/// One message of a stream.
#[derive(Debug, Default)]
struct Message {
    id: Option<i64>,
    event: String,
    data: Value,
}

/// Reads messages until `keep` of them were read (then drops the connection) or `until`.
async fn read_stream(
    org: &Org,
    url: &str,
    last_id: Option<i64>,
    keep: usize,
    until: Instant,
) -> Vec<Message> {
    let mut request = reqwest::Client::new()
        .get(url)
        .bearer_auth(&org.kitchen.token);
    if let Some(id) = last_id {
        request = request.header("last-event-id", id.to_string());
    }
    let mut response = request.send().await.expect("connect");
    assert_eq!(response.status(), 200);
    let mut buffer = String::new();
    let mut messages = Vec::new();
    while messages.len() < keep && Instant::now() < until {
        let left = until.saturating_duration_since(Instant::now());
        let Ok(chunk) = tokio::time::timeout(left, response.chunk()).await else {
            break;
        };
        let Some(chunk) = chunk.expect("read") else {
            break;
        };
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let mut message = Message::default();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    message.id = v.trim().parse().ok();
                } else if let Some(v) = line.strip_prefix("event:") {
                    message.event = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    message.data = serde_json::from_str(v.trim()).expect("json data");
                }
            }
            if message.id.is_some() {
                messages.push(message);
            }
        }
    }
    messages
}

async fn a_dropped_screen_resumes_and_sees_every_ticket_once(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let k = Kitchen::new(&org);
    let (grill, bar) = k.menu().await;
    let snapshot = k
        .ok(&org.kitchen.token, Method::GET, "/kds/grill/tickets", None)
        .await;
    assert_eq!(snapshot["tickets"], json!([]));
    let start = snapshot["seq"].as_i64().expect("seq");

    // Orders keep coming while the screen drops and comes back.
    const ORDERS: usize = 30;
    let creating = async {
        let mut ids = Vec::new();
        for _ in 0..ORDERS {
            ids.push(k.order(&grill, &bar).await);
        }
        ids
    };
    let watching = async {
        let url = org.url(&format!("{}/kds/grill/stream", k.base));
        let until = Instant::now() + Duration::from_secs(30);
        let mut last = Some(start);
        let mut tickets: Vec<String> = Vec::new();
        let mut seed: u64 = 7;
        while tickets.len() < ORDERS && Instant::now() < until {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let keep = 1 + (seed >> 33) as usize % 4;
            let connection_ends = until.min(Instant::now() + Duration::from_millis(500));
            for message in read_stream(&org, &url, last, keep, connection_ends).await {
                last = message.id.or(last);
                if message.event == "ticket" {
                    let lines = message.data["lines"].as_array().expect("lines");
                    assert!(
                        lines.iter().all(|l| l["station"] == "grill"),
                        "only the grill's lines: {lines:?}"
                    );
                    tickets.push(message.data["order_id"].as_str().expect("id").to_owned());
                }
            }
        }
        tickets
    };
    let (created, seen) = tokio::join!(creating, watching);
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no ticket twice: {seen:?}");
    assert_eq!(
        unique,
        created.iter().collect::<BTreeSet<_>>(),
        "every ticket"
    );

    // The snapshot now holds them all, current to the end of the log.
    let snapshot = k
        .ok(&org.kitchen.token, Method::GET, "/kds/grill/tickets", None)
        .await;
    assert_eq!(snapshot["tickets"].as_array().map(Vec::len), Some(ORDERS));
    assert_eq!(snapshot["tickets"][0]["lines"][0]["notes"], "ao ponto");
    let bar_screen = k
        .ok(&org.kitchen.token, Method::GET, "/kds/bar/tickets", None)
        .await;
    assert_eq!(bar_screen["tickets"][0]["lines"][0]["quantity"], 2);
    assert_eq!(bar_screen["seq"], snapshot["seq"]);
}

async fn bumps_make_the_order_ready_and_recall_takes_it_back(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let k = Kitchen::new(&org);
    let (grill, bar) = k.menu().await;
    let id = k.order(&grill, &bar).await;
    let cook = &org.kitchen.token;
    let seq = k.ok(cook, Method::GET, "/kds/expo/tickets", None).await["seq"]
        .as_i64()
        .expect("seq");

    k.cook("grill", &id, "start").await;
    let grilled = k.cook("grill", &id, "bump").await;
    assert_eq!(grilled["status"], "sent", "the bar is not done yet");
    let again = org
        .call(
            Method::POST,
            &format!("{}/kds/grill/tickets/{id}/bump", k.base),
            Some(cook),
            Some(json!({})),
        )
        .await;
    assert_eq!(again.status, 409, "{again:?}");
    assert_eq!(again.body["error"]["code"], "nothing_to_bump");

    let done = k.cook("bar", &id, "bump").await;
    assert_eq!(done["status"], "ready", "the waiter sees it ready");
    let grill_screen = k.ok(cook, Method::GET, "/kds/grill/tickets", None).await;
    assert_eq!(grill_screen["tickets"], json!([]));

    let recalled = k.cook("bar", &id, "recall").await;
    assert_eq!(recalled["status"], "sent");
    let bar_screen = k.ok(cook, Method::GET, "/kds/bar/tickets", None).await;
    assert_eq!(bar_screen["tickets"][0]["order_id"], json!(id));

    // The expo screen saw it all, in order, from the sequence it started at.
    let url = format!("{}/kds/expo/stream?after={seq}", k.base);
    let until = Instant::now() + Duration::from_secs(10);
    let mut request = reqwest::Client::new()
        .get(org.url(&url))
        .bearer_auth(cook)
        .send()
        .await
        .expect("connect");
    assert_eq!(request.status(), 200);
    let mut text = String::new();
    while !text.contains("event: recalled") && Instant::now() < until {
        if let Ok(Ok(Some(chunk))) =
            tokio::time::timeout(Duration::from_secs(5), request.chunk()).await
        {
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
    let kinds: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect();
    assert_eq!(kinds, ["kitchen_started", "bumped", "bumped", "recalled"]);
}

async fn courses_stations_and_preparation_times(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let k = Kitchen::new(&org);
    let (grill, bar) = k.menu().await;
    let (cook, waiter, owner) = (&org.kitchen.token, &org.waiter.token, &org.owner.token);

    // A starter at the bar (course 1), a main at the grill (course 2): the main waits.
    let id = k
        .sent(json!([
            { "product_id": bar, "quantity": 1, "course": 1 },
            { "product_id": grill, "quantity": 1, "course": 2 },
        ]))
        .await;
    let grill_screen = k.ok(cook, Method::GET, "/kds/grill/tickets", None).await;
    assert_eq!(grill_screen["tickets"][0]["lines"][0]["held"], true);
    let early = org
        .call(
            Method::POST,
            &format!("{}/kds/grill/tickets/{id}/start", k.base),
            Some(cook),
            Some(json!({})),
        )
        .await;
    assert_eq!(early.body["error"]["code"], "nothing_to_start", "{early:?}");
    let bumped = k.cook("bar", &id, "bump").await;
    assert_eq!(bumped["lines"][1]["held"], false, "the main is fired");
    let nothing = org
        .call(
            Method::POST,
            &format!("{}/orders/{id}/fire", k.base),
            Some(waiter),
            Some(json!({ "course": 2 })),
        )
        .await;
    assert_eq!(nothing.status, 409, "{nothing:?}");
    k.cook("grill", &id, "bump").await;

    // Station settings: thresholds on the screen, checked, versioned.
    let bad = org
        .call(
            Method::PUT,
            &format!("{}/kds/stations/grill", k.base),
            Some(owner),
            Some(
                json!({ "version": 0, "name": "Grelha", "warn_after_s": 600, "late_after_s": 300 }),
            ),
        )
        .await;
    assert_eq!(bad.status, 422, "{bad:?}");
    let saved = k
        .ok(
            owner,
            Method::PUT,
            "/kds/stations/grill",
            Some(
                json!({ "version": 0, "name": "Grelha", "warn_after_s": 300, "late_after_s": 600 }),
            ),
        )
        .await;
    assert_eq!(saved["version"], 1);
    let stale = org
        .call(
            Method::PUT,
            &format!("{}/kds/stations/grill", k.base),
            Some(owner),
            Some(json!({ "version": 0, "name": "Grelha" })),
        )
        .await;
    assert_eq!(stale.status, 409, "{stale:?}");
    let screen = k.ok(cook, Method::GET, "/kds/grill/tickets", None).await;
    assert_eq!(screen["settings"]["warn_after_s"], 300);
    let bar_screen = k.ok(cook, Method::GET, "/kds/bar/tickets", None).await;
    assert_eq!(bar_screen["settings"]["late_after_s"], 720, "defaults");

    // What the kitchen took, by station and product.
    let now = chrono::Utc::now();
    let from =
        (now - chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let until =
        (now + chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let report = k
        .ok(
            cook,
            Method::GET,
            &format!("/kds/prep-times?from={from}&until={until}"),
            None,
        )
        .await;
    // Without its day, the report says which parameter is missing.
    let missing = k
        .org
        .call(
            Method::GET,
            &format!("{}/kds/prep-times", k.base),
            Some(cook),
            None,
        )
        .await;
    assert_eq!(
        (
            missing.status,
            missing.code(),
            &missing.body["error"]["details"]["field"]
        ),
        (400, "invalid_query", &json!("from")),
        "{missing:?}"
    );
    assert!(
        missing.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("`from` is required")),
        "{missing:?}"
    );
    let stations: Vec<&str> = report["stations"]
        .as_array()
        .expect("stations")
        .iter()
        .filter_map(|s| s["station"].as_str())
        .collect();
    assert_eq!(stations, ["bar", "grill"]);
    assert_eq!(report["products"][0]["lines"], 1);
    assert!(
        report["stations"][0]["average_s"]
            .as_f64()
            .is_some_and(|s| s >= 0.0)
    );
}

/// Two instances on one PostgreSQL database: a ticket sent through one reaches a screen
/// connected to the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_sent_on_one_instance_reaches_a_screen_on_another() {
    let Some(pg) = TestPostgres::create().await else {
        return;
    };
    let org = Org::new(pg.open_migrated().await).await;
    let other = TestServer::with_state(AppState::with_auth(
        pg.open_migrated().await,
        Readiness::serving(),
        relaxed_auth(),
        Limiter::local(),
    ))
    .await;
    let k = Kitchen::new(&org);
    let (grill, bar) = k.menu().await;
    let seq = k
        .ok(&org.kitchen.token, Method::GET, "/kds/grill/tickets", None)
        .await["seq"]
        .as_i64()
        .expect("seq");
    let url = other.url(&format!("{}/kds/grill/stream", k.base));
    let until = Instant::now() + Duration::from_secs(10);
    let watching = async {
        let mut last = Some(seq);
        while Instant::now() < until {
            for message in read_stream(&org, &url, last, 1, until).await {
                if message.event == "ticket" {
                    return Some(message);
                }
                last = message.id.or(last);
            }
        }
        None
    };
    let (id, ticket) = tokio::join!(k.order(&grill, &bar), watching);
    let ticket = ticket.expect("the ticket reached the other instance");
    assert_eq!(ticket.data["order_id"], json!(id));
}
