//! Signing in, second factors, sessions, terminals and keys, through HTTP on both
//! backends.

use comanda_domain::Role;
use comanda_server::api_routes;
use comanda_server::auth::config::AuthConfig;
use comanda_server::auth::limiter::{Limiter, Rate};
use comanda_testkit::identity::{OWNER_PASSWORD, Org, relaxed_auth, reply};
use comanda_testkit::{TestDb, on_both_backends};
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};

on_both_backends!(
    admins_can_do_nothing_but_enrol_until_they_have_a_second_factor,
    wrong_reused_and_stale_codes_fail_and_recovery_codes_work_once,
    a_reused_refresh_token_revokes_the_whole_family,
    renewals_at_the_same_moment_share_one_successor,
    bad_input_gets_a_4xx_in_the_error_shape,
    unknown_users_and_wrong_passwords_look_the_same,
    failed_sign_ins_are_throttled_then_recover,
    a_guesser_cannot_lock_the_owner_out,
    sessions_can_be_listed_and_ended,
    terminals_sign_staff_in_with_a_pin_scoped_to_their_store,
    api_keys_act_only_within_their_permissions_and_stores,
    disabling_a_person_ends_their_sessions_at_once,
    people_created_by_others_must_choose_a_password,
    new_staff_work_at_a_terminal_with_their_pin,
    every_list_has_one_shape,
    security_events_are_logged,
    a_person_keeps_their_own_language,
);

async fn admins_can_do_nothing_but_enrol_until_they_have_a_second_factor(db: TestDb) {
    let org = Org::new(db.storage()).await;
    // An admin, hired by the owner: signs in with a password only.
    let created = org
        .call(
            Method::POST,
            "/api/v1/users",
            Some(&org.owner.token),
            Some(json!({
                "login": "socia", "display_name": "Sócia", "role": "admin", "all_stores": true,
                "password": "partner passphrase 1"
            })),
        )
        .await;
    assert_eq!(created.status, 201, "{created:?}");
    let signed_in = org.login("socia", "partner passphrase 1", None).await;
    assert_eq!(signed_in.status, 200);
    let token = signed_in.body["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_eq!(
        signed_in.body["requires"],
        json!(["password_change", "totp_enrolment"])
    );
    let changed = org
        .call(
            Method::POST,
            "/api/v1/me/password",
            Some(&token),
            Some(json!({
                "current_password": "partner passphrase 1", "new_password": "partner passphrase 2"
            })),
        )
        .await;
    assert_eq!(changed.status, 204, "{changed:?}");
    let me = org
        .call(Method::GET, "/api/v1/me", Some(&token), None)
        .await;
    assert_eq!(me.body["requires"], json!(["totp_enrolment"]));

    // Every route except signing in, /me, enrolment and one's language refuses this session (and the
    // card processor's webhook, which takes no session at all: its signature is its key).
    let allowed_while_restricted = [
        "/api/v1",
        "/api/v1/openapi.json",
        "/api/v1/webhooks/stripe",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/auth/pin",
        "/api/v1/device/staff",
        "/api/v1/me",
        "/api/v1/me/password",
        "/api/v1/me/totp",
        "/api/v1/me/totp/confirm",
        // The language of the page that asks for the second factor.
        "/api/v1/me/locale",
    ];
    let fake_id = uuid::Uuid::now_v7().to_string();
    let mut checked = 0;
    for route in api_routes() {
        if allowed_while_restricted.contains(&route.path.as_str()) && route.method != Method::DELETE
        {
            continue;
        }
        let path = route
            .path
            .replace("{store_id}", &org.store_a.to_string())
            .replace("{user_id}", &org.cashier.id.to_string())
            .replace("{device_id}", &fake_id)
            .replace("{session_id}", &fake_id)
            .replace("{api_key_id}", &fake_id);
        let body = (route.method != Method::GET).then(|| json!({}));
        let r = org
            .call(route.method.clone(), &path, Some(&token), body)
            .await;
        assert_eq!(
            (r.status, r.code()),
            (403, "totp_enrolment_required"),
            "{} {path}: {r:?}",
            route.method
        );
        checked += 1;
    }
    assert!(checked >= 25, "only {checked} routes checked");

    let (_, codes) = org.enrol_totp(&token).await;
    assert_eq!(codes.len(), 10);
    let stores = org
        .call(Method::GET, "/api/v1/stores", Some(&token), None)
        .await;
    assert_eq!(
        stores.status, 200,
        "the session that proved the factor is now complete"
    );
    let again = org
        .call(
            Method::POST,
            "/api/v1/me/totp",
            Some(&token),
            Some(json!({})),
        )
        .await;
    assert_eq!((again.status, again.code()), (409, "totp_already_enabled"));
    let off = org
        .call(
            Method::DELETE,
            "/api/v1/me/totp",
            Some(&token),
            Some(json!({ "password": "partner passphrase 2" })),
        )
        .await;
    assert_eq!((off.status, off.code()), (409, "totp_required_for_role"));
}

