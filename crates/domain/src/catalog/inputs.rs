//! Catalog records as clients send them, read loosely (text, numbers) and checked here
//! into drafts. Every refusal names the field as the client wrote it, e.g.
//! `variants[1].price.amount`, so a form can show it in the right place.

use super::{
    Barcode, CategoryDraft, ImageUrl, ItemName, ModifierGroupDraft, ModifierOptionDraft,
    ModifierPricing, ProductDraft, Sku, StationCode, Status, TaxRateDraft, VariantDraft,
};
use crate::money::{Currency, MAX_PRICE, MoneyInput};
use crate::rounding::RoundingMode;
use crate::tax::{Pricing, Rate, RoundingScope, TaxKind};
use crate::validation::{ValidationError, bounded_text};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashSet;
use std::hash::Hash;
use std::str::FromStr;

pub const MAX_VARIANTS: usize = 50;
pub const MAX_OPTIONS: usize = 100;
pub const MAX_GROUPS_PER_PRODUCT: usize = 20;
pub const MAX_RATES_PER_PRODUCT: usize = 10;

pub(crate) fn parse_id<T: FromStr>(field: &str, value: &str) -> Result<T, ValidationError> {
    value
        .trim()
        .parse()
        .map_err(|_| ValidationError::new(field, "invalid_id", "not a valid id"))
}

fn parse_choice<T: FromStr>(field: &str, value: &str, allowed: &str) -> Result<T, ValidationError> {
    value.parse().map_err(|_| {
        ValidationError::new(
            field,
            "invalid_choice",
            format!("must be one of: {allowed}"),
        )
    })
}

/// An id in a body where blank text or null means none, as the document says it.
pub struct IdOrBlank;

impl schemars::JsonSchema for IdOrBlank {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "IdOrBlank".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "An id, or blank text or null for none",
            "anyOf": [
                { "type": "string", "format": "uuid" },
                { "type": "string", "pattern": "^\\s*$" },
                { "type": "null" }
            ]
        })
    }
}

fn optional<T>(
    value: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, ValidationError>,
) -> Result<Option<T>, ValidationError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => parse(v).map(Some),
    }
}

/// Ids in a list, each once.
fn id_list<T: FromStr + Eq + Hash + Copy>(
    field: &str,
    values: &[String],
    max: usize,
) -> Result<Vec<T>, ValidationError> {
    if values.len() > max {
        return Err(ValidationError::new(
            field,
            "too_many",
            format!("at most {max}"),
        ));
    }
    let mut seen = HashSet::new();
    let mut ids = Vec::with_capacity(values.len());
    for (i, value) in values.iter().enumerate() {
        let id: T = parse_id(&format!("{field}[{i}]"), value)?;
        if !seen.insert(id) {
            return Err(ValidationError::new(
                format!("{field}[{i}]"),
                "duplicate",
                "listed twice",
            ));
        }
        ids.push(id);
    }
    Ok(ids)
}

fn duplicate(field: String, what: &str) -> ValidationError {
    ValidationError::new(
        field,
        "duplicate",
        format!("two entries have the same {what}"),
    )
}

fn whole_number(field: &str, value: &Value, min: i64, max: i64) -> Result<i64, ValidationError> {
    let n = value
        .as_i64()
        .ok_or_else(|| ValidationError::new(field, "invalid_number", "must be a whole number"))?;
    if n < min || n > max {
        return Err(ValidationError::new(
            field,
            "out_of_range",
            format!("must be between {min} and {max}"),
        ));
    }
    Ok(n)
}

fn status(value: Option<&str>) -> Result<Status, ValidationError> {
    Ok(optional(value, |v| parse_choice("status", v, "active, archived"))?.unwrap_or_default())
}

#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    pub version: Option<i64>,
    #[schemars(with = "Option<IdOrBlank>")]
    pub parent_id: Option<String>,
    #[schemars(length(min = 1))]
    pub name: String,
    pub position: Option<i32>,
    pub station: Option<String>,
    pub image_url: Option<String>,
}

impl CategoryInput {
    pub fn parse(&self) -> Result<CategoryDraft, ValidationError> {
        Ok(CategoryDraft {
            parent_id: optional(self.parent_id.as_deref(), |v| parse_id("parent_id", v))?,
            name: ItemName::parse("name", &self.name)?,
            position: self.position.unwrap_or(0),
            station: optional(self.station.as_deref(), |v| {
                StationCode::parse("station", v)
            })?,
            image_url: optional(self.image_url.as_deref(), |v| {
                ImageUrl::parse("image_url", v)
            })?,
        })
    }
}

