use crate::database;
use crate::settings::{DatabaseTarget, ServeSettings, Settings};
use anyhow::{Context, Result};
use comanda_server::auth::limiter::Limiter;
use comanda_server::readiness::Readiness;
use comanda_server::startup::{self, BootstrapReport, StartupError};
use comanda_server::{AppState, Drain};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub async fn run(
    settings: &Settings,
    serve: ServeSettings,
    process_started: Instant,
) -> Result<ExitCode> {
    settings.prepare_data_dir()?;
    let vault = settings.vault(true)?;
    let _lock = match &settings.database {
        DatabaseTarget::Sqlite { path } => Some(database::lock_sqlite(path)?),
        DatabaseTarget::Postgres { .. } => None,
    };
    let storage = database::open(settings).await?;
    let listener = TcpListener::bind(serve.listen)
        .await
        .with_context(|| format!("cannot listen on {}", serve.listen))?;
    let url = format!("http://{}", listener.local_addr()?);
    tracing::info!(database = %settings.database, "comanda listening on {url}");

    let limiter = match &serve.redis_url {
        Some(url) => {
            Limiter::redis(url.expose(), "comanda:ratelimit:").map_err(anyhow::Error::msg)?
        }
        None => Limiter::local(),
    };
    let state = AppState::with_auth(
        storage.clone(),
        Readiness::starting(),
        serve.auth.clone(),
        limiter,
    );
    if let Some(config) = &serve.stripe {
        let stripe =
            comanda_server::stripe::Stripe::new(config.clone()).map_err(anyhow::Error::msg)?;
        state.set_stripe(stripe);
    }

    state.set_webhook_config(serve.webhooks.clone());
    state.set_vault(vault);
    state.set_deadlines(serve.deadlines);

    // Start-up (migrations, first-run setup) runs beside the listener so probes can see
    // why the instance is not ready yet; a fatal start-up error stops the server.
    let (fatal_tx, fatal_rx) = oneshot::channel::<StartupError>();
    let fatal: Arc<Mutex<Option<StartupError>>> = Arc::default();
    let startup_task = {
        let (backup_every, retention) = (serve.backup_every, serve.retention);
        let (target, backup_dir) = (settings.database.clone(), settings.backup_dir.clone());
        let state = state.clone();
        let plan = serve.startup.clone();
        tokio::spawn(async move {
            match startup::prepare(&state, &plan).await {
                Ok(report) => {
                    announce_bootstrap(&report);
                    let ready_ms = process_started.elapsed().as_secs_f64() * 1e3;
                    tracing::info!(ready_ms, "ready to take orders");
                    comanda_server::idempotency::spawn_purger(state.clone());
                    comanda_server::statistics::spawn_upkeep(state.clone());
                    comanda_server::packing::spawn_upkeep(state.clone());
                    comanda_server::sales::follow_logs(state.clone());
                    if let Some(every) = backup_every {
                        tokio::spawn(scheduled_backups(every, retention, target, backup_dir));
                    }
                    if let Err(e) = comanda_server::webhooks::start(state.clone()) {
                        tracing::error!(error = %e, "webhook delivery cannot start");
                    }
                }
                Err(e) => {
                    let _ = fatal_tx.send(e);
                }
            }
        })
    };
    let stop = {
        let fatal = fatal.clone();
        async move {
            tokio::select! {
                () = comanda_server::shutdown_signal() => {}
                Ok(error) = fatal_rx => {
                    if let Ok(mut slot) = fatal.lock() {
                        *slot = Some(error);
                    }
                }
            }
        }
    };

    let gauges = state.metrics.connection_gauges();
    let drain = comanda_server::serve(
        listener,
        comanda_server::router(state),
        stop,
        serve.connections,
        gauges,
    )
    .await?;
    startup_task.abort();
    if drain == Drain::TimedOut {
        tracing::warn!("grace period over; requests still in flight were cut");
    }
    tracing::info!("requests drained; closing the database");
    storage.close().await;
    let fatal = fatal.lock().ok().and_then(|mut slot| slot.take());
    if let Some(error) = fatal {
        return Err(anyhow::anyhow!("start-up failed: {error}"));
    }
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// The one time a generated owner password is shown. Printed to stderr, not logged, so it
/// does not travel into log indexes as a structured field.
fn announce_bootstrap(report: &BootstrapReport) {
    let BootstrapReport::Created {
        login,
        store_code,
        generated_password,
    } = report
    else {
        return;
    };
    let rule = "-".repeat(64);
    eprintln!("{rule}");
    eprintln!("comanda: first run. Created store \"{store_code}\" and its owner.");
    eprintln!("  login:    {login}");
    match generated_password {
        Some(password) => {
            eprintln!("  password: {}", password.expose());
            eprintln!("  This password is shown once and must be changed at first sign-in.");
            eprintln!("  Set COMANDA_BOOTSTRAP_PASSWORD to choose it yourself.");
        }
        None => eprintln!("  password: as set in COMANDA_BOOTSTRAP_PASSWORD"),
    }
    eprintln!("{rule}");
}

/// A backup every `every`, each followed by pruning. A failure is logged and retried at
/// the next turn; `comanda check` reports a backup that is too old.
async fn scheduled_backups(
    every: std::time::Duration,
    retention: crate::backup::retention::Policy,
    target: DatabaseTarget,
    dir: std::path::PathBuf,
) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match crate::backup::create(&target, &dir, &[]).await {
            Ok(created) => tracing::info!(
                path = %created.path.display(),
                bytes = created.archive_bytes,
                rows = created.manifest.rows(),
                seconds = created.manifest.seconds,
                "scheduled backup written"
            ),
            Err(e) => tracing::error!(error = %format!("{e:#}"), "scheduled backup failed"),
        }
        let pruned = {
            let dir = dir.clone();
            tokio::task::spawn_blocking(move || super::backup::prune_dir(&dir, retention, false))
                .await
        };
        match pruned {
            Ok(Ok((kept, removed))) => {
                tracing::info!(kept = kept.len(), removed = removed.len(), "backups pruned")
            }
            Ok(Err(e)) => tracing::error!(error = %format!("{e:#}"), "pruning backups failed"),
            Err(e) => tracing::error!(error = %e, "pruning backups failed"),
        }
    }
}
