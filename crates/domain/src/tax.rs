//! Taxes and service charges: how a store's rates turn line prices into a total.
//!
//! The rules, all explicit:
//! - Prices are tax-exclusive (taxes added on top: US sales tax, Indonesian "++" menus)
//!   or tax-inclusive (taxes inside the price: Brazil, Europe). Service charges are always
//!   added on top, whichever the pricing: a 10% *serviço* is never inside a menu price.
//! - A line may carry several rates. A simple rate applies to the line's price. A
//!   *compound* tax applies to the price plus the service charges and simple taxes of
//!   the line (Indonesian PPN on food plus service). With tax-inclusive prices, a
//!   compound tax compounds on the simple taxes only.
//! - Rounding to minor units happens per line and rate, or once per rate for the whole
//!   order, and halves go up or to even, as the store chooses.
//! - Whatever the choice, the lines add up to the order exactly: under per-order
//!   rounding, each rate's rounded total is shared out over the lines by largest
//!   remainder, so a receipt's lines and its totals never disagree by a cent.

use crate::ids::TaxRateId;
use crate::money::{self, MAX_ORDER_TOTAL};
use crate::rounding::{RoundingMode, div_round};
use crate::validation::ValidationError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// 100 %, in the units of [`Rate`].
pub const RATE_SCALE: u32 = 1_000_000;

/// A percentage with up to four decimals (7 %, 7.25 %, 6.625 %), held as an integer
/// number of ten-thousandths of a percent so no float ever touches it.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(try_from = "String", into = "String")]
pub struct Rate(#[schemars(with = "String")] u32);

impl Rate {
    pub const ZERO: Rate = Rate(0);

    /// A rate from ten-thousandths of a percent (`70_000` is 7 %), if at most 100 %.
    pub const fn from_units(units: u32) -> Option<Rate> {
        if units <= RATE_SCALE {
            Some(Rate(units))
        } else {
            None
        }
    }

    pub const fn units(self) -> u32 {
        self.0
    }

    /// Parses `"7"`, `"7.25"` or `"6.625"` (percent), naming `field` if it is not a
    /// percentage between 0 and 100 with at most four decimals.
    pub fn parse(field: &str, text: &str) -> Result<Rate, ValidationError> {
        let invalid = |message: &str| ValidationError::new(field, "invalid_rate", message);
        let text = text.trim().trim_end_matches('%').trim_end();
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || whole.len() > 3 || !digits(whole) || !digits(fraction) {
            return Err(invalid("must be a percentage such as 7 or 7.25"));
        }
        if text.contains('.') && fraction.is_empty() {
            return Err(invalid("must be a percentage such as 7 or 7.25"));
        }
        if fraction.len() > 4 {
            return Err(invalid("at most four decimal places"));
        }
        let units: u32 = format!("{whole}{fraction:0<4}")
            .parse()
            .map_err(|_| invalid("must be a percentage such as 7 or 7.25"))?;
        Rate::from_units(units).ok_or_else(|| invalid("must be between 0 and 100"))
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / 10_000;
        let fraction = self.0 % 10_000;
        if fraction == 0 {
            write!(f, "{whole}")
        } else {
            let digits = format!("{fraction:04}");
            write!(f, "{whole}.{}", digits.trim_end_matches('0'))
        }
    }
}

impl TryFrom<String> for Rate {
    type Error = ValidationError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Rate::parse("rate", &value)
    }
}

impl From<Rate> for String {
    fn from(value: Rate) -> Self {
        value.to_string()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaxKind {
    /// A tax owed to an authority (sales tax, VAT, PPN, ICMS).
    Tax,
    /// A charge the house adds (service, cover); always on top of the price.
    ServiceCharge,
}

impl TaxKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            TaxKind::Tax => "tax",
            TaxKind::ServiceCharge => "service_charge",
        }
    }
}

impl FromStr for TaxKind {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [TaxKind::Tax, TaxKind::ServiceCharge]
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(())
    }
}

/// Whether catalog prices already contain the taxes.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Pricing {
    #[default]
    TaxExclusive,
    TaxInclusive,
}

