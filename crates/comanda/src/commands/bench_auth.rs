//! `comanda bench auth`: what signing in costs, and what every authenticated request
//! pays for its token and scope check. Runs the real router on a local port against the
//! configured database (a temporary SQLite file by default).

use super::bench_env::{self, PASSWORD};
use crate::cli::BenchAuthArgs;
use crate::settings::Settings;
use anyhow::{Context, Result, anyhow, bail};
use comanda_domain::{Permission, Role};
use comanda_server::auth::extract::authenticate;
use std::process::ExitCode;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub async fn run(settings: &Settings, args: &BenchAuthArgs) -> Result<ExitCode> {
    let db = bench_env::open(settings).await?;
    let storage = db.storage.clone();
    let (store, login) = bench_env::store_and_person(&*storage, "USD", Role::Cashier).await?;
    let (state, addr) = bench_env::serve(storage.clone()).await?;

    println!(
        "backend: {}; {} sign-ins over HTTP, {} token checks in process",
        storage.backend(),
        args.logins,
        args.checks
    );
    let body = format!(r#"{{"login":"{login}","password":"{PASSWORD}"}}"#);
    let mut login_ms = Vec::new();
    let mut token = String::new();
    for _ in 0..args.logins.max(1) {
        let started = Instant::now();
        let (status, reply) = post(addr, "/api/v1/auth/login", &body).await?;
        login_ms.push(started.elapsed().as_secs_f64() * 1e3);
        if status != 200 {
            bail!("sign-in answered {status}: {reply}");
        }
        token = reply
            .split("\"access_token\":\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .context("no access token in the reply")?
            .to_owned();
    }

    // The warm path every request takes: signature, expiry, cached session, scope.
    let checks = args.checks.max(1);
    let started = Instant::now();
    for _ in 0..checks {
        let actor = authenticate(&state, &token)
            .await
            .map_err(|e| anyhow!("{e:?}"))?;
        if !(actor.may(Permission::StoreRead) && actor.can_access(store.id)) {
            bail!("the benchmark user lost access");
        }
    }
    let warm_us = started.elapsed().as_secs_f64() * 1e6 / f64::from(checks);

    // The cold path, once per session per cache period: the session and user are read.
    let cold_rounds = 2_000u32;
    let started = Instant::now();
    for _ in 0..cold_rounds {
        state.principals.forget_all();
        authenticate(&state, &token)
            .await
            .map_err(|e| anyhow!("{e:?}"))?;
    }
    let cold_us = started.elapsed().as_secs_f64() * 1e6 / f64::from(cold_rounds);

    login_ms.sort_by(f64::total_cmp);
    let pct = |p: f64| bench_env::percentile(&login_ms, p);
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!("| sign-in over HTTP, p50 | {:.1} ms |", pct(0.5));
    println!("| sign-in over HTTP, p95 | {:.1} ms |", pct(0.95));
    println!("| token + scope check, cached session (every request) | {warm_us:.2} µs |");
    println!(
        "| token + scope check, session read from the database (once per 5 s) | {cold_us:.1} µs |"
    );
    storage.close().await;
    Ok(ExitCode::SUCCESS)
}

/// One HTTP/1.1 request on a fresh connection; returns the status and body.
async fn post(addr: std::net::SocketAddr, path: &str, body: &str) -> Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr).await?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}
