//! Currencies. Amounts are always integer minor units (`i64`) tagged with one of these;
//! arithmetic on amounts arrives with the Catalog work.

use crate::validation::ValidationError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// ISO 4217 currencies comanda prices in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Currency {
    #[serde(rename = "BRL")]
    Brl,
    #[serde(rename = "USD")]
    Usd,
    #[serde(rename = "EUR")]
    Eur,
    #[serde(rename = "GBP")]
    Gbp,
    #[serde(rename = "IDR")]
    Idr,
    #[serde(rename = "MXN")]
    Mxn,
}

impl Currency {
    pub const ALL: [Currency; 6] = [
        Currency::Brl,
        Currency::Usd,
        Currency::Eur,
        Currency::Gbp,
        Currency::Idr,
        Currency::Mxn,
    ];

    pub const fn code(self) -> &'static str {
        match self {
            Currency::Brl => "BRL",
            Currency::Usd => "USD",
            Currency::Eur => "EUR",
            Currency::Gbp => "GBP",
            Currency::Idr => "IDR",
            Currency::Mxn => "MXN",
        }
    }

    /// Digits after the decimal point in everyday use. ISO 4217 gives IDR two, but
    /// rupiah have no circulating subunit, so prices and tills work in whole rupiah.
    pub const fn minor_units(self) -> u32 {
        match self {
            Currency::Idr => 0,
            Currency::Brl | Currency::Usd | Currency::Eur | Currency::Gbp | Currency::Mxn => 2,
        }
    }

    /// Parses an ISO code as a client sent it, naming `field` when it is unknown.
    pub fn parse_field(field: &str, code: &str) -> Result<Self, ValidationError> {
        code.parse().map_err(|()| {
            let known: Vec<&str> = Self::ALL.iter().map(|c| c.code()).collect();
            ValidationError::new(
                field,
                "unknown_currency",
                format!("unknown currency {code:?}; supported: {}", known.join(", ")),
            )
        })
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|c| c.code() == s).ok_or(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_match_serde() {
        for c in Currency::ALL {
            assert_eq!(c.code().parse::<Currency>(), Ok(c));
            assert_eq!(
                serde_json::to_string(&c).expect("serialises"),
                format!("\"{}\"", c.code())
            );
        }
    }

    #[test]
    fn unknown_and_lowercase_codes_are_rejected_with_the_field() {
        let err = Currency::parse_field("currency", "usd").expect_err("codes are upper case");
        assert_eq!(
            (err.field.as_str(), err.code),
            ("currency", "unknown_currency")
        );
        assert!(Currency::parse_field("currency", "XYZ").is_err());
    }

    #[test]
    fn rupiah_has_no_minor_unit() {
        assert_eq!(Currency::Idr.minor_units(), 0);
        assert_eq!(Currency::Brl.minor_units(), 2);
    }
}
