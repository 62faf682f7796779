//! What the people and keys of one store see of another store: nothing. The
//! authorization table proves who may call each route; this proves what the answers
//! hold. Store A gets rows of every kind; then, as store B's admin, manager and key, every
//! route that reads outside a store's path, and every route under store B's own path given
//! store A's ids, must answer without a single id of store A's rows, and a key of store A
//! cannot be revoked from store B.

mod support;

use comanda_domain::Role;
use comanda_server::api_routes;
use comanda_testkit::identity::{Org, Reply};
use comanda_testkit::{TestDb, on_both_backends};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use support::world::{Where, World};

on_both_backends!(another_stores_rows_are_never_seen);

/// Store A's ids, by what they are.
struct Secrets(BTreeMap<String, String>);

impl Secrets {
    fn add(&mut self, what: impl Into<String>, id: &str) {
        assert!(!id.is_empty(), "an id for {}", what.into());
        self.0.insert(id.to_owned(), what.into());
    }

    /// What of store A's the answer shows, if anything.
    fn found_in(&self, reply: &Reply) -> Option<String> {
        let text = reply.body.to_string();
        self.0
            .iter()
            .find(|(id, _)| text.contains(id.as_str()))
            .map(|(id, what)| format!("{what} ({id})"))
    }
}

fn id(reply: &Reply, pointer: &str) -> String {
    assert!((200..300).contains(&reply.status), "{pointer}: {reply:?}");
    reply
        .body
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{pointer} in {reply:?}"))
        .to_owned()
}

