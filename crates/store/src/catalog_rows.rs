//! Catalog rows as both backends read them, and their assembly into domain records.

use crate::rows::{corrupt, corrupt_value};
use crate::{Result, StoreError};
use chrono::{DateTime, Utc};
use comanda_domain::catalog::stock::{Movement, MovementKind, StockLevel};
use comanda_domain::catalog::{
    Barcode, CatalogSettings, Category, ImageUrl, ItemName, ModifierGroup, ModifierOption, Product,
    Sku, StationCode, Status, TaxRate, Variant,
};
use comanda_domain::tax::Rate;
use comanda_domain::{
    CategoryId, Currency, ModifierGroupId, ModifierOptionId, Money, ProductId, StockMovementId,
    StoreId, TaxRateId, UserId, VariantId,
};
use std::collections::HashMap;
use std::str::FromStr;
use uuid::Uuid;

fn parsed<T: FromStr>(table: &'static str, column: &'static str, value: &str) -> Result<T> {
    value
        .parse()
        .map_err(|_| corrupt_value(table, column, value))
}

fn small<T: TryFrom<i64>>(table: &'static str, column: &'static str, value: i64) -> Result<T> {
    T::try_from(value).map_err(|_| corrupt_value(table, column, &value.to_string()))
}

fn name(table: &'static str, value: &str) -> Result<ItemName> {
    ItemName::parse("name", value).map_err(corrupt(table))
}

fn optional<T>(
    table: &'static str,
    value: Option<String>,
    parse: impl Fn(&str, &str) -> std::result::Result<T, comanda_domain::ValidationError>,
) -> Result<Option<T>> {
    value
        .map(|v| parse("value", &v).map_err(corrupt(table)))
        .transpose()
}

#[macro_export]
macro_rules! settings_columns {
    () => {
        "pricing, rounding_scope, rounding_mode, cash_increment, version"
    };
}

#[derive(Debug, sqlx::FromRow)]
pub struct SettingsRow {
    pub pricing: String,
    pub rounding_scope: String,
    pub rounding_mode: String,
    pub cash_increment: i64,
    pub version: i64,
}

impl TryFrom<SettingsRow> for CatalogSettings {
    type Error = StoreError;

    fn try_from(row: SettingsRow) -> Result<Self> {
        const T: &str = "catalog_settings";
        Ok(CatalogSettings {
            pricing: parsed(T, "pricing", &row.pricing)?,
            rounding_scope: parsed(T, "rounding_scope", &row.rounding_scope)?,
            rounding_mode: parsed(T, "rounding_mode", &row.rounding_mode)?,
            cash_increment: row.cash_increment,
            version: row.version,
        })
    }
}

#[macro_export]
macro_rules! tax_rate_columns {
    () => {
        "id, store_id, name, kind, rate, compound, is_default, status, version, created_at, updated_at"
    };
}

