//! Restoring a backup: verify the file, restore it into a new database, check that
//! database (integrity, row counts, migrations, the order logs' hash chains), take a
//! backup of the database it replaces, and only then swap it in. Until the swap, the
//! current database is untouched; a failure anywhere before leaves it as it was.

use super::archive::{self, Manifest};
use super::create::{Scratch, create};
use super::postgres_tools::PgTarget;
use super::retention::PRE_RESTORE_TAG;
use crate::commands::audit::check_chains;
use crate::database::lock_sqlite;
use crate::settings::DatabaseTarget;
use anyhow::{Context, Result, anyhow, bail};
use chrono::Utc;
use comanda_store::{Ops, Storage};
use comanda_store_postgres::{PgAdmin, PgOptions, PgStorage};
use comanda_store_sqlite::{SqliteOptions, SqliteStorage};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Prints each step as it passes, so an operator watching a long restore sees where it is.
fn step(what: &str, detail: impl std::fmt::Display) {
    println!("  ok  {what:<22} {detail}");
}

pub struct Restored {
    /// The backup of the database that was replaced, if there was one.
    pub pre_restore: Option<PathBuf>,
    /// PostgreSQL: the replaced database, kept under another name.
    pub kept_database: Option<String>,
}

pub async fn restore(target: &DatabaseTarget, file: &Path, backups: &Path) -> Result<Restored> {
    if !file.is_file() {
        bail!("there is no backup at {}", file.display());
    }
    // Refuse what this release cannot restore before the slow part.
    let manifest = archive::read_manifest(file)?;
    let backend = match target {
        DatabaseTarget::Sqlite { .. } => "sqlite",
        DatabaseTarget::Postgres { .. } => "postgres",
    };
    if manifest.backend != backend {
        bail!(
            "{} is a {} backup and the configured database is {backend}: restore it into a {} database",
            file.display(),
            manifest.backend,
            manifest.backend
        );
    }
    let latest = latest_known_migration(target);
    if manifest.schema_version > latest {
        bail!(
            "{} comes from a newer schema ({}) than this release knows ({latest}): restore it with comanda {} or newer",
            file.display(),
            manifest.schema_version,
            manifest.comanda_version
        );
    }
    match target {
        DatabaseTarget::Sqlite { path } => restore_sqlite(target, path, file, backups).await,
        DatabaseTarget::Postgres { url } => {
            restore_postgres(target, url.expose(), file, backups).await
        }
    }
}

