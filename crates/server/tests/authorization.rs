//! The authorization table: every API route × every role (and an API key, and nobody)
//! × own store / other store, with the answer each must get. The table is written out
//! here by hand; the test fails if the router has a route the table lacks, or the table
//! a route the router lacks.

use comanda_server::api_routes;
use comanda_testkit::identity::{Org, Person, Reply, reply};
use comanda_testkit::{TestDb, on_both_backends};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU32, Ordering};

/// (method, path, who may, scope). `who`: `public` (no credentials), `device` (terminal
/// token), `self` (any signed-in person, on their own account), `self-totp` (the same,
/// but owners and admins get 409: they must keep their second factor), or the roles allowed,
/// plus `key` when an API key with every grantable permission is. `scope`: `store`
/// (path names a store), `user` (path names a person), `-` (neither).
const TABLE: &[(&str, &str, &str, &str)] = &[
    ("GET", "/api/v1", "public", "-"),
    ("POST", "/api/v1/auth/login", "public", "-"),
    ("POST", "/api/v1/webhooks/stripe", "public", "-"),
    ("POST", "/api/v1/auth/refresh", "public", "-"),
    ("POST", "/api/v1/auth/logout", "self", "-"),
    ("POST", "/api/v1/auth/pin", "device", "-"),
    ("GET", "/api/v1/device/staff", "device", "-"),
    ("GET", "/api/v1/me", "self", "-"),
    ("POST", "/api/v1/me/password", "self", "-"),
    ("GET", "/api/v1/me/sessions", "self", "-"),
    ("DELETE", "/api/v1/me/sessions/{session_id}", "self", "-"),
    ("POST", "/api/v1/me/totp", "self-totp", "-"),
    ("POST", "/api/v1/me/totp/confirm", "self-totp", "-"),
    ("DELETE", "/api/v1/me/totp", "self-totp", "-"),
    ("PUT", "/api/v1/me/pin", "self", "-"),
    ("PUT", "/api/v1/me/locale", "self", "-"),
    (
        "GET",
        "/api/v1/stores",
        "owner admin manager cashier waiter kitchen key",
        "-",
    ),
    ("POST", "/api/v1/stores", "owner admin", "-"),
    (
        "GET",
        "/api/v1/stores/{store_id}",
        "owner admin manager cashier waiter kitchen key",
        "store",
    ),
    (
        "PATCH",
        "/api/v1/stores/{store_id}",
        "owner admin key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/users",
        "owner admin manager key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/devices",
        "owner admin manager key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/devices",
        "owner admin manager",
        "store",
    ),
    (
        "DELETE",
        "/api/v1/stores/{store_id}/devices/{device_id}",
        "owner admin manager key",
        "store",
    ),
    ("GET", "/api/v1/users", "owner admin manager key", "-"),
    ("POST", "/api/v1/users", "owner admin manager", "-"),
    (
        "GET",
        "/api/v1/users/{user_id}",
        "owner admin manager key",
        "user",
    ),
    (
        "PATCH",
        "/api/v1/users/{user_id}",
        "owner admin manager",
        "user",
    ),
    (
        "POST",
        "/api/v1/users/{user_id}/disable",
        "owner admin manager",
        "user",
    ),
    (
        "POST",
        "/api/v1/users/{user_id}/enable",
        "owner admin manager",
        "user",
    ),
    (
        "POST",
        "/api/v1/users/{user_id}/password",
        "owner admin manager",
        "user",
    ),
    (
        "PUT",
        "/api/v1/users/{user_id}/pin",
        "owner admin manager",
        "user",
    ),
    (
        "DELETE",
        "/api/v1/users/{user_id}/totp",
        "owner admin manager",
        "user",
    ),
    ("GET", "/api/v1/api-keys", "owner admin", "-"),
    ("POST", "/api/v1/api-keys", "owner admin", "-"),
    (
        "DELETE",
        "/api/v1/api-keys/{api_key_id}",
        "owner admin",
        "-",
    ),
    (
        "GET",
        "/api/v1/audit/security-events",
        "owner admin key",
        "-",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/catalog/menu",
        "owner admin manager cashier waiter kitchen key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/catalog/settings",
        "owner admin manager cashier waiter kitchen key",
        "store",
    ),
    (
        "PUT",
        "/api/v1/stores/{store_id}/catalog/settings",
        "owner admin key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/catalog/tax-rates",
        "owner admin manager cashier waiter kitchen key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/catalog/tax-rates",
        "owner admin key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/catalog/tax-rates/{tax_rate_id}",
        "owner admin manager cashier waiter kitchen key",
        "store",
    ),
    (
        "PUT",
        "/api/v1/stores/{store_id}/catalog/tax-rates/{tax_rate_id}",
        "owner admin key",
        "store",
    ),
    (
        "DELETE",
        "/api/v1/stores/{store_id}/catalog/tax-rates/{tax_rate_id}",
        "owner admin key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/catalog/categories",
        "owner admin manager cashier waiter kitchen key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/catalog/categories",
        "owner admin manager key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/catalog/categories/{category_id}",
        "owner admin manager cashier waiter kitchen key",
        "store",
    ),
    (
        "PUT",
        "/api/v1/stores/{store_id}/catalog/categories/{category_id}",
        "owner admin manager key",
        "store",
    ),
    (
        "DELETE",
        "/api/v1/stores/{store_id}/catalog/categories/{category_id}",
        "owner admin manager key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/catalog/modifier-groups",
        "owner admin manager cashier waiter kitchen key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/catalog/modifier-groups",
        "owner admin manager key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/catalog/modifier-groups/{group_id}",
        "owner admin manager cashier waiter kitchen key",
        "store",
    ),
    (
        "PUT",
        "/api/v1/stores/{store_id}/catalog/modifier-groups/{group_id}",
        "owner admin manager key",
        "store",
    ),
    (
        "DELETE",
        "/api/v1/stores/{store_id}/catalog/modifier-groups/{group_id}",
        "owner admin manager key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/catalog/products",
        "owner admin manager cashier waiter kitchen key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/catalog/products",
        "owner admin manager key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/catalog/products/{product_id}",
        "owner admin manager cashier waiter kitchen key",
        "store",
    ),
    (
        "PUT",
        "/api/v1/stores/{store_id}/catalog/products/{product_id}",
        "owner admin manager key",
        "store",
    ),
    (
        "DELETE",
        "/api/v1/stores/{store_id}/catalog/products/{product_id}",
        "owner admin manager key",
        "store",
    ),
    (
        "PUT",
        "/api/v1/stores/{store_id}/catalog/products/{product_id}/availability",
        "owner admin manager cashier waiter kitchen key",
        "store",
    ),
    (
        "PUT",
        "/api/v1/stores/{store_id}/catalog/products/{product_id}/override",
        "owner admin manager key",
        "store",
    ),
    (
        "DELETE",
        "/api/v1/stores/{store_id}/catalog/products/{product_id}/override",
        "owner admin manager key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/catalog/overrides",
        "owner admin manager cashier waiter kitchen key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/catalog/source",
        "owner admin manager cashier waiter kitchen key",
        "store",
    ),
    (
        "PUT",
        "/api/v1/stores/{store_id}/catalog/source",
        "owner admin key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/catalog/export",
        "owner admin manager cashier waiter kitchen key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/catalog/import",
        "owner admin manager key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/catalog/stock",
        "owner admin manager cashier waiter kitchen key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/catalog/stock/movements",
        "owner admin manager cashier waiter kitchen key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/catalog/stock/movements",
        "owner admin manager key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/catalog/stock/transfers",
        "owner admin",
        "store",
    ),
    (
        "PUT",
        "/api/v1/stores/{store_id}/catalog/stock/{variant_id}/threshold",
        "owner admin manager key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/areas",
        "owner admin manager cashier waiter kitchen key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/areas",
        "owner admin manager key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/tables",
        "owner admin manager cashier waiter kitchen key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/tables",
        "owner admin manager key",
        "store",
    ),
    (
        "PUT",
        "/api/v1/stores/{store_id}/tables/{table_id}",
        "owner admin manager key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/floor/stream",
        "owner admin manager cashier waiter kitchen key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/order-settings",
        "owner admin manager cashier waiter kitchen key",
        "store",
    ),
    (
        "PUT",
        "/api/v1/stores/{store_id}/order-settings",
        "owner admin key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/orders",
        "owner admin manager cashier waiter kitchen key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/orders",
        "owner admin manager cashier waiter key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/orders/{order_id}",
        "owner admin manager cashier waiter kitchen key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/orders/{order_id}/lines",
        "owner admin manager cashier waiter key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/orders/{order_id}/lines/{line_id}/remove",
        "owner admin manager cashier waiter key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/orders/{order_id}/lines/{line_id}/void",
        "owner admin manager key",
        "store",
    ),
    (
        "PUT",
        "/api/v1/stores/{store_id}/orders/{order_id}/lines/{line_id}/discount",
        "owner admin manager cashier waiter key",
        "store",
    ),
    (
        "PUT",
        "/api/v1/stores/{store_id}/orders/{order_id}/discount",
        "owner admin manager cashier waiter key",
        "store",
    ),
    (
        "PUT",
        "/api/v1/stores/{store_id}/orders/{order_id}/tip",
        "owner admin manager cashier waiter key",
        "store",
    ),
    (
        "PUT",
        "/api/v1/stores/{store_id}/orders/{order_id}/service",
        "owner admin manager cashier waiter key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/orders/{order_id}/send",
        "owner admin manager cashier waiter key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/orders/{order_id}/ready",
        "owner admin manager kitchen key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/orders/{order_id}/served",
        "owner admin manager cashier waiter key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/orders/{order_id}/cancel",
        "owner admin manager cashier waiter key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/orders/{order_id}/move",
        "owner admin manager cashier waiter key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/orders/{order_id}/merge",
        "owner admin manager cashier waiter key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/orders/{order_id}/fire",
        "owner admin manager cashier waiter key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/orders/{order_id}/rush",
        "owner admin manager cashier waiter key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/kds/stations",
        "owner admin manager cashier waiter kitchen key",
        "store",
    ),
    (
        "PUT",
        "/api/v1/stores/{store_id}/kds/stations/{station}",
        "owner admin key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/kds/prep-times",
        "owner admin manager cashier waiter kitchen key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/kds/{station}/tickets",
        "owner admin manager cashier waiter kitchen key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/kds/{station}/stream",
        "owner admin manager cashier waiter kitchen key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/kds/{station}/tickets/{order_id}/start",
        "owner admin manager kitchen key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/kds/{station}/tickets/{order_id}/bump",
        "owner admin manager kitchen key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/kds/{station}/tickets/{order_id}/recall",
        "owner admin manager kitchen key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/orders/{order_id}/split",
        "owner admin manager cashier waiter key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/orders/{order_id}/payments",
        "owner admin manager cashier waiter key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/orders/{order_id}/age-check",
        "owner admin manager cashier waiter key",
        "store",
    ),
    // Cashiers and waiters reach it, and are told a manager must approve (403).
    (
        "POST",
        "/api/v1/stores/{store_id}/orders/{order_id}/refunds",
        "owner admin manager key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/orders/{order_id}/close",
        "owner admin manager cashier waiter key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/orders/{order_id}/receipt",
        "owner admin manager cashier waiter kitchen key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/orders/{order_id}/receipt.html",
        "owner admin manager cashier waiter kitchen key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/shifts",
        "owner admin manager cashier key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/shifts",
        "owner admin manager cashier key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/shifts/{shift_id}",
        "owner admin manager cashier key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/shifts/{shift_id}/cash",
        "owner admin manager cashier key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/shifts/{shift_id}/close",
        "owner admin manager cashier key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/reports/x",
        "owner admin manager key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/reports/z",
        "owner admin manager key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/reports/z",
        "owner admin manager key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/reports/z/{number}",
        "owner admin manager key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/webhooks",
        "owner admin key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/webhooks",
        "owner admin key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/webhooks/{webhook_id}",
        "owner admin key",
        "store",
    ),
    (
        "PATCH",
        "/api/v1/stores/{store_id}/webhooks/{webhook_id}",
        "owner admin key",
        "store",
    ),
    (
        "DELETE",
        "/api/v1/stores/{store_id}/webhooks/{webhook_id}",
        "owner admin key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/webhooks/{webhook_id}/secret",
        "owner admin key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/webhooks/{webhook_id}/deliveries",
        "owner admin key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/webhooks/{webhook_id}/deliveries/{delivery_id}",
        "owner admin key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/webhooks/{webhook_id}/deliveries/{delivery_id}/replay",
        "owner admin key",
        "store",
    ),
    (
        "POST",
        "/api/v1/stores/{store_id}/webhooks/{webhook_id}/replay",
        "owner admin key",
        "store",
    ),
    (
        "GET",
        "/api/v1/stores/{store_id}/events",
        "owner admin key",
        "store",
    ),
    ("GET", "/api/v1/companies", "owner admin manager key", "-"),
    ("POST", "/api/v1/companies", "owner admin", "-"),
    (
        "GET",
        "/api/v1/companies/{company_id}",
        "owner admin manager key",
        "-",
    ),
    (
        "GET",
        "/api/v1/companies/{company_id}/contracts",
        "owner admin manager key",
        "-",
    ),
    (
        "POST",
        "/api/v1/contracts",
        "owner admin manager key",
        "store",
    ),
    (
        "GET",
        "/api/v1/contracts/{contract_id}",
        "owner admin manager key",
        "store",
    ),
    (
        "PATCH",
        "/api/v1/contracts/{contract_id}",
        "owner admin manager key",
        "store",
    ),
    (
        "GET",
        "/api/v1/contracts/{contract_id}/service-days",
        "owner admin manager key",
        "store",
    ),
    (
        "POST",
        "/api/v1/contracts/{contract_id}/service-days",
        "owner admin manager key",
        "store",
    ),
    (
        "POST",
        "/api/v1/contracts/{contract_id}/service-days/{date}/confirm",
        "owner admin manager key",
        "store",
    ),
    (
        "POST",
        "/api/v1/contracts/{contract_id}/service-days/{date}/served",
        "owner admin manager key",
        "store",
    ),
    (
        "POST",
        "/api/v1/contracts/{contract_id}/service-days/{date}/dispute",
        "owner admin manager key",
        "store",
    ),
    (
        "POST",
        "/api/v1/contracts/{contract_id}/service-days/{date}/resolve",
        "owner admin manager key",
        "store",
    ),
    (
        "POST",
        "/api/v1/contracts/{contract_id}/service-days/{date}/cancel",
        "owner admin manager key",
        "store",
    ),
    (
        "POST",
        "/api/v1/contracts/{contract_id}/service-days/{date}/order",
        "owner admin manager key",
        "store",
    ),
    (
        "GET",
        "/api/v1/contracts/{contract_id}/statements/{month}",
        "owner admin manager key",
        "store",
    ),
];

