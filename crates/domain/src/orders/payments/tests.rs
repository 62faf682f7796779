use super::*;
use crate::orders::OrderKind;
use crate::orders::lines::OrderLine;
use crate::orders::tests::line;
use crate::tax::TaxPolicy;
use crate::{Currency, StoreId, clock};
use proptest::prelude::*;

fn sent_order(currency: Currency, lines: Vec<OrderLine>) -> Order {
    let mut order = Order::new(
        StoreId::new(),
        OrderKind::Counter,
        currency,
        TaxPolicy::default(),
        None,
        clock::now(),
    );
    order.lines = lines;
    order.send(clock::now()).expect("send");
    order
}

fn one_line(currency: Currency, price: i64) -> Order {
    sent_order(currency, vec![line(price, 1, 0, Vec::new(), 1)])
}

const CASHIER: Actor = Actor {
    user: None,
    can_approve: false,
    approver: None,
};
const MANAGER: Actor = Actor {
    user: None,
    can_approve: true,
    approver: None,
};

fn till(increment: i64) -> Till {
    Till {
        cash_increment: increment,
        device: None,
        shift: None,
        at: clock::now(),
    }
}

fn tender(kind: TenderKind, amount: Option<i64>) -> TenderInput {
    TenderInput {
        kind,
        amount,
        tip: 0,
        reference: (kind == TenderKind::Voucher).then(|| "GIFT-1".to_owned()),
    }
}

fn pay(order: &mut Order, kind: TenderKind, amount: Option<i64>, increment: i64) -> Vec<Event> {
    order
        .take_payment(
            PaymentId::new(),
            tender(kind, amount),
            CASHIER,
            till(increment),
        )
        .expect("payment taken")
}

fn kinds(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(|e| e.kind).collect()
}

fn code(e: OrderError) -> &'static str {
    match e {
        OrderError::Invalid(v) => v.code,
        OrderError::State { code, .. } => code,
        OrderError::ApprovalRequired(_) => "approval_required",
        OrderError::Tax(_) => "tax",
    }
}

#[test]
fn cash_gives_change_and_rounds_to_the_smallest_coin_per_currency() {
    // (currency, increment, bill, handed over, change, rounding, drawer)
    let cases = [
        // Brazil: centavos exist; a store that does not hand out 1 and 2 centavo coins
        // sets its increment to 5.
        (Currency::Brl, 1, 4_590, 5_000, 410, 0, 4_590),
        (Currency::Brl, 5, 4_593, 5_000, 405, 2, 4_595),
        (Currency::Brl, 5, 4_592, 5_000, 410, -2, 4_590),
        // United States: exact to the cent.
        (Currency::Usd, 1, 1_999, 2_000, 1, 0, 1_999),
        (Currency::Usd, 1, 1_234, 10_000, 8_766, 0, 1_234),
        // Indonesia: no coin below Rp 100; halves round up.
        (Currency::Idr, 100, 16_650, 20_000, 3_300, 50, 16_700),
        (Currency::Idr, 100, 16_649, 20_000, 3_400, -49, 16_600),
        (Currency::Idr, 100, 16_600, 16_600, 0, 0, 16_600),
    ];
    for (currency, increment, bill, given, change, rounding, drawer) in cases {
        let mut order = one_line(currency, bill);
        let events = pay(&mut order, TenderKind::Cash, Some(given), increment);
        assert_eq!(
            kinds(&events),
            ["payment_taken", "paid"],
            "{currency:?} {bill}"
        );
        let payment = &order.payments[0];
        assert_eq!(
            (
                payment.amount,
                payment.change,
                payment.rounding,
                payment.drawer_amount()
            ),
            (bill, change, rounding, drawer),
            "{currency:?} {bill} given {given}"
        );
        assert_eq!(order.status, OrderStatus::Paid);
    }
}

#[test]
fn cash_short_of_the_bill_is_a_part_payment() {
    let mut order = one_line(Currency::Idr, 16_650);
    let events = pay(&mut order, TenderKind::Cash, Some(10_000), 100);
    assert_eq!(kinds(&events), ["payment_taken"]);
    assert_eq!(order.status, OrderStatus::Sent);
    let totals = totals(&order).expect("totals");
    assert_eq!(order.balance(&totals).remaining, 6_650);
    // The rest is rounded: 6,650 -> 6,700 in coins.
    pay(&mut order, TenderKind::Cash, Some(7_000), 100);
    assert_eq!(order.payments[1].change, 300);
    assert_eq!(order.status, OrderStatus::Paid);
}

