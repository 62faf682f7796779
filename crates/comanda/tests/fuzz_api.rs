//! Malformed requests over every route of the route table, against the real binary on
//! SQLite and on PostgreSQL: wrong types, huge and negative numbers, NUL and control
//! characters, unknown ids and another store's, bad cursors and queries, broken JSON,
//! oversized bodies, wrong content types and methods, bad credentials and idempotency
//! keys. Every answer must be below 500, the process must stay alive, and the order
//! logs' hash chains must verify afterwards.
//!
//! Deterministic by default (a fixed seed); `COMANDA_FUZZ_SEED` and
//! `COMANDA_FUZZ_REQUESTS` change the run, and `COMANDA_FUZZ_ONLY=N` sends request number
//! N alone (after the same set-up), to replay a failure.

mod support;

use comanda_server::api_routes;
use comanda_server::auth::totp;
use comanda_testkit::TestPostgres;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::orders::bootstrap_postgres;
use support::{Server, comanda, prepared, run};

const OWNER_PASSWORD: &str = "owner passphrase 1";
const WORKERS: usize = 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_malformed_requests_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    comanda_store::Ops::close(&prepared(dir.path()).await).await;
    fuzz(dir.path(), None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_malformed_requests_on_postgres() {
    let Some(db) = TestPostgres::create().await else {
        return;
    };
    comanda_store::Ops::close(&*bootstrap_postgres(&db).await).await;
    let dir = tempfile::tempdir().expect("temp dir");
    fuzz(dir.path(), Some(&db.url)).await;
}

fn command(dir: &Path, database: Option<&str>) -> Command {
    let mut cmd = comanda(dir);
    if let Some(url) = database {
        cmd.env("COMANDA_DATABASE_URL", url);
    }
    // A hang shows as a 503 rather than a test that never ends; 12 s (under the client's
    // 15) so that a machine busy with other tests is not taken for one (5 s was, once in
    // a full run: three requests of 20,000 answered 503 together).
    cmd.env("COMANDA_REQUEST_TIMEOUT_SECS", "12")
        .env("COMANDA_LOGIN_RATE_IP", "1000000/1s")
        .env("COMANDA_LOG", "warn,comanda=info");
    cmd
}

async fn fuzz(dir: &Path, database: Option<&str>) {
    let requests: usize = std::env::var("COMANDA_FUZZ_REQUESTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let seed: u64 = std::env::var("COMANDA_FUZZ_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0x00c0_3a4d_a5e7);
    let mut server = Server::start(command(dir, database)).await;
    server.wait_ready(Duration::from_secs(30)).await;
    let fixtures = Arc::new(Fixtures::make(&server).await);
    let routes: Arc<Vec<(String, String)>> = Arc::new(
        api_routes()
            .into_iter()
            .map(|r| (r.method.to_string(), r.path))
            .collect(),
    );
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .expect("client");
    let only: Option<usize> = std::env::var("COMANDA_FUZZ_ONLY")
        .ok()
        .and_then(|n| n.parse().ok());
    let (first, requests) = match only {
        Some(n) => (n, n + 1),
        None => (0, requests),
    };
    let next = Arc::new(AtomicUsize::new(first));
    let failures: Arc<Mutex<Vec<String>>> = Arc::default();
    let statuses: Arc<Mutex<HashMap<u16, usize>>> = Arc::default();
    let mut workers = Vec::new();
    for _ in 0..WORKERS {
        let (next, failures, statuses) = (next.clone(), failures.clone(), statuses.clone());
        let (routes, fixtures, http) = (routes.clone(), fixtures.clone(), http.clone());
        let base = server.url.clone();
        workers.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= requests {
                    return;
                }
                let mut rng = Rng::for_request(seed, n as u64);
                // Round the table so every route gets its share.
                let (method, template) = &routes[n % routes.len()];
                let request = fixtures.request(&mut rng, method, template);
                let outcome = request.send(&http, &base).await;
                *statuses
                    .lock()
                    .expect("statuses")
                    .entry(outcome.0)
                    .or_default() += 1;
                if outcome.0 >= 500 || outcome.0 == 0 {
                    failures.lock().expect("failures").push(format!(
                        "#{n} {} {} -> {} {}\n    body: {}",
                        request.method,
                        request.path,
                        outcome.0,
                        outcome.1,
                        request.describe_body()
                    ));
                }
            }
        }));
    }
    for worker in workers {
        worker.await.expect("worker");
    }
    let statuses = statuses.lock().expect("statuses").clone();
    let mut by_status: Vec<_> = statuses.into_iter().collect();
    by_status.sort();
    eprintln!(
        "{requests} requests over {} routes (seed {seed}): {by_status:?}",
        routes.len()
    );
    let failures = failures.lock().expect("failures").clone();
    assert!(
        failures.is_empty(),
        "{} answers of 500 or more (or none):\n{}",
        failures.len(),
        failures
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(server.is_running(), "the process is alive");
    let live = reqwest::get(server.url("/live")).await.expect("live");
    assert_eq!(live.status(), 200);
    server.signal("TERM");
    let stopped = server.wait_exit(Duration::from_secs(30)).await;
    assert!(stopped.success(), "{}", server.stderr());
    let verified = run(command(dir, database).args(["audit", "verify"]));
    assert!(
        verified.status.success(),
        "{}\n{}",
        verified.stdout,
        verified.stderr
    );
}

