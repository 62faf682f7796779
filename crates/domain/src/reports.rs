//! Sales reports (X: the business day so far; Z: the day closed) from running totals.
//! The totals are folded from the order log: every `paid` event carries the sale as a
//! report counts it, every tender, refund, void and refused sale its own amounts, so a
//! report adds up a few hundred rows of totals instead of reading the day's orders.
//! A business day is a stretch of the log: it ends at the sequence its Z was taken at.

use crate::ids::ShiftId;
use crate::money::saturating_sum;
use crate::shifts::{Shift, ShiftStatus};
use chrono::{DateTime, Timelike};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;

/// What a row of totals counts.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// Keys `total` (orders, total, tax), `subtotal`, `discounts`, `net`, `service`, `tip`.
    Sales,
    Category,
    Product,
    /// Who opened the order.
    Staff,
    /// The store's local hour the order was paid, "00" to "23".
    Hour,
    /// A tax or service rate: amount, and its base in `extra`.
    Rate,
    /// A tender kind: count, amount, tips in `extra`.
    Tender,
    /// Cash rounding booked on cash tenders.
    Rounding,
    Void,
    Refund,
    /// Refunds by the tender kind they went back to.
    RefundTender,
    /// Sales refused at the age check.
    Refused,
    Cancelled,
    /// A shift's drawer (key: shift id, or "none"): cash taken, and cash refunded in `extra`.
    Drawer,
}

impl Dimension {
    pub const ALL: [Dimension; 14] = [
        Dimension::Sales,
        Dimension::Category,
        Dimension::Product,
        Dimension::Staff,
        Dimension::Hour,
        Dimension::Rate,
        Dimension::Tender,
        Dimension::Rounding,
        Dimension::Void,
        Dimension::Refund,
        Dimension::RefundTender,
        Dimension::Refused,
        Dimension::Cancelled,
        Dimension::Drawer,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Dimension::Sales => "sales",
            Dimension::Category => "category",
            Dimension::Product => "product",
            Dimension::Staff => "staff",
            Dimension::Hour => "hour",
            Dimension::Rate => "rate",
            Dimension::Tender => "tender",
            Dimension::Rounding => "rounding",
            Dimension::Void => "void",
            Dimension::Refund => "refund",
            Dimension::RefundTender => "refund_tender",
            Dimension::Refused => "refused",
            Dimension::Cancelled => "cancelled",
            Dimension::Drawer => "drawer",
        }
    }
}

impl std::str::FromStr for Dimension {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|d| d.as_str() == s).ok_or(())
    }
}

/// One row of running totals (or a change to one).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Total {
    pub label: String,
    pub count: i64,
    pub quantity: i64,
    pub amount: i64,
    pub tax: i64,
    pub extra: i64,
}

impl Total {
    fn add(&mut self, other: &Total) {
        if !other.label.is_empty() {
            self.label.clone_from(&other.label);
        }
        // Sums of a day's log: saturate rather than wrap (see `saturating_sum`).
        self.count = self.count.saturating_add(other.count);
        self.quantity = self.quantity.saturating_add(other.quantity);
        self.amount = self.amount.saturating_add(other.amount);
        self.tax = self.tax.saturating_add(other.tax);
        self.extra = self.extra.saturating_add(other.extra);
    }
}

/// Changes to the totals, merged by row.
#[derive(Debug, Default)]
pub struct Totals {
    pub rows: HashMap<(Dimension, String), Total>,
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

fn key(v: &Value) -> String {
    v.as_str().map_or_else(|| "none".to_owned(), str::to_owned)
}

/// What a sale's line sold: its product and variant (`product/variant`), so that a
/// Picanha 300 g and a Picanha 500 g are two rows, each with the name it was sold under.
/// Lines of sales kept before variants were told apart have the product alone.
fn sold_key(line: &Value) -> String {
    match line["variant_id"].as_str() {
        Some(variant) => format!("{}/{variant}", key(&line["product_id"])),
        None => key(&line["product_id"]),
    }
}

impl Totals {
    fn add(&mut self, dimension: Dimension, key: String, change: Total) {
        self.rows.entry((dimension, key)).or_default().add(&change);
    }

