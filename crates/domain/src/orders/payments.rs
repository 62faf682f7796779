//! Paying for an order: tenders that together cover what is due, cash with change and
//! the store's cash rounding, card payments that are pending until the processor
//! confirms them, the age check that restricted products need first, and refunds paid
//! back to the tenders that paid, newest first.
//!
//! An order is paid when its captured tenders cover the total and the tip. Only cash
//! may be over-tendered (the customer gets change); any other tender larger than what
//! is left is refused, so a card is never charged more than the bill.

use super::commands::{Actor, Event, OrderError, event, reason};
use super::lines::LineStatus;
use super::totals::{Totals, totals};
use super::{Order, OrderStatus};
use crate::ids::{DeviceId, OrderLineId, PaymentId, RefundId, ShiftId, UserId};
use crate::money::MAX_PRICE;
use crate::rounding::{RoundingMode, cash_round, div_round};
use crate::validation::ValidationError;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The most tenders one order takes: a table of friends, not a loop.
pub const MAX_PAYMENTS: usize = 30;
pub const MAX_REFERENCE_CHARS: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TenderKind {
    Cash,
    /// A card charged through the card processor (Stripe).
    Card,
    /// A card charged on a terminal comanda does not drive: recorded only.
    ExternalCard,
    Voucher,
}

impl TenderKind {
    pub const ALL: [TenderKind; 4] = [
        TenderKind::Cash,
        TenderKind::Card,
        TenderKind::ExternalCard,
        TenderKind::Voucher,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            TenderKind::Cash => "cash",
            TenderKind::Card => "card",
            TenderKind::ExternalCard => "external_card",
            TenderKind::Voucher => "voucher",
        }
    }
}

impl std::str::FromStr for TenderKind {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Asked of the card processor, not yet confirmed: it holds its part of the bill.
    Pending,
    Captured,
    /// Declined or abandoned: it pays nothing.
    Failed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Payment {
    pub id: PaymentId,
    pub kind: TenderKind,
    pub status: PaymentStatus,
    /// What it pays of the order, its tip included.
    pub amount: i64,
    /// Of `amount`, the tip given with this tender (card terminals ask for one).
    pub tip: i64,
    /// Cash handed over; `amount` for other tenders.
    pub tendered: i64,
    pub change: i64,
    /// Cash rounding: what the drawer took beyond `amount` (negative when less), so the
    /// drawer holds `amount + rounding` for this tender.
    pub rounding: i64,
    /// A voucher's code, a terminal's approval code, the processor's payment id.
    pub reference: Option<String>,
    /// What refunds have given back of it.
    pub refunded: i64,
    /// Why the processor declined it.
    pub failure: Option<String>,
    pub taken_by: Option<UserId>,
    pub device_id: Option<DeviceId>,
    /// The cash drawer (shift) cash went into.
    #[serde(default)]
    pub shift_id: Option<ShiftId>,
    pub at: DateTime<Utc>,
}

impl Payment {
    /// Cash that went into the drawer for it.
    pub fn drawer_amount(&self) -> i64 {
        if self.kind == TenderKind::Cash && self.status == PaymentStatus::Captured {
            self.amount + self.rounding
        } else {
            0
        }
    }
}

/// A tender as the terminal asks for it, amounts already in minor units.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenderInput {
    pub kind: TenderKind,
    /// For cash, what the customer handed over; otherwise what to charge (the tip
    /// included). `None`: everything that is left.
    pub amount: Option<i64>,
    pub tip: i64,
    pub reference: Option<String>,
}

