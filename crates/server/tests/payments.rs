//! Paying through HTTP on both backends: cash with change, split tenders, the age check,
//! refunds that need a manager (by role or by PIN on the terminal), retried payments,
//! refusals that write nothing, and the receipt.

use comanda_testkit::identity::{InStore, Org, brl, reply};
use comanda_testkit::{TestDb, on_both_backends};
use reqwest::Method;
use serde_json::{Value, json};

on_both_backends!(
    split_tender_pays_the_order_and_the_receipt_shows_the_change,
    age_restricted_sales_need_a_check_and_refusals_are_logged,
    refunds_need_a_manager_by_role_or_by_pin_on_the_terminal,
    a_retried_payment_is_taken_once,
    bad_payments_are_refused_and_nothing_is_written,
    a_day_of_cash_reconciles_in_the_shift_and_the_z_report,
    sales_take_stock_out_and_refunds_put_it_back,
    reports_name_each_variant_sold,
    receipts_write_rates_and_tables_as_the_store_does,
);

/// Store A's API, with a till's set-up.
struct Till<'a>(InStore<'a>);

impl<'a> std::ops::Deref for Till<'a> {
    type Target = InStore<'a>;

    fn deref(&self) -> &InStore<'a> {
        &self.0
    }
}

impl<'a> Till<'a> {
    fn new(org: &'a Org) -> Self {
        Self(InStore::new(org))
    }

    /// A product at `price` (10 % tax on top), optionally for 18+; its id.
    async fn product(&self, name: &str, price: i64, age: Option<u8>) -> Value {
        let owner = &self.org.owner.token;
        let rates = self
            .call(owner, Method::GET, "/catalog/tax-rates", None)
            .await;
        if rates.body.as_array().is_none_or(Vec::is_empty) {
            self.ok(
                owner,
                Method::POST,
                "/catalog/tax-rates",
                json!({ "name": "ISS", "rate": "10", "default": true }),
            )
            .await;
        }
        let p = self
            .ok(
                owner,
                Method::POST,
                "/catalog/products",
                json!({ "name": name, "age_restricted": age, "variants": [{ "price": brl(price) }] }),
            )
            .await;
        p["id"].clone()
    }

    /// A counter order of `lines` (product, quantity), sent to the kitchen (version 2).
    async fn sent(&self, token: &str, lines: &[(&Value, i64)]) -> Value {
        let lines: Vec<Value> = lines
            .iter()
            .map(|(p, q)| json!({ "product_id": p, "quantity": q }))
            .collect();
        let order = self
            .ok(
                token,
                Method::POST,
                "/orders",
                json!({ "kind": "counter", "lines": lines }),
            )
            .await;
        let id = order["id"].as_str().expect("id").to_owned();
        self.ok(
            token,
            Method::POST,
            &format!("/orders/{id}/send"),
            json!({ "version": 1 }),
        )
        .await
    }

    /// Sends a just-opened `order` to the kitchen and pays it whole with one tender of
    /// `kind`; the order after it.
    async fn send_and_pay(&self, token: &str, order: &Value, kind: &str) -> Value {
        let sent = self
            .ok(
                token,
                Method::POST,
                &format!("/orders/{}/send", id(order)),
                json!({ "version": 1 }),
            )
            .await;
        self.pay(token, &sent, json!({ "version": 2, "kind": kind }))
            .await
    }

    /// Takes a tender for `order` (as answered when it was sent); the order after it.
    async fn pay(&self, token: &str, order: &Value, tender: Value) -> Value {
        let path = format!("/orders/{}/payments", id(order));
        self.ok(token, Method::POST, &path, tender).await
    }

