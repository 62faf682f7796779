//! Properties of orders under any sequence of changes.

use super::commands::{Actor, OrderPolicy, child_of};
use super::lines::{Discount, DiscountValue, LineStatus, OrderLine};
use super::totals::totals;
use super::{Order, OrderKind, OrderStatus, RateSnapshot};
use crate::money::Currency;
use crate::rounding::RoundingMode;
use crate::tax::{Pricing, Rate, RoundingScope, TaxKind, TaxPolicy};
use crate::{OrderId, OrderLineId, ProductId, StoreId, TaxRateId, VariantId, clock};
use proptest::prelude::*;

pub(super) fn rates() -> Vec<RateSnapshot> {
    let rate = |name: &str, kind, units, compound| RateSnapshot {
        id: TaxRateId::new(),
        name: name.into(),
        kind,
        rate: Rate::from_units(units).expect("rate"),
        compound,
    };
    vec![
        rate("PPN", TaxKind::Tax, 110_000, true),
        rate("Serviço", TaxKind::ServiceCharge, 100_000, false),
        rate("Sales tax", TaxKind::Tax, 70_000, false),
    ]
}

pub(super) fn order(policy: TaxPolicy) -> Order {
    let mut order = Order::new(
        StoreId::new(),
        OrderKind::DineIn,
        Currency::Brl,
        policy,
        None,
        clock::now(),
    );
    order.guests = Some(4);
    order
}

pub(super) fn line(
    price: i64,
    quantity: i64,
    modifiers: i64,
    rates: Vec<TaxRateId>,
    seat: u16,
) -> OrderLine {
    OrderLine {
        id: OrderLineId::new(),
        product_id: ProductId::new(),
        variant_id: VariantId::new(),
        name: "Item".into(),
        sku: None,
        station: None,
        category_id: None,
        age_restricted: None,
        quantity,
        unit_price: price,
        modifiers: Vec::new(),
        modifiers_price: modifiers,
        tax_rate_ids: rates,
        notes: None,
        course: None,
        seat: Some(seat),
        discount: None,
        status: LineStatus::Pending,
        void_reason: None,
        voided_by: None,
        added_by: None,
        added_at: clock::now(),
        sent_at: None,
        done_at: None,
        held: false,
        holds_stock: false,
    }
}

#[derive(Clone, Debug)]
enum Op {
    Add {
        price: i64,
        quantity: i64,
        modifiers: i64,
        rate_mask: u8,
        seat: u16,
    },
    Send,
    Void(usize),
    LineDiscount(usize, bool, u32),
    OrderDiscount(bool, u32),
    Tip(i64),
    SplitOff(usize),
    MergeBack,
    SplitEqual(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0i64..50_000, 1i64..20, -500i64..2_000, 0u8..8, 1u16..5).prop_map(|(price, quantity, modifiers, rate_mask, seat)| Op::Add { price, quantity, modifiers, rate_mask, seat }),
        1 => Just(Op::Send),
        1 => (0usize..20).prop_map(Op::Void),
        1 => (0usize..20, any::<bool>(), 1u32..1_000_000).prop_map(|(i, p, v)| Op::LineDiscount(i, p, v)),
        1 => (any::<bool>(), 1u32..1_000_000).prop_map(|(p, v)| Op::OrderDiscount(p, v)),
        1 => (0i64..5_000).prop_map(Op::Tip),
        1 => (1usize..4).prop_map(Op::SplitOff),
        1 => Just(Op::MergeBack),
        1 => (2i64..10).prop_map(Op::SplitEqual),
    ]
}

pub(super) fn policy() -> impl Strategy<Value = TaxPolicy> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(inclusive, per_order, even)| {
        TaxPolicy {
            pricing: if inclusive {
                Pricing::TaxInclusive
            } else {
                Pricing::TaxExclusive
            },
            rounding_scope: if per_order {
                RoundingScope::Order
            } else {
                RoundingScope::Line
            },
            rounding_mode: if even {
                RoundingMode::HalfEven
            } else {
                RoundingMode::HalfUp
            },
        }
    })
}

pub(super) fn discount(percent: bool, value: u32) -> Discount {
    Discount {
        value: if percent {
            DiscountValue::Percent(Rate::from_units(value).expect("rate"))
        } else {
            DiscountValue::Amount(i64::from(value / 10))
        },
        reason: "cortesia".into(),
        applied_by: None,
        approved_by: None,
    }
}

