//! `Idempotency-Key` through HTTP on both backends: a retried write answers as the first
//! one did, byte for byte, and writes nothing more.

use comanda_testkit::identity::{Org, reply};
use comanda_testkit::{TestDb, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    a_retried_write_answers_as_the_first_and_writes_once,
    a_refused_write_keeps_no_answer_and_may_be_corrected_under_its_key,
    concurrent_retries_of_one_key_write_once,
    keys_must_be_printable_and_short,
);

struct Raw {
    status: u16,
    body: Vec<u8>,
    replayed: bool,
}

async fn post(org: &Org, token: &str, path: &str, key: &str, body: &Value) -> Raw {
    let response = reqwest::Client::new()
        .post(org.url(path))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let replayed = response.headers().get("idempotent-replayed").is_some();
    let body = response.bytes().await.expect("body").to_vec();
    Raw {
        status,
        body,
        replayed,
    }
}

async fn category_count(org: &Org, token: &str) -> usize {
    let r = org
        .call(
            reqwest::Method::GET,
            &format!("/api/v1/stores/{}/catalog/categories", org.store_a),
            Some(token),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    r.body["items"].as_array().expect("items").len()
}

fn error_code(raw: &Raw) -> String {
    let body: Value = serde_json::from_slice(&raw.body).expect("JSON error");
    body["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn a_retried_write_answers_as_the_first_and_writes_once(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let path = format!("/api/v1/stores/{}/catalog/categories", org.store_a);
    let token = &org.manager.token;
    let body = json!({ "name": "Pizzas" });

    let first = post(&org, token, &path, "3f1c-retry", &body).await;
    assert_eq!(first.status, 201);
    assert!(!first.replayed);
    let again = post(&org, token, &path, "3f1c-retry", &body).await;
    assert_eq!(again.status, 201);
    assert!(again.replayed, "a replay says so");
    assert_eq!(again.body, first.body, "byte for byte");
    assert_eq!(category_count(&org, token).await, 1);

    let other = post(
        &org,
        token,
        &path,
        "3f1c-retry",
        &json!({ "name": "Bebidas" }),
    )
    .await;
    assert_eq!(other.status, 422);
    assert_eq!(error_code(&other), "idempotency_key_reused");
    assert_eq!(category_count(&org, token).await, 1, "nothing written");

    // Keys belong to their caller: the owner's key of the same name is another key.
    let owners = post(&org, &org.owner.token, &path, "3f1c-retry", &body).await;
    assert_eq!(owners.status, 201);
    assert!(!owners.replayed);
    assert_eq!(category_count(&org, token).await, 2);

    // Without a key, a write is simply a write.
    let plain = org
        .call(
            reqwest::Method::POST,
            &path,
            Some(token),
            Some(body.clone()),
        )
        .await;
    assert_eq!(plain.status, 201);
    assert_eq!(category_count(&org, token).await, 3);
}

async fn a_refused_write_keeps_no_answer_and_may_be_corrected_under_its_key(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let path = format!("/api/v1/stores/{}/catalog/categories", org.store_a);
    let token = &org.manager.token;
    let bad = post(&org, token, &path, "fix-me", &json!({ "name": "" })).await;
    assert_eq!(bad.status, 422);
    assert_eq!(category_count(&org, token).await, 0);
    let fixed = post(
        &org,
        token,
        &path,
        "fix-me",
        &json!({ "name": "Sobremesas" }),
    )
    .await;
    assert_eq!(fixed.status, 201);
    assert!(!fixed.replayed);
    assert_eq!(category_count(&org, token).await, 1);

    // A caller refused for lack of permission keeps no answer either.
    let waiter = post(
        &org,
        &org.waiter.token,
        &path,
        "w-1",
        &json!({ "name": "X" }),
    )
    .await;
    assert_eq!(waiter.status, 403);
    assert_eq!(category_count(&org, token).await, 1);
}

async fn concurrent_retries_of_one_key_write_once(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let path = format!("/api/v1/stores/{}/catalog/categories", org.store_a);
    let token = org.manager.token.clone();
    let body = json!({ "name": "Porções" });
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (url, token, body) = (org.url(&path), token.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            reply(
                reqwest::Client::new()
                    .post(url)
                    .bearer_auth(token)
                    .header("idempotency-key", "burst")
                    .json(&body),
            )
            .await
        }));
    }
    let mut ids = std::collections::BTreeSet::new();
    for task in tasks {
        let r = task.await.expect("join");
        match r.status {
            201 => {
                ids.insert(r.body["id"].as_str().expect("id").to_owned());
            }
            409 => {
                assert_eq!(r.code(), "idempotency_in_progress");
                assert!(r.headers.contains_key("retry-after"));
            }
            other => panic!("unexpected {other}: {r:?}"),
        }
    }
    assert_eq!(ids.len(), 1, "every 201 names the one category");
    assert_eq!(category_count(&org, &token).await, 1);
}

async fn keys_must_be_printable_and_short(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let path = format!("/api/v1/stores/{}/catalog/categories", org.store_a);
    let token = &org.manager.token;
    for key in ["k".repeat(256), "has space".to_owned()] {
        let r = post(&org, token, &path, &key, &json!({ "name": "A" })).await;
        assert_eq!(r.status, 400, "{key}");
        assert_eq!(error_code(&r), "invalid_idempotency_key");
    }
    assert_eq!(category_count(&org, token).await, 0);
}
