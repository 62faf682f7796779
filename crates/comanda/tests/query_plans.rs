//! Query plans at scale, on SQLite and PostgreSQL. The real binary runs an evening's
//! service (floor, orders at tables, the kitchen, payment, lists, reports) with its
//! statement log on, so every query a request made is captured from the outside. Then
//! the database gets 1,000,000 more orders (two log events and a kept answer each) over
//! two stores, written by SQL in seconds, and every captured query that reads a table
//! growing with the orders is explained: first before any statistics exist, then after
//! `ANALYZE`. A plan that scans one of those tables, or reads a store's whole share of
//! one, fails the test. Last, the index of the log by order is dropped and the check
//! must catch the read of an order's events: the test can fail.
//!
//! `COMANDA_PLAN_ORDERS` sets the number of orders for a quicker local run.

mod support;

use comanda_testkit::TestPostgres;
use serde_json::{Value, json};
use sqlx::{Connection, Row};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use support::orders::bootstrap_postgres;
use support::{Server, comanda, prepared, sign_in_as};

/// Tables that grow with every order; the others grow with the menu or the staff.
const GROWING: [&str; 3] = ["orders", "order_events", "idempotency_keys"];
/// Partial indexes hold only what is current (orders in the kitchen), not history.
const PARTIAL: [&str; 1] = ["orders_kitchen"];

