//! The changes an order accepts, each checked against its state. A change that does not
//! fit is refused with the order's current state (409) or names the field (422); one
//! that needs a manager says so (403). Each accepted change returns the events to log.

use super::kitchen::KitchenLine;
use super::lines::{Discount, LineStatus, OrderLine};
use super::split::equal_parts;
use super::totals::totals;
use super::{Order, OrderStatus, RateSnapshot};
use crate::ids::{OrderId, OrderLineId, TableId, UserId};
use crate::tax::{Rate, TaxError};
use crate::validation::ValidationError;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

/// The most lines one order may hold: a banquet, not a runaway client.
pub const MAX_LINES: usize = 500;
/// The most lines one request may add.
pub const MAX_LINES_PER_REQUEST: usize = 100;
pub const MAX_REASON_CHARS: usize = 200;

/// The store's rules for what needs a manager.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct OrderPolicy {
    /// 0 until first changed: the defaults.
    pub version: i64,
    /// Discounts larger than this share of what they apply to need a manager.
    pub discount_approval_above: Rate,
    /// Whether voiding a line the kitchen already has needs a manager.
    pub void_needs_approval: bool,
}

impl Default for OrderPolicy {
    fn default() -> Self {
        Self {
            version: 0,
            discount_approval_above: Rate::from_units(100_000).unwrap_or(Rate::ZERO),
            void_needs_approval: true,
        }
    }
}

/// `PUT .../order-settings`: what to change, based on `version`.
#[derive(Clone, Debug, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    pub version: Option<i64>,
    /// A percentage, e.g. "10".
    #[serde(default)]
    pub discount_approval_above: Option<String>,
    #[serde(default)]
    pub void_needs_approval: Option<bool>,
}

impl PolicyInput {
    /// The settings after this change to `current`.
    pub fn apply(&self, current: OrderPolicy) -> Result<OrderPolicy, ValidationError> {
        let mut next = current;
        if let Some(text) = &self.discount_approval_above {
            next.discount_approval_above = Rate::parse("discount_approval_above", text)?;
        }
        if let Some(void) = self.void_needs_approval {
            next.void_needs_approval = void;
        }
        Ok(next)
    }
}

/// Who asks for a change, and whether they may approve what needs a manager.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user: Option<UserId>,
    pub can_approve: bool,
    /// Who approved: the actor, if a manager, or the manager who entered their PIN on
    /// the actor's terminal.
    pub approver: Option<UserId>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error("{0}")]
    Invalid(ValidationError),
    /// Not possible in the order's current state.
    #[error("{message}")]
    State {
        code: &'static str,
        message: String,
        status: OrderStatus,
    },
    /// Allowed only with a manager's approval.
    #[error("{0}")]
    ApprovalRequired(String),
    #[error("{0}")]
    Tax(TaxError),
}

impl From<ValidationError> for OrderError {
    fn from(e: ValidationError) -> Self {
        OrderError::Invalid(e)
    }
}

impl From<TaxError> for OrderError {
    fn from(e: TaxError) -> Self {
        OrderError::Tax(e)
    }
}

/// An event to append: its type and payload.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub kind: &'static str,
    pub payload: Value,
}

pub(super) fn event(kind: &'static str, payload: Value) -> Event {
    Event { kind, payload }
}

pub(super) fn reason(field: &str, text: &str) -> Result<String, ValidationError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ValidationError::new(field, "required", "say why"));
    }
    if text.chars().count() > MAX_REASON_CHARS {
        return Err(ValidationError::new(
            field,
            "too_long",
            format!("at most {MAX_REASON_CHARS} characters"),
        ));
    }
    Ok(text.to_owned())
}

impl Order {
    pub(super) fn refuse(&self, code: &'static str, message: impl Into<String>) -> OrderError {
        OrderError::State {
            code,
            message: message.into(),
            status: self.status,
        }
    }

    pub(super) fn require_active(&self) -> Result<(), OrderError> {
        if self.status.is_active() {
            Ok(())
        } else {
            Err(self.refuse(
                "order_finished",
                format!("the order is {} and can no longer change", self.status),
            ))
        }
    }

