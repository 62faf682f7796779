//! `comanda check`: the pre-deploy checklist of the seed guides as one command. Run it
//! with the same configuration the server will get; it changes nothing.

use super::table::{Table, Verdict};
use crate::backup::retention;
use crate::cli::CheckArgs;
use crate::database;
use crate::settings::{DatabaseTarget, KeySource, Settings};
use anyhow::Result;
use chrono::Utc;
use comanda_domain::password_policy;
use comanda_server::auth::reseal::census;
use comanda_server::auth::vault::Vault;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

/// Less free space than this fails: a day of orders, its backup and a migration's copy.
const MIN_FREE_BYTES: u64 = 1 << 30;
/// A backup older than this is not yesterday's.
const BACKUP_MAX_AGE_HOURS: i64 = 26;
/// Application and database clocks further apart than this break token expiry and
/// cut-offs.
const MAX_CLOCK_SKEW_SECS: f64 = 5.0;

pub async fn run(settings: &Settings, args: &CheckArgs) -> Result<ExitCode> {
    let mut table = Table::default();
    let mode = if args.production {
        "production"
    } else {
        "development"
    };
    table.pass(
        "configuration",
        format!("valid ({mode}); database {}", settings.database),
    );
    secrets(&mut table, settings, args.production);
    match settings.prepare_data_dir() {
        Ok(()) => table.pass(
            "data directory",
            format!("{} writable", settings.data_dir.display()),
        ),
        Err(e) => table.fail("data directory", format!("{e:#}")),
    }
    disk(&mut table, &settings.data_dir);
    port(
        &mut table,
        args.listen.as_deref().unwrap_or("127.0.0.1:8080"),
    );
    let vault = secret_key(&mut table, settings, args.production);
    database_checks(&mut table, settings, vault.as_ref()).await;
    backups(&mut table, settings, args.production);
    Ok(table.finish())
}

fn secrets(table: &mut Table, settings: &Settings, production: bool) {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let strict = if production {
        Verdict::Fail
    } else {
        Verdict::Warn
    };
    let mut problems = Vec::new();
    if let Some(password) = env("COMANDA_BOOTSTRAP_PASSWORD")
        && let Err(e) = password_policy::check("COMANDA_BOOTSTRAP_PASSWORD", &password, "owner")
    {
        problems.push(format!("COMANDA_BOOTSTRAP_PASSWORD {}", e.message));
    }
    match (
        env("COMANDA_STRIPE_SECRET_KEY"),
        env("COMANDA_STRIPE_WEBHOOK_SECRET"),
    ) {
        (Some(key), _)
            if production && !key.starts_with("sk_live_") && !key.starts_with("rk_live_") =>
        {
            problems.push("COMANDA_STRIPE_SECRET_KEY is not a live key".into());
        }
        (Some(_), None) => problems.push(
            "COMANDA_STRIPE_WEBHOOK_SECRET is not set: card payments are never confirmed".into(),
        ),
        _ => {}
    }
    if let DatabaseTarget::Postgres { url } = &settings.database {
        let has_password = url::Url::parse(url.expose()).is_ok_and(|u| u.password().is_some());
        let local = url.expose().contains("@127.0.0.1") || url.expose().contains("@localhost");
        if !has_password && !local {
            problems.push("the PostgreSQL URL has no password".into());
        }
    } else if production {
        problems.push("production runs on PostgreSQL (set COMANDA_DATABASE_URL)".into());
    }
    if problems.is_empty() {
        table.pass("secrets", "none weak or missing");
    } else {
        table.add("secrets", strict, problems.join("; "));
    }
}

