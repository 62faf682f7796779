//! Order lines, priced on the server from the catalog when they are added and then kept
//! as they were: a price change tomorrow does not touch tonight's tabs.

use crate::catalog::{ModifierGroup, Product, Status, TaxRate};
use crate::ids::{
    CategoryId, ModifierGroupId, ModifierOptionId, OrderLineId, ProductId, TaxRateId, UserId,
    VariantId,
};
use crate::money::MAX_PRICE;
use crate::rounding::{RoundingMode, div_round};
use crate::tax::{RATE_SCALE, Rate};
use crate::validation::ValidationError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// More of one item than this on one line is a typing mistake, not an order.
pub const MAX_QUANTITY: i64 = 999;
pub const MAX_NOTE_CHARS: usize = 200;
pub const MAX_COURSE: u8 = 9;
pub const MAX_SEAT: u16 = 99;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LineStatus {
    /// Taken, not yet sent to the kitchen: may still be removed outright.
    Pending,
    /// In the kitchen, not started.
    Sent,
    /// A cook has started it.
    Preparing,
    Ready,
    Served,
    /// Sent and then taken back: kept, struck through, with a reason.
    Voided,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LineModifier {
    pub group_id: ModifierGroupId,
    pub option_id: ModifierOptionId,
    pub name: String,
    pub price_delta: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DiscountValue {
    /// Minor units off.
    Amount(i64),
    Percent(Rate),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Discount {
    pub value: DiscountValue,
    pub reason: String,
    pub applied_by: Option<UserId>,
    /// The manager who allowed a discount above the store's threshold.
    pub approved_by: Option<UserId>,
}

impl Discount {
    /// What it takes off `base`, never more than `base`; percentages round half up.
    pub fn off(&self, base: i64) -> i64 {
        let base = base.max(0);
        match self.value {
            DiscountValue::Amount(amount) => amount.clamp(0, base),
            DiscountValue::Percent(rate) => {
                let off = div_round(
                    i128::from(base) * i128::from(rate.units()),
                    i128::from(RATE_SCALE),
                    RoundingMode::HalfUp,
                );
                i64::try_from(off).unwrap_or(base).clamp(0, base)
            }
        }
    }

    /// Its size as a share of `base`, in [`Rate`] units, to compare with a threshold.
    pub fn share_of(&self, base: i64) -> u32 {
        match self.value {
            DiscountValue::Percent(rate) => rate.units(),
            DiscountValue::Amount(_) if base <= 0 => RATE_SCALE,
            DiscountValue::Amount(amount) => {
                let share = i128::from(amount) * i128::from(RATE_SCALE) / i128::from(base);
                u32::try_from(share.min(i128::from(RATE_SCALE))).unwrap_or(RATE_SCALE)
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OrderLine {
    pub id: OrderLineId,
    pub product_id: ProductId,
    pub variant_id: VariantId,
    /// Product and variant names as they were: "Pizza (Grande)".
    pub name: String,
    pub sku: Option<String>,
    /// The kitchen station that prepares it.
    pub station: Option<String>,
    /// The product's category when the line was added, for sales by category.
    #[serde(default)]
    pub category_id: Option<CategoryId>,
    pub age_restricted: Option<u8>,
    pub quantity: i64,
    /// The variant's price, before modifiers.
    pub unit_price: i64,
    pub modifiers: Vec<LineModifier>,
    /// What the modifiers add to one unit (by each group's pricing rule).
    pub modifiers_price: i64,
    pub tax_rate_ids: Vec<TaxRateId>,
    pub notes: Option<String>,
    pub course: Option<u8>,
    pub seat: Option<u16>,
    pub discount: Option<Discount>,
    pub status: LineStatus,
    pub void_reason: Option<String>,
    pub voided_by: Option<UserId>,
    pub added_by: Option<UserId>,
    pub added_at: DateTime<Utc>,
    /// When it reached the kitchen, and when the kitchen finished it (bumped).
    #[serde(default)]
    pub sent_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub done_at: Option<DateTime<Utc>>,
    /// Sent, but waiting for an earlier course to be done before the kitchen starts it.
    #[serde(default)]
    pub held: bool,
    /// Its product's stock is counted and may not go below zero: while the order is
    /// open the line holds its quantity, so no other order can sell the same units.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub holds_stock: bool,
}

impl OrderLine {
    /// One unit with its modifiers, never below zero. Pricing keeps it within
    /// [`MAX_PRICE`]; a line that was not priced here saturates rather than wraps, and
    /// the order's total refuses it.
    pub fn unit_total(&self) -> i64 {
        self.unit_price.saturating_add(self.modifiers_price).max(0)
    }

    /// The line before discounts; voided lines count for nothing.
    pub fn gross(&self) -> i64 {
        if self.status == LineStatus::Voided {
            return 0;
        }
        self.unit_total().saturating_mul(self.quantity)
    }

    pub fn counts(&self) -> bool {
        self.status != LineStatus::Voided
    }
}

/// A line as a client asks for it; the price comes from the catalog.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LineInput {
    pub product_id: String,
    #[serde(default)]
    pub variant_id: Option<String>,
    pub quantity: serde_json::Value,
    #[serde(default)]
    pub options: Vec<String>,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub course: Option<u8>,
    #[serde(default)]
    pub seat: Option<u16>,
}

/// What the catalog says about one product, as the store sells it (overrides applied).
pub struct Catalogued<'a> {
    pub product: &'a Product,
    /// The product's modifier groups.
    pub groups: &'a [ModifierGroup],
    /// The store's active rates (the product's own, or the defaults, are taken from here).
    pub rates: &'a [TaxRate],
    /// The product's station, or its category's.
    pub station: Option<String>,
}

fn bad(field: String, code: &'static str, message: impl Into<String>) -> ValidationError {
    ValidationError::new(field, code, message)
}

impl LineInput {
    /// The product the line asks for, checked before the catalog is read.
    pub fn product(&self, field: &str) -> Result<ProductId, ValidationError> {
        self.product_id.trim().parse().map_err(|_| {
            bad(
                format!("{field}.product_id"),
                "invalid_id",
                "not a valid id",
            )
        })
    }

    pub fn quantity(&self, field: &str) -> Result<i64, ValidationError> {
        let quantity = self.quantity.as_i64().ok_or_else(|| {
            bad(
                format!("{field}.quantity"),
                "invalid_quantity",
                "must be a whole number",
            )
        })?;
        if !(1..=MAX_QUANTITY).contains(&quantity) {
            return Err(bad(
                format!("{field}.quantity"),
                "out_of_range",
                format!("must be between 1 and {MAX_QUANTITY}"),
            ));
        }
        Ok(quantity)
    }

    /// Prices the line from the catalog: the variant's price, the chosen options (or the
    /// defaults of a group left unanswered) within each group's limits, and the rates.
    pub fn price(
        &self,
        field: &str,
        item: &Catalogued<'_>,
        id: OrderLineId,
        by: Option<UserId>,
        at: DateTime<Utc>,
    ) -> Result<OrderLine, ValidationError> {
        let product = item.product;
        let quantity = self.quantity(field)?;
        if product.status != Status::Active {
            return Err(bad(
                format!("{field}.product_id"),
                "archived",
                "this product is no longer sold",
            ));
        }
        if !product.available {
            return Err(bad(
                format!("{field}.product_id"),
                "unavailable",
                "this product is sold out",
            ));
        }
        let variant = match self.variant_id.as_deref().map(str::trim) {
            Some(text) => {
                let wanted: VariantId = text.parse().map_err(|_| {
                    bad(
                        format!("{field}.variant_id"),
                        "invalid_id",
                        "not a valid id",
                    )
                })?;
                product
                    .variants
                    .iter()
                    .find(|v| v.id == wanted)
                    .ok_or_else(|| {
                        bad(
                            format!("{field}.variant_id"),
                            "unknown_variant",
                            "not a variant of this product",
                        )
                    })?
            }
            None => match product.variants.as_slice() {
                [only] => only,
                _ => {
                    return Err(bad(
                        format!("{field}.variant_id"),
                        "required",
                        "this product comes in several variants: choose one",
                    ));
                }
            },
        };
        let (modifiers, modifiers_price) = self.modifiers(field, item)?;
        let unit = i128::from(variant.price.amount) + modifiers_price;
        let modifiers_price = match i64::try_from(modifiers_price) {
            Ok(price) if unit <= i128::from(MAX_PRICE) => price,
            _ => {
                return Err(bad(
                    format!("{field}.options"),
                    "too_large",
                    format!("one unit with its options costs at most {MAX_PRICE}"),
                ));
            }
        };
        let notes = match self.notes.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) if text.chars().count() > MAX_NOTE_CHARS => {
                return Err(bad(
                    format!("{field}.notes"),
                    "too_long",
                    format!("at most {MAX_NOTE_CHARS} characters"),
                ));
            }
            Some(text) => Some(text.to_owned()),
        };
        if self.course.is_some_and(|c| c == 0 || c > MAX_COURSE) {
            return Err(bad(
                format!("{field}.course"),
                "out_of_range",
                format!("courses are numbered 1 to {MAX_COURSE}"),
            ));
        }
        if self.seat.is_some_and(|s| s == 0 || s > MAX_SEAT) {
            return Err(bad(
                format!("{field}.seat"),
                "out_of_range",
                format!("seats are numbered 1 to {MAX_SEAT}"),
            ));
        }
        let tax_rate_ids = match &product.tax_rate_ids {
            Some(ids) => ids
                .iter()
                .copied()
                .filter(|id| item.rates.iter().any(|r| r.id == *id))
                .collect(),
            None => item
                .rates
                .iter()
                .filter(|r| r.default && r.status == Status::Active)
                .map(|r| r.id)
                .collect(),
        };
        let name = match &variant.name {
            Some(v) if product.variants.len() > 1 => format!("{} ({})", product.name, v),
            _ => product.name.to_string(),
        };
        debug_assert!(variant.price.amount <= MAX_PRICE);
        Ok(OrderLine {
            id,
            product_id: product.id,
            variant_id: variant.id,
            name,
            sku: variant.sku.as_ref().map(ToString::to_string),
            station: item.station.clone(),
            category_id: product.category_id,
            age_restricted: product.age_restricted,
            quantity,
            unit_price: variant.price.amount,
            modifiers,
            modifiers_price,
            tax_rate_ids,
            notes,
            course: self.course,
            seat: self.seat,
            discount: None,
            status: LineStatus::Pending,
            void_reason: None,
            voided_by: None,
            added_by: by,
            added_at: at,
            sent_at: None,
            done_at: None,
            held: false,
            holds_stock: product.track_stock && !product.sell_when_out,
        })
    }

    fn modifiers(
        &self,
        field: &str,
        item: &Catalogued<'_>,
    ) -> Result<(Vec<LineModifier>, i128), ValidationError> {
        let mut chosen: Vec<(usize, ModifierOptionId)> = Vec::with_capacity(self.options.len());
        for (i, text) in self.options.iter().enumerate() {
            let option_field = format!("{field}.options[{i}]");
            let id: ModifierOptionId = text
                .trim()
                .parse()
                .map_err(|_| bad(option_field.clone(), "invalid_id", "not a valid id"))?;
            let group = item
                .groups
                .iter()
                .position(|g| g.options.iter().any(|o| o.id == id))
                .ok_or_else(|| {
                    bad(
                        option_field.clone(),
                        "unknown_option",
                        "not an option of this product's modifier groups",
                    )
                })?;
            if chosen.iter().any(|(_, c)| *c == id) {
                return Err(bad(option_field, "duplicate", "chosen twice"));
            }
            chosen.push((group, id));
        }
        let mut modifiers = Vec::new();
        let mut price = 0_i128;
        for (g, group) in item.groups.iter().enumerate() {
            let mut picked: Vec<ModifierOptionId> = chosen
                .iter()
                .filter(|(cg, _)| *cg == g)
                .map(|(_, id)| *id)
                .collect();
            if picked.is_empty() {
                picked = group
                    .options
                    .iter()
                    .filter(|o| o.default)
                    .map(|o| o.id)
                    .collect();
            }
            let count = u16::try_from(picked.len()).unwrap_or(u16::MAX);
            if count < group.min_choices || count > group.max_choices {
                return Err(bad(
                    format!("{field}.options"),
                    "choices_out_of_range",
                    format!(
                        "choose {} to {} of \"{}\"",
                        group.min_choices, group.max_choices, group.name
                    ),
                ));
            }
            let mut deltas = Vec::with_capacity(picked.len());
            for id in picked {
                if let Some(option) = group.options.iter().find(|o| o.id == id) {
                    deltas.push(option.price_delta.amount);
                    modifiers.push(LineModifier {
                        group_id: group.id,
                        option_id: option.id,
                        name: option.name.to_string(),
                        price_delta: option.price_delta.amount,
                    });
                }
            }
            price += group.pricing.total(&deltas);
        }
        Ok((modifiers, price))
    }
}
