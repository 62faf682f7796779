//! Orders through HTTP on both backends: prices from the catalog, the state machine, the
//! event log, refusals that write nothing, idempotent retries, split and merge.

use comanda_testkit::identity::{InStore, Org, Reply, brl};
use comanda_testkit::{TestDb, on_both_backends};
use reqwest::Method;
use serde_json::{Value, json};

on_both_backends!(
    a_table_order_goes_from_open_to_served_priced_by_the_server,
    bad_orders_are_refused_and_nothing_is_written,
    retried_order_writes_answer_once,
    split_and_merge_keep_every_line_and_equal_parts_add_up,
    voids_and_large_discounts_need_a_manager,
);

/// Store A's API, with the orders tests' own set-up.
struct Floor<'a>(InStore<'a>);

impl<'a> std::ops::Deref for Floor<'a> {
    type Target = InStore<'a>;

    fn deref(&self) -> &InStore<'a> {
        &self.0
    }
}

impl<'a> Floor<'a> {
    fn new(org: &'a Org) -> Self {
        Self(InStore::new(org))
    }

    /// A pizza (two sizes, a required flavour group with half-and-half at the dearer
    /// price, optional extras) at 10 % tax on top, and a table.
    async fn setup(&self) -> (Value, String) {
        let owner = &self.org.owner.token;
        let rate = self
            .ok(
                owner,
                Method::POST,
                "/catalog/tax-rates",
                json!({ "name": "ISS", "rate": "10", "default": true }),
            )
            .await;
        assert_eq!(rate["default"], true);
        let flavours = self
            .ok(
                owner,
                Method::POST,
                "/catalog/modifier-groups",
                json!({ "name": "Sabores", "min_choices": 1, "max_choices": 2, "pricing": "max", "options": [
                    { "name": "Mussarela", "price_delta": brl(0) },
                    { "name": "Camarão", "price_delta": brl(1500) },
                ]}),
            )
            .await;
        let extras = self
            .ok(
                owner,
                Method::POST,
                "/catalog/modifier-groups",
                json!({ "name": "Extras", "min_choices": 0, "max_choices": 3, "options": [
                    { "name": "Borda recheada", "price_delta": brl(800) },
                ]}),
            )
            .await;
        let pizza = self
            .ok(
                owner,
                Method::POST,
                "/catalog/products",
                json!({ "name": "Pizza", "station": "forno",
                "modifier_group_ids": [flavours["id"], extras["id"]],
                "variants": [
                    { "name": "Média", "price": brl(4000) },
                    { "name": "Grande", "price": brl(5500) },
                ]}),
            )
            .await;
        let table = self
            .ok(
                owner,
                Method::POST,
                "/tables",
                json!({ "name": "Mesa 7", "seats": 4 }),
            )
            .await;
        let product = json!({
            "id": pizza["id"],
            "large": pizza["variants"][1]["id"],
            "medium": pizza["variants"][0]["id"],
            "mussarela": flavours["options"][0]["id"],
            "camarao": flavours["options"][1]["id"],
            "borda": extras["options"][0]["id"],
        });
        (product, table["id"].as_str().expect("id").to_owned())
    }

    async fn count(&self) -> usize {
        let r = self
            .call(&self.org.owner.token, Method::GET, "/orders", None)
            .await;
        assert_eq!(r.status, 200, "{r:?}");
        r.body["items"].as_array().expect("items").len()
    }
}

fn pizza_line(p: &Value, seat: u16) -> Value {
    json!({
        "product_id": p["id"], "variant_id": p["large"], "quantity": 2, "seat": seat,
        "options": [p["mussarela"], p["camarao"], p["borda"]], "notes": "bem passada",
    })
}

