//! The menu document: everything a POS terminal needs to sell, in one compact download,
//! tagged with the catalog revision so an unchanged menu costs a 304.
//!
//! Building it for a large catalog takes a while (100,000 products), so each store's
//! latest document is kept in memory as ready-to-send bytes, plain and gzipped. The
//! revision is read from the database on every request, so a change made through any
//! instance is seen at once; only the bytes are cached. What is sold out changes with
//! every sale, so it is read on every request too and added to the kept bytes (see
//! [`crate::menu_tail`]).

use crate::error::ApiError;
use crate::menu_tail::OpenDocument;
use crate::state::AppState;
use bytes::Bytes;
use comanda_domain::catalog::{Category, ModifierPricing, Product, TaxRate};
use comanda_domain::rounding::RoundingMode;
use comanda_domain::tax::{Pricing, RoundingScope, TaxKind};
use comanda_domain::{CategoryId, Currency, ModifierGroupId, StoreId, TaxRateId, VariantId};
use comanda_store::{MenuData, Storage};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// The menu of one store at one revision, ready to send but for its last member,
/// `sold_out`, which changes with every sale and is added when it is sent.
pub struct CachedMenu {
    pub revision: i64,
    document: OpenDocument,
    /// The variants whose stock may not go below zero (the ones that can sell out), with
    /// their ids as text, sorted by it: each request only picks from them.
    counted: Vec<(VariantId, String)>,
}

impl CachedMenu {
    /// Of the variants that can sell out, those that have: `in_stock` lists the ones
    /// with units left. Sorted, so that the same stock gives the same ETag.
    pub fn sold_out(&self, in_stock: &HashSet<VariantId>) -> Vec<&str> {
        self.counted
            .iter()
            .filter(|(v, _)| !in_stock.contains(v))
            .map(|(_, id)| id.as_str())
            .collect()
    }

    /// Whether any variant of the menu can sell out (else stock need not be read).
    pub fn counts_stock(&self) -> bool {
        !self.counted.is_empty()
    }

    /// The document with `sold_out`, plain or gzipped.
    pub fn body(&self, sold_out: &[&str], gzip: bool) -> Result<Bytes, ApiError> {
        let mut tail = b",\"sold_out\":".to_vec();
        serde_json::to_writer(&mut tail, sold_out).map_err(|e| {
            tracing::error!(error = %e, "menu serialisation failed");
            ApiError::internal()
        })?;
        tail.push(b'}');
        self.document.finish(&tail, gzip).map_err(|e| {
            tracing::error!(error = %e, "menu compression failed");
            ApiError::internal()
        })
    }
}

/// The ETag of a revision with what is sold out (a strong validator: the same revision
/// and the same variants sold out are the same bytes).
pub fn etag(revision: i64, sold_out: &[&str]) -> String {
    if sold_out.is_empty() {
        return format!("\"menu-{revision}\"");
    }
    let mut crc = crc32fast::Hasher::new();
    for id in sold_out {
        crc.update(id.as_bytes());
    }
    format!("\"menu-{revision}-{:08x}\"", crc.finalize())
}

#[derive(Default)]
pub struct MenuCache {
    menus: Mutex<HashMap<StoreId, Arc<CachedMenu>>>,
    /// One builder per store at a time: a terminal fleet starting together builds once.
    builders: Mutex<HashMap<StoreId, Arc<tokio::sync::Mutex<()>>>>,
    /// Stores with a rebuild queued and not yet started.
    queued: Mutex<HashSet<StoreId>>,
}

impl MenuCache {
    fn cached(&self, store: StoreId, revision: i64) -> Option<Arc<CachedMenu>> {
        let menus = self.menus.lock().unwrap_or_else(|e| e.into_inner());
        menus
            .get(&store)
            .filter(|m| m.revision >= revision)
            .cloned()
    }

    fn builder(&self, store: StoreId) -> Arc<tokio::sync::Mutex<()>> {
        let mut builders = self.builders.lock().unwrap_or_else(|e| e.into_inner());
        builders.entry(store).or_default().clone()
    }

    /// After a change, rebuilds a menu this instance has served, in the background, so
    /// terminals asking next find it ready. A burst of changes queues one rebuild.
    pub fn refresh_soon(state: &AppState, store: StoreId) {
        let known = lock(&state.menus.menus).contains_key(&store);
        if !known || !lock(&state.menus.queued).insert(store) {
            return;
        }
        let state = state.clone();
        tokio::spawn(async move {
            // Wait out a build in progress; changes from here on queue another rebuild.
            let building = state.menus.builder(store).lock_owned().await;
            lock(&state.menus.queued).remove(&store);
            drop(building);
            let rebuilt = async {
                let currency = state
                    .storage
                    .get_store(store)
                    .await?
                    .ok_or(comanda_store::StoreError::NotFound { entity: "store" })?
                    .currency;
                let revision = state.storage.catalog_revision(store).await?;
                Ok::<_, ApiError>((currency, revision))
            }
            .await;
            if let Ok((currency, revision)) = rebuilt {
                let _ = state
                    .menus
                    .get(&state.storage, store, currency, revision)
                    .await;
            }
        });
    }