    fn line_index(&self, id: OrderLineId) -> Result<usize, OrderError> {
        self.lines.iter().position(|l| l.id == id).ok_or_else(|| {
            ValidationError::new("line_id", "unknown_line", "no such line on this order").into()
        })
    }

    /// Marks the change made: one more version.
    pub fn touch(&mut self, at: DateTime<Utc>) {
        self.version += 1;
        self.updated_at = at;
    }

    /// The event that opens an order, with everything it was opened with.
    pub fn opened_event(&self) -> Event {
        event(
            "opened",
            json!({
                "number": self.number, "kind": self.kind, "table_id": self.table_id,
                "guests": self.guests, "delivery": self.delivery, "notes": self.notes,
                "split_from": self.split_from,
            }),
        )
    }

    /// Adds priced lines (pending until sent), with the rates they use as snapshotted
    /// now unless the order already has them.
    pub fn add_lines(
        &mut self,
        lines: Vec<OrderLine>,
        rates: Vec<RateSnapshot>,
    ) -> Result<Event, OrderError> {
        self.require_active()?;
        if self.lines.len() + lines.len() > MAX_LINES {
            return Err(ValidationError::new(
                "lines",
                "too_many",
                format!("an order holds at most {MAX_LINES} lines"),
            )
            .into());
        }
        for rate in rates {
            if !self.rates.iter().any(|r| r.id == rate.id) {
                self.rates.push(rate);
            }
        }
        let payload = json!({ "lines": &lines });
        self.lines.extend(lines);
        self.parts = None;
        totals(self)?;
        Ok(event("lines_added", payload))
    }

    /// Takes back a line the kitchen has not seen.
    pub fn remove_line(&mut self, id: OrderLineId) -> Result<Event, OrderError> {
        self.require_active()?;
        let i = self.line_index(id)?;
        if self.lines[i].status != LineStatus::Pending {
            return Err(self.refuse(
                "line_sent",
                "the kitchen already has this line: void it with a reason",
            ));
        }
        self.lines.remove(i);
        self.parts = None;
        Ok(event("line_removed", json!({ "line_id": id })))
    }

    /// Voids a line the kitchen has: it stays on the order, struck through.
    pub fn void_line(
        &mut self,
        id: OrderLineId,
        why: &str,
        actor: Actor,
        policy: &OrderPolicy,
    ) -> Result<Event, OrderError> {
        self.require_active()?;
        let i = self.line_index(id)?;
        let why = reason("reason", why)?;
        match self.lines[i].status {
            LineStatus::Pending => {
                return Err(self.refuse(
                    "line_not_sent",
                    "this line was never sent: remove it instead",
                ));
            }
            LineStatus::Voided => return Err(self.refuse("line_voided", "already voided")),
            LineStatus::Sent | LineStatus::Preparing | LineStatus::Ready | LineStatus::Served => {}
        }
        if policy.void_needs_approval && !actor.can_approve {
            return Err(OrderError::ApprovalRequired(
                "voiding a line the kitchen has needs a manager".into(),
            ));
        }
        let approved_by = if policy.void_needs_approval {
            actor.approver
        } else {
            None
        };
        let amount = self.lines[i].gross();
        let line = &mut self.lines[i];
        line.status = LineStatus::Voided;
        line.void_reason = Some(why.clone());
        line.voided_by = actor.user;
        self.parts = None;
        let station = line.kitchen_station().to_owned();
        Ok(event(
            "line_voided",
            json!({ "line_id": id, "reason": why, "station": station, "amount": amount,
                    "approved_by": approved_by }),
        ))
    }

    fn check_discount(
        &self,
        discount: &mut Discount,
        base: i64,
        actor: Actor,
        policy: &OrderPolicy,
    ) -> Result<(), OrderError> {
        discount.reason = reason("reason", &discount.reason)?;
        if let super::lines::DiscountValue::Amount(amount) = discount.value
            && amount <= 0
        {
            return Err(
                ValidationError::new("amount", "too_small", "must be more than zero").into(),
            );
        }
        if discount.share_of(base) > policy.discount_approval_above.units() {
            if !actor.can_approve {
                return Err(OrderError::ApprovalRequired(format!(
                    "discounts above {} % need a manager",
                    policy.discount_approval_above
                )));
            }
            discount.approved_by = actor.approver;
        }
        discount.applied_by = actor.user;
        Ok(())
    }