impl Pricing {
    pub const fn as_str(self) -> &'static str {
        match self {
            Pricing::TaxExclusive => "tax_exclusive",
            Pricing::TaxInclusive => "tax_inclusive",
        }
    }
}

impl FromStr for Pricing {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Pricing::TaxExclusive, Pricing::TaxInclusive]
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or(())
    }
}

/// Where amounts are rounded to minor units.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RoundingScope {
    /// Each line's tax is rounded, and the order's is their sum.
    #[default]
    Line,
    /// Each rate is rounded once on the order's exact total, then shared out over the lines.
    Order,
}

impl RoundingScope {
    pub const fn as_str(self) -> &'static str {
        match self {
            RoundingScope::Line => "line",
            RoundingScope::Order => "order",
        }
    }
}

impl FromStr for RoundingScope {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [RoundingScope::Line, RoundingScope::Order]
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or(())
    }
}

/// A store's tax rules.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct TaxPolicy {
    pub pricing: Pricing,
    pub rounding_scope: RoundingScope,
    pub rounding_mode: RoundingMode,
}

/// A rate as the calculation needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaxRule {
    pub id: TaxRateId,
    pub kind: TaxKind,
    pub rate: Rate,
    /// Only meaningful for taxes; service charges are never compound.
    pub compound: bool,
}