    async fn get(&self, id: &str) -> Value {
        let r = self
            .call(
                &self.org.owner.token,
                Method::GET,
                &format!("/orders/{id}"),
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{r:?}");
        r.body
    }
}

fn id(order: &Value) -> String {
    order["id"].as_str().expect("id").to_owned()
}

fn kinds(order: &Value) -> Vec<String> {
    order["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["kind"].as_str().map(str::to_owned))
        .collect()
}

/// PINs for the cashier (2580) and the manager (4826), a terminal in store A, and the
/// cashier signed in on it: (the cashier's token, the terminal's id).
async fn terminal_session(org: &Org) -> (String, String) {
    for (person, pin) in [(&org.cashier, "2580"), (&org.manager, "4826")] {
        let r = org
            .call(
                Method::PUT,
                &format!("/api/v1/users/{}/pin", person.id),
                Some(&org.owner.token),
                Some(json!({ "pin": pin })),
            )
            .await;
        assert_eq!(r.status, 204, "{r:?}");
    }
    let device = org
        .call(
            Method::POST,
            &format!("/api/v1/stores/{}/devices", org.store_a),
            Some(&org.manager.token),
            Some(json!({ "name": "Caixa 1" })),
        )
        .await;
    assert_eq!(device.status, 201, "{device:?}");
    let device_token = device.body["token"].as_str().expect("token").to_owned();
    let signed_in = reply(
        reqwest::Client::new()
            .post(org.url("/api/v1/auth/pin"))
            .header("x-device-token", &device_token)
            .json(&json!({ "user_id": org.cashier.id, "pin": "2580" })),
    )
    .await;
    assert_eq!(signed_in.status, 200, "{signed_in:?}");
    let terminal = signed_in.body["access_token"]
        .as_str()
        .expect("token")
        .to_owned();

    let device_id = device.body["device"]["id"].as_str().expect("id").to_owned();
    (terminal, device_id)
}

/// Opens the terminal's shift with `float`; the shift.
async fn open_shift(t: &Till<'_>, token: &str, float: i64) -> Value {
    t.ok(
        token,
        Method::POST,
        "/shifts",
        json!({ "float": brl(float) }),
    )
    .await
}

async fn split_tender_pays_the_order_and_the_receipt_shows_the_change(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let t = Till::new(&org);
    let coxinha = t.product("Coxinha", 850, None).await;
    let cashier = &org.cashier.token;
    // 3 × 8.50 = 25.50, + 10 % = 28.05.
    let order = t.sent(cashier, &[(&coxinha, 3)]).await;
    let oid = id(&order);
    assert_eq!(order["totals"]["due"], 2805);
    let payments = format!("/orders/{oid}/payments");
    let pay = |version: i64, body: Value| {
        let mut body = body;
        body["version"] = json!(version);
        t.call(cashier, Method::POST, &payments, Some(body))
    };
    let card = pay(
        2,
        json!({ "kind": "external_card", "amount": brl(1805), "reference": "AUT 123456" }),
    )
    .await;
    assert_eq!(card.status, 200, "{card:?}");
    assert_eq!(card.body["status"], "sent");
    assert_eq!(card.body["balance"]["remaining"], 1000);
    let cash = pay(3, json!({ "kind": "cash", "amount": brl(5000) })).await;
    assert_eq!(cash.status, 200, "{cash:?}");
    assert_eq!(cash.body["status"], "paid");
    assert_eq!(cash.body["payments"][1]["change"], 4000);
    assert_eq!(cash.body["balance"]["remaining"], 0);
    assert_eq!(cash.body["balance"]["paid"], 2805);

    let logged = t.get(&oid).await;
    assert_eq!(
        kinds(&logged)[3..],
        ["payment_taken", "payment_taken", "paid"]
    );
    let paid = logged["events"][5]["payload"].clone();
    assert_eq!(
        (paid["total"].clone(), paid["tax"].clone()),
        (json!(2805), json!(255))
    );
    assert_eq!(paid["lines"][0]["product_id"], coxinha);
    assert_eq!(paid["tenders"][1]["drawer"], 1000);

    let closed = t
        .ok(
            cashier,
            Method::POST,
            &format!("/orders/{oid}/close"),
            json!({ "version": 4 }),
        )
        .await;
    assert_eq!(closed["status"], "closed");

    let receipt = t
        .call(
            &org.waiter.token,
            Method::GET,
            &format!("/orders/{oid}/receipt"),
            None,
        )
        .await;
    assert_eq!(receipt.status, 200, "{receipt:?}");
    assert_eq!(receipt.body["store"]["name"], "Loja Centro");
    assert_eq!(receipt.body["total"], 2805);
    assert_eq!(receipt.body["taxes"][0]["amount"], 255);
    assert_eq!(receipt.body["payments"][1]["change"], 4000);
    let html = t
        .call(
            &org.waiter.token,
            Method::GET,
            &format!("/orders/{oid}/receipt.html"),
            None,
        )
        .await;
    assert_eq!(html.status, 200);
    let page = html.body.as_str().expect("html");
    for text in [
        "Loja Centro",
        "3 × Coxinha",
        "R$\u{a0}28,05",
        "Troco",
        "R$\u{a0}40,00",
    ] {
        assert!(page.contains(text), "{text:?} missing from {page}");
    }
    assert!(
        html.headers
            .get("content-security-policy")
            .is_some_and(|v| v
                .to_str()
                .is_ok_and(|v| v.starts_with("default-src 'none'")))
    );
}

async fn age_restricted_sales_need_a_check_and_refusals_are_logged(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let t = Till::new(&org);
    let cachaca = t.product("Cachaça", 1200, Some(18)).await;
    let cashier = &org.cashier.token;
    let order = t.sent(cashier, &[(&cachaca, 1)]).await;
    let oid = id(&order);
    let cash = json!({ "version": 2, "kind": "cash" });
    let r = t
        .call(
            cashier,
            Method::POST,
            &format!("/orders/{oid}/payments"),
            Some(cash),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "age_check_required"), "{r:?}");

    // Seventeen and a day short of eighteen, wherever the store is.
    let today = chrono::Utc::now().date_naive();
    let born = today
        .with_year(today.year() - 18)
        .and_then(|d| d.succ_opt())
        .unwrap_or(today);
    let age_check = format!("/orders/{oid}/age-check");
    let check = |version: i64, body: Value| {
        let mut body = body;
        body["version"] = json!(version);
        t.call(cashier, Method::POST, &age_check, Some(body))
    };
    let both = check(2, json!({ "id_checked": true, "refused": true })).await;
    assert_eq!((both.status, both.code()), (422, "validation_failed"));
    let young = check(2, json!({ "date_of_birth": born.to_string() })).await;
    assert_eq!(young.status, 200, "{young:?}");
    assert_eq!(young.body["age_check"]["passed"], false);
    assert_eq!(young.body["age_check"]["age"], 17);
    let r = t
        .call(
            cashier,
            Method::POST,
            &format!("/orders/{oid}/payments"),
            Some(json!({ "version": 3, "kind": "cash" })),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "age_check_failed"), "{r:?}");
    assert!(kinds(&t.get(&oid).await).contains(&"sale_refused".to_owned()));

