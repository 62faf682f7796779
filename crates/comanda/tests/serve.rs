//! `comanda serve` as a process: first run, both backends, probes during a database
//! outage, graceful shutdown, logs.

mod support;

use comanda_domain::{Login, Secret};
use comanda_store::UserRepo;
use comanda_store_sqlite::{SqliteOptions, SqliteStorage};
use comanda_testkit::{TcpProxy, TestPostgres};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::{Server, comanda, run};
use tempfile::TempDir;

async fn get_json(url: &str) -> (u16, Value) {
    let response = reqwest::get(url).await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

async fn stored_owner(data_dir: &std::path::Path) -> comanda_domain::User {
    let storage = SqliteStorage::open(&SqliteOptions::new(data_dir.join("comanda.db")))
        .await
        .expect("open");
    let owner = storage
        .find_user_by_login(&Login::parse("login", "owner").expect("valid"))
        .await
        .expect("query")
        .expect("owner exists");
    comanda_store::Ops::close(&storage).await;
    owner
}

/// A ready server whose PostgreSQL traffic goes through a proxy the test controls.
async fn serve_postgres_through_proxy() -> Option<(TestPostgres, TcpProxy, TempDir, Server)> {
    let db = TestPostgres::create().await?;
    let proxy = TcpProxy::start(db.server_addr()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = comanda(dir.path());
    cmd.env("COMANDA_DATABASE_URL", db.url_through(proxy.addr));
    let server = Server::start(cmd).await;
    server.wait_ready(Duration::from_secs(10)).await;
    Some((db, proxy, dir, server))
}

fn printed_password(stderr: &str) -> Option<String> {
    stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("password: "))
        .filter(|p| !p.starts_with("as set"))
        .map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_run_serves_health_on_sqlite_and_prints_a_one_time_password_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = Server::start(comanda(dir.path())).await;
    server.wait_ready(Duration::from_secs(10)).await;
    assert!(
        server.url.starts_with("http://127.0.0.1:"),
        "{}",
        server.url
    );

    let (status, health) = get_json(&server.url("/health")).await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["database"]["backend"], "sqlite");
    assert!(
        dir.path().join("comanda.db").exists(),
        "the database lives in the data dir"
    );

    let stderr = server.stderr();
    let password =
        printed_password(&stderr).unwrap_or_else(|| panic!("no password printed:\n{stderr}"));
    assert!(
        !server.stdout().contains(&password),
        "the password is not logged"
    );
    server.signal("TERM");
    assert!(server.wait_exit(Duration::from_secs(10)).await.success());

    let owner = stored_owner(dir.path()).await;
    assert!(
        owner.must_change_password,
        "a generated password must be changed at first sign-in"
    );
    assert!(comanda_server::password::verify(&Secret::new(password), &owner.password_hash).await);

    let mut again = Server::start(comanda(dir.path())).await;
    again.wait_ready(Duration::from_secs(10)).await;
    assert_eq!(
        printed_password(&again.stderr()),
        None,
        "shown once, on the first run only"
    );
    assert!(!again.stderr().contains("first run"));
    again.signal("TERM");
    assert!(again.wait_exit(Duration::from_secs(10)).await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bootstrap_password_can_be_chosen() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = comanda(dir.path());
    cmd.env("COMANDA_BOOTSTRAP_PASSWORD", "a long chosen passphrase")
        .env("COMANDA_BOOTSTRAP_CURRENCY", "BRL")
        .env("COMANDA_BOOTSTRAP_TIMEZONE", "America/Sao_Paulo");
    let mut server = Server::start(cmd).await;
    server.wait_ready(Duration::from_secs(10)).await;
    assert_eq!(printed_password(&server.stderr()), None);
    assert!(!server.stderr().contains("a long chosen passphrase"));
    server.signal("TERM");
    assert!(server.wait_exit(Duration::from_secs(10)).await.success());

    let owner = stored_owner(dir.path()).await;
    assert!(!owner.must_change_password);
    assert!(
        comanda_server::password::verify(
            &Secret::new("a long chosen passphrase"),
            &owner.password_hash
        )
        .await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_health_on_postgres() {
    let Some(db) = TestPostgres::create().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = comanda(dir.path());
    cmd.env("COMANDA_DATABASE_URL", &db.url);
    let mut server = Server::start(cmd).await;
    server.wait_ready(Duration::from_secs(10)).await;
    let (status, health) = get_json(&server.url("/health")).await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["database"]["backend"], "postgres");
    server.signal("TERM");
    assert!(server.wait_exit(Duration::from_secs(10)).await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_turns_503_when_postgres_goes_away_and_recovers() {
    let Some((_db, proxy, _dir, mut server)) = serve_postgres_through_proxy().await else {
        return;
    };

    proxy.kill();
    let cut = Instant::now();
    let (status, body) = loop {
        let (status, body) = get_json(&server.url("/ready")).await;
        // The probe notices by itself (it pings every second); how soon is a figure for
        // the machine it runs on, printed, not asserted.
        if status == 503 || cut.elapsed() > Duration::from_secs(30) {
            break (status, body);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status, 503, "{body}");
    println!(
        "/ready noticed the database was gone after {:?}",
        cut.elapsed()
    );
    assert_eq!(body["status"], "not_ready");
    assert!(
        body["reason"].as_str().is_some_and(|r| !r.is_empty()),
        "{body}"
    );

    let (status, _) = get_json(&server.url("/live")).await;
    assert_eq!(
        status, 200,
        "the process is alive while its database is not"
    );
    let (status, health) = get_json(&server.url("/health")).await;
    assert_eq!(
        (status, health["status"].as_str()),
        (503, Some("unavailable"))
    );
    assert!(server.is_running());

    let _proxy = proxy.revive().await;
    server.wait_ready(Duration::from_secs(10)).await;
    server.signal("TERM");
    assert!(server.wait_exit(Duration::from_secs(10)).await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_postgres_at_start_is_waited_for_not_fatal() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = comanda(dir.path());
    cmd.env(
        "COMANDA_DATABASE_URL",
        format!("postgres://postgres@127.0.0.1:{port}/nowhere"),
    );
    let mut server = Server::start(cmd).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let (status, body) = get_json(&server.url("/ready")).await;
    assert_eq!(status, 503);
    assert!(
        body["reason"]
            .as_str()
            .is_some_and(|r| r.contains("unavailable") || r.contains("refused")),
        "{body}"
    );
    let (status, _) = get_json(&server.url("/live")).await;
    assert_eq!(status, 200);
    let (status, api) = get_json(&server.url("/api/v1")).await;
    assert_eq!(
        (status, api["error"]["code"].as_str()),
        (503, Some("not_ready"))
    );
    assert!(
        server.is_running(),
        "a database outage is not a reason to exit"
    );

    server.signal("TERM");
    assert!(server.wait_exit(Duration::from_secs(10)).await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_connection_cut_in_its_handshake_is_a_503_not_a_500() {
    let Some((_db, proxy, _dir, server)) = serve_postgres_through_proxy().await else {
        return;
    };
    // Every connection cut; once the server has seen it (not ready), the database
    // listens again but cuts each new connection in its handshake.
    proxy.kill();
    let gone = async {
        while get_json(&server.url("/ready")).await.0 != 503 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), gone)
        .await
        .expect("not ready without its database");
    let proxy = proxy.revive().await;
    proxy.cut_handshakes();
    let client = reqwest::Client::new();
    for _ in 0..3 {
        let response = client
            .post(server.url("/api/v1/auth/login"))
            .json(&json!({ "login": "nobody", "password": "whatever it is" }))
            .send()
            .await
            .expect("an answer");
        let status = response.status().as_u16();
        let retry = response.headers().contains_key("retry-after");
        let body: Value = response.json().await.expect("json");
        assert_eq!(
            (status, body["error"]["code"].as_str(), retry),
            (503, Some("storage_unavailable"), true),
            "{body}"
        );
    }
    proxy.resume();
    let ready = async {
        loop {
            if get_json(&server.url("/ready")).await.0 == 200 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), ready)
        .await
        .expect("ready again once handshakes complete");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_slow_request_finish_then_exits_0() {
    let Some((_db, proxy, _dir, mut server)) = serve_postgres_through_proxy().await else {
        return;
    };

    // The database stalls, so /health is slow: it is in flight when SIGTERM arrives.
    proxy.pause();
    let slow = tokio::spawn(reqwest::get(server.url("/health")));
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.signal("TERM");
    tokio::time::sleep(Duration::from_millis(300)).await;

    let addr = server.url.trim_start_matches("http://").to_owned();
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "after SIGTERM no new connections are accepted"
    );
    assert!(
        server.is_running(),
        "the process waits for the request in flight"
    );

    proxy.resume();
    let response = slow
        .await
        .expect("task")
        .expect("the slow request gets its answer");
    assert_eq!(response.status(), 200);
    let health: Value = response.json().await.expect("JSON");
    assert_eq!(health["status"], "ok");

    let status = server.wait_exit(Duration::from_secs(10)).await;
    assert_eq!(
        status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        server.stdout(),
        server.stderr()
    );
    assert!(server.stdout().contains("stopped"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_migration_off_the_server_waits_for_the_operator() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = comanda(dir.path());
    cmd.arg("--log-format").arg("pretty");
    cmd.env("COMANDA_NO_MIGRATE", "true");
    let mut server = Server::start(cmd).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (status, body) = get_json(&server.url("/ready")).await;
    assert_eq!(status, 503);
    assert!(
        body["reason"]
            .as_str()
            .is_some_and(|r| r.contains("pending")),
        "{body}"
    );

    let migrated = run(comanda(dir.path()).arg("migrate"));
    assert!(migrated.status.success(), "{}", migrated.stderr);
    server.wait_ready(Duration::from_secs(10)).await;
    server.signal("TERM");
    assert!(server.wait_exit(Duration::from_secs(10)).await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_the_request_id_on_every_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = comanda(dir.path());
    cmd.env("COMANDA_LOG_FORMAT", "json");
    let mut server = Server::start(cmd).await;
    server.wait_ready(Duration::from_secs(10)).await;
    let response = reqwest::Client::new()
        .get(server.url("/api/v1/missing"))
        .header("x-request-id", "till-7-abc")
        .send()
        .await
        .expect("request");
    assert_eq!(response.headers()["x-request-id"], "till-7-abc");
    tokio::time::sleep(Duration::from_millis(200)).await;

    let stdout = server.stdout();
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    let access = lines
        .iter()
        .find(|l| l["span"]["request_id"] == "till-7-abc")
        .unwrap_or_else(|| panic!("no line with the request id:\n{stdout}"));
    assert_eq!(access["status"], 404);
    assert_eq!(access["span"]["route"], "unmatched");
    assert_eq!(access["level"], "INFO");
    server.signal("INT");
    assert!(server.wait_exit(Duration::from_secs(10)).await.success());
}

/// A client that hangs up mid-request (a tablet losing Wi-Fi, a page navigated away)
/// must not leave its database transaction open: on SQLite that would hold the write
/// lock, and every write after it would wait and fail as "database is locked".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_hanging_up_mid_request_leave_no_transaction_open() {
    let dir = tempfile::tempdir().expect("temp dir");
    let storage = support::prepared(dir.path()).await;
    let store = support::first_store(&storage).await;
    let password = "manager passphrase 1";
    let manager = ("gerente", "Davi", comanda_domain::Role::Manager);
    support::add_staff(&storage, store, manager, password).await;
    comanda_store::Ops::close(&storage).await;
    let server = Server::start(comanda(dir.path())).await;
    server.wait_ready(Duration::from_secs(10)).await;
    let client = reqwest::Client::new();
    let token = support::sign_in_as(&client, &server, "gerente", password).await;
    let url = server.url(&format!("/api/v1/stores/{store}/catalog/products"));
    let product = |name: String| serde_json::json!({ "name": name, "variants": [{ "price": { "amount": 500, "currency": "BRL" } }] });
    let started = Instant::now();
    let first = client
        .post(&url)
        .bearer_auth(&token)
        .json(&product("first".into()))
        .send()
        .await
        .expect("create");
    assert_eq!(first.status(), 201);
    let whole = started.elapsed().max(Duration::from_millis(2));

    // Hang-ups spread over the whole of a write, four at a time.
    let tries = 120u32;
    let mut hangups = tokio::task::JoinSet::new();
    for i in 0..tries {
        let request = client
            .post(&url)
            .bearer_auth(&token)
            .json(&product(format!("gone {i}")))
            .timeout(whole * (i % 40) / 40);
        hangups.spawn(async move {
            let _ = request.send().await;
        });
        if hangups.len() >= 4 {
            hangups.join_next().await;
        }
    }
    while hangups.join_next().await.is_some() {}

    for i in 0..5 {
        let started = Instant::now();
        let response = client
            .post(&url)
            .bearer_auth(&token)
            .json(&product(format!("after {i}")))
            .send()
            .await
            .expect("create");
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        // A connection left inside a transaction would make this wait out the busy
        // timeout and fail: the status says so, whatever the machine's speed.
        assert_eq!(status, 201, "{body}\n{}", server.stdout());
        println!("write {i} after the hang-ups: {:?}", started.elapsed());
    }
    let log = server.stdout();
    assert!(
        !log.contains("transaction depth") && !log.contains("database is locked"),
        "{log}"
    );
}