fn orders_to_add() -> usize {
    std::env::var("COMANDA_PLAN_ORDERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_queries_stay_bounded_at_a_million_orders_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let storage = prepared(dir.path()).await;
    let stores = two_stores_and_a_manager(&storage).await;
    comanda_store::Ops::close(&storage).await;
    let statements = service(dir.path(), None, &stores).await;
    let url = format!("sqlite://{}", dir.path().join("comanda.db").display());
    let mut db = sqlx::SqliteConnection::connect(&url).await.expect("open");
    sqlite_fill(&mut db, &stores, orders_to_add()).await;
    plans_stay_bounded(&Db::Sqlite(url), &statements).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_queries_stay_bounded_at_a_million_orders_on_postgres() {
    let Some(pg) = TestPostgres::create().await else {
        return;
    };
    let storage = bootstrap_postgres(&pg).await;
    let stores = two_stores_and_a_manager(&*storage).await;
    comanda_store::Ops::close(&*storage).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let statements = service(dir.path(), Some(&pg.url), &stores).await;
    let mut db = sqlx::PgConnection::connect(&pg.url).await.expect("connect");
    postgres_fill(&mut db, &stores, orders_to_add()).await;
    plans_stay_bounded(&Db::Postgres(pg.url.clone()), &statements).await;
}

/// Every statement bounded before statistics exist and after `ANALYZE`; then, without
/// the index of the log by order, the read of an order's events is caught.
async fn plans_stay_bounded(db: &Db, statements: &BTreeMap<String, String>) {
    let unbounded = db.unbounded(statements).await;
    assert!(
        unbounded.is_empty(),
        "without statistics:\n{}",
        unbounded.join("\n")
    );
    db.run("ANALYZE").await;
    let unbounded = db.unbounded(statements).await;
    assert!(
        unbounded.is_empty(),
        "after ANALYZE:\n{}",
        unbounded.join("\n")
    );

    db.run("DROP INDEX order_events_order").await;
    assert!(
        !db.has_index("order_events_order").await,
        "the index is gone"
    );
    let unbounded = db.unbounded(statements).await;
    assert!(
        unbounded.iter().any(|u| u.contains("WHERE order_id = ")),
        "without the index of the log by order, reading an order's events is caught: {unbounded:?}"
    );
    eprintln!("without order_events_order:\n{}", unbounded.join("\n"));
}

/// The database under test, by URL. Each step opens a connection of its own:
/// statements a connection prepared (sqlx keeps them) were seen on SQLite to keep the
/// plans they were made with.
enum Db {
    Sqlite(String),
    Postgres(String),
}

impl Db {
    async fn run(&self, sql: &str) {
        match self {
            Db::Sqlite(url) => {
                let mut db = sqlx::SqliteConnection::connect(url).await.expect("open");
                sqlx::query(sql).execute(&mut db).await.expect(sql);
            }
            Db::Postgres(url) => {
                let mut db = sqlx::PgConnection::connect(url).await.expect("connect");
                sqlx::query(sql).execute(&mut db).await.expect(sql);
            }
        }
    }

    async fn has_index(&self, name: &str) -> bool {
        match self {
            Db::Sqlite(url) => {
                let mut db = sqlx::SqliteConnection::connect(url).await.expect("open");
                sqlx::query_scalar("SELECT count(*) > 0 FROM sqlite_schema WHERE name = ?")
                    .bind(name)
                    .fetch_one(&mut db)
                    .await
                    .expect("schema")
            }
            Db::Postgres(url) => {
                let mut db = sqlx::PgConnection::connect(url).await.expect("connect");
                sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
                    .bind(name)
                    .fetch_one(&mut db)
                    .await
                    .expect("schema")
            }
        }
    }

    async fn unbounded(&self, statements: &BTreeMap<String, String>) -> Vec<String> {
        match self {
            Db::Sqlite(url) => {
                let mut db = sqlx::SqliteConnection::connect(url).await.expect("open");
                sqlite_unbounded(&mut db, statements).await
            }
            Db::Postgres(url) => {
                let mut db = sqlx::PgConnection::connect(url).await.expect("connect");
                postgres_unbounded(&mut db, statements).await
            }
        }
    }
}

// The service, through the API, with the statement log on.

const MANAGER: &str = "gerente";
const PASSWORD: &str = "manager passphrase 9";

/// A second store beside `main`, and a manager of both; the stores' ids.
async fn two_stores_and_a_manager(storage: &dyn comanda_store::Storage) -> Vec<String> {
    use comanda_domain::{DisplayName, Login, NewStore, NewUser, Role, Secret, UserId};
    let main = support::first_store(storage).await;
    let second = NewStore::parse("norte", "Norte", "BRL", "UTC", "pt-BR").expect("valid");
    storage.create_store(&second).await.expect("store");
    storage
        .create_user(&NewUser {
            id: UserId::new(),
            login: Login::parse("login", MANAGER).expect("login"),
            display_name: DisplayName::parse("display_name", "Gerente").expect("name"),
            password_hash: comanda_server::password::hash(&Secret::new(PASSWORD))
                .await
                .expect("hash"),
            role: Role::Manager,
            all_stores: false,
            store_ids: vec![main, second.id],
            must_change_password: false,
            company_id: None,
        })
        .await
        .expect("manager");
    vec![main.to_string(), second.id.to_string()]
}

/// Runs an evening in each store through the real binary; every statement it ran that
/// touches a growing table, with the route that ran it.
async fn service(
    dir: &Path,
    database: Option<&str>,
    stores: &[String],
) -> BTreeMap<String, String> {
    let mut cmd: Command = comanda(dir);
    if let Some(url) = database {
        cmd.env("COMANDA_DATABASE_URL", url);
    }
    cmd.env("COMANDA_LOG", "warn,comanda=info,sqlx::query=debug")
        .env("COMANDA_LOG_FORMAT", "json")
        .env("COMANDA_LOGIN_RATE_IP", "1000000/1s");
    let mut server = Server::start(cmd).await;
    server.wait_ready(Duration::from_secs(30)).await;
    let http = reqwest::Client::new();
    let token = sign_in_as(&http, &server, MANAGER, PASSWORD).await;
    let api = Api {
        http,
        base: server.url("/api/v1"),
        token,
    };
    for store in stores {
        evening(&api, store).await;
    }
    server.signal("TERM");
    let stopped = server.wait_exit(Duration::from_secs(30)).await;
    assert!(stopped.success(), "{}", server.stderr());

    let mut statements = BTreeMap::new();
    for line in server.stdout().lines() {
        let Ok(event) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let Some(summary) = event["summary"].as_str() else {
            continue;
        };
        let full = event["db.statement"].as_str().unwrap_or_default().trim();
        let sql = if full.is_empty() { summary } else { full };
        if touches_growing(sql) {
            let route = event["span"]["route"]
                .as_str()
                .unwrap_or("(route not in the log line)");
            statements
                .entry(sql.to_owned())
                .or_insert_with(|| route.to_owned());
        }
    }
    assert!(
        statements.len() >= 10,
        "the statement log was captured: {statements:?}"
    );
    // The purge of expired answers runs as the server starts; its plan is checked too.
    assert!(
        statements
            .keys()
            .any(|sql| sql.starts_with("DELETE FROM idempotency_keys")),
        "the purge was captured: {statements:?}"
    );
    statements
}

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn get(&self, path: &str) -> Value {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("get");
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "GET {path}: {status} {body}");
        body
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("idempotency-key", uuid::Uuid::now_v7().to_string())
            .json(&body)
            .send()
            .await
            .expect("post");
        let status = r.status();
        let answer: Value = r.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "POST {path} {body}: {status} {answer}");
        answer.get("order").cloned().unwrap_or(answer)
    }
}