async fn a_table_order_goes_from_open_to_served_priced_by_the_server(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let f = Floor::new(&org);
    let (p, table) = f.setup().await;
    let waiter = &org.waiter.token;
    let opened = f
        .ok(
            waiter,
            Method::POST,
            "/orders",
            json!({ "kind": "dine_in", "table_id": table, "guests": 2, "lines": [pizza_line(&p, 1)] }),
        )
        .await;
    let id = opened["id"].as_str().expect("id").to_owned();
    assert_eq!(opened["status"], "open");
    assert_eq!(opened["number"], 1);
    let line = &opened["lines"][0];
    // 55.00 + the dearer flavour (15.00) + borda (8.00) = 78.00 a pizza, two of them.
    assert_eq!(
        (
            line["unit_price"].as_i64(),
            line["modifiers_price"].as_i64()
        ),
        (Some(5500), Some(2300))
    );
    assert_eq!(line["name"], "Pizza (Grande)");
    assert_eq!(line["station"], "forno");
    let totals = &opened["totals"];
    assert_eq!(totals["subtotal"], 15600);
    assert_eq!(totals["tax"], 1560);
    assert_eq!(totals["total"], 17160);

    // A later price change leaves the order as it was.
    let product = f
        .call(
            &org.owner.token,
            Method::GET,
            &format!("/catalog/products/{}", p["id"].as_str().expect("id")),
            None,
        )
        .await;
    let mut update = json!({ "version": product.body["version"], "name": "Pizza", "station": "forno",
        "modifier_group_ids": product.body["modifier_group_ids"], "variants": product.body["variants"] });
    update["variants"][1]["price"] = brl(9900);
    if let Some(variants) = update["variants"].as_array_mut() {
        for v in variants {
            if let Some(o) = v.as_object_mut() {
                o.remove("sku");
                o.remove("barcode");
            }
        }
    }
    let changed = f
        .call(
            &org.owner.token,
            Method::PUT,
            &format!("/catalog/products/{}", p["id"].as_str().expect("id")),
            Some(update),
        )
        .await;
    assert_eq!(changed.status, 200, "{changed:?}");

    let sent = f
        .ok(
            waiter,
            Method::POST,
            &format!("/orders/{id}/send"),
            json!({ "version": 1 }),
        )
        .await;
    assert_eq!(
        (sent["status"].as_str(), sent["version"].as_i64()),
        (Some("sent"), Some(2))
    );
    assert_eq!(sent["totals"]["total"], 17160, "the snapshot holds");
    let not_yet = f
        .call(
            waiter,
            Method::POST,
            &format!("/orders/{id}/send"),
            Some(json!({ "version": 2 })),
        )
        .await;
    assert_eq!((not_yet.status, not_yet.code()), (409, "nothing_to_send"));
    assert_eq!(not_yet.body["error"]["details"]["status"], "sent");
    let waiter_ready = f
        .call(
            waiter,
            Method::POST,
            &format!("/orders/{id}/ready"),
            Some(json!({ "version": 2 })),
        )
        .await;
    assert_eq!(
        waiter_ready.status, 403,
        "the kitchen says when it is ready"
    );
    f.ok(
        &org.kitchen.token,
        Method::POST,
        &format!("/orders/{id}/ready"),
        json!({ "version": 2 }),
    )
    .await;
    let served = f
        .ok(
            waiter,
            Method::POST,
            &format!("/orders/{id}/served"),
            json!({ "version": 3 }),
        )
        .await;
    assert_eq!(served["status"], "served");
    let illegal = f
        .call(
            &org.kitchen.token,
            Method::POST,
            &format!("/orders/{id}/ready"),
            Some(json!({ "version": 4 })),
        )
        .await;
    assert_eq!(
        (illegal.status, illegal.code()),
        (409, "illegal_transition")
    );
    assert_eq!(illegal.body["error"]["details"]["status"], "served");

    let detail = f
        .call(
            &org.cashier.token,
            Method::GET,
            &format!("/orders/{id}"),
            None,
        )
        .await;
    let kinds: Vec<&str> = detail.body["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["opened", "lines_added", "sent", "ready", "served"]);
    let seqs: Vec<i64> = detail.body["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["seq"].as_i64())
        .collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
    assert_eq!(detail.body["events"][0]["actor_id"], json!(org.waiter.id));

    let tables = f.call(waiter, Method::GET, "/tables", None).await;
    assert_eq!(tables.body["items"][0]["open_orders"], json!([id]));
    let listed = f
        .call(
            waiter,
            Method::GET,
            &format!("/orders?status=served&table_id={table}"),
            None,
        )
        .await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));
    let none = f
        .call(waiter, Method::GET, "/orders?status=open", None)
        .await;
    assert_eq!(none.body["items"], json!([]));

    // The price changed above: the next order sells at it at once.
    let next = f
        .ok(
            waiter,
            Method::POST,
            "/orders",
            json!({ "kind": "counter", "lines": [pizza_line(&p, 1)] }),
        )
        .await;
    assert_eq!(
        next["lines"][0]["unit_price"], 9900,
        "the next order sells at the new price at once"
    );
}