#[test]
fn equal_shares_stay_while_they_are_paid_one_by_one() {
    let mut order = one_line(Currency::Brl, 1000);
    order.split_equal(3).expect("split");
    assert_eq!(order.parts, Some(vec![334, 333, 333]));
    pay(&mut order, TenderKind::Cash, Some(334), 1);
    assert_eq!(order.parts, Some(vec![334, 333, 333]), "a share paid");
    let mut tipped = tender(TenderKind::Card, Some(333));
    tipped.tip = 100;
    order
        .take_payment(PaymentId::new(), tipped, CASHIER, till(1))
        .expect("tipped");
    assert_eq!(order.parts, None, "a tip changes what is due");
}

#[test]
fn split_tender_across_card_voucher_and_cash() {
    let mut order = sent_order(
        Currency::Brl,
        vec![
            line(3_000, 2, 0, Vec::new(), 1),
            line(2_500, 1, 0, Vec::new(), 2),
        ],
    );
    assert_eq!(
        kinds(&pay(&mut order, TenderKind::ExternalCard, Some(4_000), 1)),
        ["payment_taken"]
    );
    assert_eq!(
        kinds(&pay(&mut order, TenderKind::Voucher, Some(1_000), 1)),
        ["payment_taken"]
    );
    let events = pay(&mut order, TenderKind::Cash, Some(5_000), 1);
    assert_eq!(kinds(&events), ["payment_taken", "paid"]);
    assert_eq!(order.payments[2].amount, 3_500);
    assert_eq!(order.payments[2].change, 1_500);
    let paid = &events[1].payload;
    assert_eq!(paid["total"], 8_500);
    assert_eq!(paid["tenders"].as_array().map(Vec::len), Some(3));
    assert_eq!(paid["lines"][0]["quantity"], 2);
    // Nothing more is taken once it is paid.
    let again = order.take_payment(
        PaymentId::new(),
        tender(TenderKind::Cash, Some(100)),
        CASHIER,
        till(1),
    );
    assert_eq!(again.map_err(code), Err("order_finished"));
}

#[test]
fn only_cash_may_pay_more_than_is_left() {
    let mut order = one_line(Currency::Usd, 1_000);
    for kind in [
        TenderKind::ExternalCard,
        TenderKind::Voucher,
        TenderKind::Card,
    ] {
        let over = order.clone().take_payment(
            PaymentId::new(),
            tender(kind, Some(1_001)),
            CASHIER,
            till(1),
        );
        assert_eq!(over.map_err(code), Err("overpayment"), "{kind:?}");
    }
    let no_code = order.clone().take_payment(
        PaymentId::new(),
        TenderInput {
            reference: None,
            ..tender(TenderKind::Voucher, None)
        },
        CASHIER,
        till(1),
    );
    assert_eq!(no_code.map_err(code), Err("required"));
    for bad in [0, -5] {
        let r = order.clone().take_payment(
            PaymentId::new(),
            tender(TenderKind::Cash, Some(bad)),
            CASHIER,
            till(1),
        );
        assert_eq!(r.map_err(code), Err("out_of_range"));
    }
    pay(&mut order, TenderKind::Cash, Some(1_500), 1);
    assert_eq!(order.payments[0].change, 500);
}

#[test]
fn pending_lines_and_empty_orders_are_not_paid() {
    let mut order = one_line(Currency::Usd, 1_000);
    order.lines.push(line(500, 1, 0, Vec::new(), 1));
    let r = order.take_payment(
        PaymentId::new(),
        tender(TenderKind::Cash, None),
        CASHIER,
        till(1),
    );
    assert_eq!(r.map_err(code), Err("lines_not_sent"));
}

