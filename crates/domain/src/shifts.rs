//! Shifts: one terminal's cash drawer from the float it opens with to the count it
//! closes with. Cash sales and cash refunds reach the drawer through the order log (each
//! cash tender names the shift it went into); cash put in or taken out for other reasons
//! is recorded here with a reason. At the close the counted cash is compared with what
//! the drawer should hold, and the difference is kept.

use crate::ids::{DeviceId, ShiftId, StoreId, UserId};
use crate::money::{MAX_PRICE, saturating_sum};
use crate::validation::{ValidationError, bounded_text};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Cash movements one shift takes: a bound against a runaway client.
pub const MAX_MOVEMENTS: usize = 500;
pub const MAX_DENOMINATIONS: usize = 40;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ShiftStatus {
    Open,
    Closed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CashDirection {
    /// Change brought in, a float top-up.
    In,
    /// A supplier paid from the till, a drop to the safe.
    Out,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CashMovement {
    pub direction: CashDirection,
    pub amount: i64,
    pub reason: String,
    pub by: Option<UserId>,
    pub at: DateTime<Utc>,
}

/// Notes and coins counted: `value` in minor units, how many of each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Denomination {
    pub value: i64,
    pub count: i64,
}

/// What the drawer held when counted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CashCount {
    pub denominations: Vec<Denomination>,
    pub total: i64,
}

impl CashCount {
    /// A count by denomination, or a bare total when the till counts no other way.
    pub fn new(
        denominations: Vec<Denomination>,
        total: Option<i64>,
    ) -> Result<Self, ValidationError> {
        if denominations.is_empty() {
            let total = total.ok_or_else(|| {
                ValidationError::new(
                    "denominations",
                    "required",
                    "count the drawer by denomination, or give a total",
                )
            })?;
            if !(0..=MAX_PRICE).contains(&total) {
                return Err(ValidationError::new(
                    "total",
                    "out_of_range",
                    "zero or more",
                ));
            }
            return Ok(Self {
                denominations,
                total,
            });
        }
        if denominations.len() > MAX_DENOMINATIONS {
            return Err(ValidationError::new(
                "denominations",
                "too_many",
                format!("at most {MAX_DENOMINATIONS}"),
            ));
        }
        let mut sum: i64 = 0;
        for (i, d) in denominations.iter().enumerate() {
            if !(1..=MAX_PRICE).contains(&d.value) {
                return Err(ValidationError::new(
                    format!("denominations[{i}].value"),
                    "out_of_range",
                    "a note or coin's value in minor units",
                ));
            }
            if !(0..=1_000_000).contains(&d.count) {
                return Err(ValidationError::new(
                    format!("denominations[{i}].count"),
                    "out_of_range",
                    "between 0 and 1,000,000",
                ));
            }
            if denominations[..i].iter().any(|o| o.value == d.value) {
                return Err(ValidationError::new(
                    format!("denominations[{i}].value"),
                    "duplicate",
                    "name each denomination once",
                ));
            }
            sum = d
                .value
                .checked_mul(d.count)
                .and_then(|v| sum.checked_add(v))
                .filter(|s| *s <= MAX_PRICE)
                .ok_or_else(|| {
                    ValidationError::new("denominations", "too_large", "more than a till holds")
                })?;
        }
        if total.is_some_and(|t| t != sum) {
            return Err(ValidationError::new(
                "total",
                "mismatch",
                format!("the denominations add up to {sum}"),
            ));
        }
        Ok(Self {
            denominations,
            total: sum,
        })
    }
}

