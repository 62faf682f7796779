//! The web apps' sessions against another site: sign-in only from this server's own
//! pages (origin with its scheme), only at a name this server answers to (no DNS
//! rebinding), and a cookie-authenticated change without its anti-forgery token refused
//! before any kept answer is looked at.

use comanda_server::auth::limiter::Limiter;
use comanda_testkit::identity::{Org, relaxed_auth};
use comanda_testkit::{TestDb, on_both_backends};
use reqwest::header::{HOST, ORIGIN};
use serde_json::{Value, json};

on_both_backends!(
    sign_in_comes_only_from_this_servers_own_pages,
    configured_origins_are_the_only_ones,
    a_forged_change_is_refused_before_a_kept_answer_is_looked_at,
);

async fn sign_in(org: &Org, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(org.url("/app/session"))
        .json(&json!({ "login": org.waiter.login, "password": org.waiter.password }));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("sign-in");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

async fn sign_in_comes_only_from_this_servers_own_pages(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let here = org.server.url.clone();
    let host = here.trim_start_matches("http://").to_owned();
    let https_here = here.replace("http://", "https://");

    let (status, _) = sign_in(&org, &[(ORIGIN.as_str(), &here)]).await;
    assert_eq!(status, 200, "this server's own page");
    let (status, body) = sign_in(&org, &[(ORIGIN.as_str(), &https_here)]).await;
    assert_eq!(
        (status, code(&body)),
        (403, "cross_origin"),
        "the same host under another scheme is another site"
    );
    let (status, _) = sign_in(
        &org,
        &[
            (ORIGIN.as_str(), &https_here),
            ("x-forwarded-proto", "https"),
        ],
    )
    .await;
    assert_eq!(status, 200, "behind a proxy that says it is HTTPS");

    let rebound = format!("evil.example:{}", host.rsplit(':').next().expect("port"));
    let (status, body) = sign_in(
        &org,
        &[
            (HOST.as_str(), &rebound),
            (ORIGIN.as_str(), &format!("http://{rebound}")),
        ],
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (403, "unknown_host"),
        "a name pointed at this server is not one it answers to: {body}"
    );
    let (status, _) = sign_in(
        &org,
        &[
            (HOST.as_str(), "localhost"),
            (ORIGIN.as_str(), "http://localhost"),
        ],
    )
    .await;
    assert_eq!(status, 200, "localhost is this machine");
}

async fn configured_origins_are_the_only_ones(db: TestDb) {
    let mut auth = relaxed_auth();
    auth.allowed_origins = vec!["https://pos.example.com".into()];
    let org = Org::with(db.storage(), auth, Limiter::local()).await;
    let (status, _) = sign_in(
        &org,
        &[
            (HOST.as_str(), "pos.example.com"),
            (ORIGIN.as_str(), "https://pos.example.com"),
        ],
    )
    .await;
    assert_eq!(status, 200, "the configured origin, behind its TLS proxy");
    let (status, body) = sign_in(
        &org,
        &[
            (HOST.as_str(), "pos.example.com"),
            (ORIGIN.as_str(), "http://pos.example.com"),
        ],
    )
    .await;
    assert_eq!((status, code(&body)), (403, "cross_origin"), "{body}");
    let here = org.server.url.clone();
    let (status, body) = sign_in(&org, &[(ORIGIN.as_str(), &here)]).await;
    assert_eq!(
        (status, code(&body)),
        (403, "unknown_host"),
        "with origins configured, an address is not one of them: {body}"
    );
}

async fn a_forged_change_is_refused_before_a_kept_answer_is_looked_at(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let response = reqwest::Client::new()
        .post(org.url("/app/session"))
        .json(&json!({ "login": org.waiter.login, "password": org.waiter.password }))
        .send()
        .await
        .expect("sign-in");
    let jar: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
        .collect();
    let jar = jar.join("; ");
    let csrf = response.json::<Value>().await.expect("json")["csrf"]
        .as_str()
        .expect("csrf")
        .to_owned();
    let orders = org.url(&format!("/api/v1/stores/{}/orders", org.store_a));
    let post = |csrf: Option<&str>| {
        let mut request = reqwest::Client::new()
            .post(&orders)
            .header("cookie", &jar)
            .header("idempotency-key", "tab-7")
            .json(&json!({ "kind": "counter" }));
        if let Some(token) = csrf {
            request = request.header("x-csrf-token", token);
        }
        request.send()
    };
    let first = post(Some(&csrf)).await.expect("post");
    assert_eq!(first.status(), 201);
    let forged = post(None).await.expect("post");
    assert_eq!(forged.status(), 403);
    assert!(
        forged.headers().get("idempotent-replayed").is_none(),
        "no kept answer for a forged request"
    );
    let body: Value = forged.json().await.expect("json");
    assert_eq!(code(&body), "csrf_failed", "{body}");
    let retry = post(Some(&csrf)).await.expect("post");
    assert_eq!(
        (
            retry.status().as_u16(),
            retry.headers().get("idempotent-replayed").is_some()
        ),
        (201, true),
        "the genuine retry still gets its answer"
    );
}
