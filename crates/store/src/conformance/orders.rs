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

/// Commits that land in one group beside commits that must be refused (a stale version,
/// two changes of one order from the same version, a key answered before) are each
/// answered on their own: the others are written, the log stays gapless and chained.
pub async fn refused_commits_leave_the_rest_of_their_group_written(db: Arc<dyn Storage>) {
    let s = store(&db, "grupos").await;
    let mut existing = Vec::new();
    for _ in 0..8 {
        let write = OrderWrite {
            order: order(s),
            expected_version: None,
        };
        match db
            .commit_orders(commit(s, write, "opened"), numbers())
            .await
            .expect("open")
        {
            CommitOutcome::Committed { orders, .. } => existing.push(orders[0].clone()),
            other => panic!("unexpected {other:?}"),
        }
    }
    let now = clock::now();
    let keyed = |key: &str| crate::IdempotencyClaim {
        scope: "user:group".into(),
        key: key.into(),
        request_hash: key.as_bytes().to_vec(),
        lease_until: now + chrono::Duration::seconds(30),
        expires_at: now + chrono::Duration::hours(24),
    };
    let mut answered = commit(
        s,
        OrderWrite {
            order: order(s),
            expected_version: None,
        },
        "opened",
    );
    answered.idempotency = Some(keyed("answered"));
    let CommitOutcome::Committed {
        response: first, ..
    } = db
        .commit_orders(answered.clone(), numbers())
        .await
        .expect("keyed")
    else {
        panic!("the keyed order is written")
    };

    // Three rounds of commits sent at once, each beside new orders. The first: each of
    // four orders changed twice from its version (one of the two wins). Then, where no
    // row is written twice, so the whole round may go as one group: four other orders
    // changed from a version they never had; the answered request again; another
    // request with the answered key.
    let mut pair_wins = std::collections::HashMap::new();
    let mut new_orders = 0;
    for round in 0..4 {
        let mut commits = Vec::new();
        if round < 2 {
            for o in &existing[round * 4..round * 4 + 4] {
                let mut changed = o.clone();
                changed.touch(clock::now());
                if round == 0 {
                    for _ in 0..2 {
                        let write = OrderWrite {
                            order: changed.clone(),
                            expected_version: Some(o.version),
                        };
                        commits.push(("pair", o.id, commit(s, write, "tip_set")));
                    }
                } else {
                    let write = OrderWrite {
                        order: changed,
                        expected_version: Some(o.version + 7),
                    };
                    let mut stale = commit(s, write, "tip_set");
                    stale.idempotency = Some(keyed(&format!("stale-{}", o.id)));
                    commits.push(("stale", o.id, stale));
                }
            }
        } else if round == 2 {
            commits.push(("replay", existing[0].id, answered.clone()));
        } else {
            let write = OrderWrite {
                order: order(s),
                expected_version: None,
            };
            let mut other = commit(s, write, "opened");
            other.idempotency = answered
                .idempotency
                .clone()
                .map(|c| crate::IdempotencyClaim {
                    request_hash: b"another".to_vec(),
                    ..c
                });
            commits.push(("mismatch", existing[0].id, other));
        }
        for _ in 0..8 {
            let write = OrderWrite {
                order: order(s),
                expected_version: None,
            };
            commits.push(("new", existing[0].id, commit(s, write, "opened")));
        }
        let tasks: Vec<_> = commits
            .into_iter()
            .map(|(what, id, c)| {
                let db = db.clone();
                tokio::spawn(async move { (what, id, db.commit_orders(c, numbers()).await) })
            })
            .collect();
        for task in tasks {
            let (what, id, outcome) = task.await.expect("join");
            match (what, outcome) {
                ("pair", Ok(CommitOutcome::Committed { .. })) => {
                    *pair_wins.entry(id).or_insert(0) += 1
                }
                ("pair" | "stale", Err(StoreError::VersionMismatch { .. })) => {}
                ("replay", Ok(CommitOutcome::Replayed(again))) => assert_eq!(again, first),
                ("mismatch", Ok(CommitOutcome::KeyTaken { mismatch: true })) => {}
                ("new", Ok(CommitOutcome::Committed { .. })) => new_orders += 1,
                (what, outcome) => panic!("{what}: unexpected {outcome:?}"),
            }
        }
    }
    assert_eq!(new_orders, 32);
    assert!(
        existing[..4]
            .iter()
            .all(|o| pair_wins.get(&o.id) == Some(&1)),
        "one change of each pair written: {pair_wins:?}"
    );
    for (i, o) in existing.iter().enumerate() {
        let stored = db.get_order(s, o.id).await.expect("read").expect("order");
        let changes = if i < 4 { 1 } else { 0 };
        assert_eq!(stored.version, o.version + changes);
        assert_eq!(
            db.order_events(s, o.id).await.expect("events").len(),
            1 + changes as usize
        );
    }
    let log = db.log_after(s, 0, 1000).await.expect("log");
    assert_eq!(
        log.len(),
        8 + 1 + 4 + 32,
        "opened, keyed, one change of each pair, new"
    );
    let mut verifier = Verifier::default();
    for (i, event) in log.iter().enumerate() {
        assert_eq!(event.seq, i as i64 + 1, "no gap");
        verifier.check(event).expect("chained");
    }
    let refused = keyed(&format!("stale-{}", existing[4].id));
    assert_eq!(
        db.claim_idempotency_key(&refused, clock::now())
            .await
            .expect("claim"),
        crate::ClaimOutcome::Claimed,
        "a refused commit's key is free again"
    );
}