/// The drawer as the order log sees it: cash taken for sales (with cash rounding) and
/// cash given back for refunds during the shift.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct DrawerSales {
    pub cash_sales: i64,
    pub cash_refunds: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Closing {
    pub by: Option<UserId>,
    pub at: DateTime<Utc>,
    pub count: CashCount,
    pub sales: DrawerSales,
    /// What the drawer should hold: float + in - out + cash sales - cash refunds.
    pub expected: i64,
    /// Counted minus expected: negative when cash is missing.
    pub difference: i64,
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Shift {
    pub id: ShiftId,
    pub store_id: StoreId,
    /// Per store, counting up; set when written.
    pub number: i64,
    pub device_id: DeviceId,
    pub status: ShiftStatus,
    pub opened_by: Option<UserId>,
    pub opened_at: DateTime<Utc>,
    /// Cash in the drawer at the start.
    pub float: i64,
    pub movements: Vec<CashMovement>,
    pub closing: Option<Closing>,
    /// The business day it was closed in (the number of that day's Z report).
    #[serde(default)]
    pub day: Option<i64>,
    pub version: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShiftError {
    #[error("{0}")]
    Invalid(ValidationError),
    #[error("the shift is closed")]
    Closed,
}

impl From<ValidationError> for ShiftError {
    fn from(e: ValidationError) -> Self {
        ShiftError::Invalid(e)
    }
}

fn amount(field: &str, value: i64, min: i64) -> Result<i64, ValidationError> {
    if (min..=MAX_PRICE).contains(&value) {
        Ok(value)
    } else {
        Err(ValidationError::new(
            field,
            "out_of_range",
            format!("at least {min}"),
        ))
    }
}

impl Shift {
    pub fn open(
        store_id: StoreId,
        device_id: DeviceId,
        float: i64,
        by: Option<UserId>,
        at: DateTime<Utc>,
    ) -> Result<Self, ValidationError> {
        Ok(Self {
            id: ShiftId::new(),
            store_id,
            number: 0,
            device_id,
            status: ShiftStatus::Open,
            opened_by: by,
            opened_at: at,
            float: amount("float.amount", float, 0)?,
            movements: Vec::new(),
            closing: None,
            day: None,
            version: 1,
        })
    }

    fn require_open(&self) -> Result<(), ShiftError> {
        match self.status {
            ShiftStatus::Open => Ok(()),
            ShiftStatus::Closed => Err(ShiftError::Closed),
        }
    }

    pub fn move_cash(
        &mut self,
        direction: CashDirection,
        value: i64,
        reason: &str,
        by: Option<UserId>,
        at: DateTime<Utc>,
    ) -> Result<(), ShiftError> {
        self.require_open()?;
        if self.movements.len() >= MAX_MOVEMENTS {
            return Err(ValidationError::new(
                "amount",
                "too_many",
                format!("a shift takes at most {MAX_MOVEMENTS} cash movements"),
            )
            .into());
        }
        let value = amount("amount.amount", value, 1)?;
        let reason = bounded_text("reason", reason, 1, 200)?;
        self.movements.push(CashMovement {
            direction,
            amount: value,
            reason,
            by,
            at,
        });
        self.version += 1;
        Ok(())
    }

    /// Float plus cash put in, minus cash taken out.
    pub fn float_and_movements(&self) -> i64 {
        let movements = self.movements.iter().map(|m| match m.direction {
            CashDirection::In => m.amount,
            CashDirection::Out => -m.amount,
        });
        saturating_sum(movements).saturating_add(self.float)
    }

    /// What the drawer should hold with `sales` taken through it.
    pub fn expected(&self, sales: DrawerSales) -> i64 {
        self.float_and_movements()
            .saturating_add(sales.cash_sales)
            .saturating_sub(sales.cash_refunds)
    }

    pub fn close(
        &mut self,
        count: CashCount,
        sales: DrawerSales,
        note: Option<String>,
        by: Option<UserId>,
        at: DateTime<Utc>,
        day: i64,
    ) -> Result<(), ShiftError> {
        self.require_open()?;
        let note = note.map(|n| bounded_text("note", &n, 1, 500)).transpose()?;
        let expected = self.expected(sales);
        self.closing = Some(Closing {
            by,
            at,
            difference: count.total.saturating_sub(expected),
            count,
            sales,
            expected,
            note,
        });
        self.status = ShiftStatus::Closed;
        self.day = Some(day);
        self.version += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock;

    fn d(value: i64, count: i64) -> Denomination {
        Denomination { value, count }
    }

    #[test]
    fn a_count_adds_its_denominations_and_checks_a_given_total() {
        let count = CashCount::new(vec![d(5_000, 3), d(100, 7)], None).expect("count");
        assert_eq!(count.total, 15_700);
        assert!(CashCount::new(vec![d(5_000, 3)], Some(15_001)).is_err());
        assert!(CashCount::new(vec![d(5_000, 1), d(5_000, 1)], None).is_err());
        assert!(CashCount::new(vec![d(0, 1)], None).is_err());
        assert!(CashCount::new(vec![d(100, -1)], None).is_err());
        assert!(CashCount::new(Vec::new(), None).is_err());
        assert_eq!(
            CashCount::new(Vec::new(), Some(900)).map(|c| c.total),
            Ok(900)
        );
    }

    #[test]
    fn expected_cash_is_float_plus_movements_plus_sales_less_refunds() {
        let mut shift =
            Shift::open(StoreId::new(), DeviceId::new(), 20_000, None, clock::now()).expect("open");
        shift
            .move_cash(CashDirection::In, 5_000, "troco", None, clock::now())
            .expect("in");
        shift
            .move_cash(CashDirection::Out, 3_000, "gelo", None, clock::now())
            .expect("out");
        assert!(
            shift
                .move_cash(CashDirection::Out, 0, "x", None, clock::now())
                .is_err()
        );
        assert!(
            shift
                .move_cash(CashDirection::Out, 10, " ", None, clock::now())
                .is_err()
        );
        let sales = DrawerSales {
            cash_sales: 41_050,
            cash_refunds: 1_100,
        };
        assert_eq!(
            shift.expected(sales),
            20_000 + 5_000 - 3_000 + 41_050 - 1_100
        );
        let count = CashCount::new(Vec::new(), Some(61_900)).expect("count");
        shift
            .close(count, sales, None, None, clock::now(), 1)
            .expect("close");
        let closing = shift.closing.clone().expect("closed");
        assert_eq!((closing.expected, closing.difference), (61_950, -50));
        assert_eq!(
            shift.move_cash(CashDirection::In, 1, "late", None, clock::now()),
            Err(ShiftError::Closed)
        );
    }
}
