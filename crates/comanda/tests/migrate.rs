//! `comanda migrate` and `comanda migrate --status` on both backends.

mod support;

use comanda_testkit::TestPostgres;
use support::{comanda, run};

fn migrate_lifecycle(data_dir: &std::path::Path, url: &str) {
    let cmd = |args: &[&str]| {
        let mut c = comanda(data_dir);
        c.env("COMANDA_DATABASE_URL", url).args(args);
        run(&mut c)
    };

    let pending = cmd(&["migrate", "--status"]);
    assert_eq!(
        pending.status.code(),
        Some(1),
        "pending migrations exit 1:\n{}",
        pending.stdout
    );
    assert!(pending.stdout.contains("pending"), "{}", pending.stdout);
    assert!(pending.stdout.contains("foundation"));
    assert!(pending.stdout.contains("schema is not current"));

    let applied = cmd(&["migrate"]);
    assert!(applied.status.success(), "{}", applied.stderr);
    let versions: Vec<String> = comanda_store_sqlite::migrations()
        .iter()
        .map(|m| m.version.to_string())
        .collect();
    let expected = format!(
        "applied {} migration(s): {}",
        versions.len(),
        versions.join(", ")
    );
    assert!(applied.stdout.contains(&expected), "{}", applied.stdout);

    let current = cmd(&["migrate", "--status"]);
    assert!(current.status.success(), "{}", current.stdout);
    assert!(current.stdout.contains("applied"));
    assert!(current.stdout.contains("schema is current"));

    let again = cmd(&["migrate"]);
    assert!(again.status.success());
    assert!(
        again.stdout.contains("nothing to apply"),
        "{}",
        again.stdout
    );
}

#[test]
fn migrate_applies_and_reports_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("shop.db").display());
    migrate_lifecycle(dir.path(), &url);
}

#[tokio::test]
async fn migrate_applies_and_reports_on_postgres() {
    let Some(db) = TestPostgres::create().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || migrate_lifecycle(dir.path(), &url))
        .await
        .expect("test body");
}

#[test]
fn migrate_reports_an_unreachable_database_in_one_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut c = comanda(dir.path());
    c.env(
        "COMANDA_DATABASE_URL",
        format!("postgres://postgres@127.0.0.1:{port}/x"),
    );
    let out = run(c.arg("migrate"));
    assert!(!out.status.success());
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr.starts_with("error: database unavailable"),
        "{}",
        out.stderr
    );
}