async fn wrong_reused_and_stale_codes_fail_and_recovery_codes_work_once(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let owner = &org.owner;
    let missing = org.login("owner", OWNER_PASSWORD, None).await;
    assert_eq!((missing.status, missing.code()), (401, "totp_required"));
    let wrong = org.login("owner", OWNER_PASSWORD, Some("000000")).await;
    assert_eq!((wrong.status, wrong.code()), (401, "invalid_totp"));
    // The enrolment used the current step; the next one is within the drift window.
    let next = owner.totp(1);
    let ok = org.login("owner", OWNER_PASSWORD, Some(&next)).await;
    assert_eq!(ok.status, 200, "{ok:?}");
    assert_eq!(ok.body["requires"], json!([]));
    let replayed = org.login("owner", OWNER_PASSWORD, Some(&next)).await;
    assert_eq!(
        (replayed.status, replayed.code()),
        (401, "invalid_totp"),
        "a code works once"
    );
    let current = org
        .login("owner", OWNER_PASSWORD, Some(&owner.totp(0)))
        .await;
    assert_eq!(
        (current.status, current.code()),
        (401, "invalid_totp"),
        "no going back to an earlier step"
    );
    let stale = org
        .login("owner", OWNER_PASSWORD, Some(&owner.totp(-3)))
        .await;
    assert_eq!((stale.status, stale.code()), (401, "invalid_totp"));

    let recovery = owner.recovery_codes[0].to_lowercase();
    let first = org.login("owner", OWNER_PASSWORD, Some(&recovery)).await;
    assert_eq!(first.status, 200, "{first:?}");
    let second = org.login("owner", OWNER_PASSWORD, Some(&recovery)).await;
    assert_eq!((second.status, second.code()), (401, "invalid_totp"));
    let wrong_password = org
        .login(
            "owner",
            "not the password!!",
            Some(&owner.recovery_codes[1]),
        )
        .await;
    assert_eq!(
        (wrong_password.status, wrong_password.code()),
        (401, "invalid_credentials")
    );
    let unspent = org
        .login("owner", OWNER_PASSWORD, Some(&owner.recovery_codes[1]))
        .await;
    assert_eq!(
        unspent.status, 200,
        "a wrong password does not spend the code"
    );
}

