//! Catering through HTTP on both backends: a contract from signature to statement (the
//! client's quantity before the cut-off, the kitchen's count, a dispute, the catering
//! order on the kitchen screen, the events in the outbox), and who sees what: a client
//! company's people see their own contracts and nothing else.

use comanda_domain::Role;
use comanda_testkit::identity::{InStore, Org, Person, Reply, brl};
use comanda_testkit::{TestDb, on_both_backends};
use reqwest::Method;
use serde_json::{Value, json};

on_both_backends!(
    a_contract_runs_from_confirmation_to_statement,
    client_people_see_only_their_company,
);

const MEAL_PRICE: i64 = 2_500;

struct Catering<'a> {
    org: &'a Org,
}

impl<'a> Catering<'a> {
    async fn call(&self, token: &str, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.org
            .call(method, &format!("/api/v1{path}"), Some(token), body)
            .await
    }

    async fn ok(&self, token: &str, method: Method, path: &str, body: Value) -> Value {
        let r = self.call(token, method, path, Some(body)).await;
        assert!(r.status == 200 || r.status == 201, "{path}: {r:?}");
        r.body
    }

    /// A `POST` that must be refused with `(status, code)`; the answer.
    async fn refused(&self, token: &str, path: &str, body: Value, want: (u16, &str)) -> Reply {
        let r = self.call(token, Method::POST, path, Some(body)).await;
        assert_eq!((r.status, r.code()), want, "{path}: {r:?}");
        r
    }

    async fn get(&self, token: &str, path: &str) -> Value {
        let r = self.call(token, Method::GET, path, None).await;
        assert_eq!(r.status, 200, "{path}: {r:?}");
        r.body
    }

    async fn company(&self, kind: &str, name: &str, store: Option<String>) -> String {
        let body = json!({ "kind": kind, "name": name, "store_id": store });
        let c = self
            .ok(&self.org.owner.token, Method::POST, "/companies", body)
            .await;
        c["id"].as_str().expect("id").to_owned()
    }

    /// A meal the kitchen makes at the grill; its id.
    async fn meal(&self) -> String {
        let p = InStore::new(self.org)
            .ok(
                &self.org.owner.token,
                Method::POST,
                "/catalog/products",
                json!({ "name": "Marmita", "station": "grill", "variants": [{ "price": brl(3_000) }] }),
            )
            .await;
        p["id"].as_str().expect("id").to_owned()
    }

    /// Every day of the week, 10 to 100 meals (50 by default), three days' notice.
    fn terms() -> Value {
        json!({
            "starts_on": "2026-01-01", "ends_on": null,
            "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "price_per_meal": brl(MEAL_PRICE),
            "min_daily": 10, "max_daily": 100, "default_daily": 50,
            "notice_days": 3, "cutoff": "10:00:00",
        })
    }

    async fn contract(&self, caterer: &str, client: &str, product: Option<&str>) -> String {
        let body = json!({
            "caterer_id": caterer, "client_id": client, "terms": Self::terms(), "product_id": product,
        });
        let c = self
            .ok(&self.org.manager.token, Method::POST, "/contracts", body)
            .await;
        assert_eq!(c["status"], "active");
        c["id"].as_str().expect("id").to_owned()
    }

    /// A client company's person, signed in.
    async fn client_person(&self, login: &str, company: &str) -> Person {
        let password = format!("{login} first pass 123");
        let created = self
            .call(
                &self.org.owner.token,
                Method::POST,
                "/users",
                Some(json!({
                    "login": login, "display_name": login, "role": "client",
                    "company_id": company, "password": password,
                })),
            )
            .await;
        assert_eq!(created.status, 201, "{created:?}");
        assert_eq!(created.body["user"]["company_id"], company);
        let person = Person {
            id: created.body["user"]["id"]
                .as_str()
                .expect("id")
                .parse()
                .expect("uuid"),
            role: Role::Client,
            login: login.to_owned(),
            password,
            token: String::new(),
            refresh: String::new(),
            totp_secret: None,
            recovery_codes: Vec::new(),
        };
        self.org.complete_sign_in(person).await
    }
}

fn dates(days: &Value) -> Vec<String> {
    days.as_array()
        .expect("days")
        .iter()
        .map(|d| d["date"].as_str().expect("date").to_owned())
        .collect()
}

