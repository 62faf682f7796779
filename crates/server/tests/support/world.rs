//! An organisation with rows in both stores, made through the API as its owner: what
//! the authorization tests call routes on.

use comanda_domain::StoreId;
use comanda_testkit::identity::{Org, Person, Reply, reply};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};

/// Every day, 10 to 100 meals, three days' notice: today is past its cut-off, the days
/// after the notice are open.
pub fn catering_terms() -> Value {
    json!({
        "starts_on": "2026-01-01",
        "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "price_per_meal": { "amount": 2500, "currency": "BRL" },
        "min_daily": 10, "max_daily": 100, "default_daily": 50,
        "notice_days": 3, "cutoff": "10:00:00",
    })
}

pub const WEBHOOK_SECRET: &str = "whsec_table";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Where {
    Own,
    Other,
}

/// Who is calling: a person, the API key, or nobody.
#[derive(Clone, Debug)]
pub enum Caller {
    Person(Person),
    Key(String),
    Nobody,
}

impl Caller {
    pub fn name(&self) -> String {
        match self {
            Caller::Person(p) => p.role.to_string(),
            Caller::Key(_) => "key".into(),
            Caller::Nobody => "nobody".into(),
        }
    }

    pub fn token(&self) -> Option<&str> {
        match self {
            Caller::Person(p) => Some(&p.token),
            Caller::Key(k) => Some(k),
            Caller::Nobody => None,
        }
    }

    pub fn all_stores(&self) -> bool {
        matches!(self, Caller::Person(p) if p.role.is_privileged())
    }
}

/// An API key made by the owner with every permission a key may hold, in `store`; (id,
/// secret).
async fn everything_key(org: &Org, store: StoreId) -> (String, String) {
    let key = org
        .call(
            Method::POST,
            "/api/v1/api-keys",
            Some(&org.owner.token),
            Some(json!({
                "name": "everything grantable",
                "permissions": [
                    "store_read", "store_manage", "user_read", "device_manage", "audit_read",
                    "catalog_read", "catalog_manage", "product_availability", "stock_manage",
                    "order_read", "order_take", "order_approve", "kitchen_update", "floor_manage",
                    "payment_take", "shift_manage", "report_read", "day_close", "webhook_manage",
                    "catering_read", "catering_manage", "catering_confirm",
                ],
                "store_ids": [store],
            })),
        )
        .await;
    assert_eq!(key.status, 201, "{key:?}");
    (
        key.body["api_key"]["id"].as_str().expect("id").to_owned(),
        key.body["key"].as_str().expect("key").to_owned(),
    )
}

pub struct World {
    pub org: Org,
    /// An API key with every grantable permission in store A, and its id.
    pub key: String,
    pub key_id: String,
    pub device_token: String,
    pub counter: AtomicU32,
    pub passwords: std::sync::Mutex<HashMap<String, String>>,
}