async fn a_reused_refresh_token_revokes_the_whole_family(db: TestDb) {
    // No grace: any second use is the one a thief makes.
    let auth = AuthConfig {
        refresh_reuse_grace: Duration::ZERO,
        ..relaxed_auth()
    };
    let org = Org::with(db.storage(), auth, Limiter::local()).await;
    let signed_in = org
        .login(&org.cashier.login, &org.cashier.password, None)
        .await;
    let first = signed_in.body["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    let refresh = |token: &str| {
        org.call(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(json!({ "refresh_token": token })),
        )
    };

    let rotated = refresh(&first).await;
    assert_eq!(rotated.status, 200, "{rotated:?}");
    let second = rotated.body["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    assert_ne!(second, first);
    let access = rotated.body["access_token"]
        .as_str()
        .expect("access")
        .to_owned();
    assert_eq!(
        org.call(Method::GET, "/api/v1/me", Some(&access), None)
            .await
            .status,
        200
    );

    let reused = refresh(&first).await;
    assert_eq!(
        (reused.status, reused.code()),
        (401, "refresh_token_reused")
    );
    let successor = refresh(&second).await;
    assert_eq!(
        (successor.status, successor.code()),
        (401, "invalid_refresh_token"),
        "the family is revoked"
    );
    let me = org
        .call(Method::GET, "/api/v1/me", Some(&access), None)
        .await;
    assert_eq!(
        (me.status, me.code()),
        (401, "session_revoked"),
        "and its access tokens with it"
    );
    let other = org
        .call(Method::GET, "/api/v1/me", Some(&org.cashier.token), None)
        .await;
    assert_eq!(
        other.status, 200,
        "other sessions of the same person are untouched"
    );

    for junk in ["", "rt1.x.y", "not-a-token", &org.cashier.token] {
        let r = refresh(junk).await;
        assert_eq!(
            (r.status, r.code()),
            (401, "invalid_refresh_token"),
            "{junk}"
        );
    }
}

/// A page reloading while its live stream renews, or two tabs, present one refresh token
/// twice at once: both are answered with the same successor and the session lives on,
/// where it used to be ended as a theft.
async fn renewals_at_the_same_moment_share_one_successor(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let signed_in = org
        .login(&org.cashier.login, &org.cashier.password, None)
        .await;
    let first = signed_in.body["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    let refresh = |token: String| {
        org.call(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(json!({ "refresh_token": token })),
        )
    };
    let (a, b) = tokio::join!(refresh(first.clone()), refresh(first.clone()));
    assert_eq!((a.status, b.status), (200, 200), "{a:?} {b:?}");
    let successor = a.body["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    assert_eq!(b.body["refresh_token"], successor.as_str());
    assert_ne!(successor, first);
    let late = refresh(first.clone()).await;
    assert_eq!(late.body["refresh_token"], successor.as_str(), "{late:?}");
    for answer in [&a, &b, &late] {
        let access = answer.body["access_token"].as_str().expect("access");
        let me = org
            .call(Method::GET, "/api/v1/me", Some(access), None)
            .await;
        assert_eq!(me.status, 200, "{me:?}");
    }
    let onwards = refresh(successor).await;
    assert_eq!(onwards.status, 200, "the family goes on: {onwards:?}");
    let events = org
        .call(
            Method::GET,
            "/api/v1/audit/security-events?limit=500",
            Some(&org.owner.token),
            None,
        )
        .await;
    assert!(
        !events.body.to_string().contains("refresh_token_reused"),
        "nothing was taken for an attack: {}",
        events.body
    );
}

async fn bad_input_gets_a_4xx_in_the_error_shape(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let client = reqwest::Client::new();
    let login_url = org.url("/api/v1/auth/login");
    let send = |body: String, content_type: &'static str| {
        reply(
            client
                .post(login_url.clone())
                .header("content-type", content_type)
                .body(body),
        )
    };
    let cases = [
        (
            send("{\"login\": ".into(), "application/json").await,
            400,
            "malformed_json",
        ),
        (
            send("login=owner".into(), "application/x-www-form-urlencoded").await,
            415,
            "unsupported_media_type",
        ),
        (
            send(
                json!({ "login": 7, "password": "x" }).to_string(),
                "application/json",
            )
            .await,
            422,
            "invalid_body",
        ),
        (
            send(json!({ "login": "owner" }).to_string(), "application/json").await,
            422,
            "invalid_body",
        ),
        (
            send(
                json!({ "login": "owner", "password": "x", "role": "owner" }).to_string(),
                "application/json",
            )
            .await,
            422,
            "invalid_body",
        ),
    ];
    for (reply, status, code) in cases {
        assert_eq!((reply.status, reply.code()), (status, code), "{reply:?}");
        assert!(reply.body["error"]["message"].is_string());
    }
    let (status, body) = declare_ten_megabytes(&org.url("")).await;
    assert_eq!(status, 413, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).expect("JSON error body");
    assert_eq!(body["error"]["code"], "payload_too_large");

    for login in [
        "' OR '1'='1",
        "owner'; DROP TABLE users;--",
        &"a".repeat(10_000),
    ] {
        let r = org.login(login, "whatever password", None).await;
        assert_eq!(
            (r.status, r.code()),
            (401, "invalid_credentials"),
            "{login:?}"
        );
    }
    let r = org.login("\u{0}", "whatever password", None).await;
    assert_eq!(
        (r.status, r.code(), &r.body["error"]["details"]["field"]),
        (422, "validation_failed", &json!("login")),
        "no client text holds NUL"
    );
    let r = org
        .call(
            Method::GET,
            "/api/v1/users/not-a-uuid",
            Some(&org.owner.token),
            None,
        )
        .await;
    // Named, with what it needs, rather than a 404 quoting the router.
    assert_eq!(
        (r.status, r.code(), &r.body["error"]["details"]["field"]),
        (400, "invalid_path", &json!("user_id"))
    );
    assert!(
        r.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("UUID") && !m.contains("Cannot parse")),
        "{r:?}"
    );
    let r = org
        .call(
            Method::GET,
            "/api/v1/users?limit=abc",
            Some(&org.owner.token),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.code(), &r.body["error"]["details"]["field"]),
        (400, "invalid_query", &json!("limit"))
    );
    let r = org
        .call(
            Method::GET,
            "/api/v1/users?colour=red",
            Some(&org.owner.token),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.code(), &r.body["error"]["details"]["field"]),
        (400, "invalid_query", &json!("colour"))
    );
    // A limit past the largest page is refused, naming the largest, not cut short.
    for limit in ["0", "501", "1000"] {
        let r = org
            .call(
                Method::GET,
                &format!("/api/v1/users?limit={limit}"),
                Some(&org.owner.token),
                None,
            )
            .await;
        assert_eq!(
            (r.status, r.code(), &r.body["error"]["details"]),
            (
                422,
                "limit_out_of_range",
                &json!({ "field": "limit", "max": 500 })
            ),
            "{limit}"
        );
    }
    let r = org
        .call(
            Method::GET,
            &format!("/api/v1/stores/{}/reports/z?limit=501", org.store_a),
            Some(&org.owner.token),
            None,
        )
        .await;
    assert_eq!((r.status, r.code()), (422, "limit_out_of_range"));
    let r = org
        .call(
            Method::GET,
            "/api/v1/users?after=zzz",
            Some(&org.owner.token),
            None,
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "invalid_cursor"));
    let r = org
        .call(
            Method::POST,
            "/api/v1/stores",
            Some(&org.owner.token),
            Some(json!({
                "code": "x y", "name": "N", "currency": "BRL", "timezone": "UTC", "locale": "pt-BR"
            })),
        )
        .await;
    assert_eq!(
        (
            r.status,
            r.code(),
            r.body["error"]["details"]["field"].as_str()
        ),
        (422, "validation_failed", Some("code"))
    );
    let r = org
        .call(Method::POST, "/api/v1/users", Some(&org.owner.token), Some(json!({
            "login": "dup", "display_name": "D", "role": "waiter", "store_ids": [org.store_a], "password": "short"
        })))
        .await;
    assert_eq!(
        (r.status, r.body["error"]["details"]["field"].as_str()),
        (422, Some("password"))
    );
    let users = org
        .call(
            Method::GET,
            "/api/v1/users?limit=500",
            Some(&org.owner.token),
            None,
        )
        .await;
    assert!(
        users.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|u| u["login"] != "dup"),
        "nothing written"
    );
}