    /// Sets (or with `None` removes) a line's discount.
    pub fn set_line_discount(
        &mut self,
        id: OrderLineId,
        discount: Option<Discount>,
        actor: Actor,
        policy: &OrderPolicy,
    ) -> Result<Event, OrderError> {
        self.require_active()?;
        let i = self.line_index(id)?;
        if !self.lines[i].counts() {
            return Err(self.refuse("line_voided", "the line is voided"));
        }
        let discount = match discount {
            Some(mut d) => {
                self.check_discount(&mut d, self.lines[i].gross(), actor, policy)?;
                Some(d)
            }
            None => None,
        };
        self.lines[i].discount.clone_from(&discount);
        self.parts = None;
        // A smaller discount than before raises the order: it must still fit.
        totals(self)?;
        Ok(event(
            "line_discount_set",
            json!({ "line_id": id, "discount": discount }),
        ))
    }

    /// Sets (or removes) the order's discount, shared out over the lines.
    pub fn set_discount(
        &mut self,
        discount: Option<Discount>,
        actor: Actor,
        policy: &OrderPolicy,
    ) -> Result<Event, OrderError> {
        self.require_active()?;
        let discount = match discount {
            Some(mut d) => {
                let base: i64 = totals(self)?.subtotal;
                self.check_discount(&mut d, base, actor, policy)?;
                Some(d)
            }
            None => None,
        };
        self.discount.clone_from(&discount);
        self.parts = None;
        totals(self)?;
        Ok(event("discount_set", json!({ "discount": discount })))
    }

    pub fn set_tip(&mut self, tip: i64) -> Result<Event, OrderError> {
        self.require_active()?;
        if !(0..=crate::money::MAX_PRICE).contains(&tip) {
            return Err(
                ValidationError::new("tip.amount", "out_of_range", "must be zero or more").into(),
            );
        }
        self.tip = tip;
        self.parts = None;
        totals(self)?;
        Ok(event("tip_set", json!({ "tip": tip })))
    }

    pub fn set_service_waived(&mut self, waived: bool) -> Result<Event, OrderError> {
        self.require_active()?;
        self.service_waived = waived;
        self.parts = None;
        totals(self)?;
        Ok(event("service_waived", json!({ "waived": waived })))
    }

    /// Sends the pending lines to the kitchen.
    pub fn send(&mut self, at: DateTime<Utc>) -> Result<Event, OrderError> {
        self.require_active()?;
        let pending: Vec<OrderLineId> = self
            .lines
            .iter()
            .filter(|l| l.status == LineStatus::Pending)
            .map(|l| l.id)
            .collect();
        if pending.is_empty() {
            return Err(self.refuse("nothing_to_send", "no new lines to send"));
        }
        for line in &mut self.lines {
            if line.status == LineStatus::Pending {
                line.status = LineStatus::Sent;
                line.sent_at = Some(at);
            }
        }
        self.status = OrderStatus::Sent;
        self.hold_later_courses(&pending);
        // The kitchen's copy of what was sent, so a screen needs nothing but the log.
        let lines: Vec<KitchenLine> = self
            .lines
            .iter()
            .filter(|l| pending.contains(&l.id))
            .map(KitchenLine::of)
            .collect();
        Ok(event(
            "sent",
            json!({ "line_ids": pending, "at": at, "ticket": self.ticket_header(), "lines": lines }),
        ))
    }

    /// The kitchen has finished everything sent.
    pub fn mark_ready(&mut self) -> Result<Event, OrderError> {
        if self.status != OrderStatus::Sent {
            return Err(self.refuse(
                "illegal_transition",
                format!(
                    "only a sent order becomes ready; this one is {}",
                    self.status
                ),
            ));
        }
        for line in &mut self.lines {
            if matches!(line.status, LineStatus::Sent | LineStatus::Preparing) {
                line.status = LineStatus::Ready;
            }
        }
        self.status = OrderStatus::Ready;
        Ok(event("ready", json!({})))
    }

