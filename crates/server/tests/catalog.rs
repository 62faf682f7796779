//! The catalog through HTTP on both backends: validation, the menu and its ETag, sold-out
//! switches, CSV import and export, stock.

use comanda_testkit::identity::{Org, Reply, reply};
use comanda_testkit::{TestDb, on_both_backends};
use reqwest::Method;
use serde_json::{Value, json};
use std::io::Read;

on_both_backends!(
    bad_catalog_input_is_refused_naming_the_field_and_nothing_is_written,
    the_menu_carries_an_etag_and_answers_304_until_the_catalog_changes,
    terminals_read_their_own_store_menu_with_the_device_token,
    staff_mark_products_sold_out_and_back,
    a_branch_sells_the_main_catalog_at_its_own_prices,
    csv_exports_import_elsewhere_unchanged_and_bad_files_write_nothing,
    a_whole_catalog_moves_to_another_store_with_its_rates_and_groups,
    stock_moves_through_the_ledger_and_lists_what_is_low,
);

fn brl(amount: i64) -> Value {
    json!({ "amount": amount, "currency": "BRL" })
}

struct Catalog<'a> {
    org: &'a Org,
    base: String,
    token: String,
}

impl<'a> Catalog<'a> {
    fn of(org: &'a Org, token: &str) -> Self {
        Self::at(org, org.store_a, token)
    }

