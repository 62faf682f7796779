//! `comanda audit verify` finds an altered event and an event cut from the log.

mod support;

use comanda_domain::orders::commands::Event;
use comanda_domain::orders::{Order, OrderKind};
use comanda_domain::tax::TaxPolicy;
use comanda_domain::{Currency, clock};
use comanda_store::{Limit, OrderCommit, OrderRepo, OrderWrite, StoreRepo, StoredResponse};
use serde_json::json;
use support::{comanda, prepared, run};

fn counter_order(store: comanda_domain::StoreId) -> Order {
    Order::new(
        store,
        OrderKind::Counter,
        Currency::Brl,
        TaxPolicy::default(),
        None,
        clock::now(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_passes_an_intact_log_and_finds_tampering() {
    let dir = tempfile::tempdir().expect("temp dir");
    let storage = prepared(dir.path()).await;
    let store = storage
        .list_stores(None, None, Limit::new(None))
        .await
        .expect("stores")
        .items[0]
        .id;
    let respond = |_: &[Order]| -> comanda_store::Result<StoredResponse> {
        Ok(StoredResponse {
            status: 201,
            headers: Vec::new(),
            body: Vec::new(),
        })
    };
    for _ in 0..3 {
        let order = counter_order(store);
        let commit = OrderCommit {
            store,
            events: vec![
                (0, order.opened_event()),
                (
                    0,
                    Event {
                        kind: "tip_set",
                        payload: json!({ "tip": 500 }),
                    },
                ),
            ],
            orders: vec![OrderWrite {
                order,
                expected_version: None,
            }],
            actor: None,
            device: None,
            idempotency: None,
        };
        storage
            .commit_orders(commit, Box::new(respond))
            .await
            .expect("commit");
    }

    let ok = run(comanda(dir.path()).args(["audit", "verify"]));
    assert!(ok.status.success(), "{}", ok.stderr);
    assert!(
        ok.stdout.contains("6 events, chain intact"),
        "{}",
        ok.stdout
    );

    // Someone with the database file and a SQLite shell.
    let db = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        dir.path().join("comanda.db").display()
    ))
    .await
    .expect("open");
    let sql = |statement: &'static str| {
        let db = db.clone();
        async move {
            sqlx::raw_sql(statement).execute(&db).await.expect("tamper");
        }
    };
    // A tip changed behind the server's back.
    sql(
        "DROP TRIGGER order_events_no_update; UPDATE order_events SET payload = CAST('{\"tip\":5}' AS BLOB) WHERE seq = 4;",
    ).await;
    let altered = run(comanda(dir.path()).args(["audit", "verify", "--store", "main"]));
    assert!(!altered.status.success());
    assert!(
        altered
            .stdout
            .contains("event 4 does not match its hash: altered"),
        "{}",
        altered.stdout
    );

    sql("UPDATE order_events SET payload = CAST('{\"tip\":500}' AS BLOB) WHERE seq = 4;").await;
    assert!(
        run(comanda(dir.path()).args(["audit", "verify"]))
            .status
            .success(),
        "restored"
    );

    // And someone removes the last event, then one in the middle.
    sql("DROP TRIGGER order_events_no_delete; DELETE FROM order_events WHERE seq = 6;").await;
    let cut = run(comanda(dir.path()).args(["audit", "verify"]));
    assert!(!cut.status.success());
    assert!(cut.stdout.contains("event 6 is missing"), "{}", cut.stdout);
    sql("DELETE FROM order_events WHERE seq = 2;").await;
    let gap = run(comanda(dir.path()).args(["audit", "verify"]));
    assert!(gap.stdout.contains("event 2 is missing"), "{}", gap.stdout);
}