async fn another_stores_rows_are_never_seen(db: TestDb) {
    let world = World::new(Org::new(db.storage()).await).await;
    let org = &world.org;
    let (a, b) = (org.store_a.to_string(), org.store_b.to_string());
    let mut secrets = Secrets(BTreeMap::new());
    secrets.add("store A", &a);
    for person in [&org.manager, &org.cashier, &org.waiter, &org.kitchen] {
        secrets.add(
            format!("{} of store A", person.login),
            &person.id.to_string(),
        );
    }

    // Store B's people and key, and a terminal of store B.
    let admin_b = org
        .hire("admin_b", Role::Admin, false, vec![org.store_b])
        .await;
    let manager_b = org
        .hire("manager_b", Role::Manager, false, vec![org.store_b])
        .await;
    let key_b = world.key_in(Where::Other).await;
    let device_b = world
        .as_owner(
            Method::POST,
            &format!("/api/v1/stores/{b}/devices"),
            Some(json!({ "name": "Caixa B" })),
        )
        .await;
    let device_b = id(&device_b, "/token");

    // Store A's rows of every kind, and a few of store B's (so that B's lists are not
    // empty by accident).
    let all_stores_key = world
        .as_owner(
            Method::POST,
            "/api/v1/api-keys",
            Some(json!({ "name": "owner's", "permissions": ["store_read"], "all_stores": true })),
        )
        .await;
    let all_stores_key = id(&all_stores_key, "/api_key/id");
    let wrong_pin = world
        .send_as_device(json!({ "user_id": org.cashier.id, "pin": "0000" }))
        .await;
    assert_eq!(wrong_pin.status, 401, "{wrong_pin:?}");
    let (contract_a, days_a) = world.fresh_contract(Where::Own).await;
    let contract_a_read = world
        .as_owner(
            Method::GET,
            &format!("/api/v1/contracts/{contract_a}"),
            None,
        )
        .await;
    secrets.add("contract of store A", &contract_a);
    secrets.add("caterer of store A", &id(&contract_a_read, "/caterer_id"));
    secrets.add("client of store A", &id(&contract_a_read, "/client_id"));
    let (contract_b, _) = world.fresh_contract(Where::Other).await;
    let (order_a, _) = world.paid_order(Where::Own).await;
    secrets.add("order of store A", &order_a);
    let (product_a, variant_a) = world.fresh_product(Where::Own, Some("A-ONLY-1")).await;
    secrets.add("product of store A", &product_a);
    secrets.add("variant of store A", &variant_a);
    let category_a = world
        .fresh(Where::Own, "categories", json!({ "name": "Só A" }))
        .await;
    secrets.add("category of store A", &category_a);
    let tax_a = world
        .fresh(
            Where::Own,
            "tax-rates",
            json!({ "name": "Taxa A", "rate": "3" }),
        )
        .await;
    secrets.add("tax rate of store A", &tax_a);
    let group_a = world
        .fresh(
            Where::Own,
            "modifier-groups",
            json!({ "name": "Grupo A", "options": [{ "name": "A" }] }),
        )
        .await;
    secrets.add("modifier group of store A", &group_a);
    let shift_a = world.fresh_shift(Where::Own).await;
    secrets.add("shift of store A", &shift_a);
    let (webhook_a, delivery_a) = world.fresh_delivery(Where::Own).await;
    secrets.add("webhook of store A", &webhook_a);
    secrets.add("delivery of store A", &delivery_a);

    let keys = world.as_owner(Method::GET, "/api/v1/api-keys", None).await;
    let key_b_id = keys.body["items"]
        .as_array()
        .expect("keys")
        .iter()
        .find_map(|k| {
            let in_b = k["store_ids"] == json!([b]);
            in_b.then(|| k["id"].as_str().expect("id").to_owned())
        });
    let key_b_id = key_b_id.expect("store B's key");
    for key in keys.body["items"].as_array().expect("keys") {
        let key_id = key["id"].as_str().expect("id");
        if key_id != key_b_id {
            secrets.add(format!("API key {}", key["name"]), key_id);
        }
    }
    let people_of_b = [admin_b.id.to_string(), manager_b.id.to_string()];
    let events = world
        .as_owner(Method::GET, "/api/v1/audit/security-events?limit=500", None)
        .await;
    let mut events_of_b = 0;
    for event in events.body["items"].as_array().expect("events") {
        let persons: Vec<&str> = ["actor_user_id", "subject_user_id"]
            .iter()
            .filter_map(|f| event[*f].as_str())
            .collect();
        let of_b = event["store_id"] == json!(b)
            || (event["store_id"].is_null()
                && event["actor_api_key_id"].is_null()
                && !persons.is_empty()
                && persons.iter().all(|p| people_of_b.iter().any(|b| b == p)));
        if of_b {
            events_of_b += 1;
        } else {
            let what = format!("{} event", event["kind"].as_str().unwrap_or("?"));
            secrets.add(what, event["id"].as_str().expect("id"));
        }
    }
    assert!(events_of_b > 0, "store B has events of its own");

    // Every read outside a store's path, with store A's ids where it takes one.
    let mut requests: Vec<String> = Vec::new();
    let mut uncovered = Vec::new();
    for route in api_routes().into_iter().filter(|r| r.method == Method::GET) {
        let template = route.path;
        let filled: Vec<String> = match template.as_str() {
            // Not about any store's rows: the caller's own account, the index, the contract.
            "/api/v1"
            | "/api/v1/openapi.json"
            | "/api/v1/me"
            | "/api/v1/me/sessions"
            | "/api/v1/device/staff" => Vec::new(),
            "/api/v1/stores" | "/api/v1/users" | "/api/v1/api-keys" => vec![template.clone()],
            "/api/v1/audit/security-events" => vec![
                format!("{template}?limit=500"),
                format!("{template}?user_id={}", org.cashier.id),
                format!("{template}?user_id={}", org.owner.id),
            ],
            "/api/v1/companies" => vec![
                template.clone(),
                format!("{template}?kind=caterer"),
                format!("{template}?kind=client"),
            ],
            "/api/v1/users/{user_id}" => [&org.manager, &org.cashier, &org.owner]
                .iter()
                .map(|p| template.replace("{user_id}", &p.id.to_string()))
                .collect(),
            t if t.starts_with("/api/v1/companies/{company_id}") => ["/caterer_id", "/client_id"]
                .iter()
                .map(|f| template.replace("{company_id}", &id(&contract_a_read, f)))
                .collect(),
            t if t.starts_with("/api/v1/contracts/{contract_id}") => vec![
                template
                    .replace("{contract_id}", &contract_a)
                    .replace("{month}", &days_a[0][..7]),
            ],
            t if t.starts_with("/api/v1/stores/{store_id}") => vec![
                template
                    .replace("{store_id}", &b)
                    .replace("{order_id}", &order_a)
                    .replace("{product_id}", &product_a)
                    .replace("{variant_id}", &variant_a)
                    .replace("{category_id}", &category_a)
                    .replace("{tax_rate_id}", &tax_a)
                    .replace("{group_id}", &group_a)
                    .replace("{shift_id}", &shift_a)
                    .replace("{number}", "1")
                    .replace("{station}", "kitchen")
                    .replace("{webhook_id}", &webhook_a)
                    .replace("{delivery_id}", &delivery_a),
            ],
            _ => {
                uncovered.push(template.clone());
                Vec::new()
            }
        };
        requests.extend(filled);
    }
    assert!(
        uncovered.is_empty(),
        "reads this test does not try as store B: {uncovered:?}"
    );
    requests.push(format!(
        "/api/v1/stores/{b}/catalog/stock/movements?variant_id={variant_a}"
    ));
    requests.push(format!("/api/v1/stores/{b}/catalog/products?q=A-ONLY"));

    let callers: [(&str, &str); 3] = [
        ("store B's admin", &admin_b.token),
        ("store B's manager", &manager_b.token),
        ("store B's key", &key_b),
    ];
    let mut leaks = Vec::new();
    for (caller, token) in callers {
        for path in &requests {
            let r = org.call(Method::GET, path, Some(token), None).await;
            if r.status >= 500 {
                leaks.push(format!("{caller}: GET {path}: {}", r.status));
            }
            if let Some(what) = secrets.found_in(&r) {
                leaks.push(format!("{caller}: GET {path} ({}) shows {what}", r.status));
            }
        }
    }
    let staff = org
        .call(Method::GET, "/api/v1/device/staff", None, None)
        .await;
    assert_eq!(staff.status, 401, "a terminal's token is needed");
    let staff_b = world.device_staff(&device_b).await;
    if let Some(what) = secrets.found_in(&staff_b) {
        leaks.push(format!("store B's terminal: staff list shows {what}"));
    }
    assert!(
        leaks.is_empty(),
        "{} answers show store A's rows:\n{}",
        leaks.len(),
        leaks.join("\n")
    );

    // What store B sees of its own is there.
    let own = |reply: &Reply, needle: &str| reply.body.to_string().contains(needle);
    let keys_b = org
        .call(Method::GET, "/api/v1/api-keys", Some(&admin_b.token), None)
        .await;
    assert!(own(&keys_b, &key_b_id), "{keys_b:?}");
    let contract_b_read = org
        .call(
            Method::GET,
            &format!("/api/v1/contracts/{contract_b}"),
            Some(&manager_b.token),
            None,
        )
        .await;
    let companies_b = org
        .call(
            Method::GET,
            "/api/v1/companies",
            Some(&manager_b.token),
            None,
        )
        .await;
    for field in ["/caterer_id", "/client_id"] {
        assert!(
            own(&companies_b, &id(&contract_b_read, field)),
            "{companies_b:?}"
        );
    }

    // Store A's keys cannot be revoked from store B, and still work.
    for key in [&all_stores_key, &world.key_id] {
        let revoke = org
            .call(
                Method::DELETE,
                &format!("/api/v1/api-keys/{key}"),
                Some(&admin_b.token),
                None,
            )
            .await;
        assert_eq!(
            (revoke.status, revoke.code()),
            (404, "not_found"),
            "{revoke:?}"
        );
    }
    let still = org
        .call(
            Method::GET,
            &format!("/api/v1/stores/{a}"),
            Some(&world.key),
            None,
        )
        .await;
    assert_eq!(still.status, 200, "{still:?}");
}
