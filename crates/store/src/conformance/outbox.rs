//! The outbox and webhook leases on every backend.

use super::new_store;
use crate::{Delivery, DeliveryStatus, NewOutboxEvent, Replay, Storage, Webhook};
use chrono::Duration;
use comanda_domain::webhooks::EventFilter;
use comanda_domain::{DeliveryId, StoreId, WebhookId, clock};
use std::sync::Arc;

fn event(kind: &str) -> NewOutboxEvent {
    NewOutboxEvent {
        kind: kind.to_owned(),
        payload: serde_json::json!({ "kind": kind }),
        at: clock::now(),
    }
}

pub async fn outbox_numbers_each_stores_events_and_copies_a_log_stretch_once(db: Arc<dyn Storage>) {
    let a = db.create_store(&new_store("saida-a")).await.expect("store");
    let b = db.create_store(&new_store("saida-b")).await.expect("store");
    assert_eq!(db.outbox_head(a.id).await.expect("head"), 0);
    let two = [event("order.opened"), event("order.sent")];
    assert!(db.copy_log_to_outbox(a.id, 0, 3, &two).await.expect("copy"));
    // Another copier that read the same position loses and writes nothing.
    assert!(!db.copy_log_to_outbox(a.id, 0, 3, &two).await.expect("lost"));
    assert_eq!(db.outbox_log_position(a.id).await.expect("position"), 3);
    assert!(
        db.copy_log_to_outbox(a.id, 3, 4, &[event("order.paid")])
            .await
            .expect("copy")
    );
    assert!(
        db.copy_log_to_outbox(b.id, 0, 1, &[event("order.opened")])
            .await
            .expect("copy")
    );
    let events = db.outbox_after(a.id, 0, 10).await.expect("events");
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [1, 2, 3]);
    assert_eq!(events[2].kind, "order.paid");
    assert_eq!(events[0].payload, r#"{"kind":"order.opened"}"#);
    assert_eq!(db.outbox_after(a.id, 1, 1).await.expect("page")[0].seq, 2);
    assert_eq!(db.outbox_head(b.id).await.expect("head"), 1);
    let missing = db
        .copy_log_to_outbox(comanda_domain::StoreId::new(), 0, 1, &[event("x")])
        .await;
    assert!(missing.is_err(), "an unknown store has no outbox");
}

fn webhook(store: comanda_domain::StoreId) -> Webhook {
    let now = clock::now();
    Webhook {
        id: WebhookId::new(),
        store_id: store,
        url: "https://example.com/hook".into(),
        events: EventFilter::parse("events", &["*".to_owned()]).expect("filter"),
        description: String::new(),
        active: true,
        version: 1,
        created_by: None,
        created_at: now,
        updated_at: now,
    }
}

fn delivery(
    w: &Webhook,
    e: &crate::OutboxEvent,
    status: DeliveryStatus,
    due_in: Option<Duration>,
) -> Delivery {
    let now = clock::now();
    Delivery {
        id: DeliveryId::new(),
        webhook_id: w.id,
        store_id: w.store_id,
        seq: e.seq,
        event_id: e.id,
        kind: e.kind.clone(),
        status,
        attempts: 1,
        next_attempt_at: due_in.map(|d| now + d),
        attempt_log: vec![crate::Attempt {
            at: now,
            duration_ms: 3,
            status: Some(500),
            error: Some("boom".into()),
        }],
        created_at: now,
        updated_at: now,
    }
}

