//! Card tenders through Stripe, against a local fake of Stripe's API started by the
//! test (never the internet): one PaymentIntent per tender however often it is retried,
//! webhooks checked by signature and idempotent, declines kept as failed tenders, card
//! refunds through the processor, and a processor that cannot be reached.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use comanda_domain::Secret;
use comanda_server::stripe::{Stripe, StripeConfig, signature_header};
use comanda_testkit::identity::{Org, Reply, reply};
use comanda_testkit::{TestDb, on_both_backends};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

on_both_backends!(
    a_retried_card_payment_makes_one_intent_and_the_webhook_completes_it,
    a_card_charged_now_pays_at_once_declines_are_kept_and_refunds_go_back_to_the_card,
    an_unreachable_processor_writes_nothing,
);

const SECRET_KEY: &str = "sk_test_fake";
const WEBHOOK_SECRET: &str = "whsec_test_fake";

/// A request's parameters and the answer it got.
type Kept = (Vec<(String, String)>, StatusCode, Value);

/// What the fake Stripe saw and answered, by idempotency key.
#[derive(Default)]
struct Fake {
    answers: HashMap<String, Kept>,
    intents: Vec<Value>,
    refunds: Vec<Value>,
}

type Shared = Arc<Mutex<Fake>>;

fn lock(fake: &Shared) -> std::sync::MutexGuard<'_, Fake> {
    fake.lock().unwrap_or_else(|e| e.into_inner())
}

/// A form body's fields, in order (what Stripe's API takes).
fn form_of(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// Stripe's idempotency: the same key and parameters get the first answer; the same key
/// with other parameters is an error.
fn idempotent(
    fake: &Shared,
    headers: &HeaderMap,
    form: &[(String, String)],
    make: impl FnOnce(&mut Fake) -> (StatusCode, Value),
) -> axum::response::Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok())
        != Some(&format!("Bearer {SECRET_KEY}"))
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": { "type": "invalid_request_error", "message": "bad key" } })),
        )
            .into_response();
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut fake = lock(fake);
    if let Some((params, status, body)) = fake.answers.get(&key) {
        if params != form {
            return (StatusCode::BAD_REQUEST, Json(json!({ "error": { "type": "idempotency_error", "message": "Keys for idempotent requests can only be used with the same parameters" } }))).into_response();
        }
        return (*status, Json(body.clone())).into_response();
    }
    let (status, body) = make(&mut fake);
    fake.answers
        .insert(key, (form.to_vec(), status, body.clone()));
    (status, Json(body)).into_response()
}

async fn payment_intents(
    State(fake): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    let form = form_of(&body);
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let metadata: serde_json::Map<String, Value> = form
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("metadata[")
                .and_then(|k| k.strip_suffix(']'))
                .map(|k| (k.to_owned(), json!(v)))
        })
        .collect();
    idempotent(&fake, &headers, &form, |fake| {
        let id = format!("pi_{}", fake.intents.len() + 1);
        let mut intent = json!({
            "id": id, "object": "payment_intent",
            "amount": field("amount").and_then(|a| a.parse::<i64>().ok()),
            "currency": field("currency"), "metadata": metadata,
            "client_secret": format!("{id}_secret_abc"), "status": "requires_payment_method",
        });
        let answer = match field("payment_method").as_deref() {
            Some("pm_card_visa") => {
                intent["status"] = json!("succeeded");
                (StatusCode::OK, intent.clone())
            }
            Some("pm_card_chargeDeclined") => {
                let error =
                    json!({ "code": "card_declined", "message": "Your card was declined." });
                intent["last_payment_error"] = error.clone();
                (
                    StatusCode::PAYMENT_REQUIRED,
                    json!({ "error": { "type": "card_error", "code": "card_declined",
                        "message": "Your card was declined.", "payment_intent": intent.clone() } }),
                )
            }
            _ => (StatusCode::OK, intent.clone()),
        };
        fake.intents.push(intent);
        answer
    })
}

async fn refunds(
    State(fake): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    let form = form_of(&body);
    let map: HashMap<String, String> = form.iter().cloned().collect();
    idempotent(&fake, &headers, &form, |fake| {
        let refund = json!({
            "id": format!("re_{}", fake.refunds.len() + 1), "status": "succeeded",
            "payment_intent": map.get("payment_intent"),
            "amount": map.get("amount").and_then(|a| a.parse::<i64>().ok()),
        });
        fake.refunds.push(refund.clone());
        (StatusCode::OK, refund)
    })
}

/// The fake Stripe on a local port; its base URL.
async fn fake_stripe() -> (String, Shared) {
    let fake: Shared = Arc::default();
    let app = Router::new()
        .route("/v1/payment_intents", post(payment_intents))
        .route("/v1/refunds", post(refunds))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, fake)
}

