//! kill -9 the server while terminals take orders; after a restart, every order the
//! server acknowledged is there, and retrying every request with its key (acknowledged
//! or not) creates nothing twice.

mod support;

use comanda_domain::{ProductId, StoreId};
use comanda_store::Ops;
use comanda_testkit::TestPostgres;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::orders::{bootstrap_postgres, open, seed, sign_in};
use support::{Server, comanda, prepared};

/// One open-order request as a terminal sent it.
#[derive(Clone)]
struct Sent {
    body: Value,
    /// The order id, if the server answered 2xx.
    acknowledged: Option<String>,
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
    let storage = bootstrap_postgres(&db).await;
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