    /// Folds one logged event in. `at` is when it was logged, in the store's zone.
    pub fn fold<Tz: chrono::TimeZone>(&mut self, kind: &str, payload: &Value, at: DateTime<Tz>) {
        match kind {
            "paid" => self.fold_sale(payload, at.hour()),
            "payment_taken" => {
                let p = &payload["payment"];
                if p["kind"] == "cash" && p["status"] == "captured" {
                    let drawer = int(&p["amount"]).saturating_add(int(&p["rounding"]));
                    self.add(
                        Dimension::Drawer,
                        key(&p["shift_id"]),
                        Total {
                            count: 1,
                            amount: drawer,
                            ..Total::default()
                        },
                    );
                }
            }
            "refunded" => {
                let r = &payload["refund"];
                let amount = int(&r["amount"]);
                self.add(
                    Dimension::Refund,
                    "all".into(),
                    Total {
                        count: 1,
                        amount,
                        ..Total::default()
                    },
                );
                for t in r["tenders"].as_array().into_iter().flatten() {
                    let given = int(&t["amount"]);
                    self.add(
                        Dimension::RefundTender,
                        key(&t["kind"]),
                        Total {
                            count: 1,
                            amount: given,
                            ..Total::default()
                        },
                    );
                    if t["kind"] == "cash" {
                        self.add(
                            Dimension::Drawer,
                            key(&r["shift_id"]),
                            Total {
                                extra: given,
                                ..Total::default()
                            },
                        );
                    }
                }
            }
            "line_voided" => self.add(
                Dimension::Void,
                "lines".into(),
                Total {
                    count: 1,
                    amount: int(&payload["amount"]),
                    ..Total::default()
                },
            ),
            "sale_refused" => self.add(
                Dimension::Refused,
                "age".into(),
                Total {
                    count: 1,
                    ..Total::default()
                },
            ),
            "cancelled" => self.add(
                Dimension::Cancelled,
                "orders".into(),
                Total {
                    count: 1,
                    ..Total::default()
                },
            ),
            _ => {}
        }
    }

    fn fold_sale(&mut self, sale: &Value, hour: u32) {
        let total = int(&sale["total"]);
        let one = |amount: i64| Total {
            amount,
            ..Total::default()
        };
        self.add(
            Dimension::Sales,
            "total".into(),
            Total {
                count: 1,
                amount: total,
                tax: int(&sale["tax"]),
                ..Total::default()
            },
        );
        for field in ["subtotal", "discounts", "net", "service", "tip"] {
            self.add(Dimension::Sales, field.into(), one(int(&sale[field])));
        }
        self.add(
            Dimension::Staff,
            key(&sale["opened_by"]),
            Total {
                count: 1,
                amount: total,
                extra: int(&sale["tip"]),
                ..Total::default()
            },
        );
        self.add(
            Dimension::Hour,
            format!("{hour:02}"),
            Total {
                count: 1,
                amount: total,
                ..Total::default()
            },
        );
        for line in sale["lines"].as_array().into_iter().flatten() {
            let change = Total {
                label: String::new(),
                count: 1,
                quantity: int(&line["quantity"]),
                amount: int(&line["total"]),
                tax: int(&line["tax"]),
                extra: int(&line["discount"]),
            };
            self.add(
                Dimension::Category,
                key(&line["category_id"]),
                change.clone(),
            );
            self.add(
                Dimension::Product,
                sold_key(line),
                Total {
                    label: line["name"].as_str().unwrap_or_default().to_owned(),
                    ..change
                },
            );
        }
        for rate in sale["rates"].as_array().into_iter().flatten() {
            self.add(
                Dimension::Rate,
                key(&rate["rate_id"]),
                Total {
                    label: format!(
                        "{} {} %",
                        rate["name"].as_str().unwrap_or_default(),
                        rate["rate"].as_str().unwrap_or_default()
                    ),
                    amount: int(&rate["amount"]),
                    extra: int(&rate["base"]),
                    count: 0,
                    ..Total::default()
                },
            );
        }
        for tender in sale["tenders"].as_array().into_iter().flatten() {
            self.add(
                Dimension::Tender,
                key(&tender["kind"]),
                Total {
                    count: 1,
                    amount: int(&tender["amount"]),
                    extra: int(&tender["tip"]),
                    ..Total::default()
                },
            );
            let rounding = int(&tender["rounding"]);
            if rounding != 0 {
                self.add(Dimension::Rounding, key(&tender["kind"]), one(rounding));
            }
        }
    }
}

/// The stock a logged event moved: a sale takes its lines' quantities out, a refund
/// puts the refunded quantities back; `reference` names the order in the ledger.
pub fn stock_moved(
    kind: &str,
    payload: &Value,
    reference: &str,
    actor: Option<crate::ids::UserId>,
) -> Vec<crate::catalog::stock::NewMovement> {
    use crate::catalog::stock::{MovementKind, NewMovement};
    let (lines, movement, sign) = match kind {
        "paid" => (&payload["lines"], MovementKind::Sale, -1),
        "refunded" => (&payload["lines"], MovementKind::Refund, 1),
        _ => return Vec::new(),
    };
    lines
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|line| {
            let variant = line["variant_id"].as_str()?.parse().ok()?;
            let quantity = int(&line["quantity"]);
            (quantity > 0).then(|| NewMovement {
                variant_id: variant,
                kind: movement,
                quantity: sign * quantity,
                reason: None,
                reference: Some(reference.to_owned()),
                actor,
            })
        })
        .collect()
}