#[test]
fn a_card_tip_raises_what_is_due_and_the_card_is_pending_until_captured() {
    let mut order = one_line(Currency::Usd, 2_000);
    let id = PaymentId::new();
    let events = order
        .take_payment(
            id,
            TenderInput {
                tip: 300,
                ..tender(TenderKind::Card, None)
            },
            CASHIER,
            till(1),
        )
        .expect("card");
    assert_eq!(kinds(&events), ["payment_taken"]);
    assert_eq!(order.payments[0].amount, 2_300);
    assert_eq!(order.payments[0].status, PaymentStatus::Pending);
    assert_eq!(order.tip, 300);
    assert_eq!(order.status, OrderStatus::Sent, "not paid while pending");
    let totals = totals(&order).expect("totals");
    assert_eq!(
        order.balance(&totals).remaining,
        0,
        "the pending card holds its part"
    );

    // Declined: its part is open again.
    let mut declined = order.clone();
    let events = declined
        .settle_payment(id, false, Some("card_declined".into()))
        .expect("failed");
    assert_eq!(kinds(&events), ["payment_failed"]);
    assert_eq!(declined.balance(&totals).remaining, 2_300);

    let events = order.settle_payment(id, true, None).expect("captured");
    assert_eq!(kinds(&events), ["payment_captured", "paid"]);
    assert_eq!(order.status, OrderStatus::Paid);
    // The processor says it twice: nothing changes, nothing is logged.
    assert_eq!(order.settle_payment(id, true, None).map(|e| e.len()), Ok(0));
    assert_eq!(
        order.settle_payment(id, false, None).map_err(code),
        Err("payment_settled")
    );
}

#[test]
fn age_restricted_products_need_a_passed_check_before_payment() {
    let mut beer = line(900, 2, 0, Vec::new(), 1);
    beer.age_restricted = Some(18);
    let mut order = sent_order(Currency::Brl, vec![beer]);
    let try_pay = |order: &Order| {
        order
            .clone()
            .take_payment(
                PaymentId::new(),
                tender(TenderKind::Cash, None),
                CASHIER,
                till(1),
            )
            .map_err(code)
            .map(|_| ())
    };
    assert_eq!(try_pay(&order), Err("age_check_required"));

    let today = NaiveDate::from_ymd_opt(2026, 11, 30).expect("date");
    let too_young = NaiveDate::from_ymd_opt(2008, 12, 1).expect("date");
    let mut refused = order.clone();
    let event = refused
        .check_age(
            AgeEvidence::DateOfBirth {
                born: too_young,
                today,
            },
            None,
            clock::now(),
        )
        .expect("recorded");
    assert_eq!(event.kind, "sale_refused");
    assert_eq!(event.payload["age_check"]["age"], 17);
    assert_eq!(try_pay(&refused), Err("age_check_failed"));

    let eighteen_today = NaiveDate::from_ymd_opt(2008, 11, 30).expect("date");
    let event = order
        .check_age(
            AgeEvidence::DateOfBirth {
                born: eighteen_today,
                today,
            },
            None,
            clock::now(),
        )
        .expect("recorded");
    assert_eq!(event.kind, "age_checked");
    assert_eq!(try_pay(&order), Ok(()));

    let future = order.clone().check_age(
        AgeEvidence::DateOfBirth {
            born: NaiveDate::from_ymd_opt(2027, 1, 1).expect("date"),
            today,
        },
        None,
        clock::now(),
    );
    assert_eq!(future.map_err(code), Err("in_future"));
    let plain = one_line(Currency::Brl, 100).check_age(AgeEvidence::IdChecked, None, clock::now());
    assert_eq!(plain.map_err(code), Err("no_age_restriction"));
}