    // Another buyer, ID seen: the sale goes through.
    let order = t.sent(cashier, &[(&cachaca, 2)]).await;
    let oid = id(&order);
    let passed = t
        .ok(
            cashier,
            Method::POST,
            &format!("/orders/{oid}/age-check"),
            json!({ "version": 2, "id_checked": true }),
        )
        .await;
    assert_eq!(passed["age_check"]["method"], "id_checked");
    let paid = t
        .ok(
            cashier,
            Method::POST,
            &format!("/orders/{oid}/payments"),
            json!({ "version": 3, "kind": "cash", "amount": brl(3000) }),
        )
        .await;
    assert_eq!(paid["status"], "paid");
}

use chrono::Datelike;

async fn refunds_need_a_manager_by_role_or_by_pin_on_the_terminal(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let t = Till::new(&org);
    let pastel = t.product("Pastel", 1000, None).await;
    let (terminal, _) = terminal_session(&org).await;
    open_shift(&t, &terminal, 20_000).await;

    // 4 × 10.00 + 10 % = 44.00, paid in cash.
    let order = t.sent(&terminal, &[(&pastel, 4)]).await;
    let oid = id(&order);
    let lid = order["lines"][0]["id"].clone();
    let paid = t
        .ok(
            &terminal,
            Method::POST,
            &format!("/orders/{oid}/payments"),
            json!({ "version": 2, "kind": "cash", "amount": brl(5000) }),
        )
        .await;
    assert_eq!(paid["status"], "paid");
    let refunds = format!("/orders/{oid}/refunds");
    let one = |approval: Option<Value>| {
        let mut body = json!({ "version": 3, "reason": "veio frio", "lines": [{ "line_id": lid, "quantity": 1 }] });
        if let Some(a) = approval {
            body["approval"] = a;
        }
        body
    };

    // Refused: no approval; a wrong PIN; someone who cannot approve; a PIN typed off a
    // terminal (the cashier's password session).
    let refusals = [
        (&terminal, None, "approval_required"),
        (
            &terminal,
            Some((org.manager.id, "9999")),
            "invalid_approval",
        ),
        (
            &terminal,
            Some((org.cashier.id, "2580")),
            "approver_not_manager",
        ),
        (
            &org.cashier.token,
            Some((org.manager.id, "4826")),
            "approval_needs_terminal",
        ),
    ];
    for (token, approval, code) in refusals {
        let approval = approval.map(|(user, pin)| json!({ "user_id": user, "pin": pin }));
        let r = t
            .call(token, Method::POST, &refunds, Some(one(approval)))
            .await;
        assert_eq!((r.status, r.code()), (403, code), "{r:?}");
    }
    assert_eq!(t.get(&oid).await["version"], 3, "nothing written");

    let approved = t
        .ok(
            &terminal,
            Method::POST,
            &refunds,
            one(Some(json!({ "user_id": org.manager.id, "pin": "4826" }))),
        )
        .await;
    assert_eq!(approved["balance"]["refunded"], 1100);
    assert_eq!(approved["refunds"][0]["approved_by"], json!(org.manager.id));
    assert_eq!(approved["refunds"][0]["by"], json!(org.cashier.id));
    assert_eq!(approved["refunds"][0]["tenders"][0]["kind"], "cash");
    let logged = t.get(&oid).await;
    let refunded = logged["events"]
        .as_array()
        .and_then(|e| e.last())
        .expect("event");
    assert_eq!(refunded["kind"], "refunded");
    assert_eq!(refunded["payload"]["lines"][0]["quantity"], 1);

    // The manager, by role, gives back the rest.
    let rest = t
        .ok(
            &org.manager.token,
            Method::POST,
            &refunds,
            json!({ "version": 4, "reason": "cliente desistiu" }),
        )
        .await;
    assert_eq!(rest["status"], "refunded");
    assert_eq!(rest["balance"]["refunded"], 4400);

    // Both outcomes of PIN approval are in the security log.
    let log = org
        .call(
            Method::GET,
            "/api/v1/audit/security-events",
            Some(&org.owner.token),
            None,
        )
        .await;
    let seen: Vec<&str> = log.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(seen.contains(&"approval_granted"), "{seen:?}");
    assert!(seen.contains(&"approval_failed"), "{seen:?}");
}