/// The key secrets at rest are sealed with: readable, and in production named by the
/// operator (a key comanda made in the data directory lives beside what it protects).
fn secret_key(table: &mut Table, settings: &Settings, production: bool) -> Option<Vault> {
    match settings.vault(false) {
        Ok(vault) => {
            let detail = format!("{} (key {})", settings.secret_key, vault.current_key_id());
            match settings.secret_key {
                KeySource::DataDir(_) if production => table.fail(
                    "secret key",
                    format!("{detail}: set COMANDA_SECRET_KEY or COMANDA_SECRET_KEY_FILE, kept apart from the data and its backups"),
                ),
                KeySource::DataDir(_) => table.add("secret key", Verdict::Warn, detail),
                _ => table.pass("secret key", detail),
            }
            Some(vault)
        }
        Err(e) if matches!(settings.secret_key, KeySource::DataDir(_)) && !production => {
            table.add(
                "secret key",
                Verdict::Warn,
                format!("{e:#}; serve makes one at first start"),
            );
            None
        }
        Err(e) => {
            table.fail("secret key", format!("{e:#}"));
            None
        }
    }
}

fn disk(table: &mut Table, dir: &Path) {
    match rustix::fs::statvfs(dir) {
        Ok(stat) => {
            let free = stat.f_bavail.saturating_mul(stat.f_frsize);
            let total = stat.f_blocks.saturating_mul(stat.f_frsize).max(1);
            let percent = free as f64 * 100.0 / total as f64;
            let detail = format!(
                "{:.1} GB free ({percent:.0}%) at {}",
                free as f64 / 1e9,
                dir.display()
            );
            if free < MIN_FREE_BYTES {
                table.fail("disk space", detail);
            } else if percent < 10.0 {
                table.add("disk space", Verdict::Warn, detail);
            } else {
                table.pass("disk space", detail);
            }
        }
        Err(e) => table.fail("disk space", format!("cannot read {}: {e}", dir.display())),
    }
}

fn port(table: &mut Table, listen: &str) {
    match std::net::TcpListener::bind(listen) {
        Ok(_) => table.pass("port", format!("{listen} is free")),
        Err(e) => table.fail("port", format!("cannot listen on {listen}: {e}")),
    }
}

async fn database_checks(table: &mut Table, settings: &Settings, vault: Option<&Vault>) {
    let storage = match database::open(settings).await {
        Ok(storage) => storage,
        Err(e) => {
            table.fail("database", format!("{e:#}"));
            return;
        }
    };
    let started = Instant::now();
    match storage.ping().await {
        Ok(()) => table.pass(
            "database",
            format!(
                "{} answers in {:.1} ms",
                storage.backend(),
                started.elapsed().as_secs_f64() * 1e3
            ),
        ),
        Err(e) => {
            table.fail("database", e.to_string());
            storage.close().await;
            return;
        }
    }
    match storage.migration_status().await {
        Ok(status)
            if !status.failed.is_empty()
                || !status.newer_one_way.is_empty()
                || status
                    .migrations
                    .iter()
                    .any(|m| m.applied_at.is_some() && !m.checksum_matches) =>
        {
            table.fail("migrations", status.problem().unwrap_or_default());
        }
        Ok(status) => {
            let pending = status.pending().count();
            let one_way: Vec<String> = status
                .pending_one_way()
                .map(|m| m.version.to_string())
                .collect();
            let mut detail = match (pending, one_way.is_empty()) {
                (0, _) => "schema current".to_owned(),
                (n, true) => format!("{n} pending, all additive; serve applies them at start"),
                (n, false) => format!(
                    "{n} pending, serve applies them at start; {} one-way (a binary from before cannot read what is written after): `comanda backup` first",
                    one_way.join(", ")
                ),
            };
            if !status.newer_applied.is_empty() {
                detail.push_str(&format!(
                    "; {} applied by a newer release (fine for a rollback: expand/contract)",
                    status.newer_applied.len()
                ));
            }
            if one_way.is_empty() {
                table.pass("migrations", detail);
            } else {
                table.add("migrations", Verdict::Warn, detail);
            }
        }
        Err(e) => table.fail("migrations", e.to_string()),
    }
    match storage.upkeep_problem().await {
        Ok(None) => table.pass("upkeep", "statistics and space kept by the database"),
        Ok(Some(problem)) => table.add("upkeep", Verdict::Warn, problem),
        Err(e) => table.fail("upkeep", e.to_string()),
    }
    clock(table, settings, &*storage).await;
    if let Some(vault) = vault {
        sealed_secrets(table, &*storage, vault).await;
    }
    storage.close().await;
}

