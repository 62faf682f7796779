//! Order documents, event payloads and kept answers are stored packed, and the values a
//! database held before they were packed (JSON text) are read as they are: the order,
//! its retried write and the hash chain all come out the same.

mod support;

use comanda_store::Ops;
use std::time::Duration;
use support::orders::{open, seed, sign_in};
use support::{Server, comanda, prepared, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_are_packed_and_values_stored_before_packing_still_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let storage = prepared(dir.path()).await;
    let (store, product) = seed(&storage).await;
    storage.close().await;
    let server = Server::start(comanda(dir.path())).await;
    server.wait_ready(Duration::from_secs(20)).await;
    let client = reqwest::Client::new();
    let token = sign_in(&client, &server).await;
    let orders = server.url(&format!("/api/v1/stores/{store}/orders"));
    let body = serde_json::json!({
        "kind": "counter",
        "lines": [{ "product_id": product, "quantity": 2, "notes": "sem gelo" }],
    });
    let (status, first) = open(&client, &orders, &token, "stored-values-1", &body)
        .await
        .expect("open");
    assert_eq!(status, 201, "{first}");
    let id = first["id"].as_str().expect("id").to_owned();
    let read = |client: reqwest::Client, url: String, token: String| async move {
        client
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .expect("get")
            .json::<serde_json::Value>()
            .await
            .expect("json")
    };
    let one = format!("{orders}/{id}");
    // The order with its events.
    let before = read(client.clone(), one.clone(), token.clone()).await;
    assert!(before["events"][0]["payload"].is_object(), "{before}");

    // Packed: the format byte, and smaller than the JSON it holds.
    let db = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        dir.path().join("comanda.db").display()
    ))
    .await
    .expect("open the file");
    let stored: Vec<(String, Vec<u8>)> = sqlx::query_as(
        "SELECT 'document', document FROM orders
         UNION ALL SELECT 'payload ' || seq, payload FROM order_events
         UNION ALL SELECT 'answer ' || hex(id), body FROM idempotency_keys WHERE body IS NOT NULL",
    )
    .fetch_all(&db)
    .await
    .expect("values");
    assert!(stored.len() >= 3, "{stored:?}");
    for (what, value) in &stored {
        // Packed with the generic dictionary or the store's own, without the frame's
        // magic number (formats 3 and 4 of comanda_store::packed).
        assert!(
            matches!(value.first(), Some(3 | 4)),
            "{what} is not packed: {:?}",
            value.first()
        );
        let text = comanda_store::packed::unpack(value.clone()).expect("unpack");
        serde_json::from_slice::<serde_json::Value>(&text).expect("JSON inside");
        if text.len() > 500 {
            assert!(
                value.len() < text.len() / 2,
                "{what}: {} of {}",
                value.len(),
                text.len()
            );
        }
    }

    // The same rows as a database from before packing holds them: JSON text.
    unpack_all(&db, "orders", "document", "'id = ' || quote(id)").await;
    sqlx::raw_sql("DROP TRIGGER order_events_no_update")
        .execute(&db)
        .await
        .expect("trigger");
    let event = "'store_id = ' || quote(store_id) || ' AND seq = ' || seq";
    unpack_all(&db, "order_events", "payload", event).await;
    let answer = "'id = ' || quote(id)";
    unpack_all(&db, "idempotency_keys", "body", answer).await;
    db.close().await;

    assert_eq!(read(client.clone(), one, token.clone()).await, before);
    let (status, again) = open(&client, &orders, &token, "stored-values-1", &body)
        .await
        .expect("retry");
    assert_eq!(
        (status, &again),
        (201, &first),
        "the retry gets the first answer"
    );
    drop(server);
    let verified = run(comanda(dir.path()).args(["audit", "verify"]));
    assert!(
        verified.status.success(),
        "{}\n{}",
        verified.stdout,
        verified.stderr
    );
    assert!(
        verified.stdout.contains("chain intact"),
        "{}",
        verified.stdout
    );
}

/// Rewrites each of `table`'s `column` values unpacked; `place` is SQL that gives the
/// condition naming its row.
async fn unpack_all(db: &sqlx::SqlitePool, table: &str, column: &str, place: &str) {
    let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(&format!(
        "SELECT {place}, {column} FROM {table} WHERE {column} IS NOT NULL"
    ))
    .fetch_all(db)
    .await
    .expect("values");
    for (place, value) in rows {
        let text = comanda_store::packed::unpack(value).expect("unpack");
        sqlx::query(&format!("UPDATE {table} SET {column} = ?1 WHERE {place}"))
            .bind(text)
            .execute(db)
            .await
            .expect("unpacked value");
    }
}