async fn bad_orders_are_refused_and_nothing_is_written(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let f = Floor::new(&org);
    let (p, table) = f.setup().await;
    let waiter = &org.waiter.token;
    let refused = |r: &Reply| {
        (
            r.status,
            r.body["error"]["details"]["field"]
                .as_str()
                .map(str::to_owned),
        )
    };
    let cases = [
        (
            json!({ "kind": "counter", "lines": [{ "product_id": uuid_like(), "quantity": 1 }] }),
            "lines[0].product_id",
        ),
        (
            json!({ "kind": "counter", "lines": [{ "product_id": p["id"], "variant_id": p["large"], "quantity": 0, "options": [p["mussarela"]] }] }),
            "lines[0].quantity",
        ),
        (
            json!({ "kind": "counter", "lines": [{ "product_id": p["id"], "variant_id": p["large"], "quantity": -2, "options": [p["mussarela"]] }] }),
            "lines[0].quantity",
        ),
        (
            json!({ "kind": "counter", "lines": [{ "product_id": p["id"], "quantity": 1, "options": [p["mussarela"]] }] }),
            "lines[0].variant_id",
        ),
        (
            json!({ "kind": "counter", "lines": [{ "product_id": p["id"], "variant_id": p["large"], "quantity": 1 }] }),
            "lines[0].options",
        ),
        (json!({ "kind": "dine_in", "lines": [] }), "table_id"),
        (json!({ "kind": "delivery" }), "delivery"),
        (json!({ "kind": "takeaway" }), "kind"),
    ];
    for (body, field) in cases {
        let r = f.call(waiter, Method::POST, "/orders", Some(body)).await;
        assert_eq!(refused(&r), (422, Some(field.to_owned())), "{r:?}");
    }
    let priced = f
        .call(waiter, Method::POST, "/orders", Some(json!({ "kind": "counter", "lines": [{ "product_id": p["id"], "variant_id": p["large"], "quantity": 1, "unit_price": 1 }] })))
        .await;
    assert_eq!(
        priced.status, 422,
        "a client never sends a price: {priced:?}"
    );
    // A million lines is refused by size before it is read.
    let line = json!({ "product_id": p["id"], "variant_id": p["large"], "quantity": 1 });
    let huge = json!({ "kind": "counter", "lines": vec![line; 1_000_000] });
    let sent = reqwest::Client::new()
        .post(org.url(&format!("{}/orders", f.base)))
        .bearer_auth(waiter)
        .json(&huge)
        .send()
        .await;
    match sent {
        Ok(r) => assert_eq!(r.status().as_u16(), 413),
        // The server answered 413 and closed while the body was still being written.
        Err(e) => assert!(e.is_request() && !e.is_timeout(), "{e:?}"),
    }
    let many = json!({ "kind": "counter", "lines": vec![json!({ "product_id": p["id"], "variant_id": p["large"], "quantity": 1, "options": [p["mussarela"]] }); 101] });
    let r = f.call(waiter, Method::POST, "/orders", Some(many)).await;
    assert_eq!(refused(&r), (422, Some("lines".to_owned())));
    assert_eq!(f.count().await, 0, "nothing written");

    let opened = f
        .ok(
            waiter,
            Method::POST,
            "/orders",
            json!({ "kind": "dine_in", "table_id": table, "lines": [pizza_line(&p, 1)] }),
        )
        .await;
    let id = opened["id"].as_str().expect("id");
    let stale = f
        .call(
            waiter,
            Method::POST,
            &format!("/orders/{id}/lines"),
            Some(json!({ "version": 7, "lines": [pizza_line(&p, 2)] })),
        )
        .await;
    assert_eq!((stale.status, stale.code()), (409, "version_conflict"));
    assert_eq!(stale.body["error"]["details"]["current_version"], 1);
    // Another store's order is not found through this store.
    let elsewhere = org
        .call(
            Method::GET,
            &format!("/api/v1/stores/{}/orders/{id}", org.store_b),
            Some(&org.owner.token),
            None,
        )
        .await;
    assert_eq!(elsewhere.status, 404);
    let detail = f
        .call(waiter, Method::GET, &format!("/orders/{id}"), None)
        .await;
    assert_eq!(detail.body["version"], 1);
    assert_eq!(detail.body["lines"].as_array().map(Vec::len), Some(1));
    assert_eq!(detail.body["events"].as_array().map(Vec::len), Some(2));
}

