//! Sign-in limits shared by several instances through Redis, and what happens when Redis
//! is not there.

use comanda_server::AppState;
use comanda_server::auth::config::AuthConfig;
use comanda_server::auth::limiter::{Limiter, Rate};
use comanda_server::readiness::Readiness;
use comanda_testkit::identity::{Org, relaxed_auth, reply};
use comanda_testkit::{TestDb, TestServer, on_both_backends, random_suffix};
use serde_json::json;
use std::time::Duration;

on_both_backends!(
    two_instances_share_one_account_budget_through_redis,
    limits_hold_when_redis_is_down
);

fn strict() -> AuthConfig {
    AuthConfig {
        login_per_account: Rate::new(3, Duration::from_secs(30)),
        ..relaxed_auth()
    }
}

async fn attempt(server: &TestServer, login: &str, password: &str) -> u16 {
    let body = json!({ "login": login, "password": password });
    reply(
        reqwest::Client::new()
            .post(server.url("/api/v1/auth/login"))
            .json(&body),
    )
    .await
    .status
}

async fn two_instances_share_one_account_budget_through_redis(db: TestDb) {
    let Some(url) = comanda_testkit::redis_url() else {
        return;
    };
    let prefix = format!("comanda-test-{}:", random_suffix());
    let limiter = || Limiter::redis(&url, &prefix).expect("valid Redis URL");
    let org = Org::with(db.storage(), strict(), limiter()).await;
    let a = &org.server;
    let b = TestServer::with_state(AppState::with_auth(
        db.storage(),
        Readiness::serving(),
        strict(),
        limiter(),
    ))
    .await;
    let login = &org.waiter.login;

    assert_eq!(attempt(a, login, "wrong password 1").await, 401);
    assert_eq!(attempt(&b, login, "wrong password 2").await, 401);
    assert_eq!(attempt(a, login, "wrong password 3").await, 401);
    // Instance B has seen one failure itself, but the budget is shared.
    assert_eq!(attempt(&b, login, &org.waiter.password).await, 429);
    assert_eq!(attempt(a, login, &org.waiter.password).await, 429);
    assert_eq!(
        attempt(&b, &org.kitchen.login, &org.kitchen.password).await,
        200,
        "per account, not global"
    );
}

async fn limits_hold_when_redis_is_down(db: TestDb) {
    // Nothing listens on port 1: every Redis call fails, and this instance's own buckets
    // take over instead of letting every attempt through.
    let down = Limiter::redis("redis://127.0.0.1:1", "x:").expect("valid URL");
    let org = Org::with(db.storage(), strict(), down).await;
    for _ in 0..3 {
        assert_eq!(
            attempt(&org.server, &org.waiter.login, "wrong password 0").await,
            401
        );
    }
    assert_eq!(
        attempt(&org.server, &org.waiter.login, &org.waiter.password).await,
        429
    );
}