#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantInput {
    pub id: Option<String>,
    pub name: Option<String>,
    pub sku: Option<String>,
    pub barcode: Option<String>,
    pub price: MoneyInput,
}

#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    pub version: Option<i64>,
    #[schemars(with = "Option<IdOrBlank>")]
    pub category_id: Option<String>,
    #[schemars(length(min = 1))]
    pub name: String,
    pub description: Option<String>,
    pub image_url: Option<String>,
    pub station: Option<String>,
    pub age_restricted: Option<Value>,
    pub track_stock: Option<bool>,
    pub sell_when_out: Option<bool>,
    pub available: Option<bool>,
    pub status: Option<String>,
    pub position: Option<i32>,
    pub tax_rate_ids: Option<Vec<String>>,
    pub modifier_group_ids: Option<Vec<String>>,
    pub variants: Vec<VariantInput>,
}

impl ProductInput {
    /// Checks the product for a store pricing in `currency`.
    pub fn parse(&self, currency: Currency) -> Result<ProductDraft, ValidationError> {
        let name = ItemName::parse("name", &self.name)?;
        if self.variants.is_empty() || self.variants.len() > MAX_VARIANTS {
            return Err(ValidationError::new(
                "variants",
                "invalid_length",
                format!(
                    "a product has 1 to {MAX_VARIANTS} variants (one, unnamed, for a single price)"
                ),
            ));
        }
        let mut variants = Vec::with_capacity(self.variants.len());
        let (mut ids, mut names, mut skus, mut barcodes) = (
            HashSet::new(),
            HashSet::new(),
            HashSet::new(),
            HashSet::new(),
        );
        for (i, v) in self.variants.iter().enumerate() {
            let field = |f: &str| format!("variants[{i}].{f}");
            let variant = VariantDraft {
                id: optional(v.id.as_deref(), |s| parse_id(&field("id"), s))?,
                name: optional(v.name.as_deref(), |s| ItemName::parse(&field("name"), s))?,
                sku: optional(v.sku.as_deref(), |s| Sku::parse(&field("sku"), s))?,
                barcode: optional(v.barcode.as_deref(), |s| {
                    Barcode::parse(&field("barcode"), s)
                })?,
                price: v.price.parse(&field("price"), currency, 0)?,
            };
            if self.variants.len() > 1 && variant.name.is_none() {
                return Err(ValidationError::new(
                    field("name"),
                    "required",
                    "each of several variants needs a name (e.g. Small, Large)",
                ));
            }
            if variant.id.is_some_and(|id| !ids.insert(id)) {
                return Err(duplicate(field("id"), "id"));
            }
            if variant
                .name
                .as_ref()
                .is_some_and(|n| !names.insert(n.search_key()))
            {
                return Err(duplicate(field("name"), "name"));
            }
            if variant
                .sku
                .as_ref()
                .is_some_and(|s| !skus.insert(s.clone()))
            {
                return Err(duplicate(field("sku"), "SKU"));
            }
            if variant
                .barcode
                .as_ref()
                .is_some_and(|b| !barcodes.insert(b.clone()))
            {
                return Err(duplicate(field("barcode"), "barcode"));
            }
            variants.push(variant);
        }
        let age_restricted = self
            .age_restricted
            .as_ref()
            .filter(|v| !v.is_null())
            .map(|v| whole_number("age_restricted", v, 1, 99).map(|n| n as u8))
            .transpose()?;
        let description = optional(self.description.as_deref(), |d| {
            bounded_text("description", d, 1, 1000)
        })?;
        Ok(ProductDraft {
            category_id: optional(self.category_id.as_deref(), |v| parse_id("category_id", v))?,
            name,
            description,
            image_url: optional(self.image_url.as_deref(), |v| {
                ImageUrl::parse("image_url", v)
            })?,
            station: optional(self.station.as_deref(), |v| {
                StationCode::parse("station", v)
            })?,
            age_restricted,
            track_stock: self.track_stock.unwrap_or(false),
            sell_when_out: self.sell_when_out.unwrap_or(true),
            available: self.available.unwrap_or(true),
            status: status(self.status.as_deref())?,
            position: self.position.unwrap_or(0),
            tax_rate_ids: self
                .tax_rate_ids
                .as_deref()
                .map(|ids| id_list("tax_rate_ids", ids, MAX_RATES_PER_PRODUCT))
                .transpose()?,
            modifier_group_ids: id_list(
                "modifier_group_ids",
                self.modifier_group_ids.as_deref().unwrap_or_default(),
                MAX_GROUPS_PER_PRODUCT,
            )?,
            variants,
        })
    }
}