#[test]
fn refunds_need_a_manager_and_go_back_to_the_newest_tender_first() {
    let mut order = sent_order(
        Currency::Usd,
        vec![
            line(1_000, 3, 0, Vec::new(), 1),
            line(2_000, 1, 0, Vec::new(), 1),
        ],
    );
    pay(&mut order, TenderKind::ExternalCard, Some(3_000), 1);
    pay(&mut order, TenderKind::Cash, Some(2_000), 1);
    assert_eq!(order.status, OrderStatus::Paid);
    let beers = order.lines[0].id;

    let by_cashier =
        order
            .clone()
            .refund(RefundId::new(), &[(beers, 1)], "spilled", CASHIER, till(1));
    assert_eq!(by_cashier.map_err(code), Err("approval_required"));
    let no_reason = order
        .clone()
        .refund(RefundId::new(), &[(beers, 1)], " ", MANAGER, till(1));
    assert_eq!(no_reason.map_err(code), Err("required"));

    let event = order
        .refund(RefundId::new(), &[(beers, 1)], "spilled", MANAGER, till(1))
        .expect("refund");
    assert_eq!(event.kind, "refunded");
    assert_eq!(event.payload["refund"]["amount"], 1_000);
    assert_eq!(
        event.payload["lines"][0]["variant_id"],
        json!(order.lines[0].variant_id)
    );
    // The cash came last, so it goes back first.
    assert_eq!(order.refunds[0].tenders[0].kind, TenderKind::Cash);
    assert_eq!(order.payments[1].refunded, 1_000);

    let too_many = order
        .clone()
        .refund(RefundId::new(), &[(beers, 3)], "x", MANAGER, till(1));
    assert_eq!(too_many.map_err(code), Err("out_of_range"));

    // Everything else: 4,000 left, cash 1,000 then the card 3,000.
    let event = order
        .refund(RefundId::new(), &[], "wrong table", MANAGER, till(1))
        .expect("rest");
    assert_eq!(event.payload["refund"]["amount"], 4_000);
    let tenders = &order.refunds[1].tenders;
    assert_eq!(
        tenders
            .iter()
            .map(|t| (t.kind, t.amount))
            .collect::<Vec<_>>(),
        [(TenderKind::Cash, 1_000), (TenderKind::ExternalCard, 3_000)]
    );
    assert_eq!(order.status, OrderStatus::Refunded);
    let again = order
        .clone()
        .refund(RefundId::new(), &[], "again", MANAGER, till(1));
    assert_eq!(again.map_err(code), Err("not_paid"));
}

#[test]
fn unpaid_orders_are_not_refunded() {
    let mut order = one_line(Currency::Usd, 1_000);
    let r = order.refund(RefundId::new(), &[], "why", MANAGER, till(1));
    assert_eq!(r.map_err(code), Err("not_paid"));
}

proptest! {
    /// Whatever tenders a till takes, a paid order's tenders add up to what was due,
    /// change is only ever given for cash, and refunds by line in any order never give
    /// back more than was paid for the line or in all.
    #[test]
    fn tenders_cover_the_bill_exactly_and_refunds_never_exceed_it(
        prices in prop::collection::vec((1i64..20_000, 1i64..5), 1..6),
        tenders in prop::collection::vec((0usize..4, 1i64..30_000), 1..12),
        increment in prop::sample::select(vec![1i64, 5, 100]),
        refunds in prop::collection::vec((0usize..6, 1i64..5), 0..8),
    ) {
        let lines: Vec<OrderLine> = prices
            .iter()
            .map(|(p, q)| line(*p, *q, 0, Vec::new(), 1))
            .collect();
        let mut order = sent_order(Currency::Brl, lines);
        let due = totals(&order).expect("totals").due;
        for (kind, amount) in tenders {
            let kind = [TenderKind::Cash, TenderKind::ExternalCard, TenderKind::Voucher, TenderKind::Cash][kind];
            let _ = order.take_payment(PaymentId::new(), tender(kind, Some(amount)), CASHIER, till(increment));
            prop_assert!(order.payments.iter().all(|p| p.change == 0 || p.kind == TenderKind::Cash));
        }
        if order.status != OrderStatus::Paid {
            let _ = order.take_payment(PaymentId::new(), tender(TenderKind::Cash, None), CASHIER, till(increment));
        }
        prop_assert_eq!(order.status, OrderStatus::Paid);
        prop_assert_eq!(order.payments.iter().map(|p| p.amount).sum::<i64>(), due);
        for (index, quantity) in refunds {
            let Some(id) = order.lines.get(index % order.lines.len()).map(|l| l.id) else { continue };
            let _ = order.refund(RefundId::new(), &[(id, quantity)], "test", MANAGER, till(1));
        }
        let refunded = order.refunded_total();
        prop_assert!(refunded <= due);
        prop_assert_eq!(order.payments.iter().map(|p| p.refunded).sum::<i64>(), refunded);
        let _ = order.refund(RefundId::new(), &[], "rest", MANAGER, till(1));
        if due > 0 {
            prop_assert_eq!(order.refunded_total(), due);
            prop_assert_eq!(order.status, OrderStatus::Refunded);
        }
    }
}