    fn at(org: &'a Org, store: comanda_domain::StoreId, token: &str) -> Self {
        Self {
            org,
            base: format!("/api/v1/stores/{store}/catalog"),
            token: token.to_owned(),
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.org
            .call(
                method,
                &format!("{}{path}", self.base),
                Some(&self.token),
                body,
            )
            .await
    }

    async fn created(&self, path: &str, body: Value) -> Value {
        let r = self.call(Method::POST, path, Some(body)).await;
        assert_eq!(r.status, 201, "{r:?}");
        r.body
    }

    async fn menu(&self, if_none_match: Option<&str>) -> Reply {
        let mut request = reqwest::Client::new()
            .get(self.org.url(&format!("{}/menu", self.base)))
            .bearer_auth(&self.token);
        if let Some(tag) = if_none_match {
            request = request.header("if-none-match", tag);
        }
        reply(request).await
    }
}

fn etag(r: &Reply) -> String {
    r.headers
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .expect("an ETag")
        .to_owned()
}

async fn bad_catalog_input_is_refused_naming_the_field_and_nothing_is_written(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let c = Catalog::of(&org, &org.manager.token);
    let drinks = c.created("/categories", json!({ "name": "Bebidas" })).await;
    let beer = c
        .created(
            "/categories",
            json!({ "name": "Cervejas", "parent_id": drinks["id"] }),
        )
        .await;
    c.created(
        "/products",
        json!({ "name": "Vodka", "variants": [{ "sku": "VOD-1", "barcode": "7891000315507", "price": brl(5000) }] }),
    )
    .await;
    let before = c.menu(None).await;
    let cases = [
        (
            Method::POST,
            "/products".to_owned(),
            json!({ "name": "X", "variants": [{ "price": brl(-100) }] }),
            "variants[0].price.amount",
        ),
        (
            Method::POST,
            "/products".to_owned(),
            json!({ "name": "X", "variants": [{ "price": { "amount": 100, "currency": "BRX" } }] }),
            "variants[0].price.currency",
        ),
        (
            Method::POST,
            "/products".to_owned(),
            json!({ "name": "X", "variants": [{ "price": { "amount": 100, "currency": "USD" } }] }),
            "variants[0].price.currency",
        ),
        (
            Method::POST,
            "/products".to_owned(),
            json!({ "name": "Y", "variants": [{ "name": "a", "price": brl(1) }, { "name": "b", "sku": "VOD-1", "price": brl(1) }] }),
            "variants[1].sku",
        ),
        (
            Method::POST,
            "/products".to_owned(),
            json!({ "name": "Z", "variants": [{ "barcode": "7891000315507", "price": brl(1) }] }),
            "variants[0].barcode",
        ),
        (
            Method::POST,
            "/modifier-groups".to_owned(),
            json!({ "name": "G", "min_choices": 3, "max_choices": 1, "options": [{ "name": "a" }] }),
            "min_choices",
        ),
        (
            Method::PUT,
            format!("/categories/{}", drinks["id"].as_str().expect("id")),
            json!({ "version": 1, "name": "Bebidas", "parent_id": beer["id"] }),
            "parent_id",
        ),
        (
            Method::POST,
            "/tax-rates".to_owned(),
            json!({ "name": "T", "rate": "-7" }),
            "rate",
        ),
    ];
    let owner = Catalog::of(&org, &org.owner.token);
    for (method, path, body, field) in cases {
        let caller = if path == "/tax-rates" { &owner } else { &c };
        let r = caller.call(method.clone(), &path, Some(body.clone())).await;
        assert_eq!(
            (r.status, r.body["error"]["details"]["field"].as_str()),
            (422, Some(field)),
            "{method} {path} {body}: {r:?}"
        );
    }
    let products = c.call(Method::GET, "/products", None).await;
    assert_eq!(products.body["items"].as_array().map(Vec::len), Some(1));
    let after = c.menu(Some(&etag(&before))).await;
    assert_eq!(after.status, 304, "no refused write changed the catalog");
    let malformed = c
        .call(Method::POST, "/products", Some(json!({ "name": "X" })))
        .await;
    assert_eq!((malformed.status, malformed.code()), (422, "invalid_body"));
}

async fn the_menu_carries_an_etag_and_answers_304_until_the_catalog_changes(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let c = Catalog::of(&org, &org.manager.token);
    let grill = c
        .created(
            "/categories",
            json!({ "name": "Grelhados", "station": "grill" }),
        )
        .await;
    let owner = Catalog::of(&org, &org.owner.token);
    let icms = owner
        .created(
            "/tax-rates",
            json!({ "name": "ICMS", "rate": "18", "default": true }),
        )
        .await;
    let flavours = c
        .created(
            "/modifier-groups",
            json!({ "name": "Ponto", "min_choices": 1, "options": [{ "name": "Mal passado" }, { "name": "Ao ponto", "default": true }] }),
        )
        .await;
    let steak = c
        .created(
            "/products",
            json!({ "name": "Picanha", "category_id": grill["id"], "modifier_group_ids": [flavours["id"]], "variants": [{ "price": brl(8900) }] }),
        )
        .await;

    let first = c.menu(None).await;
    assert_eq!(first.status, 200);
    let product = &first.body["products"][0];
    assert_eq!(product["station"], "grill", "inherited from the category");
    // References are positions in the document's arrays.
    assert_eq!(
        product["tax_rates"],
        json!([0]),
        "the store's default rates"
    );
    assert_eq!(first.body["tax_rates"][0]["id"], icms["id"]);
    assert_eq!(product["modifier_groups"], json!([0]));
    assert_eq!(first.body["modifier_groups"][0]["id"], flavours["id"]);
    assert_eq!(
        first.body["categories"][product["category"].as_u64().expect("category") as usize]["id"],
        grill["id"]
    );
    assert_eq!(product["variants"][0]["price"], 8900);
    assert_eq!(first.body["currency"], "BRL");
    assert_eq!(
        first.body["modifier_groups"][0]["options"][1]["default"],
        true
    );

    let tag = etag(&first);
    let again = c.menu(Some(&tag)).await;
    assert_eq!((again.status, again.body.clone()), (304, Value::Null));
    assert_eq!(etag(&again), tag);

    // Any change to the catalog makes a new menu.
    let id = steak["id"].as_str().expect("id");
    let changed = c
        .call(
            Method::PUT,
            &format!("/products/{id}"),
            Some(json!({ "version": 1, "name": "Picanha na brasa", "category_id": grill["id"], "variants": [{ "id": steak["variants"][0]["id"], "price": brl(9400) }] })),
        )
        .await;
    assert_eq!(changed.status, 200, "{changed:?}");
    let fresh = c.menu(Some(&tag)).await;
    assert_eq!(fresh.status, 200);
    assert_ne!(etag(&fresh), tag);
    assert_eq!(fresh.body["products"][0]["variants"][0]["price"], 9400);

    // Gzip when asked, the same document.
    let zipped = reqwest::Client::new()
        .get(org.url(&format!("{}/menu", c.base)))
        .bearer_auth(&c.token)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("request");
    assert_eq!(
        zipped
            .headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok()),
        Some("gzip")
    );
    let bytes = zipped.bytes().await.expect("body");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut text)
        .expect("gzip");
    assert_eq!(
        serde_json::from_str::<Value>(&text).expect("json"),
        fresh.body
    );

    // A store this manager does not work in stays closed.
    let other = org
        .call(
            Method::GET,
            &format!("/api/v1/stores/{}/catalog/menu", org.store_b),
            Some(&org.manager.token),
            None,
        )
        .await;
    assert_eq!(other.status, 403);
}