#[derive(Debug, sqlx::FromRow)]
pub struct TaxRateRow {
    pub id: Uuid,
    pub store_id: Uuid,
    pub name: String,
    pub kind: String,
    pub rate: i64,
    pub compound: bool,
    pub is_default: bool,
    pub status: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<TaxRateRow> for TaxRate {
    type Error = StoreError;

    fn try_from(row: TaxRateRow) -> Result<Self> {
        const T: &str = "tax_rates";
        let units: u32 = small(T, "rate", row.rate)?;
        Ok(TaxRate {
            id: TaxRateId::from_uuid(row.id),
            store_id: StoreId::from_uuid(row.store_id),
            name: name(T, &row.name)?,
            kind: parsed(T, "kind", &row.kind)?,
            rate: Rate::from_units(units)
                .ok_or_else(|| corrupt_value(T, "rate", &units.to_string()))?,
            compound: row.compound,
            default: row.is_default,
            status: parsed(T, "status", &row.status)?,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[macro_export]
macro_rules! category_columns {
    () => {
        "id, store_id, parent_id, name, position, station, image_url, version, created_at, updated_at"
    };
}

#[derive(Debug, sqlx::FromRow)]
pub struct CategoryRow {
    pub id: Uuid,
    pub store_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub name: String,
    pub position: i64,
    pub station: Option<String>,
    pub image_url: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<CategoryRow> for Category {
    type Error = StoreError;

    fn try_from(row: CategoryRow) -> Result<Self> {
        const T: &str = "categories";
        Ok(Category {
            id: CategoryId::from_uuid(row.id),
            store_id: StoreId::from_uuid(row.store_id),
            parent_id: row.parent_id.map(CategoryId::from_uuid),
            name: name(T, &row.name)?,
            position: small(T, "position", row.position)?,
            station: optional(T, row.station, StationCode::parse)?,
            image_url: optional(T, row.image_url, ImageUrl::parse)?,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[macro_export]
macro_rules! product_columns {
    () => {
        "id, store_id, category_id, name, name_key, description, image_url, station, age_restricted, track_stock, \
         sell_when_out, available, status, position, tax_rate_list, modifier_group_list, version, created_at, updated_at"
    };
}

#[derive(Debug, sqlx::FromRow)]
pub struct ProductRow {
    pub id: Uuid,
    pub store_id: Uuid,
    pub category_id: Option<Uuid>,
    pub name: String,
    pub name_key: String,
    pub description: Option<String>,
    pub image_url: Option<String>,
    pub station: Option<String>,
    pub age_restricted: Option<i64>,
    pub track_stock: bool,
    pub sell_when_out: bool,
    pub available: bool,
    pub status: String,
    pub position: i64,
    pub tax_rate_list: Option<String>,
    pub modifier_group_list: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[macro_export]
macro_rules! variant_columns {
    () => {
        "id, product_id, name, sku, barcode, price, position"
    };
}

#[derive(Debug, sqlx::FromRow)]
pub struct VariantRow {
    pub id: Uuid,
    pub product_id: Uuid,
    pub name: Option<String>,
    pub sku: Option<String>,
    pub barcode: Option<String>,
    pub price: i64,
    pub position: i64,
}

impl VariantRow {
    pub fn into_variant(self, currency: Currency) -> Result<Variant> {
        const T: &str = "product_variants";
        Ok(Variant {
            id: VariantId::from_uuid(self.id),
            name: optional(T, self.name, ItemName::parse)?,
            sku: optional(T, self.sku, Sku::parse)?,
            barcode: optional(T, self.barcode, Barcode::parse)?,
            price: Money::new(self.price, currency),
        })
    }
}

/// Ids as a product row keeps its links: comma-separated, in order.
pub fn id_list<I: std::fmt::Display>(ids: &[I]) -> String {
    ids.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_id_list<T>(column: &'static str, text: &str, make: fn(Uuid) -> T) -> Result<Vec<T>> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            Uuid::parse_str(s)
                .map(make)
                .map_err(|_| corrupt_value("products", column, s))
        })
        .collect()
}

/// The variants of products, by product.
#[derive(Default)]
pub struct ProductParts {
    pub variants: HashMap<Uuid, Vec<Variant>>,
}

impl ProductParts {
    pub fn add_variants(&mut self, rows: Vec<VariantRow>, currency: Currency) -> Result<()> {
        for row in rows {
            let product = row.product_id;
            self.variants
                .entry(product)
                .or_default()
                .push(row.into_variant(currency)?);
        }
        Ok(())
    }

    pub fn assemble(&mut self, row: ProductRow) -> Result<Product> {
        const T: &str = "products";
        let tax_rate_ids = row
            .tax_rate_list
            .as_deref()
            .map(|list| parse_id_list("tax_rate_list", list, TaxRateId::from_uuid))
            .transpose()?;
        Ok(Product {
            id: ProductId::from_uuid(row.id),
            store_id: StoreId::from_uuid(row.store_id),
            category_id: row.category_id.map(CategoryId::from_uuid),
            name: name(T, &row.name)?,
            description: row.description,
            image_url: optional(T, row.image_url, ImageUrl::parse)?,
            station: optional(T, row.station, StationCode::parse)?,
            age_restricted: row
                .age_restricted
                .map(|a| small(T, "age_restricted", a))
                .transpose()?,
            track_stock: row.track_stock,
            sell_when_out: row.sell_when_out,
            available: row.available,
            status: parsed(T, "status", &row.status)?,
            position: small(T, "position", row.position)?,
            tax_rate_ids,
            modifier_group_ids: parse_id_list(
                "modifier_group_list",
                &row.modifier_group_list,
                ModifierGroupId::from_uuid,
            )?,
            variants: self.variants.remove(&row.id).unwrap_or_default(),
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[macro_export]
macro_rules! group_columns {
    () => {
        "id, store_id, name, min_choices, max_choices, pricing, status, version, created_at, updated_at"
    };
}

#[derive(Debug, sqlx::FromRow)]
pub struct GroupRow {
    pub id: Uuid,
    pub store_id: Uuid,
    pub name: String,
    pub min_choices: i64,
    pub max_choices: i64,
    pub pricing: String,
    pub status: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[macro_export]
macro_rules! option_columns {
    () => {
        "id, group_id, name, price_delta, is_default"
    };
}

#[derive(Debug, sqlx::FromRow)]
pub struct OptionRow {
    pub id: Uuid,
    pub group_id: Uuid,
    pub name: String,
    pub price_delta: i64,
    pub is_default: bool,
}

/// Groups with their current options.
pub fn assemble_groups(
    rows: Vec<GroupRow>,
    options: Vec<OptionRow>,
    currency: Currency,
) -> Result<Vec<ModifierGroup>> {
    const T: &str = "modifier_groups";
    let mut by_group: HashMap<Uuid, Vec<ModifierOption>> = HashMap::new();
    for o in options {
        by_group
            .entry(o.group_id)
            .or_default()
            .push(ModifierOption {
                id: ModifierOptionId::from_uuid(o.id),
                name: name("modifier_options", &o.name)?,
                price_delta: Money::new(o.price_delta, currency),
                default: o.is_default,
            });
    }
    rows.into_iter()
        .map(|row| {
            Ok(ModifierGroup {
                id: ModifierGroupId::from_uuid(row.id),
                store_id: StoreId::from_uuid(row.store_id),
                name: name(T, &row.name)?,
                min_choices: small(T, "min_choices", row.min_choices)?,
                max_choices: small(T, "max_choices", row.max_choices)?,
                pricing: parsed(T, "pricing", &row.pricing)?,
                status: parsed::<Status>(T, "status", &row.status)?,
                options: by_group.remove(&row.id).unwrap_or_default(),
                version: row.version,
                created_at: row.created_at,
                updated_at: row.updated_at,
            })
        })
        .collect()
}

#[macro_export]
macro_rules! stock_level_columns {
    () => {
        "store_id, product_id, variant_id, on_hand, held, low_threshold, updated_at"
    };
}

#[derive(Debug, sqlx::FromRow)]
pub struct StockLevelRow {
    pub store_id: Uuid,
    pub product_id: Uuid,
    pub variant_id: Uuid,
    pub on_hand: i64,
    pub held: i64,
    pub low_threshold: Option<i64>,
    pub updated_at: DateTime<Utc>,
}

impl From<StockLevelRow> for StockLevel {
    fn from(row: StockLevelRow) -> Self {
        StockLevel {
            store_id: StoreId::from_uuid(row.store_id),
            product_id: ProductId::from_uuid(row.product_id),
            variant_id: VariantId::from_uuid(row.variant_id),
            on_hand: row.on_hand,
            held: row.held,
            available: row.on_hand.saturating_sub(row.held),
            low_threshold: row.low_threshold,
            updated_at: row.updated_at,
        }
    }
}

#[macro_export]
macro_rules! movement_columns {
    () => {
        "id, store_id, variant_id, kind, quantity, on_hand_after, reason, reference, actor_id, created_at"
    };
}

#[derive(Debug, sqlx::FromRow)]
pub struct MovementRow {
    pub id: Uuid,
    pub store_id: Uuid,
    pub variant_id: Uuid,
    pub kind: String,
    pub quantity: i64,
    pub on_hand_after: i64,
    pub reason: Option<String>,
    pub reference: Option<String>,
    pub actor_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<MovementRow> for Movement {
    type Error = StoreError;

    fn try_from(row: MovementRow) -> Result<Self> {
        Ok(Movement {
            id: StockMovementId::from_uuid(row.id),
            store_id: StoreId::from_uuid(row.store_id),
            variant_id: VariantId::from_uuid(row.variant_id),
            kind: parsed::<MovementKind>("stock_movements", "kind", &row.kind)?,
            quantity: row.quantity,
            on_hand_after: row.on_hand_after,
            reason: row.reason,
            reference: row.reference,
            actor: row.actor_id.map(UserId::from_uuid),
            created_at: row.created_at,
        })
    }
}
