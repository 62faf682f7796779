//! The stock an open order holds. A product whose stock is counted and may not go below
//! zero is taken from what is available when its line is written, not when the order is
//! paid: two terminals selling the last unit cannot both succeed, and the menu shows it
//! sold out at once. The units go back when a line is removed or voided or the order is
//! cancelled; when it is paid (or a catering order closed), the sale takes them from
//! stock and gives the hold back in the same write.

use super::{Order, OrderStatus};
use crate::VariantId;
use std::collections::BTreeMap;

impl Order {
    /// What this write of the order should hold of each counted variant, by variant:
    /// `None` when it has nothing to say (it never held stock, or it is paid or closed,
    /// whose holds the sale gives back), else every variant it holds now, an empty list
    /// once it holds nothing. Marks the order as holding stock from its first such line.
    pub fn stock_to_hold(&mut self) -> Option<Vec<(VariantId, i64)>> {
        self.holds_stock |= self.lines.iter().any(|l| l.holds_stock);
        if !self.holds_stock {
            return None;
        }
        match self.status {
            OrderStatus::Open | OrderStatus::Sent | OrderStatus::Ready | OrderStatus::Served => {
                let mut held: BTreeMap<VariantId, i64> = BTreeMap::new();
                for line in self.lines.iter().filter(|l| l.holds_stock && l.counts()) {
                    let units = held.entry(line.variant_id).or_default();
                    *units = units.saturating_add(line.quantity);
                }
                Some(held.into_iter().filter(|(_, units)| *units > 0).collect())
            }
            OrderStatus::Cancelled | OrderStatus::Merged => Some(Vec::new()),
            OrderStatus::Paid | OrderStatus::Closed | OrderStatus::Refunded => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::orders::OrderStatus;
    use crate::orders::lines::LineStatus;
    use crate::orders::tests::{line, order};
    use crate::tax::TaxPolicy;

    #[test]
    fn only_counted_lines_of_an_open_order_hold_and_a_cancelled_one_gives_all_back() {
        let mut o = order(TaxPolicy::default());
        o.lines.push(line(300, 2, 0, vec![], 1));
        assert_eq!(o.stock_to_hold(), None, "nothing counted, nothing to say");
        let mut counted = line(9000, 2, 0, vec![], 1);
        counted.holds_stock = true;
        let variant = counted.variant_id;
        let mut voided = counted.clone();
        voided.status = LineStatus::Voided;
        let mut more = counted.clone();
        more.quantity = 1;
        o.lines.extend([counted, voided, more]);
        assert_eq!(o.stock_to_hold(), Some(vec![(variant, 3)]));
        o.lines.retain(|l| !l.holds_stock);
        assert_eq!(
            o.stock_to_hold(),
            Some(vec![]),
            "removed lines give their units back"
        );
        o.status = OrderStatus::Paid;
        assert_eq!(
            o.stock_to_hold(),
            None,
            "the sale gives a paid order's hold back"
        );
        o.status = OrderStatus::Cancelled;
        assert_eq!(o.stock_to_hold(), Some(vec![]));
    }
}
