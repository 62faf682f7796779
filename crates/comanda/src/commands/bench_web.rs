//! `comanda bench web`: the POS as a cheap tablet runs it. A store with the evening's menu
//! (30 products with two modifier groups), 12 tables and 10 tabs in the kitchen is served
//! in-process; `e2e/bench-web.mjs` drives Debian's Chromium (playwright-core) with the CPU
//! slowed down (4x by default, Chrome DevTools' "low-end mobile") and measures a cold load
//! of the POS, a tap on a table until its order screen is drawn, Send until the floor is
//! back, and the bytes another terminal's floor reads per order changed. Needs Node and
//! Chromium, as the browser tests do.

use super::bench_env::{self, percentile};
use crate::cli::BenchWebArgs;
use crate::settings::Settings;
use anyhow::{Context, Result, anyhow, bail};
use comanda_domain::Role;
use serde_json::{Value, json};
use std::process::{Command, ExitCode};

/// What each measure may take on the throttled tablet (issue 27), in ms.
const BUDGETS: [(&str, &str, f64); 3] = [
    ("cold_load_ms", "POS cold load", 1000.0),
    ("tap_table_ms", "tap a table -> order screen", 300.0),
    ("send_ms", "Send -> floor", 300.0),
];

pub async fn run(settings: &Settings, args: &BenchWebArgs) -> Result<ExitCode> {
    let db = bench_env::open(settings).await?;
    let storage = db.storage.clone();
    let (store, login) = bench_env::store_and_person(&*storage, "BRL", Role::Manager).await?;
    let lines = bench_env::menu(&*storage, store.id).await?;
    let (_state, addr) = bench_env::serve(storage.clone()).await?;
    let client = reqwest::Client::new();
    let token = bench_env::sign_in(&client, addr, &login).await?;
    let base = format!("http://{addr}/api/v1/stores/{}", store.id);
    for n in 1..=12 {
        let table = bench_env::post(
            &client,
            &format!("{base}/tables"),
            &token,
            json!({ "name": format!("Mesa {n}") }),
        )
        .await?;
        if n > 10 {
            continue;
        }
        let order = bench_env::post(
            &client,
            &format!("{base}/orders"),
            &token,
            json!({ "kind": "dine_in", "table_id": table["id"], "lines": lines[..3] }),
        )
        .await?;
        let id = order["id"].as_str().ok_or_else(|| anyhow!("no order id"))?;
        bench_env::post(
            &client,
            &format!("{base}/orders/{id}/send"),
            &token,
            json!({ "version": order["version"] }),
        )
        .await?;
    }
    println!(
        "backend: {}; {} runs with the CPU {}x slower; 30 products, 12 tables, 10 tabs open",
        storage.backend(),
        args.runs,
        args.throttle
    );

    let output = Command::new("node")
        .arg("bench-web.mjs")
        .current_dir(&args.e2e)
        .env("COMANDA_URL", format!("http://{addr}"))
        .env("COMANDA_STORE", store.id.to_string())
        .env("COMANDA_LOGIN", &login)
        .env("COMANDA_PASSWORD", bench_env::PASSWORD)
        .env("COMANDA_RUNS", args.runs.to_string())
        .env("COMANDA_THROTTLE", args.throttle.to_string())
        .output()
        .with_context(|| format!("node in {} (npm ci there first)", args.e2e.display()))?;
    if !output.status.success() {
        bail!(
            "bench-web.mjs failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let seen: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .with_context(|| format!("bench-web.mjs said: {stdout}"))?;

    println!(
        "{:<32} {:>8} {:>8} {:>8} {:>8}",
        "", "p50 ms", "p90 ms", "max ms", "budget"
    );
    let mut within = true;
    for (key, label, budget) in BUDGETS {
        let mut samples: Vec<f64> = seen[key]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default();
        samples.sort_by(f64::total_cmp);
        let p50 = percentile(&samples, 0.5);
        within &= p50 <= budget;
        println!(
            "{label:<32} {p50:>8.0} {:>8.0} {:>8.0} {budget:>8.0}",
            percentile(&samples, 0.9),
            samples.last().copied().unwrap_or(0.0)
        );
    }
    println!(
        "POS page on a cold cache: {:.1} KB transferred",
        seen["cold_bytes"].as_f64().unwrap_or(0.0) / 1024.0
    );
    println!(
        "another terminal's floor, per order changed: {} request(s), {:.1} KB (the whole floor: {:.1} KB)",
        seen["floor_requests_per_change"],
        seen["floor_bytes_per_change"].as_f64().unwrap_or(0.0) / 1024.0,
        seen["floor_full_bytes"].as_f64().unwrap_or(0.0) / 1024.0
    );
    println!(
        "{}",
        if within {
            "every median within its budget"
        } else {
            "OVER BUDGET (median)"
        }
    );
    Ok(ExitCode::SUCCESS)
}
