//! kill -9 the server while terminals take orders; after a restart, every order the
//! server acknowledged is there, and retrying every request with its key (acknowledged
//! or not) creates nothing twice.

mod support;

use comanda_domain::catalog::inputs::ProductInput;
use comanda_domain::{
    Currency, DisplayName, Login, NewStore, NewUser, ProductId, Role, Secret, StoreId, UserId,
};
use comanda_store::{Bootstrap, Limit, Ops, Storage};
use comanda_testkit::TestPostgres;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{Server, comanda, prepared};

const PASSWORD: &str = "waiter passphrase 77";

/// One open-order request as a terminal sent it.
#[derive(Clone)]
struct Sent {
    body: Value,
    /// The order id, if the server answered 2xx.
    acknowledged: Option<String>,
}

async fn sign_in(client: &reqwest::Client, server: &Server) -> String {
    let r: Value = client
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({ "login": "garcom", "password": PASSWORD }))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    r["access_token"].as_str().expect("token").to_owned()
}

async fn open(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    key: &str,
    body: &Value,
) -> Option<(u16, Value)> {
    let response = client
        .post(url)
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(body)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    Some((status, response.json().await.ok()?))
}

/// A waiter and a product in the store; returns (store, product).
async fn seed(storage: &dyn Storage) -> (StoreId, ProductId) {
    let store = storage
        .list_stores(None, None, Limit::new(None))
        .await
        .expect("stores")
        .items[0]
        .id;
    storage
        .create_user(&NewUser {
            id: UserId::new(),
            login: Login::parse("login", "garcom").expect("login"),
            display_name: DisplayName::parse("display_name", "Garçom").expect("name"),
            password_hash: comanda_server::password::hash(&Secret::new(PASSWORD))
                .await
                .expect("hash"),
            role: Role::Waiter,
            all_stores: false,
            store_ids: vec![store],
            must_change_password: false,
            company_id: None,
        })
        .await
        .expect("waiter");
    let draft = serde_json::from_value::<ProductInput>(json!({
        "name": "Chope", "variants": [{ "price": { "amount": 1200, "currency": "BRL" } }],
    }))
    .expect("shape")
    .parse(Currency::Brl)
    .expect("valid");
    (
        store,
        storage
            .create_product(store, &draft)
            .await
            .expect("product")
            .id,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_orders_survive_kill_9_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let storage = prepared(dir.path()).await;
    let (store, product) = seed(&storage).await;
    storage.close().await;
    let path = dir.path().to_owned();
    crash_and_retry(&|| comanda(&path), store, product).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_orders_survive_kill_9_on_postgres() {
    let Some(db) = TestPostgres::create().await else {
        return;
    };
    let storage = db.open_migrated().await;
    let main = NewStore::parse("main", "Centro", "BRL", "UTC", "pt-BR").expect("store");
    let owner = NewUser {
        id: UserId::new(),
        login: Login::parse("login", "owner").expect("login"),
        display_name: DisplayName::parse("display_name", "Dona").expect("name"),
        password_hash: comanda_server::password::hash(&Secret::new("owner passphrase 1"))
            .await
            .expect("hash"),
        role: Role::Owner,
        all_stores: true,
        store_ids: vec![main.id],
        must_change_password: false,
        company_id: None,
    };
    storage.bootstrap(&main, &owner).await.expect("bootstrap");
    let (store, product) = seed(&*storage).await;
    storage.close().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (path, url) = (dir.path().to_owned(), db.url.clone());
    crash_and_retry(
        &|| {
            let mut cmd = comanda(&path);
            cmd.env("COMANDA_DATABASE_URL", &url);
            cmd
        },
        store,
        product,
    )
    .await;
}

/// Terminals open orders until the server is killed; then every acknowledged order must
/// be there and every request, retried with its key, must make exactly one order.
async fn crash_and_retry(
    command: &dyn Fn() -> std::process::Command,
    store: StoreId,
    product: ProductId,
) {
    let orders_url = |server: &Server| server.url(&format!("/api/v1/stores/{store}/orders"));

    let server = Server::start(command()).await;
    server.wait_ready(Duration::from_secs(20)).await;
    let client = reqwest::Client::new();
    let token = sign_in(&client, &server).await;
    let sent: Arc<Mutex<BTreeMap<String, Sent>>> = Arc::default();
    let mut terminals = Vec::new();
    for t in 0..8 {
        let (client, url, token, sent) = (
            client.clone(),
            orders_url(&server),
            token.clone(),
            sent.clone(),
        );
        terminals.push(tokio::spawn(async move {
            for n in 0.. {
                let key = format!("t{t}-{n}");
                let body = json!({ "kind": "counter", "notes": key, "lines": [{ "product_id": product, "quantity": 1 + n % 3 }] });
                sent.lock().expect("lock").insert(key.clone(), Sent { body: body.clone(), acknowledged: None });
                match open(&client, &url, &token, &key, &body).await {
                    Some((201, order)) => {
                        let id = order["id"].as_str().map(str::to_owned);
                        if let Some(entry) = sent.lock().expect("lock").get_mut(&key) {
                            entry.acknowledged = id;
                        }
                    }
                    Some(_) => {}
                    // The server is gone.
                    None => break,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.signal("KILL");
    for terminal in terminals {
        terminal.await.expect("terminal");
    }
    drop(server);

    let sent = sent.lock().expect("lock").clone();
    let acknowledged: BTreeMap<&String, &String> = sent
        .iter()
        .filter_map(|(k, s)| s.acknowledged.as_ref().map(|id| (k, id)))
        .collect();
    assert!(
        acknowledged.len() > 20,
        "the load ran: {} acknowledged",
        acknowledged.len()
    );
    assert!(
        sent.len() > acknowledged.len(),
        "some requests were in flight at the kill"
    );

    let server = Server::start(command()).await;
    server.wait_ready(Duration::from_secs(20)).await;
    let token = sign_in(&client, &server).await;
    for (key, id) in &acknowledged {
        let r = client
            .get(format!("{}/{id}", orders_url(&server)))
            .bearer_auth(&token)
            .send()
            .await
            .expect("get");
        assert_eq!(
            r.status().as_u16(),
            200,
            "acknowledged order {key} is there"
        );
    }
    // Every request again, with its key: the acknowledged ones answer with the same
    // order; the others run now, once (an in-flight one may hold its key for the lease).
    let mut ids = BTreeSet::new();
    for (key, entry) in &sent {
        let deadline = std::time::Instant::now() + Duration::from_secs(40);
        let order = loop {
            match open(&client, &orders_url(&server), &token, key, &entry.body).await {
                Some((201 | 200, order)) => break order,
                Some((409, _)) if std::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                other => panic!("retry of {key}: {other:?}"),
            }
        };
        let id = order["id"].as_str().expect("id").to_owned();
        if let Some(first) = &entry.acknowledged {
            assert_eq!(&id, first, "a retry answers with the acknowledged order");
        }
        assert_eq!(order["notes"], json!(key));
        assert!(ids.insert(id), "one order per key");
    }
    let mut listed = 0;
    let mut after: Option<String> = None;
    loop {
        let mut url = format!("{}?limit=500", orders_url(&server));
        if let Some(cursor) = &after {
            url.push_str(&format!("&after={cursor}"));
        }
        let page: Value = client
            .get(url)
            .bearer_auth(&token)
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("json");
        listed += page["items"].as_array().map_or(0, Vec::len);
        match page["next"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        listed,
        sent.len(),
        "exactly one order per request sent, no duplicates"
    );
    let verified = support::run(command().args(["audit", "verify"]));
    assert!(verified.status.success(), "{}", verified.stdout);
}
