//! Every uniqueness rule of the schema has a name for clients: a write that breaks one is
//! a 409 naming the field, never an unexplained 500. Read from each backend's own catalog
//! after migrating, so a new unique index without its entry fails here.

use comanda_store::StoreError;
use comanda_store::rows::{UNIQUE_KEYS, unique_rule};
use comanda_testkit::{TestDb, on_both_backends};
use sqlx::{Connection, Row};
use std::collections::BTreeSet;

on_both_backends!(every_uniqueness_rule_is_named_and_reported_by_its_columns);

/// sqlx's own bookkeeping, which no request writes.
const NOT_OURS: &[&str] = &["_sqlx_migrations(version)"];

/// SQLite's `INTEGER PRIMARY KEY` is the rowid itself, with no index to list.
const POSTGRES_ONLY: &[&str] = &["bootstrap(id)", "packing_dictionaries(number)"];

async fn sqlite_rules(url: &str) -> BTreeSet<String> {
    let mut conn = sqlx::SqliteConnection::connect(url).await.expect("connect");
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
            .fetch_all(&mut conn)
            .await
            .expect("tables");
    let mut rules = BTreeSet::new();
    for table in tables {
        let indexes = sqlx::query(&format!("PRAGMA index_list('{table}')"))
            .fetch_all(&mut conn)
            .await
            .expect("indexes");
        for index in indexes {
            if !index.get::<bool, _>("unique") {
                continue;
            }
            let name: String = index.get("name");
            let columns: Vec<String> =
                sqlx::query_scalar(&format!("SELECT name FROM pragma_index_info('{name}')"))
                    .fetch_all(&mut conn)
                    .await
                    .expect("columns");
            rules.insert(unique_rule(&table, columns.iter().map(String::as_str)));
        }
    }
    rules
}

async fn postgres_rules(url: &str) -> BTreeSet<String> {
    let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
    let rows = sqlx::query(
        "SELECT t.relname AS table_name,
                array_agg(a.attname::text ORDER BY k.ord) AS columns
         FROM pg_index x
         JOIN pg_class t ON t.oid = x.indrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace
         CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
         WHERE x.indisunique AND n.nspname = current_schema()
         GROUP BY x.indexrelid, t.relname",
    )
    .fetch_all(&mut conn)
    .await
    .expect("unique indexes");
    rows.iter()
        .map(|row| {
            let columns: Vec<String> = row.get("columns");
            unique_rule(
                row.get::<&str, _>("table_name"),
                columns.iter().map(String::as_str),
            )
        })
        .collect()
}

async fn every_uniqueness_rule_is_named_and_reported_by_its_columns(db: TestDb) {
    let url = db.url();
    let sqlite = url.starts_with("sqlite:");
    let rules = if sqlite {
        sqlite_rules(&url).await
    } else {
        postgres_rules(&url).await
    };
    assert!(rules.len() > 40, "{rules:?}");
    let named: BTreeSet<&str> = UNIQUE_KEYS.iter().map(|k| k.rule).collect();
    let unnamed: Vec<&String> = rules
        .iter()
        .filter(|r| !named.contains(r.as_str()) && !NOT_OURS.contains(&r.as_str()))
        .collect();
    assert!(
        unnamed.is_empty(),
        "uniqueness rules with no entry in UNIQUE_KEYS: {unnamed:?}"
    );
    let stale: Vec<&&str> = named
        .iter()
        .filter(|r| {
            let only_on_postgres = sqlite && POSTGRES_ONLY.contains(r);
            !rules.contains(**r) && !only_on_postgres
        })
        .collect();
    assert!(
        stale.is_empty(),
        "entries for rules the schema lacks: {stale:?}"
    );

    // A real violation is reported by the rule it broke, with the names clients see.
    let insert = "INSERT INTO stores (id, code, name, currency, timezone, locale, version, created_at, updated_at)
                  SELECT $1, code, name, currency, timezone, locale, 1, created_at, updated_at
                  FROM stores LIMIT 1";
    let storage = db.storage();
    let store =
        comanda_domain::NewStore::parse("unica", "Única", "BRL", "UTC", "pt-BR").expect("store");
    storage.create_store(&store).await.expect("store");
    let error = if sqlite {
        let mut conn = sqlx::SqliteConnection::connect(&url)
            .await
            .expect("connect");
        let e = sqlx::query(insert)
            .bind(uuid::Uuid::now_v7())
            .execute(&mut conn)
            .await
            .expect_err("a second store with the code");
        comanda_store_sqlite::classify(e)
    } else {
        let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
        let e = sqlx::query(insert)
            .bind(uuid::Uuid::now_v7())
            .execute(&mut conn)
            .await
            .expect_err("a second store with the code");
        comanda_store_postgres::classify(e)
    };
    assert!(
        matches!(
            error,
            StoreError::Conflict {
                entity: "store",
                field: "code"
            }
        ),
        "{error:?}"
    );
}
