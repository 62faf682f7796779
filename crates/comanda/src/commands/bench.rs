//! `comanda bench startup`: starts this very executable as `comanda serve` on a fresh
//! SQLite database (or the configured PostgreSQL one), times exec-to-`/ready` from the
//! outside, then reads the idle server's memory from `/proc`. Blocking std code only, so
//! the measuring process does not disturb the measured one.

use crate::cli::BenchStartupArgs;
use crate::settings::{DatabaseTarget, Settings};
use anyhow::{Context, Result, bail};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

pub fn startup(settings: &Settings, args: &BenchStartupArgs) -> Result<ExitCode> {
    let exe = std::env::current_exe().context("cannot find this executable")?;
    let size = std::fs::metadata(&exe)?.len();
    let postgres = match &settings.database {
        DatabaseTarget::Postgres { url } => Some(url.expose().to_owned()),
        DatabaseTarget::Sqlite { .. } => None,
    };
    let backend = if postgres.is_some() {
        "postgres (configured database)"
    } else {
        "sqlite (new file each run)"
    };
    println!(
        "binary: {} ({:.1} MiB)",
        exe.display(),
        size as f64 / 1048576.0
    );
    println!(
        "backend: {backend}; runs: {}; idle before memory reading: {} s",
        args.runs, args.idle_secs
    );

    let mut ready_ms = Vec::new();
    let mut restart_ms = Vec::new();
    let mut idle_rss_kib = Vec::new();
    let mut peak_rss_kib = Vec::new();
    let mut stop_ms = Vec::new();
    for run in 0..args.runs.max(1) {
        let dir = tempfile::Builder::new()
            .prefix("comanda-bench-")
            .tempdir()?;
        // First start: brand-new database (migrations + first-run setup).
        let (mut child, took) = start(&exe, dir.path(), postgres.as_deref())?;
        ready_ms.push(took);
        std::thread::sleep(Duration::from_secs(args.idle_secs));
        let (rss, hwm) = memory_kib(child.id())?;
        idle_rss_kib.push(rss as f64);
        peak_rss_kib.push(hwm as f64);
        stop_ms.push(stop(&mut child)?);
        // Second start on the same database: what a restart or a rollout costs.
        let (mut again, took) = start(&exe, dir.path(), postgres.as_deref())?;
        restart_ms.push(took);
        stop(&mut again)?;
        eprint!("\rrun {}/{}", run + 1, args.runs);
    }
    eprintln!();

    println!();
    println!("| measure | median | min | max |");
    println!("|---|---|---|---|");
    row("start to /ready, new database (ms)", &mut ready_ms);
    row("start to /ready, existing database (ms)", &mut restart_ms);
    row(
        "idle RSS (MiB)",
        &mut idle_rss_kib.iter().map(|k| k / 1024.0).collect::<Vec<_>>(),
    );
    row(
        "peak RSS (MiB)",
        &mut peak_rss_kib.iter().map(|k| k / 1024.0).collect::<Vec<_>>(),
    );
    row("SIGTERM to exit (ms)", &mut stop_ms);
    Ok(ExitCode::SUCCESS)
}

fn row(name: &str, values: &mut [f64]) {
    values.sort_by(f64::total_cmp);
    let median = values[values.len() / 2];
    println!(
        "| {name} | {median:.1} | {:.1} | {:.1} |",
        values[0],
        values[values.len() - 1]
    );
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Spawns `serve` and polls `/ready` every millisecond; returns once it answers 200.
fn start(
    exe: &std::path::Path,
    dir: &std::path::Path,
    postgres: Option<&str>,
) -> Result<(Child, f64)> {
    let port = free_port()?;
    let mut cmd = Command::new(exe);
    cmd.arg("serve")
        .env_clear()
        .env("COMANDA_DATA_DIR", dir)
        .env("COMANDA_LISTEN", format!("127.0.0.1:{port}"))
        .env("COMANDA_LOG", "warn")
        .env("COMANDA_BOOTSTRAP_PASSWORD", "bench passphrase 1234")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // PostgreSQL keeps secrets encrypted with the operator's key; the server needs it.
    if let Some(key) = std::env::var_os("COMANDA_SECRET_KEY") {
        cmd.env("COMANDA_SECRET_KEY", key);
    }
    if let Some(url) = postgres {
        cmd.env("COMANDA_DATABASE_URL", url);
    }
    let started = Instant::now();
    let mut child = cmd.spawn().context("cannot start comanda serve")?;
    loop {
        if ready(port) {
            return Ok((child, started.elapsed().as_secs_f64() * 1e3));
        }
        if let Some(status) = child.try_wait()? {
            let mut said = String::new();
            if let Some(mut stderr) = child.stderr.take() {
                let _ = stderr.read_to_string(&mut said);
            }
            let last = said.lines().last().unwrap_or_default().to_owned();
            bail!("comanda serve exited early ({status}): {last}");
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            bail!("comanda serve was not ready within 30 s");
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn ready(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let request = b"GET /ready HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n";
    if stream.write_all(request).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && &head[9..12] == b"200"
}

/// Current and peak resident set size, in KiB.
fn memory_kib(pid: u32) -> Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .context("reading /proc (Linux only)")?;
    let field = |name: &str| -> Result<u64> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .with_context(|| format!("no {name} in /proc/{pid}/status"))
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

fn stop(child: &mut Child) -> Result<f64> {
    let started = Instant::now();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()?;
    let status = child.wait()?;
    if !status.success() {
        bail!("comanda serve exited with {status} after SIGTERM");
    }
    Ok(started.elapsed().as_secs_f64() * 1e3)
}
