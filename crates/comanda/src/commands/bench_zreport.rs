//! `comanda bench zreport`: end of day on a big store. Writes N paid orders (two lines of
//! a 200-product, 10-category catalog, paid in cash or on a card terminal, taken by five
//! cashiers) straight through the storage's order commits, many orders per commit, while
//! the server's follower folds the log into the running totals as it would on a busy
//! night. Then measures, through the real router, the X report (the day so far) and the
//! Z report that closes the day, and checks both count every order once.

use super::bench_env::{self, percentile};
use crate::cli::BenchZreportArgs;
use crate::settings::Settings;
use anyhow::{Result, anyhow};
use comanda_domain::catalog::inputs::{CategoryInput, ProductInput};
use comanda_domain::orders::commands::Actor;
use comanda_domain::orders::lines::{LineStatus, OrderLine};
use comanda_domain::orders::payments::{TenderInput, TenderKind, Till};
use comanda_domain::orders::{Order, OrderKind, RateSnapshot};
use comanda_domain::tax::{Rate, TaxKind, TaxPolicy};
use comanda_domain::{
    Currency, OrderId, OrderLineId, PaymentId, Role, StoreId, TaxRateId, UserId, clock,
};
use comanda_store::{OrderCommit, OrderWrite, Storage, StoredResponse};
use serde_json::json;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

const PRODUCTS: usize = 200;
const CATEGORIES: usize = 10;
const CASHIERS: usize = 5;
/// Orders written per commit, and writers committing at once.
const PER_COMMIT: usize = 50;
const WRITERS: usize = 8;

struct Item {
    product: comanda_domain::ProductId,
    variant: comanda_domain::VariantId,
    category: comanda_domain::CategoryId,
    name: String,
    price: i64,
}

fn paid_order(
    store: comanda_domain::StoreId,
    items: &[Item],
    rate: &RateSnapshot,
    cashiers: &[UserId],
    n: usize,
) -> Result<(Order, Vec<comanda_domain::orders::commands::Event>)> {
    let now = clock::now();
    let cashier = cashiers[n % cashiers.len()];
    let mut order = Order::new(
        store,
        OrderKind::Counter,
        Currency::Brl,
        TaxPolicy::default(),
        Some(cashier),
        now,
    );
    order.rates = vec![rate.clone()];
    for k in 0..2 {
        let item = &items[(n * 7 + k * 13) % items.len()];
        order.lines.push(OrderLine {
            id: OrderLineId::new(),
            product_id: item.product,
            variant_id: item.variant,
            name: item.name.clone(),
            sku: None,
            station: None,
            category_id: Some(item.category),
            age_restricted: None,
            quantity: 1 + (n + k) as i64 % 3,
            unit_price: item.price,
            modifiers: Vec::new(),
            modifiers_price: 0,
            tax_rate_ids: vec![rate.id],
            notes: None,
            course: None,
            seat: None,
            discount: None,
            status: LineStatus::Served,
            void_reason: None,
            voided_by: None,
            added_by: Some(cashier),
            added_at: now,
            sent_at: Some(now),
            done_at: Some(now),
            held: false,
            holds_stock: false,
        });
    }
    let mut events = vec![order.opened_event()];
    let kind = if n.is_multiple_of(3) {
        TenderKind::ExternalCard
    } else {
        TenderKind::Cash
    };
    let actor = Actor {
        user: Some(cashier),
        can_approve: false,
        approver: None,
    };
    let till = Till {
        cash_increment: 5,
        device: None,
        shift: None,
        at: now,
    };
    let tender = TenderInput {
        kind,
        amount: None,
        tip: 0,
        reference: None,
    };
    events.extend(
        order
            .take_payment(PaymentId::new(), tender, actor, till)
            .map_err(|e| anyhow!("{e}"))?,
    );
    Ok((order, events))
}