async fn terminals_read_their_own_store_menu_with_the_device_token(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let device = org
        .call(
            Method::POST,
            &format!("/api/v1/stores/{}/devices", org.store_a),
            Some(&org.owner.token),
            Some(json!({ "name": "Caixa 1" })),
        )
        .await;
    let token = device.body["token"].as_str().expect("token").to_owned();
    let read = |store| {
        let token = token.clone();
        let url = org.url(&format!("/api/v1/stores/{store}/catalog/menu"));
        async move {
            reply(
                reqwest::Client::new()
                    .get(url)
                    .header("x-device-token", token),
            )
            .await
        }
    };
    assert_eq!(read(org.store_a).await.status, 200);
    let elsewhere = read(org.store_b).await;
    assert_eq!(
        (elsewhere.status, elsewhere.code()),
        (403, "store_forbidden")
    );
    let forged = reply(
        reqwest::Client::new()
            .get(org.url(&format!("/api/v1/stores/{}/catalog/menu", org.store_a)))
            .header("x-device-token", "dv1.nothing.here"),
    )
    .await;
    assert_eq!(forged.status, 401);
}

async fn staff_mark_products_sold_out_and_back(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let c = Catalog::of(&org, &org.manager.token);
    let fish = c
        .created(
            "/products",
            json!({ "name": "Salmão", "variants": [{ "price": brl(7200) }] }),
        )
        .await;
    let path = format!(
        "/products/{}/availability",
        fish["id"].as_str().expect("id")
    );
    let kitchen = Catalog::of(&org, &org.kitchen.token);
    let out = kitchen
        .call(Method::PUT, &path, Some(json!({ "available": false })))
        .await;
    assert_eq!(
        (out.status, out.body["available"].as_bool()),
        (200, Some(false))
    );
    assert_eq!(c.menu(None).await.body["products"][0]["available"], false);
    let back = Catalog::of(&org, &org.waiter.token)
        .call(Method::PUT, &path, Some(json!({ "available": true })))
        .await;
    assert_eq!(back.body["available"], true);
    // Floor staff may switch availability, not edit the product.
    let edit = kitchen
        .call(
            Method::PUT,
            &format!("/products/{}", fish["id"].as_str().expect("id")),
            Some(json!({ "version": 3, "name": "x", "variants": [{ "price": brl(1) }] })),
        )
        .await;
    assert_eq!(edit.status, 403);
}

