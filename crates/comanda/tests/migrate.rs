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

/// The migration that keeps answers under a digest of their caller and key.
const ANSWERS_BY_DIGEST: i64 = 20261207000007;

/// `all` without the migrations from `version` on: a database as the release before
/// them left it.
fn migrations_before(mut all: sqlx::migrate::Migrator, version: i64) -> sqlx::migrate::Migrator {
    let earlier: Vec<_> = all
        .migrations
        .iter()
        .filter(|m| m.version < version)
        .cloned()
        .collect();
    all.migrations = earlier.into();
    all
}

/// Answers as the release before kept them: by caller and key as text, the whole
/// SHA-256 of the request, NULL for the usual headers. One finished with the usual
/// headers, one with a `Location`, one still running.
const KEPT_BY_NAME: &str =
    "INSERT INTO idempotency_keys (scope, key, request_hash, status, headers, body, created_at, lease_until, expires_at)
     VALUES ('user:0b1f6d4e-5c1a-4f8e-9d2b-7a3c4e5f6a7b', 'open-table-4', $1, 201, NULL, $2, 1, 2, 4102444800000),
            ('key:5d2e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f', 'f00d', $1, 201, '[[\"location\",\"/x\"]]', $2, 1, 2, 4102444800000),
            ('user:0b1f6d4e-5c1a-4f8e-9d2b-7a3c4e5f6a7b', 'still-running', $1, NULL, NULL, NULL, 1, 2, 4102444800000)";

/// Brings `pool`'s database to the release before [`ANSWERS_BY_DIGEST`] with `migrator`,
/// keeps [`KEPT_BY_NAME`] in it, and closes it.
macro_rules! as_the_release_before {
    ($pool:expr, $migrator:expr) => {{
        migrations_before($migrator, ANSWERS_BY_DIGEST)
            .run(&$pool)
            .await
            .expect("the release before");
        sqlx::query(KEPT_BY_NAME)
            .bind(vec![7u8; 32])
            .bind(br#"{"id":"first"}"#.to_vec())
            .execute(&$pool)
            .await
            .expect("kept answers");
        $pool.close().await;
    }};
}

/// A retry sent across the upgrade still gets its first answer: the answers kept before
/// move over under their digest (computed by SQL on PostgreSQL, by the binary on
/// SQLite, the same digest both ways), the usual headers stay usual, and a claim that
/// was still running is let go.
async fn answers_kept_before_move_over(storage: &dyn comanda_store::Storage) {
    use comanda_store::{ClaimOutcome, IdempotencyClaim, StoredResponse};
    let now = chrono::Utc::now();
    let claim = |scope: &str, key: &str, hash: Vec<u8>| IdempotencyClaim {
        scope: scope.into(),
        key: key.into(),
        request_hash: hash,
        lease_until: now,
        expires_at: now,
    };
    let user = "user:0b1f6d4e-5c1a-4f8e-9d2b-7a3c4e5f6a7b";
    let json = |headers: Vec<(&str, &str)>| StoredResponse {
        status: 201,
        headers: headers
            .into_iter()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect(),
        body: br#"{"id":"first"}"#.to_vec(),
    };
    let first = claim(user, "open-table-4", vec![7; 16]);
    assert_eq!(
        storage
            .peek_idempotency_key(&first, now)
            .await
            .expect("peek"),
        ClaimOutcome::Replay(json(vec![("content-type", "application/json")]))
    );
    assert_eq!(
        storage
            .peek_idempotency_key(&claim(user, "open-table-4", vec![8; 16]), now)
            .await
            .expect("peek"),
        ClaimOutcome::Mismatch,
        "another request under the same key is still told apart"
    );
    let by_key = claim(
        "key:5d2e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
        "f00d",
        vec![7; 16],
    );
    assert_eq!(
        storage
            .peek_idempotency_key(&by_key, now)
            .await
            .expect("peek"),
        ClaimOutcome::Replay(json(vec![("location", "/x")]))
    );
    assert_eq!(
        storage
            .peek_idempotency_key(&claim(user, "still-running", vec![7; 16]), now)
            .await
            .expect("peek"),
        ClaimOutcome::Claimed
    );
}

#[tokio::test]
async fn answers_kept_before_the_digest_are_replayed_after_it_on_sqlite() {
    use comanda_store::Ops;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("comanda.db");
    let url = format!("sqlite://{}", file.display());
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&file)
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.expect("open");
    as_the_release_before!(pool, sqlx::migrate!("../store-sqlite/migrations"));

    let migrated = run(comanda(dir.path())
        .env("COMANDA_DATABASE_URL", &url)
        .arg("migrate"));
    assert!(migrated.status.success(), "{}", migrated.stderr);
    let storage = comanda_store_sqlite::SqliteStorage::open(
        &comanda_store_sqlite::SqliteOptions::new(file.clone()),
    )
    .await
    .expect("open");
    answers_kept_before_move_over(&storage).await;
    let left: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE name LIKE 'idempotency_keys%' ORDER BY name",
    )
    .fetch_all(&sqlx::SqlitePool::connect(&url).await.expect("open"))
    .await
    .expect("tables");
    assert_eq!(
        left.iter().map(|(n,)| n.as_str()).collect::<Vec<_>>(),
        ["idempotency_keys", "idempotency_keys_id"],
        "the table by name is gone once its answers moved"
    );
    storage.close().await;
}

#[tokio::test]
async fn answers_kept_before_the_digest_are_replayed_after_it_on_postgres() {
    let Some(db) = TestPostgres::create().await else {
        return;
    };
    let pool = sqlx::PgPool::connect(&db.url).await.expect("connect");
    as_the_release_before!(pool, sqlx::migrate!("../store-postgres/migrations"));

    let dir = tempfile::tempdir().expect("temp dir");
    let url = db.url.clone();
    let migrated = tokio::task::spawn_blocking(move || {
        run(comanda(dir.path())
            .env("COMANDA_DATABASE_URL", &url)
            .arg("migrate"))
    })
    .await
    .expect("migrate");
    assert!(migrated.status.success(), "{}", migrated.stderr);
    let storage = db.open_migrated().await;
    answers_kept_before_move_over(&*storage).await;
}
