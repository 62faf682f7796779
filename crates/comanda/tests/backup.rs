//! `comanda backup` and `comanda restore` as an operator runs them: a backup taken while
//! terminals take orders restores elsewhere with every order acknowledged before it
//! started and intact audit chains; a damaged or too-new backup is refused with nothing
//! replaced; pruning keeps the daily, weekly and monthly backups the policy names.

mod support;

use comanda_domain::{ProductId, StoreId};
use comanda_store::Ops;
use comanda_testkit::TestPostgres;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::orders::{bootstrap_postgres, open, seed, sign_in};
use support::{Server, comanda, prepared, run};

fn backups_in(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.expect("entry").path())
                .filter(|p| p.extension().is_some_and(|e| e == "tar"))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_load_restores_every_acknowledged_order_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let live = dir.path().join("live");
    let storage = prepared(&live).await;
    let (store, product) = seed(&storage).await;
    storage.close().await;
    let elsewhere = dir.path().join("elsewhere");
    backup_under_load(
        &|| comanda(&live),
        &|| comanda(&elsewhere),
        store,
        product,
        &dir.path().join("backups"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_load_restores_every_acknowledged_order_on_postgres() {
    let (Some(db), Some(target)) = (TestPostgres::create().await, TestPostgres::create().await)
    else {
        return;
    };
    let storage = bootstrap_postgres(&db).await;
    let (store, product) = seed(&*storage).await;
    storage.close().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().to_owned();
    let with_url = |url: String| {
        let path = path.clone();
        move || {
            let mut cmd = comanda(&path);
            cmd.env("COMANDA_DATABASE_URL", &url);
            cmd
        }
    };
    backup_under_load(
        &with_url(db.url.clone()),
        &with_url(target.url.clone()),
        store,
        product,
        &dir.path().join("backups"),
    )
    .await;
}

/// Terminals open orders; `comanda backup` runs meanwhile; the backup is restored into
/// another database, where every order acknowledged before the backup started must be
/// and the audit chains must verify.
async fn backup_under_load(
    live: &dyn Fn() -> Command,
    elsewhere: &dyn Fn() -> Command,
    store: StoreId,
    product: ProductId,
    backups: &Path,
) {
    let server = Server::start(live()).await;
    server.wait_ready(Duration::from_secs(20)).await;
    let client = reqwest::Client::new();
    let token = sign_in(&client, &server).await;
    let orders_url = server.url(&format!("/api/v1/stores/{store}/orders"));
    let acknowledged: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut terminals = Vec::new();
    for t in 0..4 {
        let (client, url, token) = (client.clone(), orders_url.clone(), token.clone());
        let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
        terminals.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let body = json!({ "kind": "counter", "lines": [{ "product_id": product, "quantity": 1 }] });
                if let Some((201, order)) = open(&client, &url, &token, &format!("b{t}-{n}"), &body).await {
                    let id = order["id"].as_str().expect("id").to_owned();
                    acknowledged.lock().expect("lock").push((Instant::now(), id));
                }
            }
        }));
    }
    // Enough acknowledged orders for the backup to be tested against, however long the
    // machine takes to make them.
    let count = || acknowledged.lock().expect("lock").len();
    wait_for("21 acknowledged orders", || count() > 20).await;
    let started = Instant::now();
    let mut cmd = live();
    cmd.args(["backup", "--to"]).arg(backups);
    let backup = tokio::task::spawn_blocking(move || run(&mut cmd))
        .await
        .expect("backup ran");
    assert!(
        backup.status.success(),
        "backup: {}{}",
        backup.stdout,
        backup.stderr
    );
    let during = count();
    wait_for("an order acknowledged after the backup", || {
        count() > during
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    for terminal in terminals {
        terminal.await.expect("terminal");
    }
    drop(server);
    let acknowledged = acknowledged.lock().expect("lock").clone();
    let before: Vec<&String> = acknowledged
        .iter()
        .filter(|(at, _)| *at < started)
        .map(|(_, id)| id)
        .collect();
    assert!(
        before.len() > 20,
        "the load ran: {} orders before the backup",
        before.len()
    );
    assert!(
        acknowledged.len() > before.len(),
        "orders went on during the backup"
    );

    let file = backups_in(backups).pop().expect("a backup file");
    let restored = run(elsewhere().arg("restore").arg(&file));
    assert!(
        restored.status.success(),
        "restore: {}{}",
        restored.stdout,
        restored.stderr
    );
    assert!(
        restored.stdout.contains("audit chains"),
        "{}",
        restored.stdout
    );
    let verified = run(elsewhere().args(["audit", "verify"]));
    assert!(verified.status.success(), "{}", verified.stdout);
    assert!(
        verified.stdout.contains("chain intact"),
        "{}",
        verified.stdout
    );

    let server = Server::start(elsewhere()).await;
    server.wait_ready(Duration::from_secs(20)).await;
    let token = sign_in(&client, &server).await;
    let orders_url = server.url(&format!("/api/v1/stores/{store}/orders"));
    for id in before {
        let r = client
            .get(format!("{orders_url}/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("get");
        assert_eq!(
            r.status().as_u16(),
            200,
            "order {id}, acknowledged before the backup, is restored"
        );
    }
}

/// A store database with a backup of it.
async fn backed_up(dir: &Path) -> (PathBuf, PathBuf) {
    let live = dir.join("live");
    prepared(&live).await.close().await;
    let out = run(comanda(&live).arg("backup"));
    assert!(out.status.success(), "{}", out.stderr);
    let file = backups_in(&live.join("backups")).pop().expect("backup");
    (live, file)
}

fn flip_byte(file: &Path, at: u64) {
    let mut bytes = std::fs::read(file).expect("read");
    let at = usize::try_from(at).expect("offset");
    bytes[at] ^= 0x5a;
    std::fs::write(file, bytes).expect("write");
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_damaged_backup_is_refused_and_nothing_is_replaced() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (live, file) = backed_up(dir.path()).await;
    let db = live.join("comanda.db");
    let before = std::fs::read(&db).expect("db");
    let files_before = listing(&live);
    let backups_before = listing(&live.join("backups"));
    let len = std::fs::metadata(&file).expect("size").len();

    // One byte in the middle of the database image: the whole-file checksum says so.
    let damaged = dir.path().join("damaged.tar");
    std::fs::copy(&file, &damaged).expect("copy");
    let mut sums = damaged.as_os_str().to_owned();
    sums.push(".sha256");
    let text = std::fs::read_to_string(format!("{}.sha256", file.display())).expect("sums");
    let sha = text.split_whitespace().next().expect("sha");
    std::fs::write(&sums, format!("{sha}  damaged.tar\n")).expect("sums");
    flip_byte(&damaged, len / 2);
    let out = run(comanda(&live).arg("restore").arg(&damaged));
    assert!(!out.status.success());
    assert!(
        out.stderr.contains("is damaged: its SHA-256 is"),
        "{}",
        out.stderr
    );

    // Without the checksum file, the image's own checksum in the manifest catches it.
    std::fs::remove_file(&sums).expect("remove");
    let out = run(comanda(&live).arg("restore").arg(&damaged));
    assert!(!out.status.success());
    assert!(
        out.stderr.contains("the database image in"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("is damaged"), "{}", out.stderr);

    // A damaged manifest is refused before anything else.
    std::fs::copy(&file, &damaged).expect("copy");
    flip_byte(&damaged, 600);
    let out = run(comanda(&live).arg("restore").arg(&damaged));
    assert!(!out.status.success(), "{}", out.stdout);
    assert!(out.stderr.contains("manifest"), "{}", out.stderr);

    assert_eq!(
        std::fs::read(&db).expect("db"),
        before,
        "the database is untouched"
    );
    // The lock file is the server's too, and stays; nothing else may.
    let unlocked = |names: Vec<String>| -> Vec<String> {
        names
            .into_iter()
            .filter(|n| !n.ends_with(".lock"))
            .collect()
    };
    assert_eq!(
        unlocked(listing(&live)),
        unlocked(files_before),
        "no restore leftovers"
    );
    assert_eq!(
        listing(&live.join("backups")),
        backups_before,
        "no pre-restore backup"
    );

    // The intact backup restores over the live database, keeping a backup of it first.
    let out = run(comanda(&live).arg("restore").arg(&file));
    assert!(out.status.success(), "{}{}", out.stdout, out.stderr);
    let pre: Vec<String> = listing(&live.join("backups"))
        .into_iter()
        .filter(|n| n.ends_with("-pre-restore.tar"))
        .collect();
    assert_eq!(pre.len(), 1, "{pre:?}");
}

#[tokio::test]
async fn a_backup_from_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let live = dir.path().join("live");
    let storage = prepared(&live).await;
    storage.close().await;
    // What a newer release leaves behind: a migration this binary does not know.
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!(
        "sqlite://{}",
        live.join("comanda.db").display()
    ))
    .await
    .expect("connect");
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (29991231000001, 'from the future', 1, x'00', 0)",
    )
    .execute(&mut conn)
    .await
    .expect("insert");
    sqlx::Connection::close(conn).await.expect("close");
    let out = run(comanda(&live).arg("backup"));
    assert!(out.status.success(), "{}", out.stderr);
    let file = backups_in(&live.join("backups")).pop().expect("backup");
    let elsewhere = dir.path().join("elsewhere");
    let out = run(comanda(&elsewhere).arg("restore").arg(&file));
    assert!(!out.status.success());
    assert!(
        out.stderr
            .contains("comes from a newer schema (29991231000001)"),
        "{}",
        out.stderr
    );
    assert!(!elsewhere.join("comanda.db").exists(), "nothing restored");
}

#[tokio::test]
async fn restore_refuses_while_a_server_runs_on_the_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (live, file) = backed_up(dir.path()).await;
    let server = Server::start(comanda(&live)).await;
    server.wait_ready(Duration::from_secs(20)).await;
    let out = run(comanda(&live).arg("restore").arg(&file));
    assert!(!out.status.success());
    assert!(
        out.stderr.contains("in use by a running comanda"),
        "{}",
        out.stderr
    );
    drop(server);
}