pub async fn webhooks_are_leased_to_one_worker_and_a_lost_lease_writes_nothing(
    db: Arc<dyn Storage>,
) {
    let store = db.create_store(&new_store("ganchos")).await.expect("store");
    assert!(
        db.copy_log_to_outbox(store.id, 0, 1, &[event("order.opened")])
            .await
            .expect("copy")
    );
    let hook = db
        .create_webhook(&webhook(store.id), "whsec_x")
        .await
        .expect("create");
    let now = clock::now();
    let until = now + Duration::seconds(60);
    // Made after event 1: it hears from event 2 on, so there is no work yet.
    assert!(
        db.lease_webhooks(now, until, 10)
            .await
            .expect("lease")
            .is_empty()
    );
    assert!(
        db.copy_log_to_outbox(store.id, 1, 2, &[event("order.sent"), event("order.paid")])
            .await
            .expect("copy")
    );
    let leased = db.lease_webhooks(now, until, 10).await.expect("lease");
    assert_eq!(leased.len(), 1);
    let lease = &leased[0];
    assert_eq!((lease.taken_seq, lease.secret.as_str()), (1, "whsec_x"));
    // Leased: nobody else gets it until the lease ends.
    assert!(
        db.lease_webhooks(now, until, 10)
            .await
            .expect("again")
            .is_empty()
    );
    let later = until + Duration::seconds(1);
    let stolen = db
        .lease_webhooks(later, later + Duration::seconds(60), 10)
        .await
        .expect("expired");
    assert_eq!(stolen.len(), 1, "an expired lease can be taken over");
    let events = db.outbox_after(store.id, 1, 10).await.expect("events");
    let sent = delivery(&hook, &events[0], DeliveryStatus::Delivered, None);
    assert!(
        !db.finish_lease(hook.id, lease.token, 3, std::slice::from_ref(&sent))
            .await
            .expect("fenced"),
        "the first worker lost its lease and writes nothing"
    );
    assert!(
        db.list_deliveries(store.id, hook.id, None, None, 10)
            .await
            .expect("list")
            .is_empty()
    );

    // The new holder delivers event 2; event 3 fails and waits a minute.
    let token = stolen[0].token;
    let failed = delivery(
        &hook,
        &events[1],
        DeliveryStatus::Pending,
        Some(Duration::seconds(60)),
    );
    assert!(
        db.finish_lease(hook.id, token, 3, &[sent.clone(), failed.clone()])
            .await
            .expect("finish")
    );
    assert!(
        db.lease_webhooks(clock::now(), until, 10)
            .await
            .expect("not due")
            .is_empty()
    );
    let due = clock::now() + Duration::seconds(61);
    let retry = db
        .lease_webhooks(due, due + Duration::seconds(60), 10)
        .await
        .expect("due");
    assert_eq!(retry.len(), 1);
    assert!(retry[0].retry_at.is_some());
    let pending = db.pending_deliveries(hook.id, 10).await.expect("pending");
    assert_eq!(pending.len(), 1);
    assert_eq!((pending[0].0.id, pending[0].1.seq), (failed.id, 3));
    assert_eq!(pending[0].1.payload, r#"{"kind":"order.paid"}"#);
    let mut dead = pending[0].0.clone();
    dead.status = DeliveryStatus::Dead;
    dead.attempts = 2;
    dead.next_attempt_at = None;
    assert!(
        db.finish_lease(hook.id, retry[0].token, 3, &[dead])
            .await
            .expect("finish")
    );

    let listed = db
        .list_deliveries(store.id, hook.id, None, None, 10)
        .await
        .expect("list");
    let seqs: Vec<i64> = listed.iter().map(|d| d.seq).collect();
    assert_eq!(seqs, [3, 2], "newest first");
    assert_eq!(listed[0].attempts, 2);
    assert_eq!(listed[0].attempt_log[0].error.as_deref(), Some("boom"));
    let dead_only = db
        .list_deliveries(store.id, hook.id, Some(DeliveryStatus::Dead), None, 10)
        .await
        .expect("list");
    assert_eq!(dead_only.len(), 1);
    let older = db
        .list_deliveries(store.id, hook.id, None, Some(3), 10)
        .await
        .expect("page");
    assert_eq!(older.len(), 1);

    // A replay makes the dead one due now, whatever the webhook's cursor.
    assert_eq!(
        db.replay_deliveries(store.id, hook.id, Replay::AllDead, clock::now())
            .await
            .expect("replay"),
        1
    );
    let leased = db
        .lease_webhooks(clock::now(), until + Duration::hours(1), 10)
        .await
        .expect("lease");
    assert_eq!(leased.len(), 1);
    assert_eq!(
        db.replay_deliveries(store.id, hook.id, Replay::AllDead, clock::now())
            .await
            .expect("none"),
        0
    );
    let other = db
        .create_store(&new_store("ganchos-b"))
        .await
        .expect("store");
    assert!(
        db.replay_deliveries(other.id, hook.id, Replay::One(sent.id), clock::now())
            .await
            .is_err()
    );

    db.delete_webhook(store.id, hook.id).await.expect("delete");
    assert!(
        db.get_webhook(store.id, hook.id)
            .await
            .expect("get")
            .is_none()
    );
    assert!(
        db.get_delivery(store.id, hook.id, sent.id)
            .await
            .expect("get")
            .is_none()
    );
}

pub async fn webhooks_change_by_version_and_stay_in_their_store(db: Arc<dyn Storage>) {
    let store = db.create_store(&new_store("versao")).await.expect("store");
    let other = db
        .create_store(&new_store("versao-b"))
        .await
        .expect("store");
    let hook = db
        .create_webhook(&webhook(store.id), "whsec_a")
        .await
        .expect("create");
    let mut changed = hook.clone();
    changed.active = false;
    changed.version = 2;
    let saved = db.update_webhook(&changed, 1).await.expect("update");
    assert!(!saved.active);
    let stale = db.update_webhook(&changed, 1).await.expect_err("stale");
    assert!(
        matches!(stale, crate::StoreError::VersionMismatch { current: 2, .. }),
        "{stale:?}"
    );
    assert!(
        db.get_webhook(other.id, hook.id)
            .await
            .expect("get")
            .is_none()
    );
    assert!(db.list_webhooks(other.id).await.expect("list").is_empty());
    assert!(
        db.set_webhook_secret(other.id, hook.id, "whsec_b")
            .await
            .is_err()
    );
    assert!(db.delete_webhook(other.id, hook.id).await.is_err());
    assert_eq!(db.list_webhooks(store.id).await.expect("list").len(), 1);
    // Paused webhooks are not leased even with work.
    assert!(
        db.copy_log_to_outbox(store.id, 0, 1, &[event("order.opened")])
            .await
            .expect("copy")
    );
    let now = clock::now();
    assert!(
        db.lease_webhooks(now, now + Duration::seconds(60), 10)
            .await
            .expect("lease")
            .is_empty()
    );
}

pub async fn pruning_keeps_what_a_webhook_still_needs(db: Arc<dyn Storage>) {
    let store = db.create_store(&new_store("poda")).await.expect("store");
    let quiet = db.create_store(&new_store("poda-b")).await.expect("store");
    let old = clock::now() - Duration::days(40);
    let aged = |kind: &str| NewOutboxEvent {
        at: old,
        ..event(kind)
    };
    let three = [aged("order.opened"), aged("order.sent"), aged("order.paid")];
    assert!(
        db.copy_log_to_outbox(store.id, 0, 0, &three)
            .await
            .expect("copy")
    );
    let hook = db
        .create_webhook(&webhook(store.id), "whsec_p")
        .await
        .expect("create");
    let two = [aged("order.closed"), aged("order.opened")];
    assert!(
        db.copy_log_to_outbox(store.id, 0, 0, &two)
            .await
            .expect("copy")
    );
    assert!(
        db.copy_log_to_outbox(quiet.id, 0, 0, &[aged("stock.low"), event("stock.low")])
            .await
            .expect("copy")
    );

    let cutoff = clock::now() - Duration::days(30);
    assert_eq!(db.prune_outbox(cutoff).await.expect("prune"), (0, 4));
    let left = seqs(&*db, store.id).await;
    assert_eq!(left, [4, 5], "the webhook has not taken 4 and 5 yet");
    assert_eq!(
        db.outbox_after(quiet.id, 0, 10)
            .await
            .expect("events")
            .len(),
        1,
        "recent events stay"
    );

    let now = clock::now();
    let lease = db
        .lease_webhooks(now, now + Duration::seconds(60), 10)
        .await
        .expect("lease")
        .remove(0);
    let events = db.outbox_after(store.id, 3, 10).await.expect("events");
    let mut delivered = delivery(&hook, &events[0], DeliveryStatus::Delivered, None);
    delivered.updated_at = old;
    let mut waiting = delivery(
        &hook,
        &events[1],
        DeliveryStatus::Pending,
        Some(Duration::seconds(60)),
    );
    waiting.updated_at = old;
    assert!(
        db.finish_lease(hook.id, lease.token, 5, &[delivered, waiting])
            .await
            .expect("finish")
    );
    assert_eq!(db.prune_outbox(cutoff).await.expect("prune"), (1, 1));
    let left = seqs(&*db, store.id).await;
    assert_eq!(left, [5], "a pending delivery keeps its event");
    assert_eq!(
        db.pending_deliveries(hook.id, 10)
            .await
            .expect("pending")
            .len(),
        1
    );
}

pub async fn leases_go_round_the_webhooks_with_work(db: Arc<dyn Storage>) {
    let store = db.create_store(&new_store("roda")).await.expect("store");
    let first = db
        .create_webhook(&webhook(store.id), "whsec_1")
        .await
        .expect("create");
    let second = db
        .create_webhook(&webhook(store.id), "whsec_2")
        .await
        .expect("create");
    assert!(
        db.copy_log_to_outbox(store.id, 0, 0, &[event("order.opened")])
            .await
            .expect("copy")
    );
    let mut served = Vec::new();
    for _ in 0..4 {
        let now = clock::now();
        let lease = db
            .lease_webhooks(now, now + Duration::seconds(60), 1)
            .await
            .expect("lease")
            .remove(0);
        served.push(lease.webhook.id);
        // Ends its lease without taking anything: it still has work, as a busy one would.
        assert!(
            db.finish_lease(lease.webhook.id, lease.token, lease.taken_seq, &[])
                .await
                .expect("finish")
        );
    }
    assert_eq!(
        served,
        [first.id, second.id, first.id, second.id],
        "one after the other, never one alone"
    );
}

/// The numbers of a store's outbox events, oldest first.
async fn seqs(db: &dyn Storage, store: StoreId) -> Vec<i64> {
    db.outbox_after(store, 0, 10)
        .await
        .expect("events")
        .iter()
        .map(|e| e.seq)
        .collect()
}
