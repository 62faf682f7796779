//! What a store sells, as order pricing needs it, kept in memory per catalog revision:
//! the products (with the store's overrides), their modifier groups and station, the
//! active rates and the pricing rules. Any change to the catalog, its source or the
//! store's overrides moves the revision. A catalog made through this instance is seen by
//! the next order at once (every catalog write through the API is noted here); one made
//! elsewhere (another instance, `comanda catalog import`) within [`TRUST_FOR`], the time
//! a checked revision is trusted without reading it again. Adding a line then costs no
//! read at all while the menu stands still.

use crate::error::ApiError;
use crate::state::AppState;
use comanda_domain::catalog::overrides::apply_all;
use comanda_domain::catalog::{CatalogSettings, ModifierGroup, Product, Status, TaxRate};
use comanda_domain::orders::RateSnapshot;
use comanda_domain::orders::commands::MAX_LINES_PER_REQUEST;
use comanda_domain::orders::lines::{Catalogued, LineInput, OrderLine};
use comanda_domain::tax::TaxPolicy;
use comanda_domain::{Currency, OrderLineId, ProductId, StoreId, UserId, ValidationError, clock};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Products kept per store before the cache starts over (a large shop's whole shelf).
const MAX_ITEMS: usize = 20_000;

/// How long a revision read from the database is trusted.
pub const TRUST_FOR: Duration = Duration::from_secs(1);

pub struct SaleItem {
    pub product: Product,
    pub groups: Vec<ModifierGroup>,
    pub station: Option<String>,
}

/// One store's catalog at one revision.
pub struct SaleCatalog {
    pub revision: i64,
    /// The store whose catalog this store sells from.
    pub owner: StoreId,
    pub currency: Currency,
    pub policy: TaxPolicy,
    pub rates: Vec<TaxRate>,
    items: Mutex<HashMap<ProductId, Option<Arc<SaleItem>>>>,
    /// When the revision was last read, and the instance's catalog writes by then.
    checked: Mutex<(Instant, u64)>,
}

#[derive(Default)]
pub struct SaleCache {
    stores: Mutex<HashMap<StoreId, Arc<SaleCatalog>>>,
    /// Catalog writes through this instance; a catalog checked before the last one is
    /// read again.
    writes: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The store whose catalog `store` sells from: its own, or the one it follows.
pub async fn catalog_owner(state: &AppState, store: StoreId) -> Result<StoreId, ApiError> {
    Ok(state.storage.catalog_source(store).await?.unwrap_or(store))
}

/// Products as `store` sells them: its overrides applied.
pub async fn as_sold_in(
    state: &AppState,
    store: StoreId,
    products: &mut [Product],
) -> Result<(), ApiError> {
    let overrides = state.storage.product_overrides(store).await?;
    apply_all(products, &overrides);
    Ok(())
}

impl SaleCache {
    /// A catalog changed through this instance.
    pub fn note_write(&self) {
        self.writes.fetch_add(1, Ordering::AcqRel);
    }

    /// The store's catalog as of now.
    pub async fn catalog(state: &AppState, store: StoreId) -> Result<Arc<SaleCatalog>, ApiError> {
        let writes = state.sales.writes.load(Ordering::Acquire);
        let known = lock(&state.sales.stores).get(&store).cloned();
        if let Some(known) = &known {
            let (at, seen) = *lock(&known.checked);
            if seen == writes && at.elapsed() < TRUST_FOR {
                return Ok(known.clone());
            }
        }
        let revision = state.storage.catalog_revision(store).await?;
        if let Some(known) = known
            && known.revision == revision
        {
            *lock(&known.checked) = (Instant::now(), writes);
            return Ok(known);
        }
        let storage = &state.storage;
        let owner = catalog_owner(state, store).await?;
        let currency = storage
            .get_store(store)
            .await?
            .ok_or_else(|| ApiError::not_found("store not found"))?
            .currency;
        let policy = storage
            .catalog_settings(owner)
            .await?
            .unwrap_or_else(|| CatalogSettings::defaults_for(currency))
            .tax_policy();
        let rates = storage
            .list_tax_rates(owner)
            .await?
            .into_iter()
            .filter(|r| r.status == Status::Active)
            .collect();
        let fresh = Arc::new(SaleCatalog {
            revision,
            owner,
            currency,
            policy,
            rates,
            items: Mutex::default(),
            checked: Mutex::new((Instant::now(), writes)),
        });
        let mut stores = lock(&state.sales.stores);
        let keep = stores.get(&store).is_none_or(|k| k.revision <= revision);
        if keep {
            stores.insert(store, fresh.clone());
        }
        Ok(fresh)
    }
}

impl SaleCatalog {
    /// A product as `store` sells it; `None` if the catalog has no such product.
    async fn item(
        &self,
        state: &AppState,
        store: StoreId,
        id: ProductId,
    ) -> Result<Option<Arc<SaleItem>>, ApiError> {
        if let Some(known) = lock(&self.items).get(&id) {
            return Ok(known.clone());
        }
        let storage = &state.storage;
        let item = match storage.get_product(self.owner, id).await? {
            None => None,
            Some(product) => {
                let mut sold = [product];
                as_sold_in(state, store, &mut sold).await?;
                let [product] = sold;
                let mut groups = Vec::with_capacity(product.modifier_group_ids.len());
                for group in &product.modifier_group_ids {
                    if let Some(found) = storage.get_modifier_group(self.owner, *group).await?
                        && found.status == Status::Active
                    {
                        groups.push(found);
                    }
                }
                let station = match (&product.station, product.category_id) {
                    (Some(station), _) => Some(station.to_string()),
                    (None, Some(category)) => storage
                        .get_category(self.owner, category)
                        .await?
                        .and_then(|c| c.station.map(|s| s.to_string())),
                    (None, None) => None,
                };
                Some(Arc::new(SaleItem {
                    product,
                    groups,
                    station,
                }))
            }
        };
        let mut items = lock(&self.items);
        if items.len() >= MAX_ITEMS {
            items.clear();
        }
        items.insert(id, item.clone());
        Ok(item)
    }

    /// Prices `inputs` (field names under `field`, e.g. `lines[2].quantity`); returns
    /// the lines and the rates they use, as snapshots.
    pub async fn price_lines(
        &self,
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
        let now = clock::now();
        let mut lines = Vec::with_capacity(inputs.len());
        for (i, (input, id)) in inputs.iter().zip(&wanted).enumerate() {
            let at = format!("{field}[{i}]");
            let Some(item) = self.item(state, store, *id).await? else {
                return Err(ValidationError::new(
                    format!("{at}.product_id"),
                    "unknown_product",
                    "no such product in this store's catalog",
                )
                .into());
            };
            let catalogued = Catalogued {
                product: &item.product,
                groups: &item.groups,
                rates: &self.rates,
                station: item.station.clone(),
            };
            lines.push(input.price(&at, &catalogued, OrderLineId::new(), by, now)?);
        }
        let used = self
            .rates
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
}