/// Daily backups at 03:00 from 2024-01-01 to 2026-11-30, a second one at 15:00 on the
/// last day, and one marked to keep in 2024. The defaults keep 30 days, 13 weeks, 12
/// months: 30 days of November, 7 more Sundays (weeks), 11 more month-ends, the marked
/// one.
#[test]
fn prune_keeps_daily_weekly_and_monthly_backups() {
    use chrono::NaiveDate;
    let dir = tempfile::tempdir().expect("temp dir");
    let backups = dir.path().join("backups");
    std::fs::create_dir_all(&backups).expect("dir");
    let mut day = NaiveDate::from_ymd_opt(2024, 1, 1).expect("date");
    let last = NaiveDate::from_ymd_opt(2026, 11, 30).expect("date");
    let mut made = 0;
    while day <= last {
        let name = format!("comanda-{}T030000Z-sqlite.tar", day.format("%Y%m%d"));
        std::fs::write(backups.join(&name), b"").expect("write");
        std::fs::write(backups.join(format!("{name}.sha256")), b"").expect("write");
        made += 1;
        day = day.succ_opt().expect("next day");
    }
    for name in [
        "comanda-20261130T150000Z-sqlite.tar",
        "comanda-20240315T120000Z-sqlite-keep.tar",
        "notes.txt",
    ] {
        std::fs::write(backups.join(name), b"").expect("write");
    }
    assert_eq!(made, 1065);
    let exists = |name: &str| backups.join(name).exists();
    let tars = || {
        listing(&backups)
            .into_iter()
            .filter(|n| n.ends_with(".tar"))
            .count()
    };

    let dry = run(comanda(dir.path()).args(["backup", "prune", "--dry-run"]));
    assert!(dry.status.success(), "{}", dry.stderr);
    assert!(
        dry.stdout.contains("49 kept, 1018 to delete"),
        "{}",
        dry.stdout
    );
    assert_eq!(tars(), 1067, "a dry run deletes nothing");

    let out = run(comanda(dir.path()).args(["backup", "prune"]));
    assert!(out.status.success(), "{}", out.stderr);
    assert_eq!(tars(), 49);
    for kept in [
        "comanda-20261130T150000Z-sqlite.tar", // newest of the day
        "comanda-20261101T030000Z-sqlite.tar", // 30th day
        "comanda-20261025T030000Z-sqlite.tar", // a Sunday: newest of its week
        "comanda-20260913T030000Z-sqlite.tar", // 13th week
        "comanda-20261031T030000Z-sqlite.tar", // newest of October
        "comanda-20251231T030000Z-sqlite.tar", // 12th month
        "comanda-20240315T120000Z-sqlite-keep.tar",
    ] {
        assert!(exists(kept), "{kept} kept");
    }
    for gone in [
        "comanda-20261130T030000Z-sqlite.tar", // not the newest of its day
        "comanda-20261030T030000Z-sqlite.tar",
        "comanda-20260906T030000Z-sqlite.tar", // 14th week
        "comanda-20251130T030000Z-sqlite.tar", // 13th month
        "comanda-20240315T030000Z-sqlite.tar",
    ] {
        assert!(!exists(gone), "{gone} deleted");
    }
    assert!(
        !exists("comanda-20261030T030000Z-sqlite.tar.sha256"),
        "its checksum file too"
    );
    assert!(exists("comanda-20261031T030000Z-sqlite.tar.sha256"));
    assert!(exists("notes.txt"), "other files are left alone");
    // Pruning again changes nothing.
    let again = run(comanda(dir.path()).args(["backup", "prune"]));
    assert!(
        again.stdout.contains("49 kept, 0 deleted"),
        "{}",
        again.stdout
    );
}

/// Waits until `done` holds; a minute is a machine that has stopped, not a slow one.
async fn wait_for(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "waited a minute for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
