//! What one store changes about a catalog it shares with others: a chain keeps one
//! catalog at its main store, and each branch may sell a dish at its own price or mark
//! it sold out without touching the shared record.

use super::Product;
use super::inputs::parse_id;
use crate::money::{Currency, Money, MoneyInput};
use crate::validation::ValidationError;
use crate::{ProductId, VariantId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One store's changes to one shared product. Absent fields follow the product.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ProductOverride {
    pub product_id: ProductId,
    /// Sold out (or back) here only.
    pub available: Option<bool>,
    /// This store's price of some of the product's variants.
    pub prices: BTreeMap<VariantId, Money>,
}

impl ProductOverride {
    pub fn is_empty(&self) -> bool {
        self.available.is_none() && self.prices.is_empty()
    }

    /// The product as this store sells it. Prices of variants the product no longer has
    /// are ignored.
    pub fn apply(&self, product: &mut Product) {
        if let Some(available) = self.available {
            product.available = available;
        }
        for variant in &mut product.variants {
            if let Some(price) = self.prices.get(&variant.id) {
                variant.price = *price;
            }
        }
    }
}

/// Applies each store override to its product.
pub fn apply_all(products: &mut [Product], overrides: &[ProductOverride]) {
    if overrides.is_empty() {
        return;
    }
    let by_product: BTreeMap<ProductId, &ProductOverride> =
        overrides.iter().map(|o| (o.product_id, o)).collect();
    for product in products {
        if let Some(o) = by_product.get(&product.id) {
            o.apply(product);
        }
    }
}

#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantPriceInput {
    pub variant_id: String,
    pub price: MoneyInput,
}

/// `PUT …/products/{id}/override`: the whole override, replacing the last one.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideInput {
    #[serde(default)]
    pub available: Option<bool>,
    #[serde(default)]
    pub prices: Vec<VariantPriceInput>,
}

impl OverrideInput {
    /// Checks the override against the product it changes: each price names one of its
    /// variants once, in the store's currency, and is not negative.
    pub fn parse(
        &self,
        product: &Product,
        currency: Currency,
    ) -> Result<ProductOverride, ValidationError> {
        let mut prices = BTreeMap::new();
        for (i, entry) in self.prices.iter().enumerate() {
            let field = format!("prices[{i}]");
            let variant: VariantId = parse_id(&format!("{field}.variant_id"), &entry.variant_id)?;
            if !product.variants.iter().any(|v| v.id == variant) {
                return Err(ValidationError::new(
                    format!("{field}.variant_id"),
                    "unknown_variant",
                    "not a variant of this product",
                ));
            }
            let price = entry.price.parse(&format!("{field}.price"), currency, 0)?;
            if prices.insert(variant, price).is_some() {
                return Err(ValidationError::new(
                    format!("{field}.variant_id"),
                    "duplicate",
                    "this variant is priced twice",
                ));
            }
        }
        Ok(ProductOverride {
            product_id: product.id,
            available: self.available,
            prices,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::inputs::ProductInput;
    use crate::{StoreId, clock};
    use serde_json::json;

    fn pizza() -> Product {
        let draft = serde_json::from_value::<ProductInput>(json!({
            "name": "Pizza",
            "variants": [
                { "name": "Média", "price": { "amount": 4000, "currency": "BRL" } },
                { "name": "Grande", "price": { "amount": 5500, "currency": "BRL" } },
            ],
        }))
        .expect("shape")
        .parse(Currency::Brl)
        .expect("valid");
        Product {
            id: ProductId::new(),
            store_id: StoreId::new(),
            category_id: None,
            name: draft.name,
            description: None,
            image_url: None,
            station: None,
            age_restricted: None,
            track_stock: false,
            sell_when_out: true,
            available: true,
            status: draft.status,
            position: 0,
            tax_rate_ids: None,
            modifier_group_ids: Vec::new(),
            variants: draft
                .variants
                .into_iter()
                .map(|v| super::super::Variant {
                    id: VariantId::new(),
                    name: v.name,
                    sku: v.sku,
                    barcode: v.barcode,
                    price: v.price,
                })
                .collect(),
            version: 1,
            created_at: clock::now(),
            updated_at: clock::now(),
        }
    }

    fn input(body: serde_json::Value) -> OverrideInput {
        serde_json::from_value(body).expect("shape")
    }

    #[test]
    fn an_override_changes_only_what_it_names() {
        let mut product = pizza();
        let large = product.variants[1].id;
        let change = input(json!({ "available": false, "prices": [
            { "variant_id": large.to_string(), "price": { "amount": 5900, "currency": "BRL" } },
        ]}))
        .parse(&product, Currency::Brl)
        .expect("valid");
        apply_all(std::slice::from_mut(&mut product), &[change]);
        assert!(!product.available);
        assert_eq!(product.variants[0].price.amount, 4000);
        assert_eq!(product.variants[1].price.amount, 5900);
    }

    #[test]
    fn overrides_name_the_field_they_refuse() {
        let product = pizza();
        let large = product.variants[1].id.to_string();
        let refused = |body| {
            input(body)
                .parse(&product, Currency::Brl)
                .map(|_| ())
                .map_err(|e| (e.field, e.code))
        };
        assert_eq!(
            refused(
                json!({ "prices": [{ "variant_id": VariantId::new().to_string(), "price": { "amount": 1, "currency": "BRL" } }] })
            ),
            Err(("prices[0].variant_id".into(), "unknown_variant"))
        );
        assert_eq!(
            refused(
                json!({ "prices": [{ "variant_id": large, "price": { "amount": -1, "currency": "BRL" } }] })
            ),
            Err(("prices[0].price.amount".into(), "negative"))
        );
        assert_eq!(
            refused(
                json!({ "prices": [{ "variant_id": large, "price": { "amount": 1, "currency": "IDR" } }] })
            ),
            Err(("prices[0].price.currency".into(), "currency_mismatch"))
        );
        assert_eq!(
            refused(json!({ "prices": [
                { "variant_id": large, "price": { "amount": 1, "currency": "BRL" } },
                { "variant_id": large, "price": { "amount": 2, "currency": "BRL" } },
            ] })),
            Err(("prices[1].variant_id".into(), "duplicate"))
        );
        assert_eq!(
            refused(
                json!({ "prices": [{ "variant_id": "nope", "price": { "amount": 1, "currency": "BRL" } }] })
            ),
            Err(("prices[0].variant_id".into(), "invalid_id"))
        );
    }
}