/// Two instances on one database (PostgreSQL): each commits orders into the same
/// store's log while the other moves it, so each finds now and then that the log head
/// it knows is behind. Every order is written once, numbered once, in one chain.
pub async fn two_instances_share_one_log(a: Arc<dyn Storage>, b: Arc<dyn Storage>) {
    let s = store(&a, "duas").await;
    let tasks: Vec<_> = (0..120)
        .map(|i| {
            let db = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                let opened = OrderWrite {
                    order: order(s),
                    expected_version: None,
                };
                let opened = db
                    .commit_orders(commit(s, opened, "opened"), numbers())
                    .await;
                if let Ok(CommitOutcome::Committed { orders, .. }) = &opened {
                    let mut changed = orders[0].clone();
                    changed.touch(clock::now());
                    let change = OrderWrite {
                        expected_version: Some(orders[0].version),
                        order: changed,
                    };
                    outcomes.push(
                        db.commit_orders(commit(s, change, "tip_set"), numbers())
                            .await,
                    );
                }
                outcomes.push(opened);
                outcomes
            })
        })
        .collect();
    let mut numbers_seen = Vec::new();
    for task in tasks {
        for outcome in task.await.expect("join") {
            match outcome.expect("commit") {
                CommitOutcome::Committed { orders, .. } if orders[0].version == 1 => {
                    numbers_seen.push(orders[0].number)
                }
                CommitOutcome::Committed { .. } => {}
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    numbers_seen.sort_unstable();
    assert_eq!(numbers_seen, (1..=120).collect::<Vec<i64>>());
    let log = a.log_after(s, 0, 1000).await.expect("log");
    assert_eq!(log.len(), 240);
    let mut verifier = Verifier::default();
    for event in &log {
        verifier.check(event).expect("chained");
    }
}

/// A store's dictionary is made once it has sold enough; the values written after it are
/// packed with it (smaller), and a storage that never saw it (another instance, a
/// restart) reads the orders, their log and a kept answer all the same.
pub async fn store_dictionaries_pack_new_values_and_every_instance_reads_them(
    harness: &dyn super::Harness,
) {
    use crate::packed::Renewal;
    use crate::{ClaimOutcome, IdempotencyClaim};
    let db = harness.storage();
    let s = store(&db, "dicionario").await;
    let rule = Renewal {
        first_after: 3,
        ..Renewal::default()
    };
    let menu = json!({ "lines": [{ "product_id": "01a25051-e18c-727c-bf1b-535e3601e542",
        "name": "Picanha 300 g", "modifiers": ["Ao ponto", "Farofa"], "notes": "sem cebola" }] });
    let open = |db: Arc<dyn Storage>, key: Option<&str>| {
        let claim = key.map(|key| IdempotencyClaim {
            scope: "user:dicionario".into(),
            key: key.into(),
            request_hash: vec![7; 32],
            lease_until: clock::now() + chrono::Duration::seconds(30),
            expires_at: clock::now() + chrono::Duration::hours(24),
        });
        let mut c = commit(
            s,
            OrderWrite {
                order: order(s),
                expected_version: None,
            },
            "lines_added",
        );
        c.events[0].1.payload = menu.clone();
        c.idempotency = claim;
        async move {
            match db.commit_orders(c, numbers()).await.expect("commit") {
                CommitOutcome::Committed { orders, .. } => orders[0].id,
                _ => panic!("not committed"),
            }
        }
    };
    assert!(
        db.refresh_packing_dictionaries(&rule)
            .await
            .expect("refresh")
            .is_empty(),
        "no dictionary before the store has sold"
    );
    for _ in 0..3 {
        open(db.clone(), None).await;
    }
    assert_eq!(
        db.refresh_packing_dictionaries(&rule)
            .await
            .expect("refresh"),
        vec![s]
    );
    assert!(
        db.refresh_packing_dictionaries(&rule)
            .await
            .expect("refresh")
            .is_empty(),
        "one dictionary until the store has sold enough more"
    );

    let packed_after = open(db.clone(), Some("after")).await;
    let fresh = harness.reopen().await;
    let read = fresh
        .get_order(s, packed_after)
        .await
        .expect("read")
        .expect("order");
    assert_eq!(read.id, packed_after);
    let log = fresh.order_events(s, packed_after).await.expect("events");
    assert_eq!(log.len(), 1);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&log[0].payload).expect("json"),
        menu
    );
    let listed = fresh
        .list_orders(s, &Default::default(), None, crate::Limit::new(Some(50)))
        .await
        .expect("list");
    assert_eq!(listed.items.len(), 4);
    let retry = IdempotencyClaim {
        scope: "user:dicionario".into(),
        key: "after".into(),
        request_hash: vec![7; 32],
        lease_until: clock::now() + chrono::Duration::seconds(30),
        expires_at: clock::now() + chrono::Duration::hours(24),
    };
    let again = harness.reopen().await;
    match again
        .claim_idempotency_key(&retry, clock::now())
        .await
        .expect("claim")
    {
        ClaimOutcome::Replay(answer) => {
            assert_eq!(answer.body, read.number.to_string().into_bytes())
        }
        other => panic!("the kept answer is replayed, got {other:?}"),
    }
    // The whole log still verifies from the new instance.
    let mut verifier = Verifier::default();
    for event in fresh.log_after(s, 0, 100).await.expect("log") {
        verifier.check(&event).expect("chain");
    }
}
