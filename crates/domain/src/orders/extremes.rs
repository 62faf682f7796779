//! Orders at the limits: prices, options, quantities, lines, compound taxes, discounts,
//! tips, splits, tenders and refunds as large as a client can send them, in any order.
//! Every change is either refused, and the order kept as it was (as the server keeps it),
//! or leaves an order whose totals add up and stay within [`MAX_ORDER_TOTAL`]. Nothing may
//! overflow: these tests run with overflow checks on, so a wrapped sum is a panic.

use super::OrderStatus;
use super::commands::{Actor, OrderPolicy, child_of};
use super::lines::{Discount, DiscountValue};
use super::payments::{TenderInput, TenderKind, Till};
use super::tests::{consistent, line, order, policy, rates};
use super::totals::totals;
use crate::money::{MAX_ORDER_TOTAL, MAX_PRICE};
use crate::tax::Rate;
use crate::{OrderId, OrderLineId, PaymentId, RefundId, TaxRateId, clock};
use proptest::prelude::*;

/// Amounts a client may send, weighted to the edges.
fn amount() -> impl Strategy<Value = i64> {
    prop_oneof![
        2 => Just(MAX_PRICE),
        1 => Just(MAX_PRICE - 1),
        1 => Just(MAX_PRICE / 3),
        1 => Just(1),
        1 => Just(0),
        2 => 0..=MAX_PRICE,
    ]
}

#[derive(Clone, Debug)]
enum Op {
    /// `count` lines at once (the API adds at most a hundred a request; the domain is
    /// asked for more).
    Add {
        price: i64,
        /// What options add to one unit: up to a hundred options at the largest price.
        modifiers: i64,
        quantity: i64,
        count: usize,
        rate_mask: u8,
    },
    Send,
    Void(usize),
    LineDiscount(usize, bool, i64),
    OrderDiscount(bool, i64),
    Tip(i64),
    WaiveService(bool),
    SplitEqual(i64),
    SplitOff(usize),
    Pay(usize, i64, i64),
    Refund(usize),
    RefundRest,
}

fn op() -> impl Strategy<Value = Op> {
    let add = (
        amount(),
        prop_oneof![Just(0), Just(100 * MAX_PRICE), -MAX_PRICE..=100 * MAX_PRICE],
        prop_oneof![Just(999), Just(99), 1_i64..=999],
        prop_oneof![Just(1), Just(160), 1_usize..=200],
        0_u8..8,
    )
        .prop_map(|(price, modifiers, quantity, count, rate_mask)| Op::Add {
            price,
            modifiers,
            quantity,
            count,
            rate_mask,
        });
    prop_oneof![
        4 => add,
        2 => Just(Op::Send),
        1 => (0_usize..200).prop_map(Op::Void),
        1 => (0_usize..200, any::<bool>(), amount()).prop_map(|(i, p, v)| Op::LineDiscount(i, p, v)),
        1 => (any::<bool>(), amount()).prop_map(|(p, v)| Op::OrderDiscount(p, v)),
        1 => amount().prop_map(Op::Tip),
        1 => any::<bool>().prop_map(Op::WaiveService),
        1 => prop_oneof![Just(2_i64), Just(100), 2_i64..=100].prop_map(Op::SplitEqual),
        1 => (1_usize..200).prop_map(Op::SplitOff),
        3 => (0_usize..4, amount(), amount()).prop_map(|(k, a, t)| Op::Pay(k, a, t)),
        1 => (0_usize..200).prop_map(Op::Refund),
        1 => Just(Op::RefundRest),
    ]
}

fn discount(percent: bool, value: i64) -> Discount {
    let units = u32::try_from(value % 1_000_001).unwrap_or(0);
    Discount {
        value: if percent {
            DiscountValue::Percent(Rate::from_units(units).unwrap_or(Rate::ZERO))
        } else {
            DiscountValue::Amount(value.max(1))
        },
        reason: "cortesia".into(),
        applied_by: None,
        approved_by: None,
    }
}

fn till() -> Till {
    Till {
        cash_increment: 1,
        device: None,
        shift: None,
        at: clock::now(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn extreme_orders_are_refused_or_add_up_within_the_bound(
        policy in policy(),
        ops in prop::collection::vec(op(), 1..40),
    ) {
        let all_rates = rates();
        let manager = Actor { user: None, can_approve: true, approver: None };
        let rules = OrderPolicy::default();
        let mut order = order(policy);
        for op in ops {
            let before = order.clone();
            let line_id = |i: usize| order.lines.get(i % order.lines.len().max(1)).map(|l| l.id);
            let result = match op {
                Op::Add { price, modifiers, quantity, count, rate_mask } => {
                    let chosen: Vec<TaxRateId> = all_rates
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| rate_mask & (1 << i) != 0)
                        .map(|(_, r)| r.id)
                        .collect();
                    let lines = (0..count)
                        .map(|_| line(price, quantity, modifiers, chosen.clone(), 1))
                        .collect();
                    order.add_lines(lines, all_rates.clone()).map(|_| ())
                }
                Op::Send => order.send(clock::now()).map(|_| ()),
                Op::Void(i) => match line_id(i) {
                    Some(id) => order.void_line(id, "erro", manager, &rules).map(|_| ()),
                    None => Ok(()),
                },
                Op::LineDiscount(i, p, v) => match line_id(i) {
                    Some(id) => order
                        .set_line_discount(id, Some(discount(p, v)), manager, &rules)
                        .map(|_| ()),
                    None => Ok(()),
                },
                Op::OrderDiscount(p, v) => {
                    order.set_discount(Some(discount(p, v)), manager, &rules).map(|_| ())
                }
                Op::Tip(tip) => order.set_tip(tip).map(|_| ()),
                Op::WaiveService(waived) => order.set_service_waived(waived).map(|_| ()),
                Op::SplitEqual(n) => order.split_equal(n).map(|_| ()),
                Op::SplitOff(n) => {
                    let ids: Vec<OrderLineId> = order.lines.iter().take(n).map(|l| l.id).collect();
                    let mut child = child_of(&order, OrderId::new(), 2, clock::now());
                    let result = order.split_lines_to(&ids, &mut child).map(|_| ());
                    if result.is_ok() {
                        consistent(&child)?;
                    }
                    result
                }
                Op::Pay(kind, amount, tip) => {
                    let kind = [TenderKind::Cash, TenderKind::ExternalCard, TenderKind::Voucher, TenderKind::Card][kind];
                    let input = TenderInput {
                        kind,
                        amount: Some(amount),
                        tip: if kind == TenderKind::Cash { 0 } else { tip },
                        reference: Some("V-1".into()),
                    };
                    order.take_payment(PaymentId::new(), input, manager, till()).map(|_| ())
                }
                Op::Refund(i) => match line_id(i) {
                    Some(id) => order
                        .refund(RefundId::new(), &[(id, 1)], "devolução", manager, till())
                        .map(|_| ()),
                    None => Ok(()),
                },
                Op::RefundRest => order
                    .refund(RefundId::new(), &[], "devolução", manager, till())
                    .map(|_| ()),
            };
            if result.is_err() {
                order = before;
            }
            let t = totals(&order).map_err(|e| TestCaseError::fail(format!("{e}")))?;
            prop_assert!((0..=MAX_ORDER_TOTAL).contains(&t.due), "due {}", t.due);
            consistent(&order)?;
            let balance = order.balance(&t);
            prop_assert!(balance.paid >= 0 && balance.refunded <= balance.paid.max(t.due));
            if order.status == OrderStatus::Paid {
                prop_assert!(balance.paid >= t.due);
            }
        }
    }
}
