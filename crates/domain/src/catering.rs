//! Catering contracts: a caterer serves a client company on the weekdays of a contract;
//! each service day has an expected quantity, which the client confirms before the
//! day's cut-off, and a served quantity, which the caterer records. A day closes once both
//! are in and no dispute is open. Statements bill each month per contract.
//!
//! Times of day are the caterer's store's local time (a cut-off at 10:00 means 10:00
//! where the kitchen is); the caller converts.

use crate::money::{MAX_PRICE, Money, MoneyError};
use crate::{CompanyId, ContractId, OrderId, ProductId, StoreId};
use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};

/// The longest contract term considered at once, and the longest horizon generated.
pub const MAX_HORIZON_DAYS: u64 = 366;
const MAX_DAILY_MEALS: u32 = 100_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CompanyKind {
    /// Cooks and serves.
    Caterer,
    /// Orders meals for its people.
    Client,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContractStatus {
    Active,
    /// No new service days; the ones already confirmed stay.
    Paused,
    /// Ended for good.
    Terminated,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Company {
    pub id: CompanyId,
    pub kind: CompanyKind,
    pub name: String,
    /// CNPJ, NPWP, EIN...: printed on statements.
    pub tax_id: Option<String>,
    /// A caterer's kitchen: the store whose order log and screens its service days reach.
    pub store_id: Option<StoreId>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Contract {
    pub id: ContractId,
    pub caterer_id: CompanyId,
    pub client_id: CompanyId,
    /// The caterer's kitchen.
    pub store_id: StoreId,
    pub status: ContractStatus,
    pub terms: Terms,
    /// The catalog product the kitchen makes for a service day (its catering order).
    #[serde(default)]
    pub product_id: Option<ProductId>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The days of the week a contract serves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Weekdays(u8);

impl Weekdays {
    pub fn of(days: &[Weekday]) -> Self {
        Self(
            days.iter()
                .fold(0, |bits, d| bits | 1 << d.num_days_from_monday()),
        )
    }

    pub fn contains(self, day: Weekday) -> bool {
        self.0 & (1 << day.num_days_from_monday()) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn days(self) -> Vec<Weekday> {
        [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ]
        .into_iter()
        .filter(|d| self.contains(*d))
        .collect()
    }
}

impl Serialize for Weekdays {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let names: Vec<String> = self
            .days()
            .iter()
            .map(|d| d.to_string().to_lowercase())
            .collect();
        names.serialize(s)
    }
}

impl schemars::JsonSchema for Weekdays {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Weekdays".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "array",
            "uniqueItems": true,
            "items": { "enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] }
        })
    }
}

impl<'de> Deserialize<'de> for Weekdays {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        let days = names
            .iter()
            .map(|n| n.parse::<Weekday>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| serde::de::Error::custom("days are mon, tue, wed, thu, fri, sat, sun"))?;
        Ok(Self::of(&days))
    }
}

/// The terms of a contract between a caterer and a client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Terms {
    pub starts_on: NaiveDate,
    /// Last day served; open-ended when absent.
    pub ends_on: Option<NaiveDate>,
    pub weekdays: Weekdays,
    pub price_per_meal: Money,
    pub min_daily: u32,
    pub max_daily: u32,
    /// Expected on a day until the client confirms another quantity.
    pub default_daily: u32,
    /// Whole days before a service day by which its quantity must be confirmed.
    pub notice_days: u32,
    /// The time on that day after which it is too late.
    pub cutoff: NaiveTime,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CateringError {
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        code: &'static str,
        message: String,
    },
    /// Too late to change the quantity (409).
    #[error("the quantity of {date} could be changed until {cutoff}")]
    PastCutoff {
        date: NaiveDate,
        cutoff: NaiveDateTime,
    },
    /// Outside the contract's daily limits (422).
    #[error("{quantity} is outside the contract's {min}-{max} meals a day")]
    OutOfRange { quantity: u32, min: u32, max: u32 },
    /// The day's state does not allow it (409).
    #[error("{0}")]
    State(&'static str),
    #[error(transparent)]
    Money(#[from] MoneyError),
}

fn invalid(field: &'static str, code: &'static str, message: impl Into<String>) -> CateringError {
    CateringError::Invalid {
        field,
        code,
        message: message.into(),
    }
}

impl Terms {
    pub fn validate(&self) -> Result<(), CateringError> {
        if self.ends_on.is_some_and(|end| end < self.starts_on) {
            return Err(invalid(
                "ends_on",
                "before_start",
                "the contract ends before it starts",
            ));
        }
        if self.weekdays.is_empty() {
            return Err(invalid("weekdays", "required", "name the days served"));
        }
        if self.price_per_meal.amount <= 0 {
            return Err(invalid(
                "price_per_meal",
                "not_positive",
                "a meal has a price",
            ));
        }
        if self.price_per_meal.amount > MAX_PRICE {
            return Err(invalid(
                "price_per_meal",
                "too_large",
                format!("at most {MAX_PRICE} minor units a meal"),
            ));
        }
        if self.max_daily == 0 || self.max_daily > MAX_DAILY_MEALS {
            return Err(invalid(
                "max_daily",
                "out_of_range",
                format!("1 to {MAX_DAILY_MEALS} meals a day"),
            ));
        }
        if self.min_daily > self.max_daily {
            return Err(invalid(
                "min_daily",
                "above_max",
                "the minimum is above the maximum",
            ));
        }
        if !(self.min_daily..=self.max_daily).contains(&self.default_daily) {
            return Err(invalid(
                "default_daily",
                "out_of_range",
                "the default quantity is outside the daily limits",
            ));
        }
        if self.notice_days > 60 {
            return Err(invalid(
                "notice_days",
                "out_of_range",
                "at most 60 days' notice",
            ));
        }
        Ok(())
    }

    /// The days served from `from` to `to` (both included, at most a year).
    pub fn service_dates(&self, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
        let first = from.max(self.starts_on);
        let last = self.ends_on.map_or(to, |end| end.min(to));
        let last = last.min(
            first
                .checked_add_days(Days::new(MAX_HORIZON_DAYS - 1))
                .unwrap_or(last),
        );
        first
            .iter_days()
            .take_while(|d| *d <= last)
            .filter(|d| self.weekdays.contains(d.weekday()))
            .collect()
    }

    /// When the quantity of `date` stops being changeable (local time).
    pub fn cutoff_of(&self, date: NaiveDate) -> NaiveDateTime {
        date.checked_sub_days(Days::new(u64::from(self.notice_days)))
            .unwrap_or(date)
            .and_time(self.cutoff)
    }

    /// Checks a quantity the client asks for on `date` at local time `now`.
    pub fn check_quantity(
        &self,
        date: NaiveDate,
        quantity: u32,
        now: NaiveDateTime,
    ) -> Result<(), CateringError> {
        let cutoff = self.cutoff_of(date);
        if now > cutoff {
            return Err(CateringError::PastCutoff { date, cutoff });
        }
        if !(self.min_daily..=self.max_daily).contains(&quantity) {
            return Err(CateringError::OutOfRange {
                quantity,
                min: self.min_daily,
                max: self.max_daily,
            });
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DayStatus {
    /// Expected quantity is the contract's default; the client may still change it.
    Scheduled,
    /// The client confirmed the quantity.
    Confirmed,
    /// The caterer recorded what was served.
    Served,
    /// The client disputes the served quantity.
    Disputed,
    /// Confirmed and served, no dispute open: billed as it stands.
    Closed,
    /// Not served (contract paused or terminated before it).
    Cancelled,
}

/// One service day of a contract.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ServiceDay {
    pub date: NaiveDate,
    pub expected: u32,
    pub confirmed: bool,
    pub served: Option<u32>,
    pub dispute: Option<String>,
    pub status: DayStatus,
    /// The catering order that took the day to the kitchen, once made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<OrderId>,
    /// Changes are based on a version; a stale one is refused.
    #[serde(default)]
    pub version: i64,
}

impl ServiceDay {
    pub fn scheduled(date: NaiveDate, terms: &Terms) -> Self {
        Self {
            date,
            expected: terms.default_daily,
            confirmed: false,
            served: None,
            dispute: None,
            status: DayStatus::Scheduled,
            order_id: None,
            version: 1,
        }
    }

    fn settle(&mut self) {
        self.status = match (self.confirmed, self.served, &self.dispute) {
            (_, Some(_), Some(_)) => DayStatus::Disputed,
            (true, Some(_), None) => DayStatus::Closed,
            (false, Some(_), None) => DayStatus::Served,
            (true, None, _) => DayStatus::Confirmed,
            (false, None, _) => DayStatus::Scheduled,
        };
    }

    fn open(&self) -> Result<(), CateringError> {
        match self.status {
            DayStatus::Cancelled => Err(CateringError::State("the service day was cancelled")),
            DayStatus::Closed => Err(CateringError::State("the service day is closed")),
            _ => Ok(()),
        }
    }

    /// The client confirms (or changes) the quantity before the cut-off.
    pub fn confirm(
        &mut self,
        terms: &Terms,
        quantity: u32,
        now: NaiveDateTime,
    ) -> Result<(), CateringError> {
        self.open()?;
        if self.served.is_some() {
            return Err(CateringError::State("the day was already served"));
        }
        terms.check_quantity(self.date, quantity, now)?;
        self.expected = quantity;
        self.confirmed = true;
        self.settle();
        Ok(())
    }

    /// The caterer records what was served, on the day or after it. A day never
    /// confirmed is confirmed at its expected quantity once its cut-off has passed.
    pub fn record_served(
        &mut self,
        terms: &Terms,
        quantity: u32,
        now: NaiveDateTime,
    ) -> Result<(), CateringError> {
        self.open()?;
        if now.date() < self.date {
            return Err(CateringError::State(
                "a day is served on the day, not before",
            ));
        }
        if quantity > terms.max_daily.saturating_mul(2) {
            return Err(invalid(
                "served",
                "out_of_range",
                "more than twice the contract's daily maximum",
            ));
        }
        if now > terms.cutoff_of(self.date) {
            self.confirmed = true;
        }
        self.served = Some(quantity);
        self.dispute = None;
        self.settle();
        Ok(())
    }

    /// The client disputes the served quantity, saying why: also on a closed day, whose
    /// amount then leaves what is due until the dispute is resolved.
    pub fn raise_dispute(&mut self, reason: &str) -> Result<(), CateringError> {
        if self.status == DayStatus::Cancelled {
            return Err(CateringError::State("the service day was cancelled"));
        }
        if self.served.is_none() {
            return Err(CateringError::State("nothing was recorded as served yet"));
        }
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(invalid(
                "reason",
                "required",
                "say why, in at most 500 characters",
            ));
        }
        self.dispute = Some(reason.to_owned());
        self.settle();
        Ok(())
    }

    /// The dispute is settled at `served` meals (the caterer corrects, or keeps, the count).
    pub fn resolve_dispute(
        &mut self,
        terms: &Terms,
        served: u32,
        now: NaiveDateTime,
    ) -> Result<(), CateringError> {
        if self.status != DayStatus::Disputed {
            return Err(CateringError::State("there is no open dispute"));
        }
        self.dispute = None;
        self.status = DayStatus::Served;
        self.record_served(terms, served, now)
    }

    pub fn cancel(&mut self) -> Result<(), CateringError> {
        if self.served.is_some() {
            return Err(CateringError::State("the day was already served"));
        }
        self.open()?;
        self.status = DayStatus::Cancelled;
        Ok(())
    }

    /// Meals billed: what was ordered, or what was served if more. The client pays for
    /// what it confirmed even if fewer came to eat; extra meals served are billed too.
    pub fn billed(&self) -> u32 {
        match self.status {
            DayStatus::Cancelled => 0,
            _ => self.expected.max(self.served.unwrap_or(0)),
        }
    }
}

/// A month of a contract: each day, the totals, and the amount due for closed days.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Statement {
    pub year: i32,
    pub month: u32,
    pub days: Vec<ServiceDay>,
    pub expected: u64,
    pub served: u64,
    pub billed: u64,
    /// Closed days only; the others are listed but not yet due.
    pub amount_due: Money,
    /// Days not yet closed (still to confirm or serve, or disputed).
    pub open_days: u32,
}

impl Statement {
    pub fn of(
        terms: &Terms,
        year: i32,
        month: u32,
        days: Vec<ServiceDay>,
    ) -> Result<Self, CateringError> {
        let mut days: Vec<ServiceDay> = days
            .into_iter()
            .filter(|d| d.date.year() == year && d.date.month() == month)
            .collect();
        days.sort_by_key(|d| d.date);
        let mut due = Money::zero(terms.price_per_meal.currency);
        let (mut expected, mut served, mut billed, mut open_days) = (0_u64, 0_u64, 0_u64, 0);
        for day in days.iter().filter(|d| d.status != DayStatus::Cancelled) {
            expected += u64::from(day.expected);
            served += u64::from(day.served.unwrap_or(0));
            billed += u64::from(day.billed());
            if day.status == DayStatus::Closed {
                due =
                    due.checked_add(terms.price_per_meal.checked_mul(i64::from(day.billed()))?)?;
            } else {
                open_days += 1;
            }
        }
        Ok(Self {
            year,
            month,
            days,
            expected,
            served,
            billed,
            amount_due: due,
            open_days,
        })
    }
}

#[cfg(test)]
mod tests;