    pub fn mark_served(&mut self) -> Result<Event, OrderError> {
        if !matches!(self.status, OrderStatus::Sent | OrderStatus::Ready) {
            return Err(self.refuse(
                "illegal_transition",
                format!(
                    "only a sent or ready order is served; this one is {}",
                    self.status
                ),
            ));
        }
        for line in &mut self.lines {
            if matches!(line.status, LineStatus::Sent | LineStatus::Ready) {
                line.status = LineStatus::Served;
            }
        }
        self.status = OrderStatus::Served;
        Ok(event("served", json!({})))
    }

    /// Paid in full (the Payments issue records the tenders that make it so).
    pub fn mark_paid(&mut self) -> Result<Event, OrderError> {
        self.require_active()?;
        if self.lines.iter().any(|l| l.status == LineStatus::Pending) {
            return Err(self.refuse("lines_not_sent", "send or remove the pending lines first"));
        }
        self.status = OrderStatus::Paid;
        Ok(event("paid", json!({})))
    }

    /// Closes a paid order; a catering order, which its contract's monthly statement
    /// bills rather than the till, closes once it is with the kitchen, unpaid.
    pub fn close(&mut self, at: DateTime<Utc>) -> Result<Event, OrderError> {
        let on_account = self.kind == super::OrderKind::Catering
            && matches!(
                self.status,
                OrderStatus::Sent | OrderStatus::Ready | OrderStatus::Served
            );
        if self.status != OrderStatus::Paid && !on_account {
            return Err(self.refuse(
                "illegal_transition",
                format!("only a paid order is closed; this one is {}", self.status),
            ));
        }
        self.status = OrderStatus::Closed;
        self.closed_at = Some(at);
        Ok(event("closed", json!({})))
    }

    /// Cancels an order the kitchen has nothing of (void what was sent first).
    pub fn cancel(&mut self, why: &str, at: DateTime<Utc>) -> Result<Event, OrderError> {
        self.require_active()?;
        let why = reason("reason", why)?;
        if self.lines.iter().any(|l| {
            matches!(
                l.status,
                LineStatus::Sent | LineStatus::Ready | LineStatus::Served
            )
        }) {
            return Err(self.refuse(
                "lines_in_kitchen",
                "the kitchen has lines of this order: void them first",
            ));
        }
        self.status = OrderStatus::Cancelled;
        self.closed_at = Some(at);
        Ok(event("cancelled", json!({ "reason": why })))
    }

    pub fn move_to(
        &mut self,
        table: Option<TableId>,
        guests: Option<u16>,
    ) -> Result<Event, OrderError> {
        self.require_active()?;
        let from = self.table_id;
        self.table_id = table;
        if guests.is_some() {
            self.guests = guests;
        }
        Ok(event(
            "moved",
            json!({ "from_table_id": from, "table_id": table, "guests": self.guests }),
        ))
    }

    /// Splits the bill into `parts` equal shares of what is due.
    pub fn split_equal(&mut self, parts: i64) -> Result<Event, OrderError> {
        self.require_active()?;
        let due = totals(self)?.due;
        let shares = equal_parts(due, parts)?;
        self.parts = Some(shares.clone());
        Ok(event("bill_split", json!({ "parts": shares })))
    }