async fn a_contract_runs_from_confirmation_to_statement(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let c = Catering { org: &org };
    let manager = &org.manager.token;
    let store = org.store_a.to_string();
    let caterer = c
        .company("caterer", "Cozinha Central", Some(store.clone()))
        .await;
    let acme = c.company("client", "Acme Ltda", None).await;
    // The store charges ICMS on top of its prices; a contract's price per meal is what
    // the statement bills, so the catering order comes to the same, taxes inside.
    InStore::new(&org)
        .ok(
            &org.owner.token,
            Method::POST,
            "/catalog/tax-rates",
            json!({ "name": "ICMS", "rate": "7.25", "default": true }),
        )
        .await;
    let meal = c.meal().await;

    // Terms are checked before anything is written.
    let mut bad = Catering::terms();
    bad["min_daily"] = json!(200);
    c.refused(
        manager,
        "/contracts",
        json!({ "caterer_id": caterer, "client_id": acme, "terms": bad }),
        (422, "validation_failed"),
    )
    .await;
    let mut dollars = Catering::terms();
    dollars["price_per_meal"] = json!({ "amount": 500, "currency": "USD" });
    let r = c
        .refused(
            manager,
            "/contracts",
            json!({ "caterer_id": caterer, "client_id": acme, "terms": dollars }),
            (422, "validation_failed"),
        )
        .await;
    assert_eq!(
        r.body["error"]["details"]["reason"], "currency_mismatch",
        "{r:?}"
    );
    // Caterer and client swapped.
    c.refused(
        manager,
        "/contracts",
        json!({ "caterer_id": acme, "client_id": caterer, "terms": Catering::terms() }),
        (422, "validation_failed"),
    )
    .await;
    let contract = c.contract(&caterer, &acme, Some(&meal)).await;
    let base = format!("/contracts/{contract}");

    // Four weeks of days from today (the kitchen's today); generating again adds none.
    let generated = c
        .ok(
            manager,
            Method::POST,
            &format!("{base}/service-days"),
            json!({}),
        )
        .await;
    assert_eq!(generated["added"], 28, "{generated}");
    let days = dates(&generated["days"]);
    assert_eq!(days.len(), 28);
    assert_eq!(generated["days"][0]["expected"], 50);
    assert_eq!(generated["days"][0]["status"], "scheduled");
    let again = c
        .ok(
            manager,
            Method::POST,
            &format!("{base}/service-days"),
            json!({}),
        )
        .await;
    assert_eq!(again["added"], 0);

    let client = c.client_person("acme.rh", &acme).await;
    let (today, later) = (&days[0], &days[10]);
    let day = |date: &str, action: &str| format!("{base}/service-days/{date}/{action}");

    // The client's quantity: within limits, before the cut-off.
    let confirmed = c
        .ok(
            &client.token,
            Method::POST,
            &day(later, "confirm"),
            json!({ "quantity": 60 }),
        )
        .await;
    assert_eq!(
        (
            &confirmed["status"],
            &confirmed["expected"],
            &confirmed["version"]
        ),
        (&json!("confirmed"), &json!(60), &json!(2))
    );
    let r = c
        .refused(
            &client.token,
            &day(later, "confirm"),
            json!({ "quantity": 150 }),
            (422, "quantity_out_of_range"),
        )
        .await;
    assert_eq!(r.body["error"]["details"]["max"], 100);
    c.refused(
        &client.token,
        &day(today, "confirm"),
        json!({ "quantity": 40 }),
        (409, "past_cutoff"),
    )
    .await;
    c.refused(
        &client.token,
        &day(later, "confirm"),
        json!({ "quantity": 70, "version": 1 }),
        (409, "version_conflict"),
    )
    .await;

    // The kitchen's count: not before the day; today's closes it (past its cut-off,
    // the default quantity stands as confirmed).
    c.refused(
        manager,
        &day(later, "served"),
        json!({ "quantity": 60 }),
        (409, "invalid_state"),
    )
    .await;
    let cooked = c
        .ok(manager, Method::POST, &day(today, "order"), json!(null))
        .await;
    let served = c
        .ok(
            manager,
            Method::POST,
            &day(today, "served"),
            json!({ "quantity": 45 }),
        )
        .await;
    assert_eq!(served["status"], "closed", "{served}");
    // The day's catering order is done with: closed, unpaid (the statement bills it).
    let cooked = InStore::new(&org)
        .call(
            manager,
            Method::GET,
            &format!("/orders/{}", cooked["order_id"].as_str().expect("order id")),
            None,
        )
        .await;
    assert_eq!(cooked.body["status"], "closed", "{cooked:?}");
    assert_eq!(cooked.body["balance"]["paid"], 0);
    c.refused(
        &client.token,
        &day(today, "served"),
        json!({ "quantity": 1 }),
        (403, "forbidden"),
    )
    .await;

    // A dispute, then its resolution.
    let disputed = c
        .ok(
            &client.token,
            Method::POST,
            &day(today, "dispute"),
            json!({ "reason": "only 40 trays came" }),
        )
        .await;
    assert_eq!(disputed["status"], "disputed");
    let resolved = c
        .ok(
            manager,
            Method::POST,
            &day(today, "resolve"),
            json!({ "served": 40 }),
        )
        .await;
    assert_eq!(
        (&resolved["status"], &resolved["served"]),
        (&json!("closed"), &json!(40))
    );

    // The statement of today's month: the closed day is due at what was ordered (50),
    // the rest of the month is listed but open.
    let month = &today[..7];
    let statement = c
        .get(&client.token, &format!("{base}/statements/{month}"))
        .await;
    assert_eq!(
        statement["amount_due"],
        json!({ "amount": 50 * MEAL_PRICE, "currency": "BRL" }),
        "{statement}"
    );
    let in_month = days.iter().filter(|d| d.starts_with(month)).count();
    assert_eq!(statement["open_days"], in_month - 1);
    assert_eq!(statement["days"].as_array().map(Vec::len), Some(in_month));
    let r = c
        .call(
            manager,
            Method::GET,
            &format!("{base}/statements/2026-13"),
            None,
        )
        .await;
    assert_eq!(r.status, 422, "{r:?}");

    // The confirmed day goes to the kitchen as one catering order, sent to the grill.
    let with_order = c
        .ok(manager, Method::POST, &day(later, "order"), json!(null))
        .await;
    let order_id = with_order["order_id"]
        .as_str()
        .expect("order id")
        .to_owned();
    let order = InStore::new(&org)
        .call(manager, Method::GET, &format!("/orders/{order_id}"), None)
        .await;
    assert_eq!(order.status, 200, "{order:?}");
    assert_eq!(
        (&order.body["kind"], &order.body["status"]),
        (&json!("catering"), &json!("sent"))
    );
    assert_eq!(order.body["lines"][0]["quantity"], 60);
    assert_eq!(order.body["lines"][0]["unit_price"], MEAL_PRICE);
    assert_eq!(order.body["totals"]["due"], 60 * MEAL_PRICE, "{order:?}");
    assert!(
        order.body["totals"]["tax"].as_i64().is_some_and(|t| t > 0),
        "{order:?}"
    );
    let again = c
        .call(manager, Method::POST, &day(later, "order"), None)
        .await;
    assert_eq!(
        (again.status, again.code()),
        (409, "order_exists"),
        "{again:?}"
    );
    let grill = InStore::new(&org)
        .call(&org.kitchen.token, Method::GET, "/kds/grill/tickets", None)
        .await;
    let on_screen: Vec<&str> = grill.body["tickets"]
        .as_array()
        .expect("tickets")
        .iter()
        .filter_map(|t| t["order_id"].as_str())
        .collect();
    assert_eq!(on_screen, vec![order_id.as_str()], "{grill:?}");

    // Each change went out through the kitchen store's outbox.
    let events = InStore::new(&org)
        .call(&org.owner.token, Method::GET, "/events?limit=1000", None)
        .await;
    let kinds: Vec<&str> = events.body["items"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["type"].as_str().or(e["kind"].as_str()))
        .filter(|k| k.starts_with("catering."))
        .collect();
    assert_eq!(
        kinds,
        vec![
            "catering.day_confirmed",
            "catering.day_served",
            "catering.day_disputed",
            "catering.dispute_resolved",
        ],
        "{events:?}"
    );

    // Pausing cancels the upcoming days the client has not confirmed, and stops changes.
    let paused = c
        .ok(
            manager,
            Method::PATCH,
            &base,
            json!({ "version": 1, "status": "paused" }),
        )
        .await;
    assert_eq!(paused["status"], "paused");
    let listed = c
        .get(
            &client.token,
            &format!("{base}/service-days?from={}&to={}", days[1], days[27]),
        )
        .await;
    for d in listed["items"].as_array().expect("days") {
        let expected = if d["date"] == later.as_str() {
            "confirmed"
        } else {
            "cancelled"
        };
        assert_eq!(d["status"], expected, "{d}");
    }
    c.refused(
        &client.token,
        &day(later, "confirm"),
        json!({ "quantity": 80 }),
        (409, "invalid_state"),
    )
    .await;
    c.refused(
        manager,
        &format!("{base}/service-days"),
        json!({}),
        (409, "contract_not_active"),
    )
    .await;
}

