//! Stock: an append-only ledger of movements per store and variant, and the on-hand
//! quantity it adds up to. Quantities are whole units (grams or millilitres for goods
//! sold by weight or volume).

use crate::ids::{ProductId, StockMovementId, StoreId, UserId, VariantId};
use crate::validation::{ValidationError, bounded_text};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MovementKind {
    /// Sold (negative). Written by orders.
    Sale,
    /// Returned by a customer (positive). Written by refunds.
    Refund,
    /// Goods received from a supplier (positive).
    Receipt,
    /// A correction after a count, breakage or waste (either sign).
    Adjustment,
    /// Sent to another store (negative).
    TransferOut,
    /// Received from another store (positive).
    TransferIn,
}

impl MovementKind {
    pub const ALL: [MovementKind; 6] = [
        MovementKind::Sale,
        MovementKind::Refund,
        MovementKind::Receipt,
        MovementKind::Adjustment,
        MovementKind::TransferOut,
        MovementKind::TransferIn,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            MovementKind::Sale => "sale",
            MovementKind::Refund => "refund",
            MovementKind::Receipt => "receipt",
            MovementKind::Adjustment => "adjustment",
            MovementKind::TransferOut => "transfer_out",
            MovementKind::TransferIn => "transfer_in",
        }
    }

    /// Whether a quantity has the sign this kind requires (never zero).
    pub const fn accepts(self, quantity: i64) -> bool {
        match self {
            MovementKind::Sale | MovementKind::TransferOut => quantity < 0,
            MovementKind::Refund | MovementKind::Receipt | MovementKind::TransferIn => quantity > 0,
            MovementKind::Adjustment => quantity != 0,
        }
    }
}

impl FromStr for MovementKind {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or(())
    }
}

/// Largest quantity one movement may move: a sanity bound against typos (a barcode
/// scanned into the quantity field).
pub const MAX_MOVEMENT: i64 = 1_000_000_000;

/// A movement to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMovement {
    pub variant_id: VariantId,
    pub kind: MovementKind,
    /// Signed change of the on-hand quantity.
    pub quantity: i64,
    pub reason: Option<String>,
    /// What caused it: an order, a transfer, a supplier invoice.
    pub reference: Option<String>,
    pub actor: Option<UserId>,
}

impl NewMovement {
    /// Checks sign, size and texts; `index` names the entry in a list of movements.
    pub fn validate(&self, index: usize) -> Result<(), ValidationError> {
        let field = |f: &str| format!("movements[{index}].{f}");
        if !self.kind.accepts(self.quantity) {
            return Err(ValidationError::new(
                field("quantity"),
                "wrong_sign",
                format!(
                    "a {} must be {}",
                    self.kind.as_str(),
                    match self.kind {
                        MovementKind::Sale | MovementKind::TransferOut => "negative",
                        MovementKind::Adjustment => "non-zero",
                        _ => "positive",
                    }
                ),
            ));
        }
        if self.quantity.unsigned_abs() > MAX_MOVEMENT as u64 {
            return Err(ValidationError::new(
                field("quantity"),
                "too_large",
                format!("at most {MAX_MOVEMENT} per movement"),
            ));
        }
        if let Some(reason) = &self.reason {
            bounded_text(&field("reason"), reason, 1, 200)?;
        }
        if let Some(reference) = &self.reference {
            bounded_text(&field("reference"), reference, 1, 100)?;
        }
        Ok(())
    }
}

/// A movement as recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Movement {
    pub id: StockMovementId,
    pub store_id: StoreId,
    pub variant_id: VariantId,
    pub kind: MovementKind,
    pub quantity: i64,
    /// The on-hand quantity right after this movement.
    pub on_hand_after: i64,
    pub reason: Option<String>,
    pub reference: Option<String>,
    pub actor: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

/// On hand for one variant in one store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct StockLevel {
    pub store_id: StoreId,
    pub product_id: ProductId,
    pub variant_id: VariantId,
    pub on_hand: i64,
    /// What open orders hold of it: sold, not yet paid.
    pub held: i64,
    /// What another order may still take: on hand less held.
    pub available: i64,
    /// At or below this, the variant is listed as low.
    pub low_threshold: Option<i64>,
    pub updated_at: DateTime<Utc>,
}

impl StockLevel {
    pub fn is_low(&self) -> bool {
        self.low_threshold.is_some_and(|t| self.on_hand <= t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn movement(kind: MovementKind, quantity: i64) -> NewMovement {
        NewMovement {
            variant_id: VariantId::new(),
            kind,
            quantity,
            reason: None,
            reference: None,
            actor: None,
        }
    }

    #[test]
    fn each_kind_moves_stock_one_way() {
        use MovementKind::*;
        for (kind, good, bad) in [
            (Sale, -1, 1),
            (TransferOut, -2, 2),
            (Refund, 1, -1),
            (Receipt, 12, -12),
            (TransferIn, 3, -3),
            (Adjustment, -4, 0),
        ] {
            assert!(movement(kind, good).validate(0).is_ok(), "{kind:?} {good}");
            let err = movement(kind, bad).validate(2).expect_err("wrong sign");
            assert_eq!(
                (err.field.as_str(), err.code),
                ("movements[2].quantity", "wrong_sign")
            );
        }
        assert_eq!(
            movement(Receipt, MAX_MOVEMENT + 1)
                .validate(0)
                .map_err(|e| e.code),
            Err("too_large")
        );
    }

    #[test]
    fn low_means_at_or_below_the_threshold() {
        let level = |on_hand, low_threshold| StockLevel {
            store_id: StoreId::new(),
            product_id: ProductId::new(),
            variant_id: VariantId::new(),
            on_hand,
            held: 0,
            available: on_hand,
            low_threshold,
            updated_at: crate::clock::now(),
        };
        assert!(level(3, Some(3)).is_low());
        assert!(!level(4, Some(3)).is_low());
        assert!(!level(-5, None).is_low());
    }
}
