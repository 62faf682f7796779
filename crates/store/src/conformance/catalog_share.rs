//! Conformance checks for stores that share a catalog.

use super::catalog::{brl, product, store};
use crate::{Limit, StockFilter, Storage, StoreError, Transfer, TransferLine};
use comanda_domain::catalog::overrides::ProductOverride;
use comanda_domain::catalog::stock::{MovementKind, NewMovement};
use comanda_domain::{Currency, Money, NewStore, StoreId};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

fn refused_field(result: Result<(), StoreError>) -> &'static str {
    match result {
        Err(StoreError::Invalid(e)) => {
            assert_eq!(e.field, "source_store_id");
            e.code
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn receipt(variant: comanda_domain::VariantId, quantity: i64) -> NewMovement {
    NewMovement {
        variant_id: variant,
        kind: MovementKind::Receipt,
        quantity,
        reason: None,
        reference: None,
        actor: None,
    }
}

pub async fn a_branch_sells_from_its_main_store_with_its_own_prices_and_stock(
    db: Arc<dyn Storage>,
) {
    let main = store(&db, "matriz").await;
    let branch = store(&db, "filial").await;
    let dollars = NewStore::parse("usa", "usa", "USD", "America/New_York", "en-US").expect("store");
    let dollars = db.create_store(&dollars).await.expect("create").id;
    let pizza = db
        .create_product(
            main,
            &product(json!({ "name": "Pizza", "track_stock": true, "variants": [
                { "name": "Média", "sku": "PZ-M", "price": brl(4000) },
                { "name": "Grande", "sku": "PZ-G", "price": brl(5500) },
            ]})),
        )
        .await
        .expect("pizza");

    assert_eq!(
        refused_field(db.follow_catalog(branch, Some(dollars)).await),
        "currency_mismatch"
    );
    assert_eq!(
        refused_field(db.follow_catalog(branch, Some(branch)).await),
        "same_store"
    );
    assert_eq!(
        refused_field(db.follow_catalog(main, Some(StoreId::new())).await),
        "unknown"
    );
    let busy = store(&db, "ocupada").await;
    let own = db
        .create_product(
            busy,
            &product(json!({ "name": "Própria", "variants": [{ "price": brl(1) }] })),
        )
        .await
        .expect("own");
    assert_eq!(
        refused_field(db.follow_catalog(busy, Some(main)).await),
        "has_own_catalog"
    );

    let before = db.catalog_revision(branch).await.expect("revision");
    db.follow_catalog(branch, Some(main)).await.expect("follow");
    assert_eq!(db.catalog_source(branch).await.expect("source"), Some(main));
    assert_eq!(
        db.catalog_followers(main).await.expect("followers"),
        vec![branch]
    );
    assert_eq!(
        refused_field(db.follow_catalog(main, Some(branch)).await),
        "source_follows"
    );
    let third = store(&db, "terceira").await;
    assert_eq!(
        refused_field(db.follow_catalog(third, Some(branch)).await),
        "source_follows",
        "one level only"
    );

    // A change to the shared catalog moves the branch's revision (its menu ETag).
    let followed = db.catalog_revision(branch).await.expect("revision");
    assert!(followed > before);
    let mut draft = pizza.to_draft();
    draft.description = Some("Massa fina".into());
    let pizza = db
        .update_product(main, pizza.id, pizza.version, &draft)
        .await
        .expect("update");
    assert!(db.catalog_revision(branch).await.expect("revision") > followed);

    // The branch's own price and sold-out switch, seen only in its menu.
    let change = ProductOverride {
        product_id: pizza.id,
        available: Some(false),
        prices: BTreeMap::from([(pizza.variants[1].id, Money::new(5900, Currency::Brl))]),
    };
    db.set_product_override(branch, &change)
        .await
        .expect("override");
    assert_eq!(
        db.product_overrides(branch).await.expect("list"),
        vec![change]
    );
    let branch_menu = db.menu(branch).await.expect("menu");
    let sold = &branch_menu.products[0];
    assert_eq!(sold.id, pizza.id);
    assert!(!sold.available);
    assert_eq!(sold.variants[0].price.amount, 4000, "not overridden");
    assert_eq!(sold.variants[1].price.amount, 5900);
    assert_eq!(sold.description.as_deref(), Some("Massa fina"));
    let main_menu = db.menu(main).await.expect("menu");
    assert!(main_menu.products[0].available);
    assert_eq!(main_menu.products[0].variants[1].price.amount, 5500);
    assert!(
        matches!(
            db.set_product_override(
                branch,
                &ProductOverride {
                    product_id: own.id,
                    ..change_for(&pizza)
                }
            )
            .await,
            Err(StoreError::NotFound { .. })
        ),
        "only products of the catalog the store sells from"
    );

    // Stock stays the store's own, on the shared variants; transfers find them by SKU.
    db.record_movements(branch, &[receipt(pizza.variants[0].id, 5)])
        .await
        .expect("branch stock");
    db.record_movements(main, &[receipt(pizza.variants[0].id, 20)])
        .await
        .expect("main stock");
    let moved = db
        .transfer_stock(&Transfer {
            from: main,
            to: branch,
            lines: vec![TransferLine {
                variant_id: pizza.variants[0].id,
                quantity: 3,
            }],
            reason: None,
            actor: None,
        })
        .await
        .expect("transfer");
    assert_eq!(moved[1].variant_id, pizza.variants[0].id);
    assert_eq!(moved[1].on_hand_after, 8);
    let levels = db
        .stock_levels(branch, StockFilter::default(), None, Limit::new(None))
        .await
        .expect("levels");
    assert_eq!(levels.items.len(), 1);
    assert_eq!(levels.items[0].on_hand, 8);
    assert!(
        db.record_movements(third, &[receipt(pizza.variants[0].id, 1)])
            .await
            .is_err(),
        "a store outside the share cannot stock the variant"
    );

    // Leaving the share drops the overrides made against it.
    db.clear_product_override(branch, pizza.id)
        .await
        .expect("clear");
    db.set_product_override(branch, &change_for(&pizza))
        .await
        .expect("again");
    db.follow_catalog(branch, None).await.expect("leave");
    assert_eq!(db.catalog_source(branch).await.expect("source"), None);
    assert!(db.product_overrides(branch).await.expect("list").is_empty());
    assert!(db.menu(branch).await.expect("menu").products.is_empty());
}

fn change_for(p: &comanda_domain::catalog::Product) -> ProductOverride {
    ProductOverride {
        product_id: p.id,
        available: Some(false),
        prices: BTreeMap::new(),
    }
}
