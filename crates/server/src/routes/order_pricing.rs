//! Prices order lines from the catalog as the store sells it (the catalog it follows,
//! with its own overrides), so a client never sends a price.

use super::catalog::{as_sold_in, catalog_owner};
use crate::error::ApiError;
use crate::state::AppState;
use comanda_domain::catalog::{CatalogSettings, ModifierGroup, Product, Status, TaxRate};
use comanda_domain::orders::RateSnapshot;
use comanda_domain::orders::commands::MAX_LINES_PER_REQUEST;
use comanda_domain::orders::lines::{Catalogued, LineInput, OrderLine};
use comanda_domain::tax::TaxPolicy;
use comanda_domain::{OrderLineId, ProductId, StoreId, UserId, ValidationError, clock};
use std::collections::HashMap;

/// The store's pricing rules as the order will keep them.
pub async fn tax_policy(state: &AppState, store: StoreId) -> Result<TaxPolicy, ApiError> {
    let owner = catalog_owner(state, store).await?;
    let currency = super::catalog::currency_of(state, store).await?;
    Ok(state
        .storage
        .catalog_settings(owner)
        .await?
        .unwrap_or_else(|| CatalogSettings::defaults_for(currency))
        .tax_policy())
}

/// Prices `inputs` (field names under `field`, e.g. `lines[2].quantity`); returns the
/// lines and the rates they use.
pub async fn price_lines(
    state: &AppState,
    store: StoreId,
    field: &str,
    inputs: &[LineInput],
    by: Option<UserId>,
) -> Result<(Vec<OrderLine>, Vec<RateSnapshot>), ApiError> {
    if inputs.is_empty() {
        return Err(ValidationError::new(field, "required", "add at least one line").into());
    }
    if inputs.len() > MAX_LINES_PER_REQUEST {
        return Err(ValidationError::new(
            field,
            "too_many",
            format!("at most {MAX_LINES_PER_REQUEST} lines per request"),
        )
        .into());
    }
    // Every field is checked before the catalog is read.
    let mut wanted: Vec<ProductId> = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        let at = format!("{field}[{i}]");
        input.quantity(&at)?;
        wanted.push(input.product(&at)?);
    }
    let owner = catalog_owner(state, store).await?;
    let rates: Vec<TaxRate> = state
        .storage
        .list_tax_rates(owner)
        .await?
        .into_iter()
        .filter(|r| r.status == Status::Active)
        .collect();
    let mut products: HashMap<ProductId, Product> = HashMap::new();
    let mut groups: HashMap<comanda_domain::ModifierGroupId, ModifierGroup> = HashMap::new();
    let mut stations: HashMap<ProductId, Option<String>> = HashMap::new();
    for (i, id) in wanted.iter().enumerate() {
        if products.contains_key(id) {
            continue;
        }
        let Some(product) = state.storage.get_product(owner, *id).await? else {
            return Err(ValidationError::new(
                format!("{field}[{i}].product_id"),
                "unknown_product",
                "no such product in this store's catalog",
            )
            .into());
        };
        let mut sold = [product];
        as_sold_in(state, store, &mut sold).await?;
        let [product] = sold;
        for group in &product.modifier_group_ids {
            if !groups.contains_key(group)
                && let Some(found) = state.storage.get_modifier_group(owner, *group).await?
            {
                groups.insert(*group, found);
            }
        }
        let station = match (&product.station, product.category_id) {
            (Some(station), _) => Some(station.to_string()),
            (None, Some(category)) => state
                .storage
                .get_category(owner, category)
                .await?
                .and_then(|c| c.station.map(|s| s.to_string())),
            (None, None) => None,
        };
        stations.insert(*id, station);
        products.insert(*id, product);
    }
    let now = clock::now();
    let mut lines = Vec::with_capacity(inputs.len());
    for (i, (input, id)) in inputs.iter().zip(&wanted).enumerate() {
        let Some(product) = products.get(id) else {
            continue;
        };
        let product_groups: Vec<ModifierGroup> = product
            .modifier_group_ids
            .iter()
            .filter_map(|g| groups.get(g))
            .filter(|g| g.status == Status::Active)
            .cloned()
            .collect();
        let item = Catalogued {
            product,
            groups: &product_groups,
            rates: &rates,
            station: stations.get(id).cloned().flatten(),
        };
        lines.push(input.price(&format!("{field}[{i}]"), &item, OrderLineId::new(), by, now)?);
    }
    let used: Vec<RateSnapshot> = rates
        .iter()
        .filter(|r| lines.iter().any(|l| l.tax_rate_ids.contains(&r.id)))
        .map(|r| RateSnapshot {
            id: r.id,
            name: r.name.to_string(),
            kind: r.kind,
            rate: r.rate,
            compound: r.compound,
        })
        .collect();
    Ok((lines, used))
}
