//! TOTP secrets at rest, as an operator lives with them on both backends: what the
//! database (and so every backup) holds is sealed under the configured key, never the
//! secret; a secret stored in plain text by an older release is sealed at the next start;
//! a key is rotated by naming the old one as previous for a restart; a server without the
//! key that sealed a secret says so (`comanda check` fails) and still lets its owner in
//! with a recovery code.

mod support;

use comanda_server::auth::totp;
use comanda_server::auth::vault::SealingKey;
use comanda_store::Ops;
use comanda_testkit::TestPostgres;
use serde_json::{Value, json};
use sqlx::Connection;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use support::orders::bootstrap_postgres;
use support::{Server, TEST_SECRET_KEY, comanda, prepared, run};

const OLD_KEY: &str = TEST_SECRET_KEY;
const NEW_KEY: &str = "bmV3IGtleSBmb3Igc2VjcmV0cyBhdCByZXN0LCAzMmI=";
const LOST_KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const OWNER_PASSWORD: &str = "owner passphrase 1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totp_secrets_are_sealed_resealed_and_rotated_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    prepared(dir.path()).await.close().await;
    let url = format!("sqlite://{}", dir.path().join("comanda.db").display());
    lifecycle(dir.path(), None, &url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totp_secrets_are_sealed_resealed_and_rotated_on_postgres() {
    let Some(db) = TestPostgres::create().await else {
        return;
    };
    bootstrap_postgres(&db).await.close().await;
    let dir = tempfile::tempdir().expect("temp dir");
    lifecycle(dir.path(), Some(&db.url), &db.url).await;
}

/// `comanda` on this database with `key` (and `previous` keys).
fn with_keys(dir: &Path, database: Option<&str>, key: &str, previous: Option<&str>) -> Command {
    let mut cmd = comanda(dir);
    if let Some(url) = database {
        cmd.env("COMANDA_DATABASE_URL", url);
    }
    cmd.env("COMANDA_SECRET_KEY", key);
    if let Some(previous) = previous {
        cmd.env("COMANDA_SECRET_KEY_PREVIOUS", previous);
    }
    cmd
}

/// One column of the owner's row, as the database holds it.
async fn owners(url: &str, column: &str) -> String {
    let query = format!("SELECT {column} FROM users WHERE login = 'owner'");
    let value: Option<String> = if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.expect("connect");
        sqlx::query_scalar(&query).fetch_one(&mut conn).await
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
        sqlx::query_scalar(&query).fetch_one(&mut conn).await
    }
    .expect("owner");
    value.unwrap_or_else(|| panic!("no {column}"))
}

async fn stored_secret(url: &str) -> String {
    owners(url, "totp_secret").await
}

async fn store_plain(url: &str, secret: &str) {
    // As an older release left it, with no time step used yet under this secret.
    let query = "UPDATE users SET totp_secret = $1, totp_last_step = NULL WHERE login = 'owner'";
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.expect("connect");
        sqlx::query(query)
            .bind(secret)
            .execute(&mut conn)
            .await
            .map(|_| ())
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
        sqlx::query(query)
            .bind(secret)
            .execute(&mut conn)
            .await
            .map(|_| ())
    }
    .expect("update");
}