fn latest_known_migration(target: &DatabaseTarget) -> i64 {
    let known = match target {
        DatabaseTarget::Sqlite { .. } => comanda_store_sqlite::known_migrations(),
        DatabaseTarget::Postgres { .. } => comanda_store_postgres::known_migrations(),
    };
    known.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Verifies the file and extracts its database image into `out`.
async fn verify(file: &Path, out: PathBuf) -> Result<Manifest> {
    let file = file.to_owned();
    let verified =
        tokio::task::spawn_blocking(move || archive::verify_and_extract(&file, &out)).await??;
    let scope = if verified.whole_file_checked {
        "whole file and database image"
    } else {
        "database image (no .sha256 file beside the backup)"
    };
    step("checksum", scope);
    step(
        "manifest",
        format_args!(
            "{} schema {}, taken {}, {} rows in {} tables",
            verified.manifest.backend,
            verified.manifest.schema_version,
            verified.manifest.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
            verified.manifest.rows(),
            verified.manifest.tables.len()
        ),
    );
    Ok(verified.manifest)
}

/// The restored database, checked before anything is replaced.
async fn check(
    storage: &dyn Storage,
    counts: BTreeMap<String, i64>,
    manifest: &Manifest,
) -> Result<()> {
    if counts != manifest.tables {
        let differ: Vec<String> = manifest
            .tables
            .iter()
            .filter(|(t, n)| counts.get(*t) != Some(n))
            .map(|(t, n)| {
                format!(
                    "{t}: {} restored, {n} backed up",
                    counts.get(t).copied().unwrap_or(0)
                )
            })
            .collect();
        bail!(
            "the restored rows differ from the manifest: {}",
            differ.join("; ")
        );
    }
    step(
        "row counts",
        format_args!("{} rows match the manifest", manifest.rows()),
    );
    let applied = storage
        .migrate()
        .await
        .map_err(|e| anyhow!("migrating the restored database: {e}"))?;
    step(
        "migrations",
        format_args!("{} applied now, schema current", applied.len()),
    );
    let stores = storage.logged_stores().await?;
    let reports = check_chains(storage, stores).await?;
    if let Some(broken) = reports.iter().find(|r| r.problem.is_some()) {
        bail!(
            "the order log of store {} is broken in the backup: {}",
            broken.store,
            broken.problem.as_deref().unwrap_or_default()
        );
    }
    let events: i64 = reports.iter().map(|r| r.events).sum();
    step(
        "audit chains",
        format_args!("{} store logs, {events} events intact", reports.len()),
    );
    Ok(())
}

async fn restore_sqlite(
    target: &DatabaseTarget,
    db: &Path,
    file: &Path,
    backups: &Path,
) -> Result<Restored> {
    let dir = db
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let _lock = lock_sqlite(db)?;
    let stamp = Utc::now().format("%Y%m%dT%H%M%SZ");
    let mut scratch = Scratch::default();
    let packed = scratch.add(dir.join(format!(".restore-{stamp}.db.zst")));
    let fresh = scratch.add(dir.join(format!(".restore-{stamp}.db")));
    for extra in ["-wal", "-shm", "-journal"] {
        let mut name = fresh.as_os_str().to_owned();
        name.push(extra);
        scratch.add(PathBuf::from(name));
    }
    let manifest = verify(file, packed.clone()).await?;
    {
        let (packed, fresh) = (packed.clone(), fresh.clone());
        tokio::task::spawn_blocking(move || decompress(&packed, &fresh)).await??;
    }
    let storage = SqliteStorage::open(&SqliteOptions::new(&fresh))
        .await
        .map_err(|e| anyhow!("the restored database does not open: {e}"))?;
    let checked = async {
        let problems = storage.integrity_problems().await?;
        if !problems.is_empty() {
            bail!(
                "the restored database fails SQLite's integrity check: {}",
                problems.join("; ")
            );
        }
        step("integrity", "SQLite integrity_check ok");
        let (counts, _) = {
            let fresh = fresh.clone();
            tokio::task::spawn_blocking(move || comanda_store_sqlite::describe_file(&fresh))
                .await??
        };
        check(&storage, counts, &manifest).await
    }
    .await;
    storage.close_settled().await.map_err(|e| anyhow!("{e}"))?;
    checked?;

    let pre_restore = if db.exists() {
        let taken = create(target, backups, &[PRE_RESTORE_TAG])
            .await
            .context("the backup of the current database failed; nothing was replaced")?;
        step("pre-restore backup", taken.path.display());
        // The current file must stand alone (no WAL) before another takes its name.
        comanda_store_sqlite::settle_file(db)
            .await
            .map_err(|e| anyhow!("{e}"))?;
        Some(taken.path)
    } else {
        None
    };
    for extra in ["-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(extra);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
    std::fs::rename(&fresh, db)
        .with_context(|| format!("cannot move the restored database to {}", db.display()))?;
    std::fs::File::open(dir)?.sync_all()?;
    step("swapped in", db.display());
    Ok(Restored {
        pre_restore,
        kept_database: None,
    })
}

fn decompress(from: &Path, to: &Path) -> Result<()> {
    let input = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(from)?);
    let mut decoder = zstd::stream::Decoder::with_buffer(input)?;
    let mut output = std::fs::File::create(to)?;
    std::io::copy(&mut decoder, &mut output).context("the database image does not decompress")?;
    output.sync_all()?;
    Ok(())
}

async fn restore_postgres(
    target: &DatabaseTarget,
    url: &str,
    file: &Path,
    backups: &Path,
) -> Result<Restored> {
    let pg = PgTarget::parse(url)?;
    let name = pg.database();
    if name.is_empty() {
        bail!("the database URL names no database");
    }
    let admin = PgAdmin::new(url).map_err(|e| anyhow!("{e}"))?;
    let exists = admin.exists(&name).await.map_err(|e| anyhow!("{e}"))?;
    let in_use = if exists {
        admin.sessions(&name).await.map_err(|e| anyhow!("{e}"))?
    } else {
        0
    };
    if in_use > 0 {
        bail!(
            "{in_use} session(s) are connected to database {name:?}: stop every comanda instance on it first"
        );
    }
    std::fs::create_dir_all(backups)?;
    let stamp = Utc::now().format("%Y%m%d%H%M%S");
    let mut scratch = Scratch::default();
    let dump = scratch.add(backups.join(format!(".restore-{stamp}.pgdump")));
    let manifest = verify(file, dump.clone()).await?;

    let fresh_name = format!("{name}_new_{stamp}");
    let fresh = pg.with_database(&fresh_name);
    admin
        .create(&fresh_name)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let built = async {
        {
            let (fresh, dump) = (fresh.clone(), dump.clone());
            tokio::task::spawn_blocking(move || fresh.restore(&dump)).await??;
        }
        step("pg_restore", format_args!("into database {fresh_name}"));
        let storage = PgStorage::connect_lazy(&fresh.secret_url(), &PgOptions::default())
            .map_err(|e| anyhow!("{e}"))?;
        let checked = async {
            storage.analyze().await?;
            step("analyze", "planner statistics gathered");
            let counts = storage.table_counts().await?;
            check(&storage, counts, &manifest).await
        }
        .await;
        storage.close().await;
        // Dropped as well as closed: a connection sqlx's close missed would keep a
        // session on the database, and the rename below would refuse.
        drop(storage);
        checked
    }
    .await;
    if let Err(e) = built {
        let _ = admin.drop(&fresh_name).await;
        return Err(e);
    }

    let mut restored = Restored {
        pre_restore: None,
        kept_database: None,
    };
    if exists {
        let current =
            PgStorage::connect_lazy(url, &PgOptions::default()).map_err(|e| anyhow!("{e}"))?;
        let empty = current
            .table_counts()
            .await
            .map_err(|e| anyhow!("{e}"))?
            .is_empty();
        current.close().await;
        drop(current);
        if empty {
            // An empty database made for the restore: nothing in it to keep.
            admin.drop(&name).await.map_err(|e| anyhow!("{e}"))?;
        } else {
            let taken = match create(target, backups, &[PRE_RESTORE_TAG]).await {
                Ok(taken) => taken,
                Err(e) => {
                    let _ = admin.drop(&fresh_name).await;
                    return Err(e.context(
                        "the backup of the current database failed; nothing was replaced",
                    ));
                }
            };
            step("pre-restore backup", taken.path.display());
            let old_name = format!("{name}_old_{stamp}");
            if let Err(e) = admin.rename(&name, &old_name).await {
                let _ = admin.drop(&fresh_name).await;
                bail!("cannot set the current database aside ({e}); nothing was replaced");
            }
            restored.pre_restore = Some(taken.path);
            restored.kept_database = Some(old_name);
        }
    }
    admin
        .rename(&fresh_name, &name)
        .await
        .map_err(|e| anyhow!("cannot rename {fresh_name} to {name}: {e}"))?;
    step("swapped in", format_args!("database {name}"));
    Ok(restored)
}
