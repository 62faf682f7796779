//! A store's whole catalog as one JSON file that another store, here or on another
//! installation, imports as it is. The CSV names tax rates and modifier groups, which
//! must then exist where it is imported; the bundle carries their definitions with the
//! products (as the same CSV). On import each rate and group is matched by name: one the
//! receiving store has is used as it is, one it lacks is created, in the same
//! transaction as the products, and the summary says how many were created.

use crate::catalog_csv::{ImportContext, ImportError, RowError, all_groups, export_file, parse};
use comanda_domain::catalog::inputs::{ModifierGroupInput, TaxRateInput};
use comanda_domain::catalog::{
    ModifierGroup, ModifierGroupDraft, ModifierOption, Status, TaxRate, TaxRateDraft, search_key,
};
use comanda_domain::{ModifierGroupId, ModifierOptionId, StoreId, TaxRateId, clock};
use comanda_store::{ImportSummary, Storage, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// What the file says it is; another value is refused rather than half understood.
pub const FORMAT: &str = "comanda-catalog/1";

#[derive(Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct Bundle {
    format: String,
    /// As `POST .../catalog/tax-rates` takes them.
    tax_rates: Vec<Value>,
    /// As `POST .../catalog/modifier-groups` takes them.
    modifier_groups: Vec<Value>,
    /// The products, as the CSV export writes them.
    products: String,
}

/// The catalog of `store` (the one it sells from) as a bundle.
pub async fn export_bundle(storage: &dyn Storage, store: StoreId) -> Result<Vec<u8>, StoreError> {
    let products = String::from_utf8(export_file(storage, store).await?)
        .map_err(|e| StoreError::Internal(format!("the CSV is not text: {e}")))?;
    let tax_rates = storage
        .list_tax_rates(store)
        .await?
        .iter()
        .filter(|r| r.status == Status::Active)
        .map(|r| {
            json!({ "name": r.name, "kind": r.kind.as_str(), "rate": r.rate.to_string(),
                    "compound": r.compound, "default": r.default })
        })
        .collect();
    let modifier_groups = all_groups(storage, store, Some(Status::Active))
        .await?
        .iter()
        .map(|g| {
            let options: Vec<Value> = g
                .options
                .iter()
                .map(|o| json!({ "name": o.name, "price_delta": o.price_delta, "default": o.default }))
                .collect();
            json!({ "name": g.name, "min_choices": g.min_choices, "max_choices": g.max_choices,
                    "pricing": g.pricing, "options": options })
        })
        .collect();
    let bundle = Bundle {
        format: FORMAT.to_owned(),
        tax_rates,
        modifier_groups,
        products,
    };
    serde_json::to_vec_pretty(&bundle).map_err(|e| StoreError::Internal(e.to_string()))
}

/// Checks a bundle in full and writes it into `store`'s catalog: all of it or nothing.
/// A rate marked default in the file is created as a default only in a store that has
/// no default rate: elsewhere it would start taxing the store's own products.
pub async fn import_bundle(
    storage: &dyn Storage,
    store: StoreId,
    data: &[u8],
) -> Result<ImportSummary, ImportError> {
    let refuse = |column: String, code: &'static str, message: String| {
        ImportError::Rejected(vec![RowError {
            line: 0,
            column,
            code,
            message,
        }])
    };
    let bundle: Bundle =
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(data))
            .map_err(|e| refuse(e.path().to_string(), "invalid_json", e.inner().to_string()))?;
    if bundle.format != FORMAT {
        return Err(refuse(
            "format".into(),
            "unknown_format",
            format!("this server reads {FORMAT:?} files"),
        ));
    }
    let currency = storage
        .get_store(store)
        .await?
        .ok_or(StoreError::NotFound { entity: "store" })?
        .currency;
    let mut rates: Vec<TaxRate> = storage
        .list_tax_rates(store)
        .await?
        .into_iter()
        .filter(|r| r.status == Status::Active)
        .collect();
    let mut groups = all_groups(storage, store, Some(Status::Active)).await?;
    let store_has_default = rates.iter().any(|r| r.default);
    let mut new_rates: Vec<(TaxRateId, TaxRateDraft)> = Vec::new();
    for (i, value) in bundle.tax_rates.into_iter().enumerate() {
        let at = |field: &str| format!("tax_rates[{i}].{field}");
        let input: TaxRateInput = serde_json::from_value(value)
            .map_err(|e| refuse(format!("tax_rates[{i}]"), "invalid", e.to_string()))?;
        let mut draft = input
            .parse()
            .map_err(|e| refuse(at(&e.field), e.code, e.message))?;
        if rates
            .iter()
            .any(|r| search_key(r.name.as_str()) == search_key(draft.name.as_str()))
        {
            continue;
        }
        draft.default &= !store_has_default;
        let id = TaxRateId::new();
        rates.push(rate_to_be(store, id, &draft));
        new_rates.push((id, draft));
    }
    let mut new_groups: Vec<(ModifierGroupId, ModifierGroupDraft)> = Vec::new();
    for (i, value) in bundle.modifier_groups.into_iter().enumerate() {
        let at = |field: &str| format!("modifier_groups[{i}].{field}");
        let input: ModifierGroupInput = serde_json::from_value(value)
            .map_err(|e| refuse(format!("modifier_groups[{i}]"), "invalid", e.to_string()))?;
        let draft = input
            .parse(currency)
            .map_err(|e| refuse(at(&e.field), e.code, e.message))?;
        if groups
            .iter()
            .any(|g| search_key(g.name.as_str()) == search_key(draft.name.as_str()))
        {
            continue;
        }
        let id = ModifierGroupId::new();
        groups.push(group_to_be(store, id, &draft));
        new_groups.push((id, draft));
    }
    let ctx = ImportContext {
        currency,
        tax_rates: &rates,
        modifier_groups: &groups,
    };
    let mut plan = parse(bundle.products.as_bytes(), &ctx).map_err(ImportError::Rejected)?;
    plan.tax_rates = new_rates;
    plan.modifier_groups = new_groups;
    Ok(storage.import_catalog(store, &plan).await?)
}

/// A rate as it will be once the import writes it, for the products' names to find.
fn rate_to_be(store: StoreId, id: TaxRateId, draft: &TaxRateDraft) -> TaxRate {
    let now = clock::now();
    TaxRate {
        id,
        store_id: store,
        name: draft.name.clone(),
        kind: draft.kind,
        rate: draft.rate,
        compound: draft.compound,
        default: draft.default,
        status: Status::Active,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

fn group_to_be(store: StoreId, id: ModifierGroupId, draft: &ModifierGroupDraft) -> ModifierGroup {
    let now = clock::now();
    ModifierGroup {
        id,
        store_id: store,
        name: draft.name.clone(),
        min_choices: draft.min_choices,
        max_choices: draft.max_choices,
        pricing: draft.pricing,
        status: Status::Active,
        options: draft
            .options
            .iter()
            .map(|o| ModifierOption {
                id: o.id.unwrap_or_else(ModifierOptionId::new),
                name: o.name.clone(),
                price_delta: o.price_delta,
                default: o.default,
            })
            .collect(),
        version: 1,
        created_at: now,
        updated_at: now,
    }
}
