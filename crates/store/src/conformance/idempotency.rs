//! Conformance checks for remembered answers to retried writes.

use crate::{ClaimOutcome, IdempotencyClaim, Storage, StoredResponse};
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;

fn claim(key: &str, body: &str, now: DateTime<Utc>) -> IdempotencyClaim {
    IdempotencyClaim {
        scope: "user:test".into(),
        key: key.into(),
        request_hash: body.as_bytes().to_vec(),
        lease_until: now + Duration::seconds(30),
        expires_at: now + Duration::hours(24),
    }
}

fn answer(body: &[u8]) -> StoredResponse {
    StoredResponse {
        status: 201,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_vec(),
    }
}

pub async fn idempotency_keys_replay_refuse_and_expire(db: Arc<dyn Storage>) {
    let t0 = comanda_domain::clock::now();
    let first = claim("k1", "order A", t0);
    let outcome = |c: IdempotencyClaim, at: DateTime<Utc>| {
        let db = db.clone();
        async move { db.claim_idempotency_key(&c, at).await.expect("claim") }
    };
    assert_eq!(outcome(first.clone(), t0).await, ClaimOutcome::Claimed);
    assert_eq!(
        outcome(first.clone(), t0).await,
        ClaimOutcome::InProgress,
        "held while it runs"
    );
    let stored = answer(b"{\"id\":1}\x00\xff");
    db.complete_idempotency_key("user:test", "k1", &stored)
        .await
        .expect("complete");
    // Completing twice keeps the first answer.
    db.complete_idempotency_key("user:test", "k1", &answer(b"other"))
        .await
        .expect("complete again");
    assert_eq!(
        outcome(first.clone(), t0 + Duration::hours(1)).await,
        ClaimOutcome::Replay(stored.clone()),
        "bytes and headers as stored"
    );
    assert_eq!(
        outcome(claim("k1", "order B", t0), t0).await,
        ClaimOutcome::Mismatch
    );
    // Answers with other headers than the usual JSON ones keep exactly theirs.
    for (key, headers) in [
        ("k-none", vec![]),
        (
            "k-more",
            vec![
                ("content-type".to_owned(), "application/json".to_owned()),
                ("location".to_owned(), "/api/v1/x/1".to_owned()),
            ],
        ),
        (
            "k-text",
            vec![("content-type".to_owned(), "text/csv".to_owned())],
        ),
    ] {
        let c = claim(key, "other", t0);
        assert_eq!(outcome(c.clone(), t0).await, ClaimOutcome::Claimed);
        let kept = StoredResponse {
            status: 204,
            headers,
            body: Vec::new(),
        };
        db.complete_idempotency_key("user:test", key, &kept)
            .await
            .expect("complete");
        assert_eq!(outcome(c, t0).await, ClaimOutcome::Replay(kept), "{key}");
    }
    let other_caller = IdempotencyClaim {
        scope: "user:someone-else".into(),
        ..claim("k1", "order B", t0)
    };
    assert_eq!(
        outcome(other_caller, t0).await,
        ClaimOutcome::Claimed,
        "keys belong to their caller"
    );

    // A finished answer survives its lease; it is forgotten only when it expires.
    let later = t0 + Duration::hours(25);
    assert_eq!(
        outcome(claim("k1", "order B", later), later).await,
        ClaimOutcome::Claimed,
        "an expired key is free for a new request"
    );

    // A request that died holds the key only for its lease, and only the same request
    // may take it over.
    assert_eq!(
        outcome(claim("k2", "x", t0), t0).await,
        ClaimOutcome::Claimed
    );
    let after_lease = t0 + Duration::seconds(31);
    assert_eq!(
        outcome(claim("k2", "y", after_lease), after_lease).await,
        ClaimOutcome::Mismatch
    );
    assert_eq!(
        outcome(claim("k2", "x", after_lease), after_lease).await,
        ClaimOutcome::Claimed
    );

    // A released key runs again.
    db.release_idempotency_key("user:test", "k2")
        .await
        .expect("release");
    assert_eq!(
        outcome(claim("k2", "z", t0), t0).await,
        ClaimOutcome::Claimed
    );

    db.complete_idempotency_key("user:test", "k2", &stored)
        .await
        .expect("complete");
    let purged = db
        .purge_idempotency_keys(t0 + Duration::hours(48))
        .await
        .expect("purge");
    assert!(purged >= 2, "expired keys are purged ({purged})");
    assert_eq!(
        outcome(claim("k2", "w", t0), t0).await,
        ClaimOutcome::Claimed
    );
}

pub async fn concurrent_claims_of_one_key_admit_one(db: Arc<dyn Storage>) {
    let now = comanda_domain::clock::now();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let db = db.clone();
            let c = claim("race", "same", now);
            tokio::spawn(async move { db.claim_idempotency_key(&c, now).await })
        })
        .collect();
    let mut claimed = 0;
    for task in tasks {
        match task.await.expect("join").expect("claim") {
            ClaimOutcome::Claimed => claimed += 1,
            ClaimOutcome::InProgress => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(claimed, 1);
}

/// A purge takes every expired answer, however many (it deletes them in batches), and
/// only those: also past an answer kept longer that was given before them (SQLite's
/// purge looks at the oldest answers first).
pub async fn a_purge_takes_every_expired_answer_and_no_other(db: Arc<dyn Storage>) {
    let t0 = comanda_domain::clock::now();
    let first = IdempotencyClaim {
        expires_at: t0 + Duration::hours(72),
        ..claim("first", "order", t0)
    };
    db.claim_idempotency_key(&first, t0).await.expect("claim");
    db.complete_idempotency_key("user:test", "first", &answer(b"{\"first\":true}"))
        .await
        .expect("complete");
    let expired = 4_500;
    for n in 0..expired {
        let key = format!("old-{n}");
        db.claim_idempotency_key(&claim(&key, "order", t0), t0)
            .await
            .expect("claim");
        db.complete_idempotency_key("user:test", &key, &answer(b"{}"))
            .await
            .expect("complete");
    }
    let kept = IdempotencyClaim {
        expires_at: t0 + Duration::hours(72),
        ..claim("recent", "order", t0)
    };
    db.claim_idempotency_key(&kept, t0).await.expect("claim");
    db.complete_idempotency_key("user:test", "recent", &answer(b"{\"kept\":true}"))
        .await
        .expect("complete");

    let purged = db
        .purge_idempotency_keys(t0 + Duration::hours(48))
        .await
        .expect("purge");
    assert_eq!(purged, expired, "every expired answer, and only those");
    let later = t0 + Duration::hours(48);
    assert_eq!(
        db.claim_idempotency_key(&kept, later).await.expect("claim"),
        ClaimOutcome::Replay(answer(b"{\"kept\":true}")),
        "an answer not yet expired is kept"
    );
    assert_eq!(
        db.claim_idempotency_key(&first, later)
            .await
            .expect("claim"),
        ClaimOutcome::Replay(answer(b"{\"first\":true}")),
        "so is one given before the expired ones"
    );
    assert_eq!(
        db.claim_idempotency_key(&claim("old-0", "order", later), later)
            .await
            .expect("claim"),
        ClaimOutcome::Claimed,
        "a purged key is free again"
    );
}