async fn unknown_users_and_wrong_passwords_look_the_same(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let mut unknown = Vec::new();
    let mut wrong = Vec::new();
    for i in 0..7 {
        let started = Instant::now();
        let r = org
            .login(&format!("nobody{i}"), "some password 123", None)
            .await;
        unknown.push(started.elapsed());
        assert_eq!((r.status, r.code()), (401, "invalid_credentials"));
        let message = r.body["error"]["message"].clone();

        let started = Instant::now();
        let r = org
            .login(&org.cashier.login, "some password 123", None)
            .await;
        wrong.push(started.elapsed());
        assert_eq!((r.status, r.code()), (401, "invalid_credentials"));
        assert_eq!(
            r.body["error"]["message"], message,
            "the same words for both"
        );
    }
    unknown.sort();
    wrong.sort();
    let (u, w) = (unknown[3].as_secs_f64(), wrong[3].as_secs_f64());
    assert!(
        u > w * 0.5 && u < w * 2.0,
        "medians differ: unknown {u:.4}s vs wrong password {w:.4}s"
    );
}

async fn failed_sign_ins_are_throttled_then_recover(db: TestDb) {
    let auth = AuthConfig {
        login_per_account: Rate::new(3, Duration::from_secs(2)),
        ..relaxed_auth()
    };
    let org = Org::with(db.storage(), auth, Limiter::local()).await;
    for _ in 0..3 {
        let r = org
            .login(&org.waiter.login, "wrong password 000", None)
            .await;
        assert_eq!(r.status, 401);
    }
    let limited = org
        .login(&org.waiter.login, &org.waiter.password, None)
        .await;
    assert_eq!(
        (limited.status, limited.code()),
        (429, "too_many_requests"),
        "even the right password waits"
    );
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=3).contains(&retry), "{retry}");
    let again = org
        .login(&org.waiter.login, &org.waiter.password, None)
        .await;
    assert_eq!(again.status, 429);
    let other = org
        .login(&org.kitchen.login, &org.kitchen.password, None)
        .await;
    assert_eq!(other.status, 200, "other accounts are not affected");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let events = org
        .call(
            Method::GET,
            "/api/v1/audit/security-events?limit=500",
            Some(&org.owner.token),
            None,
        )
        .await;
    let throttled = events.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["kind"] == "login_throttled")
        .count();
    assert_eq!(throttled, 1, "two throttled attempts, one log entry");
    tokio::time::sleep(Duration::from_secs(retry)).await;
    let recovered = org
        .login(&org.waiter.login, &org.waiter.password, None)
        .await;
    assert_eq!(recovered.status, 200, "{recovered:?}");

    // Per IP: every attempt counts, right or wrong.
    let auth = AuthConfig {
        login_per_ip: Rate::new(2, Duration::from_secs(60)),
        ..relaxed_auth()
    };
    let state = comanda_server::AppState::with_auth(
        db.storage(),
        comanda_server::readiness::Readiness::serving(),
        auth,
        Limiter::local(),
    );
    let server = comanda_testkit::TestServer::with_state(state).await;
    let client = reqwest::Client::new();
    let body = json!({ "login": "anyone", "password": "anything at all" });
    for expected in [401, 401, 429] {
        let r = reply(client.post(server.url("/api/v1/auth/login")).json(&body)).await;
        assert_eq!(r.status, expected);
    }
}