/// An organisation whose server charges cards at a fake Stripe of its own.
async fn org_with_fake_stripe(db: &TestDb) -> (Org, Shared) {
    let org = Org::new(db.storage()).await;
    let (api, fake) = fake_stripe().await;
    use_stripe(&org, api);
    (org, fake)
}

fn use_stripe(org: &Org, api_base: String) {
    let stripe = Stripe::new(StripeConfig {
        secret_key: Secret::new(SECRET_KEY),
        webhook_secret: Some(Secret::new(WEBHOOK_SECRET)),
        api_base,
    })
    .expect("client");
    org.server.state.set_stripe(stripe);
}

fn brl(amount: i64) -> Value {
    json!({ "amount": amount, "currency": "BRL" })
}

struct Counter<'a> {
    org: &'a Org,
    base: String,
}

impl<'a> Counter<'a> {
    fn new(org: &'a Org) -> Self {
        Self {
            org,
            base: format!("/api/v1/stores/{}", org.store_a),
        }
    }

    async fn call(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> Reply {
        let mut request = reqwest::Client::new()
            .request(method, self.org.url(&format!("{}{path}", self.base)))
            .bearer_auth(token);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        reply(request).await
    }

    /// A counter order of `quantity` × 10.00 (no tax), sent; its id.
    async fn sent_order(&self, quantity: i64) -> String {
        let owner = &self.org.owner.token;
        let product = self
            .call(
                owner,
                Method::POST,
                "/catalog/products",
                Some(json!({
                    "name": format!("Pastel {quantity}"), "variants": [{ "price": brl(1000) }],
                })),
                None,
            )
            .await;
        assert_eq!(product.status, 201, "{product:?}");
        let order = self
            .call(owner, Method::POST, "/orders", Some(json!({
                "kind": "counter", "lines": [{ "product_id": product.body["id"], "quantity": quantity }],
            })), None)
            .await;
        assert_eq!(order.status, 201, "{order:?}");
        let id = order.body["id"].as_str().expect("id").to_owned();
        let sent = self
            .call(
                owner,
                Method::POST,
                &format!("/orders/{id}/send"),
                Some(json!({ "version": 1 })),
                None,
            )
            .await;
        assert_eq!(sent.status, 200, "{sent:?}");
        id
    }

    async fn order(&self, id: &str) -> Value {
        self.call(
            &self.org.owner.token,
            Method::GET,
            &format!("/orders/{id}"),
            None,
            None,
        )
        .await
        .body
    }
}

async fn webhook(org: &Org, event: &Value, at: i64) -> Reply {
    let body = serde_json::to_vec(event).expect("json");
    reply(
        reqwest::Client::new()
            .post(org.url("/api/v1/webhooks/stripe"))
            .header(
                "stripe-signature",
                signature_header(WEBHOOK_SECRET.as_bytes(), at, &body),
            )
            .header("content-type", "application/json")
            .body(body),
    )
    .await
}

async fn a_retried_card_payment_makes_one_intent_and_the_webhook_completes_it(db: TestDb) {
    let (org, fake) = org_with_fake_stripe(&db).await;
    let c = Counter::new(&org);
    let oid = c.sent_order(3).await;
    let pay = format!("/orders/{oid}/payments");
    let cashier = &org.cashier.token;
    let body = json!({ "version": 2, "kind": "card" });
    let first = c
        .call(
            cashier,
            Method::POST,
            &pay,
            Some(body.clone()),
            Some("card-1"),
        )
        .await;
    assert_eq!(first.status, 200, "{first:?}");
    assert_eq!(first.body["card"]["client_secret"], "pi_1_secret_abc");
    assert_eq!(first.body["payments"][0]["status"], "pending");
    assert_eq!(first.body["payments"][0]["reference"], "pi_1");
    assert_eq!(
        first.body["status"], "sent",
        "not paid until Stripe says so"
    );
    assert_eq!(first.body["balance"]["pending"], 3000);
    let again = c
        .call(cashier, Method::POST, &pay, Some(body), Some("card-1"))
        .await;
    assert_eq!(again.body, first.body);
    // A stale request is refused before Stripe is asked.
    let stale = c
        .call(
            cashier,
            Method::POST,
            &pay,
            Some(json!({ "version": 2, "kind": "card" })),
            Some("card-2"),
        )
        .await;
    assert_eq!((stale.status, stale.code()), (409, "version_conflict"));
    {
        let fake = lock(&fake);
        assert_eq!(fake.intents.len(), 1, "one PaymentIntent");
        assert_eq!(fake.intents[0]["amount"], 3000);
        assert_eq!(fake.intents[0]["currency"], "brl");
        assert_eq!(fake.intents[0]["metadata"]["order_id"], json!(oid));
    }

    let now = chrono::Utc::now().timestamp();
    let succeeded = json!({
        "id": "evt_1", "type": "payment_intent.succeeded",
        "data": { "object": { "id": "pi_1", "status": "succeeded",
            "metadata": { "store_id": org.store_a, "order_id": oid } } },
    });
    // Wrong secret, tampered body, or an old timestamp: 400, nothing changes.
    let forged = reply(
        reqwest::Client::new()
            .post(org.url("/api/v1/webhooks/stripe"))
            .header(
                "stripe-signature",
                signature_header(b"whsec_other", now, b"{}"),
            )
            .body("{}"),
    )
    .await;
    assert_eq!((forged.status, forged.code()), (400, "invalid_signature"));
    let old = webhook(&org, &succeeded, now - 600).await;
    assert_eq!((old.status, old.code()), (400, "stale_signature"));
    assert_eq!(c.order(&oid).await["version"], 3);

    let ok = webhook(&org, &succeeded, now).await;
    assert_eq!(ok.status, 200, "{ok:?}");
    let paid = c.order(&oid).await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["payments"][0]["status"], "captured");
    assert_eq!(paid["version"], 4);
    // The same delivery again, and the same news in another event: nothing changes.
    let duplicate = webhook(&org, &succeeded, now).await;
    assert_eq!(duplicate.body["duplicate"], true);
    let mut resent = succeeded.clone();
    resent["id"] = json!("evt_2");
    assert_eq!(webhook(&org, &resent, now).await.status, 200);
    let after = c.order(&oid).await;
    assert_eq!(after["version"], 4);
    let kinds: Vec<&str> = after["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "payment_captured").count(),
        1
    );
    assert_eq!(lock(&fake).intents.len(), 1);
}

