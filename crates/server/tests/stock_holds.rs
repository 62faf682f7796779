//! Stock that stops a sale, through HTTP on both backends: a product that may not be sold
//! when out is held by the order that sells it, refused with `409 out_of_stock` and
//! nothing written beyond what is available, listed sold out by the menu at once, given
//! back by removing, voiding, splitting off and cancelling, and turned into a sale by
//! paying; two terminals racing for the last unit never both win.

use comanda_testkit::identity::{InStore, Org, Reply, brl, reply};
use comanda_testkit::{TestDb, on_both_backends};
use reqwest::Method;
use serde_json::{Value, json};

on_both_backends!(
    a_product_that_may_not_go_below_zero_stops_the_sale,
    every_way_an_order_lets_go_gives_the_units_back,
    two_terminals_racing_for_the_last_unit_never_both_win,
);

struct Shelf<'a> {
    t: InStore<'a>,
    product: String,
    variant: String,
}

impl<'a> Shelf<'a> {
    /// A product that counts stock and may not be sold when out, with `units` received.
    async fn new(org: &'a Org, units: i64) -> Self {
        let t = InStore::new(org);
        let owner = &org.owner.token;
        let product = t
            .ok(
                owner,
                Method::POST,
                "/catalog/products",
                json!({ "name": "Picanha", "track_stock": true, "sell_when_out": false,
                        "variants": [{ "price": brl(9_000) }] }),
            )
            .await;
        let shelf = Self {
            product: text(&product["id"]),
            variant: text(&product["variants"][0]["id"]),
            t,
        };
        if units > 0 {
            shelf.receive(units).await;
        }
        shelf
    }

    async fn receive(&self, units: i64) {
        self.t
            .ok(
                &self.t.org.owner.token,
                Method::POST,
                "/catalog/stock/movements",
                json!({ "movements": [{ "variant_id": self.variant, "kind": "receipt", "quantity": units }] }),
            )
            .await;
    }

    /// Opens a counter order of `units` (for seat 1) as `token`, with `key` as its
    /// Idempotency-Key.
    async fn open(&self, token: &str, units: i64, key: &str) -> Reply {
        let body = json!({ "kind": "counter",
                           "lines": [{ "product_id": self.product, "quantity": units, "seat": 1 }] });
        let url = self.t.org.url(&format!("{}/orders", self.t.base));
        let request = reqwest::Client::new()
            .post(url)
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(&body);
        reply(request).await
    }

    /// `(on_hand, held, available)` as `GET .../stock` shows them.
    async fn level(&self) -> (i64, i64, i64) {
        let levels = self
            .t
            .call(&self.t.org.owner.token, Method::GET, "/catalog/stock", None)
            .await;
        let level = levels.body["items"]
            .as_array()
            .and_then(|items| items.iter().find(|l| l["variant_id"] == self.variant))
            .unwrap_or_else(|| panic!("no level for the variant: {levels:?}"));
        let n = |field: &str| level[field].as_i64().unwrap_or(i64::MIN);
        (n("on_hand"), n("held"), n("available"))
    }

    /// The menu's `sold_out` and its ETag.
    async fn menu(&self) -> (Vec<String>, String) {
        let menu = self
            .t
            .call(
                &self.t.org.cashier.token,
                Method::GET,
                "/catalog/menu",
                None,
            )
            .await;
        assert_eq!(menu.status, 200, "{menu:?}");
        let sold_out = menu.body["sold_out"]
            .as_array()
            .unwrap_or_else(|| panic!("the menu has no sold_out list: {}", menu.body))
            .iter()
            .map(text)
            .collect();
        let etag = menu.headers["etag"].to_str().unwrap_or_default().to_owned();
        (sold_out, etag)
    }

