//! A store ready for order load: a waiter and a product, on either backend.
#![allow(dead_code)]

use super::Server;
use comanda_domain::catalog::inputs::ProductInput;
use comanda_domain::{
    Currency, DisplayName, Login, NewUser, ProductId, Role, Secret, StoreId, UserId,
};
use comanda_store::{Bootstrap, Limit, Storage};
use comanda_testkit::TestPostgres;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

pub const WAITER: &str = "garcom";
pub const PASSWORD: &str = "waiter passphrase 77";

/// A migrated PostgreSQL database with a store `main` (BRL) and an owner.
pub async fn bootstrap_postgres(db: &TestPostgres) -> Arc<comanda_store_postgres::PgStorage> {
    let storage = db.open_migrated().await;
    let (main, owner) = super::main_store_and_owner().await;
    storage.bootstrap(&main, &owner).await.expect("bootstrap");
    storage
}

pub async fn sign_in(client: &reqwest::Client, server: &Server) -> String {
    let r: Value = client
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({ "login": WAITER, "password": PASSWORD }))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    r["access_token"].as_str().expect("token").to_owned()
}

pub async fn open(
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
pub async fn seed(storage: &dyn Storage) -> (StoreId, ProductId) {
    let store = storage
        .list_stores(None, None, Limit::new(None))
        .await
        .expect("stores")
        .items[0]
        .id;
    storage
        .create_user(&NewUser {
            id: UserId::new(),
            login: Login::parse("login", WAITER).expect("login"),
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