/// xorshift64*: small, fast and the same everywhere, which is all a fuzzer needs.
struct Rng(u64);

impl Rng {
    /// Request `n` of a run: seeds mixed by splitmix64, so that neighbouring seeds and
    /// requests draw unrelated streams.
    fn for_request(seed: u64, n: u64) -> Self {
        let mut z = seed
            .wrapping_add(n.wrapping_mul(0x9e37_79b9_7f4a_7c15))
            .wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Self((z ^ (z >> 31)) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Ids and credentials of a store set up through the API, and another store's.
struct Fixtures {
    owner: String,
    key: String,
    other_manager: String,
    device_token: String,
    ids: HashMap<&'static str, String>,
    /// Ids of the other store's rows, for "another store's ids".
    foreign: Vec<String>,
}

/// Set-up calls as one person, each of which must work.
struct Setup<'a> {
    http: reqwest::Client,
    server: &'a Server,
    token: String,
}

impl Setup<'_> {
    async fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let method: reqwest::Method = method.parse().expect("method");
        let response = self
            .http
            .request(method.clone(), self.server.url(path))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .expect("set-up request");
        let status = response.status();
        let value: Value = response.json().await.unwrap_or(Value::Null);
        assert!(
            status.is_success(),
            "set-up {method} {path}: {status} {value}"
        );
        value
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.call("POST", path, body).await
    }
}

fn id(value: &Value, pointer: &str) -> String {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{pointer} in {value}"))
        .to_owned()
}

fn brl(amount: i64) -> Value {
    json!({ "amount": amount, "currency": "BRL" })
}

