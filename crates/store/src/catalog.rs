use crate::Result;
use crate::page::{Limit, Page};
use async_trait::async_trait;
use comanda_domain::catalog::inputs::SettingsPatch;
use comanda_domain::catalog::stock::{Movement, NewMovement, StockLevel};
use comanda_domain::catalog::{
    CatalogSettings, Category, CategoryDraft, ModifierGroup, ModifierGroupDraft, Product,
    ProductDraft, Status, TaxRate, TaxRateDraft,
};
use comanda_domain::{
    CategoryId, ModifierGroupId, ProductId, StockMovementId, StoreId, TaxRateId, UserId, VariantId,
};

/// Which products a list returns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProductFilter {
    /// `None`: active and archived.
    pub status: Option<Status>,
    pub category: Option<CategoryId>,
    /// A name prefix (case and accents ignored), or a whole SKU (as written or in upper
    /// case) or barcode, as a scanner or a cashier types it. Results then come in name
    /// order instead of creation order.
    pub search: Option<String>,
}

/// Everything a POS terminal needs to sell: the store's active catalog as of `revision`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MenuData {
    pub revision: i64,
    pub settings: CatalogSettings,
    pub tax_rates: Vec<TaxRate>,
    pub categories: Vec<Category>,
    pub modifier_groups: Vec<ModifierGroup>,
    pub products: Vec<Product>,
}

/// A catalog import, checked in full before anything is written. Products are matched
/// to existing ones by SKU and replaced, or else created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportPlan {
    /// Tax rates and modifier groups to create first, under ids the products may name.
    pub tax_rates: Vec<(TaxRateId, TaxRateDraft)>,
    pub modifier_groups: Vec<(ModifierGroupId, ModifierGroupDraft)>,
    /// Category paths (`["Drinks", "Beer"]`) to find or create, by index.
    pub category_paths: Vec<Vec<String>>,
    pub products: Vec<ImportProduct>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportProduct {
    /// Index into `category_paths`.
    pub category: Option<usize>,
    pub draft: ProductDraft,
    /// The file line of each variant, for error reports.
    pub lines: Vec<usize>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct ImportSummary {
    pub tax_rates_created: usize,
    pub modifier_groups_created: usize,
    pub categories_created: usize,
    pub products_created: usize,
    pub products_updated: usize,
    pub variants: usize,
}

#[async_trait]
pub trait CatalogRepo: Send + Sync {
    /// Grows with every change to the store's catalog; the menu's ETag.
    async fn catalog_revision(&self, store: StoreId) -> Result<i64>;

    /// The store's settings; `None` until first changed (defaults apply).
    async fn catalog_settings(&self, store: StoreId) -> Result<Option<CatalogSettings>>;

    /// Applies `patch` over the current settings (or `defaults` when none are stored yet,
    /// which is version 0).
    async fn update_catalog_settings(
        &self,
        store: StoreId,
        expected_version: i64,
        patch: &SettingsPatch,
        defaults: CatalogSettings,
    ) -> Result<CatalogSettings>;

    async fn create_tax_rate(&self, store: StoreId, draft: &TaxRateDraft) -> Result<TaxRate>;
    async fn get_tax_rate(&self, store: StoreId, id: TaxRateId) -> Result<Option<TaxRate>>;
    async fn list_tax_rates(&self, store: StoreId) -> Result<Vec<TaxRate>>;
    async fn update_tax_rate(
        &self,
        store: StoreId,
        id: TaxRateId,
        expected_version: i64,
        draft: &TaxRateDraft,
    ) -> Result<TaxRate>;
    /// Fails with `InUse` while an active product carries the rate.
    async fn archive_tax_rate(&self, store: StoreId, id: TaxRateId) -> Result<()>;

    /// Fails with `Invalid` (`parent_id`) for a parent in another store, a loop, or
    /// nesting too deep.
    async fn create_category(&self, store: StoreId, draft: &CategoryDraft) -> Result<Category>;
    async fn get_category(&self, store: StoreId, id: CategoryId) -> Result<Option<Category>>;
    /// Every category of the store, by position then name.
    async fn list_categories(&self, store: StoreId) -> Result<Vec<Category>>;
    async fn update_category(
        &self,
        store: StoreId,
        id: CategoryId,
        expected_version: i64,
        draft: &CategoryDraft,
    ) -> Result<Category>;
    /// Fails with `InUse` while it has subcategories or active products.
    async fn delete_category(&self, store: StoreId, id: CategoryId) -> Result<()>;

    async fn create_modifier_group(
        &self,
        store: StoreId,
        draft: &ModifierGroupDraft,
    ) -> Result<ModifierGroup>;
    async fn get_modifier_group(
        &self,
        store: StoreId,
        id: ModifierGroupId,
    ) -> Result<Option<ModifierGroup>>;
    async fn list_modifier_groups(
        &self,
        store: StoreId,
        status: Option<Status>,
        after: Option<ModifierGroupId>,
        limit: Limit,
    ) -> Result<Page<ModifierGroup, ModifierGroupId>>;
    /// Options sent with an id keep it; options left out are retired.
    async fn update_modifier_group(
        &self,
        store: StoreId,
        id: ModifierGroupId,
        expected_version: i64,
        draft: &ModifierGroupDraft,
    ) -> Result<ModifierGroup>;
    async fn archive_modifier_group(&self, store: StoreId, id: ModifierGroupId) -> Result<()>;

    /// Checks every reference (category, rates, groups in this store) and that no SKU or
    /// barcode is taken, failing with `Invalid` naming the field; writes nothing then.
    async fn create_product(&self, store: StoreId, draft: &ProductDraft) -> Result<Product>;
    async fn get_product(&self, store: StoreId, id: ProductId) -> Result<Option<Product>>;
    async fn list_products(
        &self,
        store: StoreId,
        filter: &ProductFilter,
        after: Option<ProductId>,
        limit: Limit,
    ) -> Result<Page<Product, ProductId>>;
    /// Variants sent with an id keep it (and their stock); variants left out are retired.
    async fn update_product(
        &self,
        store: StoreId,
        id: ProductId,
        expected_version: i64,
        draft: &ProductDraft,
    ) -> Result<Product>;
    async fn archive_product(&self, store: StoreId, id: ProductId) -> Result<()>;

    /// The active catalog, for the menu document.
    async fn menu(&self, store: StoreId) -> Result<MenuData>;

    /// Writes a checked import in one transaction: all of it or, on any failure, nothing.
    /// A SKU or barcode held by a product the import does not match fails with `Invalid`
    /// naming the line.
    async fn import_catalog(&self, store: StoreId, plan: &ImportPlan) -> Result<ImportSummary>;
}

/// Which stock levels a list returns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StockFilter {
    /// Only variants at or below their low-stock threshold.
    pub low_only: bool,
}

