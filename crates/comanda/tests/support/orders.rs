//! A store ready for order load: a waiter and a product, on either backend.
#![allow(dead_code)]

use super::Server;
use comanda_domain::catalog::inputs::ProductInput;
use comanda_domain::{Currency, ProductId, Role, StoreId};
use comanda_store::{Bootstrap, Storage};
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
    super::sign_in_as(client, server, WAITER, PASSWORD).await
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
    let store = super::first_store(storage).await;
    super::add_staff(storage, store, (WAITER, "Garçom", Role::Waiter), PASSWORD).await;
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