impl Fixtures {
    async fn make(server: &Server) -> Self {
        let http = reqwest::Client::new();
        let owner = support::sign_in_as(&http, server, "owner", OWNER_PASSWORD).await;
        let setup = Setup {
            http: http.clone(),
            server,
            token: owner.clone(),
        };
        let enrolment = setup.post("/api/v1/me/totp", json!({})).await;
        let secret = comanda_domain::Secret::new(id(&enrolment, "/secret"));
        let step = totp::step_at(comanda_domain::clock::now().timestamp());
        let code = format!("{:06}", totp::code_at(&secret, step).expect("code"));
        setup
            .post("/api/v1/me/totp/confirm", json!({ "code": code }))
            .await;

        let stores = setup.call("GET", "/api/v1/stores", json!(null)).await;
        let store = id(&stores, "/items/0/id");
        let at = |path: &str| format!("/api/v1/stores/{store}{path}");
        let mut ids: HashMap<&'static str, String> = HashMap::new();
        let tax = setup
            .post(
                &at("/catalog/tax-rates"),
                json!({ "name": "ISS", "rate": "10" }),
            )
            .await;
        ids.insert("tax_rate_id", id(&tax, "/id"));
        let category = setup
            .post(&at("/catalog/categories"), json!({ "name": "Pratos" }))
            .await;
        ids.insert("category_id", id(&category, "/id"));
        let group = setup.post(&at("/catalog/modifier-groups"), json!({
            "name": "Ponto", "min_choices": 0, "max_choices": 2,
            "options": [{ "name": "Mal", "price_delta": brl(0) }, { "name": "Bem", "price_delta": brl(150) }],
        })).await;
        ids.insert("group_id", id(&group, "/id"));
        ids.insert("option_id", id(&group, "/options/0/id"));
        let product = setup.post(&at("/catalog/products"), json!({
            "name": "Picanha", "category_id": ids["category_id"], "modifier_group_ids": [ids["group_id"]],
            "tax_rate_ids": [ids["tax_rate_id"]], "track_stock": true,
            "variants": [{ "name": "300 g", "sku": "PIC-300", "price": brl(8900) },
                         { "name": "500 g", "sku": "PIC-500", "price": brl(12900) }],
        })).await;
        ids.insert("product_id", id(&product, "/id"));
        ids.insert("variant_id", id(&product, "/variants/0/id"));
        let area = setup.post(&at("/areas"), json!({ "name": "Salão" })).await;
        ids.insert("area_id", id(&area, "/id"));
        let table = setup
            .post(
                &at("/tables"),
                json!({ "name": "Mesa 1", "area_id": ids["area_id"] }),
            )
            .await;
        ids.insert("table_id", id(&table, "/id"));
        let device = setup
            .post(&at("/devices"), json!({ "name": "Caixa" }))
            .await;
        ids.insert("device_id", id(&device, "/device/id"));
        let device_token = id(&device, "/token");
        let user = setup
            .post(
                "/api/v1/users",
                json!({
                    "login": "garcom", "display_name": "Garçom", "role": "waiter",
                    "store_ids": [store], "password": "waiter passphrase 1",
                }),
            )
            .await;
        ids.insert("user_id", id(&user, "/user/id"));
        let order = setup.post(&at("/orders"), json!({
            "kind": "dine_in", "table_id": ids["table_id"],
            "lines": [{ "product_id": ids["product_id"], "variant_id": ids["variant_id"], "quantity": 2, "options": [ids["option_id"]] }],
        })).await;
        ids.insert("order_id", id(&order, "/id"));
        ids.insert("line_id", id(&order, "/lines/0/id"));
        let shift = setup
            .post(
                &at("/shifts"),
                json!({ "float": brl(10000), "device_id": ids["device_id"] }),
            )
            .await;
        ids.insert("shift_id", id(&shift, "/id"));
        let webhook = setup
            .post(
                &at("/webhooks"),
                json!({ "url": "https://example.com/hook", "events": ["order.*"] }),
            )
            .await;
        ids.insert("webhook_id", id(&webhook, "/id"));
        let caterer = setup
            .post(
                "/api/v1/companies",
                json!({ "kind": "caterer", "name": "Cozinha", "store_id": store }),
            )
            .await;
        ids.insert("company_id", id(&caterer, "/id"));
        let client = setup
            .post(
                "/api/v1/companies",
                json!({ "kind": "client", "name": "Acme" }),
            )
            .await;
        ids.insert("client_id", id(&client, "/id"));
        let contract = setup.post("/api/v1/contracts", json!({
            "caterer_id": ids["company_id"], "client_id": ids["client_id"], "product_id": ids["product_id"],
            "terms": { "starts_on": "2026-01-01", "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                       "price_per_meal": brl(2500), "min_daily": 10, "max_daily": 100, "default_daily": 50,
                       "notice_days": 3, "cutoff": "10:00:00" },
        })).await;
        ids.insert("contract_id", id(&contract, "/id"));
        let days = setup
            .post(
                &format!("/api/v1/contracts/{}/service-days", ids["contract_id"]),
                json!({}),
            )
            .await;
        let date = id(&days, "/days/5/date");
        ids.insert("month", date[..7].to_owned());
        ids.insert("date", date);
        ids.insert("store_id", store.clone());
        ids.insert("station", "kitchen".to_owned());
        ids.insert("number", "1".to_owned());
        let key = setup.post("/api/v1/api-keys", json!({
            "name": "tudo", "store_ids": [store],
            "permissions": ["store_read", "catalog_read", "catalog_manage", "order_read", "order_take",
                            "payment_take", "report_read", "webhook_manage", "catering_read", "audit_read"],
        })).await;
        ids.insert("api_key_id", id(&key, "/api_key/id"));
        let key = id(&key, "/key");

        // Another store, its manager and some rows: their ids are "another store's".
        let other = setup.post("/api/v1/stores", json!({
            "code": "filial", "name": "Filial", "currency": "BRL", "timezone": "America/Sao_Paulo", "locale": "pt-BR",
        })).await;
        let other_store = id(&other, "/id");
        let other_at = |path: &str| format!("/api/v1/stores/{other_store}{path}");
        let other_product = setup
            .post(
                &other_at("/catalog/products"),
                json!({
                    "name": "Chope", "variants": [{ "price": brl(1200) }],
                }),
            )
            .await;
        let other_order = setup.post(&other_at("/orders"), json!({
            "kind": "counter", "lines": [{ "product_id": id(&other_product, "/id"), "quantity": 1 }],
        })).await;
        setup
            .post(
                "/api/v1/users",
                json!({
                    "login": "gerente_filial", "display_name": "Gerente", "role": "manager",
                    "store_ids": [other_store], "password": "manager passphrase 1",
                }),
            )
            .await;
        let other_manager =
            support::sign_in_as(&http, server, "gerente_filial", "manager passphrase 1").await;
        let foreign = vec![
            other_store,
            id(&other_product, "/id"),
            id(&other_product, "/variants/0/id"),
            id(&other_order, "/id"),
            id(&other_order, "/lines/0/id"),
        ];
        Self {
            owner,
            key,
            other_manager,
            device_token,
            ids,
            foreign,
        }
    }