async fn a_retried_payment_is_taken_once(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let t = Till::new(&org);
    let suco = t.product("Suco", 700, None).await;
    let order = t.sent(&org.cashier.token, &[(&suco, 2)]).await;
    let oid = id(&order);
    let client = reqwest::Client::new();
    let send = |key: &str, body: Value| {
        reply(
            client
                .post(org.url(&format!("{}/orders/{oid}/payments", t.base)))
                .bearer_auth(&org.cashier.token)
                .header("idempotency-key", key)
                .json(&body),
        )
    };
    let body = json!({ "version": 2, "kind": "external_card", "amount": brl(1000) });
    let first = send("pay-1", body.clone()).await;
    assert_eq!(first.status, 200, "{first:?}");
    let again = send("pay-1", body.clone()).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body, first.body, "the first answer, again");
    let other = send(
        "pay-1",
        json!({ "version": 2, "kind": "external_card", "amount": brl(1001) }),
    )
    .await;
    assert_eq!(
        (other.status, other.code()),
        (422, "idempotency_key_reused")
    );
    let stored = t.get(&oid).await;
    assert_eq!(stored["payments"].as_array().map(Vec::len), Some(1));
    assert_eq!(stored["balance"]["paid"], 1000);
}

async fn bad_payments_are_refused_and_nothing_is_written(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let t = Till::new(&org);
    let bolo = t.product("Bolo", 1000, None).await;
    let cashier = &org.cashier.token;
    // Pending lines: send first.
    let open = t
        .ok(
            cashier,
            Method::POST,
            "/orders",
            json!({ "kind": "counter", "lines": [{ "product_id": bolo, "quantity": 1 }] }),
        )
        .await;
    let r = t
        .call(
            cashier,
            Method::POST,
            &format!("/orders/{}/payments", id(&open)),
            Some(json!({ "version": 1, "kind": "cash" })),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "lines_not_sent"));

    let order = t.sent(cashier, &[(&bolo, 1)]).await;
    let oid = id(&order);
    let path = format!("/orders/{oid}/payments");
    let cases = [
        (
            json!({ "version": 2, "kind": "gold" }),
            422,
            "validation_failed",
        ),
        (
            json!({ "version": 2, "kind": "cash", "amount": brl(0) }),
            422,
            "validation_failed",
        ),
        (
            json!({ "version": 2, "kind": "cash", "amount": { "amount": 500, "currency": "USD" } }),
            422,
            "validation_failed",
        ),
        (
            json!({ "version": 2, "kind": "external_card", "amount": brl(1101) }),
            422,
            "validation_failed",
        ),
        (
            json!({ "version": 2, "kind": "voucher", "amount": brl(500) }),
            422,
            "validation_failed",
        ),
        (
            json!({ "version": 2, "kind": "cash", "price": brl(1) }),
            422,
            "invalid_body",
        ),
        (
            json!({ "version": 1, "kind": "cash" }),
            409,
            "version_conflict",
        ),
        (json!({ "kind": "cash" }), 422, "validation_failed"),
        (
            json!({ "version": 2, "kind": "card" }),
            422,
            "card_not_configured",
        ),
        (
            json!({ "version": 2, "kind": "cash", "payment_method": "pm_card_visa" }),
            422,
            "validation_failed",
        ),
    ];
    for (body, status, code) in cases {
        let r = t
            .call(cashier, Method::POST, &path, Some(body.clone()))
            .await;
        assert_eq!((r.status, r.code()), (status, code), "{body}: {r:?}");
    }
    // Another store's order is not found from here.
    let other = org
        .call(
            Method::POST,
            &format!("/api/v1/stores/{}/orders/{oid}/payments", org.store_b),
            Some(&org.owner.token),
            Some(json!({ "version": 2, "kind": "cash" })),
        )
        .await;
    assert_eq!(other.status, 404, "{other:?}");
    let stored = t.get(&oid).await;
    assert_eq!(stored["version"], 2);
    assert_eq!(stored["payments"], json!([]));
    // Refunding an unpaid order is a state error.
    let r = t
        .call(
            &org.manager.token,
            Method::POST,
            &format!("/orders/{oid}/refunds"),
            Some(json!({ "version": 2, "reason": "x" })),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "not_paid"));
}

