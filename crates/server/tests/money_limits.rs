//! Amounts past what any store reaches are refused with 422 naming the limit, so no sum
//! can wrap: the largest prices with a hundred options, the dearest quantity, compound
//! taxes on top, hundreds of lines, a tip on top of all that, a meal priced beyond sense.
//! An order refused this way is left as it was, and can still be paid and closed.

use comanda_testkit::identity::{InStore, Org, Reply, brl};
use comanda_testkit::{TestDb, on_both_backends};
use reqwest::Method;
use serde_json::{Value, json};

on_both_backends!(orders_past_the_limit_are_refused_and_left_whole);

/// The most one order may come to, in minor units (the API names it on refusal).
const LIMIT: i64 = 1_000_000_000_000;
const MAX_PRICE: i64 = 1_000_000_000_000;

fn refused(reply: &Reply) -> (u16, &str, Value) {
    (
        reply.status,
        reply.code(),
        reply.body["error"]["details"].clone(),
    )
}

async fn orders_past_the_limit_are_refused_and_left_whole(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let shop = InStore::new(&org);
    let owner = &org.owner.token;
    // Every class of rate at once: a simple tax, a compound one and a service charge, a
    // hundred per cent each, on tax-exclusive prices (the default).
    let mut rates = Vec::new();
    for (name, kind, compound) in [
        ("Simples", "tax", false),
        ("Composto", "tax", true),
        ("Serviço", "service_charge", false),
    ] {
        let rate = shop
            .ok(
                owner,
                Method::POST,
                "/catalog/tax-rates",
                json!({ "name": name, "kind": kind, "compound": compound, "rate": "100" }),
            )
            .await;
        rates.push(rate["id"].clone());
    }
    let options: Vec<Value> = (0..100)
        .map(|n| json!({ "name": format!("Extra {n}"), "price_delta": brl(MAX_PRICE) }))
        .collect();
    let group = shop
        .ok(
            owner,
            Method::POST,
            "/catalog/modifier-groups",
            json!({ "name": "Tudo", "min_choices": 0, "max_choices": 100, "options": options }),
        )
        .await;
    let every_option: Vec<Value> = group["options"]
        .as_array()
        .expect("options")
        .iter()
        .map(|o| o["id"].clone())
        .collect();
    let product = |price: i64| {
        json!({ "name": format!("Item {price}"), "tax_rate_ids": rates,
                "modifier_group_ids": [group["id"]], "variants": [{ "price": brl(price) }] })
    };
    let dearest = shop
        .ok(owner, Method::POST, "/catalog/products", product(MAX_PRICE))
        .await;
    let modest = shop
        .ok(
            owner,
            Method::POST,
            "/catalog/products",
            product(100_000_000),
        )
        .await;

    // One unit with a hundred options at the largest price.
    let r = shop
        .call(
            owner,
            Method::POST,
            "/orders",
            Some(json!({ "kind": "counter", "lines": [
                { "product_id": dearest["id"], "quantity": 99, "options": every_option },
            ]})),
        )
        .await;
    assert_eq!(
        (r.status, r.body["error"]["details"]["field"].as_str()),
        (422, Some("lines[0].options")),
        "{r:?}"
    );
    // The largest price, taxed three times over, ninety-nine times.
    let r = shop
        .call(
            owner,
            Method::POST,
            "/orders",
            Some(json!({ "kind": "counter", "lines": [
                { "product_id": dearest["id"], "quantity": 99 },
            ]})),
        )
        .await;
    assert_eq!(
        refused(&r),
        (422, "order_too_large", json!({ "limit": LIMIT })),
        "{r:?}"
    );

    // An order that grows line by line until the next hundred lines would pass the limit.
    let lines = |n: usize| -> Value {
        (0..n)
            .map(|_| json!({ "product_id": modest["id"], "quantity": 99 }))
            .collect()
    };
    let order = shop
        .ok(
            owner,
            Method::POST,
            "/orders",
            json!({ "kind": "counter", "lines": lines(10) }),
        )
        .await;
    let path = format!("/orders/{}", order["id"].as_str().expect("id"));
    let r = shop
        .call(
            owner,
            Method::POST,
            &format!("{path}/lines"),
            Some(json!({ "version": 1, "lines": lines(100) })),
        )
        .await;
    assert_eq!(refused(&r).1, "order_too_large", "{}", r.status);
    let r = shop
        .call(
            owner,
            Method::PUT,
            &format!("{path}/tip"),
            Some(json!({ "version": 1, "tip": brl(MAX_PRICE) })),
        )
        .await;
    assert_eq!(refused(&r).1, "order_too_large", "{}", r.status);
    let unchanged = shop.call(owner, Method::GET, &path, None).await;
    assert_eq!(unchanged.body["version"], 1, "nothing was written");
    assert_eq!(unchanged.body["lines"].as_array().map(Vec::len), Some(10));
    let due = unchanged.body["totals"]["due"].as_i64().expect("due");
    assert!((1..=LIMIT).contains(&due), "{due}");

    // It is still an order like any other.
    shop.ok(
        owner,
        Method::POST,
        &format!("{path}/send"),
        json!({ "version": 1 }),
    )
    .await;
    let paid = shop
        .ok(
            owner,
            Method::POST,
            &format!("{path}/payments"),
            json!({ "version": 2, "kind": "external_card", "amount": brl(due) }),
        )
        .await;
    assert_eq!(paid["status"], "paid", "{}", paid["balance"]);
    let closed = shop
        .ok(
            owner,
            Method::POST,
            &format!("{path}/close"),
            json!({ "version": 3 }),
        )
        .await;
    assert_eq!(closed["status"], "closed");
    let x = shop.call(owner, Method::GET, "/reports/x", None).await;
    assert_eq!(x.body["sales"]["total"], due, "{}", x.body["sales"]);

    // Catering: a meal's price is an amount like any other.
    let caterer = org
        .call(
            Method::POST,
            "/api/v1/companies",
            Some(owner),
            Some(json!({ "kind": "caterer", "name": "Cozinha", "store_id": org.store_a })),
        )
        .await;
    let client = org
        .call(
            Method::POST,
            "/api/v1/companies",
            Some(owner),
            Some(json!({ "kind": "client", "name": "Acme" })),
        )
        .await;
    let r = org
        .call(
            Method::POST,
            "/api/v1/contracts",
            Some(owner),
            Some(json!({
                "caterer_id": caterer.body["id"], "client_id": client.body["id"],
                "terms": {
                    "starts_on": "2026-01-01", "weekdays": ["mon"],
                    "price_per_meal": brl(10 * MAX_PRICE),
                    "min_daily": 1, "max_daily": 10, "default_daily": 5,
                    "notice_days": 1, "cutoff": "10:00:00",
                },
            })),
        )
        .await;
    assert_eq!(
        (r.status, r.body["error"]["details"]["reason"].as_str()),
        (422, Some("too_large")),
        "{r:?}"
    );
}
