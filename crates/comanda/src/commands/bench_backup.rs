//! `comanda bench backup`: how long a backup and a verified restore take, and how big
//! the backup is, for a database holding N paid orders (written as `bench zreport`
//! writes them). The restore goes into a second database, as a disaster-recovery drill
//! would, with every check `comanda restore` makes (checksums, row counts, migrations,
//! every order log's hash chain).

use super::backup::megabytes;
use super::bench_env;
use super::bench_zreport::write_paid_day;
use crate::backup;
use crate::cli::BenchBackupArgs;
use crate::settings::{DatabaseTarget, Settings};
use anyhow::{Result, anyhow};
use comanda_domain::{Role, Secret};
use std::process::ExitCode;
use std::time::Instant;

pub async fn run(settings: &Settings, args: &BenchBackupArgs) -> Result<ExitCode> {
    let db = bench_env::open(settings).await?;
    let storage = db.storage.clone();
    let (store, _) = bench_env::store_and_person(&*storage, "BRL", Role::Manager).await?;
    println!(
        "backend: {}; writing {} paid orders",
        storage.backend(),
        args.orders
    );
    let started = Instant::now();
    write_paid_day(storage.clone(), store.id, args.orders).await?;
    println!("written in {:.1} s", started.elapsed().as_secs_f64());
    storage.close().await;

    let scratch = tempfile::Builder::new()
        .prefix("comanda-bench-backup-")
        .tempdir()?;
    let (restore_target, database_bytes) = match &db.target {
        DatabaseTarget::Sqlite { path } => {
            let size = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len());
            let mut wal = path.as_os_str().to_owned();
            wal.push("-wal");
            (
                DatabaseTarget::Sqlite {
                    path: scratch.path().join("restored.db"),
                },
                size(path) + size(std::path::Path::new(&wal)),
            )
        }
        DatabaseTarget::Postgres { url } => {
            let mut restored = url::Url::parse(url.expose())?;
            let name = format!("{}_bench_restore", restored.path().trim_start_matches('/'));
            restored.set_path(&format!("/{name}"));
            comanda_store_postgres::PgAdmin::new(url.expose())
                .map_err(|e| anyhow!("{e}"))?
                .drop(&name)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            (
                DatabaseTarget::Postgres {
                    url: Secret::new(restored.as_str()),
                },
                0,
            )
        }
    };

    let t = Instant::now();
    let created = backup::create(&db.target, scratch.path(), &[]).await?;
    let backup_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    backup::restore(&restore_target, &created.path, scratch.path()).await?;
    let restore_s = t.elapsed().as_secs_f64();
    if let DatabaseTarget::Postgres { url } = &restore_target {
        let name = url::Url::parse(url.expose())?
            .path()
            .trim_start_matches('/')
            .to_owned();
        comanda_store_postgres::PgAdmin::new(url.expose())
            .map_err(|e| anyhow!("{e}"))?
            .drop(&name)
            .await
            .map_err(|e| anyhow!("{e}"))?;
    }
    let orders = created.manifest.tables.get("orders").copied().unwrap_or(0);
    if database_bytes > 0 {
        println!("database (file and WAL): {}", megabytes(database_bytes));
    }
    println!(
        "backup: {orders} orders, {} rows, {} in {backup_s:.1} s",
        created.manifest.rows(),
        megabytes(created.archive_bytes)
    );
    println!("verified restore into a new database: {restore_s:.1} s");
    Ok(ExitCode::SUCCESS)
}
