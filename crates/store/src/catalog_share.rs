//! Stores that share a catalog. A branch follows its chain's main store: it sells from
//! that catalog, which is changed only there, and keeps its own sold-out switches, prices
//! and stock. Any store may override a product it sells (a main store's sold-out switch
//! must not empty its branches' menus). A follower's catalog revision moves with every
//! change to the catalog it follows, so its menu ETag covers both.

use crate::{Result, StoreError};
use async_trait::async_trait;
use comanda_domain::catalog::overrides::ProductOverride;
use comanda_domain::{Currency, Money, ProductId, StoreId, VariantId};
use std::collections::BTreeMap;
use uuid::Uuid;

#[async_trait]
pub trait CatalogShareRepo: Send + Sync {
    /// The store whose catalog `store` follows, if any.
    async fn catalog_source(&self, store: StoreId) -> Result<Option<StoreId>>;

    /// The stores that follow `store`'s catalog.
    async fn catalog_followers(&self, store: StoreId) -> Result<Vec<StoreId>>;

    /// Makes `store` follow `source`'s catalog, or (`None`) keep its own again, dropping
    /// its overrides. Refused (`Invalid`, field `source_store_id`) when the currencies
    /// differ, when `source` itself follows another store or `store` is followed (one
    /// level only), or when `store` has products of its own.
    async fn follow_catalog(&self, store: StoreId, source: Option<StoreId>) -> Result<()>;

    /// Every override of `store`, by product.
    async fn product_overrides(&self, store: StoreId) -> Result<Vec<ProductOverride>>;

    /// Replaces `store`'s override of a product of the catalog it sells from, its own or
    /// the one it follows (an empty override removes it). `NotFound` for a product
    /// outside that catalog.
    async fn set_product_override(&self, store: StoreId, change: &ProductOverride) -> Result<()>;

    /// Removes `store`'s override of `product`, if any: the store sells it as the
    /// catalog says. `NotFound` for a product outside the catalog it sells from.
    async fn clear_product_override(&self, store: StoreId, product: ProductId) -> Result<()>;
}

/// Override prices as stored: a JSON object from variant id to minor units.
#[doc(hidden)]
pub fn prices_to_text(change: &ProductOverride) -> Result<String> {
    let prices: BTreeMap<Uuid, i64> = change
        .prices
        .iter()
        .map(|(v, m)| (v.as_uuid(), m.amount))
        .collect();
    serde_json::to_string(&prices).map_err(|e| StoreError::Internal(e.to_string()))
}

#[doc(hidden)]
pub fn override_from_row(
    product: Uuid,
    available: Option<bool>,
    prices: &str,
    currency: Currency,
) -> Result<ProductOverride> {
    let prices: BTreeMap<Uuid, i64> = serde_json::from_str(prices)
        .map_err(|e| StoreError::Internal(format!("override prices: {e}")))?;
    Ok(ProductOverride {
        product_id: ProductId::from_uuid(product),
        available,
        prices: prices
            .into_iter()
            .map(|(v, amount)| (VariantId::from_uuid(v), Money::new(amount, currency)))
            .collect(),
    })
}