async fn csv_exports_import_elsewhere_unchanged_and_bad_files_write_nothing(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let upload = |store, file: String| {
        let url = org.url(&format!("/api/v1/stores/{store}/catalog/import"));
        let token = org.owner.token.clone();
        async move {
            reply(
                reqwest::Client::new()
                    .post(url)
                    .bearer_auth(token)
                    .header("content-type", "text/csv")
                    .body(file),
            )
            .await
        }
    };
    let download = |store| {
        let url = org.url(&format!("/api/v1/stores/{store}/catalog/export"));
        let token = org.owner.token.clone();
        async move {
            let r = reply(reqwest::Client::new().get(url).bearer_auth(token)).await;
            assert_eq!(r.status, 200, "{r:?}");
            r.body.as_str().expect("csv").to_owned()
        }
    };
    for store in [org.store_a, org.store_b] {
        let base = format!("/api/v1/stores/{store}/catalog");
        let tax = org
            .call(
                Method::POST,
                &format!("{base}/tax-rates"),
                Some(&org.owner.token),
                Some(json!({ "name": "ICMS", "rate": "18" })),
            )
            .await;
        assert_eq!(tax.status, 201);
        let group = org
            .call(Method::POST, &format!("{base}/modifier-groups"), Some(&org.owner.token), Some(json!({ "name": "Sabores", "max_choices": 2, "options": [{ "name": "Calabresa" }] })))
            .await;
        assert_eq!(group.status, 201);
    }
    let file = "category,product,variant,sku,barcode,price,taxes,modifier_groups,station,age_restricted,track_stock\n\
                Pizzas,Pizza,Média,PZ-M,,45.00,ICMS,Sabores,forno,,\n\
                Pizzas,Pizza,Grande,PZ-G,,59.90,,,,,\n\
                Bebidas/Destilados,Cachaça,,CACH-1,7891000315507,89.90,none,,bar,18,true\n";
    let imported = upload(org.store_a, file.into()).await;
    assert_eq!(imported.status, 200, "{imported:?}");
    assert_eq!(
        imported.body,
        json!({ "tax_rates_created": 0, "modifier_groups_created": 0, "categories_created": 3, "products_created": 2, "products_updated": 0, "variants": 3 })
    );
    let exported = download(org.store_a).await;
    assert!(
        exported
            .contains("Bebidas/Destilados,Cachaça,,CACH-1,7891000315507,89.90,none,,bar,18,true"),
        "{exported}"
    );
    let copied = upload(org.store_b, exported.clone()).await;
    assert_eq!(copied.status, 200, "{copied:?}");
    assert_eq!(
        download(org.store_b).await,
        exported,
        "an export imports elsewhere unchanged"
    );

    // A station set on a category goes with each of its products: the grill's tickets
    // still go to the grill in the store the catalog moves to.
    let base_a = format!("/api/v1/stores/{}/catalog", org.store_a);
    let grill = org
        .call(
            Method::POST,
            &format!("{base_a}/categories"),
            Some(&org.owner.token),
            Some(json!({ "name": "Grelhados", "station": "grill" })),
        )
        .await;
    assert_eq!(grill.status, 201, "{grill:?}");
    let picanha = org
        .call(
            Method::POST,
            &format!("{base_a}/products"),
            Some(&org.owner.token),
            Some(json!({ "name": "Picanha", "category_id": grill.body["id"],
                         "variants": [{ "sku": "PIC-1", "price": { "amount": 8900, "currency": "BRL" } }] })),
        )
        .await;
    assert_eq!(picanha.status, 201, "{picanha:?}");
    let exported = download(org.store_a).await;
    let row = exported
        .lines()
        .find(|l| l.starts_with("Grelhados,Picanha,"))
        .expect("the product's row");
    assert_eq!(row.split(',').nth(8), Some("grill"), "{row}");
    let moved = upload(org.store_b, exported).await;
    assert_eq!(moved.status, 200, "{moved:?}");
    let menu = org
        .call(
            Method::GET,
            &format!("/api/v1/stores/{}/catalog/menu", org.store_b),
            Some(&org.owner.token),
            None,
        )
        .await;
    fn product_named<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
        match v {
            Value::Object(o)
                if o.get("name") == Some(&json!(name)) && o.contains_key("station") =>
            {
                Some(v)
            }
            Value::Object(o) => o.values().find_map(|v| product_named(v, name)),
            Value::Array(a) => a.iter().find_map(|v| product_named(v, name)),
            _ => None,
        }
    }
    let station = product_named(&menu.body, "Picanha").map(|p| p["station"].clone());
    assert_eq!(station, Some(json!("grill")), "{menu:?}");

    let products_before = org
        .call(
            Method::GET,
            &format!("/api/v1/stores/{}/catalog/products", org.store_a),
            Some(&org.owner.token),
            None,
        )
        .await;
    let bad =
        "product,sku,price,taxes\nNova,NOVA-1,10.00,\nRuim,RUIM-1,dez,\nOutra,PZ-X,1.00,IVA\n";
    let refused = upload(org.store_a, bad.into()).await;
    assert_eq!(
        (refused.status, refused.code()),
        (422, "import_rejected"),
        "{refused:?}"
    );
    let lines: Vec<(i64, &str)> = refused.body["error"]["details"]["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["line"].as_i64().unwrap_or(0),
                e["column"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(lines, vec![(3, "price"), (4, "taxes")]);
    let products_after = org
        .call(
            Method::GET,
            &format!("/api/v1/stores/{}/catalog/products", org.store_a),
            Some(&org.owner.token),
            None,
        )
        .await;
    assert_eq!(products_after.body, products_before.body, "nothing written");
    let json_body = org
        .call(
            Method::POST,
            &format!("/api/v1/stores/{}/catalog/import", org.store_a),
            Some(&org.owner.token),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (json_body.status, json_body.code()),
        (422, "import_rejected"),
        "JSON is read as a whole catalog: {json_body:?}"
    );
    let spreadsheet = reply(
        reqwest::Client::new()
            .post(org.url(&format!("/api/v1/stores/{}/catalog/import", org.store_a)))
            .bearer_auth(&org.owner.token)
            .header("content-type", "application/vnd.ms-excel")
            .body("x"),
    )
    .await;
    assert_eq!(spreadsheet.status, 415, "{spreadsheet:?}");
}

/// Store A's catalog exported as JSON and imported into store B, which has none of A's
/// rates or groups: they are created (a default only where none was), the products name
/// them, prices and stations are A's, and a second import creates nothing new.
async fn a_whole_catalog_moves_to_another_store_with_its_rates_and_groups(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let a = Catalog::at(&org, org.store_a, &org.owner.token);
    let b = Catalog::at(&org, org.store_b, &org.owner.token);
    let icms = a
        .created(
            "/tax-rates",
            json!({ "name": "ICMS", "rate": "18", "default": true }),
        )
        .await;
    let service = a
        .created(
            "/tax-rates",
            json!({ "name": "Serviço", "kind": "service_charge", "rate": "10" }),
        )
        .await;
    let point = a
        .created(
            "/modifier-groups",
            json!({ "name": "Ponto", "min_choices": 1, "max_choices": 1, "options": [
                { "name": "Mal passado", "default": true }, { "name": "Ao ponto" },
                { "name": "Bem passado", "price_delta": brl(200) }] }),
        )
        .await;
    let grill = a
        .created(
            "/categories",
            json!({ "name": "Grelhados", "station": "grill" }),
        )
        .await;
    a.created(
        "/products",
        json!({ "name": "Picanha", "category_id": grill["id"], "modifier_group_ids": [point["id"]],
                "tax_rate_ids": [icms["id"], service["id"]],
                "variants": [{ "name": "300 g", "sku": "PIC-300", "price": brl(8_900) },
                             { "name": "500 g", "sku": "PIC-500", "price": brl(12_900) }] }),
    )
    .await;
    // B has its own default rate: the imported ICMS must not start taxing B's products.
    b.created(
        "/tax-rates",
        json!({ "name": "ISS", "rate": "5", "default": true }),
    )
    .await;

    let exported = reply(
        reqwest::Client::new()
            .get(org.url(&format!("{}/export?format=json", a.base)))
            .bearer_auth(&org.owner.token),
    )
    .await;
    assert_eq!(exported.status, 200, "{exported:?}");
    assert_eq!(exported.body["format"], "comanda-catalog/1");
    let upload = |file: Value| {
        reply(
            reqwest::Client::new()
                .post(org.url(&format!("{}/import", b.base)))
                .bearer_auth(&org.owner.token)
                .json(&file),
        )
    };
    let imported = upload(exported.body.clone()).await;
    assert_eq!(imported.status, 200, "{imported:?}");
    assert_eq!(
        imported.body,
        json!({ "tax_rates_created": 2, "modifier_groups_created": 1, "categories_created": 1,
                "products_created": 1, "products_updated": 0, "variants": 2 })
    );

    let rates = b.call(Method::GET, "/tax-rates", None).await.body;
    let rate = |name: &str| {
        rates["items"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["name"] == name))
            .cloned()
            .unwrap_or_else(|| panic!("no {name} in {rates}"))
    };
    assert_eq!(
        (&rate("ICMS")["rate"], &rate("ICMS")["default"]),
        (&json!("18"), &json!(false)),
        "{rates}"
    );
    assert_eq!(rate("Serviço")["kind"], "service_charge");
    let menu = b.menu(None).await.body;
    let picanha = menu["products"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "Picanha"))
        .cloned()
        .unwrap_or_else(|| panic!("no Picanha in {menu}"));
    assert_eq!(picanha["station"], "grill");
    let prices: Vec<&Value> = picanha["variants"]
        .as_array()
        .expect("variants")
        .iter()
        .map(|v| &v["price"])
        .collect();
    assert_eq!(prices, [&json!(8_900), &json!(12_900)]);
    let rate_names: Vec<&Value> = picanha["tax_rates"]
        .as_array()
        .expect("rates")
        .iter()
        .map(|i| &menu["tax_rates"][i.as_u64().unwrap_or(99) as usize]["name"])
        .collect();
    assert_eq!(rate_names, [&json!("ICMS"), &json!("Serviço")]);
    let group =
        &menu["modifier_groups"][picanha["modifier_groups"][0].as_u64().unwrap_or(99) as usize];
    assert_eq!(group["name"], "Ponto");
    assert_eq!(group["options"][2]["price"], 200, "{group}");

    let again = upload(exported.body.clone()).await;
    assert_eq!(
        (
            &again.body["tax_rates_created"],
            &again.body["modifier_groups_created"],
            &again.body["products_updated"]
        ),
        (&json!(0), &json!(0), &json!(1)),
        "{again:?}"
    );
    let mut bad = exported.body.clone();
    bad["tax_rates"][0]["rate"] = json!("abc");
    bad["products"] = json!("product,price\nNovo,1.00\n");
    let refused = upload(bad).await;
    assert_eq!(
        (refused.status, refused.code()),
        (422, "import_rejected"),
        "{refused:?}"
    );
    assert_eq!(
        refused.body["error"]["details"]["errors"][0]["column"],
        "tax_rates[0].rate"
    );
}