#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModifierOptionInput {
    pub id: Option<String>,
    #[schemars(length(min = 1))]
    pub name: String,
    pub price_delta: Option<MoneyInput>,
    pub default: Option<bool>,
}

#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModifierGroupInput {
    pub version: Option<i64>,
    #[schemars(length(min = 1))]
    pub name: String,
    pub min_choices: Option<Value>,
    pub max_choices: Option<Value>,
    pub pricing: Option<String>,
    pub status: Option<String>,
    pub options: Vec<ModifierOptionInput>,
}

impl ModifierGroupInput {
    pub fn parse(&self, currency: Currency) -> Result<ModifierGroupDraft, ValidationError> {
        let name = ItemName::parse("name", &self.name)?;
        let count = |field: &str, v: Option<&Value>, default: i64| {
            v.filter(|v| !v.is_null()).map_or(Ok(default), |v| {
                whole_number(field, v, 0, MAX_OPTIONS as i64)
            })
        };
        let min = count("min_choices", self.min_choices.as_ref(), 0)?;
        let max = count("max_choices", self.max_choices.as_ref(), 1)?;
        if max < 1 {
            return Err(ValidationError::new(
                "max_choices",
                "out_of_range",
                "must be at least 1",
            ));
        }
        if min > max {
            return Err(ValidationError::new(
                "min_choices",
                "min_above_max",
                format!("the minimum ({min}) is above the maximum ({max})"),
            ));
        }
        if self.options.is_empty() || self.options.len() > MAX_OPTIONS {
            return Err(ValidationError::new(
                "options",
                "invalid_length",
                format!("a group has 1 to {MAX_OPTIONS} options"),
            ));
        }
        if min as usize > self.options.len() {
            return Err(ValidationError::new(
                "min_choices",
                "not_enough_options",
                format!(
                    "asks for {min} choices but offers {} options",
                    self.options.len()
                ),
            ));
        }
        let mut options = Vec::with_capacity(self.options.len());
        let (mut ids, mut names) = (HashSet::new(), HashSet::new());
        for (i, o) in self.options.iter().enumerate() {
            let field = |f: &str| format!("options[{i}].{f}");
            let option = ModifierOptionDraft {
                id: optional(o.id.as_deref(), |s| parse_id(&field("id"), s))?,
                name: ItemName::parse(&field("name"), &o.name)?,
                price_delta: match &o.price_delta {
                    Some(p) => p.parse(&field("price_delta"), currency, -MAX_PRICE)?,
                    None => crate::money::Money::zero(currency),
                },
                default: o.default.unwrap_or(false),
            };
            if option.id.is_some_and(|id| !ids.insert(id)) {
                return Err(duplicate(field("id"), "id"));
            }
            if !names.insert(option.name.search_key()) {
                return Err(duplicate(field("name"), "name"));
            }
            options.push(option);
        }
        let defaults = options.iter().filter(|o| o.default).count();
        if defaults as i64 > max {
            return Err(ValidationError::new(
                "options",
                "too_many_defaults",
                format!("{defaults} options are chosen by default but at most {max} may be chosen"),
            ));
        }
        Ok(ModifierGroupDraft {
            name,
            min_choices: min as u16,
            max_choices: max as u16,
            pricing: optional(self.pricing.as_deref(), |v| {
                parse_choice("pricing", v, "sum, max, average")
            })?
            .unwrap_or(ModifierPricing::Sum),
            status: status(self.status.as_deref())?,
            options,
        })
    }
}

#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxRateInput {
    pub version: Option<i64>,
    #[schemars(length(min = 1))]
    pub name: String,
    pub kind: Option<String>,
    /// A percentage, as text (`"7.25"`) or a JSON number (read from its decimal text,
    /// never through a float).
    pub rate: Value,
    pub compound: Option<bool>,
    pub default: Option<bool>,
}