on_both_backends!(the_table_covers_every_route_and_holds);

/// Every day, 10 to 100 meals, three days' notice: today is past its cut-off, the days
/// after the notice are open.
fn catering_terms() -> Value {
    json!({
        "starts_on": "2026-01-01",
        "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "price_per_meal": { "amount": 2500, "currency": "BRL" },
        "min_daily": 10, "max_daily": 100, "default_daily": 50,
        "notice_days": 3, "cutoff": "10:00:00",
    })
}

const WEBHOOK_SECRET: &str = "whsec_table";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Where {
    Own,
    Other,
}

/// Who is calling: a person, the API key, or nobody.
#[derive(Clone, Debug)]
enum Caller {
    Person(Person),
    Key(String),
    Nobody,
}

impl Caller {
    fn name(&self) -> String {
        match self {
            Caller::Person(p) => p.role.to_string(),
            Caller::Key(_) => "key".into(),
            Caller::Nobody => "nobody".into(),
        }
    }

    fn token(&self) -> Option<&str> {
        match self {
            Caller::Person(p) => Some(&p.token),
            Caller::Key(k) => Some(k),
            Caller::Nobody => None,
        }
    }

    fn all_stores(&self) -> bool {
        matches!(self, Caller::Person(p) if p.role.is_privileged())
    }
}