async fn client_people_see_only_their_company(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let c = Catering { org: &org };
    let owner = &org.owner.token;
    let caterer = c
        .company("caterer", "Cozinha Central", Some(org.store_a.to_string()))
        .await;
    let other_kitchen = c
        .company("caterer", "Cozinha Filial", Some(org.store_b.to_string()))
        .await;
    let acme = c.company("client", "Acme Ltda", None).await;
    let globex = c.company("client", "Globex SA", None).await;
    let mine = c.contract(&caterer, &acme, None).await;
    let theirs = c.contract(&caterer, &globex, None).await;
    let elsewhere = c
        .ok(
            owner,
            Method::POST,
            "/contracts",
            json!({ "caterer_id": other_kitchen, "client_id": acme, "terms": Catering::terms() }),
        )
        .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    for contract in [&mine, &theirs] {
        c.ok(
            &org.manager.token,
            Method::POST,
            &format!("/contracts/{contract}/service-days"),
            json!({}),
        )
        .await;
    }
    let client = c.client_person("acme.rh", &acme).await;
    let token = &client.token;

    // Their own company and contracts.
    let companies = c.get(token, "/companies").await;
    assert_eq!(companies["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(companies["items"][0]["id"], acme.as_str());
    c.get(token, &format!("/contracts/{mine}")).await;
    let listed = c.get(token, &format!("/companies/{acme}/contracts")).await;
    let ids: Vec<&str> = listed["items"]
        .as_array()
        .expect("contracts")
        .iter()
        .filter_map(|x| x["id"].as_str())
        .collect();
    assert_eq!(ids.len(), 2, "both of Acme's contracts: {listed}");
    assert!(ids.contains(&mine.as_str()) && ids.contains(&elsewhere.as_str()));

    // Another company's contract is not there for them, whatever they try.
    let day = c
        .get(token, &format!("/contracts/{mine}/service-days"))
        .await["items"][20]["date"]
        .as_str()
        .expect("date")
        .to_owned();
    for (method, path, body) in [
        (Method::GET, format!("/contracts/{theirs}"), None),
        (
            Method::GET,
            format!("/contracts/{theirs}/service-days"),
            None,
        ),
        (
            Method::GET,
            format!("/contracts/{theirs}/statements/2026-11"),
            None,
        ),
        (
            Method::POST,
            format!("/contracts/{theirs}/service-days/{day}/confirm"),
            Some(json!({ "quantity": 20 })),
        ),
        (Method::GET, format!("/companies/{globex}"), None),
        (Method::GET, format!("/companies/{globex}/contracts"), None),
        (Method::GET, format!("/companies/{caterer}"), None),
    ] {
        let r = c.call(token, method, &path, body).await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "{path}: {r:?}");
    }
    // Nor may they act as the caterer, or in any store.
    for (method, path, body) in [
        (
            Method::POST,
            "/contracts".to_owned(),
            Some(json!({ "caterer_id": caterer, "client_id": acme, "terms": Catering::terms() })),
        ),
        (
            Method::PATCH,
            format!("/contracts/{mine}"),
            Some(json!({ "version": 1, "status": "terminated" })),
        ),
        (
            Method::POST,
            format!("/contracts/{mine}/service-days"),
            Some(json!({})),
        ),
        (
            Method::POST,
            "/companies".to_owned(),
            Some(json!({ "kind": "client", "name": "X" })),
        ),
        (Method::GET, format!("/stores/{}/orders", org.store_a), None),
    ] {
        let r = c.call(token, method, &path, body).await;
        assert_eq!(r.status, 403, "{path}: {r:?}");
    }
    let r = c
        .call(
            token,
            Method::POST,
            &format!("/contracts/{mine}/service-days/{day}/confirm"),
            Some(json!({ "quantity": 20 })),
        )
        .await;
    assert_eq!(r.status, 200, "their own day: {r:?}");

    // Staff see contracts through their stores: the manager of the first store not the
    // second's kitchen (it is not there for them, so its kitchen is not told); the
    // cashier none at all.
    let r = c
        .call(
            &org.manager.token,
            Method::GET,
            &format!("/contracts/{elsewhere}"),
            None,
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{r:?}");
    let listed = c
        .get(&org.manager.token, &format!("/companies/{acme}/contracts"))
        .await;
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );
    let r = c
        .call(
            &org.cashier.token,
            Method::GET,
            &format!("/contracts/{mine}"),
            None,
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"), "{r:?}");

    // Who may be a client company's person.
    for (who, body, status) in [
        (owner, json!({ "role": "client" }), 422),
        (
            owner,
            json!({ "role": "client", "company_id": caterer }),
            422,
        ),
        (
            owner,
            json!({ "role": "client", "company_id": acme, "store_ids": [org.store_a] }),
            422,
        ),
        (
            owner,
            json!({ "role": "waiter", "company_id": acme, "store_ids": [org.store_a] }),
            422,
        ),
        (
            &org.manager.token,
            json!({ "role": "client", "company_id": acme }),
            403,
        ),
    ] {
        let mut body = body;
        body["login"] = json!("someone.else");
        body["display_name"] = json!("Someone");
        body["password"] = json!("someone first pass 123");
        let r = c
            .call(who, Method::POST, "/users", Some(body.clone()))
            .await;
        assert_eq!(r.status, status, "{body}: {r:?}");
    }
    let r = c
        .call(
            owner,
            Method::PATCH,
            &format!("/users/{}", client.id),
            Some(json!({ "version": 1, "role": "manager" })),
        )
        .await;
    assert_eq!((r.status, r.code()), (422, "validation_failed"), "{r:?}");
}