/// Failures count per account and client address: whoever guesses is stopped where they
/// are, and the account's owner signs in from elsewhere. Many addresses guessing at once
/// slow the account down; they never lock it.
async fn a_guesser_cannot_lock_the_owner_out(db: TestDb) {
    let auth = AuthConfig {
        login_per_account: Rate::new(3, Duration::from_secs(600)),
        trusted_proxies: vec!["127.0.0.1".parse().expect("ip")],
        ..relaxed_auth()
    };
    let org = Org::with(db.storage(), auth, Limiter::local()).await;
    // The right password comes with a recovery code (a time step's code is taken once);
    // a wrong one fails before its code is looked at.
    let codes = std::sync::Mutex::new(org.owner.recovery_codes.clone());
    let from = |ip: &str, password: &str| {
        let code = (password == OWNER_PASSWORD)
            .then(|| codes.lock().expect("codes").pop())
            .flatten();
        let body = json!({ "login": org.owner.login, "password": password, "totp": code });
        reply(
            reqwest::Client::new()
                .post(org.url("/api/v1/auth/login"))
                .header("x-forwarded-for", ip)
                .json(&body),
        )
    };
    for _ in 0..3 {
        assert_eq!(from("203.0.113.7", "not the password").await.status, 401);
    }
    let guesser = from("203.0.113.7", OWNER_PASSWORD).await;
    assert_eq!(
        (guesser.status, guesser.code()),
        (429, "too_many_requests"),
        "the guesser's address is stopped"
    );
    let owner = from("198.51.100.9", OWNER_PASSWORD).await;
    assert_eq!(owner.status, 200, "the owner, elsewhere, is not: {owner:?}");

    // Ten addresses' worth of failures: the account is slowed down, not locked.
    for n in 1..=10 {
        for _ in 0..3 {
            let r = from(&format!("192.0.2.{n}"), "not the password").await;
            assert_eq!(r.status, 401, "{r:?}");
        }
    }
    let owner = from("198.51.100.10", OWNER_PASSWORD).await;
    assert_eq!(owner.status, 200, "{owner:?}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let events = org
        .call(
            Method::GET,
            "/api/v1/audit/security-events?limit=500",
            owner.body["access_token"].as_str(),
            None,
        )
        .await;
    let slowed = events.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .any(|e| e["kind"] == "login_throttled" && e["details"]["slowed_ms"].is_number());
    assert!(slowed, "the slow-down is in the security log");
}

async fn a_person_keeps_their_own_language(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let token = Some(org.waiter.token.as_str());
    let me = org.call(Method::GET, "/api/v1/me", token, None).await;
    assert_eq!(me.body["locale"], json!(null), "the store's until chosen");

    let chosen = org
        .call(
            Method::PUT,
            "/api/v1/me/locale",
            token,
            Some(json!({ "locale": "id-ID" })),
        )
        .await;
    assert_eq!(chosen.status, 204);
    let me = org.call(Method::GET, "/api/v1/me", token, None).await;
    assert_eq!(me.body["locale"], "id-ID");

    let unknown = org
        .call(
            Method::PUT,
            "/api/v1/me/locale",
            token,
            Some(json!({ "locale": "xx-YY" })),
        )
        .await;
    assert_eq!((unknown.status, unknown.code()), (422, "validation_failed"));
    let me = org.call(Method::GET, "/api/v1/me", token, None).await;
    assert_eq!(
        me.body["locale"], "id-ID",
        "a refused choice changes nothing"
    );

    let cleared = org
        .call(
            Method::PUT,
            "/api/v1/me/locale",
            token,
            Some(json!({ "locale": null })),
        )
        .await;
    assert_eq!(cleared.status, 204);
    let me = org.call(Method::GET, "/api/v1/me", token, None).await;
    assert_eq!(me.body["locale"], json!(null));
}

async fn sessions_can_be_listed_and_ended(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let cashier = &org.cashier;
    let second = org.login(&cashier.login, &cashier.password, None).await;
    let second_token = second.body["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let second_id = second.body["session_id"].as_str().expect("id").to_owned();

    let listed = org
        .call(
            Method::GET,
            "/api/v1/me/sessions",
            Some(&cashier.token),
            None,
        )
        .await;
    let sessions = listed.body["items"].as_array().expect("list");
    assert_eq!(sessions.len(), 2, "{listed:?}");
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);

    let ended = org
        .call(
            Method::DELETE,
            &format!("/api/v1/me/sessions/{second_id}"),
            Some(&cashier.token),
            None,
        )
        .await;
    assert_eq!(ended.status, 204);
    let gone = org
        .call(Method::GET, "/api/v1/me", Some(&second_token), None)
        .await;
    assert_eq!((gone.status, gone.code()), (401, "session_revoked"));
    let theirs = org
        .call(
            Method::DELETE,
            &format!("/api/v1/me/sessions/{second_id}"),
            Some(&org.waiter.token),
            None,
        )
        .await;
    assert_eq!(
        theirs.status, 404,
        "another person's session is not yours to end"
    );

    let out = org
        .call(
            Method::POST,
            "/api/v1/auth/logout",
            Some(&cashier.token),
            None,
        )
        .await;
    assert_eq!(out.status, 204);
    let after = org
        .call(Method::GET, "/api/v1/me", Some(&cashier.token), None)
        .await;
    assert_eq!(after.status, 401);
    let refresh = org
        .call(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(json!({ "refresh_token": cashier.refresh })),
        )
        .await;
    assert_eq!(
        refresh.status, 401,
        "logging out ends the refresh tokens too"
    );
}

async fn terminals_sign_staff_in_with_a_pin_scoped_to_their_store(db: TestDb) {
    let org = Org::new(db.storage()).await;
    // The cashier works in both stores; the terminal is in store A.
    let user_path = format!("/api/v1/users/{}", org.cashier.id);
    let current = org
        .call(Method::GET, &user_path, Some(&org.owner.token), None)
        .await;
    let both = org
        .call(
            Method::PATCH,
            &user_path,
            Some(&org.owner.token),
            Some(json!({
                "version": current.body["version"], "store_ids": [org.store_a, org.store_b]
            })),
        )
        .await;
    assert_eq!(both.status, 200, "{both:?}");
    let registered = org
        .call(
            Method::POST,
            &format!("/api/v1/stores/{}/devices", org.store_a),
            Some(&org.manager.token),
            Some(json!({ "name": "Caixa 1" })),
        )
        .await;
    assert_eq!(registered.status, 201, "{registered:?}");
    let device_token = registered.body["token"].as_str().expect("token").to_owned();
    let device_id = registered.body["device"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let set = org
        .call(
            Method::PUT,
            &format!("/api/v1/users/{}/pin", org.cashier.id),
            Some(&org.manager.token),
            Some(json!({ "pin": "2580" })),
        )
        .await;
    assert_eq!(set.status, 204, "{set:?}");
    let simple = org
        .call(
            Method::PUT,
            &format!("/api/v1/users/{}/pin", org.waiter.id),
            Some(&org.manager.token),
            Some(json!({ "pin": "1234" })),
        )
        .await;
    assert_eq!(
        (
            simple.status,
            simple.body["error"]["details"]["reason"].as_str()
        ),
        (422, Some("pin_too_simple"))
    );

    let client = reqwest::Client::new();
    let terminal = |method: Method, path: &str, body: Option<serde_json::Value>| {
        let mut r = client
            .request(method, org.url(path))
            .header("x-device-token", device_token.clone());
        if let Some(b) = body {
            r = r.json(&b);
        }
        reply(r)
    };
    let staff = terminal(Method::GET, "/api/v1/device/staff", None).await;
    assert_eq!(staff.status, 200);
    let names: Vec<&str> = staff
        .body
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|s| s["display_name"].as_str())
        .collect();
    assert_eq!(names, vec!["cashier"], "only people with a PIN, no owners");

    let wrong = terminal(
        Method::POST,
        "/api/v1/auth/pin",
        Some(json!({ "user_id": org.cashier.id, "pin": "0852" })),
    )
    .await;
    assert_eq!((wrong.status, wrong.code()), (401, "invalid_credentials"));
    let owner = terminal(
        Method::POST,
        "/api/v1/auth/pin",
        Some(json!({ "user_id": org.owner.id, "pin": "2580" })),
    )
    .await;
    assert_eq!((owner.status, owner.code()), (403, "pin_login_not_allowed"));
    let ok = terminal(
        Method::POST,
        "/api/v1/auth/pin",
        Some(json!({ "user_id": org.cashier.id, "pin": "2580" })),
    )
    .await;
    assert_eq!(ok.status, 200, "{ok:?}");
    let pin_token = ok.body["access_token"].as_str().expect("token").to_owned();
    let here = org
        .call(
            Method::GET,
            &format!("/api/v1/stores/{}", org.store_a),
            Some(&pin_token),
            None,
        )
        .await;
    assert_eq!(here.status, 200);
    let elsewhere = org
        .call(
            Method::GET,
            &format!("/api/v1/stores/{}", org.store_b),
            Some(&pin_token),
            None,
        )
        .await;
    assert_eq!(
        (elsewhere.status, elsewhere.code()),
        (403, "store_forbidden"),
        "a terminal session acts in its store only"
    );
    let password_session = org
        .call(
            Method::GET,
            &format!("/api/v1/stores/{}", org.store_b),
            Some(&org.cashier.token),
            None,
        )
        .await;
    assert_eq!(
        password_session.status, 200,
        "the same person signed in with a password reaches both"
    );

    let no_device = org
        .call(
            Method::POST,
            "/api/v1/auth/pin",
            None,
            Some(json!({ "user_id": org.cashier.id, "pin": "2580" })),
        )
        .await;
    assert_eq!(
        (no_device.status, no_device.code()),
        (401, "invalid_device")
    );
    let revoked = org
        .call(
            Method::DELETE,
            &format!("/api/v1/stores/{}/devices/{device_id}", org.store_a),
            Some(&org.manager.token),
            None,
        )
        .await;
    assert_eq!(revoked.status, 204);
    let after = terminal(Method::GET, "/api/v1/device/staff", None).await;
    assert_eq!((after.status, after.code()), (401, "invalid_device"));
    let session = org
        .call(Method::GET, "/api/v1/me", Some(&pin_token), None)
        .await;
    assert_eq!(
        session.status, 401,
        "sessions opened on a revoked terminal end with it"
    );
}

async fn api_keys_act_only_within_their_permissions_and_stores(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let create = |body: serde_json::Value| {
        org.call(
            Method::POST,
            "/api/v1/api-keys",
            Some(&org.owner.token),
            Some(body),
        )
    };
    let refused =
        create(json!({ "name": "x", "permissions": ["user_manage"], "store_ids": [org.store_a] }))
            .await;
    assert_eq!(
        (
            refused.status,
            refused.body["error"]["details"]["reason"].as_str()
        ),
        (422, Some("not_grantable"))
    );
    let unknown =
        create(json!({ "name": "x", "permissions": ["do_anything"], "store_ids": [org.store_a] }))
            .await;
    assert_eq!(
        (
            unknown.status,
            unknown.body["error"]["details"]["reason"].as_str()
        ),
        (422, Some("unknown_permission"))
    );
    let by_manager = org
        .call(
            Method::POST,
            "/api/v1/api-keys",
            Some(&org.manager.token),
            Some(json!({ "name": "x", "permissions": ["store_read"], "store_ids": [org.store_a] })),
        )
        .await;
    assert_eq!(by_manager.status, 403);

    let created = create(
        json!({ "name": "iFood", "permissions": ["store_read"], "store_ids": [org.store_a] }),
    )
    .await;
    assert_eq!(created.status, 201, "{created:?}");
    let key = created.body["key"].as_str().expect("key").to_owned();
    assert!(key.starts_with("ck1."));
    let id = created.body["api_key"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let listed = org
        .call(
            Method::GET,
            "/api/v1/api-keys",
            Some(&org.owner.token),
            None,
        )
        .await;
    assert!(
        !listed.body.to_string().contains(&key[20..]),
        "the secret is never shown again"
    );

    let own = org
        .call(
            Method::GET,
            &format!("/api/v1/stores/{}", org.store_a),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(own.status, 200);
    let other = org
        .call(
            Method::GET,
            &format!("/api/v1/stores/{}", org.store_b),
            Some(&key),
            None,
        )
        .await;
    assert_eq!((other.status, other.code()), (403, "store_forbidden"));
    let users = org
        .call(Method::GET, "/api/v1/users", Some(&key), None)
        .await;
    assert_eq!((users.status, users.code()), (403, "forbidden"));
    let me = org.call(Method::GET, "/api/v1/me", Some(&key), None).await;
    assert_eq!((me.status, me.code()), (403, "users_only"));

    let revoked = org
        .call(
            Method::DELETE,
            &format!("/api/v1/api-keys/{id}"),
            Some(&org.owner.token),
            None,
        )
        .await;
    assert_eq!(revoked.status, 204);
    let after = org
        .call(
            Method::GET,
            &format!("/api/v1/stores/{}", org.store_a),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(after.status, 401);
    let tampered = format!("{}AAAA", &key[..key.len() - 4]);
    assert_eq!(
        org.call(Method::GET, "/api/v1/stores", Some(&tampered), None)
            .await
            .status,
        401
    );
}

async fn disabling_a_person_ends_their_sessions_at_once(db: TestDb) {
    let org = Org::new(db.storage()).await;
    assert_eq!(
        org.call(Method::GET, "/api/v1/me", Some(&org.waiter.token), None)
            .await
            .status,
        200
    );
    let disabled = org
        .call(
            Method::POST,
            &format!("/api/v1/users/{}/disable", org.waiter.id),
            Some(&org.manager.token),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (disabled.status, disabled.body["disabled"].as_bool()),
        (200, Some(true))
    );
    let me = org
        .call(Method::GET, "/api/v1/me", Some(&org.waiter.token), None)
        .await;
    assert_eq!(me.status, 401);
    let login = org
        .login(&org.waiter.login, &org.waiter.password, None)
        .await;
    assert_eq!((login.status, login.code()), (403, "account_disabled"));
    let self_disable = org
        .call(
            Method::POST,
            &format!("/api/v1/users/{}/disable", org.manager.id),
            Some(&org.manager.token),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (self_disable.status, self_disable.code()),
        (403, "cannot_manage_self")
    );
    let up = org
        .call(
            Method::POST,
            &format!("/api/v1/users/{}/disable", org.admin.id),
            Some(&org.manager.token),
            Some(json!({})),
        )
        .await;
    assert_eq!(up.status, 404, "managers do not see all-stores people");
    let enabled = org
        .call(
            Method::POST,
            &format!("/api/v1/users/{}/enable", org.waiter.id),
            Some(&org.manager.token),
            Some(json!({})),
        )
        .await;
    assert_eq!(enabled.status, 200);
    assert_eq!(
        org.login(&org.waiter.login, &org.waiter.password, None)
            .await
            .status,
        200
    );
}

async fn people_created_by_others_must_choose_a_password(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let created = org
        .call(Method::POST, "/api/v1/users", Some(&org.manager.token), Some(json!({
            "login": "novo", "display_name": "Novo", "role": "waiter", "store_ids": [org.store_a]
        })))
        .await;
    assert_eq!(created.status, 201, "{created:?}");
    let temporary = created.body["temporary_password"]
        .as_str()
        .expect("generated")
        .to_owned();
    let signed_in = org.login("novo", &temporary, None).await;
    assert_eq!(signed_in.body["requires"], json!(["password_change"]));
    let token = signed_in.body["access_token"].as_str().expect("token");
    let blocked = org
        .call(
            Method::GET,
            &format!("/api/v1/stores/{}", org.store_a),
            Some(token),
            None,
        )
        .await;
    assert_eq!(
        (blocked.status, blocked.code()),
        (403, "password_change_required")
    );
    let same = org
        .call(
            Method::POST,
            "/api/v1/me/password",
            Some(token),
            Some(json!({ "current_password": temporary, "new_password": "novo" })),
        )
        .await;
    assert_eq!(
        (
            same.status,
            same.body["error"]["details"]["reason"].as_str()
        ),
        (422, Some("too_short"))
    );
    let done = org
        .call(
            Method::POST,
            "/api/v1/me/password",
            Some(token),
            Some(json!({ "current_password": temporary, "new_password": "my own passphrase" })),
        )
        .await;
    assert_eq!(done.status, 204);
    assert_eq!(
        org.call(
            Method::GET,
            &format!("/api/v1/stores/{}", org.store_a),
            Some(token),
            None
        )
        .await
        .status,
        200
    );

    for (role, status) in [(Role::Manager, 403), (Role::Admin, 403), (Role::Owner, 403)] {
        let r = org
            .call(Method::POST, "/api/v1/users", Some(&org.manager.token), Some(json!({
                "login": format!("up-{role}"), "display_name": "X", "role": role, "store_ids": [org.store_a]
            })))
            .await;
        assert_eq!(
            (r.status, r.code()),
            (status, "role_not_assignable"),
            "{role}"
        );
    }
    let elsewhere = org
        .call(Method::POST, "/api/v1/users", Some(&org.manager.token), Some(json!({
            "login": "fora", "display_name": "Fora", "role": "waiter", "store_ids": [org.store_b]
        })))
        .await;
    assert_eq!(
        (elsewhere.status, elsewhere.code()),
        (403, "store_forbidden")
    );
}

async fn security_events_are_logged(db: TestDb) {
    let org = Org::new(db.storage()).await;
    org.login(&org.cashier.login, "wrong password 000", None)
        .await;
    org.call(Method::GET, "/api/v1/users", Some(&org.kitchen.token), None)
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let events = org
        .call(
            Method::GET,
            "/api/v1/audit/security-events?limit=200",
            Some(&org.owner.token),
            None,
        )
        .await;
    assert_eq!(events.status, 200, "{events:?}");
    let kinds: Vec<&str> = events.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    for expected in [
        "login_succeeded",
        "login_failed",
        "permission_denied",
        "totp_enrolled",
        "password_changed",
        "user_created",
        "store_created",
    ] {
        assert!(
            kinds.contains(&expected),
            "{expected} missing from {kinds:?}"
        );
    }
    let denied = events.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|e| e["kind"] == "permission_denied")
        .expect("denied");
    assert_eq!(denied["actor_user_id"], json!(org.kitchen.id));
    assert_eq!(denied["details"]["permission"], "user_read");
    let failed = events.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|e| e["kind"] == "login_failed")
        .expect("failed");
    assert_eq!(failed["details"]["reason"], "wrong_password");
    assert!(
        failed["ip"]
            .as_str()
            .is_some_and(|ip| ip.starts_with("127."))
    );
    let forbidden = org
        .call(
            Method::GET,
            "/api/v1/audit/security-events",
            Some(&org.manager.token),
            None,
        )
        .await;
    assert_eq!(forbidden.status, 403);
}

/// Announces a 10 MB JSON body and reads the answer before sending it: the server must
/// refuse by the declared size, with 413 in the error shape, without reading the body.
async fn declare_ten_megabytes(base: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        10 * 1024 * 1024
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("answer in time")
            .expect("read");
        response.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&response);
        if n == 0 || text.contains("\r\n\r\n{") && text.trim_end().ends_with('}') {
            break;
        }
    }
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// A waiter a manager creates works at a terminal with the PIN the manager sets: the
/// password's first change is for password sign-ins. A PIN-only account has no
/// password at all.
async fn new_staff_work_at_a_terminal_with_their_pin(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let manager = &org.manager.token;
    let create = |body: serde_json::Value| {
        org.call(Method::POST, "/api/v1/users", Some(manager), Some(body))
    };
    let chosen = create(
        json!({ "login": "joana", "display_name": "Joana", "role": "waiter",
        "store_ids": [org.store_a], "password": "chosen by the manager" }),
    )
    .await;
    assert_eq!(chosen.status, 201, "{chosen:?}");
    assert_eq!(chosen.body["user"]["must_change_password"], true);
    let only = create(
        json!({ "login": "pedro", "display_name": "Pedro", "role": "waiter",
        "store_ids": [org.store_a], "pin_only": true }),
    )
    .await;
    assert_eq!(only.status, 201, "{only:?}");
    assert_eq!(only.body["user"]["must_change_password"], false);
    assert!(only.body["temporary_password"].is_null(), "{only:?}");
    for (by, body, field) in [
        (
            manager,
            json!({ "login": "xavier", "display_name": "X", "role": "waiter", "store_ids": [org.store_a],
                 "pin_only": true, "password": "a password after all" }),
            "password",
        ),
        (
            &org.owner.token,
            json!({ "login": "xuxa", "display_name": "X", "role": "admin", "all_stores": true,
                 "pin_only": true }),
            "pin_only",
        ),
    ] {
        let refused = org
            .call(Method::POST, "/api/v1/users", Some(by), Some(body))
            .await;
        assert_eq!(
            (refused.status, &refused.body["error"]["details"]["field"]),
            (422, &json!(field)),
            "{refused:?}"
        );
    }

    let device = org
        .call(
            Method::POST,
            &format!("/api/v1/stores/{}/devices", org.store_a),
            Some(manager),
            Some(json!({ "name": "Salão" })),
        )
        .await;
    assert_eq!(device.status, 201, "{device:?}");
    let device_token = device.body["token"].as_str().expect("token").to_owned();
    for (created, pin) in [(&chosen, "3141"), (&only, "2718")] {
        let id = created.body["user"]["id"].as_str().expect("id");
        let set = org
            .call(
                Method::PUT,
                &format!("/api/v1/users/{id}/pin"),
                Some(manager),
                Some(json!({ "pin": pin })),
            )
            .await;
        assert_eq!(set.status, 204, "{set:?}");
        let signed_in = reply(
            reqwest::Client::new()
                .post(org.url("/api/v1/auth/pin"))
                .header("x-device-token", &device_token)
                .json(&json!({ "user_id": id, "pin": pin })),
        )
        .await;
        assert_eq!(signed_in.status, 200, "{signed_in:?}");
        assert_eq!(signed_in.body["requires"], json!([]), "{signed_in:?}");
        let token = signed_in.body["access_token"].as_str().expect("token");
        let orders = org
            .call(
                Method::GET,
                &format!("/api/v1/stores/{}/orders", org.store_a),
                Some(token),
                None,
            )
            .await;
        assert_eq!(orders.status, 200, "{orders:?}");
    }
    // Signing in with the password still asks for its change.
    let by_password = org.login("joana", "chosen by the manager", None).await;
    assert_eq!(by_password.body["requires"], json!(["password_change"]));
}

/// Every list answers `{items, next}`, those that are whole in one page too (`next` is
/// then null), so a client reads every list one way.
async fn every_list_has_one_shape(db: TestDb) {
    let org = Org::new(db.storage()).await;
    let store = format!("/api/v1/stores/{}", org.store_a);
    for path in [
        "/api/v1/me/sessions".to_owned(),
        "/api/v1/api-keys".to_owned(),
        "/api/v1/companies".to_owned(),
        "/api/v1/users".to_owned(),
        format!("{store}/devices"),
        format!("{store}/shifts"),
        format!("{store}/kds/stations"),
        format!("{store}/webhooks"),
        format!("{store}/tables"),
        format!("{store}/orders"),
        format!("{store}/reports/z"),
    ] {
        let r = org
            .call(Method::GET, &path, Some(&org.owner.token), None)
            .await;
        assert_eq!(r.status, 200, "{path}: {r:?}");
        let fields: Vec<&String> = r
            .body
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        assert!(r.body["items"].is_array(), "{path}: {r:?}");
        assert!(
            fields.iter().any(|f| *f == "next"),
            "{path} has no next: {r:?}"
        );
    }
}