async fn a_day_of_cash_reconciles_in_the_shift_and_the_z_report(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let t = Till::new(&org);
    let pastel = t.product("Pastel", 1000, None).await;
    let (terminal, _) = terminal_session(&org).await;
    let manager = &org.manager.token;

    // No drawer, no cash.
    let order = t.sent(&terminal, &[(&pastel, 4)]).await;
    let oid = id(&order);
    let pay = format!("/orders/{oid}/payments");
    let cash = json!({ "version": 2, "kind": "cash", "amount": brl(5000) });
    let r = t
        .call(&terminal, Method::POST, &pay, Some(cash.clone()))
        .await;
    assert_eq!((r.status, r.code()), (409, "shift_not_open"), "{r:?}");

    let shift = open_shift(&t, &terminal, 20_000).await;
    assert_eq!(
        (shift["number"].clone(), shift["expected"].clone()),
        (json!(1), json!(20_000))
    );
    let again = t
        .call(
            &terminal,
            Method::POST,
            "/shifts",
            Some(json!({ "float": brl(0) })),
        )
        .await;
    assert_eq!((again.status, again.code()), (409, "shift_already_open"));
    let sid = shift["id"].as_str().expect("id").to_owned();

    // 44.00 in cash; a card sale of 22.00; 10.00 in for change, 5.00 out for ice.
    let paid = t.ok(&terminal, Method::POST, &pay, cash).await;
    assert_eq!(paid["payments"][0]["shift_id"], json!(sid));
    let card = t.sent(&terminal, &[(&pastel, 2)]).await;
    t.pay(
        &terminal,
        &card,
        json!({ "version": 2, "kind": "external_card" }),
    )
    .await;
    let moved = t
        .ok(
            &terminal,
            Method::POST,
            &format!("/shifts/{sid}/cash"),
            json!({ "version": 1, "direction": "in", "amount": brl(1000), "reason": "troco" }),
        )
        .await;
    let moved = t
        .ok(
            &terminal,
            Method::POST,
            &format!("/shifts/{sid}/cash"),
            json!({ "version": moved["version"], "direction": "out", "amount": brl(500), "reason": "gelo" }),
        )
        .await;
    // One pastel back, in cash, from this drawer, with the manager's PIN.
    let lid = paid["lines"][0]["id"].clone();
    t.ok(
        &terminal,
        Method::POST,
        &format!("/orders/{oid}/refunds"),
        json!({ "version": 3, "reason": "veio frio", "lines": [{ "line_id": lid, "quantity": 1 }],
                "approval": { "user_id": org.manager.id, "pin": "4826" } }),
    )
    .await;
    // A line voided before payment on another order, and a refused sale.
    let voided = t.sent(&terminal, &[(&pastel, 1)]).await;
    let line = voided["lines"][0]["id"].as_str().expect("line").to_owned();
    t.ok(
        manager,
        Method::POST,
        &format!("/orders/{}/lines/{line}/void", id(&voided)),
        json!({ "version": 2, "reason": "caiu no chão" }),
    )
    .await;

    let now = t
        .call(&terminal, Method::GET, &format!("/shifts/{sid}"), None)
        .await;
    assert_eq!(now.status, 200, "{now:?}");
    assert_eq!(
        now.body["drawer"],
        json!({ "cash_sales": 4400, "cash_refunds": 1100 })
    );
    let expected = 20_000 + 1_000 - 500 + 4_400 - 1_100;
    assert_eq!(now.body["expected"], expected);

    let x = t.call(manager, Method::GET, "/reports/x", None).await;
    assert_eq!(x.status, 200, "{x:?}");
    assert_eq!(x.body["kind"], "x");
    assert_eq!(x.body["sales"]["orders"], 2);
    assert_eq!(x.body["sales"]["total"], 6600);
    assert_eq!(x.body["refunds"], json!({ "count": 1, "amount": 1100 }));
    assert_eq!(x.body["sales"]["net_of_refunds"], 5500);
    assert_eq!(x.body["voids"], json!({ "count": 1, "amount": 1000 }));
    assert_eq!(x.body["by_product"][0]["quantity"], 6);
    assert_eq!(x.body["by_staff"][0]["name"], "cashier");
    assert_eq!(x.body["taxes"][0]["amount"], 600);
    let tenders: Vec<(String, i64)> = x.body["tenders"]
        .as_array()
        .expect("tenders")
        .iter()
        .map(|l| {
            (
                l["key"].as_str().unwrap_or_default().to_owned(),
                l["amount"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        tenders,
        [
            ("cash".to_owned(), 4400),
            ("external_card".to_owned(), 2200)
        ]
    );
    assert_eq!(x.body["cash"]["shifts"][0]["expected"], expected);
    // The drawer is open: nothing is counted yet, and the printed X says so instead of
    // a count and a difference of 0.00; tenders print in the store's language.
    assert_eq!(x.body["cash"]["open_shifts"], 1);
    let printed = t
        .call(manager, Method::GET, "/reports/x?format=html", None)
        .await;
    let printed = printed.body.as_str().expect("html");
    let total_row = printed
        .lines()
        .find(|l| l.starts_with("<tr class=\"total\">"))
        .expect("the cash total row");
    assert!(total_row.contains("em aberto"), "{total_row}");
    assert!(!total_row.contains("0,00</td><td"), "{total_row}");
    for text in ["Dinheiro", "Cartão (maquininha)"] {
        assert!(printed.contains(text), "{text:?} missing from {printed}");
    }
    assert!(!printed.contains(">cash<"), "{printed}");

    // The day cannot close with a drawer open; the count is 50 centavos short.
    let early = t
        .call(manager, Method::POST, "/reports/z", Some(json!({})))
        .await;
    assert_eq!((early.status, early.code()), (409, "shifts_open"));
    let closed = t
        .ok(
            &terminal,
            Method::POST,
            &format!("/shifts/{sid}/close"),
            json!({ "version": moved["version"], "denominations": [
                { "value": 10000, "count": 2 }, { "value": 2000, "count": 1 }, { "value": 500, "count": 3 },
                { "value": 100, "count": 2 }, { "value": 25, "count": 2 },
            ] }),
        )
        .await;
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["closing"]["count"]["total"], expected - 50);
    assert_eq!(closed["closing"]["difference"], -50);
    let late = t
        .call(
            &terminal,
            Method::POST,
            &format!("/shifts/{sid}/cash"),
            Some(json!({ "version": closed["version"], "direction": "in", "amount": brl(1), "reason": "x" })),
        )
        .await;
    assert_eq!((late.status, late.code()), (409, "shift_closed"));

    // Two taps on "close the day" for the day the X showed, at the same moment: one Z,
    // and both are answered with it.
    let (z, again) = tokio::join!(
        t.call(manager, Method::POST, "/reports/z?day=1", Some(json!({}))),
        t.call(manager, Method::POST, "/reports/z?day=1", Some(json!({}))),
    );
    let (z, again) = if z.status == 201 {
        (z, again)
    } else {
        (again, z)
    };
    assert_eq!((z.status, again.status), (201, 200), "{z:?} {again:?}");
    assert_eq!(again.body, z.body, "the second tap gets the same report");
    let later = t
        .call(manager, Method::POST, "/reports/z?day=1", Some(json!({})))
        .await;
    assert_eq!((later.status, &later.body), (200, &z.body));
    let ahead = t
        .call(manager, Method::POST, "/reports/z?day=5", Some(json!({})))
        .await;
    assert_eq!((ahead.status, ahead.code()), (409, "day_not_open"));
    assert_eq!(ahead.body["error"]["details"]["open_day"], 2, "{ahead:?}");
    assert_eq!(
        (z.body["kind"].clone(), z.body["number"].clone()),
        (json!("z"), json!(1))
    );
    assert_eq!(z.body["sales"]["total"], 6600);
    assert_eq!(z.body["cash"]["difference"], -50);
    assert_eq!(z.body["cash"]["open_shifts"], 0);
    assert_eq!(z.body["cash"]["shifts"][0]["counted"], expected - 50);

    // A sale after the Z belongs to the next day; the Z stays as issued.
    open_shift(&t, &terminal, 10_000).await;
    let next = t.sent(&terminal, &[(&pastel, 1)]).await;
    t.pay(&terminal, &next, json!({ "version": 2, "kind": "cash" }))
        .await;
    let x2 = t.call(manager, Method::GET, "/reports/x", None).await;
    assert_eq!(
        (x2.body["number"].clone(), x2.body["sales"]["total"].clone()),
        (json!(2), json!(1100))
    );
    let kept = t.call(manager, Method::GET, "/reports/z/1", None).await;
    assert_eq!(kept.body, z.body, "byte for byte as issued");
    let list = t.call(manager, Method::GET, "/reports/z", None).await;
    assert_eq!(list.body["items"][0]["number"], 1);
    assert_eq!(
        list.body["items"].as_array().map(Vec::len),
        Some(1),
        "one Z for day 1: {:?}",
        list.body
    );
    let page = t
        .call(manager, Method::GET, "/reports/z/1?format=html", None)
        .await;
    let page = page.body.as_str().expect("html");
    for text in [
        "Redução Z #1",
        "Loja Centro",
        "R$\u{a0}66,00",
        "-R$\u{a0}0,50",
    ] {
        assert!(page.contains(text), "{text:?} missing from {page}");
    }
    let cashier_z = t.call(&terminal, Method::GET, "/reports/x", None).await;
    assert_eq!(cashier_z.status, 403);
}

async fn sales_take_stock_out_and_refunds_put_it_back(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let t = Till::new(&org);
    let owner = &org.owner.token;
    let gin = t
        .ok(
            owner,
            Method::POST,
            "/catalog/products",
            json!({ "name": "Gin", "track_stock": true, "sell_when_out": true,
                    "variants": [{ "price": brl(9000) }] }),
        )
        .await;
    let variant = gin["variants"][0]["id"].clone();
    let tonic = t.product("Tônica", 800, None).await;
    t.ok(
        owner,
        Method::POST,
        "/catalog/stock/movements",
        json!({ "movements": [{ "variant_id": variant, "kind": "receipt", "quantity": 10 }] }),
    )
    .await;
    let on_hand = || async {
        let levels = t.call(owner, Method::GET, "/catalog/stock", None).await;
        levels.body["items"]
            .as_array()
            .and_then(|items| items.iter().find(|l| l["variant_id"] == variant))
            .map(|l| l["on_hand"].clone())
    };
    let order = t
        .sent(&org.cashier.token, &[(&gin["id"], 3), (&tonic, 2)])
        .await;
    assert_eq!(on_hand().await, Some(json!(10)), "sent is not sold");
    let paid = t
        .pay(
            &org.cashier.token,
            &order,
            json!({ "version": 2, "kind": "cash", "amount": brl(40_000) }),
        )
        .await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(on_hand().await, Some(json!(7)));
    let line = paid["lines"][0]["id"].clone();
    t.ok(
        &org.manager.token,
        Method::POST,
        &format!("/orders/{}/refunds", id(&order)),
        json!({ "version": 3, "reason": "garrafa trincada", "lines": [{ "line_id": line, "quantity": 1 }] }),
    )
    .await;
    assert_eq!(on_hand().await, Some(json!(8)));
    let ledger = t
        .call(owner, Method::GET, "/catalog/stock/movements", None)
        .await;
    let moves: Vec<(String, i64, String)> = ledger.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| {
            (
                m["kind"].as_str().unwrap_or_default().to_owned(),
                m["quantity"].as_i64().unwrap_or(0),
                m["reference"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let reference = format!("order {}", id(&order));
    assert_eq!(
        moves,
        [
            ("refund".to_owned(), 1, reference.clone()),
            ("sale".to_owned(), -3, reference),
            ("receipt".to_owned(), 10, String::new()),
        ],
        "only the product that tracks stock is in the ledger"
    );
}

/// One Picanha 300 g and two 500 g: the X report has a row for each variant, under the
/// name it was sold as, with the product's and the variant's ids.
async fn reports_name_each_variant_sold(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let t = Till::new(&org);
    t.product("Água", 500, None).await; // the store's tax rate
    let owner = &org.owner.token;
    let picanha = t
        .ok(
            owner,
            Method::POST,
            "/catalog/products",
            json!({ "name": "Picanha", "variants": [
                { "name": "300 g", "price": brl(8000) },
                { "name": "500 g", "price": brl(12000) },
            ]}),
        )
        .await;
    let (small, large) = (&picanha["variants"][0]["id"], &picanha["variants"][1]["id"]);
    for (variant, quantity) in [(small, 1), (large, 2)] {
        let order = t
            .ok(
                owner,
                Method::POST,
                "/orders",
                json!({ "kind": "counter", "lines": [
                    { "product_id": picanha["id"], "variant_id": variant, "quantity": quantity }
                ]}),
            )
            .await;
        t.send_and_pay(owner, &order, "external_card").await;
    }
    let x = t.call(owner, Method::GET, "/reports/x", None).await;
    assert_eq!(x.status, 200, "{x:?}");
    let rows: Vec<(String, Value, Value, i64)> = x.body["by_product"]
        .as_array()
        .expect("by product")
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap_or_default().to_owned(),
                r["product_id"].clone(),
                r["variant_id"].clone(),
                r["quantity"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                "Picanha (500 g)".to_owned(),
                picanha["id"].clone(),
                large.clone(),
                2
            ),
            (
                "Picanha (300 g)".to_owned(),
                picanha["id"].clone(),
                small.clone(),
                1
            ),
        ]
    );
}

/// A pt-BR store: the rate prints with a decimal comma on the receipt and the X, a table
/// named "Mesa 1" is not "Mesa Mesa 1", and a table named "12" is "Mesa 12".
async fn receipts_write_rates_and_tables_as_the_store_does(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let t = Till::new(&org);
    let owner = &org.owner.token;
    t.ok(
        owner,
        Method::POST,
        "/catalog/tax-rates",
        json!({ "name": "ICMS", "rate": "7.25", "default": true }),
    )
    .await;
    let pastel = t.product("Pastel", 1000, None).await;
    let mut pages = Vec::new();
    for table in ["Mesa 1", "12"] {
        let table = t
            .ok(owner, Method::POST, "/tables", json!({ "name": table }))
            .await;
        let order = t
            .ok(
                owner,
                Method::POST,
                "/orders",
                json!({ "kind": "dine_in", "table_id": table["id"],
                        "lines": [{ "product_id": pastel, "quantity": 1 }] }),
            )
            .await;
        let html = t
            .call(
                owner,
                Method::GET,
                &format!("/orders/{}/receipt.html", id(&order)),
                None,
            )
            .await;
        assert_eq!(html.status, 200, "{html:?}");
        pages.push(html.body.as_str().expect("html").to_owned());
        t.send_and_pay(owner, &order, "cash").await;
    }
    assert!(pages[0].contains("ICMS 7,25 %"), "{}", pages[0]);
    assert!(pages[0].contains("· Mesa 1<"), "{}", pages[0]);
    assert!(!pages[0].contains("Mesa Mesa"), "{}", pages[0]);
    assert!(pages[1].contains("· Mesa 12<"), "{}", pages[1]);
    let x = t
        .call(
            org.manager.token.as_str(),
            Method::GET,
            "/reports/x?format=html",
            None,
        )
        .await;
    let x = x.body.as_str().expect("html");
    assert!(x.contains("ICMS 7,25 %"), "{x}");
}