struct World {
    org: Org,
    key: String,
    device_token: String,
    counter: AtomicU32,
    passwords: std::sync::Mutex<HashMap<String, String>>,
}

impl World {
    fn n(&self) -> u32 {
        self.counter.fetch_add(1, Ordering::Relaxed)
    }

    fn store(&self, place: Where) -> String {
        match place {
            Where::Own => self.org.store_a.to_string(),
            Where::Other => self.org.store_b.to_string(),
        }
    }

    async fn as_owner(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.org
            .call(method, path, Some(&self.org.owner.token), body)
            .await
    }

    /// A waiter in the own or other store, made for one request.
    async fn fresh_user(&self, place: Where) -> String {
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
    async fn fresh_company(&self, kind: &str, store: Option<String>) -> String {
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
    async fn fresh_contract(&self, place: Where) -> (String, Vec<String>) {
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

    async fn fresh_device(&self, place: Where) -> String {
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
    async fn fresh(&self, place: Where, kind: &str, body: Value) -> String {
        let path = format!("/api/v1/stores/{}/catalog/{kind}", self.store(place));
        let r = self.as_owner(Method::POST, &path, Some(body)).await;
        assert_eq!(r.status, 201, "{r:?}");
        r.body["id"].as_str().expect("id").to_owned()
    }

    /// A product with one variant; returns (product id, variant id).
    async fn fresh_product(&self, place: Where, sku: Option<&str>) -> (String, String) {
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
    async fn fresh_delivery(&self, place: Where) -> (String, String) {
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
    async fn fresh_order(&self, place: Where) -> (String, String) {
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
    async fn coursed_order(&self, place: Where) -> (String, String) {
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
    async fn sent_order(&self, place: Where) -> (String, String) {
        let (order, line) = self.fresh_order(place).await;
        let path = format!("/api/v1/stores/{}/orders/{order}/send", self.store(place));
        let r = self
            .as_owner(Method::POST, &path, Some(json!({ "version": 1 })))
            .await;
        assert_eq!(r.status, 200, "{r:?}");
        (order, line)
    }

    /// A sent order paid in cash (version 3).
    async fn paid_order(&self, place: Where) -> (String, String) {
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
    async fn restricted_order(&self, place: Where) -> (String, String) {
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
    async fn fresh_shift(&self, place: Where) -> String {
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
    async fn close_shifts(&self, place: Where) {
        let path = format!("/api/v1/stores/{}/shifts", self.store(place));
        let open = self.as_owner(Method::GET, &path, None).await;
        for shift in open.body.as_array().into_iter().flatten() {
            let close = format!("{path}/{}/close", shift["id"].as_str().expect("id"));
            let body =
                json!({ "version": shift["version"], "total": { "amount": 0, "currency": "BRL" } });
            let r = self.as_owner(Method::POST, &close, Some(body)).await;
            assert_eq!(r.status, 200, "{r:?}");
        }
    }

    async fn fresh_table(&self, place: Where) -> String {
        let path = format!("/api/v1/stores/{}/tables", self.store(place));
        let body = json!({ "name": format!("Mesa {}", self.n()) });
        let r = self.as_owner(Method::POST, &path, Some(body)).await;
        assert_eq!(r.status, 201, "{r:?}");
        r.body["id"].as_str().expect("id").to_owned()
    }

    fn password_of(&self, person: &Person) -> String {
        self.passwords
            .lock()
            .expect("lock")
            .get(&person.login)
            .cloned()
            .unwrap_or_else(|| person.password.clone())
    }

    fn password_of_caller(&self, caller: &Caller) -> String {
        match caller {
            Caller::Person(p) => self.password_of(p),
            _ => "not a person".into(),
        }
    }

    /// Another session of `person`: with a recovery code where a second factor is needed.
    async fn another_session(&self, person: &Person) -> (String, String) {
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

    /// The request for a table row: path with its parameters filled, body, and token.
    async fn request(
        &self,
        method: &Method,
        template: &str,
        caller: &Caller,
        place: Where,
    ) -> (String, Option<Value>, Option<String>) {
        let store = self.store(place);
        let mut token = caller.token().map(str::to_owned);
        let mut path = template.replace("{store_id}", &store);
        let body = match (method.as_str(), template) {
            ("POST", "/api/v1/auth/login") => Some(
                json!({ "login": self.org.kitchen.login, "password": self.password_of(&self.org.kitchen) }),
            ),
            ("POST", "/api/v1/auth/refresh") => {
                let r = self
                    .org
                    .login(
                        &self.org.waiter.login,
                        &self.password_of(&self.org.waiter),
                        None,
                    )
                    .await;
                Some(json!({ "refresh_token": r.body["refresh_token"] }))
            }
            ("POST", "/api/v1/auth/logout") => {
                if let Caller::Person(p) = caller {
                    token = Some(self.another_session(p).await.0);
                }
                None
            }
            ("POST", "/api/v1/webhooks/stripe") => Some(
                json!({ "id": format!("evt_{}", self.n()), "type": "customer.created", "data": { "object": {} } }),
            ),
            ("POST", "/api/v1/auth/pin") => {
                Some(json!({ "user_id": self.org.cashier.id, "pin": "2580" }))
            }
            ("POST", "/api/v1/me/password") => match caller {
                Caller::Person(p) => {
                    let current = self.password_of(p);
                    let next = format!("{} rotated {}", p.login, self.n());
                    self.passwords
                        .lock()
                        .expect("lock")
                        .insert(p.login.clone(), next.clone());
                    Some(json!({ "current_password": current, "new_password": next }))
                }
                _ => Some(json!({ "current_password": "x", "new_password": "y" })),
            },
            ("DELETE", "/api/v1/me/sessions/{session_id}") => {
                let id = match caller {
                    Caller::Person(p) => self.another_session(p).await.1,
                    _ => uuid::Uuid::now_v7().to_string(),
                };
                path = path.replace("{session_id}", &id);
                None
            }
            ("POST", "/api/v1/me/totp") => Some(json!({})),
            ("POST", "/api/v1/me/totp/confirm") => {
                // Start an enrolment to confirm; owners and admins are refused (already on).
                let started = match caller.token() {
                    Some(t) => {
                        self.org
                            .call(Method::POST, "/api/v1/me/totp", Some(t), Some(json!({})))
                            .await
                    }
                    None => Reply {
                        status: 0,
                        body: Value::Null,
                        headers: Default::default(),
                    },
                };
                let code = started.body["secret"]
                    .as_str()
                    .map(|s| {
                        let secret = comanda_domain::Secret::new(s);
                        let step = comanda_server::auth::totp::step_at(
                            comanda_domain::clock::now().timestamp(),
                        );
                        format!(
                            "{:06}",
                            comanda_server::auth::totp::code_at(&secret, step).expect("valid")
                        )
                    })
                    .unwrap_or_else(|| "000000".into());
                Some(json!({ "code": code }))
            }
            ("DELETE", "/api/v1/me/totp") => {
                Some(json!({ "password": self.password_of_caller(caller) }))
            }
            ("PUT", "/api/v1/me/locale") => Some(json!({ "locale": "id-ID" })),
            ("PUT", "/api/v1/me/pin") => {
                Some(json!({ "password": self.password_of_caller(caller), "pin": "4826" }))
            }
            ("POST", "/api/v1/stores") => Some(json!({
                "code": format!("loja-{}", self.n()), "name": "Nova", "currency": "BRL",
                "timezone": "America/Sao_Paulo", "locale": "pt-BR",
            })),
            ("PATCH", "/api/v1/stores/{store_id}") => {
                let current = self.as_owner(Method::GET, &path, None).await;
                Some(
                    json!({ "version": current.body["version"], "name": format!("Loja {}", self.n()) }),
                )
            }
            ("POST", "/api/v1/stores/{store_id}/devices") => Some(json!({ "name": "Caixa" })),
            ("DELETE", "/api/v1/stores/{store_id}/devices/{device_id}") => {
                path = path.replace("{device_id}", &self.fresh_device(place).await);
                None
            }
            ("POST", "/api/v1/users") => Some(json!({
                "login": format!("hire{}", self.n()), "display_name": "Novo", "role": "waiter",
                "store_ids": [self.org.store_a], "password": "new hire passphrase",
            })),
            ("GET", "/api/v1/users/{user_id}") => {
                let target = match place {
                    Where::Own => self.org.waiter.id.to_string(),
                    Where::Other => self.fresh_user(Where::Other).await,
                };
                path = path.replace("{user_id}", &target);
                None
            }
            (_, t) if t.starts_with("/api/v1/users/{user_id}") => {
                path = path.replace("{user_id}", &self.fresh_user(place).await);
                match method.as_str() {
                    "PATCH" => Some(json!({ "version": 1, "display_name": "Renamed" })),
                    "PUT" => Some(json!({ "pin": "4826" })),
                    "POST" => Some(json!({})),
                    _ => None,
                }
            }
            ("POST", "/api/v1/api-keys") => Some(
                json!({ "name": "k", "permissions": ["store_read"], "store_ids": [self.org.store_a] }),
            ),
            ("PUT", "/api/v1/stores/{store_id}/order-settings") => {
                let current = self.as_owner(Method::GET, &path, None).await;
                Some(json!({ "version": current.body["version"], "void_needs_approval": true }))
            }
            ("POST", "/api/v1/stores/{store_id}/areas") => {
                Some(json!({ "name": format!("Área {}", self.n()) }))
            }
            ("POST", "/api/v1/stores/{store_id}/tables") => {
                Some(json!({ "name": format!("Mesa {}", self.n()) }))
            }
            ("PUT", "/api/v1/stores/{store_id}/tables/{table_id}") => {
                path = path.replace("{table_id}", &self.fresh_table(place).await);
                Some(json!({ "version": 1, "name": format!("Mesa {}", self.n()) }))
            }
            ("POST", "/api/v1/stores/{store_id}/orders") => {
                let (product, _) = self.fresh_product(place, None).await;
                Some(
                    json!({ "kind": "counter", "lines": [{ "product_id": product, "quantity": 1 }] }),
                )
            }
            (_, t) if t.starts_with("/api/v1/stores/{store_id}/orders/{order_id}") => {
                let action = t.trim_start_matches("/api/v1/stores/{store_id}/orders/{order_id}");
                let needs_sent = matches!(
                    action,
                    "/lines/{line_id}/void" | "/ready" | "/served" | "/payments"
                );
                let needs_paid = matches!(action, "/refunds" | "/close");
                let (order, line) = match action {
                    "/fire" => self.coursed_order(place).await,
                    "/age-check" => self.restricted_order(place).await,
                    _ if needs_paid => self.paid_order(place).await,
                    _ if needs_sent => self.sent_order(place).await,
                    _ => self.fresh_order(place).await,
                };
                path = path
                    .replace("{order_id}", &order)
                    .replace("{line_id}", &line);
                let version = match () {
                    _ if needs_paid => 3,
                    _ if needs_sent || action == "/age-check" => 2,
                    _ => 1,
                };
                match action {
                    "" => None,
                    "/lines" => {
                        let (product, _) = self.fresh_product(place, None).await;
                        Some(
                            json!({ "version": 1, "lines": [{ "product_id": product, "quantity": 2 }] }),
                        )
                    }
                    "/lines/{line_id}/void" | "/cancel" => {
                        Some(json!({ "version": version, "reason": "engano" }))
                    }
                    "/lines/{line_id}/discount" | "/discount" => Some(
                        json!({ "version": 1, "discount": { "percent": "5", "reason": "cliente fiel" } }),
                    ),
                    "/tip" => {
                        Some(json!({ "version": 1, "tip": { "amount": 300, "currency": "BRL" } }))
                    }
                    "/service" => Some(json!({ "version": 1, "waived": true })),
                    "/move" => {
                        Some(json!({ "version": 1, "table_id": self.fresh_table(place).await }))
                    }
                    "/merge" => {
                        let (other, _) = self.fresh_order(place).await;
                        Some(json!({ "version": 1, "from_order_id": other, "from_version": 1 }))
                    }
                    "/split" => Some(json!({ "version": 1, "parts": 2 })),
                    "/rush" => Some(json!({ "rush": true })),
                    "/fire" => Some(json!({ "course": 2 })),
                    "/payments" => Some(json!({ "version": version, "kind": "cash" })),
                    "/age-check" => Some(json!({ "version": version, "id_checked": true })),
                    "/refunds" => Some(json!({ "version": version, "reason": "devolvido" })),
                    "/receipt" | "/receipt.html" => None,
                    _ => Some(json!({ "version": version })),
                }
            }
            ("POST", "/api/v1/stores/{store_id}/shifts") => Some(json!({
                "float": { "amount": 10000, "currency": "BRL" },
                "device_id": self.fresh_device(place).await,
            })),
            (_, t) if t.starts_with("/api/v1/stores/{store_id}/shifts/{shift_id}") => {
                path = path.replace("{shift_id}", &self.fresh_shift(place).await);
                match t.rsplit('/').next().unwrap_or_default() {
                    "cash" => Some(json!({
                        "version": 1, "direction": "in", "reason": "troco",
                        "amount": { "amount": 500, "currency": "BRL" },
                    })),
                    "close" => Some(
                        json!({ "version": 1, "total": { "amount": 10000, "currency": "BRL" } }),
                    ),
                    _ => None,
                }
            }
            ("POST", "/api/v1/stores/{store_id}/reports/z") => {
                self.close_shifts(place).await;
                Some(json!({}))
            }
            ("GET", "/api/v1/stores/{store_id}/reports/z/{number}") => {
                self.close_shifts(place).await;
                let z = self
                    .as_owner(
                        Method::POST,
                        &format!("/api/v1/stores/{}/reports/z", self.store(place)),
                        Some(json!({})),
                    )
                    .await;
                assert_eq!(z.status, 201, "{z:?}");
                path = path.replace("{number}", &z.body["number"].to_string());
                None
            }
            ("POST", "/api/v1/stores/{store_id}/webhooks") => {
                Some(json!({ "url": "https://example.com/hook", "events": ["order.paid"] }))
            }
            (_, t) if t.starts_with("/api/v1/stores/{store_id}/webhooks/{webhook_id}") => {
                let (webhook, delivery) = self.fresh_delivery(place).await;
                path = path
                    .replace("{webhook_id}", &webhook)
                    .replace("{delivery_id}", &delivery);
                (method.as_str() == "PATCH").then(|| json!({ "version": 1, "active": false }))
            }
            ("POST", "/api/v1/companies") => {
                Some(json!({ "kind": "client", "name": format!("Cliente {}", self.n()) }))
            }
            (_, t) if t.starts_with("/api/v1/companies/{company_id}") => {
                let company = self.fresh_company("client", None).await;
                path = path.replace("{company_id}", &company);
                None
            }
            ("POST", "/api/v1/contracts") => {
                let caterer = self.fresh_company("caterer", Some(self.store(place))).await;
                let client = self.fresh_company("client", None).await;
                Some(
                    json!({ "caterer_id": caterer, "client_id": client, "terms": catering_terms() }),
                )
            }
            (_, t) if t.starts_with("/api/v1/contracts/{contract_id}") => {
                let (contract, days) = self.fresh_contract(place).await;
                path = path
                    .replace("{contract_id}", &contract)
                    .replace("{month}", &days[0][..7]);
                let base = format!("/api/v1/contracts/{contract}/service-days");
                let action = t.rsplit('/').next().unwrap_or_default();
                let date = match action {
                    "confirm" | "order" => &days[10],
                    "cancel" => &days[5],
                    _ => &days[0],
                };
                path = path.replace("{date}", date);
                if matches!(action, "dispute" | "resolve") {
                    let served = format!("{base}/{date}/served");
                    let r = self
                        .as_owner(Method::POST, &served, Some(json!({ "quantity": 30 })))
                        .await;
                    assert_eq!(r.status, 200, "{r:?}");
                }
                if action == "resolve" {
                    let dispute = format!("{base}/{date}/dispute");
                    let r = self
                        .as_owner(Method::POST, &dispute, Some(json!({ "reason": "short" })))
                        .await;
                    assert_eq!(r.status, 200, "{r:?}");
                }
                match (method.as_str(), action) {
                    ("PATCH", _) => Some(json!({ "version": 1, "status": "paused" })),
                    ("POST", "confirm" | "served") => Some(json!({ "quantity": 30 })),
                    ("POST", "dispute") => Some(json!({ "reason": "short" })),
                    ("POST", "resolve") => Some(json!({ "served": 25 })),
                    ("POST", "order") => None,
                    ("POST", _) => Some(json!({})),
                    _ => None,
                }
            }
            ("PUT", "/api/v1/stores/{store_id}/kds/stations/{station}") => {
                path = path.replace("{station}", &format!("st-{}", self.n()));
                Some(json!({ "version": 0, "name": "Chapa" }))
            }
            ("GET", "/api/v1/stores/{store_id}/kds/prep-times") => {
                path.push_str("?from=2026-11-01T00:00:00Z&until=2026-12-01T00:00:00Z");
                None
            }
            (_, t) if t.starts_with("/api/v1/stores/{store_id}/kds/{station}") => {
                path = path.replace("{station}", "kitchen");
                let action = t.rsplit('/').next().unwrap_or_default();
                if matches!(action, "start" | "bump" | "recall") {
                    let (order, _) = self.sent_order(place).await;
                    path = path.replace("{order_id}", &order);
                    if action == "recall" {
                        let bump = path.replace("/recall", "/bump");
                        let r = self.as_owner(Method::POST, &bump, Some(json!({}))).await;
                        assert_eq!(r.status, 200, "{r:?}");
                    }
                }
                match action {
                    "start" | "bump" => Some(json!({})),
                    _ => None,
                }
            }
            ("PUT", "/api/v1/stores/{store_id}/catalog/source") => {
                Some(json!({ "source_store_id": null }))
            }
            ("PUT", "/api/v1/stores/{store_id}/catalog/settings") => {
                let current = self.as_owner(Method::GET, &path, None).await;
                Some(json!({ "version": current.body["version"], "rounding_mode": "half_even" }))
            }
            ("POST", "/api/v1/stores/{store_id}/catalog/tax-rates") => {
                Some(json!({ "name": format!("Taxa {}", self.n()), "rate": "5" }))
            }
            ("POST", "/api/v1/stores/{store_id}/catalog/categories") => {
                Some(json!({ "name": format!("Categoria {}", self.n()) }))
            }
            ("POST", "/api/v1/stores/{store_id}/catalog/modifier-groups") => {
                Some(json!({ "name": format!("Grupo {}", self.n()), "options": [{ "name": "A" }] }))
            }
            ("POST", "/api/v1/stores/{store_id}/catalog/products") => Some(json!({
                "name": format!("Produto {}", self.n()),
                "variants": [{ "price": { "amount": 990, "currency": "BRL" } }],
            })),
            ("POST", "/api/v1/stores/{store_id}/catalog/import") => Some(Value::String(format!(
                "product,sku,price\nImportado {n},IMP-{n},4.50\n",
                n = self.n()
            ))),
            ("POST", "/api/v1/stores/{store_id}/catalog/stock/movements") => {
                let (_, variant) = self.fresh_product(place, None).await;
                Some(
                    json!({ "movements": [{ "variant_id": variant, "kind": "receipt", "quantity": 6 }] }),
                )
            }
            ("POST", "/api/v1/stores/{store_id}/catalog/stock/transfers") => {
                let sku = format!("TRF-{}", self.n());
                let other = match place {
                    Where::Own => Where::Other,
                    Where::Other => Where::Own,
                };
                let (_, variant) = self.fresh_product(place, Some(&sku)).await;
                self.fresh_product(other, Some(&sku)).await;
                Some(
                    json!({ "to_store_id": self.store(other), "lines": [{ "variant_id": variant, "quantity": 1 }] }),
                )
            }
            (_, t)
                if t.starts_with("/api/v1/stores/{store_id}/catalog/tax-rates/{tax_rate_id}") =>
            {
                let id = self
                    .fresh(
                        place,
                        "tax-rates",
                        json!({ "name": format!("Taxa {}", self.n()), "rate": "3" }),
                    )
                    .await;
                path = path.replace("{tax_rate_id}", &id);
                (method.as_str() == "PUT").then(
                    || json!({ "version": 1, "name": format!("Taxa {}", self.n()), "rate": "4" }),
                )
            }
            (_, t)
                if t.starts_with("/api/v1/stores/{store_id}/catalog/categories/{category_id}") =>
            {
                let id = self
                    .fresh(
                        place,
                        "categories",
                        json!({ "name": format!("Cat {}", self.n()) }),
                    )
                    .await;
                path = path.replace("{category_id}", &id);
                (method.as_str() == "PUT").then(|| json!({ "version": 1, "name": "Renomeada" }))
            }
            (_, t)
                if t.starts_with(
                    "/api/v1/stores/{store_id}/catalog/modifier-groups/{group_id}",
                ) =>
            {
                let body =
                    json!({ "name": format!("Grupo {}", self.n()), "options": [{ "name": "A" }] });
                let id = self.fresh(place, "modifier-groups", body.clone()).await;
                path = path.replace("{group_id}", &id);
                let mut update = body;
                update["version"] = json!(1);
                (method.as_str() == "PUT").then_some(update)
            }
            (_, t) if t.starts_with("/api/v1/stores/{store_id}/catalog/products/{product_id}") => {
                let (id, variant) = self.fresh_product(place, None).await;
                path = path.replace("{product_id}", &id);
                let suffix = t.rsplit('/').next().unwrap_or_default();
                match (method.as_str(), suffix) {
                    ("PUT", "availability") => Some(json!({ "available": false })),
                    ("PUT", "override") => Some(json!({
                        "available": false,
                        "prices": [{ "variant_id": variant, "price": { "amount": 450, "currency": "BRL" } }],
                    })),
                    ("PUT", _) => Some(json!({
                        "version": 1, "name": "Renomeado",
                        "variants": [{ "price": { "amount": 1090, "currency": "BRL" } }],
                    })),
                    _ => None,
                }
            }
            ("PUT", "/api/v1/stores/{store_id}/catalog/stock/{variant_id}/threshold") => {
                let (_, variant) = self.fresh_product(place, None).await;
                path = path.replace("{variant_id}", &variant);
                Some(json!({ "low_threshold": 2 }))
            }
            ("DELETE", "/api/v1/api-keys/{api_key_id}") => {
                let created = self
                    .as_owner(Method::POST, "/api/v1/api-keys", Some(json!({ "name": "k", "permissions": ["store_read"], "store_ids": [self.org.store_a] })))
                    .await;
                path = path.replace(
                    "{api_key_id}",
                    created.body["api_key"]["id"].as_str().expect("id"),
                );
                None
            }
            _ => None,
        };
        (path, body, token)
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
        device: bool,
    ) -> Reply {
        let mut request = reqwest::Client::new().request(method, self.org.url(path));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        if device {
            request = request.header("x-device-token", self.device_token.clone());
        }
        if path.ends_with("/webhooks/stripe") {
            // Stripe signs what it sends; the route takes nothing else.
            let bytes = serde_json::to_vec(&body).expect("json");
            let signed = comanda_server::stripe::signature_header(
                WEBHOOK_SECRET.as_bytes(),
                chrono::Utc::now().timestamp(),
                &bytes,
            );
            request = request.header("stripe-signature", signed).body(bytes);
            return reply(request).await;
        }
        match body {
            // A file upload (the catalog import) rather than a JSON document.
            Some(Value::String(file)) => {
                request = request.header("content-type", "text/csv").body(file);
            }
            Some(b) => request = request.json(&b),
            None => {}
        }
        reply(request).await
    }
}

/// What a caller must get for a row: `2xx`, or an exact status.
fn expected(who: &str, scope: &str, caller: &Caller, place: Where) -> &'static str {
    match (who, caller) {
        (_, Caller::Nobody) => "401",
        ("self" | "self-totp", Caller::Key(_)) => "403",
        ("self-totp", _) if caller.all_stores() => "409",
        ("self" | "self-totp", _) => "2xx",
        _ => {
            let allowed = who.split_whitespace().any(|w| w == caller.name());
            match (allowed, scope, place, caller.all_stores()) {
                (false, _, _, _) => "403",
                (true, "store", Where::Other, false) => "403",
                (true, "user", Where::Other, false) => "404",
                (true, _, _, _) => "2xx",
            }
        }
    }
}

async fn the_table_covers_every_route_and_holds(db: TestDb) {
    let routes: BTreeSet<(String, String)> = api_routes()
        .into_iter()
        .map(|r| (r.method.to_string(), r.path))
        .collect();
    let table: BTreeSet<(String, String)> = TABLE
        .iter()
        .map(|(m, p, _, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(
        routes.difference(&table).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "routes missing from the table"
    );
    assert_eq!(
        table.difference(&routes).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "table rows with no route"
    );
    assert_eq!(TABLE.len(), table.len(), "duplicate rows");

    let org = Org::new(db.storage()).await;
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
                "store_ids": [org.store_a],
            })),
        )
        .await;
    assert_eq!(key.status, 201, "{key:?}");
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
    let world = World {
        key: key.body["key"].as_str().expect("key").to_owned(),
        device_token: device.body["token"].as_str().expect("token").to_owned(),
        org,
        counter: AtomicU32::new(0),
        passwords: std::sync::Mutex::new(HashMap::new()),
    };

    let mut callers: Vec<Caller> = world
        .org
        .people()
        .iter()
        .map(|p| Caller::Person((*p).clone()))
        .collect();
    callers.push(Caller::Key(world.key.clone()));
    callers.push(Caller::Nobody);

    let mut failures = Vec::new();
    let mut cases = 0;
    for (method, template, who, scope) in TABLE {
        let method: Method = method.parse().expect("method");
        match *who {
            "public" => {
                let (path, body, _) = world
                    .request(&method, template, &Caller::Nobody, Where::Own)
                    .await;
                let r = world.send(method.clone(), &path, body, None, false).await;
                cases += 1;
                if !(200..300).contains(&r.status) {
                    failures.push(format!(
                        "{method} {template} as nobody: {} {}",
                        r.status,
                        r.code()
                    ));
                }
            }
            "device" => {
                let (path, body, _) = world
                    .request(&method, template, &Caller::Nobody, Where::Own)
                    .await;
                let with = world
                    .send(method.clone(), &path, body.clone(), None, true)
                    .await;
                let bearer_only = world
                    .send(
                        method.clone(),
                        &path,
                        body,
                        Some(&world.org.owner.token),
                        false,
                    )
                    .await;
                cases += 2;
                if !(200..300).contains(&with.status)
                    || (bearer_only.status, bearer_only.code()) != (401, "invalid_device")
                {
                    failures.push(format!(
                        "{method} {template}: terminal {} / bearer {}",
                        with.status, bearer_only.status
                    ));
                }
            }
            _ => {
                let places: &[Where] = if *scope == "-" {
                    &[Where::Own]
                } else {
                    &[Where::Own, Where::Other]
                };
                for caller in &callers {
                    for place in places {
                        let (path, body, token) =
                            world.request(&method, template, caller, *place).await;
                        let r = world
                            .send(method.clone(), &path, body, token.as_deref(), false)
                            .await;
                        cases += 1;
                        let want = expected(who, scope, caller, *place);
                        let ok = match want {
                            "2xx" => (200..300).contains(&r.status),
                            code => r.status.to_string() == code,
                        };
                        if !ok {
                            failures.push(format!(
                                "{method} {template} as {} ({place:?}): want {want}, got {} {}",
                                caller.name(),
                                r.status,
                                r.code()
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(cases > 300, "{cases}");
}
