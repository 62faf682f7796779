//! Shifts, running sales totals and Z reports on every backend.

use super::new_store;
use crate::{SalesPosition, Storage, StoreError};
use comanda_domain::reports::{Dimension, Total, Totals};
use comanda_domain::shifts::{CashCount, CashDirection, DrawerSales, Shift};
use comanda_domain::{DeviceId, clock};
use std::sync::Arc;

fn sale(amount: i64) -> Totals {
    let mut totals = Totals::default();
    totals.rows.insert(
        (Dimension::Sales, "total".into()),
        Total {
            count: 1,
            amount,
            ..Total::default()
        },
    );
    totals
}

pub async fn one_open_shift_per_terminal_numbered_and_versioned(db: Arc<dyn Storage>) {
    let store = db.create_store(&new_store("caixa")).await.expect("store");
    let till = DeviceId::new();
    let first = Shift::open(store.id, till, 10_000, None, clock::now()).expect("shift");
    let opened = db.open_shift(&first).await.expect("open");
    assert_eq!(opened.number, 1);
    let twin = Shift::open(store.id, till, 0, None, clock::now()).expect("shift");
    let err = db.open_shift(&twin).await.expect_err("second open shift");
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                entity: "shift",
                field: "device_id"
            }
        ),
        "{err:?}"
    );
    let other = Shift::open(store.id, DeviceId::new(), 0, None, clock::now()).expect("shift");
    assert_eq!(db.open_shift(&other).await.expect("open").number, 2);
    assert_eq!(
        db.open_shift_of(store.id, till)
            .await
            .expect("read")
            .map(|s| s.id),
        Some(first.id)
    );

    let mut changed = opened.clone();
    changed
        .move_cash(CashDirection::In, 500, "troco", None, clock::now())
        .expect("in");
    let saved = db.save_shift(&changed, 1).await.expect("save");
    assert_eq!(saved.version, 2);
    let stale = db.save_shift(&changed, 1).await.expect_err("stale");
    assert!(
        matches!(stale, StoreError::VersionMismatch { current: 2, .. }),
        "{stale:?}"
    );

    let mut closing = saved.clone();
    let count = CashCount::new(Vec::new(), Some(10_500)).expect("count");
    closing
        .close(count, DrawerSales::default(), None, None, clock::now(), 1)
        .expect("close");
    db.save_shift(&closing, 2).await.expect("closed");
    assert_eq!(db.open_shift_of(store.id, till).await.expect("read"), None);
    assert_eq!(db.list_shifts(store.id, None).await.expect("open").len(), 1);
    assert_eq!(
        db.list_shifts(store.id, Some(1))
            .await
            .expect("day 1")
            .len(),
        1
    );
    // The terminal may open its next shift.
    db.open_shift(&twin).await.expect("next shift");
}

pub async fn sales_totals_move_by_compare_and_set_and_days_close_once(db: Arc<dyn Storage>) {
    let store = db.create_store(&new_store("vendas")).await.expect("store");
    let start = db.sales_position(store.id).await.expect("position");
    assert_eq!(
        (start.applied_seq, start.day, start.day_from_seq),
        (0, 1, 0)
    );

    assert!(
        db.apply_sales(store.id, start, 5, &sale(1_000), &[], &[])
            .await
            .expect("apply")
    );
    // A second folder with the same starting point loses and writes nothing.
    assert!(
        !db.apply_sales(store.id, start, 5, &sale(1_000), &[], &[])
            .await
            .expect("lost")
    );
    let at = db.sales_position(store.id).await.expect("position");
    assert_eq!(at.applied_seq, 5);
    assert!(
        db.apply_sales(store.id, at, 9, &sale(500), &[], &[])
            .await
            .expect("apply")
    );
    let rows = db.sales_totals(store.id, 1).await.expect("totals");
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].total.count, rows[0].total.amount), (2, 1_500));

    let at = db.sales_position(store.id).await.expect("position");
    let stale = SalesPosition {
        applied_seq: 5,
        ..at
    };
    assert!(
        !db.close_day(store.id, stale, clock::now(), None, "{}")
            .await
            .expect("stale close")
    );
    assert!(
        db.close_day(store.id, at, clock::now(), None, "{\"kind\":\"z\"}")
            .await
            .expect("close")
    );
    // Closing the same day again, or folding into it, is refused.
    assert!(
        !db.close_day(store.id, at, clock::now(), None, "{}")
            .await
            .expect("again")
    );
    assert!(
        !db.apply_sales(store.id, at, 12, &sale(1), &[], &[])
            .await
            .expect("closed day")
    );

    let next = db.sales_position(store.id).await.expect("position");
    assert_eq!((next.day, next.day_from_seq, next.applied_seq), (2, 9, 9));
    assert!(
        db.apply_sales(store.id, next, 12, &sale(700), &[], &[])
            .await
            .expect("day 2")
    );
    assert_eq!(
        db.sales_totals(store.id, 2).await.expect("day 2")[0]
            .total
            .amount,
        700
    );
    assert_eq!(
        db.sales_totals(store.id, 1).await.expect("day 1")[0]
            .total
            .amount,
        1_500
    );

    let z = db.z_report(store.id, 1).await.expect("z").expect("kept");
    assert_eq!(
        (z.from_seq, z.to_seq, z.document.as_str()),
        (0, 9, "{\"kind\":\"z\"}")
    );
    let list = db.z_reports(store.id, None, 10).await.expect("list");
    assert_eq!(list.iter().map(|z| z.number).collect::<Vec<_>>(), [1]);
    assert_eq!(db.z_report(store.id, 2).await.expect("none"), None);
}