impl TaxRule {
    fn class(&self) -> Class {
        match (self.kind, self.compound) {
            (TaxKind::ServiceCharge, _) => Class::Service,
            (TaxKind::Tax, false) => Class::Simple,
            (TaxKind::Tax, true) => Class::Compound,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Service,
    Simple,
    Compound,
}

/// One line of an order as priced: its amount after quantity and discounts, in minor
/// units (including the taxes if prices are tax-inclusive), and the rates it carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaxLine {
    pub amount: i64,
    pub rates: Vec<TaxRateId>,
}

/// What one rate adds to one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Charge {
    pub rate: TaxRateId,
    pub amount: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct LineTaxes {
    /// The line without taxes or service.
    pub net: i64,
    pub charges: Vec<Charge>,
    /// What the customer pays for the line.
    pub total: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct RateTotal {
    pub rate: TaxRateId,
    pub kind: TaxKind,
    /// The net amount of the lines that carry this rate.
    pub base: i64,
    pub amount: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct TaxBreakdown {
    pub lines: Vec<LineTaxes>,
    /// One entry per rate used, in the order of the rules given.
    pub rates: Vec<RateTotal>,
    pub net: i64,
    pub tax: i64,
    pub service: i64,
    pub total: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TaxError {
    #[error("line {line} refers to a tax rate that does not exist")]
    UnknownRate { line: usize, rate: TaxRateId },
    #[error("line {line} has a negative amount")]
    NegativeAmount { line: usize },
    #[error("line {line} is too large to tax")]
    AmountTooLarge { line: usize },
    /// Service charges, simple taxes or compound taxes on one line add up to over 100 %.
    #[error("the rates on line {line} add up to more than 100 %")]
    RatesTooHigh { line: usize },
    /// The order would come to more than one order may.
    #[error("the order would come to more than {limit} (the most one order may)")]
    OrderTooLarge { limit: i64 },
}

/// The largest line amount the calculation accepts: what one order may come to. With
/// rates at most 100 % per class on a line, the largest intermediate value (an exact share
/// at 10^-12 of a minor unit: amount × 3 × 10^6 × 10^6 × 10^12) stays inside `i128`.
pub const MAX_LINE_AMOUNT: i64 = MAX_ORDER_TOTAL;

/// Fixed-point scale for summing exact shares before per-order rounding. Exact values
/// are kept to 10^-12 of a minor unit; see [`compute`].
const FIXED: i128 = 1_000_000_000_000;

/// An exact share `num / den` of a line for one rule.
struct Exact {
    rule: usize,
    num: i128,
    den: i128,
}

fn exact_shares(
    pricing: Pricing,
    amount: i64,
    rules: &[&TaxRule],
    indices: &[usize],
) -> Vec<Exact> {
    let k = i128::from(RATE_SCALE);
    let p = i128::from(amount);
    let (service, simple, compound) = (
        class_sum(rules, Class::Service),
        class_sum(rules, Class::Simple),
        class_sum(rules, Class::Compound),
    );
    rules
        .iter()
        .zip(indices)
        .map(|(rule, &index)| {
            let r = i128::from(rule.rate.units());
            let (num, den) = match (pricing, rule.class()) {
                (_, Class::Service) => (p * r, k),
                (Pricing::TaxExclusive, Class::Simple) => (p * r, k),
                (Pricing::TaxExclusive, Class::Compound) => (p * (k + service + simple) * r, k * k),
                (Pricing::TaxInclusive, Class::Simple) => {
                    (p * k * r, (k + simple) * (k + compound))
                }
                (Pricing::TaxInclusive, Class::Compound) => (p * r, k + compound),
            };
            Exact {
                rule: index,
                num,
                den,
            }
        })
        .collect()
}

fn class_sum(rules: &[&TaxRule], class: Class) -> i128 {
    rules
        .iter()
        .filter(|r| r.class() == class)
        .map(|r| i128::from(r.rate.units()))
        .sum()
}

/// Computes the taxes and service charges of an order's lines under `policy`.
///
/// Under per-order rounding, exact shares are summed at 10^-12 of a minor unit before
/// rounding; a sum can only round differently from the true rational sum if it lies
/// within 10^-12 × lines of a half, which no real order reaches.
pub fn compute(
    policy: &TaxPolicy,
    rules: &[TaxRule],
    lines: &[TaxLine],
) -> Result<TaxBreakdown, TaxError> {
    // Exact shares per line, with the index of their rule.
    let mut shares: Vec<Vec<Exact>> = Vec::with_capacity(lines.len());
    for (n, line) in lines.iter().enumerate() {
        if line.amount < 0 {
            return Err(TaxError::NegativeAmount { line: n });
        }
        if line.amount > MAX_LINE_AMOUNT {
            return Err(TaxError::AmountTooLarge { line: n });
        }
        let mut indices: Vec<usize> = Vec::with_capacity(line.rates.len());
        for id in &line.rates {
            let index = rules
                .iter()
                .position(|r| r.id == *id)
                .ok_or(TaxError::UnknownRate { line: n, rate: *id })?;
            if !indices.contains(&index) {
                indices.push(index);
            }
        }
        indices.sort_unstable();
        let applied: Vec<&TaxRule> = indices.iter().map(|&i| &rules[i]).collect();
        let over = [Class::Service, Class::Simple, Class::Compound]
            .into_iter()
            .any(|class| class_sum(&applied, class) > i128::from(RATE_SCALE));
        if over {
            return Err(TaxError::RatesTooHigh { line: n });
        }
        shares.push(exact_shares(
            policy.pricing,
            line.amount,
            &applied,
            &indices,
        ));
    }

    // Rounded amount per line and rule.
    let mut amounts: Vec<Vec<(usize, i64)>> = shares
        .iter()
        .map(|line| line.iter().map(|e| (e.rule, 0)).collect())
        .collect();
    match policy.rounding_scope {
        RoundingScope::Line => {
            for (line, exacts) in amounts.iter_mut().zip(&shares) {
                for (slot, e) in line.iter_mut().zip(exacts) {
                    slot.1 = to_i64(div_round(e.num, e.den, policy.rounding_mode));
                }
            }
        }
        RoundingScope::Order => {
            for rule in 0..rules.len() {
                share_out(rule, &shares, &mut amounts, policy.rounding_mode);
            }
        }
    }

    let mut breakdown = TaxBreakdown {
        lines: Vec::with_capacity(lines.len()),
        rates: Vec::new(),
        net: 0,
        tax: 0,
        service: 0,
        total: 0,
    };
    let mut per_rule: Vec<Option<RateTotal>> = vec![None; rules.len()];
    for (n, (line, charges)) in lines.iter().zip(&amounts).enumerate() {
        // Each line is bounded, but an order may have any number of them: every sum is
        // checked, and one that leaves `i64` refuses the order.
        let too_large = || TaxError::AmountTooLarge { line: n };
        let of_kind = |kind: TaxKind| {
            let amounts = charges
                .iter()
                .filter(|(r, _)| rules[*r].kind == kind)
                .map(|(_, a)| *a);
            money::checked_sum(amounts).ok_or_else(too_large)
        };
        let (tax, service) = (of_kind(TaxKind::Tax)?, of_kind(TaxKind::ServiceCharge)?);
        let (net, total) = match policy.pricing {
            Pricing::TaxExclusive => (
                line.amount,
                money::checked_sum([line.amount, tax, service]).ok_or_else(too_large)?,
            ),
            Pricing::TaxInclusive => (
                line.amount.checked_sub(tax).ok_or_else(too_large)?,
                line.amount.checked_add(service).ok_or_else(too_large)?,
            ),
        };
        for &(r, amount) in charges {
            let entry = per_rule[r].get_or_insert(RateTotal {
                rate: rules[r].id,
                kind: rules[r].kind,
                base: 0,
                amount: 0,
            });
            entry.base = entry.base.checked_add(net).ok_or_else(too_large)?;
            entry.amount = entry.amount.checked_add(amount).ok_or_else(too_large)?;
        }
        breakdown.net = breakdown.net.checked_add(net).ok_or_else(too_large)?;
        breakdown.tax = breakdown.tax.checked_add(tax).ok_or_else(too_large)?;
        breakdown.service = breakdown
            .service
            .checked_add(service)
            .ok_or_else(too_large)?;
        breakdown.total = breakdown.total.checked_add(total).ok_or_else(too_large)?;
        breakdown.lines.push(LineTaxes {
            net,
            charges: charges
                .iter()
                .map(|&(r, amount)| Charge {
                    rate: rules[r].id,
                    amount,
                })
                .collect(),
            total,
        });
    }
    breakdown.rates = per_rule.into_iter().flatten().collect();
    Ok(breakdown)
}

/// Rounds one rule's exact order total once and shares it out over the lines that
/// carry it: each line gets the floor of its exact share, and the units left over go to
/// the lines with the largest remainders (earlier lines first on ties), so the line
/// amounts add up to the rounded total and each is within one unit of its exact share.
fn share_out(
    rule: usize,
    shares: &[Vec<Exact>],
    amounts: &mut [Vec<(usize, i64)>],
    mode: RoundingMode,
) {
    // (line, slot, fixed-point share)
    let mut parts: Vec<(usize, usize, i128)> = Vec::new();
    for (line, exacts) in shares.iter().enumerate() {
        for (slot, e) in exacts.iter().enumerate() {
            if e.rule == rule {
                parts.push((
                    line,
                    slot,
                    div_round(e.num * FIXED, e.den, RoundingMode::HalfEven),
                ));
            }
        }
    }
    if parts.is_empty() {
        return;
    }
    let exact_total: i128 = parts.iter().map(|p| p.2).sum();
    let rounded_total = div_round(exact_total, FIXED, mode);
    let floors: i128 = parts.iter().map(|p| p.2.div_euclid(FIXED)).sum();
    let mut leftover = rounded_total - floors;
    let mut by_remainder: Vec<usize> = (0..parts.len()).collect();
    by_remainder.sort_by(|&a, &b| {
        parts[b]
            .2
            .rem_euclid(FIXED)
            .cmp(&parts[a].2.rem_euclid(FIXED))
            .then(a.cmp(&b))
    });
    let mut extra = vec![0_i128; parts.len()];
    for &i in &by_remainder {
        if leftover <= 0 {
            break;
        }
        extra[i] = 1;
        leftover -= 1;
    }
    for (i, &(line, slot, fixed)) in parts.iter().enumerate() {
        amounts[line][slot].1 = to_i64(fixed.div_euclid(FIXED) + extra[i]);
    }
}

/// Amounts are bounded by [`MAX_LINE_AMOUNT`] times at most 300 %, far inside `i64`.
fn to_i64(value: i128) -> i64 {
    i64::try_from(value).unwrap_or(if value < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;
    use RoundingMode::{HalfEven, HalfUp};

    fn rule(kind: TaxKind, percent: &str, compound: bool) -> TaxRule {
        TaxRule {
            id: TaxRateId::new(),
            kind,
            rate: Rate::parse("rate", percent).expect("rate"),
            compound,
        }
    }

    fn policy(pricing: Pricing, scope: RoundingScope, mode: RoundingMode) -> TaxPolicy {
        TaxPolicy {
            pricing,
            rounding_scope: scope,
            rounding_mode: mode,
        }
    }

    fn lines(amounts: &[i64], rules: &[&TaxRule]) -> Vec<TaxLine> {
        amounts
            .iter()
            .map(|&amount| TaxLine {
                amount,
                rates: rules.iter().map(|r| r.id).collect(),
            })
            .collect()
    }

    #[test]
    fn rates_parse_and_print_exactly() {
        for (text, units, shown) in [
            ("7", 70_000, "7"),
            ("7.25", 72_500, "7.25"),
            ("6.625", 66_250, "6.625"),
            ("0.0001", 1, "0.0001"),
            ("100", 1_000_000, "100"),
            ("11%", 110_000, "11"),
            ("0", 0, "0"),
        ] {
            let rate = Rate::parse("rate", text).expect(text);
            assert_eq!((rate.units(), rate.to_string().as_str()), (units, shown));
        }
        for bad in [
            "", "-1", "100.0001", "7.12345", "seven", "7.", ".5", "1e2", "1000",
        ] {
            assert!(Rate::parse("rate", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn florida_sales_tax_is_added_on_top() {
        let fl = rule(TaxKind::Tax, "7", false);
        let p = policy(Pricing::TaxExclusive, RoundingScope::Line, HalfUp);
        let b = compute(&p, &[fl], &lines(&[1000, 499], &[&fl])).expect("computes");
        // 70 + 34.93 -> 35
        assert_eq!((b.net, b.tax, b.total), (1499, 105, 1604));
        assert_eq!(
            b.lines[1].charges,
            vec![Charge {
                rate: fl.id,
                amount: 35
            }]
        );
        assert_eq!(
            b.rates,
            vec![RateTotal {
                rate: fl.id,
                kind: TaxKind::Tax,
                base: 1499,
                amount: 105
            }]
        );
    }

    #[test]
    fn per_line_and_per_order_rounding_differ_as_the_law_says() {
        let fl = rule(TaxKind::Tax, "7", false);
        // Three items at 0.05: 0.35 cents of tax each.
        let three = lines(&[5, 5, 5], &[&fl]);
        let per_line = compute(
            &policy(Pricing::TaxExclusive, RoundingScope::Line, HalfUp),
            &[fl],
            &three,
        )
        .expect("ok");
        let per_order = compute(
            &policy(Pricing::TaxExclusive, RoundingScope::Order, HalfUp),
            &[fl],
            &three,
        )
        .expect("ok");
        assert_eq!(per_line.tax, 0);
        assert_eq!(per_order.tax, 1, "1.05 cents rounds to 1");
        // The one cent goes to the first line (all remainders tie).
        let line_tax: Vec<i64> = per_order.lines.iter().map(|l| l.total - l.net).collect();
        assert_eq!(line_tax, vec![1, 0, 0]);
    }

    #[test]
    fn halves_round_by_the_store_mode() {
        let one = rule(TaxKind::Tax, "1", false);
        let line = lines(&[250], &[&one]);
        let up = compute(
            &policy(Pricing::TaxExclusive, RoundingScope::Line, HalfUp),
            &[one],
            &line,
        )
        .expect("ok");
        let even = compute(
            &policy(Pricing::TaxExclusive, RoundingScope::Line, HalfEven),
            &[one],
            &line,
        )
        .expect("ok");
        assert_eq!((up.tax, even.tax), (3, 2), "2.5 cents");
    }

    #[test]
    fn brazilian_prices_contain_their_tax() {
        // R$ 10,00 with a 10 % tax inside: net 909.09..., tax 90.90... -> 91.
        let tax = rule(TaxKind::Tax, "10", false);
        let b = compute(
            &policy(Pricing::TaxInclusive, RoundingScope::Line, HalfUp),
            &[tax],
            &lines(&[1000], &[&tax]),
        )
        .expect("ok");
        assert_eq!((b.net, b.tax, b.total), (909, 91, 1000));
    }

    #[test]
    fn brazilian_service_is_added_to_an_inclusive_price() {
        let tax = rule(TaxKind::Tax, "10", false);
        let service = rule(TaxKind::ServiceCharge, "10", false);
        let b = compute(
            &policy(Pricing::TaxInclusive, RoundingScope::Line, HalfUp),
            &[tax, service],
            &lines(&[4590], &[&tax, &service]),
        )
        .expect("ok");
        // Tax 417.27 -> 417 inside; service 459 on top of the menu price.
        assert_eq!((b.net, b.tax, b.service, b.total), (4173, 417, 459, 5049));
    }

    #[test]
    fn indonesian_ppn_applies_to_food_plus_service() {
        let service = rule(TaxKind::ServiceCharge, "5", false);
        let ppn = rule(TaxKind::Tax, "11", true);
        let b = compute(
            &policy(Pricing::TaxExclusive, RoundingScope::Order, HalfUp),
            &[service, ppn],
            &lines(&[100_000], &[&ppn, &service]),
        )
        .expect("ok");
        // Service 5.000; PPN 11 % of 105.000 = 11.550.
        assert_eq!((b.service, b.tax, b.total), (5_000, 11_550, 116_550));
        assert_eq!(crate::rounding::cash_round(b.total, 100).due, 116_600);
    }

    #[test]
    fn several_inclusive_rates_share_one_price() {
        let a = rule(TaxKind::Tax, "5", false);
        let b = rule(TaxKind::Tax, "10", false);
        let r = compute(
            &policy(Pricing::TaxInclusive, RoundingScope::Line, HalfUp),
            &[a, b],
            &lines(&[11_500], &[&a, &b]),
        )
        .expect("ok");
        // net 10.000: 500 + 1.000 inside 11.500.
        assert_eq!((r.net, r.tax, r.total), (10_000, 1_500, 11_500));
        assert_eq!(
            r.lines[0]
                .charges
                .iter()
                .map(|c| c.amount)
                .collect::<Vec<_>>(),
            vec![500, 1_000]
        );
    }

    #[test]
    fn inclusive_compound_tax_compounds_on_the_simple_ones() {
        let simple = rule(TaxKind::Tax, "10", false);
        let compound = rule(TaxKind::Tax, "10", true);
        // net 10.000, simple 1.000, compound 10 % of 11.000 = 1.100 -> price 12.100.
        let r = compute(
            &policy(Pricing::TaxInclusive, RoundingScope::Line, HalfUp),
            &[simple, compound],
            &lines(&[12_100], &[&simple, &compound]),
        )
        .expect("ok");
        assert_eq!((r.net, r.tax), (10_000, 2_100));
        let exclusive = compute(
            &policy(Pricing::TaxExclusive, RoundingScope::Line, HalfUp),
            &[simple, compound],
            &lines(&[10_000], &[&simple, &compound]),
        )
        .expect("ok");
        assert_eq!(exclusive.total, 12_100);
    }

    #[test]
    fn lines_without_rates_and_empty_orders_are_untaxed() {
        let p = policy(Pricing::TaxExclusive, RoundingScope::Order, HalfUp);
        let b = compute(
            &p,
            &[],
            &[TaxLine {
                amount: 700,
                rates: vec![],
            }],
        )
        .expect("ok");
        assert_eq!((b.net, b.tax, b.total, b.rates.len()), (700, 0, 700, 0));
        let empty = compute(&p, &[], &[]).expect("ok");
        assert_eq!(empty.total, 0);
    }

    #[test]
    fn bad_lines_are_refused() {
        let p = TaxPolicy::default();
        let fl = rule(TaxKind::Tax, "7", false);
        let stranger = TaxRateId::new();
        assert_eq!(
            compute(
                &p,
                &[fl],
                &[TaxLine {
                    amount: 1,
                    rates: vec![stranger]
                }]
            ),
            Err(TaxError::UnknownRate {
                line: 0,
                rate: stranger
            })
        );
        assert_eq!(
            compute(
                &p,
                &[],
                &[TaxLine {
                    amount: -1,
                    rates: vec![]
                }]
            ),
            Err(TaxError::NegativeAmount { line: 0 })
        );
        assert_eq!(
            compute(
                &p,
                &[],
                &[TaxLine {
                    amount: MAX_LINE_AMOUNT + 1,
                    rates: vec![]
                }]
            ),
            Err(TaxError::AmountTooLarge { line: 0 })
        );
    }

    #[test]
    fn rates_over_a_hundred_percent_on_one_line_are_refused() {
        let a = rule(TaxKind::Tax, "60", false);
        let b = rule(TaxKind::Tax, "50", false);
        assert_eq!(
            compute(&TaxPolicy::default(), &[a, b], &lines(&[100], &[&a, &b])),
            Err(TaxError::RatesTooHigh { line: 0 })
        );
    }

    #[test]
    fn a_rate_listed_twice_on_a_line_counts_once() {
        let fl = rule(TaxKind::Tax, "7", false);
        let b = compute(
            &TaxPolicy::default(),
            &[fl],
            &[TaxLine {
                amount: 1000,
                rates: vec![fl.id, fl.id],
            }],
        )
        .expect("ok");
        assert_eq!(b.tax, 70);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn rules_strategy() -> impl Strategy<Value = Vec<TaxRule>> {
            prop::collection::vec((0_u8..3, 0_u32..=250_000), 1..5).prop_map(|specs| {
                specs
                    .into_iter()
                    .map(|(class, units)| TaxRule {
                        id: TaxRateId::new(),
                        kind: if class == 0 {
                            TaxKind::ServiceCharge
                        } else {
                            TaxKind::Tax
                        },
                        rate: Rate::from_units(units).expect("in range"),
                        compound: class == 2,
                    })
                    .collect()
            })
        }

        fn policy_strategy() -> impl Strategy<Value = TaxPolicy> {
            (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(inclusive, order, even)| {
                TaxPolicy {
                    pricing: if inclusive {
                        Pricing::TaxInclusive
                    } else {
                        Pricing::TaxExclusive
                    },
                    rounding_scope: if order {
                        RoundingScope::Order
                    } else {
                        RoundingScope::Line
                    },
                    rounding_mode: if even { HalfEven } else { HalfUp },
                }
            })
        }

        /// An order: rules, and lines each carrying a subset of them.
        fn order_strategy() -> impl Strategy<Value = (TaxPolicy, Vec<TaxRule>, Vec<TaxLine>)> {
            (policy_strategy(), rules_strategy()).prop_flat_map(|(policy, rules)| {
                let ids: Vec<TaxRateId> = rules.iter().map(|r| r.id).collect();
                let line = (
                    0_i64..5_000_000,
                    prop::collection::vec(any::<bool>(), ids.len()),
                )
                    .prop_map(move |(amount, mask)| TaxLine {
                        amount,
                        rates: ids
                            .iter()
                            .zip(mask)
                            .filter(|(_, on)| *on)
                            .map(|(id, _)| *id)
                            .collect(),
                    });
                (
                    Just(policy),
                    Just(rules),
                    prop::collection::vec(line, 0..40),
                )
            })
        }

        /// The exact share of one rule on one line, as a float, computed from the
        /// formulas in the module documentation rather than from the code under test.
        fn exact(policy: &TaxPolicy, rules: &[TaxRule], line: &TaxLine, rule: &TaxRule) -> f64 {
            let on: Vec<&TaxRule> = rules
                .iter()
                .filter(|r| line.rates.contains(&r.id))
                .collect();
            let pct = |r: &TaxRule| f64::from(r.rate.units()) / f64::from(RATE_SCALE);
            let sum = |f: &dyn Fn(&TaxRule) -> bool| {
                on.iter().filter(|r| f(r)).map(|r| pct(r)).sum::<f64>()
            };
            let service = sum(&|r| r.kind == TaxKind::ServiceCharge);
            let simple = sum(&|r| r.kind == TaxKind::Tax && !r.compound);
            let compound = sum(&|r| r.kind == TaxKind::Tax && r.compound);
            let p = line.amount as f64;
            match (policy.pricing, rule.kind, rule.compound) {
                (_, TaxKind::ServiceCharge, _) => p * pct(rule),
                (Pricing::TaxExclusive, _, false) => p * pct(rule),
                (Pricing::TaxExclusive, _, true) => p * (1.0 + service + simple) * pct(rule),
                (Pricing::TaxInclusive, _, false) => {
                    p * pct(rule) / ((1.0 + simple) * (1.0 + compound))
                }
                (Pricing::TaxInclusive, _, true) => p * pct(rule) / (1.0 + compound),
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2_000))]

            /// The receipt's lines add up to its totals, to the cent, in every mode.
            #[test]
            fn lines_always_add_up_to_the_order((policy, rules, lines) in order_strategy()) {
                let b = compute(&policy, &rules, &lines).expect("valid order");
                prop_assert_eq!(b.lines.iter().map(|l| l.total).sum::<i64>(), b.total);
                prop_assert_eq!(b.lines.iter().map(|l| l.net).sum::<i64>(), b.net);
                prop_assert_eq!(b.net + b.tax + b.service, b.total);
                for rate in &b.rates {
                    let from_lines: i64 = b.lines.iter().flat_map(|l| &l.charges).filter(|c| c.rate == rate.rate).map(|c| c.amount).sum();
                    prop_assert_eq!(from_lines, rate.amount);
                }
                prop_assert_eq!(b.rates.iter().map(|r| r.amount).sum::<i64>(), b.tax + b.service);
                for (line, taxes) in lines.iter().zip(&b.lines) {
                    let line_service: i64 = taxes.charges.iter().filter(|c| rules.iter().any(|r| r.id == c.rate && r.kind == TaxKind::ServiceCharge)).map(|c| c.amount).sum();
                    match policy.pricing {
                        // The menu price is what the customer pays, plus service.
                        Pricing::TaxInclusive => prop_assert_eq!(taxes.total, line.amount + line_service),
                        Pricing::TaxExclusive => prop_assert_eq!(taxes.net, line.amount),
                    }
                    prop_assert!(taxes.charges.iter().all(|c| c.amount >= 0));
                }
            }

            /// Every rounded amount is as close to the exact one as the scope allows: half
            /// a unit per line (per-line rounding), or half a unit per rate for the order
            /// and under one unit per line (per-order rounding).
            #[test]
            fn rounding_stays_within_its_bounds((policy, rules, lines) in order_strategy()) {
                let b = compute(&policy, &rules, &lines).expect("valid order");
                let eps = 1e-6;
                for rule in &rules {
                    let mut exact_total = 0.0;
                    for (line, taxes) in lines.iter().zip(&b.lines) {
                        if !line.rates.contains(&rule.id) { continue; }
                        let e = exact(&policy, &rules, line, rule);
                        exact_total += e;
                        let got = taxes.charges.iter().find(|c| c.rate == rule.id).map_or(0, |c| c.amount) as f64;
                        let bound = match policy.rounding_scope { RoundingScope::Line => 0.5, RoundingScope::Order => 1.0 };
                        prop_assert!((got - e).abs() <= bound + eps, "line share {} vs exact {}", got, e);
                    }
                    if policy.rounding_scope == RoundingScope::Order {
                        let got = b.rates.iter().find(|r| r.rate == rule.id).map_or(0, |r| r.amount) as f64;
                        prop_assert!((got - exact_total).abs() <= 0.5 + eps, "order {} vs exact {}", got, exact_total);
                    }
                }
            }

            /// The order of the lines does not change what the order owes.
            #[test]
            fn totals_do_not_depend_on_line_order((policy, rules, lines) in order_strategy()) {
                let forward = compute(&policy, &rules, &lines).expect("valid order");
                let mut reversed_lines = lines.clone();
                reversed_lines.reverse();
                let reversed = compute(&policy, &rules, &reversed_lines).expect("valid order");
                prop_assert_eq!((forward.net, forward.tax, forward.service, forward.total), (reversed.net, reversed.tax, reversed.service, reversed.total));
            }

            /// Half-even and half-up only ever disagree by the number of exact halves.
            #[test]
            fn modes_agree_except_on_halves((policy, rules, lines) in order_strategy()) {
                let up = compute(&TaxPolicy { rounding_mode: HalfUp, ..policy }, &rules, &lines).expect("valid");
                let even = compute(&TaxPolicy { rounding_mode: HalfEven, ..policy }, &rules, &lines).expect("valid");
                prop_assert!(even.total <= up.total);
                prop_assert!(up.total - even.total <= (lines.len() * rules.len()) as i64);
            }
        }
    }
}
