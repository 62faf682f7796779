//! An order's totals, always computed from its lines: discounts (the line's own, then
//! the order's shared out over the lines), then taxes and service by the store's rules,
//! then the tip. The lines always add up to the order, to the cent.

use super::Order;
use super::lines::OrderLine;
use crate::OrderLineId;
use crate::TaxRateId;
use crate::money::{MAX_ORDER_TOTAL, checked_sum};
use crate::tax::{self, TaxError, TaxKind, TaxLine};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct LineTotal {
    pub line_id: OrderLineId,
    /// Before discounts.
    pub gross: i64,
    /// The line's own discount and its share of the order's.
    pub discount: i64,
    /// What the customer pays for it, with taxes and service.
    pub total: i64,
    pub tax: i64,
    pub service: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct RateLine {
    pub rate_id: TaxRateId,
    pub name: String,
    pub kind: TaxKind,
    pub rate: tax::Rate,
    pub base: i64,
    pub amount: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Totals {
    /// The lines before discounts (voided lines count for nothing).
    pub subtotal: i64,
    pub discounts: i64,
    /// Without taxes and service.
    pub net: i64,
    pub tax: i64,
    pub service: i64,
    /// What the order costs: lines after discounts, with taxes and service.
    pub total: i64,
    pub tip: i64,
    /// Total plus tip: what the tenders must cover.
    pub due: i64,
    pub rates: Vec<RateLine>,
    /// The counted lines, in order.
    pub lines: Vec<LineTotal>,
}

/// Shares `amount` out over `weights` in proportion, by largest remainder (ties to the
/// earlier weight), so the shares add up to `amount` exactly. With no weight, nothing.
pub fn share_out(amount: i64, weights: &[i64]) -> Vec<i64> {
    let total: i128 = weights.iter().map(|w| i128::from((*w).max(0))).sum();
    if total == 0 || amount == 0 {
        return vec![0; weights.len()];
    }
    let amount = i128::from(amount);
    let mut shares: Vec<i128> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(weights.len());
    for (i, w) in weights.iter().enumerate() {
        let exact = amount * i128::from((*w).max(0));
        shares.push(exact.div_euclid(total));
        remainders.push((exact.rem_euclid(total), i));
    }
    let left = amount - shares.iter().sum::<i128>();
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in remainders
        .into_iter()
        .take(usize::try_from(left).unwrap_or(0))
    {
        shares[i] += 1;
    }
    shares
        .into_iter()
        .map(|s| i64::try_from(s).unwrap_or(0))
        .collect()
}

/// The order's totals, or `OrderTooLarge` when its lines or what is due (tip included)
/// would come to more than [`MAX_ORDER_TOTAL`]: checked on every change, so a stored
/// order always has totals, and every sum below is of amounts that bound keeps small.
pub fn totals(order: &Order) -> Result<Totals, TaxError> {
    let too_large = TaxError::OrderTooLarge {
        limit: MAX_ORDER_TOTAL,
    };
    let counted: Vec<&OrderLine> = order.lines.iter().filter(|l| l.counts()).collect();
    let gross: Vec<i64> = counted.iter().map(|l| l.gross()).collect();
    let subtotal = checked_sum(gross.iter().copied())
        .filter(|s| *s <= MAX_ORDER_TOTAL)
        .ok_or_else(|| too_large.clone())?;
    let own: Vec<i64> = counted
        .iter()
        .zip(&gross)
        .map(|(l, g)| l.discount.as_ref().map_or(0, |d| d.off(*g)))
        .collect();
    // A discount takes at most what it applies to, so these stay within the subtotal.
    let after: Vec<i64> = gross.iter().zip(&own).map(|(g, d)| g - d).collect();
    let own_off: i64 = own.iter().sum();
    let order_off = order
        .discount
        .as_ref()
        .map_or(0, |d| d.off(subtotal - own_off));
    let shares = share_out(order_off, &after);
    let rules: Vec<tax::TaxRule> = order.rates.iter().map(|r| r.rule()).collect();
    let tax_lines: Vec<TaxLine> = counted
        .iter()
        .zip(after.iter().zip(&shares))
        .map(|(line, (a, s))| TaxLine {
            amount: a - s,
            rates: line
                .tax_rate_ids
                .iter()
                .copied()
                .filter(|id| {
                    !order.service_waived
                        || order
                            .rates
                            .iter()
                            .any(|r| r.id == *id && r.kind == TaxKind::Tax)
                })
                .collect(),
        })
        .collect();
    let breakdown = tax::compute(&order.tax_policy, &rules, &tax_lines)?;
    let lines = counted
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let taxed = &breakdown.lines[i];
            let tax: i64 = charges_of(order, &taxed.charges, TaxKind::Tax);
            LineTotal {
                line_id: line.id,
                gross: gross[i],
                discount: own[i] + shares[i],
                total: taxed.total,
                tax,
                service: charges_of(order, &taxed.charges, TaxKind::ServiceCharge),
            }
        })
        .collect();
    let rates = breakdown
        .rates
        .iter()
        .filter_map(|r| {
            let snapshot = order.rates.iter().find(|s| s.id == r.rate)?;
            Some(RateLine {
                rate_id: r.rate,
                name: snapshot.name.clone(),
                kind: r.kind,
                rate: snapshot.rate,
                base: r.base,
                amount: r.amount,
            })
        })
        .collect();
    let due = breakdown
        .total
        .checked_add(order.tip)
        .filter(|d| *d <= MAX_ORDER_TOTAL)
        .ok_or(too_large)?;
    Ok(Totals {
        subtotal,
        discounts: own_off + order_off,
        net: breakdown.net,
        tax: breakdown.tax,
        service: breakdown.service,
        total: breakdown.total,
        tip: order.tip,
        due,
        rates,
        lines,
    })
}

fn charges_of(order: &Order, charges: &[tax::Charge], kind: TaxKind) -> i64 {
    charges
        .iter()
        .filter(|c| order.rates.iter().any(|r| r.id == c.rate && r.kind == kind))
        .map(|c| c.amount)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_and_favour_the_larger_remainders() {
        assert_eq!(share_out(100, &[1, 1, 1]), vec![34, 33, 33]);
        assert_eq!(share_out(10, &[0, 0]), vec![0, 0]);
        assert_eq!(share_out(7, &[300, 100]), vec![5, 2]);
        assert_eq!(share_out(0, &[5, 5]), vec![0, 0]);
    }
}
