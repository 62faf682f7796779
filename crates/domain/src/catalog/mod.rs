//! The catalog of a store: categories, products with their variants, modifier groups,
//! and tax rates. Each kind has a *draft* (what a client or an import proposes, already
//! validated) and the stored record. Inputs are read loosely from JSON and turned into
//! drafts here, so the HTTP API and the CSV import share every rule and name the same
//! fields when they refuse something.

pub mod codes;
pub mod inputs;
pub mod overrides;
pub mod stock;

pub use codes::{Barcode, ImageUrl, ItemName, Sku, StationCode, search_key};

use crate::ids::{
    CategoryId, ModifierGroupId, ModifierOptionId, ProductId, StoreId, TaxRateId, VariantId,
};
use crate::money::Money;
use crate::rounding::RoundingMode;
use crate::tax::{Pricing, Rate, RoundingScope, TaxKind, TaxPolicy, TaxRule};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// Archived things stay for history (orders, stock ledger) but leave menus and lists.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Active,
    Archived,
}

impl Status {
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Archived => "archived",
        }
    }
}

impl FromStr for Status {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Status::Active, Status::Archived]
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or(())
    }
}

/// Categories nest at most this deep ("Drinks / Beer / Draught" is three).
pub const MAX_CATEGORY_DEPTH: usize = 5;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CategoryDraft {
    pub parent_id: Option<CategoryId>,
    pub name: ItemName,
    pub position: i32,
    /// The kitchen station for its products that name none.
    pub station: Option<StationCode>,
    pub image_url: Option<ImageUrl>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Category {
    pub id: CategoryId,
    pub store_id: StoreId,
    pub parent_id: Option<CategoryId>,
    pub name: ItemName,
    pub position: i32,
    pub station: Option<StationCode>,
    pub image_url: Option<ImageUrl>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Whether making `parent` the parent of `category` would close a loop or nest too
/// deep. `parent_of` answers for the categories as stored.
pub fn check_category_parent(
    category: Option<CategoryId>,
    parent: CategoryId,
    parent_of: impl Fn(CategoryId) -> Option<CategoryId>,
) -> Result<(), crate::ValidationError> {
    let mut depth = 1;
    let mut cursor = Some(parent);
    while let Some(current) = cursor {
        if Some(current) == category {
            return Err(crate::ValidationError::new(
                "parent_id",
                "cycle",
                "a category cannot be placed inside itself or one of its subcategories",
            ));
        }
        depth += 1;
        if depth > MAX_CATEGORY_DEPTH {
            return Err(crate::ValidationError::new(
                "parent_id",
                "too_deep",
                format!("categories nest at most {MAX_CATEGORY_DEPTH} levels deep"),
            ));
        }
        cursor = parent_of(current);
    }
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VariantDraft {
    /// Set to change an existing variant (its stock and history stay); absent for a new one.
    pub id: Option<VariantId>,
    pub name: Option<ItemName>,
    pub sku: Option<Sku>,
    pub barcode: Option<Barcode>,
    pub price: Money,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Variant {
    pub id: VariantId,
    pub name: Option<ItemName>,
    pub sku: Option<Sku>,
    pub barcode: Option<Barcode>,
    pub price: Money,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductDraft {
    pub category_id: Option<CategoryId>,
    pub name: ItemName,
    pub description: Option<String>,
    pub image_url: Option<ImageUrl>,
    /// Where the kitchen prepares it; when absent, its category's station.
    pub station: Option<StationCode>,
    /// Minimum age of a buyer (18, 21), checked at payment.
    pub age_restricted: Option<u8>,
    pub track_stock: bool,
    /// Whether it may still be sold when stock says none is left.
    pub sell_when_out: bool,
    /// Switched off when the kitchen runs out ("86"); still listed, not orderable.
    pub available: bool,
    pub status: Status,
    pub position: i32,
    /// The rates it carries; `None` means the store's default rates.
    pub tax_rate_ids: Option<Vec<TaxRateId>>,
    pub modifier_group_ids: Vec<ModifierGroupId>,
    pub variants: Vec<VariantDraft>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Product {
    pub id: ProductId,
    pub store_id: StoreId,
    pub category_id: Option<CategoryId>,
    pub name: ItemName,
    pub description: Option<String>,
    pub image_url: Option<ImageUrl>,
    pub station: Option<StationCode>,
    pub age_restricted: Option<u8>,
    pub track_stock: bool,
    pub sell_when_out: bool,
    pub available: bool,
    pub status: Status,
    pub position: i32,
    pub tax_rate_ids: Option<Vec<TaxRateId>>,
    pub modifier_group_ids: Vec<ModifierGroupId>,
    pub variants: Vec<Variant>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Product {
    /// The product as a draft, to change one thing and write it back.
    pub fn to_draft(&self) -> ProductDraft {
        ProductDraft {
            category_id: self.category_id,
            name: self.name.clone(),
            description: self.description.clone(),
            image_url: self.image_url.clone(),
            station: self.station.clone(),
            age_restricted: self.age_restricted,
            track_stock: self.track_stock,
            sell_when_out: self.sell_when_out,
            available: self.available,
            status: self.status,
            position: self.position,
            tax_rate_ids: self.tax_rate_ids.clone(),
            modifier_group_ids: self.modifier_group_ids.clone(),
            variants: self
                .variants
                .iter()
                .map(|v| VariantDraft {
                    id: Some(v.id),
                    name: v.name.clone(),
                    sku: v.sku.clone(),
                    barcode: v.barcode.clone(),
                    price: v.price,
                })
                .collect(),
        }
    }
}

/// How the chosen options of a group add to the price.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ModifierPricing {
    /// Every option's price change is added ("extra cheese" + "bacon").
    #[default]
    Sum,
    /// Only the dearest option counts: half-and-half pizza charged at its dearer flavour.
    Max,
    /// The mean of the chosen options, halves up: half-and-half charged at the average.
    Average,
}

impl ModifierPricing {
    pub const fn as_str(self) -> &'static str {
        match self {
            ModifierPricing::Sum => "sum",
            ModifierPricing::Max => "max",
            ModifierPricing::Average => "average",
        }
    }

    /// The price change of a choice, from the price changes of the chosen options.
    /// What the chosen options add to one unit, in `i128`: a group's deltas (each at most
    /// [`MAX_PRICE`](crate::money::MAX_PRICE)) cannot overflow it, and the caller bounds
    /// the unit price they make.
    pub fn total(self, deltas: &[i64]) -> i128 {
        let sum: i128 = deltas.iter().map(|d| i128::from(*d)).sum();
        match self {
            ModifierPricing::Sum => sum,
            ModifierPricing::Max => deltas.iter().copied().max().map_or(0, i128::from),
            ModifierPricing::Average => {
                if deltas.is_empty() {
                    return 0;
                }
                let n = i128::try_from(deltas.len()).unwrap_or(i128::MAX);
                crate::rounding::div_round(sum, n, RoundingMode::HalfUp)
            }
        }
    }
}

impl FromStr for ModifierPricing {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            ModifierPricing::Sum,
            ModifierPricing::Max,
            ModifierPricing::Average,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
        .ok_or(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModifierOptionDraft {
    pub id: Option<ModifierOptionId>,
    pub name: ItemName,
    /// May be negative ("half portion"); the line price is floored at zero when ordered.
    pub price_delta: Money,
    /// Chosen unless the guest says otherwise.
    pub default: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ModifierOption {
    pub id: ModifierOptionId,
    pub name: ItemName,
    pub price_delta: Money,
    pub default: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModifierGroupDraft {
    pub name: ItemName,
    pub min_choices: u16,
    pub max_choices: u16,
    pub pricing: ModifierPricing,
    pub status: Status,
    pub options: Vec<ModifierOptionDraft>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ModifierGroup {
    pub id: ModifierGroupId,
    pub store_id: StoreId,
    pub name: ItemName,
    pub min_choices: u16,
    pub max_choices: u16,
    pub pricing: ModifierPricing,
    pub status: Status,
    pub options: Vec<ModifierOption>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaxRateDraft {
    pub name: ItemName,
    pub kind: TaxKind,
    pub rate: Rate,
    pub compound: bool,
    /// Carried by products that name no rates of their own.
    pub default: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct TaxRate {
    pub id: TaxRateId,
    pub store_id: StoreId,
    pub name: ItemName,
    pub kind: TaxKind,
    pub rate: Rate,
    pub compound: bool,
    pub default: bool,
    pub status: Status,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TaxRate {
    pub fn rule(&self) -> TaxRule {
        TaxRule {
            id: self.id,
            kind: self.kind,
            rate: self.rate,
            compound: self.compound,
        }
    }
}

/// A store's pricing rules: how taxes apply and round, and the smallest cash coin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct CatalogSettings {
    pub pricing: Pricing,
    pub rounding_scope: RoundingScope,
    pub rounding_mode: RoundingMode,
    /// Cash totals are rounded to a multiple of this many minor units (1: no rounding).
    pub cash_increment: i64,
    pub version: i64,
}

impl CatalogSettings {
    pub fn defaults_for(currency: crate::money::Currency) -> Self {
        Self {
            pricing: Pricing::TaxExclusive,
            rounding_scope: RoundingScope::Line,
            rounding_mode: RoundingMode::HalfUp,
            cash_increment: currency.default_cash_increment(),
            version: 0,
        }
    }

    pub fn tax_policy(&self) -> TaxPolicy {
        TaxPolicy {
            pricing: self.pricing,
            rounding_scope: self.rounding_scope,
            rounding_mode: self.rounding_mode,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn parents_may_not_loop_or_nest_too_deep() {
        let (a, b, c) = (CategoryId::new(), CategoryId::new(), CategoryId::new());
        // c -> b -> a
        let parents: HashMap<CategoryId, CategoryId> = [(c, b), (b, a)].into_iter().collect();
        let lookup = |id| parents.get(&id).copied();
        assert!(check_category_parent(None, c, lookup).is_ok());
        assert_eq!(
            check_category_parent(Some(a), c, lookup).map_err(|e| e.code),
            Err("cycle")
        );
        assert_eq!(
            check_category_parent(Some(a), a, lookup).map_err(|e| e.code),
            Err("cycle")
        );
        let chain: Vec<CategoryId> = (0..MAX_CATEGORY_DEPTH).map(|_| CategoryId::new()).collect();
        let deep: HashMap<CategoryId, CategoryId> =
            chain.windows(2).map(|w| (w[1], w[0])).collect();
        let last = *chain.last().expect("chain");
        assert_eq!(
            check_category_parent(None, last, |id| deep.get(&id).copied()).map_err(|e| e.code),
            Err("too_deep")
        );
    }

    #[test]
    fn modifier_pricing_rules() {
        assert_eq!(ModifierPricing::Sum.total(&[300, 200]), 500);
        assert_eq!(ModifierPricing::Max.total(&[3_990, 4_590]), 4_590);
        assert_eq!(ModifierPricing::Average.total(&[3_990, 4_591]), 4_291);
        assert_eq!(ModifierPricing::Average.total(&[]), 0);
        assert_eq!(ModifierPricing::Max.total(&[]), 0);
        assert_eq!(ModifierPricing::Sum.total(&[-200, 0]), -200);
    }
}