async fn stock_moves_through_the_ledger_and_lists_what_is_low(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let c = Catalog::of(&org, &org.manager.token);
    let gin = c
        .created("/products", json!({ "name": "Gin", "track_stock": true, "sell_when_out": false, "variants": [{ "sku": "GIN", "price": brl(9000) }] }))
        .await;
    let variant = gin["variants"][0]["id"]
        .as_str()
        .expect("variant")
        .to_owned();
    let threshold = c
        .call(
            Method::PUT,
            &format!("/stock/{variant}/threshold"),
            Some(json!({ "low_threshold": 2 })),
        )
        .await;
    assert_eq!(threshold.status, 200, "{threshold:?}");
    let received = c
        .call(Method::POST, "/stock/movements", Some(json!({ "movements": [{ "variant_id": variant, "kind": "receipt", "quantity": 3, "reference": "NF 881" }] })))
        .await;
    assert_eq!(
        (
            received.status,
            received.body["items"][0]["on_hand_after"].as_i64()
        ),
        (201, Some(3))
    );
    let low = c.call(Method::GET, "/stock?low=true", None).await;
    assert_eq!(low.body["items"].as_array().map(Vec::len), Some(0));
    let sold = c
        .call(
            Method::POST,
            "/stock/movements",
            Some(
                json!({ "movements": [{ "variant_id": variant, "kind": "sale", "quantity": -2 }] }),
            ),
        )
        .await;
    assert_eq!(sold.status, 201);
    let low = c.call(Method::GET, "/stock?low=true", None).await;
    assert_eq!(low.body["items"][0]["on_hand"], 1);
    let oversold = c
        .call(
            Method::POST,
            "/stock/movements",
            Some(
                json!({ "movements": [{ "variant_id": variant, "kind": "sale", "quantity": -2 }] }),
            ),
        )
        .await;
    assert_eq!((oversold.status, oversold.code()), (409, "out_of_stock"));
    let wrong_sign = c
        .call(Method::POST, "/stock/movements", Some(json!({ "movements": [{ "variant_id": variant, "kind": "receipt", "quantity": -1 }] })))
        .await;
    assert_eq!(
        (
            wrong_sign.status,
            wrong_sign.body["error"]["details"]["field"].as_str()
        ),
        (422, Some("movements[0].quantity"))
    );
    let ledger = c
        .call(
            Method::GET,
            &format!("/stock/movements?variant_id={variant}&limit=1"),
            None,
        )
        .await;
    assert_eq!(ledger.body["items"][0]["kind"], "sale");
    let next = ledger.body["next"].as_str().expect("another page");
    let older = c
        .call(
            Method::GET,
            &format!("/stock/movements?variant_id={variant}&after={next}"),
            None,
        )
        .await;
    assert_eq!(older.body["items"][0]["kind"], "receipt");
    // The manager works only in store A: no transfer into store B.
    let transfer = c
        .call(Method::POST, "/stock/transfers", Some(json!({ "to_store_id": org.store_b, "lines": [{ "variant_id": variant, "quantity": 1 }] })))
        .await;
    assert_eq!(transfer.status, 403);
}

