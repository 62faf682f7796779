//! `comanda bench catalog`: a catalog at the size of a large shop, through the real
//! HTTP API. Imports a generated CSV (100,000 products, each with 5 modifier groups),
//! then times the menu document (first build, from memory, gzipped, and 304), and
//! searches by name prefix and by barcode.

use super::bench_env::{self, percentile};
use crate::cli::BenchCatalogArgs;
use crate::settings::Settings;
use anyhow::{Context, Result, anyhow, bail};
use comanda_domain::catalog::inputs::{ModifierGroupInput, TaxRateInput};
use comanda_domain::{Currency, Role};
use reqwest::StatusCode;
use serde_json::json;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Instant;

const GROUPS: u32 = 20;
const WORDS: [&str; 16] = [
    "Pizza", "Pastel", "Picanha", "Pão", "Cerveja", "Cachaça", "Suco", "Salada", "Bolo", "Café",
    "Açaí", "Whisky", "Vinho", "Água", "Nasi", "Sate",
];
const KINDS: [&str; 8] = [
    "Especial",
    "da Casa",
    "Grande",
    "Média",
    "Artesanal",
    "Premium",
    "Tradicional",
    "Light",
];

pub async fn run(settings: &Settings, args: &BenchCatalogArgs) -> Result<ExitCode> {
    let db = bench_env::open(settings).await?;
    let storage = db.storage.clone();
    let (store, login) = bench_env::store_and_person(&*storage, "BRL", Role::Manager).await?;
    let tax = serde_json::from_value::<TaxRateInput>(
        json!({ "name": "ICMS", "rate": "18", "default": true }),
    )?
    .parse()
    .map_err(|e| anyhow!("{e}"))?;
    storage
        .create_tax_rate(store.id, &tax)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    for g in 0..GROUPS {
        let group = serde_json::from_value::<ModifierGroupInput>(json!({
            "name": format!("Grupo {g}"), "max_choices": 2,
            "options": (0..4).map(|o| json!({ "name": format!("Opção {o}"), "price_delta": { "amount": o * 150, "currency": "BRL" } })).collect::<Vec<_>>(),
        }))?
        .parse(Currency::Brl)
        .map_err(|e| anyhow!("{e}"))?;
        storage
            .create_modifier_group(store.id, &group)
            .await
            .map_err(|e| anyhow!("{e}"))?;
    }
    let (_state, addr) = bench_env::serve(storage.clone()).await?;
    let base = format!("http://{addr}/api/v1/stores/{}/catalog", store.id);
    let client = reqwest::Client::new();
    let token = bench_env::sign_in(&client, addr, &login).await?;

    let n = args.products.max(1);
    let groups = args.groups_per_product.clamp(0, GROUPS);
    let csv = generate(n, groups);
    println!(
        "backend: {}; {n} products, {groups} modifier groups each, {:.1} MB of CSV",
        storage.backend(),
        csv.len() as f64 / 1e6
    );

    let started = Instant::now();
    let imported = client
        .post(format!("{base}/import"))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await?;
    let import_s = started.elapsed().as_secs_f64();
    if imported.status() != StatusCode::OK {
        bail!(
            "import answered {}: {}",
            imported.status(),
            imported.text().await?
        );
    }

    let get = |path: String, gzip: bool, tag: Option<String>| {
        let mut request = client.get(path).bearer_auth(&token);
        if gzip {
            request = request.header("accept-encoding", "gzip");
        }
        if let Some(tag) = tag {
            request = request.header("if-none-match", tag);
        }
        async move {
            let started = Instant::now();
            let response = request.send().await?;
            let status = response.status();
            let etag = response
                .headers()
                .get("etag")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let bytes = response.bytes().await?;
            Ok::<_, anyhow::Error>((
                started.elapsed().as_secs_f64() * 1e3,
                status,
                etag,
                bytes.len(),
            ))
        }
    };
    let menu = format!("{base}/menu");
    let (cold_ms, status, etag, plain_bytes) = get(menu.clone(), false, None).await?;
    if status != StatusCode::OK {
        bail!("menu answered {status}");
    }
    let etag = etag.context("the menu has no ETag")?;
    // The database read alone, for comparison with the first request.
    let started = Instant::now();
    let data = storage.menu(store.id).await.map_err(|e| anyhow!("{e}"))?;
    let read_ms = started.elapsed().as_secs_f64() * 1e3;
    drop(data);
    let mut warm = Vec::new();
    let mut zipped = Vec::new();
    let mut gzip_bytes = 0;
    for _ in 0..20 {
        warm.push(get(menu.clone(), false, None).await?.0);
        let (ms, _, _, size) = get(menu.clone(), true, None).await?;
        zipped.push(ms);
        gzip_bytes = size;
    }
    let mut not_modified = Vec::new();
    for _ in 0..500 {
        let (ms, status, _, _) = get(menu.clone(), false, Some(etag.clone())).await?;
        if status != StatusCode::NOT_MODIFIED {
            bail!("an unchanged menu answered {status}, not 304");
        }
        not_modified.push(ms);
    }

    let mut by_name = Vec::new();
    let mut by_barcode = Vec::new();
    let mut found = 0usize;
    for i in 0..args.searches {
        let k = (u64::from(i) * 7_919) % u64::from(n);
        let name = product_name(k as u32);
        let prefix: String = name.chars().take(3 + (i as usize % 6)).collect();
        let (ms, status, _, size) = get(
            format!("{base}/products?limit=20&q={}", encode(&prefix)),
            false,
            None,
        )
        .await?;
        if status != StatusCode::OK {
            bail!("search answered {status}");
        }
        found += usize::from(size > 20);
        by_name.push(ms);
        let (ms, _, _, _) = get(
            format!("{base}/products?limit=20&q={}", barcode(k as u32)),
            false,
            None,
        )
        .await?;
        by_barcode.push(ms);
    }
    for samples in [
        &mut warm,
        &mut zipped,
        &mut not_modified,
        &mut by_name,
        &mut by_barcode,
    ] {
        samples.sort_by(f64::total_cmp);
    }
    if found == 0 {
        bail!("no search found anything");
    }
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!("| CSV import, {n} rows over HTTP | {import_s:.2} s |");
    println!(
        "| menu, first request (built from the database) | {cold_ms:.0} ms, {:.1} MB |",
        plain_bytes as f64 / 1e6
    );
    println!("| of which reading the catalog from the database | {read_ms:.0} ms |");
    println!(
        "| menu, later requests, p50 / max | {:.0} / {:.0} ms |",
        percentile(&warm, 0.5),
        percentile(&warm, 1.0)
    );
    println!(
        "| menu gzipped, p50 / max | {:.0} / {:.0} ms, {:.1} MB |",
        percentile(&zipped, 0.5),
        percentile(&zipped, 1.0),
        gzip_bytes as f64 / 1e6
    );
    println!(
        "| menu unchanged (304), p50 / p99 | {:.2} / {:.2} ms |",
        percentile(&not_modified, 0.5),
        percentile(&not_modified, 0.99)
    );
    println!(
        "| search by name prefix, p50 / p99 | {:.2} / {:.2} ms |",
        percentile(&by_name, 0.5),
        percentile(&by_name, 0.99)
    );
    println!(
        "| search by barcode, p50 / p99 | {:.2} / {:.2} ms |",
        percentile(&by_barcode, 0.5),
        percentile(&by_barcode, 0.99)
    );
    storage.close().await;
    Ok(ExitCode::SUCCESS)
}

