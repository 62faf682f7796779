//! `comanda check` before a deploy and `comanda smoke` after it, as an operator runs them.

mod support;

use comanda_store::Ops;
use std::time::Duration;
use support::orders::{PASSWORD, WAITER, seed};
use support::{Server, comanda, prepared, run};

/// The verdict on one row of the PASS/WARN/FAIL table.
fn verdict<'a>(stdout: &'a str, check: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| {
            l.starts_with(&format!("{check} ")) && l[check.len()..].trim_start().len() < l.len()
        })
        .and_then(|l| l[check.len()..].split_whitespace().next())
        .unwrap_or_else(|| panic!("no {check} row in\n{stdout}"))
}

#[tokio::test]
async fn check_passes_a_sound_setup_and_fails_what_production_forbids() {
    let dir = tempfile::tempdir().expect("temp dir");
    prepared(dir.path()).await.close().await;
    let check = |extra: &[&str]| {
        run(comanda(dir.path())
            .arg("check")
            .args(["--listen", "127.0.0.1:0"])
            .args(extra))
    };

    let out = check(&[]);
    assert!(out.status.success(), "{}{}", out.stdout, out.stderr);
    for row in [
        "configuration",
        "secrets",
        "data directory",
        "port",
        "secret key",
        "database",
        "migrations",
        "clock",
        "secrets at rest",
    ] {
        assert_eq!(verdict(&out.stdout, row), "PASS", "{row}:\n{}", out.stdout);
    }
    // Under a tenth of the disk free is a warning about the machine the test runs on,
    // not about comanda: only a failure would be wrong here.
    assert!(
        matches!(verdict(&out.stdout, "disk space"), "PASS" | "WARN"),
        "{}",
        out.stdout
    );
    assert_eq!(verdict(&out.stdout, "backup"), "WARN", "{}", out.stdout);

    let production = check(&["--production"]);
    assert!(!production.status.success(), "{}", production.stdout);
    assert_eq!(verdict(&production.stdout, "secrets"), "FAIL");
    assert!(
        production.stdout.contains("production runs on PostgreSQL"),
        "{}",
        production.stdout
    );
    assert_eq!(verdict(&production.stdout, "backup"), "FAIL");

    let backup = run(comanda(dir.path()).arg("backup"));
    assert!(backup.status.success(), "{}", backup.stderr);
    let out = check(&[]);
    assert_eq!(verdict(&out.stdout, "backup"), "PASS", "{}", out.stdout);

    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let out = run(comanda(dir.path()).args(["check", "--listen", &addr]));
    assert!(!out.status.success());
    assert_eq!(verdict(&out.stdout, "port"), "FAIL", "{}", out.stdout);

    let weak = run(comanda(dir.path())
        .env("COMANDA_BOOTSTRAP_PASSWORD", "short")
        .args(["check", "--listen", "127.0.0.1:0", "--production"]));
    assert!(
        weak.stdout.contains("COMANDA_BOOTSTRAP_PASSWORD"),
        "{}",
        weak.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_signs_in_reads_the_menu_and_opens_and_cancels_an_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    let storage = prepared(dir.path()).await;
    let (store, _) = seed(&storage).await;
    storage.close().await;
    let server = Server::start(comanda(dir.path())).await;
    server.wait_ready(Duration::from_secs(20)).await;
    let smoke = |password: &str, extra: &[&str]| {
        run(comanda(dir.path())
            .env("COMANDA_SMOKE_LOGIN", WAITER)
            .env("COMANDA_SMOKE_PASSWORD", password)
            .args(["smoke", &server.url, "--store", "main"])
            .args(extra))
    };

    let out = smoke(PASSWORD, &[]);
    assert!(out.status.success(), "{}{}", out.stdout, out.stderr);
    for row in [
        "live", "health", "ready", "metrics", "login", "store", "catalog", "order", "cancel",
    ] {
        assert_eq!(verdict(&out.stdout, row), "PASS", "{row}:\n{}", out.stdout);
    }
    // The test order is in the store's log, cancelled.
    let client = reqwest::Client::new();
    let token = support::orders::sign_in(&client, &server).await;
    let orders: serde_json::Value = client
        .get(server.url(&format!("/api/v1/stores/{store}/orders?status=cancelled")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let items = orders["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{orders}");
    assert_eq!(items[0]["notes"], "comanda smoke test");

    let out = smoke("not the password", &[]);
    assert!(!out.status.success());
    assert_eq!(verdict(&out.stdout, "login"), "FAIL", "{}", out.stdout);
    assert_eq!(verdict(&out.stdout, "ready"), "PASS");

    let out = smoke(PASSWORD, &["--probes-only"]);
    assert!(out.status.success(), "{}", out.stdout);
    assert!(!out.stdout.contains("login"), "{}", out.stdout);
    drop(server);

    let out = run(comanda(dir.path()).args([
        "smoke",
        "http://127.0.0.1:9",
        "--probes-only",
        "--timeout-secs",
        "2",
    ]));
    assert!(!out.status.success());
    assert_eq!(verdict(&out.stdout, "live"), "FAIL", "{}", out.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_takes_scheduled_backups_and_prunes_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    prepared(dir.path()).await.close().await;
    let mut cmd = comanda(dir.path());
    cmd.env("COMANDA_BACKUP_INTERVAL", "1s")
        .env("COMANDA_BACKUP_KEEP_DAILY", "1")
        .env("COMANDA_BACKUP_KEEP_WEEKLY", "0")
        .env("COMANDA_BACKUP_KEEP_MONTHLY", "0");
    let server = Server::start(cmd).await;
    server.wait_ready(Duration::from_secs(20)).await;
    let backups = dir.path().join("backups");
    let tars = || -> Vec<String> {
        std::fs::read_dir(&backups)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".tar"))
                    .collect()
            })
            .unwrap_or_default()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while server.stderr().matches("scheduled backup written").count()
        + server.stdout().matches("scheduled backup written").count()
        < 3
    {
        assert!(
            std::time::Instant::now() < deadline,
            "three scheduled backups within 20 s:\n{}",
            server.stdout()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let kept = tars();
    assert_eq!(kept.len(), 1, "pruned to the newest of the day: {kept:?}");
    let out = run(comanda(dir.path()).args(["backup", "list"]));
    assert!(out.stdout.contains(&kept[0]), "{}", out.stdout);
}

/// What a newer release's migrations did to the SQLite database in `dir`.
async fn newer_release_ran(dir: &std::path::Path, statements: &[&str]) {
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!(
        "sqlite://{}",
        dir.join("comanda.db").display()
    ))
    .await
    .expect("connect");
    for statement in statements {
        sqlx::query(statement)
            .execute(&mut conn)
            .await
            .expect(statement);
    }
    sqlx::Connection::close(conn).await.expect("close");
}

/// A rollback, or the old pods of a rolling update: this binary against a schema a newer
/// release has expanded (a column and a migration it does not know) keeps serving orders.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn this_release_keeps_serving_after_a_newer_release_expanded_the_schema() {
    let dir = tempfile::tempdir().expect("temp dir");
    let storage = prepared(dir.path()).await;
    let (store, product) = seed(&storage).await;
    storage.close().await;
    newer_release_ran(
        dir.path(),
        &[
            "ALTER TABLE orders ADD COLUMN loyalty_card TEXT",
            "CREATE TABLE loyalty_cards (id TEXT PRIMARY KEY, points INTEGER NOT NULL DEFAULT 0)",
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (29991231000001, 'loyalty cards', 1, x'00', 0)",
        ],
    )
    .await;

    let status = run(comanda(dir.path()).args(["migrate", "--status"]));
    assert!(
        status.stdout.contains("29991231000001"),
        "{}",
        status.stdout
    );
    assert!(status.stdout.contains("newer"), "{}", status.stdout);
    let server = Server::start(comanda(dir.path())).await;
    server.wait_ready(Duration::from_secs(20)).await;
    let client = reqwest::Client::new();
    let token = support::orders::sign_in(&client, &server).await;
    let body = serde_json::json!({ "kind": "counter", "lines": [{ "product_id": product, "quantity": 2 }] });
    let opened = support::orders::open(
        &client,
        &server.url(&format!("/api/v1/stores/{store}/orders")),
        &token,
        "after-expand",
        &body,
    )
    .await;
    assert!(matches!(opened, Some((201, _))), "{opened:?}");
}

/// A rollback past a migration that changed how data is stored: this binary cannot read
/// what the newer release wrote, so it says so and stays not-ready instead of failing on
/// every order written since.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn this_release_refuses_a_schema_a_newer_release_changed_one_way() {
    let dir = tempfile::tempdir().expect("temp dir");
    let storage = prepared(dir.path()).await;
    storage.close().await;
    newer_release_ran(
        dir.path(),
        &["INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
           VALUES (29991231000002, 'new value format one way', 1, x'00', 0)"],
    )
    .await;

    let status = run(comanda(dir.path()).args(["migrate", "--status"]));
    assert!(!status.status.success(), "{}", status.stdout);
    assert!(
        status.stdout.contains("29991231000002") && status.stdout.contains("ONE-WAY"),
        "{}",
        status.stdout
    );
    assert!(status.stdout.contains("cannot read"), "{}", status.stdout);

    let server = Server::start(comanda(dir.path())).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let body = loop {
        let ready = reqwest::get(server.url("/ready")).await.expect("ready");
        assert_ne!(ready.status(), 200, "served a schema it cannot read");
        let body = ready.text().await.expect("body");
        if body.contains("cannot read") {
            break body;
        }
        assert!(std::time::Instant::now() < deadline, "{body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(body.contains("29991231000002"), "{body}");
}

/// The server gives memory back to the system when it is freed (an idle server after
/// first-run setup held Argon2's 19 MiB otherwise): it runs with the allocator options
/// that do that, and keeps an operator's own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_runs_with_its_allocator_options_and_keeps_the_operators() {
    let environment = |pid: u32| {
        let raw = std::fs::read(format!("/proc/{pid}/environ")).expect("environ");
        format!("\n{}\n", String::from_utf8_lossy(&raw).replace('\0', "\n"))
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(comanda(dir.path())).await;
    let env = environment(server.pid());
    assert!(env.contains("\nMIMALLOC_PURGE_DELAY=0\n"), "{env}");
    assert!(env.contains("\nMIMALLOC_ARENA_EAGER_COMMIT=0\n"), "{env}");
    server.wait_ready(Duration::from_secs(20)).await;
    drop(server);

    let mut own = comanda(dir.path());
    own.env("MIMALLOC_PURGE_DELAY", "5");
    let server = Server::start(own).await;
    let env = environment(server.pid());
    assert!(env.contains("\nMIMALLOC_PURGE_DELAY=5\n"), "{env}");
    assert!(env.contains("\nMIMALLOC_ARENA_EAGER_COMMIT=0\n"), "{env}");
    server.wait_ready(Duration::from_secs(20)).await;
}