    async fn orders(&self) -> usize {
        let list = self
            .t
            .call(
                &self.t.org.owner.token,
                Method::GET,
                "/orders?limit=500",
                None,
            )
            .await;
        list.body["items"].as_array().map_or(usize::MAX, Vec::len)
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.t
            .ok(&self.t.org.cashier.token, Method::POST, path, body)
            .await
    }
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

fn assert_out_of_stock(r: &Reply, variant: &str, available: i64) {
    assert_eq!((r.status, r.code()), (409, "out_of_stock"), "{r:?}");
    let details = &r.body["error"]["details"];
    assert_eq!(details["variant_id"], variant, "{r:?}");
    assert_eq!(details["available"], available, "{r:?}");
}

/// Two on hand: three are refused and nothing is written (order, events, key); two sell,
/// and the menu says sold out at once; the next order is refused until stock arrives,
/// and then the refused request's own key goes through. Paying turns the hold into a sale.
async fn a_product_that_may_not_go_below_zero_stops_the_sale(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let shelf = Shelf::new(&org, 2).await;
    let cashier = &org.cashier.token;
    let (sold_out, fresh_tag) = shelf.menu().await;
    assert!(sold_out.is_empty(), "{sold_out:?}");

    let three = shelf.open(cashier, 3, "three").await;
    assert_out_of_stock(&three, &shelf.variant, 2);
    assert_eq!(shelf.orders().await, 0, "a refused order is not written");
    assert_eq!(shelf.level().await, (2, 0, 2));

    let two = shelf.open(cashier, 2, "two").await;
    assert_eq!(two.status, 201, "{two:?}");
    assert_eq!(two.body["lines"][0]["holds_stock"], true);
    assert_eq!(shelf.level().await, (2, 2, 0), "the open order holds both");
    let (sold_out, tag) = shelf.menu().await;
    assert_eq!(
        sold_out,
        std::slice::from_ref(&shelf.variant),
        "sold out at once"
    );
    assert_ne!(
        tag, fresh_tag,
        "a terminal holding the old menu downloads the new one"
    );

    let one = shelf.open(&org.manager.token, 1, "one").await;
    assert_out_of_stock(&one, &shelf.variant, 0);
    let again = shelf.open(cashier, 2, "two").await;
    assert_eq!(
        (again.status, &again.body["id"]),
        (201, &two.body["id"]),
        "a retry of the order that won is answered, not refused"
    );

    shelf.receive(1).await;
    assert!(shelf.menu().await.0.is_empty(), "back on the menu");
    let retried = shelf.open(&org.manager.token, 1, "one").await;
    assert_eq!(
        retried.status, 201,
        "the refused key was not kept: {retried:?}"
    );
    assert_eq!(shelf.level().await, (3, 3, 0));

    let order = &two.body;
    let id = text(&order["id"]);
    shelf
        .post(&format!("/orders/{id}/send"), json!({ "version": 1 }))
        .await;
    let paid = shelf
        .post(
            &format!("/orders/{id}/payments"),
            json!({ "version": 2, "kind": "cash", "amount": brl(20_000) }),
        )
        .await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(
        shelf.level().await,
        (1, 1, 0),
        "the sale took two from on hand and gave their hold back"
    );
    assert_eq!(shelf.orders().await, 2);
}

/// Removing a pending line, voiding a sent one, moving lines to a split-off order and
/// cancelling each move exactly what they should; a merge keeps the units held.
async fn every_way_an_order_lets_go_gives_the_units_back(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let shelf = Shelf::new(&org, 5).await;
    let cashier = &org.cashier.token;
    let opened = shelf.open(cashier, 2, "first").await;
    assert_eq!(opened.status, 201, "{opened:?}");
    let id = text(&opened.body["id"]);
    let added = shelf
        .post(
            &format!("/orders/{id}/lines"),
            json!({ "version": 1, "lines": [{ "product_id": shelf.product, "quantity": 2, "seat": 2 }] }),
        )
        .await;
    assert_eq!(shelf.level().await, (5, 4, 1));
    let more = shelf
        .t
        .call(
            cashier,
            Method::POST,
            &format!("/orders/{id}/lines"),
            Some(
                json!({ "version": 2, "lines": [{ "product_id": shelf.product, "quantity": 2 }] }),
            ),
        )
        .await;
    assert_out_of_stock(&more, &shelf.variant, 1);
    assert_eq!(
        shelf.level().await,
        (5, 4, 1),
        "a refused change leaves the order's hold"
    );

    let removed = text(&added["lines"][1]["id"]);
    let order = shelf
        .post(
            &format!("/orders/{id}/lines/{removed}/remove"),
            json!({ "version": 2 }),
        )
        .await;
    assert_eq!(
        shelf.level().await,
        (5, 2, 3),
        "a removed line gives its units back"
    );

    let order = shelf
        .post(
            &format!("/orders/{id}/lines"),
            json!({ "version": order["version"], "lines": [{ "product_id": shelf.product, "quantity": 1, "seat": 2 }] }),
        )
        .await;
    let order = shelf
        .post(
            &format!("/orders/{id}/send"),
            json!({ "version": order["version"] }),
        )
        .await;
    assert_eq!(shelf.level().await, (5, 3, 2));
    let split = shelf
        .post(
            &format!("/orders/{id}/split"),
            json!({ "version": order["version"], "by_seat": true }),
        )
        .await;
    let new_orders = split["split_into"].as_array().cloned().unwrap_or_default();
    assert!(!new_orders.is_empty(), "{split}");
    assert_eq!(
        shelf.level().await,
        (5, 3, 2),
        "a split moves the hold, it does not add one"
    );

    let seat_two = new_orders
        .iter()
        .find(|o| {
            o["lines"]
                .as_array()
                .is_some_and(|l| l.iter().any(|l| l["seat"] == 2))
        })
        .unwrap_or_else(|| panic!("no order for seat 2: {split}"));
    let line = text(&seat_two["lines"][0]["id"]);
    let seat_two_id = text(&seat_two["id"]);
    shelf
        .t
        .ok(
            &org.manager.token,
            Method::POST,
            &format!("/orders/{seat_two_id}/lines/{line}/void"),
            json!({ "version": seat_two["version"], "reason": "cliente desistiu" }),
        )
        .await;
    assert_eq!(
        shelf.level().await,
        (5, 2, 3),
        "a voided line gives its units back"
    );

    let fresh = shelf.open(cashier, 3, "second").await;
    assert_eq!(fresh.status, 201, "{fresh:?}");
    assert!(shelf.menu().await.0.contains(&shelf.variant));
    let fresh_id = text(&fresh.body["id"]);
    shelf
        .post(
            &format!("/orders/{fresh_id}/cancel"),
            json!({ "version": 1, "reason": "desistiu" }),
        )
        .await;
    assert_eq!(
        shelf.level().await,
        (5, 2, 3),
        "a cancelled order holds nothing"
    );
    assert!(shelf.menu().await.0.is_empty());
}

/// 50 rounds of one unit received and two terminals ordering it at the same moment:
/// exactly one order per round, the other `409 out_of_stock`, never below zero.
async fn two_terminals_racing_for_the_last_unit_never_both_win(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let shelf = Shelf::new(&org, 0).await;
    let rounds = 50;
    for round in 0..rounds {
        shelf.receive(1).await;
        let (key_a, key_b) = (format!("a-{round}"), format!("b-{round}"));
        let (a, b) = tokio::join!(
            shelf.open(&org.cashier.token, 1, &key_a),
            shelf.open(&org.manager.token, 1, &key_b),
        );
        let mut statuses = [a.status, b.status];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 409], "round {round}: {a:?} {b:?}");
        let loser = if a.status == 409 { &a } else { &b };
        assert_out_of_stock(loser, &shelf.variant, 0);
        let (on_hand, held, available) = shelf.level().await;
        assert_eq!(
            (on_hand, held, available),
            (round + 1, round + 1, 0),
            "round {round}"
        );
    }
    assert_eq!(
        shelf.orders().await,
        50,
        "one order per unit, nothing half-written"
    );
}