    /// A valid-looking body for a write, to be broken by the mutations.
    fn base_body(&self, method: &str, template: &str) -> Value {
        let f = |name: &str| self.ids.get(name).cloned().unwrap_or_default();
        let tail = template.rsplit('/').next().unwrap_or_default();
        let stores = template.starts_with("/api/v1/stores/{store_id}");
        match (method, template) {
            ("GET" | "DELETE", _) => Value::Null,
            (_, "/api/v1/auth/login") => {
                json!({ "login": "owner", "password": "not the password" })
            }
            (_, "/api/v1/auth/refresh") => json!({ "refresh_token": "ck1.nope.nope" }),
            (_, "/api/v1/auth/pin") => json!({ "user_id": f("user_id"), "pin": "1234" }),
            (_, "/api/v1/webhooks/stripe") => {
                json!({ "id": "evt_1", "type": "payment_intent.succeeded", "data": { "object": {} } })
            }
            (_, "/api/v1/me/password") => {
                json!({ "current_password": "wrong", "new_password": "another long passphrase" })
            }
            (_, "/api/v1/me/totp/confirm") => json!({ "code": "123456" }),
            (_, "/api/v1/me/pin") => json!({ "password": "wrong", "pin": "4826" }),
            (_, "/api/v1/me/locale") => json!({ "locale": "id-ID" }),
            (_, "/api/v1/stores") => {
                json!({ "code": "nova", "name": "Nova", "currency": "BRL", "timezone": "UTC", "locale": "pt-BR" })
            }
            ("PATCH", "/api/v1/stores/{store_id}") => json!({ "version": 1, "name": "Centro" }),
            (_, "/api/v1/users") => {
                json!({ "login": "novo", "display_name": "Novo", "role": "waiter", "store_ids": [f("store_id")], "password": "new hire passphrase" })
            }
            ("PATCH", _) if template.starts_with("/api/v1/users/") => {
                json!({ "version": 1, "display_name": "Outro", "role": "cashier", "store_ids": [f("store_id")] })
            }
            (_, "/api/v1/users/{user_id}/pin") => json!({ "pin": "4826" }),
            (_, "/api/v1/api-keys") => {
                json!({ "name": "k", "permissions": ["store_read"], "store_ids": [f("store_id")], "expires_in_days": 30 })
            }
            (_, "/api/v1/companies") => json!({ "kind": "client", "name": "Cliente" }),
            (_, "/api/v1/contracts") => {
                json!({ "caterer_id": f("company_id"), "client_id": f("client_id"),
                "terms": { "starts_on": "2026-01-01", "weekdays": ["mon"], "price_per_meal": brl(2500), "min_daily": 1,
                           "max_daily": 10, "default_daily": 5, "notice_days": 1, "cutoff": "10:00:00" } })
            }
            ("PATCH", "/api/v1/contracts/{contract_id}") => {
                json!({ "version": 1, "status": "paused" })
            }
            (_, "/api/v1/contracts/{contract_id}/service-days") => {
                json!({ "from": "2026-12-01", "to": "2026-12-31" })
            }
            _ if template.contains("/service-days/{date}/") => match tail {
                "confirm" | "served" => json!({ "quantity": 30 }),
                "dispute" => json!({ "reason": "faltou" }),
                "resolve" => json!({ "served": 25 }),
                _ => json!({}),
            },
            _ if stores => self.store_body(template, tail),
            _ => json!({}),
        }
    }