/// One line of a transfer between stores. The receiving store's variant is the one with
/// the same SKU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferLine {
    pub variant_id: VariantId,
    pub quantity: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transfer {
    pub from: StoreId,
    pub to: StoreId,
    pub lines: Vec<TransferLine>,
    pub reason: Option<String>,
    pub actor: Option<UserId>,
}

#[async_trait]
pub trait StockRepo: Send + Sync {
    /// Appends movements and updates on-hand quantities atomically. A sale that would
    /// take a product that may not be sold when out below zero fails with `OutOfStock`,
    /// and nothing is written.
    async fn record_movements(
        &self,
        store: StoreId,
        movements: &[NewMovement],
    ) -> Result<Vec<Movement>>;

    /// Moves stock out of one store and into another in one transaction; returns the
    /// movements (outgoing, then incoming).
    async fn transfer_stock(&self, transfer: &Transfer) -> Result<Vec<Movement>>;

    /// The variants with units another order may take (on hand less held above zero).
    async fn in_stock(&self, store: StoreId) -> Result<Vec<VariantId>>;

    async fn stock_levels(
        &self,
        store: StoreId,
        filter: StockFilter,
        after: Option<VariantId>,
        limit: Limit,
    ) -> Result<Page<StockLevel, VariantId>>;

    /// Sets (or clears) the low-stock threshold of a variant.
    async fn set_low_threshold(
        &self,
        store: StoreId,
        variant: VariantId,
        threshold: Option<i64>,
    ) -> Result<StockLevel>;

    /// The ledger, newest first, optionally of one variant.
    async fn stock_movements(
        &self,
        store: StoreId,
        variant: Option<VariantId>,
        before: Option<StockMovementId>,
        limit: Limit,
    ) -> Result<Page<Movement, StockMovementId>>;
}
