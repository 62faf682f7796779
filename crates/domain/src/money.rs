//! Money: integer minor units (`i64`) tagged with an ISO 4217 currency. Never floats;
//! arithmetic refuses to mix currencies or to overflow instead of wrapping.

use crate::locale::Locale;
use crate::validation::ValidationError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// ISO 4217 currencies comanda prices in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
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

    /// The smallest coin a till hands out, in minor units, where it is larger than one
    /// minor unit: rupiah are paid in hundreds. Stores may change it.
    pub const fn default_cash_increment(self) -> i64 {
        match self {
            Currency::Idr => 100,
            Currency::Brl | Currency::Usd | Currency::Eur | Currency::Gbp | Currency::Mxn => 1,
        }
    }

    /// The symbol as a reader in `locale` expects it: a bare `$` is the US dollar to an
    /// American, but ambiguous to a Brazilian.
    pub const fn symbol(self, locale: Locale) -> &'static str {
        match (self, locale) {
            (Currency::Brl, _) => "R$",
            (Currency::Usd, Locale::EnUs) => "$",
            (Currency::Usd, _) => "US$",
            (Currency::Eur, _) => "€",
            (Currency::Gbp, _) => "£",
            (Currency::Idr, _) => "Rp",
            (Currency::Mxn, _) => "MX$",
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

/// An amount of one currency, in its minor units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Money {
    pub amount: i64,
    pub currency: Currency,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("cannot combine {0} with {1}")]
    CurrencyMismatch(Currency, Currency),
    #[error("amount out of range")]
    Overflow,
}

impl Money {
    pub const fn new(amount: i64, currency: Currency) -> Self {
        Self { amount, currency }
    }

    pub const fn zero(currency: Currency) -> Self {
        Self::new(0, currency)
    }

    fn same(self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch(self.currency, other.currency))
        }
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same(other)?;
        let amount = self
            .amount
            .checked_add(other.amount)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(amount, self.currency))
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same(other)?;
        let amount = self
            .amount
            .checked_sub(other.amount)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(amount, self.currency))
    }

    pub fn checked_mul(self, factor: i64) -> Result<Money, MoneyError> {
        let amount = self
            .amount
            .checked_mul(factor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(amount, self.currency))
    }

    /// The sum of `items`, all of which must be in `currency`.
    pub fn sum(
        currency: Currency,
        items: impl IntoIterator<Item = Money>,
    ) -> Result<Money, MoneyError> {
        items
            .into_iter()
            .try_fold(Money::zero(currency), Money::checked_add)
    }

    /// Reads an amount written in major units as people type it in a spreadsheet:
    /// `12.50`, `12`, `-3.5`, or `15000` for rupiah. A decimal comma is accepted too
    /// (`12,50`), but never a thousands separator, so `1,250` is refused, not guessed.
    pub fn parse_major(
        field: &str,
        text: &str,
        currency: Currency,
    ) -> Result<Money, ValidationError> {
        let invalid = || {
            ValidationError::new(
                field,
                "invalid_amount",
                format!(
                    "{text:?} is not an amount in {currency} (e.g. {})",
                    Money::new(
                        1250 * 10_i64.pow(2u32.saturating_sub(currency.minor_units())),
                        currency
                    )
                    .to_major_string()
                ),
            )
        };
        let text = text.trim();
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = match digits.split_once(['.', ',']) {
            Some((w, f)) => (w, f),
            None => (digits, ""),
        };
        let places = currency.minor_units() as usize;
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) || whole.len() > 15 {
            return Err(invalid());
        }
        if digits.contains(['.', ',']) && fraction.is_empty() {
            return Err(invalid());
        }
        if fraction.len() > places {
            return Err(ValidationError::new(
                field,
                "too_precise",
                format!("{currency} amounts have {places} decimal places at most"),
            ));
        }
        let padded = format!("{whole}{fraction:0<places$}");
        let amount: i64 = padded.parse().map_err(|_| invalid())?;
        Ok(Money::new(
            if negative { -amount } else { amount },
            currency,
        ))
    }

    /// The amount in major units with a `.` decimal point and no grouping, as CSV files
    /// and other machines read it: `12.50`, `-0.05`, `15000`.
    pub fn to_major_string(&self) -> String {
        let places = self.currency.minor_units();
        let abs = self.amount.unsigned_abs();
        let sign = if self.amount < 0 { "-" } else { "" };
        if places == 0 {
            return format!("{sign}{abs}");
        }
        let scale = 10_u64.pow(places);
        format!(
            "{sign}{}.{:0width$}",
            abs / scale,
            abs % scale,
            width = places as usize
        )
    }

    /// The amount as a person reading `locale` expects it: `$1,234.50`, `R$ 1.234,50`,
    /// `Rp 15.000`. The space after the symbol is a no-break space.
    pub fn format(&self, locale: Locale) -> String {
        let (group, space) = match locale {
            Locale::EnUs => (',', ""),
            Locale::PtBr | Locale::IdId => ('.', "\u{a0}"),
        };
        let decimal = locale.decimal_mark();
        let places = self.currency.minor_units();
        let abs = self.amount.unsigned_abs();
        let scale = 10_u64.pow(places);
        let whole = (abs / scale).to_string();
        let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
        for (i, digit) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i).is_multiple_of(3) {
                grouped.push(group);
            }
            grouped.push(digit);
        }
        if places > 0 {
            grouped.push(decimal);
            grouped.push_str(&format!("{:0width$}", abs % scale, width = places as usize));
        }
        let sign = if self.amount < 0 { "-" } else { "" };
        format!("{sign}{}{space}{grouped}", self.currency.symbol(locale))
    }
}