/// Where the tender is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Till {
    /// The store's smallest coin in minor units (100 for rupiah).
    pub cash_increment: i64,
    pub device: Option<DeviceId>,
    /// The terminal's open shift, whose drawer takes cash and pays cash refunds.
    pub shift: Option<ShiftId>,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgeCheckMethod {
    DateOfBirth,
    /// The cashier looked at an ID and says the buyer is old enough.
    IdChecked,
    /// The cashier refused the sale.
    Refused,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AgeCheck {
    pub method: AgeCheckMethod,
    pub passed: bool,
    /// The youngest buyer the order's products allow.
    pub required_age: u8,
    /// From the date of birth, when one was given (the date itself is not kept).
    pub age: Option<u32>,
    pub by: Option<UserId>,
    pub at: DateTime<Utc>,
}

/// What the cashier recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgeEvidence {
    DateOfBirth { born: NaiveDate, today: NaiveDate },
    IdChecked,
    Refused,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RefundLine {
    pub line_id: OrderLineId,
    pub quantity: i64,
    pub amount: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RefundTender {
    pub payment_id: PaymentId,
    pub kind: TenderKind,
    pub amount: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Refund {
    pub id: RefundId,
    pub amount: i64,
    /// Empty for a refund of what was left of the whole order (tip included).
    pub lines: Vec<RefundLine>,
    pub tenders: Vec<RefundTender>,
    pub reason: String,
    pub by: Option<UserId>,
    pub approved_by: Option<UserId>,
    /// The drawer that paid back the cash part, if any.
    #[serde(default)]
    pub shift_id: Option<ShiftId>,
    pub at: DateTime<Utc>,
}

/// The money side of an order, for views and receipts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Balance {
    /// Captured tenders.
    pub paid: i64,
    /// Card payments waiting for the processor.
    pub pending: i64,
    /// What is still to pay (never negative).
    pub remaining: i64,
    pub change: i64,
    pub refunded: i64,
}

fn invalid(field: &str, code: &'static str, message: impl Into<String>) -> OrderError {
    ValidationError::new(field, code, message).into()
}

impl Order {
    fn paid_total(&self) -> i64 {
        self.payments_with(PaymentStatus::Captured)
    }

    fn payments_with(&self, status: PaymentStatus) -> i64 {
        self.payments
            .iter()
            .filter(|p| p.status == status)
            .map(|p| p.amount)
            .sum()
    }

    pub fn refunded_total(&self) -> i64 {
        self.refunds.iter().map(|r| r.amount).sum()
    }

    pub fn balance(&self, totals: &Totals) -> Balance {
        let paid = self.paid_total();
        let pending = self.payments_with(PaymentStatus::Pending);
        Balance {
            paid,
            pending,
            remaining: (totals.due - paid - pending).max(0),
            change: self.payments.iter().map(|p| p.change).sum(),
            refunded: self.refunded_total(),
        }
    }

    /// The youngest buyer the counted lines allow, if any line is restricted.
    pub fn required_age(&self) -> Option<u8> {
        self.lines
            .iter()
            .filter(|l| l.counts())
            .filter_map(|l| l.age_restricted)
            .max()
    }

    fn require_payable(&self) -> Result<(), OrderError> {
        self.require_active()?;
        if self.lines.iter().any(|l| l.status == LineStatus::Pending) {
            return Err(self.refuse("lines_not_sent", "send or remove the pending lines first"));
        }
        if !self.lines.iter().any(|l| l.counts()) {
            return Err(self.refuse("nothing_to_pay", "the order has no lines"));
        }
        if let Some(required) = self.required_age() {
            match &self.age_check {
                Some(check) if check.passed && check.required_age >= required => {}
                Some(check) if !check.passed => {
                    return Err(self.refuse(
                        "age_check_failed",
                        "the age check refused this sale: remove the restricted products",
                    ));
                }
                _ => {
                    return Err(self.refuse(
                        "age_check_required",
                        format!(
                            "the order has products for {required}+: check the buyer's age first"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Records the age check; a refusal is kept (and logged) as well as a pass.
    pub fn check_age(
        &mut self,
        evidence: AgeEvidence,
        by: Option<UserId>,
        at: DateTime<Utc>,
    ) -> Result<Event, OrderError> {
        self.require_active()?;
        let Some(required) = self.required_age() else {
            return Err(self.refuse(
                "no_age_restriction",
                "nothing on this order needs an age check",
            ));
        };
        let (method, passed, age) = match evidence {
            AgeEvidence::DateOfBirth { born, today } => {
                let age = age_on(born, today)
                    .ok_or_else(|| invalid("date_of_birth", "in_future", "must be in the past"))?;
                if age > 130 {
                    return Err(invalid("date_of_birth", "implausible", "check the year"));
                }
                (
                    AgeCheckMethod::DateOfBirth,
                    age >= u32::from(required),
                    Some(age),
                )
            }
            AgeEvidence::IdChecked => (AgeCheckMethod::IdChecked, true, None),
            AgeEvidence::Refused => (AgeCheckMethod::Refused, false, None),
        };
        let check = AgeCheck {
            method,
            passed,
            required_age: required,
            age,
            by,
            at,
        };
        let kind = if passed {
            "age_checked"
        } else {
            "sale_refused"
        };
        let payload = json!({ "age_check": &check });
        self.age_check = Some(check);
        Ok(event(kind, payload))
    }

    /// Takes a tender. Cash completing the bill is rounded to the store's smallest coin
    /// and gives change; a card tender (through the processor) is pending until
    /// [`Order::settle_payment`]. When captured tenders cover what is due the order is
    /// paid, and the `paid` event carries the sale as the reports count it.
    pub fn take_payment(
        &mut self,
        id: PaymentId,
        input: TenderInput,
        actor: Actor,
        till: Till,
    ) -> Result<Vec<Event>, OrderError> {
        self.require_payable()?;
        if self.payments.len() >= MAX_PAYMENTS {
            return Err(invalid(
                "kind",
                "too_many",
                format!("an order takes at most {MAX_PAYMENTS} tenders"),
            ));
        }
        if !(0..=MAX_PRICE).contains(&input.tip) {
            return Err(invalid("tip", "out_of_range", "must be zero or more"));
        }
        if input.tip > 0 && input.kind == TenderKind::Cash {
            return Err(invalid(
                "tip",
                "cash_tip",
                "a cash tip is set on the order (PUT .../tip) before paying",
            ));
        }
        let reference = match input.reference.as_deref().map(str::trim) {
            Some("") | None => None,
            Some(text) if text.chars().count() > MAX_REFERENCE_CHARS => {
                return Err(invalid(
                    "reference",
                    "too_long",
                    format!("at most {MAX_REFERENCE_CHARS} characters"),
                ));
            }
            Some(text) => Some(text.to_owned()),
        };
        if input.kind == TenderKind::Voucher && reference.is_none() {
            return Err(invalid("reference", "required", "give the voucher's code"));
        }
        // A tip given with the tender raises what is due before the tender is counted
        // (on an error the caller drops the order, as after any refused command).
        self.tip = self.tip.saturating_add(input.tip);
        let totals = totals(self)?;
        let left = self.balance(&totals).remaining;
        if left == 0 {
            return Err(self.refuse("already_covered", "the order is already paid for"));
        }
        let wanted = input.amount.unwrap_or(left);
        if wanted <= 0 || wanted > MAX_PRICE {
            return Err(invalid("amount", "out_of_range", "must be more than zero"));
        }
        let tender = match input.kind {
            TenderKind::Cash => cash(left, wanted, till.cash_increment),
            _ if wanted > left => {
                return Err(invalid(
                    "amount",
                    "overpayment",
                    format!("only cash may pay more than what is left ({left})"),
                ));
            }
            _ => CashSplit {
                amount: wanted,
                change: 0,
                rounding: 0,
            },
        };
        let payment = Payment {
            id,
            kind: input.kind,
            status: if input.kind == TenderKind::Card {
                PaymentStatus::Pending
            } else {
                PaymentStatus::Captured
            },
            amount: tender.amount,
            tip: input.tip,
            tendered: wanted,
            change: tender.change,
            rounding: tender.rounding,
            reference,
            refunded: 0,
            failure: None,
            taken_by: actor.user,
            device_id: till.device,
            shift_id: till.shift.filter(|_| input.kind == TenderKind::Cash),
            at: till.at,
        };
        // Equal shares are paid one tender at a time, so they outlive a payment; a tip
        // changes what is due, and with it the shares.
        if payment.tip != 0 {
            self.parts = None;
        }
        let mut events = vec![event("payment_taken", json!({ "payment": &payment }))];
        self.payments.push(payment);
        if let Some(paid) = self.paid_if_covered(&totals) {
            events.push(paid);
        }
        Ok(events)
    }

    /// The processor's word on a pending card payment: captured (which may complete the
    /// order) or failed (its share of the bill is open again). Settling one already
    /// settled the same way changes nothing and logs nothing.
    pub fn settle_payment(
        &mut self,
        id: PaymentId,
        captured: bool,
        failure: Option<String>,
    ) -> Result<Vec<Event>, OrderError> {
        let Some(i) = self.payments.iter().position(|p| p.id == id) else {
            return Err(invalid("payment_id", "unknown_payment", "no such payment"));
        };
        let wanted = if captured {
            PaymentStatus::Captured
        } else {
            PaymentStatus::Failed
        };
        let payment = &mut self.payments[i];
        if payment.status == wanted {
            return Ok(Vec::new());
        }
        if payment.status != PaymentStatus::Pending {
            let message = format!("the payment is already {:?}", payment.status).to_lowercase();
            return Err(self.refuse("payment_settled", message));
        }
        payment.status = wanted;
        payment.failure = if captured { None } else { failure };
        let kind = if captured {
            "payment_captured"
        } else {
            "payment_failed"
        };
        let mut events = vec![event(
            kind,
            json!({ "payment_id": id, "failure": &payment.failure }),
        )];
        if captured && self.status.is_active() {
            let totals = totals(self)?;
            if let Some(paid) = self.paid_if_covered(&totals) {
                events.push(paid);
            }
        }
        Ok(events)
    }

    fn paid_if_covered(&mut self, totals: &Totals) -> Option<Event> {
        if self.paid_total() < totals.due {
            return None;
        }
        self.status = OrderStatus::Paid;
        Some(event("paid", self.sale_summary(totals)))
    }

    /// The sale as reports count it: what every line came to and its taxes, and the
    /// tenders, so a report needs nothing but the log.
    fn sale_summary(&self, totals: &Totals) -> serde_json::Value {
        let lines: Vec<serde_json::Value> = totals
            .lines
            .iter()
            .filter_map(|t| {
                let line = self.line(t.line_id)?;
                Some(json!({
                    "line_id": line.id, "product_id": line.product_id,
                    "variant_id": line.variant_id, "category_id": line.category_id,
                    "name": line.name, "quantity": line.quantity, "gross": t.gross,
                    "discount": t.discount, "tax": t.tax, "service": t.service,
                    "total": t.total,
                }))
            })
            .collect();
        let tenders: Vec<serde_json::Value> = self
            .payments
            .iter()
            .filter(|p| p.status == PaymentStatus::Captured)
            .map(|p| {
                json!({ "payment_id": p.id, "kind": p.kind, "amount": p.amount, "tip": p.tip,
                        "rounding": p.rounding, "drawer": p.drawer_amount(),
                        "device_id": p.device_id })
            })
            .collect();
        json!({
            "opened_by": self.opened_by, "kind": self.kind, "subtotal": totals.subtotal,
            "discounts": totals.discounts, "net": totals.net, "tax": totals.tax,
            "service": totals.service, "total": totals.total, "tip": totals.tip,
            "due": totals.due, "rates": &totals.rates, "lines": lines, "tenders": tenders,
        })
    }

    /// Gives money back for a paid order: the named quantities of lines (their share of
    /// what was paid for them), or with no lines everything not yet given back. Needs a
    /// manager. The money goes back to the tenders that paid, the newest first.
    pub fn refund(
        &mut self,
        id: RefundId,
        lines: &[(OrderLineId, i64)],
        why: &str,
        actor: Actor,
        till: Till,
    ) -> Result<Event, OrderError> {
        if !matches!(self.status, OrderStatus::Paid | OrderStatus::Closed) {
            return Err(self.refuse(
                "not_paid",
                format!("only a paid order is refunded; this one is {}", self.status),
            ));
        }
        let why = reason("reason", why)?;
        if !actor.can_approve {
            return Err(OrderError::ApprovalRequired(
                "refunds need a manager's approval".into(),
            ));
        }
        let left = self.paid_total() - self.refunded_total();
        let totals = totals(self)?;
        let (amount, refund_lines) = if lines.is_empty() {
            (left, self.whole_rest(&totals))
        } else {
            let parts = self.line_refunds(lines, &totals)?;
            (parts.iter().map(|l| l.amount).sum(), parts)
        };
        if amount <= 0 {
            return Err(self.refuse("nothing_to_refund", "nothing is left to give back"));
        }
        if amount > left {
            return Err(invalid(
                "lines",
                "more_than_paid",
                format!("only {left} is left to give back"),
            ));
        }
        let tenders = self.take_back(amount);
        let cash_back = tenders.iter().any(|t| t.kind == TenderKind::Cash);
        if cash_back && till.shift.is_none() && till.device.is_some() {
            return Err(self.refuse(
                "shift_not_open",
                "cash goes back from a drawer: open a shift on this terminal first",
            ));
        }
        let refund = Refund {
            id,
            amount,
            lines: refund_lines,
            tenders,
            reason: why,
            by: actor.user,
            approved_by: actor.approver,
            shift_id: till.shift.filter(|_| cash_back),
            at: till.at,
        };
        // Stock comes back for what was refunded: the event names the variants.
        let stock: Vec<serde_json::Value> = refund
            .lines
            .iter()
            .filter_map(|r| {
                let line = self.line(r.line_id)?;
                Some(json!({ "line_id": r.line_id, "product_id": line.product_id,
                             "variant_id": line.variant_id, "category_id": line.category_id,
                             "quantity": r.quantity, "amount": r.amount }))
            })
            .collect();
        let payload = json!({ "refund": &refund, "lines": stock });
        self.refunds.push(refund);
        if self.refunded_total() >= self.paid_total() {
            self.status = OrderStatus::Refunded;
        }
        Ok(event("refunded", payload))
    }

    fn refunded_quantity(&self, line: OrderLineId) -> (i64, i64) {
        self.refunds
            .iter()
            .flat_map(|r| &r.lines)
            .filter(|l| l.line_id == line)
            .fold((0, 0), |(q, a), l| (q + l.quantity, a + l.amount))
    }

    /// Every line's quantity not yet refunded, at what is left of its total.
    fn whole_rest(&self, totals: &Totals) -> Vec<RefundLine> {
        totals
            .lines
            .iter()
            .filter_map(|t| {
                let line = self.line(t.line_id)?;
                let (quantity, amount) = self.refunded_quantity(line.id);
                (quantity < line.quantity).then(|| RefundLine {
                    line_id: line.id,
                    quantity: line.quantity - quantity,
                    amount: t.total - amount,
                })
            })
            .collect()
    }

    fn line_refunds(
        &self,
        wanted: &[(OrderLineId, i64)],
        totals: &Totals,
    ) -> Result<Vec<RefundLine>, OrderError> {
        let mut out: Vec<RefundLine> = Vec::with_capacity(wanted.len());
        for (i, (id, quantity)) in wanted.iter().enumerate() {
            let field = format!("lines[{i}]");
            if out.iter().any(|r| r.line_id == *id) {
                return Err(invalid(&field, "duplicate_line", "name each line once"));
            }
            let (Some(line), Some(total)) = (
                self.line(*id),
                totals.lines.iter().find(|t| t.line_id == *id),
            ) else {
                return Err(invalid(
                    &format!("{field}.line_id"),
                    "unknown_line",
                    "no such line on this order, or it was voided",
                ));
            };
            let (done, done_amount) = self.refunded_quantity(*id);
            let open = line.quantity - done;
            if *quantity < 1 || *quantity > open {
                return Err(invalid(
                    &format!("{field}.quantity"),
                    "out_of_range",
                    format!("between 1 and {open}, what is not yet refunded"),
                ));
            }
            // The last units take what is left of the line, so the cents add up.
            let amount = if *quantity == open {
                total.total - done_amount
            } else {
                let share = div_round(
                    i128::from(total.total) * i128::from(*quantity),
                    i128::from(line.quantity),
                    RoundingMode::HalfUp,
                );
                i64::try_from(share).unwrap_or(0)
            };
            out.push(RefundLine {
                line_id: *id,
                quantity: *quantity,
                amount,
            });
        }
        Ok(out)
    }

    /// Books `amount` against the captured tenders, the newest first.
    fn take_back(&mut self, mut amount: i64) -> Vec<RefundTender> {
        let mut tenders = Vec::new();
        for payment in self.payments.iter_mut().rev() {
            if amount == 0 {
                break;
            }
            if payment.status != PaymentStatus::Captured {
                continue;
            }
            let give = (payment.amount - payment.refunded).min(amount);
            if give <= 0 {
                continue;
            }
            payment.refunded += give;
            amount -= give;
            tenders.push(RefundTender {
                payment_id: payment.id,
                kind: payment.kind,
                amount: give,
            });
        }
        tenders
    }
}

struct CashSplit {
    amount: i64,
    change: i64,
    rounding: i64,
}

/// Cash against `left` still due: the bill is rounded to the smallest coin only when
/// this cash completes it, and what is over the rounded amount is change.
fn cash(left: i64, given: i64, increment: i64) -> CashSplit {
    let rounded = cash_round(left, increment).due;
    if given >= rounded {
        CashSplit {
            amount: left,
            change: given - rounded,
            rounding: rounded - left,
        }
    } else if given >= left {
        // Between the exact amount and the rounded one: all of it is kept.
        CashSplit {
            amount: left,
            change: 0,
            rounding: given - left,
        }
    } else {
        CashSplit {
            amount: given,
            change: 0,
            rounding: 0,
        }
    }
}

/// Whole years from `born` to `today`; `None` if born in the future.
fn age_on(born: NaiveDate, today: NaiveDate) -> Option<u32> {
    if born > today {
        return None;
    }
    let mut years = today.year() - born.year();
    if (today.month(), today.day()) < (born.month(), born.day()) {
        years -= 1;
    }
    u32::try_from(years).ok()
}

#[cfg(test)]
mod tests;