    /// The menu at `revision` or newer, from memory or built now.
    pub async fn get(
        &self,
        storage: &Arc<dyn Storage>,
        store: StoreId,
        currency: Currency,
        revision: i64,
    ) -> Result<Arc<CachedMenu>, ApiError> {
        if let Some(menu) = self.cached(store, revision) {
            return Ok(menu);
        }
        let builder = self.builder(store);
        let _building = builder.lock().await;
        if let Some(menu) = self.cached(store, revision) {
            return Ok(menu);
        }
        let data = storage.menu(store).await?;
        let built = tokio::task::spawn_blocking(move || render(store, currency, &data))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "menu rendering failed");
                ApiError::internal()
            })??;
        let menu = Arc::new(built);
        let mut menus = lock(&self.menus);
        let newest = menus
            .get(&store)
            .is_none_or(|m| m.revision <= menu.revision);
        if newest {
            menus.insert(store, menu.clone());
        }
        Ok(menu)
    }
}

/// A poisoned lock only means a panic elsewhere; the maps stay usable.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn render(store: StoreId, currency: Currency, data: &MenuData) -> Result<CachedMenu, ApiError> {
    let document = MenuDocument::new(store, currency, data);
    let json = serde_json::to_vec(&document).map_err(|e| {
        tracing::error!(error = %e, "menu serialisation failed");
        ApiError::internal()
    })?;
    // Tablets on shop Wi-Fi gain far more from the gzip than it costs to make once.
    let document = OpenDocument::new(&json).map_err(|e| {
        tracing::error!(error = %e, "menu compression failed");
        ApiError::internal()
    })?;
    let mut counted: Vec<(VariantId, String)> = data
        .products
        .iter()
        .filter(|p| p.track_stock && !p.sell_when_out)
        .flat_map(|p| p.variants.iter().map(|v| (v.id, v.id.to_string())))
        .collect();
    counted.sort_unstable_by(|a, b| a.1.cmp(&b.1));
    Ok(CachedMenu {
        revision: data.revision,
        document,
        counted,
    })
}

#[derive(Serialize, schemars::JsonSchema)]
struct MenuDocument<'a> {
    store_id: StoreId,
    revision: i64,
    currency: Currency,
    settings: MenuSettings,
    tax_rates: Vec<MenuTaxRate<'a>>,
    categories: Vec<MenuCategory<'a>>,
    modifier_groups: Vec<MenuGroup<'a>>,
    products: Vec<MenuProduct<'a>>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct MenuSettings {
    pricing: Pricing,
    rounding_scope: RoundingScope,
    rounding_mode: RoundingMode,
    cash_increment: i64,
}

#[derive(Serialize, schemars::JsonSchema)]
struct MenuTaxRate<'a> {
    id: String,
    name: &'a str,
    kind: TaxKind,
    rate: String,
    compound: bool,
    default: bool,
}

/// Products, categories and groups refer to each other by position in these arrays
/// rather than by id: it halves the size of a large menu.
#[derive(Serialize, schemars::JsonSchema)]
struct MenuCategory<'a> {
    id: CategoryId,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent: Option<usize>,
    name: &'a str,
    position: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_url: Option<&'a str>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct MenuGroup<'a> {
    id: String,
    name: &'a str,
    min: u16,
    max: u16,
    pricing: ModifierPricing,
    options: Vec<MenuOption<'a>>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct MenuOption<'a> {
    id: String,
    name: &'a str,
    /// Minor units of the menu's currency.
    price: i64,
    // Left out when false (`default` only says the schema need not list it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    default: bool,
}

/// Products carry what applies to them already resolved (station from the category,
/// default tax rates), so a terminal needs no rules of its own.
#[derive(Serialize, schemars::JsonSchema)]
struct MenuProduct<'a> {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    category: Option<usize>,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    station: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    age_restricted: Option<u8>,
    available: bool,
    track_stock: bool,
    sell_when_out: bool,
    tax_rates: Vec<usize>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    modifier_groups: Vec<usize>,
    variants: Vec<MenuVariant<'a>>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct MenuVariant<'a> {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sku: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    barcode: Option<&'a str>,
    price: i64,
}

/// Where each record sits in the document's arrays.
struct Positions {
    categories: HashMap<CategoryId, usize>,
    tax_rates: HashMap<TaxRateId, usize>,
    groups: HashMap<ModifierGroupId, usize>,
    default_rates: Vec<usize>,
}

impl<'a> MenuDocument<'a> {
    fn new(store: StoreId, currency: Currency, data: &'a MenuData) -> Self {
        let stations = category_stations(&data.categories);
        let positions = Positions {
            categories: data
                .categories
                .iter()
                .enumerate()
                .map(|(i, c)| (c.id, i))
                .collect(),
            tax_rates: data
                .tax_rates
                .iter()
                .enumerate()
                .map(|(i, r)| (r.id, i))
                .collect(),
            groups: data
                .modifier_groups
                .iter()
                .enumerate()
                .map(|(i, g)| (g.id, i))
                .collect(),
            default_rates: data
                .tax_rates
                .iter()
                .enumerate()
                .filter(|(_, r)| r.default)
                .map(|(i, _)| i)
                .collect(),
        };
        MenuDocument {
            store_id: store,
            revision: data.revision,
            currency,
            settings: MenuSettings {
                pricing: data.settings.pricing,
                rounding_scope: data.settings.rounding_scope,
                rounding_mode: data.settings.rounding_mode,
                cash_increment: data.settings.cash_increment,
            },
            tax_rates: data.tax_rates.iter().map(MenuTaxRate::from).collect(),
            categories: data
                .categories
                .iter()
                .map(|c| MenuCategory {
                    id: c.id,
                    parent: c
                        .parent_id
                        .and_then(|p| positions.categories.get(&p).copied()),
                    name: c.name.as_str(),
                    position: c.position,
                    image_url: c.image_url.as_ref().map(|u| u.as_str()),
                })
                .collect(),
            modifier_groups: data
                .modifier_groups
                .iter()
                .map(|g| MenuGroup {
                    id: g.id.to_string(),
                    name: g.name.as_str(),
                    min: g.min_choices,
                    max: g.max_choices,
                    pricing: g.pricing,
                    options: g
                        .options
                        .iter()
                        .map(|o| MenuOption {
                            id: o.id.to_string(),
                            name: o.name.as_str(),
                            price: o.price_delta.amount,
                            default: o.default,
                        })
                        .collect(),
                })
                .collect(),
            products: data
                .products
                .iter()
                .map(|p| MenuProduct::new(p, &stations, &positions))
                .collect(),
        }
    }
}

impl<'a> From<&'a TaxRate> for MenuTaxRate<'a> {
    fn from(r: &'a TaxRate) -> Self {
        MenuTaxRate {
            id: r.id.to_string(),
            name: r.name.as_str(),
            kind: r.kind,
            rate: r.rate.to_string(),
            compound: r.compound,
            default: r.default,
        }
    }
}