async fn a_card_charged_now_pays_at_once_declines_are_kept_and_refunds_go_back_to_the_card(
    db: TestDb,
) {
    let (org, fake) = org_with_fake_stripe(&db).await;
    let c = Counter::new(&org);
    let oid = c.sent_order(2).await;
    let pay = format!("/orders/{oid}/payments");
    let cashier = &org.cashier.token;
    let declined = c
        .call(
            cashier,
            Method::POST,
            &pay,
            Some(
                json!({ "version": 2, "kind": "card", "payment_method": "pm_card_chargeDeclined" }),
            ),
            Some("try-1"),
        )
        .await;
    assert_eq!(declined.status, 200, "{declined:?}");
    assert_eq!(declined.body["payments"][0]["status"], "failed");
    assert_eq!(
        declined.body["payments"][0]["failure"],
        "card_declined: Your card was declined."
    );
    assert_eq!(declined.body["balance"]["remaining"], 2000);
    let visa = c
        .call(cashier, Method::POST, &pay, Some(json!({ "version": 3, "kind": "card", "payment_method": "pm_card_visa", "tip": brl(300) })), Some("try-2"))
        .await;
    assert_eq!(visa.status, 200, "{visa:?}");
    assert_eq!(visa.body["status"], "paid");
    assert_eq!(visa.body["payments"][1]["amount"], 2300);
    assert_eq!(lock(&fake).intents[1]["amount"], 2300);

    let refunds = format!("/orders/{oid}/refunds");
    let line = visa.body["lines"][0]["id"].clone();
    let one =
        json!({ "version": 4, "reason": "frio", "lines": [{ "line_id": line, "quantity": 1 }] });
    let unkeyed = c
        .call(
            &org.manager.token,
            Method::POST,
            &refunds,
            Some(one.clone()),
            None,
        )
        .await;
    assert_eq!(
        (unkeyed.status, unkeyed.code()),
        (422, "idempotency_key_required")
    );
    let refunded = c
        .call(
            &org.manager.token,
            Method::POST,
            &refunds,
            Some(one.clone()),
            Some("re-1"),
        )
        .await;
    assert_eq!(refunded.status, 200, "{refunded:?}");
    assert_eq!(refunded.body["refunds"][0]["tenders"][0]["kind"], "card");
    let again = c
        .call(
            &org.manager.token,
            Method::POST,
            &refunds,
            Some(one),
            Some("re-1"),
        )
        .await;
    assert_eq!(again.body, refunded.body);
    let fake = lock(&fake);
    assert_eq!(fake.refunds.len(), 1, "one refund at Stripe");
    assert_eq!(fake.refunds[0]["payment_intent"], "pi_2");
    assert_eq!(fake.refunds[0]["amount"], 1000);
}

async fn an_unreachable_processor_writes_nothing(db: TestDb) {
    let org = Org::new(db.storage()).await;
    // A port nobody listens on.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let api = format!("http://{}", closed.local_addr().expect("address"));
    drop(closed);
    use_stripe(&org, api);
    let c = Counter::new(&org);
    let oid = c.sent_order(1).await;
    let r = c
        .call(
            &org.cashier.token,
            Method::POST,
            &format!("/orders/{oid}/payments"),
            Some(json!({ "version": 2, "kind": "card" })),
            Some("down-1"),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (502, "card_processor_unavailable"),
        "{r:?}"
    );
    let order = c.order(&oid).await;
    assert_eq!(
        (order["version"].clone(), order["payments"].clone()),
        (json!(2), json!([]))
    );
}