fn product_name(i: u32) -> String {
    let word = WORDS[(i % 16) as usize];
    let kind = KINDS[((i / 16) % 8) as usize];
    format!("{word} {kind} {i}")
}

/// A valid EAN-13 for product `i`: prefix 789 (Brazil), nine digits, check digit.
fn barcode(i: u32) -> String {
    let body = format!("789{i:09}");
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(k, b)| u32::from(b - b'0') * if k % 2 == 0 { 3 } else { 1 })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

fn encode(text: &str) -> String {
    text.bytes().fold(String::new(), |mut out, b| {
        if b.is_ascii_alphanumeric() {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
        out
    })
}

/// The import file: one row per product, in 140 categories under 20 parents.
fn generate(n: u32, groups: u32) -> String {
    let mut csv = String::with_capacity(n as usize * 140);
    csv.push_str("category,product,sku,barcode,price,modifier_groups,station,track_stock\n");
    for i in 0..n {
        let names: Vec<String> = (0..groups)
            .map(|g| format!("Grupo {}", (i + g * 3) % GROUPS))
            .collect();
        let _ = writeln!(
            csv,
            "Categoria {}/Seção {},{},SKU-{i:07},{},{}.{:02},{},{},{}",
            i % 20,
            i % 7,
            product_name(i),
            barcode(i),
            1 + i % 200,
            i % 100,
            names.join("|"),
            ["grill", "bar", "cold"][(i % 3) as usize],
            i % 2 == 0
        );
    }
    csv
}