impl TaxRateInput {
    pub fn parse(&self) -> Result<TaxRateDraft, ValidationError> {
        let text = match &self.rate {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => {
                return Err(ValidationError::new(
                    "rate",
                    "invalid_rate",
                    "must be a percentage such as \"7.25\"",
                ));
            }
        };
        let kind: TaxKind = optional(self.kind.as_deref(), |v| {
            parse_choice("kind", v, "tax, service_charge")
        })?
        .unwrap_or(TaxKind::Tax);
        let compound = self.compound.unwrap_or(false);
        if compound && kind == TaxKind::ServiceCharge {
            return Err(ValidationError::new(
                "compound",
                "not_for_service_charge",
                "only taxes compound; a service charge always applies to the price",
            ));
        }
        Ok(TaxRateDraft {
            name: ItemName::parse("name", &self.name)?,
            kind,
            rate: Rate::parse("rate", &text)?,
            compound,
            default: self.default.unwrap_or(false),
        })
    }
}

#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsInput {
    pub version: i64,
    pub pricing: Option<String>,
    pub rounding_scope: Option<String>,
    pub rounding_mode: Option<String>,
    pub cash_increment: Option<Value>,
}

/// A change of settings: only what was sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SettingsPatch {
    pub pricing: Option<Pricing>,
    pub rounding_scope: Option<RoundingScope>,
    pub rounding_mode: Option<RoundingMode>,
    pub cash_increment: Option<i64>,
}

