//! The `comanda` binary: one executable for the server and every operator command.

mod allocator;
mod backup;
mod cli;
mod commands;
mod database;
mod logging;
mod settings;

use clap::Parser;
use cli::{Cli, Command};
use settings::{ServeSettings, Settings};
use std::process::ExitCode;

use std::time::{Duration, Instant};

fn main() -> ExitCode {
    allocator::start_with_options();
    let started = Instant::now();
    let cli = Cli::parse();
    match run(cli, started) {
        Ok(code) => code,
        Err(error) => {
            // One line that names the problem: operators grep for it, and a backtrace
            // would bury it.
            let message = format!("{error:#}").replace('\n', " ");
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli, started: Instant) -> anyhow::Result<ExitCode> {
    let file = settings::load_file(cli.global.config.as_deref())?;
    let settings = Settings::resolve(&cli.global, &file)?;
    let serve = match &cli.command {
        Command::Serve(args) => Some(ServeSettings::resolve(args, &file)?),
        Command::Bench(cli::BenchCommand::Startup(args)) => {
            return commands::bench::startup(&settings, args);
        }
        Command::Migrate(_)
        | Command::User(_)
        | Command::Catalog(_)
        | Command::Audit(_)
        | Command::Backup(_)
        | Command::Restore(_)
        | Command::Check(_)
        | Command::Smoke(_)
        | Command::Bench(
            cli::BenchCommand::Auth(_)
            | cli::BenchCommand::Catalog(_)
            | cli::BenchCommand::Orders(_)
            | cli::BenchCommand::Kds(_)
            | cli::BenchCommand::Zreport(_)
            | cli::BenchCommand::Outbox(_)
            | cli::BenchCommand::Backup(_)
            | cli::BenchCommand::Storage(_)
            | cli::BenchCommand::Reads(_)
            | cli::BenchCommand::Web(_),
        ) => None,
    };
    // Benchmarks print a table; the server's own request log would only bury it.
    let filter = if matches!(cli.command, Command::Bench(_)) {
        "warn"
    } else {
        settings.log_filter.as_str()
    };
    logging::init(settings.log_format, filter)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let outcome = runtime.block_on(async {
        match (&cli.command, serve) {
            (Command::Serve(_), Some(serve)) => {
                commands::serve::run(&settings, serve, started).await
            }
            (Command::Migrate(args), _) => commands::migrate::run(&settings, args).await,
            (Command::User(command), _) => commands::user::run(&settings, command).await,
            (Command::Catalog(command), _) => commands::catalog::run(&settings, command).await,
            (Command::Audit(command), _) => commands::audit::run(&settings, command).await,
            (Command::Backup(args), _) => commands::backup::run(&settings, args).await,
            (Command::Restore(args), _) => commands::backup::restore(&settings, args).await,
            (Command::Check(args), _) => commands::check::run(&settings, args).await,
            (Command::Smoke(args), _) => commands::smoke::run(args).await,
            (Command::Bench(cli::BenchCommand::Auth(args)), _) => {
                commands::bench_auth::run(&settings, args).await
            }
            (Command::Bench(cli::BenchCommand::Catalog(args)), _) => {
                commands::bench_catalog::run(&settings, args).await
            }
            (Command::Bench(cli::BenchCommand::Orders(args)), _) => {
                commands::bench_orders::run(&settings, args).await
            }
            (Command::Bench(cli::BenchCommand::Kds(args)), _) => {
                commands::bench_kds::run(&settings, args).await
            }
            (Command::Bench(cli::BenchCommand::Zreport(args)), _) => {
                commands::bench_zreport::run(&settings, args).await
            }
            (Command::Bench(cli::BenchCommand::Outbox(args)), _) => {
                commands::bench_outbox::run(&settings, args).await
            }
            (Command::Bench(cli::BenchCommand::Backup(args)), _) => {
                commands::bench_backup::run(&settings, args).await
            }
            (Command::Bench(cli::BenchCommand::Reads(args)), _) => {
                commands::bench_reads::run(&settings, args).await
            }
            (Command::Bench(cli::BenchCommand::Web(args)), _) => {
                commands::bench_web::run(&settings, args).await
            }
            (Command::Bench(cli::BenchCommand::Storage(args)), _) => {
                commands::bench_storage::run(&settings, args).await
            }
            (Command::Serve(_), None) | (Command::Bench(cli::BenchCommand::Startup(_)), _) => {
                unreachable!("handled above")
            }
        }
    });
    // Blocking work (password hashing) is short; do not let it hold the exit.
    runtime.shutdown_timeout(Duration::from_secs(2));
    outcome
}
