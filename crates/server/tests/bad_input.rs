//! Bad input is a 4xx naming the field, never a 500, on both backends: a taken name (a
//! uniqueness rule) is a 409 naming the field, text with control characters (NUL, which
//! PostgreSQL cannot store and SQLite would) is refused wherever it is sent, and
//! repeated ids in a list are one id.

use comanda_testkit::identity::{InStore, Org, Reply, brl};
use comanda_testkit::{TestDb, on_both_backends};
use reqwest::Method;
use serde_json::{Value, json};

on_both_backends!(
    taken_names_are_conflicts_naming_the_field,
    control_characters_are_refused_wherever_they_are_sent,
    repeated_stores_of_a_key_are_one_store,
);

fn field(reply: &Reply) -> (u16, &str, &str) {
    (
        reply.status,
        reply.code(),
        reply.body["error"]["details"]["field"]
            .as_str()
            .unwrap_or(""),
    )
}

async fn taken_names_are_conflicts_naming_the_field(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let shop = InStore::new(&org);
    let owner = &org.owner.token;
    shop.ok(owner, Method::POST, "/tables", json!({ "name": "Mesa 1" }))
        .await;
    let again = shop
        .call(
            owner,
            Method::POST,
            "/tables",
            Some(json!({ "name": "Mesa 1" })),
        )
        .await;
    assert_eq!(field(&again), (409, "conflict", "name"), "{again:?}");
    let two = shop
        .ok(owner, Method::POST, "/tables", json!({ "name": "Mesa 2" }))
        .await;
    let rename = shop
        .call(
            owner,
            Method::PUT,
            &format!("/tables/{}", two["id"].as_str().expect("id")),
            Some(json!({ "version": two["version"], "name": "Mesa 1" })),
        )
        .await;
    assert_eq!(field(&rename), (409, "conflict", "name"), "{rename:?}");
    let tables = shop.call(owner, Method::GET, "/tables", None).await;
    let names: Vec<&str> = tables.body["items"]
        .as_array()
        .expect("tables")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["Mesa 1", "Mesa 2"], "nothing half-written");

    let store = org
        .call(
            Method::POST,
            "/api/v1/stores",
            Some(owner),
            Some(json!({
                "code": "main", "name": "Outra", "currency": "BRL",
                "timezone": "UTC", "locale": "pt-BR",
            })),
        )
        .await;
    assert_eq!(field(&store), (409, "conflict", "code"), "{store:?}");
}

async fn control_characters_are_refused_wherever_they_are_sent(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let shop = InStore::new(&org);
    let owner = &org.owner.token;
    let product = shop
        .ok(
            owner,
            Method::POST,
            "/catalog/products",
            json!({ "name": "Café", "variants": [{ "price": brl(500) }] }),
        )
        .await;
    let store_path = format!("/api/v1/stores/{}", org.store_a);
    let product_id = product["id"].as_str().expect("id");
    let cases: Vec<(Method, String, Value, &str)> = vec![
        (
            Method::POST,
            format!("{store_path}/catalog/products"),
            json!({ "name": "Ca\u{0}fé", "variants": [{ "price": brl(500) }] }),
            "name",
        ),
        (
            Method::POST,
            format!("{store_path}/tables"),
            json!({ "name": "Mesa\u{0}" }),
            "name",
        ),
        (
            Method::POST,
            format!("{store_path}/tables"),
            json!({ "name": "Mesa\n2" }),
            "name",
        ),
        (
            Method::POST,
            format!("{store_path}/areas"),
            json!({ "name": "Varanda\u{7}" }),
            "name",
        ),
        (
            Method::POST,
            format!("{store_path}/orders"),
            json!({ "kind": "counter", "lines": [
                { "product_id": product_id, "quantity": 1, "note": "sem açúcar" },
                { "product_id": product_id, "quantity": 1, "note": "sem\u{0}gelo" },
            ]}),
            "lines[1].note",
        ),
        (
            Method::PATCH,
            store_path.clone(),
            json!({ "version": 1, "name": "Loja\u{1b}[31m" }),
            "name",
        ),
        (
            Method::POST,
            "/api/v1/companies".into(),
            json!({ "kind": "client", "name": "Acme\u{0}" }),
            "name",
        ),
        (
            Method::POST,
            "/api/v1/users".into(),
            json!({
                "login": "nul", "display_name": "N\u{0}", "role": "waiter",
                "store_ids": [org.store_a], "password": "a long passphrase",
            }),
            "display_name",
        ),
    ];
    for (method, path, body, want) in cases {
        let r = org
            .call(method.clone(), &path, Some(owner), Some(body))
            .await;
        assert_eq!(
            (r.status, r.body["error"]["details"]["field"].as_str()),
            (422, Some(want)),
            "{method} {path}: {r:?}"
        );
    }
    let orders = org
        .call(
            Method::GET,
            &format!("{store_path}/orders"),
            Some(owner),
            None,
        )
        .await;
    assert_eq!(orders.body["items"], json!([]), "nothing was written");

    let search = org
        .call(
            Method::GET,
            &format!("{store_path}/catalog/products?q=%00"),
            Some(owner),
            None,
        )
        .await;
    assert_eq!(
        field(&search),
        (422, "validation_failed", "q"),
        "{search:?}"
    );
    let fine = org
        .call(
            Method::GET,
            &format!("{store_path}/catalog/products?q=Caf%C3%A9"),
            Some(owner),
            None,
        )
        .await;
    assert_eq!(fine.body["items"][0]["id"], product["id"], "{fine:?}");
    let station = org
        .call(
            Method::GET,
            &format!("{store_path}/kds/gr%00ill/tickets"),
            Some(owner),
            None,
        )
        .await;
    assert_eq!(station.status, 404, "{station:?}");
}

async fn repeated_stores_of_a_key_are_one_store(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let key = org
        .call(
            Method::POST,
            "/api/v1/api-keys",
            Some(&org.owner.token),
            Some(json!({
                "name": "twice", "permissions": ["store_read"],
                "store_ids": [org.store_a, org.store_a],
            })),
        )
        .await;
    assert_eq!(key.status, 201, "{key:?}");
    assert_eq!(key.body["api_key"]["store_ids"], json!([org.store_a]));
    // An expiry past any date the server can write is refused, naming the field.
    for days in [0, 3651, 4_000_000_000u32] {
        let far = org
            .call(
                Method::POST,
                "/api/v1/api-keys",
                Some(&org.owner.token),
                Some(json!({ "name": "far", "permissions": ["store_read"],
                             "store_ids": [org.store_a], "expires_in_days": days })),
            )
            .await;
        assert_eq!(
            (far.status, &far.body["error"]["details"]["field"]),
            (422, &json!("expires_in_days")),
            "{days}: {far:?}"
        );
    }
}