/// Totals equal the sum of their lines, and their parts add up.
pub(super) fn consistent(order: &Order) -> Result<(), TestCaseError> {
    let t = totals(order).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(t.total, t.lines.iter().map(|l| l.total).sum::<i64>());
    prop_assert_eq!(t.tax, t.lines.iter().map(|l| l.tax).sum::<i64>());
    prop_assert_eq!(t.service, t.lines.iter().map(|l| l.service).sum::<i64>());
    prop_assert_eq!(t.discounts, t.lines.iter().map(|l| l.discount).sum::<i64>());
    prop_assert_eq!(t.subtotal, t.lines.iter().map(|l| l.gross).sum::<i64>());
    prop_assert_eq!(t.net + t.tax + t.service, t.total);
    prop_assert_eq!(t.due, t.total + t.tip);
    prop_assert!(
        t.lines
            .iter()
            .all(|l| l.discount <= l.gross && l.total >= 0)
    );
    if let Some(parts) = &order.parts {
        prop_assert_eq!(parts.iter().sum::<i64>(), t.due);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_sequence_of_changes_keeps_totals_equal_to_their_lines(policy in policy(), ops in prop::collection::vec(op(), 1..40)) {
        let all_rates = rates();
        let mut order = order(policy);
        let mut split: Option<Order> = None;
        let manager = Actor { user: None, can_approve: true, approver: None };
        let rules = OrderPolicy::default();
        for op in ops {
            // Refusals are fine (the op did not fit the state); what is accepted must add up.
            let _ = match op {
                Op::Add { price, quantity, modifiers, rate_mask, seat } => {
                    let chosen: Vec<TaxRateId> = all_rates.iter().enumerate().filter(|(i, _)| rate_mask & (1 << i) != 0).map(|(_, r)| r.id).collect();
                    order.add_lines(vec![line(price, quantity, modifiers, chosen, seat)], all_rates.clone()).map(|_| ())
                }
                Op::Send => order.send(clock::now()).map(|_| ()),
                Op::Void(i) => match order.lines.get(i).map(|l| l.id) {
                    Some(id) => order.void_line(id, "erro", manager, &rules).map(|_| ()),
                    None => Ok(()),
                },
                Op::LineDiscount(i, p, v) => match order.lines.get(i).map(|l| l.id) {
                    Some(id) => order.set_line_discount(id, Some(discount(p, v)), manager, &rules).map(|_| ()),
                    None => Ok(()),
                },
                Op::OrderDiscount(p, v) => order.set_discount(Some(discount(p, v)), manager, &rules).map(|_| ()),
                Op::Tip(tip) => order.set_tip(tip).map(|_| ()),
                Op::SplitOff(n) if split.is_none() => {
                    let ids: Vec<OrderLineId> = order.lines.iter().take(n).map(|l| l.id).collect();
                    let mut child = child_of(&order, OrderId::new(), 2, clock::now());
                    let before: i64 = totals(&order).map(|t| t.subtotal).unwrap_or_default();
                    let result = order.split_lines_to(&ids, &mut child);
                    if result.is_ok() {
                        let after = totals(&order).map(|t| t.subtotal).unwrap_or_default()
                            + totals(&child).map(|t| t.subtotal).unwrap_or_default();
                        prop_assert_eq!(before, after, "a split keeps every line's price");
                        consistent(&child)?;
                        split = Some(child);
                    }
                    result.map(|_| ())
                }
                Op::SplitOff(_) => Ok(()),
                Op::MergeBack => match split.take() {
                    Some(mut child) => {
                        let before = totals(&order).map(|t| t.subtotal).unwrap_or_default()
                            + totals(&child).map(|t| t.subtotal).unwrap_or_default();
                        let result = order.merge_from(&mut child);
                        if result.is_ok() {
                            prop_assert_eq!(totals(&order).map(|t| t.subtotal).unwrap_or_default(), before);
                            prop_assert!(child.lines.is_empty() && child.status == OrderStatus::Merged);
                        }
                        result.map(|_| ())
                    }
                    None => Ok(()),
                },
                Op::SplitEqual(n) => order.split_equal(n).map(|_| ()),
            };
            consistent(&order)?;
        }
    }
}