async fn a_branch_sells_the_main_catalog_at_its_own_prices(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let main = Catalog::at(&org, org.store_a, &org.owner.token);
    let branch = Catalog::at(&org, org.store_b, &org.owner.token);
    let pizza = main
        .created(
            "/products",
            json!({ "name": "Pizza", "variants": [
                { "name": "Média", "sku": "PZ-M", "price": brl(4000) },
                { "name": "Grande", "sku": "PZ-G", "price": brl(5500) },
            ]}),
        )
        .await;
    let id = pizza["id"].as_str().expect("id");
    let large = pizza["variants"][1]["id"].as_str().expect("variant");

    let follow = branch
        .call(
            Method::PUT,
            "/source",
            Some(json!({ "source_store_id": org.store_a })),
        )
        .await;
    assert_eq!(follow.status, 200, "{follow:?}");
    assert_eq!(follow.body["source_store_id"], json!(org.store_a));
    let followers = main.call(Method::GET, "/source", None).await;
    assert_eq!(followers.body["followers"], json!([org.store_b]));

    // The branch reads the shared catalog and cannot change it.
    let listed = branch.call(Method::GET, "/products", None).await;
    assert_eq!(listed.body["items"][0]["id"], json!(id));
    let refused = branch
        .call(
            Method::POST,
            "/products",
            Some(json!({ "name": "Própria", "variants": [{ "price": brl(100) }] })),
        )
        .await;
    assert_eq!((refused.status, refused.code()), (409, "catalog_shared"));
    assert_eq!(
        refused.body["error"]["details"]["source_store_id"],
        json!(org.store_a)
    );

    // Its own price, in its own currency only, for variants of that product only.
    let path = format!("/products/{id}/override");
    let bad = branch
        .call(
            Method::PUT,
            &path,
            Some(json!({ "prices": [{ "variant_id": large, "price": { "amount": 5900, "currency": "USD" } }] })),
        )
        .await;
    assert_eq!(
        (bad.status, bad.body["error"]["details"]["field"].as_str()),
        (422, Some("prices[0].price.currency")),
        "{bad:?}"
    );
    let menu_before = branch.menu(None).await;
    let priced = branch
        .call(
            Method::PUT,
            &path,
            Some(json!({ "prices": [{ "variant_id": large, "price": brl(5900) }] })),
        )
        .await;
    assert_eq!(priced.status, 200, "{priced:?}");
    assert_eq!(priced.body["variants"][1]["price"]["amount"], 5900);
    let read = branch
        .call(Method::GET, &format!("/products/{id}"), None)
        .await;
    assert_eq!(read.body["variants"][1]["price"]["amount"], 5900);
    let at_main = main
        .call(Method::GET, &format!("/products/{id}"), None)
        .await;
    assert_eq!(at_main.body["variants"][1]["price"]["amount"], 5500);

    // Menus: the branch's ETag moves with its override and with the shared catalog.
    let tag = etag(&menu_before);
    let after_price = branch.menu(Some(&tag)).await;
    assert_eq!(
        after_price.status, 200,
        "the override changed the branch menu"
    );
    let tag = etag(&after_price);
    let update = json!({
        "version": at_main.body["version"],
        "name": "Pizza",
        "description": "Massa fina",
        "variants": [
            { "id": pizza["variants"][0]["id"], "name": "Média", "sku": "PZ-M", "price": brl(4000) },
            { "id": large, "name": "Grande", "sku": "PZ-G", "price": brl(5500) },
        ],
    });
    let updated = main
        .call(Method::PUT, &format!("/products/{id}"), Some(update))
        .await;
    assert_eq!(updated.status, 200, "{updated:?}");
    let after_edit = branch.menu(Some(&tag)).await;
    assert_eq!(
        after_edit.status, 200,
        "the shared change reached the branch menu"
    );
    let menu = &after_edit.body;
    assert_eq!(menu["products"][0]["description"], "Massa fina");

    // Sold out at the main store: the branch keeps selling.
    let out = Catalog::at(&org, org.store_a, &org.waiter.token)
        .call(
            Method::PUT,
            &format!("/products/{id}/availability"),
            Some(json!({ "available": false })),
        )
        .await;
    assert_eq!(out.status, 200, "{out:?}");
    assert_eq!(
        main.menu(None).await.body["products"][0]["available"],
        false
    );
    assert_eq!(
        branch.menu(None).await.body["products"][0]["available"],
        true
    );

    // Stock at the branch is its own, on the shared variant.
    let stocked = branch
        .call(
            Method::POST,
            "/stock/movements",
            Some(
                json!({ "movements": [{ "variant_id": large, "kind": "receipt", "quantity": 7 }] }),
            ),
        )
        .await;
    assert_eq!(stocked.status, 201, "{stocked:?}");
    let levels = main.call(Method::GET, "/stock", None).await;
    assert_eq!(levels.body["items"], json!([]));

    let overrides = branch.call(Method::GET, "/overrides", None).await;
    assert_eq!(overrides.body["items"][0]["product_id"], json!(id));
    let cleared = branch.call(Method::DELETE, &path, None).await;
    assert_eq!(cleared.status, 204);
    let read = branch
        .call(Method::GET, &format!("/products/{id}"), None)
        .await;
    assert_eq!(read.body["variants"][1]["price"]["amount"], 5500);
}