pub async fn run(settings: &Settings, args: &BenchZreportArgs) -> Result<ExitCode> {
    let db = bench_env::open(settings).await?;
    let storage = db.storage.clone();
    let (store, login) = bench_env::store_and_person(&*storage, "BRL", Role::Manager).await?;
    let (state, addr) = bench_env::serve(storage.clone()).await?;
    comanda_server::sales::follow_logs(state.clone());
    let client = reqwest::Client::new();
    let token = bench_env::sign_in(&client, addr, &login).await?;
    println!(
        "backend: {}; writing {} paid orders ({} per commit, {} writers) while the totals follow the log",
        storage.backend(),
        args.orders,
        PER_COMMIT,
        WRITERS
    );
    let started = Instant::now();
    let expected_total = write_paid_day(storage.clone(), store.id, args.orders)
        .await?
        .total;

    let written = started.elapsed();
    println!(
        "written: {} orders in {:.1} s ({:.0} orders/s)",
        args.orders,
        written.as_secs_f64(),
        args.orders as f64 / written.as_secs_f64()
    );

    // The follower keeps up while orders arrive; what is left to fold at the end is
    // what a report would wait for.
    let lag_from = Instant::now();
    let (position, guard) = comanda_server::sales::caught_up(&state, store.id)
        .await
        .map_err(|e| anyhow!("{}", e.message))?;
    drop(guard);
    println!(
        "totals caught up {:.1} s after the last write (log at seq {}), {:.1} s in all",
        lag_from.elapsed().as_secs_f64(),
        position.applied_seq,
        started.elapsed().as_secs_f64()
    );

    let base = format!("http://{addr}/api/v1/stores/{}/reports", store.id);
    let mut x_ms = Vec::new();
    let mut x_total = 0;
    for _ in 0..args.samples {
        let t = Instant::now();
        let r: serde_json::Value = client
            .get(format!("{base}/x"))
            .bearer_auth(&token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        x_ms.push(t.elapsed().as_secs_f64() * 1e3);
        x_total = r["sales"]["orders"].as_i64().unwrap_or(0);
    }
    x_ms.sort_by(f64::total_cmp);
    let t = Instant::now();
    let z = client
        .post(format!("{base}/z"))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await?;
    let status = z.status();
    let z_text = z.text().await?;
    let z_ms = t.elapsed().as_secs_f64() * 1e3;
    let z: serde_json::Value = serde_json::from_str(&z_text)?;
    let (z_orders, z_sum) = (
        z["sales"]["orders"].as_i64().unwrap_or(0),
        z["sales"]["total"].as_i64().unwrap_or(0),
    );
    println!(
        "X report over {x_total} orders: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} samples)",
        percentile(&x_ms, 0.5),
        percentile(&x_ms, 0.99),
        x_ms.last().copied().unwrap_or(f64::NAN),
        x_ms.len()
    );
    println!(
        "Z report (closes the day) over {z_orders} orders: {z_ms:.1} ms, {} KiB, status {status}",
        z_text.len() / 1024
    );
    let counted = z_orders == args.orders as i64 && x_total == z_orders && z_sum == expected_total;
    println!(
        "check: {} (orders {z_orders} of {}, total {z_sum} of {expected_total})",
        if counted {
            "every order counted once"
        } else {
            "MISMATCH"
        },
        args.orders
    );
    Ok(if counted && status.as_u16() == 201 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// What [`write_paid_day`] wrote.
pub struct PaidDay {
    /// The total due over every order.
    pub total: i64,
    pub ids: Vec<OrderId>,
}

/// Writes a day of `orders` paid orders into `store` (a 200-product catalog first),
/// many orders per commit.
pub async fn write_paid_day(
    storage: Arc<dyn Storage>,
    store: StoreId,
    orders: usize,
) -> Result<PaidDay> {
    let err = |e: comanda_domain::ValidationError| anyhow!("{e}");
    let mut categories = Vec::new();
    for c in 0..CATEGORIES {
        let draft =
            serde_json::from_value::<CategoryInput>(json!({ "name": format!("Categoria {c}") }))?
                .parse()
                .map_err(err)?;
        categories.push(
            storage
                .create_category(store, &draft)
                .await
                .map_err(|e| anyhow!("{e}"))?
                .id,
        );
    }
    let mut items = Vec::with_capacity(PRODUCTS);
    for p in 0..PRODUCTS {
        let price = 500 + (p as i64 % 40) * 125;
        let draft = serde_json::from_value::<ProductInput>(json!({
            "name": format!("Produto {p}"), "category_id": categories[p % CATEGORIES],
            "variants": [{ "price": { "amount": price, "currency": "BRL" } }],
        }))?
        .parse(Currency::Brl)
        .map_err(err)?;
        let product = storage
            .create_product(store, &draft)
            .await
            .map_err(|e| anyhow!("{e}"))?;
        items.push(Item {
            product: product.id,
            variant: product.variants[0].id,
            category: categories[p % CATEGORIES],
            name: product.name.as_str().to_owned(),
            price,
        });
    }
    let rate = RateSnapshot {
        id: TaxRateId::new(),
        name: "ISS".into(),
        kind: TaxKind::Tax,
        rate: Rate::from_units(50_000).ok_or_else(|| anyhow!("rate"))?,
        compound: false,
    };
    let cashiers: Vec<UserId> = (0..CASHIERS).map(|_| UserId::new()).collect();

    let items = Arc::new(items);
    let cashiers = Arc::new(cashiers);
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (storage, items, cashiers, rate) = (
            storage.clone(),
            items.clone(),
            cashiers.clone(),
            rate.clone(),
        );
        let total = orders;
        writers.push(tokio::spawn(async move {
            let mut due: i64 = 0;
            let mut ids = Vec::with_capacity(total / WRITERS + PER_COMMIT);
            let mut n = w * PER_COMMIT;
            while n < total {
                let mut orders = Vec::with_capacity(PER_COMMIT);
                let mut events = Vec::new();
                for k in 0..PER_COMMIT.min(total - n) {
                    let (order, logged) = paid_order(store, &items, &rate, &cashiers, n + k)?;
                    due += comanda_domain::orders::totals::totals(&order)
                        .map_err(|e| anyhow!("{e}"))?
                        .due;
                    events.extend(logged.into_iter().map(|e| (orders.len(), e)));
                    ids.push(order.id);
                    orders.push(OrderWrite {
                        order,
                        expected_version: None,
                    });
                }
                let commit = OrderCommit {
                    store,
                    orders,
                    events,
                    actor: None,
                    device: None,
                    idempotency: None,
                };
                let respond = Box::new(|_: &[Order]| {
                    Ok(StoredResponse {
                        status: 201,
                        headers: Vec::new(),
                        body: Vec::new(),
                    })
                });
                storage
                    .commit_orders(commit, respond)
                    .await
                    .map_err(|e| anyhow!("{e}"))?;
                n += WRITERS * PER_COMMIT;
            }
            Ok::<_, anyhow::Error>((due, ids))
        }));
    }
    let mut day = PaidDay {
        total: 0,
        ids: Vec::with_capacity(orders),
    };
    for w in writers {
        let (due, ids) = w.await??;
        day.total += due;
        day.ids.extend(ids);
    }
    Ok(day)
}
