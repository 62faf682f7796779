//! Two instances (two storages, each with its own committer) on one PostgreSQL database.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_one_log() {
    let Some(db) = comanda_testkit::TestPostgres::create().await else {
        return;
    };
    let (a, b) = (db.open_migrated().await, db.open_migrated().await);
    comanda_store::conformance::two_instances_share_one_log(a, b).await;
}