impl World {
    /// The organisation with an API key holding every grantable permission in store A, a
    /// terminal there, the cashier's PIN, and card payments on.
    pub async fn new(org: Org) -> Self {
        let (key_id, key) = everything_key(&org, org.store_a).await;
        let device = org
            .call(
                Method::POST,
                &format!("/api/v1/stores/{}/devices", org.store_a),
                Some(&org.owner.token),
                Some(json!({ "name": "Caixa" })),
            )
            .await;
        let pin = org
            .call(
                Method::PUT,
                &format!("/api/v1/users/{}/pin", org.cashier.id),
                Some(&org.owner.token),
                Some(json!({ "pin": "2580" })),
            )
            .await;
        assert_eq!(pin.status, 204);
        // Card payments on, so the processor's webhook route answers; nothing here calls
        // the processor's API.
        let stripe = comanda_server::stripe::Stripe::new(comanda_server::stripe::StripeConfig {
            secret_key: comanda_domain::Secret::new("sk_test_table"),
            webhook_secret: Some(comanda_domain::Secret::new(WEBHOOK_SECRET)),
            api_base: "http://127.0.0.1:9".into(),
        })
        .expect("client");
        org.server.state.set_stripe(stripe);
        World {
            key,
            key_id,
            device_token: device.body["token"].as_str().expect("token").to_owned(),
            org,
            counter: AtomicU32::new(0),
            passwords: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The secret of a new key with every grantable permission in the own or other store.
    pub async fn key_in(&self, place: Where) -> String {
        let store = match place {
            Where::Own => self.org.store_a,
            Where::Other => self.org.store_b,
        };
        everything_key(&self.org, store).await.1
    }

    /// A PIN sign-in on store A's terminal.
    pub async fn send_as_device(&self, body: Value) -> Reply {
        let request = reqwest::Client::new()
            .post(self.org.url("/api/v1/auth/pin"))
            .header("x-device-token", &self.device_token)
            .json(&body);
        reply(request).await
    }

    /// The staff a terminal (by its token) may sign in.
    pub async fn device_staff(&self, device_token: &str) -> Reply {
        let request = reqwest::Client::new()
            .get(self.org.url("/api/v1/device/staff"))
            .header("x-device-token", device_token);
        reply(request).await
    }

    pub fn n(&self) -> u32 {
        self.counter.fetch_add(1, Ordering::Relaxed)
    }

    pub fn store(&self, place: Where) -> String {
        match place {
            Where::Own => self.org.store_a.to_string(),
            Where::Other => self.org.store_b.to_string(),
        }
    }

    pub async fn as_owner(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.org
            .call(method, path, Some(&self.org.owner.token), body)
            .await
    }

    /// A waiter in the own or other store, made for one request.
    pub async fn fresh_user(&self, place: Where) -> String {
        let r = self
            .as_owner(Method::POST, "/api/v1/users", Some(json!({
                "login": format!("target{}", self.n()), "display_name": "Target", "role": "waiter",
                "store_ids": [self.store(place)], "password": "target passphrase 1",
            })))
            .await;
        assert_eq!(r.status, 201, "{r:?}");
        r.body["user"]["id"].as_str().expect("id").to_owned()
    }

    /// A catering company (a caterer cooks in `store`); its id.
    pub async fn fresh_company(&self, kind: &str, store: Option<String>) -> String {
        let body =
            json!({ "kind": kind, "name": format!("Empresa {}", self.n()), "store_id": store });
        let r = self
            .as_owner(Method::POST, "/api/v1/companies", Some(body))
            .await;
        assert_eq!(r.status, 201, "{r:?}");
        r.body["id"].as_str().expect("id").to_owned()
    }

    /// A contract whose kitchen is the own or other store, with four weeks of days from
    /// the kitchen's today; (contract id, dates).
    pub async fn fresh_contract(&self, place: Where) -> (String, Vec<String>) {
        let caterer = self.fresh_company("caterer", Some(self.store(place))).await;
        let client = self.fresh_company("client", None).await;
        let (product, _) = self.fresh_product(place, None).await;
        let r = self
            .as_owner(
                Method::POST,
                "/api/v1/contracts",
                Some(json!({
                    "caterer_id": caterer, "client_id": client, "terms": catering_terms(),
                    "product_id": product,
                })),
            )
            .await;
        assert_eq!(r.status, 201, "{r:?}");
        let contract = r.body["id"].as_str().expect("id").to_owned();
        let days = self
            .as_owner(
                Method::POST,
                &format!("/api/v1/contracts/{contract}/service-days"),
                Some(json!({})),
            )
            .await;
        assert_eq!(days.status, 200, "{days:?}");
        let dates = days.body["days"]
            .as_array()
            .expect("days")
            .iter()
            .filter_map(|d| d["date"].as_str().map(str::to_owned))
            .collect();
        (contract, dates)
    }

    pub async fn fresh_device(&self, place: Where) -> String {
        let r = self
            .as_owner(
                Method::POST,
                &format!("/api/v1/stores/{}/devices", self.store(place)),
                Some(json!({ "name": "T" })),
            )
            .await;
        assert_eq!(r.status, 201, "{r:?}");
        r.body["device"]["id"].as_str().expect("id").to_owned()
    }

    /// A catalog record made by the owner in the own or other store; returns its id.
    pub async fn fresh(&self, place: Where, kind: &str, body: Value) -> String {
        let path = format!("/api/v1/stores/{}/catalog/{kind}", self.store(place));
        let r = self.as_owner(Method::POST, &path, Some(body)).await;
        assert_eq!(r.status, 201, "{r:?}");
        r.body["id"].as_str().expect("id").to_owned()
    }

    /// A product with one variant; returns (product id, variant id).
    pub async fn fresh_product(&self, place: Where, sku: Option<&str>) -> (String, String) {
        let path = format!("/api/v1/stores/{}/catalog/products", self.store(place));
        let body = json!({
            "name": format!("Produto {}", self.n()),
            "variants": [{ "sku": sku, "price": { "amount": 500, "currency": "BRL" } }],
        });
        let r = self.as_owner(Method::POST, &path, Some(body)).await;
        assert_eq!(r.status, 201, "{r:?}");
        (
            r.body["id"].as_str().expect("id").to_owned(),
            r.body["variants"][0]["id"]
                .as_str()
                .expect("variant")
                .to_owned(),
        )
    }

    /// A webhook with one dead delivery, written as a worker would (no receiver is
    /// reached); (webhook id, delivery id).
    pub async fn fresh_delivery(&self, place: Where) -> (String, String) {
        use comanda_store::{Delivery, DeliveryStatus, NewOutboxEvent};
        let store_id = match place {
            Where::Own => self.org.store_a,
            Where::Other => self.org.store_b,
        };
        // The ones made for earlier rows are done with (a store keeps at most 20).
        for old in self
            .org
            .storage
            .list_webhooks(store_id)
            .await
            .expect("list")
        {
            self.org
                .storage
                .delete_webhook(store_id, old.id)
                .await
                .expect("delete");
        }
        let path = format!("/api/v1/stores/{}/webhooks", self.store(place));
        let body = json!({ "url": "https://example.com/hook", "events": ["*"] });
        let r = self.as_owner(Method::POST, &path, Some(body)).await;
        assert_eq!(r.status, 201, "{r:?}");
        let webhook: comanda_domain::WebhookId =
            r.body["id"].as_str().expect("id").parse().expect("uuid");
        let storage = &self.org.storage;
        let at = storage
            .outbox_log_position(store_id)
            .await
            .expect("position");
        let event = NewOutboxEvent {
            kind: "stock.low".into(),
            payload: json!({}),
            at: comanda_domain::clock::now(),
        };
        assert!(
            storage
                .copy_log_to_outbox(store_id, at, at, &[event])
                .await
                .expect("append")
        );
        let now = comanda_domain::clock::now();
        let leased = storage
            .lease_webhooks(now, now + chrono::Duration::minutes(1), 100)
            .await
            .expect("lease");
        let mut id = None;
        for lease in leased {
            let mut done = Vec::new();
            let mut taken = storage
                .outbox_head(lease.webhook.store_id)
                .await
                .expect("head");
            if lease.webhook.id == webhook {
                let event = storage
                    .outbox_after(store_id, lease.taken_seq, 1)
                    .await
                    .expect("event")
                    .remove(0);
                let delivery = comanda_domain::DeliveryId::new();
                id = Some(delivery.to_string());
                taken = event.seq;
                done.push(Delivery {
                    id: delivery,
                    webhook_id: webhook,
                    store_id,
                    seq: event.seq,
                    event_id: event.id,
                    kind: event.kind,
                    status: DeliveryStatus::Dead,
                    attempts: 1,
                    next_attempt_at: None,
                    attempt_log: Vec::new(),
                    created_at: now,
                    updated_at: now,
                });
            }
            assert!(
                storage
                    .finish_lease(lease.webhook.id, lease.token, taken, &done)
                    .await
                    .expect("finish")
            );
        }
        (webhook.to_string(), id.expect("the new webhook had work"))
    }

    /// A counter order with one pending line, made by the owner; (order id, line id).
    pub async fn fresh_order(&self, place: Where) -> (String, String) {
        let (product, _) = self.fresh_product(place, None).await;
        let path = format!("/api/v1/stores/{}/orders", self.store(place));
        let body =
            json!({ "kind": "counter", "lines": [{ "product_id": product, "quantity": 1 }] });
        let r = self.as_owner(Method::POST, &path, Some(body)).await;
        assert_eq!(r.status, 201, "{r:?}");
        (
            r.body["id"].as_str().expect("id").to_owned(),
            r.body["lines"][0]["id"].as_str().expect("line").to_owned(),
        )
    }

    /// A starter and a main sent together: the main is held (version 2).
    pub async fn coursed_order(&self, place: Where) -> (String, String) {
        let (product, _) = self.fresh_product(place, None).await;
        let path = format!("/api/v1/stores/{}/orders", self.store(place));
        let lines = json!([
            { "product_id": product, "quantity": 1, "course": 1 },
            { "product_id": product, "quantity": 1, "course": 2 },
        ]);
        let r = self
            .as_owner(
                Method::POST,
                &path,
                Some(json!({ "kind": "counter", "lines": lines })),
            )
            .await;
        assert_eq!(r.status, 201, "{r:?}");
        let order = r.body["id"].as_str().expect("id").to_owned();
        let line = r.body["lines"][1]["id"].as_str().expect("line").to_owned();
        let send = format!("{path}/{order}/send");
        let r = self
            .as_owner(Method::POST, &send, Some(json!({ "version": 1 })))
            .await;
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(r.body["lines"][1]["held"], true, "{r:?}");
        (order, line)
    }

    /// The same, sent to the kitchen (version 2).
    pub async fn sent_order(&self, place: Where) -> (String, String) {
        let (order, line) = self.fresh_order(place).await;
        let path = format!("/api/v1/stores/{}/orders/{order}/send", self.store(place));
        let r = self
            .as_owner(Method::POST, &path, Some(json!({ "version": 1 })))
            .await;
        assert_eq!(r.status, 200, "{r:?}");
        (order, line)
    }

    /// A sent order paid in cash (version 3).
    pub async fn paid_order(&self, place: Where) -> (String, String) {
        let (order, line) = self.sent_order(place).await;
        let path = format!(
            "/api/v1/stores/{}/orders/{order}/payments",
            self.store(place)
        );
        let body = json!({ "version": 2, "kind": "cash", "amount": { "amount": 1000, "currency": "BRL" } });
        let r = self.as_owner(Method::POST, &path, Some(body)).await;
        assert_eq!(
            (r.status, &r.body["status"]),
            (200, &json!("paid")),
            "{r:?}"
        );
        (order, line)
    }

    /// A sent order of a product for 18+ (version 2).
    pub async fn restricted_order(&self, place: Where) -> (String, String) {
        let store = self.store(place);
        let product = self
            .fresh(
                place,
                "products",
                json!({ "name": format!("Cachaça {}", self.n()), "age_restricted": 18,
                        "variants": [{ "price": { "amount": 1200, "currency": "BRL" } }] }),
            )
            .await;
        let path = format!("/api/v1/stores/{store}/orders");
        let body =
            json!({ "kind": "counter", "lines": [{ "product_id": product, "quantity": 1 }] });
        let r = self.as_owner(Method::POST, &path, Some(body)).await;
        assert_eq!(r.status, 201, "{r:?}");
        let order = r.body["id"].as_str().expect("id").to_owned();
        let line = r.body["lines"][0]["id"].as_str().expect("line").to_owned();
        let send = format!("{path}/{order}/send");
        let r = self
            .as_owner(Method::POST, &send, Some(json!({ "version": 1 })))
            .await;
        assert_eq!(r.status, 200, "{r:?}");
        (order, line)
    }

    /// A shift opened by the owner on a new terminal (version 1).
    pub async fn fresh_shift(&self, place: Where) -> String {
        let path = format!("/api/v1/stores/{}/shifts", self.store(place));
        let body = json!({
            "float": { "amount": 10000, "currency": "BRL" },
            "device_id": self.fresh_device(place).await,
        });
        let r = self.as_owner(Method::POST, &path, Some(body)).await;
        assert_eq!(r.status, 201, "{r:?}");
        r.body["id"].as_str().expect("id").to_owned()
    }

    /// Closes every open shift of the store, so its day can be closed.
    pub async fn close_shifts(&self, place: Where) {
        let path = format!("/api/v1/stores/{}/shifts", self.store(place));
        let open = self.as_owner(Method::GET, &path, None).await;
        for shift in open.body["items"].as_array().into_iter().flatten() {
            let close = format!("{path}/{}/close", shift["id"].as_str().expect("id"));
            let body =
                json!({ "version": shift["version"], "total": { "amount": 0, "currency": "BRL" } });
            let r = self.as_owner(Method::POST, &close, Some(body)).await;
            assert_eq!(r.status, 200, "{r:?}");
        }
    }

    pub async fn fresh_table(&self, place: Where) -> String {
        let path = format!("/api/v1/stores/{}/tables", self.store(place));
        let body = json!({ "name": format!("Mesa {}", self.n()) });
        let r = self.as_owner(Method::POST, &path, Some(body)).await;
        assert_eq!(r.status, 201, "{r:?}");
        r.body["id"].as_str().expect("id").to_owned()
    }

    pub fn password_of(&self, person: &Person) -> String {
        self.passwords
            .lock()
            .expect("lock")
            .get(&person.login)
            .cloned()
            .unwrap_or_else(|| person.password.clone())
    }

    pub fn password_of_caller(&self, caller: &Caller) -> String {
        match caller {
            Caller::Person(p) => self.password_of(p),
            _ => "not a person".into(),
        }
    }

    /// Another session of `person`: with a recovery code where a second factor is needed.
    pub async fn another_session(&self, person: &Person) -> (String, String) {
        let code = person.recovery_codes.get(self.n() as usize % 10).cloned();
        let r = self
            .org
            .login(&person.login, &self.password_of(person), code.as_deref())
            .await;
        assert_eq!(r.status, 200, "{r:?}");
        (
            r.body["access_token"].as_str().expect("token").to_owned(),
            r.body["session_id"].as_str().expect("id").to_owned(),
        )
    }
}