async fn post(server: &Server, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
    let mut request = reqwest::Client::new().post(server.url(path)).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn sign_in(server: &Server, code: &str) -> (u16, Value) {
    let body = json!({ "login": "owner", "password": OWNER_PASSWORD, "totp": code });
    post(server, "/api/v1/auth/login", None, body).await
}

fn code(secret: &str, steps_ahead: i64) -> String {
    let secret = comanda_domain::Secret::new(secret);
    let step = totp::step_at(comanda_domain::clock::now().timestamp()) + steps_ahead;
    format!("{:06}", totp::code_at(&secret, step).expect("valid"))
}

fn sealed_with(value: &str, key: &str) -> bool {
    let id = SealingKey::parse(key).expect("key").id().to_owned();
    value.starts_with(&format!("sealed:v1:{id}:"))
}

async fn lifecycle(dir: &Path, database: Option<&str>, url: &str) {
    // Enrolment, as the owner's first sign-in demands.
    let server = Server::start(with_keys(dir, database, OLD_KEY, None)).await;
    server.wait_ready(Duration::from_secs(20)).await;
    let (status, body) = post(
        &server,
        "/api/v1/auth/login",
        None,
        json!({ "login": "owner", "password": OWNER_PASSWORD }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().expect("token").to_owned();
    let (status, enrolment) = post(&server, "/api/v1/me/totp", Some(&token), json!({})).await;
    assert_eq!(status, 200, "{enrolment}");
    let secret = enrolment["secret"].as_str().expect("secret").to_owned();
    let pending = owners(url, "totp_pending_secret").await;
    assert!(
        sealed_with(&pending, OLD_KEY) && !pending.contains(&secret),
        "a pending enrolment is sealed too: {pending}"
    );
    let (status, confirmed) = post(
        &server,
        "/api/v1/me/totp/confirm",
        Some(&token),
        json!({ "code": code(&secret, 0) }),
    )
    .await;
    assert_eq!(status, 200, "{confirmed}");
    let recovery: Vec<String> = confirmed["recovery_codes"]
        .as_array()
        .expect("codes")
        .iter()
        .filter_map(|c| c.as_str().map(str::to_owned))
        .collect();
    drop(server);
    let stored = stored_secret(url).await;
    assert!(sealed_with(&stored, OLD_KEY), "{stored}");
    assert!(
        !stored.contains(&secret),
        "the database never holds the secret"
    );

    // Rotation: the new key seals, the old one opens what it sealed, for one start.
    let server = Server::start(with_keys(dir, database, NEW_KEY, Some(OLD_KEY))).await;
    server.wait_ready(Duration::from_secs(20)).await;
    let stored = stored_secret(url).await;
    assert!(
        sealed_with(&stored, NEW_KEY),
        "sealed again at start: {stored}"
    );
    assert!(
        server
            .stdout()
            .contains("sealed TOTP secrets under the current key"),
        "{}",
        server.stdout()
    );
    let (status, body) = sign_in(&server, &code(&secret, 1)).await;
    assert_eq!(status, 200, "the same code app still works: {body}");
    drop(server);
    let server = Server::start(with_keys(dir, database, NEW_KEY, None)).await;
    server.wait_ready(Duration::from_secs(20)).await;
    let (status, body) = sign_in(&server, &recovery[0]).await;
    assert_eq!(status, 200, "without the old key: {body}");
    drop(server);

    // A plain secret left by an older release is sealed at the next start.
    store_plain(url, "JBSWY3DPEHPK3PXP").await;
    let server = Server::start(with_keys(dir, database, NEW_KEY, None)).await;
    server.wait_ready(Duration::from_secs(20)).await;
    let stored = stored_secret(url).await;
    assert!(sealed_with(&stored, NEW_KEY), "{stored}");
    let (status, body) = sign_in(&server, &code("JBSWY3DPEHPK3PXP", 0)).await;
    assert_eq!(status, 200, "{body}");
    drop(server);

    // A server without the key that sealed it: check fails, recovery codes still work.
    let out = run(with_keys(dir, database, LOST_KEY, None).arg("check"));
    assert!(!out.status.success(), "{}", out.stdout);
    assert!(
        out.stdout
            .lines()
            .any(|l| l.contains("secrets at rest") && l.contains("FAIL")),
        "{}",
        out.stdout
    );
    let server = Server::start(with_keys(dir, database, LOST_KEY, None)).await;
    server.wait_ready(Duration::from_secs(20)).await;
    assert!(
        server
            .stdout()
            .contains("TOTP secrets this server cannot open"),
        "{}",
        server.stdout()
    );
    let (status, body) = sign_in(&server, &recovery[1]).await;
    assert_eq!(status, 200, "a recovery code needs no key: {body}");
}

/// A store's own server with no key named makes one beside its database, readable by
/// its user only, and keeps it; `check` names it and warns (production fails on it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_named_key_a_sqlite_store_makes_one_in_its_data_dir() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let unnamed = || {
        let mut cmd = comanda(dir.path());
        cmd.env_remove("COMANDA_SECRET_KEY");
        cmd
    };
    let server = Server::start(unnamed()).await;
    server.wait_ready(Duration::from_secs(20)).await;
    drop(server);
    let path = dir.path().join("secret.key");
    let made = std::fs::read_to_string(&path).expect("key file");
    let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "readable by its owner only");
    let id = SealingKey::parse(&made).expect("a key").id().to_owned();
    let server = Server::start(unnamed()).await;
    server.wait_ready(Duration::from_secs(20)).await;
    drop(server);
    assert_eq!(
        std::fs::read_to_string(&path).expect("key file"),
        made,
        "kept"
    );
    let check = run(unnamed().arg("check"));
    let line = check
        .stdout
        .lines()
        .find(|l| l.contains("secret key"))
        .unwrap_or_default()
        .to_owned();
    assert!(
        line.contains("WARN") && line.contains(&id),
        "{}",
        check.stdout
    );
    let production = run(unnamed().args(["check", "--production"]));
    assert!(
        production
            .stdout
            .lines()
            .any(|l| l.contains("secret key") && l.contains("FAIL")),
        "{}",
        production.stdout
    );
}