    /// Moves every line of `other` onto this tab; `other` ends merged into this one.
    pub fn merge_from(&mut self, other: &mut Order) -> Result<(Event, Event), OrderError> {
        self.require_active()?;
        other.require_active()?;
        if other.id == self.id {
            return Err(ValidationError::new(
                "from_order_id",
                "same_order",
                "an order cannot merge into itself",
            )
            .into());
        }
        if self.lines.len() + other.lines.len() > MAX_LINES {
            return Err(ValidationError::new(
                "from_order_id",
                "too_many",
                format!("an order holds at most {MAX_LINES} lines"),
            )
            .into());
        }
        let moved: Vec<OrderLineId> = other.lines.iter().map(|l| l.id).collect();
        for rate in other.rates.drain(..) {
            if !self.rates.iter().any(|r| r.id == rate.id) {
                self.rates.push(rate);
            }
        }
        self.lines.append(&mut other.lines);
        // Each tip is within an order's bound, so two add up inside `i64`; the merged
        // order's totals are checked against that bound below.
        self.tip = self.tip.saturating_add(other.tip);
        other.tip = 0;
        if other.discount.is_some() && self.discount.is_none() {
            self.discount = other.discount.take();
        }
        if self.status == OrderStatus::Open
            && self.lines.iter().any(|l| l.status != LineStatus::Pending)
        {
            self.status = OrderStatus::Sent;
        }
        self.parts = None;
        other.status = OrderStatus::Merged;
        other.merged_into = Some(self.id);
        other.parts = None;
        totals(self)?;
        Ok((
            event(
                "merged_from",
                json!({ "from_order_id": other.id, "line_ids": moved }),
            ),
            event(
                "merged_into",
                json!({ "into_order_id": self.id, "line_ids": moved }),
            ),
        ))
    }

    /// Moves the named lines out to `into`, a new order (split by line or by seat).
    pub fn split_lines_to(
        &mut self,
        ids: &[OrderLineId],
        into: &mut Order,
    ) -> Result<(Event, Event), OrderError> {
        self.require_active()?;
        if ids.is_empty() {
            return Err(ValidationError::new(
                "line_ids",
                "required",
                "name the lines to split off",
            )
            .into());
        }
        for id in ids {
            self.line_index(*id)?;
        }
        if ids.len() >= self.lines.len() {
            return Err(ValidationError::new(
                "line_ids",
                "all_lines",
                "leave at least one line on the order",
            )
            .into());
        }
        let (moving, staying): (Vec<OrderLine>, Vec<OrderLine>) =
            self.lines.drain(..).partition(|l| ids.contains(&l.id));
        self.lines = staying;
        into.rates = self
            .rates
            .iter()
            .filter(|r| moving.iter().any(|l| l.tax_rate_ids.contains(&r.id)))
            .cloned()
            .collect();
        into.status = if moving.iter().any(|l| l.status != LineStatus::Pending) {
            self.status
        } else {
            OrderStatus::Open
        };
        into.lines = moving;
        into.split_from = Some(self.id);
        self.parts = None;
        totals(self)?;
        totals(into)?;
        Ok((
            event(
                "split_out",
                json!({ "to_order_id": into.id, "line_ids": ids }),
            ),
            event(
                "split_in",
                json!({ "from_order_id": self.id, "line_ids": ids }),
            ),
        ))
    }

    /// The lines of each seat, in seat order, for splitting by seat (lines without a
    /// seat stay on the order).
    pub fn seats(&self) -> Vec<(u16, Vec<OrderLineId>)> {
        let mut seats: Vec<(u16, Vec<OrderLineId>)> = Vec::new();
        for line in &self.lines {
            if let Some(seat) = line.seat {
                match seats.iter_mut().find(|(s, _)| *s == seat) {
                    Some((_, ids)) => ids.push(line.id),
                    None => seats.push((seat, vec![line.id])),
                }
            }
        }
        seats.sort_by_key(|(s, _)| *s);
        seats
    }
}

/// A new, empty order split off or opened; the caller fills in what differs.
pub fn child_of(parent: &Order, id: OrderId, number: i64, at: DateTime<Utc>) -> Order {
    Order {
        id,
        number,
        status: OrderStatus::Open,
        lines: Vec::new(),
        discount: None,
        tip: 0,
        parts: None,
        merged_into: None,
        split_from: Some(parent.id),
        version: 1,
        opened_at: at,
        updated_at: at,
        closed_at: None,
        rush: false,
        rates: Vec::new(),
        payments: Vec::new(),
        refunds: Vec::new(),
        age_check: None,
        ..parent.clone()
    }
}