impl SettingsInput {
    pub fn parse(&self) -> Result<SettingsPatch, ValidationError> {
        Ok(SettingsPatch {
            pricing: optional(self.pricing.as_deref(), |v| {
                parse_choice("pricing", v, "tax_exclusive, tax_inclusive")
            })?,
            rounding_scope: optional(self.rounding_scope.as_deref(), |v| {
                parse_choice("rounding_scope", v, "line, order")
            })?,
            rounding_mode: optional(self.rounding_mode.as_deref(), |v| {
                parse_choice("rounding_mode", v, "half_up, half_even")
            })?,
            cash_increment: self
                .cash_increment
                .as_ref()
                .map(|v| whole_number("cash_increment", v, 1, 100_000))
                .transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn product(body: Value) -> Result<ProductDraft, (String, &'static str)> {
        serde_json::from_value::<ProductInput>(body)
            .expect("shape")
            .parse(Currency::Brl)
            .map_err(|e| (e.field, e.code))
    }

    fn price(amount: i64) -> Value {
        json!({ "amount": amount, "currency": "BRL" })
    }

    #[test]
    fn a_simple_product_has_one_unnamed_variant_and_sane_defaults() {
        let p = product(json!({ "name": "Coxinha", "variants": [{ "price": price(750) }] }))
            .expect("valid");
        assert_eq!(p.variants.len(), 1);
        assert!(p.available && p.sell_when_out && !p.track_stock);
        assert_eq!((p.status, p.tax_rate_ids.clone()), (Status::Active, None));
    }

    #[test]
    fn product_refusals_name_the_field() {
        let cases = [
            (
                json!({ "name": "", "variants": [{ "price": price(1) }] }),
                "name",
                "too_short",
            ),
            (
                json!({ "name": "X", "variants": [] }),
                "variants",
                "invalid_length",
            ),
            (
                json!({ "name": "X", "variants": [{ "price": price(-1) }] }),
                "variants[0].price.amount",
                "negative",
            ),
            (
                json!({ "name": "X", "variants": [{ "price": { "amount": 1, "currency": "XXX" } }] }),
                "variants[0].price.currency",
                "unknown_currency",
            ),
            (
                json!({ "name": "X", "variants": [{ "name": "P", "price": price(1) }, { "price": price(1) }] }),
                "variants[1].name",
                "required",
            ),
            (
                json!({ "name": "X", "variants": [{ "name": "P", "sku": "A1", "price": price(1) }, { "name": "G", "sku": "A1", "price": price(1) }] }),
                "variants[1].sku",
                "duplicate",
            ),
            (
                json!({ "name": "X", "variants": [{ "name": "P", "price": price(1) }, { "name": "p", "price": price(1) }] }),
                "variants[1].name",
                "duplicate",
            ),
            (
                json!({ "name": "X", "age_restricted": 0, "variants": [{ "price": price(1) }] }),
                "age_restricted",
                "out_of_range",
            ),
            (
                json!({ "name": "X", "category_id": "nope", "variants": [{ "price": price(1) }] }),
                "category_id",
                "invalid_id",
            ),
            (
                json!({ "name": "X", "status": "gone", "variants": [{ "price": price(1) }] }),
                "status",
                "invalid_choice",
            ),
            (
                json!({ "name": "X", "variants": [{ "barcode": "7891000315508", "price": price(1) }] }),
                "variants[0].barcode",
                "invalid_check_digit",
            ),
        ];
        for (body, field, code) in cases {
            assert_eq!(
                product(body.clone()).map(|_| ()),
                Err((field.to_owned(), code)),
                "{body}"
            );
        }
        let id = crate::ids::TaxRateId::new().to_string();
        assert_eq!(
            product(json!({ "name": "X", "tax_rate_ids": [id, id], "variants": [{ "price": price(1) }] })).map(|_| ()),
            Err(("tax_rate_ids[1]".to_owned(), "duplicate"))
        );
    }

    fn group(body: Value) -> Result<ModifierGroupDraft, (String, &'static str)> {
        serde_json::from_value::<ModifierGroupInput>(body)
            .expect("shape")
            .parse(Currency::Brl)
            .map_err(|e| (e.field, e.code))
    }

    #[test]
    fn modifier_groups_check_their_limits() {
        let flavours = group(json!({
            "name": "Sabores", "min_choices": 1, "max_choices": 2, "pricing": "max",
            "options": [{ "name": "Calabresa", "price_delta": price(3990) }, { "name": "Portuguesa", "price_delta": price(4590) }]
        }))
        .expect("valid");
        assert_eq!(
            (flavours.min_choices, flavours.max_choices, flavours.pricing),
            (1, 2, ModifierPricing::Max)
        );
        let one = json!([{ "name": "A" }]);
        let cases = [
            (
                json!({ "name": "G", "min_choices": 3, "max_choices": 2, "options": one }),
                "min_choices",
                "min_above_max",
            ),
            (
                json!({ "name": "G", "min_choices": 2, "max_choices": 2, "options": one }),
                "min_choices",
                "not_enough_options",
            ),
            (
                json!({ "name": "G", "max_choices": 0, "options": one }),
                "max_choices",
                "out_of_range",
            ),
            (
                json!({ "name": "G", "min_choices": -1, "options": one }),
                "min_choices",
                "out_of_range",
            ),
            (
                json!({ "name": "G", "options": [] }),
                "options",
                "invalid_length",
            ),
            (
                json!({ "name": "G", "options": [{ "name": "A" }, { "name": "a" }] }),
                "options[1].name",
                "duplicate",
            ),
            (
                json!({ "name": "G", "options": [{ "name": "A", "default": true }, { "name": "B", "default": true }] }),
                "options",
                "too_many_defaults",
            ),
            (
                json!({ "name": "G", "options": [{ "name": "A", "price_delta": { "amount": 1, "currency": "USD" } }] }),
                "options[0].price_delta.currency",
                "currency_mismatch",
            ),
        ];
        for (body, field, code) in cases {
            assert_eq!(
                group(body.clone()).map(|_| ()),
                Err((field.to_owned(), code)),
                "{body}"
            );
        }
        let discount = group(
            json!({ "name": "Size", "options": [{ "name": "Half", "price_delta": price(-500) }] }),
        )
        .expect("negative deltas allowed");
        assert_eq!(discount.options[0].price_delta.amount, -500);
    }

    #[test]
    fn tax_rates_read_text_or_numbers_exactly() {
        let rate = |v: Value| {
            serde_json::from_value::<TaxRateInput>(v)
                .expect("shape")
                .parse()
                .map_err(|e| (e.field, e.code))
        };
        assert_eq!(
            rate(json!({ "name": "FL", "rate": "7" })).map(|r| r.rate.units()),
            Ok(70_000)
        );
        assert_eq!(
            rate(json!({ "name": "NJ", "rate": 6.625 })).map(|r| r.rate.units()),
            Ok(66_250)
        );
        assert_eq!(
            rate(json!({ "name": "S", "kind": "service_charge", "compound": true, "rate": 10 }))
                .map(|_| ()),
            Err(("compound".to_owned(), "not_for_service_charge"))
        );
        assert_eq!(
            rate(json!({ "name": "X", "rate": "101" })).map(|_| ()),
            Err(("rate".to_owned(), "invalid_rate"))
        );
        assert_eq!(
            rate(json!({ "name": "X", "rate": true })).map(|_| ()),
            Err(("rate".to_owned(), "invalid_rate"))
        );
    }
}
