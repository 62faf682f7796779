//! Orders: what a table, a counter ticket or a delivery has asked for, priced from the
//! catalog at the moment each line was added and kept that way. Every change is a
//! command checked here against the order's state; it yields the events the storage
//! appends, in the same transaction as the new state, to the store's hash-chained log.

pub mod chain;
pub mod commands;
pub mod kitchen;
pub mod lines;
pub mod payments;
pub mod split;
pub mod stock_holds;
pub mod totals;

#[cfg(test)]
mod extremes;
#[cfg(test)]
mod tests;

use crate::ids::{OrderId, StoreId, TableId, UserId};
use crate::money::Currency;
use crate::tax::{TaxKind, TaxPolicy, TaxRule};
use crate::{Money, TaxRateId};
use chrono::{DateTime, Utc};
use lines::{Discount, OrderLine};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where an order stands. Paid and closed orders, cancelled ones and tabs merged into
/// another are finished: nothing changes them any more (refunds are the Payments issue's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Being taken; nothing sent to the kitchen yet.
    Open,
    /// Lines are with the kitchen.
    Sent,
    /// The kitchen has finished what was sent.
    Ready,
    /// On the table.
    Served,
    Paid,
    Closed,
    Cancelled,
    /// Its lines moved to another tab.
    Merged,
    /// Paid, and then everything was given back.
    Refunded,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 9] = [
        OrderStatus::Open,
        OrderStatus::Sent,
        OrderStatus::Ready,
        OrderStatus::Served,
        OrderStatus::Paid,
        OrderStatus::Closed,
        OrderStatus::Cancelled,
        OrderStatus::Merged,
        OrderStatus::Refunded,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Open => "open",
            OrderStatus::Sent => "sent",
            OrderStatus::Ready => "ready",
            OrderStatus::Served => "served",
            OrderStatus::Paid => "paid",
            OrderStatus::Closed => "closed",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Merged => "merged",
            OrderStatus::Refunded => "refunded",
        }
    }

    /// Still taking changes (lines, discounts, moves).
    pub const fn is_active(self) -> bool {
        matches!(
            self,
            OrderStatus::Open | OrderStatus::Sent | OrderStatus::Ready | OrderStatus::Served
        )
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for OrderStatus {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|v| v.as_str() == s).ok_or(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderKind {
    DineIn,
    Counter,
    Delivery,
    Catering,
}

impl OrderKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            OrderKind::DineIn => "dine_in",
            OrderKind::Counter => "counter",
            OrderKind::Delivery => "delivery",
            OrderKind::Catering => "catering",
        }
    }
}

impl std::str::FromStr for OrderKind {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            OrderKind::DineIn,
            OrderKind::Counter,
            OrderKind::Delivery,
            OrderKind::Catering,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
        .ok_or(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Delivery {
    pub address: String,
    pub customer_name: String,
    pub phone: Option<String>,
}

/// A tax or service rate as it was when the order first used it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RateSnapshot {
    pub id: TaxRateId,
    pub name: String,
    pub kind: TaxKind,
    pub rate: crate::tax::Rate,
    pub compound: bool,
}

impl RateSnapshot {
    pub fn rule(&self) -> TaxRule {
        TaxRule {
            id: self.id,
            kind: self.kind,
            rate: self.rate,
            compound: self.compound,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Order {
    pub id: OrderId,
    pub store_id: StoreId,
    /// Per store, counting up: what the kitchen and the customer call it.
    pub number: i64,
    pub kind: OrderKind,
    pub status: OrderStatus,
    pub table_id: Option<TableId>,
    pub guests: Option<u16>,
    pub delivery: Option<Delivery>,
    pub notes: Option<String>,
    pub currency: Currency,
    /// The store's tax rules when the order was opened.
    pub tax_policy: TaxPolicy,
    /// Every rate the lines use, as first used.
    pub rates: Vec<RateSnapshot>,
    /// Service charges apply unless waived for this order.
    pub service_waived: bool,
    pub lines: Vec<OrderLine>,
    pub discount: Option<Discount>,
    pub tip: i64,
    /// Equal shares of the total to pay separately, when the bill was split that way.
    pub parts: Option<Vec<i64>>,
    /// The tab this one was merged into, or split from.
    pub merged_into: Option<OrderId>,
    pub split_from: Option<OrderId>,
    pub opened_by: Option<UserId>,
    pub version: i64,
    pub opened_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The kitchen should take it before the others.
    #[serde(default)]
    pub rush: bool,
    /// Tenders taken, in order (failed card attempts included).
    #[serde(default)]
    pub payments: Vec<payments::Payment>,
    #[serde(default)]
    pub refunds: Vec<payments::Refund>,
    /// The buyer's age check, when the order has age-restricted products.
    #[serde(default)]
    pub age_check: Option<payments::AgeCheck>,
    /// A line of it ever held stock: every later write says what it holds now, so a
    /// removed, voided or moved line gives its units back.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub holds_stock: bool,
}

impl Order {
    /// A new, empty order opened now; the caller fills in the table, guests, delivery
    /// and notes. It is numbered when it is written.
    pub fn new(
        store_id: StoreId,
        kind: OrderKind,
        currency: Currency,
        tax_policy: TaxPolicy,
        opened_by: Option<UserId>,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            id: OrderId::new(),
            store_id,
            number: 0,
            kind,
            status: OrderStatus::Open,
            table_id: None,
            guests: None,
            delivery: None,
            notes: None,
            currency,
            tax_policy,
            rates: Vec::new(),
            service_waived: false,
            lines: Vec::new(),
            discount: None,
            tip: 0,
            parts: None,
            merged_into: None,
            split_from: None,
            opened_by,
            version: 1,
            opened_at: at,
            updated_at: at,
            closed_at: None,
            rush: false,
            payments: Vec::new(),
            refunds: Vec::new(),
            age_check: None,
            holds_stock: false,
        }
    }

    pub fn tip_money(&self) -> Money {
        Money::new(self.tip, self.currency)
    }

    pub fn line(&self, id: crate::OrderLineId) -> Option<&OrderLine> {
        self.lines.iter().find(|l| l.id == id)
    }
}
