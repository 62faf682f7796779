use crate::cli::MigrateArgs;
use crate::database;
use crate::settings::Settings;
use anyhow::{Result, anyhow};
use std::process::ExitCode;

pub async fn run(settings: &Settings, args: &MigrateArgs) -> Result<ExitCode> {
    let storage = database::open(settings).await?;
    let outcome = if args.status {
        status(&*storage, settings).await
    } else {
        apply(&*storage).await
    };
    storage.close().await;
    outcome
}

async fn status(storage: &dyn comanda_store::Storage, settings: &Settings) -> Result<ExitCode> {
    let status = storage
        .migration_status()
        .await
        .map_err(|e| anyhow!("{e}"))?;
    println!("database: {}", settings.database);
    println!(
        "{:<16} {:<10} {:<24} DESCRIPTION",
        "VERSION", "STATE", "APPLIED AT (UTC)"
    );
    for m in &status.migrations {
        let state = match (m.applied_at, m.checksum_matches) {
            (None, _) if m.is_one_way() => "pending!",
            (None, _) => "pending",
            (Some(_), true) => "applied",
            (Some(_), false) => "MODIFIED",
        };
        let at = m
            .applied_at
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        println!(
            "{:<16} {:<10} {:<24} {}",
            m.version, state, at, m.description
        );
    }
    for v in &status.newer_applied {
        let (state, note) = if status.newer_one_way.contains(v) {
            (
                "ONE-WAY",
                "(applied by a newer release; changed how data is stored)",
            )
        } else {
            ("newer", "(applied by a newer release)")
        };
        println!("{v:<16} {state:<10} {:<24} {note}", "");
    }
    if status.pending_one_way().next().is_some() {
        println!(
            "pending! changes how data is stored: a binary from before it cannot read what is written after; `comanda backup` first (docs/migrations.md)"
        );
    }
    match status.problem() {
        None => {
            println!("schema is current");
            Ok(ExitCode::SUCCESS)
        }
        Some(problem) => {
            println!("schema is not current: {problem}");
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn apply(storage: &dyn comanda_store::Storage) -> Result<ExitCode> {
    let applied = storage.migrate().await.map_err(|e| anyhow!("{e}"))?;
    if !applied.is_empty()
        && let Err(e) = storage.refresh_statistics().await
    {
        eprintln!(
            "note: the planner's statistics were not refreshed ({e}); serve does it at start"
        );
    }
    if applied.is_empty() {
        println!("schema is current; nothing to apply");
    } else {
        let list: Vec<String> = applied.iter().map(i64::to_string).collect();
        println!(
            "applied {} migration(s): {}",
            applied.len(),
            list.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}
