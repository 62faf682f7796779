//! `comanda user ...` run as an operator would, against a real SQLite database.

mod support;

use comanda_domain::{Login, Secret};
use comanda_store::{AuditRepo, EventFilter, Limit, UserRepo};
use comanda_store_sqlite::SqliteStorage;
use support::{comanda, prepared, run};

fn user(dir: &std::path::Path, args: &[&str], password: Option<&str>) -> support::Output {
    let mut cmd = comanda(dir);
    cmd.arg("user").args(args);
    if let Some(p) = password {
        cmd.env("COMANDA_USER_PASSWORD", p);
    }
    run(&mut cmd)
}

async fn find(storage: &SqliteStorage, login: &str) -> comanda_domain::User {
    storage
        .find_user_by_login(&Login::parse("login", login).expect("valid"))
        .await
        .expect("query")
        .expect("exists")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_manages_people_from_the_shell() {
    let dir = tempfile::tempdir().expect("temp dir");
    let storage = prepared(dir.path()).await;
    let d = dir.path().to_owned();

    let created = user(
        &d,
        &[
            "create",
            "Ana",
            "--role",
            "cashier",
            "--store",
            "main",
            "--name",
            "Ana Souza",
        ],
        Some("ana chosen passphrase"),
    );
    assert!(created.status.success(), "{}", created.stderr);
    assert!(
        created.stdout.contains("created ana (cashier)")
            && !created.stdout.contains("temporary password")
    );
    let ana = find(&storage, "ana").await;
    assert!(ana.must_change_password && ana.store_ids.len() == 1);
    assert!(
        comanda_server::password::verify(&Secret::new("ana chosen passphrase"), &ana.password_hash)
            .await
    );

    let listed = user(&d, &["list"], None);
    assert!(
        listed
            .stdout
            .lines()
            .any(|l| l.starts_with("ana ") && l.contains("cashier") && l.contains("active")),
        "{}",
        listed.stdout
    );
    // Every column starts where its heading does, whatever the logins and roles.
    let header = listed.stdout.lines().next().expect("header");
    for heading in ["ROLE", "STATE", "2FA", "PIN", "STORES"] {
        let at = header.find(heading).expect("heading");
        for line in listed.stdout.lines().skip(1) {
            let before = &line[..at.min(line.len())];
            assert!(
                before.ends_with("  ") && line.len() > at && !line[at..].starts_with(' '),
                "{heading} is not aligned in {line:?}\n{}",
                listed.stdout
            );
        }
    }

    let reset = user(&d, &["reset-password", "ana"], None);
    assert!(reset.status.success(), "{}", reset.stderr);
    let temporary = reset
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("temporary password: "))
        .expect("printed")
        .to_owned();
    let ana = find(&storage, "ana").await;
    assert!(comanda_server::password::verify(&Secret::new(temporary), &ana.password_hash).await);

    assert!(user(&d, &["disable", "ana"], None).status.success());
    assert!(find(&storage, "ana").await.disabled);
    assert!(user(&d, &["enable", "ana"], None).status.success());
    assert!(!find(&storage, "ana").await.disabled);

    let owner = find(&storage, "owner").await;
    storage
        .enable_totp(
            owner.id,
            &comanda_domain::Sealed::from_stored("JBSWY3DPEHPK3PXP"),
            1,
            &[[1; 32]],
        )
        .await
        .expect("enable");
    let lost_phone = user(&d, &["reset-totp", "owner"], None);
    assert!(lost_phone.status.success(), "{}", lost_phone.stderr);
    assert!(!find(&storage, "owner").await.totp_enabled());

    let events = storage
        .list_security_events(&EventFilter::default(), None, Limit::new(None))
        .await
        .expect("events");
    let kinds: Vec<&str> = events.items.iter().map(|e| e.kind.as_str()).collect();
    for kind in [
        "user_created",
        "password_reset",
        "user_disabled",
        "user_enabled",
        "totp_reset",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing: {kinds:?}");
    }
    assert!(
        events
            .items
            .iter()
            .all(|e| e.details["via"] == "command line")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mistakes_are_named_in_one_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let _storage = prepared(dir.path()).await;
    let d = dir.path().to_owned();
    for (args, password, needle) in [
        (
            &["create", "bia", "--role", "chef", "--store", "main"][..],
            None,
            "unknown role \"chef\"",
        ),
        (
            &["create", "bia", "--role", "waiter", "--store", "nowhere"][..],
            None,
            "no store with the code or id \"nowhere\"",
        ),
        (
            &["create", "bia", "--role", "waiter"][..],
            None,
            "give at least one --store",
        ),
        (
            &["create", "bia", "--role", "waiter", "--store", "main"][..],
            Some("short"),
            "COMANDA_USER_PASSWORD: must be at least 12",
        ),
        (
            &["disable", "nobody"][..],
            None,
            "no person with the login \"nobody\"",
        ),
        (
            &["create", "owner", "--role", "waiter", "--store", "main"][..],
            Some("a fine passphrase"),
            "already exists",
        ),
    ] {
        let out = user(&d, args, password);
        assert!(!out.status.success(), "{args:?} should fail");
        assert_eq!(out.stderr.lines().count(), 1, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(needle), "{args:?}: {}", out.stderr);
    }
}
