//! Conformance checks for orders and the order log.

use super::catalog::store;
use crate::{CommitOutcome, OrderCommit, OrderWrite, Storage, StoreError, StoredResponse};
use comanda_domain::orders::chain::Verifier;
use comanda_domain::orders::commands::Event;
use comanda_domain::orders::{Order, OrderKind};
use comanda_domain::tax::TaxPolicy;
use comanda_domain::{Currency, StoreId, clock};
use serde_json::json;
use std::sync::Arc;

fn order(store: StoreId) -> Order {
    Order::new(
        store,
        OrderKind::Counter,
        Currency::Brl,
        TaxPolicy::default(),
        None,
        clock::now(),
    )
}

fn commit(store: StoreId, write: OrderWrite, kind: &'static str) -> OrderCommit {
    OrderCommit {
        store,
        orders: vec![write],
        events: vec![(
            0,
            Event {
                kind,
                payload: json!({ "n": 1 }),
            },
        )],
        actor: None,
        device: None,
        idempotency: None,
    }
}

fn numbers() -> Box<crate::Respond> {
    Box::new(|orders: &[Order]| {
        Ok(StoredResponse {
            status: 200,
            headers: Vec::new(),
            body: orders[0].number.to_string().into_bytes(),
        })
    })
}

pub async fn concurrent_order_commits_number_and_chain_without_gaps(db: Arc<dyn Storage>) {
    let s = store(&db, "pedidos").await;
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move {
                let write = OrderWrite {
                    order: order(s),
                    expected_version: None,
                };
                db.commit_orders(commit(s, write, "opened"), numbers())
                    .await
            })
        })
        .collect();
    // Meanwhile other writes that read before they write (a table checks its area): on
    // SQLite they go through another connection than the order commits, and must wait
    // for them rather than fail.
    let area = db.create_area(s, "Salão", 0).await.expect("area");
    let tables: Vec<_> = (0..20)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                let draft = crate::TableDraft {
                    area_id: Some(area.id),
                    name: format!("Mesa {i}"),
                    seats: 4,
                    position: i,
                    archived: false,
                };
                db.create_table(s, &draft).await
            })
        })
        .collect();
    for table in tables {
        table
            .await
            .expect("join")
            .expect("a table written beside the orders");
    }
    let mut numbers_seen = Vec::new();
    for task in tasks {
        match task.await.expect("join").expect("commit") {
            CommitOutcome::Committed {
                orders, response, ..
            } => {
                assert_eq!(response.body, orders[0].number.to_string().into_bytes());
                numbers_seen.push(orders[0].number);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    numbers_seen.sort_unstable();
    assert_eq!(
        numbers_seen,
        (1..=40).collect::<Vec<i64>>(),
        "numbered 1 to 40, once each"
    );
    let log = db.log_after(s, 0, 1000).await.expect("log");
    assert_eq!(log.len(), 40);
    let mut verifier = Verifier::default();
    for event in &log {
        verifier.check(event).expect("chained");
    }
    assert_eq!(
        db.log_head(s).await.expect("head"),
        Some((40, verifier.last_hash.clone()))
    );

    // A change based on a stale version writes nothing.
    let first = db
        .get_order(s, log[0].order_id)
        .await
        .expect("read")
        .expect("order");
    let mut changed = first.clone();
    changed.touch(clock::now());
    let stale = OrderWrite {
        order: changed.clone(),
        expected_version: Some(first.version + 5),
    };
    assert!(matches!(
        db.commit_orders(commit(s, stale, "tip_set"), numbers())
            .await,
        Err(StoreError::VersionMismatch { current: 1, .. })
    ));
    assert_eq!(
        db.log_after(s, 40, 10).await.expect("log").len(),
        0,
        "no event either"
    );
    let fresh = OrderWrite {
        order: changed,
        expected_version: Some(first.version),
    };
    db.commit_orders(commit(s, fresh, "tip_set"), numbers())
        .await
        .expect("commit");
    assert_eq!(
        db.get_order(s, first.id)
            .await
            .expect("read")
            .expect("order")
            .version,
        2
    );
    assert_eq!(db.order_events(s, first.id).await.expect("events").len(), 2);
}
