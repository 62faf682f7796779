//! `comanda backup`, `comanda backup list|prune` and `comanda restore`.

use crate::backup::archive;
use crate::backup::retention::{self, KEEP_TAG, Policy};
use crate::cli::{BackupArgs, BackupCommand, PruneArgs, RestoreArgs, RetentionArgs};
use crate::settings::Settings;
use anyhow::{Context, Result};
use std::path::Path;
use std::process::ExitCode;

pub async fn run(settings: &Settings, args: &BackupArgs) -> Result<ExitCode> {
    match &args.command {
        Some(BackupCommand::List) => list(&settings.backup_dir),
        Some(BackupCommand::Prune(prune_args)) => prune(&settings.backup_dir, prune_args),
        None => {
            let dir = args.to.as_deref().unwrap_or(&settings.backup_dir);
            let tags: &[&str] = if args.keep { &[KEEP_TAG] } else { &[] };
            let created = crate::backup::create(&settings.database, dir, tags).await?;
            let m = &created.manifest;
            println!(
                "backup written: {} ({}, {} rows in {} tables, schema {}, {:.2} s)",
                created.path.display(),
                megabytes(created.archive_bytes),
                m.rows(),
                m.tables.len(),
                m.schema_version,
                m.seconds
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

impl From<&RetentionArgs> for Policy {
    fn from(args: &RetentionArgs) -> Self {
        Policy {
            daily: args.keep_daily,
            weekly: args.keep_weekly,
            monthly: args.keep_monthly,
        }
    }
}

fn list(dir: &Path) -> Result<ExitCode> {
    let backups = retention::list(dir)
        .with_context(|| format!("cannot read the backup directory {}", dir.display()))?;
    println!(
        "{:<52} {:>10} {:>8} {:>12}",
        "BACKUP", "SIZE", "SCHEMA", "ROWS"
    );
    for backup in &backups {
        let path = dir.join(&backup.file);
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        match archive::read_manifest(&path) {
            Ok(m) => println!(
                "{:<52} {:>10} {:>8} {:>12}{}",
                backup.file,
                megabytes(size),
                m.schema_version,
                m.rows(),
                if backup.pinned { "  kept" } else { "" }
            ),
            Err(e) => println!(
                "{:<52} {:>10} UNREADABLE: {e:#}",
                backup.file,
                megabytes(size)
            ),
        }
    }
    println!("{} backup(s) in {}", backups.len(), dir.display());
    Ok(ExitCode::SUCCESS)
}

/// Removes what the policy does not keep, with its checksum file; returns the names
/// kept and removed.
pub fn prune_dir(dir: &Path, policy: Policy, dry_run: bool) -> Result<(Vec<String>, Vec<String>)> {
    let backups = retention::list(dir)
        .with_context(|| format!("cannot read the backup directory {}", dir.display()))?;
    let (kept, removed) = retention::plan(&backups, policy);
    for backup in &removed {
        if !dry_run {
            let path = dir.join(&backup.file);
            std::fs::remove_file(&path)
                .with_context(|| format!("cannot delete {}", path.display()))?;
            let _ = std::fs::remove_file(archive::checksum_path(&path));
        }
    }
    let names =
        |list: Vec<&retention::BackupName>| list.into_iter().map(|b| b.file.clone()).collect();
    Ok((names(kept), names(removed)))
}

fn prune(dir: &Path, args: &PruneArgs) -> Result<ExitCode> {
    let policy = Policy::from(&args.retention);
    let (kept, removed) = prune_dir(dir, policy, args.dry_run)?;
    for file in &kept {
        println!("keep    {file}");
    }
    let verb = if args.dry_run {
        "would delete"
    } else {
        "deleted"
    };
    for file in &removed {
        println!("{verb} {file}");
    }
    println!(
        "{} kept, {} {} (daily {}, weekly {}, monthly {})",
        kept.len(),
        removed.len(),
        if args.dry_run { "to delete" } else { "deleted" },
        policy.daily,
        policy.weekly,
        policy.monthly
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn restore(settings: &Settings, args: &RestoreArgs) -> Result<ExitCode> {
    println!(
        "restoring {} into {}",
        args.file.display(),
        settings.database
    );
    let restored =
        crate::backup::restore(&settings.database, &args.file, &settings.backup_dir).await?;
    if let Some(path) = &restored.pre_restore {
        println!(
            "the database it replaced is backed up at {}",
            path.display()
        );
    }
    if let Some(name) = &restored.kept_database {
        println!(
            "the database it replaced is kept as {name:?}; drop it when you no longer need it"
        );
    }
    println!("restored");
    Ok(ExitCode::SUCCESS)
}