/// A stored row of totals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TotalRow {
    pub dimension: Dimension,
    pub key: String,
    pub total: Total,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SalesSummary {
    pub orders: i64,
    pub subtotal: i64,
    pub discounts: i64,
    pub net: i64,
    pub tax: i64,
    pub service: i64,
    pub total: i64,
    pub tip: i64,
    /// Total less refunds given back during the day.
    pub net_of_refunds: i64,
}

/// A line of a breakdown (by category, product, staff, hour, rate, tender).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Breakdown {
    pub key: String,
    pub name: String,
    /// By product: the product and variant sold (the key names both).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant_id: Option<String>,
    pub count: i64,
    pub quantity: i64,
    pub amount: i64,
    pub tax: i64,
    /// Discounts (products, categories), tips (staff, tenders), the base (rates).
    pub extra: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct DrawerReport {
    pub shift_id: ShiftId,
    pub number: i64,
    pub device_id: crate::ids::DeviceId,
    pub status: ShiftStatus,
    pub float: i64,
    pub cash_in: i64,
    pub cash_out: i64,
    pub cash_sales: i64,
    pub cash_refunds: i64,
    pub expected: i64,
    pub counted: Option<i64>,
    pub difference: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct CashReport {
    pub shifts: Vec<DrawerReport>,
    pub expected: i64,
    pub counted: i64,
    pub difference: i64,
    /// Cash taken outside any shift (by the back office or an integration).
    pub outside_shifts: i64,
    /// Shifts not closed yet: their drawers are not counted, so `counted` and
    /// `difference` are the closed shifts' alone.
    pub open_shifts: i64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Counted {
    pub count: i64,
    pub amount: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SalesReport {
    pub sales: SalesSummary,
    pub by_category: Vec<Breakdown>,
    pub by_product: Vec<Breakdown>,
    pub by_staff: Vec<Breakdown>,
    pub by_hour: Vec<Breakdown>,
    pub taxes: Vec<Breakdown>,
    pub tenders: Vec<Breakdown>,
    pub cash_rounding: i64,
    pub voids: Counted,
    pub refunds: Counted,
    pub refunds_by_tender: Vec<Breakdown>,
    pub refused_sales: i64,
    pub cancelled_orders: i64,
    pub cash: CashReport,
}

impl SalesReport {
    /// The report from a day's totals and the shifts that worked in it; `name` names a
    /// category, person or product the rows know only by id.
    pub fn build(
        rows: &[TotalRow],
        shifts: &[(Shift, crate::shifts::DrawerSales)],
        name: impl Fn(Dimension, &str) -> Option<String>,
    ) -> Self {
        let of = |dimension: Dimension| -> Vec<Breakdown> {
            let mut lines: Vec<Breakdown> = rows
                .iter()
                .filter(|r| r.dimension == dimension)
                .map(|r| Breakdown {
                    key: r.key.clone(),
                    name: name(dimension, &r.key)
                        .or_else(|| (!r.total.label.is_empty()).then(|| r.total.label.clone()))
                        .unwrap_or_else(|| r.key.clone()),
                    product_id: (dimension == Dimension::Product)
                        .then(|| r.key.split('/').next().unwrap_or_default().to_owned()),
                    variant_id: (dimension == Dimension::Product)
                        .then(|| r.key.split('/').nth(1).map(str::to_owned))
                        .flatten(),
                    count: r.total.count,
                    quantity: r.total.quantity,
                    amount: r.total.amount,
                    tax: r.total.tax,
                    extra: r.total.extra,
                })
                .collect();
            if dimension == Dimension::Hour {
                lines.sort_by(|a, b| a.key.cmp(&b.key));
            } else {
                lines.sort_by(|a, b| b.amount.cmp(&a.amount).then(a.name.cmp(&b.name)));
            }
            lines
        };
        let sales_row = |key: &str| {
            rows.iter()
                .find(|r| r.dimension == Dimension::Sales && r.key == key)
                .map(|r| r.total.clone())
                .unwrap_or_default()
        };
        let counted = |dimension: Dimension| {
            rows.iter()
                .filter(|r| r.dimension == dimension)
                .fold(Counted::default(), |c, r| Counted {
                    count: c.count.saturating_add(r.total.count),
                    amount: c.amount.saturating_add(r.total.amount),
                })
        };
        let total = sales_row("total");
        let refunds = counted(Dimension::Refund);
        let sales = SalesSummary {
            orders: total.count,
            subtotal: sales_row("subtotal").amount,
            discounts: sales_row("discounts").amount,
            net: sales_row("net").amount,
            tax: total.tax,
            service: sales_row("service").amount,
            total: total.amount,
            tip: sales_row("tip").amount,
            net_of_refunds: total.amount.saturating_sub(refunds.amount),
        };
        let drawers: Vec<DrawerReport> = shifts
            .iter()
            .map(|(shift, drawer)| {
                let (cash_in, cash_out) =
                    shift
                        .movements
                        .iter()
                        .fold((0_i64, 0_i64), |(i, o), m| match m.direction {
                            crate::shifts::CashDirection::In => (i.saturating_add(m.amount), o),
                            crate::shifts::CashDirection::Out => (i, o.saturating_add(m.amount)),
                        });
                let closing = shift.closing.as_ref();
                DrawerReport {
                    shift_id: shift.id,
                    number: shift.number,
                    device_id: shift.device_id,
                    status: shift.status,
                    float: shift.float,
                    cash_in,
                    cash_out,
                    cash_sales: drawer.cash_sales,
                    cash_refunds: drawer.cash_refunds,
                    expected: closing.map_or_else(|| shift.expected(*drawer), |c| c.expected),
                    counted: closing.map(|c| c.count.total),
                    difference: closing.map(|c| c.difference),
                }
            })
            .collect();
        let outside = rows
            .iter()
            .filter(|r| r.dimension == Dimension::Drawer && r.key == "none")
            .map(|r| r.total.amount.saturating_sub(r.total.extra));
        let outside = saturating_sum(outside);
        let open_shifts = drawers.iter().filter(|d| d.counted.is_none()).count();
        let cash = CashReport {
            open_shifts: i64::try_from(open_shifts).unwrap_or(i64::MAX),
            expected: saturating_sum(drawers.iter().map(|d| d.expected)),
            counted: saturating_sum(drawers.iter().filter_map(|d| d.counted)),
            difference: saturating_sum(drawers.iter().filter_map(|d| d.difference)),
            shifts: drawers,
            outside_shifts: outside,
        };
        Self {
            sales,
            by_category: of(Dimension::Category),
            by_product: of(Dimension::Product),
            by_staff: of(Dimension::Staff),
            by_hour: of(Dimension::Hour),
            taxes: of(Dimension::Rate),
            tenders: of(Dimension::Tender),
            cash_rounding: counted(Dimension::Rounding).amount,
            voids: counted(Dimension::Void),
            refunds,
            refunds_by_tender: of(Dimension::RefundTender),
            refused_sales: counted(Dimension::Refused).count,
            cancelled_orders: counted(Dimension::Cancelled).count,
            cash,
        }
    }
}

/// What a shift's drawer took, from the day's totals.
pub fn drawer_of(rows: &[TotalRow], shift: ShiftId) -> crate::shifts::DrawerSales {
    let key = shift.to_string();
    rows.iter()
        .find(|r| r.dimension == Dimension::Drawer && r.key == key)
        .map(|r| crate::shifts::DrawerSales {
            cash_sales: r.total.amount,
            cash_refunds: r.total.extra,
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sale() -> Value {
        json!({
            "opened_by": "u1", "subtotal": 3000, "discounts": 100, "net": 2900, "tax": 290,
            "service": 0, "total": 3190, "tip": 200, "due": 3390,
            "rates": [{ "rate_id": "r1", "name": "ISS", "rate": "10", "base": 2900, "amount": 290 }],
            "lines": [
                { "product_id": "p1", "category_id": "c1", "name": "Pastel", "quantity": 2, "total": 2090, "tax": 190, "discount": 100 },
                { "product_id": "p2", "category_id": null, "name": "Suco", "quantity": 1, "total": 1100, "tax": 100, "discount": 0 },
            ],
            "tenders": [
                { "kind": "cash", "amount": 1390, "tip": 0, "rounding": 10 },
                { "kind": "external_card", "amount": 2000, "tip": 200, "rounding": 0 },
            ],
        })
    }

    fn rows(totals: Totals) -> Vec<TotalRow> {
        totals
            .rows
            .into_iter()
            .map(|((dimension, key), total)| TotalRow {
                dimension,
                key,
                total,
            })
            .collect()
    }

    #[test]
    fn each_variant_sold_is_its_own_row_under_its_own_name() {
        let mut totals = Totals::default();
        let at = DateTime::parse_from_rfc3339("2026-11-30T21:15:00-03:00").expect("time");
        let line = |variant: &str, name: &str, quantity: i64, total: i64| {
            json!({ "product_id": "picanha", "variant_id": variant, "category_id": null,
                    "name": name, "quantity": quantity, "total": total, "tax": 0, "discount": 0 })
        };
        totals.fold(
            "paid",
            &json!({ "total": 8000, "lines": [line("v300", "Picanha (300 g)", 1, 8000)] }),
            at,
        );
        totals.fold(
            "paid",
            &json!({ "total": 24000, "lines": [line("v500", "Picanha (500 g)", 2, 24000)] }),
            at,
        );
        // A sale kept before variants were told apart stays a row of its product.
        totals.fold(
            "paid",
            &json!({ "total": 500, "lines": [{ "product_id": "agua", "name": "Água", "quantity": 1, "total": 500 }] }),
            at,
        );
        let report = SalesReport::build(&rows(totals), &[], |_, _| None);
        let sold: Vec<_> = report
            .by_product
            .iter()
            .map(|b| {
                (
                    b.name.as_str(),
                    b.product_id.as_deref(),
                    b.variant_id.as_deref(),
                    b.quantity,
                    b.amount,
                )
            })
            .collect();
        assert_eq!(
            sold,
            vec![
                ("Picanha (500 g)", Some("picanha"), Some("v500"), 2, 24000),
                ("Picanha (300 g)", Some("picanha"), Some("v300"), 1, 8000),
                ("Água", Some("agua"), None, 1, 500),
            ]
        );
        assert!(report.by_category.iter().all(|b| b.product_id.is_none()));
    }

    #[test]
    fn a_day_of_events_adds_up_to_its_report() {
        let mut totals = Totals::default();
        let at = DateTime::parse_from_rfc3339("2026-11-30T21:15:00-03:00").expect("time");
        for _ in 0..3 {
            totals.fold("paid", &sale(), at);
        }
        let shift = ShiftId::new();
        totals.fold(
            "payment_taken",
            &json!({ "payment": { "kind": "cash", "status": "captured", "amount": 1390, "rounding": 10, "shift_id": shift } }),
            at,
        );
        totals.fold(
            "refunded",
            &json!({ "refund": { "amount": 1045, "shift_id": shift, "tenders": [{ "kind": "cash", "amount": 1045 }] } }),
            at,
        );
        totals.fold("line_voided", &json!({ "amount": 500 }), at);
        totals.fold("sale_refused", &json!({}), at);
        totals.fold("lines_added", &json!({ "lines": [] }), at);
        let rows = rows(totals);
        let report = SalesReport::build(&rows, &[], |d, k| {
            (d == Dimension::Category && k == "c1").then(|| "Salgados".to_owned())
        });
        assert_eq!(report.sales.orders, 3);
        assert_eq!(report.sales.total, 9_570);
        assert_eq!(report.sales.tax, 870);
        assert_eq!(report.sales.tip, 600);
        assert_eq!(report.sales.net_of_refunds, 9_570 - 1_045);
        assert_eq!(report.by_category[0].name, "Salgados");
        assert_eq!(report.by_category[1].key, "none");
        assert_eq!(report.by_product[0].name, "Pastel");
        assert_eq!(report.by_product[0].quantity, 6);
        assert_eq!(report.by_hour[0].key, "21", "the store's local hour");
        assert_eq!(report.taxes[0].amount, 870);
        assert_eq!(report.taxes[0].extra, 8_700);
        assert_eq!(report.tenders[0].key, "external_card");
        assert_eq!(report.tenders[1].amount, 4_170);
        assert_eq!(report.cash_rounding, 30);
        assert_eq!(
            report.refunds,
            Counted {
                count: 1,
                amount: 1_045
            }
        );
        assert_eq!(
            report.voids,
            Counted {
                count: 1,
                amount: 500
            }
        );
        assert_eq!(report.refused_sales, 1);
        assert_eq!(
            drawer_of(&rows, shift),
            crate::shifts::DrawerSales {
                cash_sales: 1_400,
                cash_refunds: 1_045
            }
        );
    }
}