    fn store_body(&self, template: &str, tail: &str) -> Value {
        let f = |name: &str| self.ids.get(name).cloned().unwrap_or_default();
        let line = json!({ "product_id": f("product_id"), "variant_id": f("variant_id"), "quantity": 1,
                           "options": [f("option_id")], "notes": "sem sal", "seat": 1, "course": 1 });
        match tail {
            "settings" if template.contains("/catalog/") => {
                json!({ "version": 1, "pricing": "tax_inclusive", "rounding_mode": "half_even" })
            }
            "tax-rates" | "{tax_rate_id}" => {
                json!({ "version": 1, "name": "ICMS", "rate": "12.5", "kind": "tax", "compound": false })
            }
            "categories" | "{category_id}" => {
                json!({ "version": 1, "name": "Bebidas", "station": "bar" })
            }
            "modifier-groups" | "{group_id}" => {
                json!({ "version": 1, "name": "Extras", "max_choices": 2, "options": [{ "name": "Gelo", "price_delta": brl(50) }] })
            }
            "products" | "{product_id}" => {
                json!({ "version": 1, "name": "Caipirinha", "category_id": f("category_id"),
                "variants": [{ "price": brl(1800), "sku": "CAI" }], "modifier_group_ids": [f("group_id")] })
            }
            "availability" => json!({ "available": false }),
            "override" => {
                json!({ "available": true, "prices": [{ "variant_id": f("variant_id"), "price": brl(900) }] })
            }
            "source" => json!({ "source_store_id": null }),
            "import" => Value::String("product,sku,price\nImportado,IMP-1,4.50\n".into()),
            "areas" => json!({ "name": "Varanda", "position": 1 }),
            "tables" | "{table_id}" => {
                json!({ "version": 1, "name": "Mesa 9", "seats": 4, "area_id": f("area_id") })
            }
            "devices" => json!({ "name": "Tablet" }),
            "order-settings" => {
                json!({ "version": 0, "discount_approval_above": "10", "void_needs_approval": true })
            }
            "orders" => json!({ "kind": "counter", "lines": [line] }),
            "lines" => json!({ "version": 1, "lines": [line] }),
            "void" | "cancel" => json!({ "version": 2, "reason": "engano" }),
            "discount" => {
                json!({ "version": 1, "discount": { "percent": "5", "reason": "cliente" } })
            }
            "tip" => json!({ "version": 1, "tip": brl(300) }),
            "service" => json!({ "version": 1, "waived": true }),
            "move" => json!({ "version": 1, "table_id": f("table_id") }),
            "merge" => json!({ "version": 1, "from_order_id": f("order_id"), "from_version": 1 }),
            "split" => json!({ "version": 1, "parts": 2 }),
            "rush" => json!({ "rush": true }),
            "fire" => json!({ "course": 2 }),
            "payments" => {
                json!({ "version": 2, "kind": "cash", "amount": brl(20000), "tip": brl(0) })
            }
            "age-check" => json!({ "version": 2, "id_checked": true }),
            "refunds" => {
                json!({ "version": 3, "reason": "devolvido", "lines": [{ "line_id": f("line_id"), "quantity": 1 }] })
            }
            "shifts" => json!({ "float": brl(10000), "device_id": f("device_id") }),
            "cash" => {
                json!({ "version": 1, "direction": "in", "reason": "troco", "amount": brl(500) })
            }
            "close" if template.contains("/shifts/") => {
                json!({ "version": 1, "total": brl(10000) })
            }
            "z" => json!({}),
            "{station}" => {
                json!({ "version": 0, "name": "Chapa", "warn_after_s": 300, "late_after_s": 600 })
            }
            "start" | "bump" | "recall" => json!({}),
            "movements" => {
                json!({ "movements": [{ "variant_id": f("variant_id"), "kind": "receipt", "quantity": 6, "reason": "compra" }] })
            }
            "transfers" => {
                json!({ "to_store_id": self.foreign[0], "lines": [{ "variant_id": f("variant_id"), "quantity": 1 }] })
            }
            "threshold" => json!({ "low_threshold": 2 }),
            "webhooks" | "{webhook_id}" => {
                json!({ "version": 1, "url": "https://example.com/outro", "events": ["order.paid"], "active": true })
            }
            _ => json!({ "version": 1 }),
        }
    }

