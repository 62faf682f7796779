//! The stock ledger is append-only in the database itself, not only in the code: a raw
//! UPDATE or DELETE on it fails on both backends.

use comanda_domain::catalog::inputs::ProductInput;
use comanda_domain::catalog::stock::{MovementKind, NewMovement};
use comanda_domain::{Currency, NewStore};
use comanda_store::{Limit, StockFilter};
use comanda_testkit::{TestDb, on_both_backends};
use serde_json::json;
use sqlx::Connection;

on_both_backends!(raw_edits_of_the_stock_ledger_are_refused);

async fn raw_edits_of_the_stock_ledger_are_refused(db: TestDb) {
    let storage = db.storage();
    let store = NewStore::parse("ledger", "Ledger", "BRL", "UTC", "pt-BR").expect("store");
    storage.create_store(&store).await.expect("create store");
    let draft = serde_json::from_value::<ProductInput>(json!({
        "name": "Rum", "track_stock": true,
        "variants": [{ "price": { "amount": 100, "currency": "BRL" } }],
    }))
    .expect("shape")
    .parse(Currency::Brl)
    .expect("valid");
    let product = storage
        .create_product(store.id, &draft)
        .await
        .expect("product");
    let receipt = NewMovement {
        variant_id: product.variants[0].id,
        kind: MovementKind::Receipt,
        quantity: 12,
        reason: None,
        reference: None,
        actor: None,
    };
    storage
        .record_movements(store.id, &[receipt])
        .await
        .expect("movement");

    let url = db.url();
    for sql in [
        "UPDATE stock_movements SET quantity = 99",
        "DELETE FROM stock_movements",
    ] {
        let refused = if url.starts_with("sqlite:") {
            let mut conn = sqlx::SqliteConnection::connect(&url)
                .await
                .expect("connect");
            sqlx::query(sql).execute(&mut conn).await.map(|_| ())
        } else {
            let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
            sqlx::query(sql).execute(&mut conn).await.map(|_| ())
        };
        let err = refused.expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    let ledger = storage
        .stock_movements(store.id, None, None, Limit::new(None))
        .await
        .expect("ledger");
    assert_eq!(ledger.items.len(), 1);
    assert_eq!(ledger.items[0].quantity, 12);
    let levels = storage
        .stock_levels(store.id, StockFilter::default(), None, Limit::new(None))
        .await
        .expect("levels");
    assert_eq!(levels.items[0].on_hand, 12);
}
