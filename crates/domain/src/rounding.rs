//! Rounding rules, chosen per store and named in every result so a receipt can be
//! explained: tax authorities differ on how a half cent is rounded.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RoundingMode {
    /// Halves away from zero: 0.5 -> 1, -0.5 -> -1. What most tills and people do.
    #[default]
    HalfUp,
    /// Halves to the even neighbour (banker's rounding): 0.5 -> 0, 1.5 -> 2. Unbiased over
    /// many lines.
    HalfEven,
}

impl RoundingMode {
    pub const ALL: [RoundingMode; 2] = [RoundingMode::HalfUp, RoundingMode::HalfEven];

    pub const fn as_str(self) -> &'static str {
        match self {
            RoundingMode::HalfUp => "half_up",
            RoundingMode::HalfEven => "half_even",
        }
    }
}

impl fmt::Display for RoundingMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RoundingMode {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|m| m.as_str() == s).ok_or(())
    }
}

/// `num / den` rounded to an integer by `mode`. `den` must be positive.
pub fn div_round(num: i128, den: i128, mode: RoundingMode) -> i128 {
    debug_assert!(den > 0);
    let quotient = num.div_euclid(den);
    let remainder = num.rem_euclid(den);
    // quotient is the floor; compare twice the remainder with the divisor to find which
    // neighbour is nearer.
    let twice = remainder * 2;
    let up = match twice.cmp(&den) {
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Equal => match mode {
            // The floor of a negative half is the neighbour further from zero.
            RoundingMode::HalfUp => num >= 0,
            RoundingMode::HalfEven => quotient % 2 != 0,
        },
    };
    if up { quotient + 1 } else { quotient }
}

/// Cash rounding: the amount a customer pays in cash when the smallest coin is
/// `increment` minor units (100 for rupiah), with the difference to book.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CashRounded {
    pub due: i64,
    /// `due - amount`: positive when the customer pays a little more.
    pub adjustment: i64,
}

/// Rounds `amount` to the nearest multiple of `increment` (halves up, as tills do).
pub fn cash_round(amount: i64, increment: i64) -> CashRounded {
    if increment <= 1 {
        return CashRounded {
            due: amount,
            adjustment: 0,
        };
    }
    let steps = div_round(
        i128::from(amount),
        i128::from(increment),
        RoundingMode::HalfUp,
    );
    // |steps * increment| <= |amount| + increment / 2, so it fits whenever amount is
    // a realistic price; saturate rather than wrap if it is not.
    let due = i64::try_from(steps * i128::from(increment)).unwrap_or(amount);
    CashRounded {
        due,
        adjustment: due - amount,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RoundingMode::*;

    #[test]
    fn halves_follow_the_mode_and_everything_else_goes_to_the_nearest() {
        // (num, den, half_up, half_even)
        let cases = [
            (5, 10, 1, 0),
            (15, 10, 2, 2),
            (25, 10, 3, 2),
            (-5, 10, -1, 0),
            (-15, 10, -2, -2),
            (-25, 10, -3, -2),
            (14, 10, 1, 1),
            (16, 10, 2, 2),
            (-14, 10, -1, -1),
            (-16, 10, -2, -2),
            (0, 7, 0, 0),
            (7, 7, 1, 1),
            (1, 3, 0, 0),
            (2, 3, 1, 1),
        ];
        for (num, den, up, even) in cases {
            assert_eq!(div_round(num, den, HalfUp), up, "{num}/{den} half up");
            assert_eq!(div_round(num, den, HalfEven), even, "{num}/{den} half even");
        }
    }

    #[test]
    fn cash_rounds_to_the_nearest_coin() {
        assert_eq!(
            cash_round(16_650, 100),
            CashRounded {
                due: 16_700,
                adjustment: 50
            }
        );
        assert_eq!(cash_round(16_649, 100).due, 16_600);
        assert_eq!(cash_round(1_234, 5).due, 1_235);
        assert_eq!(cash_round(1_232, 5).due, 1_230);
        assert_eq!(cash_round(-1_232, 5).due, -1_230);
        assert_eq!(
            cash_round(999, 1),
            CashRounded {
                due: 999,
                adjustment: 0
            }
        );
    }

    #[test]
    fn names_round_trip() {
        for m in RoundingMode::ALL {
            assert_eq!(m.as_str().parse(), Ok(m));
        }
    }
}