/// A price as a client sends it: `{"amount": 1250, "currency": "BRL"}`. Read loosely so
/// that a wrong amount or currency is reported against its own field.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MoneyInput {
    pub amount: serde_json::Value,
    pub currency: String,
}

impl MoneyInput {
    /// Checks the amount is a whole number of minor units, at least `min`, and in the
    /// store's currency.
    pub fn parse(
        &self,
        field: &str,
        expected: Currency,
        min: i64,
    ) -> Result<Money, ValidationError> {
        let currency = Currency::parse_field(&format!("{field}.currency"), &self.currency)?;
        if currency != expected {
            return Err(ValidationError::new(
                format!("{field}.currency"),
                "currency_mismatch",
                format!("this store prices in {expected}, not {currency}"),
            ));
        }
        let amount = self.amount.as_i64().ok_or_else(|| {
            ValidationError::new(
                format!("{field}.amount"),
                "invalid_amount",
                format!("must be a whole number of minor units (cents): 12.50 {expected} is 1250"),
            )
        })?;
        if amount < min {
            let code = if min == 0 { "negative" } else { "too_small" };
            return Err(ValidationError::new(
                format!("{field}.amount"),
                code,
                format!("must be at least {min}"),
            ));
        }
        if amount.unsigned_abs() > MAX_PRICE as u64 {
            return Err(ValidationError::new(
                format!("{field}.amount"),
                "too_large",
                format!("must be at most {MAX_PRICE}"),
            ));
        }
        Ok(Money::new(amount, currency))
    }
}

/// The largest price or price change the catalog accepts, and the largest amount any
/// one input carries (a tender, a tip, a float, a meal's price), in minor units. Far
/// beyond any menu, and small enough that tax arithmetic on it cannot overflow.
pub const MAX_PRICE: i64 = 1_000_000_000_000;

/// The most one order may come to, tip included, in minor units: ten billion dollars or
/// reais, a trillion rupiah. No store reaches it, and a day of a million such orders
/// still adds up inside `i64`, so no total of the reports can overflow either.
pub const MAX_ORDER_TOTAL: i64 = 1_000_000_000_000;

/// The sum of `amounts`, or `None` where it would leave `i64`.
pub fn checked_sum(amounts: impl IntoIterator<Item = i64>) -> Option<i64> {
    amounts.into_iter().try_fold(0_i64, i64::checked_add)
}