impl<'a> MenuProduct<'a> {
    fn new(p: &'a Product, stations: &HashMap<CategoryId, &'a str>, at: &Positions) -> Self {
        MenuProduct {
            id: p.id.to_string(),
            category: p.category_id.and_then(|c| at.categories.get(&c).copied()),
            name: p.name.as_str(),
            description: p.description.as_deref(),
            image_url: p.image_url.as_ref().map(|u| u.as_str()),
            station: p
                .station
                .as_ref()
                .map(|s| s.as_str())
                .or_else(|| p.category_id.and_then(|c| stations.get(&c).copied())),
            age_restricted: p.age_restricted,
            available: p.available,
            track_stock: p.track_stock,
            sell_when_out: p.sell_when_out,
            // Archived rates and groups are not in the menu, so they drop out here.
            tax_rates: match &p.tax_rate_ids {
                None => at.default_rates.clone(),
                Some(ids) => ids
                    .iter()
                    .filter_map(|id| at.tax_rates.get(id).copied())
                    .collect(),
            },
            modifier_groups: p
                .modifier_group_ids
                .iter()
                .filter_map(|id| at.groups.get(id).copied())
                .collect(),
            variants: p
                .variants
                .iter()
                .map(|v| MenuVariant {
                    id: v.id.to_string(),
                    name: v.name.as_ref().map(|n| n.as_str()),
                    sku: v.sku.as_ref().map(|s| s.as_str()),
                    barcode: v.barcode.as_ref().map(|b| b.as_str()),
                    price: v.price.amount,
                })
                .collect(),
        }
    }
}

/// The station each category hands to its products: its own, else its nearest
/// ancestor's.
pub fn category_stations(categories: &[Category]) -> HashMap<CategoryId, &str> {
    let by_id: HashMap<CategoryId, &Category> = categories.iter().map(|c| (c.id, c)).collect();
    let mut stations = HashMap::new();
    for category in categories {
        let mut cursor = Some(category);
        // Bounded by the nesting limit; the guard also stops on a corrupt loop.
        for _ in 0..=comanda_domain::catalog::MAX_CATEGORY_DEPTH {
            let Some(current) = cursor else { break };
            if let Some(station) = &current.station {
                stations.insert(category.id, station.as_str());
                break;
            }
            cursor = current.parent_id.and_then(|p| by_id.get(&p).copied());
        }
    }
    stations
}

/// The menu as sent: the document and, last, the variants sold out now.
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
struct MenuAnswer<'a> {
    #[serde(flatten)]
    document: MenuDocument<'a>,
    /// Variants that count their stock and have none left.
    sold_out: Vec<VariantId>,
}

/// The document's word for `GET .../catalog/menu`: the menu, or 304 when the terminal's
/// copy (`If-None-Match`) is current.
pub fn describe(
    mut op: aide::transform::TransformOperation<'_>,
) -> aide::transform::TransformOperation<'_> {
    crate::contract::answer_json::<MenuAnswer<'static>>(
        op.inner_mut(),
        200,
        "The menu, with `ETag`; gzipped when the terminal accepts it",
    );
    crate::contract::answer(op.inner_mut(), 304, "The terminal's copy is current", &[]);
    crate::contract::revalidated(op.inner_mut());
    op
}