/// A table's tab sent to the grill, bumped and paid; a counter order paid; and the
/// reads staff make meanwhile.
async fn evening(api: &Api, store: &str) {
    let s = format!("/stores/{store}");
    let product = api
        .post(
            &format!("{s}/catalog/products"),
            json!({ "name": "Picanha", "station": "grill", "variants": [{ "price": { "amount": 8900, "currency": "BRL" } }] }),
        )
        .await;
    let product = product["id"].as_str().expect("product").to_owned();
    let table = api
        .post(
            &format!("{s}/tables"),
            json!({ "name": "Mesa 1", "seats": 4 }),
        )
        .await;
    let table = table["id"].as_str().expect("table").to_owned();
    let tab = api
        .post(
            &format!("{s}/orders"),
            json!({ "kind": "dine_in", "table_id": table, "guests": 2 }),
        )
        .await;
    let id = tab["id"].as_str().expect("order").to_owned();
    let order = format!("{s}/orders/{id}");
    let tab = api
        .post(&format!("{order}/lines"), json!({ "version": tab["version"], "lines": [{ "product_id": product, "quantity": 2 }] }))
        .await;
    api.post(
        &format!("{order}/send"),
        json!({ "version": tab["version"] }),
    )
    .await;
    for read in [
        format!("{s}/kds/grill/tickets"),
        format!("{s}/tables"),
        format!("{s}/orders?status=open,sent,ready,served"),
        format!("{s}/orders?table_id={table}&status=sent"),
        format!("{s}/orders?table_id={table}"),
        format!("{s}/orders?kind=dine_in"),
        format!("{s}/orders?limit=5"),
        order.clone(),
        format!("{s}/catalog/menu"),
    ] {
        api.get(&read).await;
    }
    api.post(&format!("{s}/kds/grill/tickets/{id}/bump"), json!({}))
        .await;
    let tab = api.get(&order).await;
    let paid = api
        .post(
            &format!("{order}/payments"),
            json!({ "version": tab["version"], "kind": "external_card", "reference": "0001" }),
        )
        .await;
    let counter = api
        .post(&format!("{s}/orders"), json!({ "kind": "counter" }))
        .await;
    let counter_id = counter["id"].as_str().expect("order").to_owned();
    api.post(
        &format!("{s}/orders/{counter_id}/lines"),
        json!({ "version": counter["version"], "lines": [{ "product_id": product, "quantity": 1 }] }),
    )
    .await;
    let next = api.get(&format!("{s}/orders?limit=1")).await;
    let cursor = next["next"].as_str().unwrap_or_default().to_owned();
    let now = chrono::Utc::now();
    let from = (now - chrono::Duration::days(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let until =
        (now + chrono::Duration::days(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for read in [
        format!("{s}/orders?limit=1&after={cursor}"),
        format!("{s}/orders?status=paid"),
        format!("{s}/orders?from={from}&until={until}"),
        format!("{s}/kds/prep-times?from={from}&until={until}"),
        format!("{s}/reports/x"),
        format!("{order}/receipt"),
        format!("{s}/kds/grill/tickets"),
    ] {
        api.get(&read).await;
    }
    assert_eq!(paid["status"], "paid", "{paid}");
}

fn touches_growing(sql: &str) -> bool {
    let lower = sql.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    let verb = words.iter().find(|w| !w.is_empty()).copied().unwrap_or("");
    matches!(verb, "select" | "update" | "delete" | "with" | "insert")
        && GROWING.iter().any(|t| words.contains(t))
        // An insert of values reads nothing.
        && !(verb == "insert" && !words.contains(&"select") && !words.contains(&"where"))
}

/// The highest `$n`, or the number of `?`, in a statement: how many values to bind.
fn parameters(sql: &str) -> usize {
    let mut highest = 0;
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        let digits: String = rest[at + 1..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        highest = highest.max(digits.parse().unwrap_or(0));
        rest = &rest[at + 1..];
    }
    highest.max(sql.matches('?').count())
}

// Filling.

async fn sqlite_fill(db: &mut sqlx::SqliteConnection, stores: &[String], orders: usize) {
    let started = std::time::Instant::now();
    let mut tx = db.begin().await.expect("begin");
    for (s, store) in stores.iter().enumerate() {
        let store_bytes = uuid::Uuid::parse_str(store)
            .expect("uuid")
            .into_bytes()
            .to_vec();
        let share = orders / stores.len();
        let (seq, number): (i64, i64) =
            sqlx::query_as("SELECT seq, last_number FROM order_log_heads WHERE store_id = ?")
                .bind(&store_bytes)
                .fetch_one(&mut *tx)
                .await
                .expect("head");
        // Ids as UUIDv7 of a year ago, one millisecond apart: older than the evening's.
        let ms = chrono::Utc::now().timestamp_millis() - 365 * 86_400_000 + (s * share) as i64;
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 - 1)
             INSERT INTO orders (id, store_id, number, kind, status, table_id, opened_by, total, version, opened_at, updated_at, document, in_kitchen)
             SELECT unhex(printf('%012x7000%016x', ?2 + i, i)), ?3, ?4 + 1 + i, 'counter', 'paid', NULL, NULL, 1000, 3,
                    '2025-12-07 20:00:00+00:00', '2025-12-07 20:05:00+00:00', CAST('{}' AS BLOB), 0 FROM n",
        )
        .bind(share as i64)
        .bind(ms)
        .bind(&store_bytes)
        .bind(number)
        .execute(&mut *tx)
        .await
        .expect("orders");
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 * 2 - 1)
             INSERT INTO order_events (store_id, seq, order_id, kind, payload, actor_id, device_id, at, hash)
             SELECT ?3, ?4 + 1 + i, unhex(printf('%012x7000%016x', ?2 + i / 2, i / 2)),
                    CASE i % 2 WHEN 0 THEN 'opened' ELSE 'paid' END, CAST('{}' AS BLOB), NULL, NULL,
                    '2025-12-07 20:00:00+00:00', zeroblob(32) FROM n",
        )
        .bind(share as i64)
        .bind(ms)
        .bind(&store_bytes)
        .bind(seq)
        .execute(&mut *tx)
        .await
        .expect("events");
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 - 1)
             INSERT INTO idempotency_keys (id, request_hash, status, headers, body, created_at, lease_until, expires_at)
             SELECT randomblob(16), zeroblob(16), 201, '', zeroblob(64), 0, 0, 4102444800000 FROM n",
        )
        .bind(share as i64)
        .execute(&mut *tx)
        .await
        .expect("keys");
        sqlx::query("UPDATE order_log_heads SET seq = seq + ?1 * 2, last_number = last_number + ?1 WHERE store_id = ?2")
            .bind(share as i64)
            .bind(&store_bytes)
            .execute(&mut *tx)
            .await
            .expect("head");
    }
    tx.commit().await.expect("commit");
    eprintln!(
        "SQLite: {orders} orders added in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

async fn postgres_fill(db: &mut sqlx::PgConnection, stores: &[String], orders: usize) {
    let started = std::time::Instant::now();
    let mut tx = db.begin().await.expect("begin");
    for (s, store) in stores.iter().enumerate() {
        let store = uuid::Uuid::parse_str(store).expect("uuid");
        let share = (orders / stores.len()) as i64;
        let ms = chrono::Utc::now().timestamp_millis() - 365 * 86_400_000 + s as i64 * share;
        sqlx::query(
            "INSERT INTO orders (id, store_id, number, kind, status, table_id, opened_by, total, version, opened_at, updated_at, document, in_kitchen)
             SELECT (lpad(to_hex($2 + i), 12, '0') || '7000' || lpad(to_hex(i), 16, '0'))::uuid, $3,
                    h.last_number + 1 + i, 'counter', 'paid', NULL, NULL, 1000, 3,
                    '2025-12-07 20:00:00+00', '2025-12-07 20:05:00+00', '{}', FALSE
             FROM generate_series(0, $1 - 1) AS i, order_log_heads h WHERE h.store_id = $3",
        )
        .bind(share)
        .bind(ms)
        .bind(store)
        .execute(&mut *tx)
        .await
        .expect("orders");
        sqlx::query(
            "INSERT INTO order_events (store_id, seq, order_id, kind, payload, actor_id, device_id, at, hash)
             SELECT $3, h.seq + 1 + i, (lpad(to_hex($2 + i / 2), 12, '0') || '7000' || lpad(to_hex(i / 2), 16, '0'))::uuid,
                    CASE i % 2 WHEN 0 THEN 'opened' ELSE 'paid' END, '{}', NULL, NULL,
                    '2025-12-07 20:00:00+00', '\\x00'
             FROM generate_series(0, $1 * 2 - 1) AS i, order_log_heads h WHERE h.store_id = $3",
        )
        .bind(share)
        .bind(ms)
        .bind(store)
        .execute(&mut *tx)
        .await
        .expect("events");
        sqlx::query(
            "INSERT INTO idempotency_keys (id, request_hash, status, headers, body, created_at, lease_until, expires_at)
             SELECT decode(md5($2::text || ':' || i::text), 'hex'), '\\x00', 201, '', '\\x00', 0, 0, 4102444800000
             FROM generate_series(0, $1 - 1) AS i",
        )
        .bind(share)
        .bind(store)
        .execute(&mut *tx)
        .await
        .expect("keys");
        sqlx::query("UPDATE order_log_heads SET seq = seq + $1 * 2, last_number = last_number + $1 WHERE store_id = $2")
            .bind(share)
            .bind(store)
            .execute(&mut *tx)
            .await
            .expect("head");
    }
    tx.commit().await.expect("commit");
    eprintln!(
        "PostgreSQL: {orders} orders added in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

// Checking.

/// The back-office filters of the order list (kind, who opened it, a period) read the
/// store's orders that match, planned from statistics: an index for each would cost
/// every order its bytes. Lists by status and table, and every other query, must be
/// bounded whatever the statistics.
fn back_office(sql: &str) -> bool {
    ["kind = ", "opened_by = ", "opened_at >="]
        .iter()
        .any(|f| sql.contains(f))
        && sql.contains("FROM orders")
        && !sql.contains("status = ")
        && !sql.contains("table_id = ")
}

/// The captured statements whose SQLite plan is not bounded, each with its plan.
async fn sqlite_unbounded(
    db: &mut sqlx::SqliteConnection,
    statements: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut unbounded = Vec::new();
    for (sql, route) in statements {
        if back_office(sql) {
            continue;
        }
        let explain = format!("EXPLAIN QUERY PLAN {sql}");
        let mut query = sqlx::query(&explain);
        for _ in 0..parameters(sql) {
            query = query.bind(None::<i64>);
        }
        let rows = query
            .fetch_all(&mut *db)
            .await
            .unwrap_or_else(|e| panic!("{e}: {sql}"));
        let plan: Vec<String> = rows.iter().map(|r| r.get::<String, _>(3)).collect();
        let limited = has_limit(sql) && !plan.iter().any(|p| p.contains("TEMP B-TREE"));
        let bad: Vec<&String> = plan
            .iter()
            .filter(|step| sqlite_step_unbounded(step, limited))
            .collect();
        if !bad.is_empty() {
            unbounded.push(format!("{route}: {sql}\n    plan: {plan:?}"));
        } else if std::env::var_os("COMANDA_PLAN_SHOW").is_some() {
            eprintln!("{sql}\n    plan: {plan:?}");
        }
    }
    unbounded
}

fn sqlite_step_unbounded(step: &str, limited: bool) -> bool {
    let words: Vec<&str> = step.split_whitespace().collect();
    let (Some(&verb), Some(&table)) = (words.first(), words.get(1)) else {
        return false;
    };
    if !GROWING.contains(&table) || PARTIAL.iter().any(|i| words.contains(i)) {
        return false;
    }
    // An index SQLite builds for the statement reads the whole table to build it.
    if step.contains("AUTOMATIC") {
        return true;
    }
    match verb {
        "SCAN" => !limited,
        // A search by the store alone reads the store's whole history.
        "SEARCH" => step.ends_with("(store_id=?)") && !limited,
        _ => false,
    }
}

/// The captured statements whose generic PostgreSQL plan is not bounded.
async fn postgres_unbounded(
    db: &mut sqlx::PgConnection,
    statements: &BTreeMap<String, String>,
) -> Vec<String> {
    sqlx::query("SET plan_cache_mode = force_generic_plan")
        .execute(&mut *db)
        .await
        .expect("generic plans");
    let mut unbounded = Vec::new();
    for (sql, route) in statements {
        if back_office(sql) {
            continue;
        }
        sqlx::raw_sql(&format!("PREPARE plan_check AS {sql}"))
            .execute(&mut *db)
            .await
            .unwrap_or_else(|e| panic!("{e}: {sql}"));
        let count: Option<i32> = sqlx::query_scalar(
            "SELECT array_length(parameter_types, 1) FROM pg_prepared_statements WHERE name = 'plan_check'",
        )
        .fetch_one(&mut *db)
        .await
        .expect("parameters");
        let nulls = vec!["NULL"; count.unwrap_or(0) as usize].join(", ");
        let execute = if nulls.is_empty() {
            "EXECUTE plan_check".to_owned()
        } else {
            format!("EXECUTE plan_check({nulls})")
        };
        // EXPLAIN of an EXECUTE plans without running; a write is not carried out.
        let plan: Value =
            sqlx::query_scalar::<_, Value>(&format!("EXPLAIN (FORMAT JSON) {execute}"))
                .fetch_one(&mut *db)
                .await
                .unwrap_or_else(|e| panic!("{e}: {sql}"));
        sqlx::raw_sql("DEALLOCATE plan_check")
            .execute(&mut *db)
            .await
            .expect("deallocate");
        let mut bad = Vec::new();
        walk(&plan[0]["Plan"], false, &mut bad);
        if !bad.is_empty() {
            unbounded.push(format!("{route}: {sql}\n    unbounded: {bad:?}"));
        }
    }
    unbounded
}

/// Collects scans of a growing table that nothing bounds. `limited`: a Limit above,
/// with no Sort between (which would read everything before the limit).
fn walk(node: &Value, limited: bool, bad: &mut Vec<String>) {
    let kind = node["Node Type"].as_str().unwrap_or_default();
    let relation = node["Relation Name"].as_str().unwrap_or_default();
    let index = node["Index Name"].as_str().unwrap_or_default();
    let condition = node["Index Cond"].as_str().unwrap_or_default();
    let limited = match kind {
        "Limit" => true,
        "Sort" | "Incremental Sort" | "Aggregate" | "HashAggregate" | "Hash" => false,
        _ => limited,
    };
    let growing = GROWING.contains(&relation) && !PARTIAL.contains(&index);
    if growing && kind == "Seq Scan" {
        bad.push(format!("Seq Scan on {relation}"));
    }
    if growing
        && kind.starts_with("Index")
        && (condition.is_empty() || by_store_alone(condition))
        && !limited
    {
        bad.push(format!("{kind} on {relation} using {index} ({condition})"));
    }
    if kind == "Bitmap Heap Scan" {
        for child in node["Plans"].as_array().into_iter().flatten() {
            let cond = child["Index Cond"].as_str().unwrap_or_default();
            let child_index = child["Index Name"].as_str().unwrap_or_default();
            if GROWING.contains(&relation)
                && !PARTIAL.contains(&child_index)
                && by_store_alone(cond)
                && !limited
            {
                bad.push(format!("Bitmap Heap Scan on {relation} ({cond})"));
            }
        }
    }
    for child in node["Plans"].as_array().into_iter().flatten() {
        walk(child, limited, bad);
    }
}

/// An index condition on the store and nothing narrower: the store's whole history.
fn by_store_alone(condition: &str) -> bool {
    let rest = condition.replace("store_id", "");
    condition.contains("store_id")
        && ![
            "id =", "order_id", "seq", "status", "number", "table_id", "at >", "at <", "key",
        ]
        .iter()
        .any(|c| rest.contains(c))
}

fn has_limit(sql: &str) -> bool {
    sql.to_ascii_uppercase().contains(" LIMIT ")
}