fn uuid_like() -> String {
    "0190a5f0-0000-7000-8000-000000000000".into()
}

async fn retried_order_writes_answer_once(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let f = Floor::new(&org);
    let (p, _) = f.setup().await;
    let post = |path: String, key: &'static str, body: Value| {
        let url = org.url(&format!("{}{path}", f.base));
        let token = org.waiter.token.clone();
        async move {
            let response = reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .header("idempotency-key", key)
                .json(&body)
                .send()
                .await
                .expect("request");
            let status = response.status().as_u16();
            (status, response.bytes().await.expect("body").to_vec())
        }
    };
    let body = json!({ "kind": "counter", "lines": [pizza_line(&p, 1)] });
    let first = post("/orders".into(), "open-1", body.clone()).await;
    let again = post("/orders".into(), "open-1", body.clone()).await;
    assert_eq!(first.0, 201);
    assert_eq!(first, again, "the same answer, byte for byte");
    assert_eq!(f.count().await, 1);
    let other = post(
        "/orders".into(),
        "open-1",
        json!({ "kind": "counter", "lines": [] }),
    )
    .await;
    assert_eq!(other.0, 422);

    // Terminals racing with one key: one order, and every one of them is told about it.
    let racing = json!({ "kind": "counter", "notes": "race", "lines": [pizza_line(&p, 1)] });
    let mut racers = tokio::task::JoinSet::new();
    for _ in 0..6 {
        racers.spawn(post("/orders".into(), "race-1", racing.clone()));
    }
    let answers = racers.join_all().await;
    let ids: std::collections::BTreeSet<String> = answers
        .iter()
        .map(|(status, body)| {
            assert!(*status == 201 || *status == 409, "{status}");
            let body: Value = serde_json::from_slice(body).expect("json");
            body["id"].as_str().unwrap_or("in progress").to_owned()
        })
        .filter(|id| id != "in progress")
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(f.count().await, 2);

    let order: Value = serde_json::from_slice(&first.1).expect("json");
    let id = order["id"].as_str().expect("id");
    let add = json!({ "version": 1, "lines": [pizza_line(&p, 2)] });
    let a = post(format!("/orders/{id}/lines"), "add-1", add.clone()).await;
    let b = post(format!("/orders/{id}/lines"), "add-1", add).await;
    assert_eq!(a.0, 200);
    assert_eq!(a, b);
    let detail = f
        .call(
            &org.waiter.token,
            Method::GET,
            &format!("/orders/{id}"),
            None,
        )
        .await;
    assert_eq!(detail.body["lines"].as_array().map(Vec::len), Some(2));
    assert_eq!(detail.body["events"].as_array().map(Vec::len), Some(3));
}