/// The sum of `amounts` for reports, which must always answer: stuck at the end of `i64`
/// rather than wrapped. The order bound keeps a real day far from it.
pub fn saturating_sum(amounts: impl IntoIterator<Item = i64>) -> i64 {
    amounts.into_iter().fold(0_i64, i64::saturating_add)
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

    #[test]
    fn arithmetic_refuses_to_mix_currencies_or_overflow() {
        let real = Money::new(1050, Currency::Brl);
        assert_eq!(real.checked_add(real), Ok(Money::new(2100, Currency::Brl)));
        assert_eq!(
            real.checked_add(Money::new(1, Currency::Usd)),
            Err(MoneyError::CurrencyMismatch(Currency::Brl, Currency::Usd))
        );
        assert_eq!(
            Money::new(i64::MAX, Currency::Usd).checked_add(Money::new(1, Currency::Usd)),
            Err(MoneyError::Overflow)
        );
        assert_eq!(real.checked_mul(i64::MAX), Err(MoneyError::Overflow));
        assert_eq!(
            Money::sum(Currency::Brl, [real, real, real]).map(|m| m.amount),
            Ok(3150)
        );
        assert!(Money::sum(Currency::Usd, [real]).is_err());
    }

    #[test]
    fn major_units_parse_exactly() {
        let p = |t: &str, c| Money::parse_major("price", t, c).map(|m| m.amount);
        assert_eq!(p("12.50", Currency::Brl), Ok(1250));
        assert_eq!(p("12,5", Currency::Brl), Ok(1250));
        assert_eq!(p("12", Currency::Usd), Ok(1200));
        assert_eq!(p("-0.05", Currency::Usd), Ok(-5));
        assert_eq!(p("15000", Currency::Idr), Ok(15000));
        assert_eq!(p("0.10", Currency::Usd), Ok(10));
        for bad in [
            "", "abc", "1,250.00", "12.", ".5", "1e3", "12.5.1", "--1", " - 1",
        ] {
            assert!(p(bad, Currency::Usd).is_err(), "{bad:?}");
        }
        assert_eq!(
            Money::parse_major("price", "12.505", Currency::Usd).map_err(|e| e.code),
            Err("too_precise")
        );
        assert_eq!(
            Money::parse_major("price", "100.5", Currency::Idr).map_err(|e| e.code),
            Err("too_precise")
        );
    }

    #[test]
    fn major_strings_round_trip() {
        for (amount, currency, text) in [
            (1250, Currency::Brl, "12.50"),
            (-5, Currency::Usd, "-0.05"),
            (0, Currency::Eur, "0.00"),
            (15000, Currency::Idr, "15000"),
        ] {
            let m = Money::new(amount, currency);
            assert_eq!(m.to_major_string(), text);
            assert_eq!(Money::parse_major("p", text, currency), Ok(m));
        }
    }

    #[test]
    fn formatting_follows_the_locale() {
        let nb = '\u{a0}';
        assert_eq!(
            Money::new(123_450, Currency::Usd).format(Locale::EnUs),
            "$1,234.50"
        );
        assert_eq!(
            Money::new(123_450, Currency::Brl).format(Locale::PtBr),
            format!("R${nb}1.234,50")
        );
        assert_eq!(
            Money::new(1_234_500, Currency::Idr).format(Locale::IdId),
            format!("Rp{nb}1.234.500")
        );
        assert_eq!(
            Money::new(-500, Currency::Usd).format(Locale::EnUs),
            "-$5.00"
        );
        assert_eq!(
            Money::new(5, Currency::Usd).format(Locale::PtBr),
            format!("US${nb}0,05")
        );
        assert_eq!(
            Money::new(100_000_000, Currency::Brl).format(Locale::EnUs),
            "R$1,000,000.00"
        );
    }

    #[test]
    fn client_prices_name_the_bad_part() {
        let input = |amount: serde_json::Value, currency: &str| MoneyInput {
            amount,
            currency: currency.into(),
        };
        let ok = input(serde_json::json!(1250), "BRL").parse("price", Currency::Brl, 0);
        assert_eq!(ok, Ok(Money::new(1250, Currency::Brl)));
        let cases = [
            (
                input(serde_json::json!(-1), "BRL"),
                "price.amount",
                "negative",
            ),
            (
                input(serde_json::json!(12.5), "BRL"),
                "price.amount",
                "invalid_amount",
            ),
            (
                input(serde_json::json!("12"), "BRL"),
                "price.amount",
                "invalid_amount",
            ),
            (
                input(serde_json::json!(1), "XYZ"),
                "price.currency",
                "unknown_currency",
            ),
            (
                input(serde_json::json!(1), "USD"),
                "price.currency",
                "currency_mismatch",
            ),
            (
                input(serde_json::json!(MAX_PRICE + 1), "BRL"),
                "price.amount",
                "too_large",
            ),
        ];
        for (value, field, code) in cases {
            let err = value.parse("price", Currency::Brl, 0).expect_err("refused");
            assert_eq!((err.field.as_str(), err.code), (field, code));
        }
    }
}