/// Whether the configured keys open every stored secret: one they cannot is a person who
/// cannot sign in.
async fn sealed_secrets(table: &mut Table, storage: &dyn comanda_store::Storage, vault: &Vault) {
    match census(storage, vault).await {
        Ok(c) if c.unopenable > 0 => table.fail(
            "secrets at rest",
            format!(
                "{} cannot be opened with the configured keys: set the key that sealed them in COMANDA_SECRET_KEY_PREVIOUS",
                c.unopenable
            ),
        ),
        Ok(c) => {
            let mut detail = format!("{} sealed under the current key", c.current);
            if c.stale > 0 {
                detail.push_str(&format!("; {} to seal again (serve does it at start)", c.stale));
            }
            table.pass("secrets at rest", detail);
        }
        Err(e) => table.fail("secrets at rest", e.to_string()),
    }
}

/// The clock must not run behind what the database has already seen, and on PostgreSQL
/// must agree with the database server's.
async fn clock(table: &mut Table, settings: &Settings, storage: &dyn comanda_store::Storage) {
    let now = Utc::now();
    if let DatabaseTarget::Postgres { url } = &settings.database
        && let Ok(db_now) = comanda_store_postgres::PgAdmin::new(url.expose())
    {
        match db_now.server_time().await {
            Ok(theirs) => {
                let skew = (theirs - now).num_milliseconds() as f64 / 1e3;
                let detail = format!("{skew:+.3} s from the database server");
                if skew.abs() > MAX_CLOCK_SKEW_SECS {
                    table.fail("clock", detail);
                } else {
                    table.pass("clock", detail);
                }
            }
            Err(e) => table.fail("clock", format!("cannot read the database's clock: {e}")),
        }
        return;
    }
    let latest = storage
        .applied_migrations()
        .await
        .ok()
        .and_then(|m| m.iter().map(|m| m.applied_at).max());
    match latest {
        Some(at) if at > now => table.fail(
            "clock",
            format!(
                "{} is before the last migration ({at}): the clock is behind",
                now.format("%Y-%m-%d %H:%M:%S")
            ),
        ),
        _ => table.pass("clock", format!("{} UTC", now.format("%Y-%m-%d %H:%M:%S"))),
    }
}

fn backups(table: &mut Table, settings: &Settings, production: bool) {
    let strict = if production {
        Verdict::Fail
    } else {
        Verdict::Warn
    };
    if matches!(settings.database, DatabaseTarget::Postgres { .. }) {
        match std::process::Command::new("pg_dump")
            .arg("--version")
            .output()
        {
            Ok(out) if out.status.success() => {}
            _ => {
                table.add(
                    "backup tools",
                    strict,
                    "pg_dump not found: install postgresql-client",
                );
            }
        }
    }
    let dir = &settings.backup_dir;
    match retention::list(dir) {
        Ok(list) => match list.first() {
            Some(newest) => {
                let hours = (Utc::now() - newest.taken_at).num_minutes() as f64 / 60.0;
                let detail = format!("newest {} ({hours:.1} h old)", newest.file);
                if hours <= BACKUP_MAX_AGE_HOURS as f64 {
                    table.pass("backup", detail);
                } else {
                    table.add("backup", strict, detail);
                }
            }
            None => table.add(
                "backup",
                strict,
                format!("none in {}: run `comanda backup`", dir.display()),
            ),
        },
        Err(e) => table.add(
            "backup",
            strict,
            format!("cannot read {}: {e}", dir.display()),
        ),
    }
}