async fn split_and_merge_keep_every_line_and_equal_parts_add_up(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let f = Floor::new(&org);
    let (p, table) = f.setup().await;
    let w = &org.waiter.token;
    let opened = f
        .ok(
            w,
            Method::POST,
            "/orders",
            json!({ "kind": "dine_in", "table_id": table,
            "lines": [pizza_line(&p, 1), pizza_line(&p, 2), pizza_line(&p, 3)] }),
        )
        .await;
    let id = opened["id"].as_str().expect("id").to_owned();
    let whole = opened["totals"]["subtotal"].as_i64().expect("subtotal");
    let split = f
        .ok(
            w,
            Method::POST,
            &format!("/orders/{id}/split"),
            json!({ "version": 1, "by_seat": true }),
        )
        .await;
    assert_eq!(
        split["lines"].as_array().map(Vec::len),
        Some(1),
        "seat 1 stays"
    );
    let open = f.call(w, Method::GET, "/orders?status=open", None).await;
    let orders = open.body["items"].as_array().expect("items");
    assert_eq!(orders.len(), 3);
    // The answer carries every order the split made, as a read of each gives it.
    let made = split["split_into"].as_array().expect("split_into");
    assert_eq!(made.len(), 2, "{split}");
    for new in made {
        let read = f
            .call(
                w,
                Method::GET,
                &format!("/orders/{}", new["id"].as_str().expect("id")),
                None,
            )
            .await;
        assert_eq!(read.status, 200);
        // A read adds the order's log, which no write answer carries.
        let mut read = read.body;
        read.as_object_mut().map(|o| o.remove("events"));
        assert_eq!(&read, new, "the answer holds the order whole");
        assert_eq!(new["lines"].as_array().map(Vec::len), Some(1));
    }
    let subtotal: i64 = orders
        .iter()
        .filter_map(|o| o["totals"]["subtotal"].as_i64())
        .sum();
    assert_eq!(subtotal, whole, "every line is on one of the orders");

    // Merge the others back, one by one.
    let mut version = split["version"].as_i64().expect("version");
    for other in orders.iter().filter(|o| o["id"] != json!(id)) {
        let merged = f
            .ok(w, Method::POST, &format!("/orders/{id}/merge"), json!({ "version": version, "from_order_id": other["id"], "from_version": other["version"] }))
            .await;
        version = merged["version"].as_i64().expect("version");
    }
    let back = f.call(w, Method::GET, &format!("/orders/{id}"), None).await;
    assert_eq!(back.body["totals"]["subtotal"], whole);
    assert_eq!(back.body["lines"].as_array().map(Vec::len), Some(3));
    let merged = f.call(w, Method::GET, "/orders?status=merged", None).await;
    assert_eq!(merged.body["items"].as_array().map(Vec::len), Some(2));

    let parts = f
        .ok(
            w,
            Method::POST,
            &format!("/orders/{id}/split"),
            json!({ "version": version, "parts": 3 }),
        )
        .await;
    let shares: Vec<i64> = parts["parts"]
        .as_array()
        .expect("parts")
        .iter()
        .filter_map(Value::as_i64)
        .collect();
    assert_eq!(shares.len(), 3);
    assert_eq!(
        shares.iter().sum::<i64>(),
        parts["totals"]["due"].as_i64().expect("due")
    );
}

