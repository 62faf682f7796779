//! Both backends must describe the same schema history: a migration added to one folder
//! and forgotten in the other would make SQLite and PostgreSQL deployments diverge.

#[test]
fn both_backends_have_the_same_migration_versions_and_names() {
    let sqlite: Vec<(i64, String)> = comanda_store_sqlite::migrations()
        .into_iter()
        .map(|m| (m.version, m.description))
        .collect();
    let postgres: Vec<(i64, String)> = comanda_store_postgres::migrations()
        .into_iter()
        .map(|m| (m.version, m.description))
        .collect();
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres);
}
