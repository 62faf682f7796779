//! The authorization table: every API route × every role (and an API key, and nobody)
//! × own store / other store, with the answer each must get. The table is written out
//! here by hand; the test fails if the router has a route the table lacks, or the table
//! a route the router lacks.

mod support;

use comanda_server::api_routes;
use comanda_testkit::identity::{Org, Reply, reply};
use comanda_testkit::{TestDb, on_both_backends};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use support::world::{Caller, WEBHOOK_SECRET, Where, World, catering_terms};

/// (method, path, who may, scope). `who`: `public` (no credentials), `device` (terminal
/// token), `self` (any signed-in person, on their own account), `self-totp` (the same,
/// but owners and admins get 409: they must keep their second factor), or the roles allowed,
/// plus `key` when an API key with every grantable permission is. `scope`: `store`
/// (path names a store: another store's is 403), `record` (path names a person, company
/// or contract: another store's is not there, 404), `body` (the body names another
/// store's record, which is not there either: 422), `-` (none of these).
const TABLE: &[(&str, &str, &str, &str)] = &[
    ("GET", "/api/v1", "public", "-"),
    ("GET", "/api/v1/openapi.json", "public", "-"),
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
        "record",
    ),
    (
        "PATCH",
        "/api/v1/users/{user_id}",
        "owner admin manager",
        "record",
    ),
    (
        "POST",
        "/api/v1/users/{user_id}/disable",
        "owner admin manager",
        "record",
    ),
    (
        "POST",
        "/api/v1/users/{user_id}/enable",
        "owner admin manager",
        "record",
    ),
    (
        "POST",
        "/api/v1/users/{user_id}/password",
        "owner admin manager",
        "record",
    ),
    (
        "PUT",
        "/api/v1/users/{user_id}/pin",
        "owner admin manager",
        "record",
    ),
    (
        "DELETE",
        "/api/v1/users/{user_id}/totp",
        "owner admin manager",
        "record",
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
        "GET",
        "/api/v1/stores/{store_id}/tables/{table_id}",
        "owner admin manager cashier waiter kitchen key",
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
        "record",
    ),
    (
        "GET",
        "/api/v1/companies/{company_id}/contracts",
        "owner admin manager key",
        "record",
    ),
    (
        "POST",
        "/api/v1/contracts",
        "owner admin manager key",
        "body",
    ),
    (
        "GET",
        "/api/v1/contracts/{contract_id}",
        "owner admin manager key",
        "record",
    ),
    (
        "PATCH",
        "/api/v1/contracts/{contract_id}",
        "owner admin manager key",
        "record",
    ),
    (
        "GET",
        "/api/v1/contracts/{contract_id}/service-days",
        "owner admin manager key",
        "record",
    ),
    (
        "POST",
        "/api/v1/contracts/{contract_id}/service-days",
        "owner admin manager key",
        "record",
    ),
    (
        "POST",
        "/api/v1/contracts/{contract_id}/service-days/{date}/confirm",
        "owner admin manager key",
        "record",
    ),
    (
        "POST",
        "/api/v1/contracts/{contract_id}/service-days/{date}/served",
        "owner admin manager key",
        "record",
    ),
    (
        "POST",
        "/api/v1/contracts/{contract_id}/service-days/{date}/dispute",
        "owner admin manager key",
        "record",
    ),
    (
        "POST",
        "/api/v1/contracts/{contract_id}/service-days/{date}/resolve",
        "owner admin manager key",
        "record",
    ),
    (
        "POST",
        "/api/v1/contracts/{contract_id}/service-days/{date}/cancel",
        "owner admin manager key",
        "record",
    ),
    (
        "POST",
        "/api/v1/contracts/{contract_id}/service-days/{date}/order",
        "owner admin manager key",
        "record",
    ),
    (
        "GET",
        "/api/v1/contracts/{contract_id}/statements/{month}",
        "owner admin manager key",
        "record",
    ),
];

on_both_backends!(the_table_covers_every_route_and_holds);

impl World {
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
            ("GET", "/api/v1/stores/{store_id}/tables/{table_id}") => {
                path = path.replace("{table_id}", &self.fresh_table(place).await);
                None
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
                let company = self.fresh_company("caterer", Some(store.clone())).await;
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
                (true, "record", Where::Other, false) => "404",
                (true, "body", Where::Other, false) => "422",
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

    let world = World::new(Org::new(db.storage()).await).await;

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