async fn voids_and_large_discounts_need_a_manager(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let f = Floor::new(&org);
    let (p, _) = f.setup().await;
    let w = &org.waiter.token;
    let opened = f
        .ok(
            w,
            Method::POST,
            "/orders",
            json!({ "kind": "counter", "lines": [pizza_line(&p, 1), pizza_line(&p, 2)] }),
        )
        .await;
    let id = opened["id"].as_str().expect("id").to_owned();
    let line = opened["lines"][0]["id"].as_str().expect("line").to_owned();
    f.ok(
        w,
        Method::POST,
        &format!("/orders/{id}/send"),
        json!({ "version": 1 }),
    )
    .await;
    let removed = f
        .call(
            w,
            Method::POST,
            &format!("/orders/{id}/lines/{line}/remove"),
            Some(json!({ "version": 2 })),
        )
        .await;
    assert_eq!((removed.status, removed.code()), (409, "line_sent"));
    let waiter_void = f
        .call(
            w,
            Method::POST,
            &format!("/orders/{id}/lines/{line}/void"),
            Some(json!({ "version": 2, "reason": "cliente desistiu" })),
        )
        .await;
    assert_eq!(
        (waiter_void.status, waiter_void.code()),
        (403, "approval_required")
    );
    let no_reason = f
        .call(
            &org.manager.token,
            Method::POST,
            &format!("/orders/{id}/lines/{line}/void"),
            Some(json!({ "version": 2 })),
        )
        .await;
    assert_eq!(no_reason.status, 422);
    let voided = f
        .ok(
            &org.manager.token,
            Method::POST,
            &format!("/orders/{id}/lines/{line}/void"),
            json!({ "version": 2, "reason": "cliente desistiu" }),
        )
        .await;
    assert_eq!(
        voided["lines"][0]["status"], "voided",
        "kept, struck through"
    );
    assert_eq!(voided["totals"]["subtotal"], 15600);

    let big = json!({ "version": 3, "discount": { "percent": "20", "reason": "aniversário" } });
    let refused = f
        .call(
            w,
            Method::PUT,
            &format!("/orders/{id}/discount"),
            Some(big.clone()),
        )
        .await;
    assert_eq!((refused.status, refused.code()), (403, "approval_required"));
    let small = f
        .ok(
            w,
            Method::PUT,
            &format!("/orders/{id}/discount"),
            json!({ "version": 3, "discount": { "percent": "5", "reason": "cliente fiel" } }),
        )
        .await;
    assert_eq!(small["totals"]["discounts"], 780);
    let approved = f
        .ok(
            &org.manager.token,
            Method::PUT,
            &format!("/orders/{id}/discount"),
            json!({ "version": 4, "discount": { "percent": "20", "reason": "aniversário" } }),
        )
        .await;
    assert_eq!(approved["discount"]["approved_by"], json!(org.manager.id));
    assert_eq!(approved["totals"]["discounts"], 3120);

    // The store raises the limit and lets floor staff void: both through its settings.
    let settings = f
        .call(&org.owner.token, Method::GET, "/order-settings", None)
        .await;
    assert_eq!(
        (
            settings.body["version"].as_i64(),
            settings.body["discount_approval_above"].as_str()
        ),
        (Some(0), Some("10"))
    );
    let refused = f
        .call(
            &org.manager.token,
            Method::PUT,
            "/order-settings",
            Some(json!({ "version": 0, "discount_approval_above": "25" })),
        )
        .await;
    assert_eq!(refused.status, 403, "managers do not set the store's rules");
    let changed = f
        .ok(
            &org.owner.token,
            Method::PUT,
            "/order-settings",
            json!({ "version": 0, "discount_approval_above": "25", "void_needs_approval": false }),
        )
        .await;
    assert_eq!(changed["version"], 1);
    let stale = f
        .call(
            &org.owner.token,
            Method::PUT,
            "/order-settings",
            Some(json!({ "version": 0, "void_needs_approval": true })),
        )
        .await;
    assert_eq!(stale.status, 409);
    let other = opened["lines"][1]["id"].as_str().expect("line");
    let by_waiter = f
        .ok(
            w,
            Method::PUT,
            &format!("/orders/{id}/lines/{other}/discount"),
            json!({ "version": 5, "discount": { "percent": "20", "reason": "demora" } }),
        )
        .await;
    assert_eq!(
        by_waiter["lines"][1]["discount"]["approved_by"],
        Value::Null
    );
    let voided = f
        .ok(
            w,
            Method::POST,
            &format!("/orders/{id}/lines/{other}/void"),
            json!({ "version": 6, "reason": "devolvido" }),
        )
        .await;
    assert_eq!(voided["lines"][1]["status"], "voided");
}