    /// A value for a path parameter: right, another store's, unknown, or malformed.
    fn path_value(&self, rng: &mut Rng, name: &str) -> String {
        let right = self
            .ids
            .get(name)
            .cloned()
            .unwrap_or_else(|| uuid_text(rng));
        match rng.below(12) {
            0..=5 => right,
            6 => rng.pick(&self.foreign).clone(),
            7 => uuid_text(rng),
            8 => right.to_uppercase(),
            _ => (*rng.pick(&[
                "0",
                "-1",
                "null",
                "%00",
                "a%00b",
                "%FF%FE",
                "..%2F..",
                "%20",
                "9223372036854775808",
                "1e309",
                "%F0%9F%98%80",
                "{id}",
                "00000000-0000-0000-0000-000000000000",
                "2026-02-30",
                "9999-99",
                "kitchen%0d%0aSet-Cookie:x",
                "'%20OR%201=1",
            ]))
            .to_owned(),
        }
    }

    fn request(&self, rng: &mut Rng, method: &str, template: &str) -> Fuzzed {
        let mut path = String::new();
        for segment in template.split('/').skip(1) {
            path.push('/');
            match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => path.push_str(&self.path_value(rng, name)),
                None => path.push_str(segment),
            }
        }
        if rng.chance(40) {
            path.push('?');
            path.push_str(&query(rng, &self.foreign));
        }
        let method = if rng.chance(4) {
            (*rng.pick(&["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])).to_owned()
        } else {
            method.to_owned()
        };
        let base = self.base_body(&method, template);
        // Some bodies go as they are: writes that work move the store on (orders sent,
        // paid, split), so that later malformed ones meet it in other states.
        let body = match (&base, rng.below(10)) {
            (Value::String(text), 0) => Body::Text(text.clone()),
            (Value::String(text), _) => Body::Text(mutate_text(rng, text)),
            (Value::Null, 0..=6) => Body::None,
            (_, 0) => Body::Raw(raw(rng)),
            (Value::Null, _) => Body::Json(mutate(rng, json!({}), &self.foreign)),
            (_, 1 | 2) => Body::Json(base.clone()),
            (_, _) => Body::Json(mutate(rng, base.clone(), &self.foreign)),
        };
        // Signing out with the owner's token would leave the rest of the run with no one.
        let signs_out = template == "/api/v1/auth/logout";
        let auth = match rng.below(20) {
            _ if signs_out => Auth::None,
            0..=12 => Auth::Bearer(self.owner.clone()),
            13 | 14 => Auth::Bearer(self.key.clone()),
            15 => Auth::Bearer(self.other_manager.clone()),
            16 => Auth::Bearer(
                (*rng.pick(&["", "x", "a.b.c", "ck1.x.y", "ck1..", "Bearer", "\u{7f}"])).to_owned(),
            ),
            17 => Auth::Device(if rng.chance(50) {
                self.device_token.clone()
            } else {
                "dv1.bad.token".into()
            }),
            _ => Auth::None,
        };
        let idempotency = match rng.below(6) {
            0 => Some(format!("fuzz-{}", rng.next())),
            1 => Some((*rng.pick(&["", " ", "x".repeat(300).as_str(), "a b", "ç"])).to_owned()),
            _ => None,
        };
        let content_type = match rng.below(16) {
            0 => Some("text/plain"),
            1 => None,
            2 => Some("application/json; charset=latin1"),
            3 => Some("application/x-www-form-urlencoded"),
            _ => Some("application/json"),
        };
        Fuzzed {
            method,
            path,
            body,
            auth,
            idempotency,
            content_type,
        }
    }
}

/// An id nobody has, the same on every run of a seed.
fn uuid_text(rng: &mut Rng) -> String {
    let bits = (u128::from(rng.next()) << 64) | u128::from(rng.next());
    uuid::Builder::from_random_bytes(bits.to_be_bytes())
        .into_uuid()
        .to_string()
}

fn query(rng: &mut Rng, foreign: &[String]) -> String {
    let names = [
        "after",
        "limit",
        "q",
        "status",
        "from",
        "until",
        "kind",
        "user_id",
        "day",
        "low",
        "table_id",
        "opened_by",
        "variant_id",
        "category_id",
        "format",
        "to",
        "date",
        "before",
    ];
    let values = [
        "",
        "-1",
        "0",
        "1",
        "501",
        "99999999999999999999",
        "abc",
        "%00",
        "%ZZ",
        "2026-13-45",
        "2026-12-07T25:00:00Z",
        "1e9",
        "null",
        "[]",
        "a%00b",
        "%E2%80%AE",
        "open,sent,nope",
        "true",
        "html",
    ];
    (0..=rng.below(3))
        .map(|_| {
            let name = rng.pick(&names);
            let value = match rng.below(8) {
                0 => rng.pick(foreign).clone(),
                1 => uuid_text(rng),
                2 => "x".repeat(3000),
                _ => (*rng.pick(&values)).to_owned(),
            };
            format!("{name}={value}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A value no field expects.
fn nasty(rng: &mut Rng, foreign: &[String]) -> Value {
    match rng.below(26) {
        0 => Value::Null,
        1 => json!(true),
        2 => json!(0),
        3 => json!(-1),
        4 => json!(1.5),
        5 => json!(1e308),
        6 => json!(i64::MAX),
        7 => json!(i64::MIN),
        8 => json!(u64::MAX),
        9 => json!(""),
        10 => json!(" "),
        11 => json!("\u{0}"),
        12 => json!("a\u{0}b"),
        13 => json!("\u{1b}[31m\u{202e}"),
        14 => json!("😀".repeat(300)),
        15 => json!("x".repeat(5000)),
        16 => json!("-1"),
        17 => json!([]),
        18 => json!({}),
        19 => {
            let mut v = json!(1);
            for _ in 0..100 {
                v = json!([v]);
            }
            v
        }
        20 => json!(uuid_text(rng)),
        21 => json!(rng.pick(foreign)),
        22 => json!("2026-02-30"),
        23 => json!({ "amount": i64::MAX, "currency": "BRL" }),
        24 => json!({ "amount": -5, "currency": "XXX" }),
        _ => json!((0..600).map(|i| json!(i)).collect::<Vec<_>>()),
    }
}

/// Breaks a body in one to three places.
fn mutate(rng: &mut Rng, mut value: Value, foreign: &[String]) -> Value {
    for _ in 0..=rng.below(3) {
        value = mutate_once(rng, value, foreign, 0);
    }
    value
}

fn mutate_once(rng: &mut Rng, value: Value, foreign: &[String], depth: usize) -> Value {
    match value {
        Value::Object(mut map) if !map.is_empty() && depth < 6 => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let key = rng.pick(&keys).clone();
            match rng.below(6) {
                0 => {
                    map.remove(&key);
                }
                1 => {
                    map.insert(format!("unknown_{}", rng.below(9)), nasty(rng, foreign));
                }
                2 => {
                    map.insert(key, nasty(rng, foreign));
                }
                _ => {
                    let inner = map.remove(&key).unwrap_or(Value::Null);
                    map.insert(key, mutate_once(rng, inner, foreign, depth + 1));
                }
            }
            Value::Object(map)
        }
        Value::Array(mut items) if !items.is_empty() && depth < 6 => {
            match rng.below(4) {
                0 => {
                    let copy = items[0].clone();
                    items.extend(std::iter::repeat_n(copy, 150));
                }
                1 => items.clear(),
                _ => {
                    let i = rng.below(items.len());
                    let inner = std::mem::take(&mut items[i]);
                    items[i] = mutate_once(rng, inner, foreign, depth + 1);
                }
            }
            Value::Array(items)
        }
        _ => nasty(rng, foreign),
    }
}

fn mutate_text(rng: &mut Rng, text: &str) -> String {
    match rng.below(6) {
        0 => String::new(),
        1 => format!("{text}\u{0}\u{0}"),
        2 => text.replace(',', ";"),
        3 => format!("{text}{}", "x,".repeat(5000)),
        4 => "product,sku,price\n\"unterminated,1,2\n".to_owned(),
        _ => format!("{text}Outro,IMP-2,99999999999999999999\n"),
    }
}

/// Bytes that are not a JSON document, or too many of them.
fn raw(rng: &mut Rng) -> Vec<u8> {
    match rng.below(8) {
        0 => b"{".to_vec(),
        1 => b"{\"a\":}".to_vec(),
        2 => vec![0xff, 0xfe, 0x00, 0x7b],
        3 => "[".repeat(10_000).into_bytes(),
        4 => format!("\"{}\"", "y".repeat(300 * 1024)).into_bytes(),
        5 => b"null".to_vec(),
        6 => b"{\"version\": 1e999}".to_vec(),
        _ => b"{\"a\": \"\\ud800\"}".to_vec(),
    }
}

enum Body {
    None,
    Json(Value),
    Text(String),
    Raw(Vec<u8>),
}

enum Auth {
    None,
    Bearer(String),
    Device(String),
}

struct Fuzzed {
    method: String,
    path: String,
    body: Body,
    auth: Auth,
    idempotency: Option<String>,
    content_type: Option<&'static str>,
}

impl Fuzzed {
    fn describe_body(&self) -> String {
        let text = match &self.body {
            Body::None => "(none)".to_owned(),
            Body::Json(v) => v.to_string(),
            Body::Text(t) => t.clone(),
            Body::Raw(b) => String::from_utf8_lossy(b).into_owned(),
        };
        text.chars().take(300).collect()
    }

    /// The status (0: no answer) and the start of the body.
    async fn send(&self, http: &reqwest::Client, base: &str) -> (u16, String) {
        let Ok(method) = reqwest::Method::from_bytes(self.method.as_bytes()) else {
            return (400, String::new());
        };
        let mut request = http.request(method, format!("{base}{}", self.path));
        match &self.auth {
            Auth::None => {}
            Auth::Bearer(token) => {
                if let Ok(value) =
                    reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
                {
                    request = request.header("authorization", value);
                }
            }
            Auth::Device(token) => request = request.header("x-device-token", token),
        }
        if let Some(key) = &self.idempotency
            && let Ok(value) = reqwest::header::HeaderValue::from_str(key)
        {
            request = request.header("idempotency-key", value);
        }
        let bytes = match &self.body {
            Body::None => None,
            Body::Json(v) => Some(v.to_string().into_bytes()),
            Body::Text(t) => Some(t.clone().into_bytes()),
            Body::Raw(b) => Some(b.clone()),
        };
        if let Some(bytes) = bytes {
            let content_type = match &self.body {
                Body::Text(_) => Some("text/csv"),
                _ => self.content_type,
            };
            if let Some(content_type) = content_type {
                request = request.header("content-type", content_type);
            }
            request = request.body(bytes);
        }
        match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let stream = response
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with("text/event-stream"));
                if stream {
                    return (status, "(stream)".to_owned());
                }
                let text = response.text().await.unwrap_or_default();
                (status, text.chars().take(300).collect())
            }
            Err(e) => (0, format!("{e:?}")),
        }
    }
}
