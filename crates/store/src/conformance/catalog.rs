//! Conformance checks for the catalog and the stock ledger.

use crate::{
    ImportPlan, ImportProduct, Limit, ProductFilter, StockFilter, Storage, StoreError, Transfer,
    TransferLine,
};
use comanda_domain::catalog::inputs::{
    CategoryInput, ModifierGroupInput, ProductInput, SettingsPatch, TaxRateInput,
};
use comanda_domain::catalog::stock::{MovementKind, NewMovement};
use comanda_domain::catalog::{CatalogSettings, CategoryDraft, ProductDraft, Status};
use comanda_domain::tax::{Pricing, RoundingScope};
use comanda_domain::{Currency, NewStore, ProductId, StoreId};
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) async fn store(db: &Arc<dyn Storage>, code: &str) -> StoreId {
    let new = NewStore::parse(code, code, "BRL", "America/Sao_Paulo", "pt-BR").expect("store");
    db.create_store(&new).await.expect("create store").id
}

pub(super) fn brl(amount: i64) -> Value {
    json!({ "amount": amount, "currency": "BRL" })
}

pub(super) fn product(body: Value) -> ProductDraft {
    serde_json::from_value::<ProductInput>(body)
        .expect("shape")
        .parse(Currency::Brl)
        .expect("valid product")
}

fn category(name: &str, parent: Option<String>) -> CategoryDraft {
    CategoryInput {
        name: name.into(),
        parent_id: parent,
        ..CategoryInput::default()
    }
    .parse()
    .expect("valid category")
}

fn invalid_field(result: Result<impl std::fmt::Debug, StoreError>) -> (String, &'static str) {
    match result {
        Err(StoreError::Invalid(e)) => (e.field, e.code),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

pub async fn catalog_settings_start_from_defaults_and_check_the_version(db: Arc<dyn Storage>) {
    let s = store(&db, "ajustes").await;
    assert_eq!(db.catalog_settings(s).await.expect("read"), None);
    let defaults = CatalogSettings::defaults_for(Currency::Brl);
    let patch = SettingsPatch {
        pricing: Some(Pricing::TaxInclusive),
        rounding_scope: Some(RoundingScope::Order),
        ..SettingsPatch::default()
    };
    let before = db.catalog_revision(s).await.expect("revision");
    let saved = db
        .update_catalog_settings(s, 0, &patch, defaults)
        .await
        .expect("first change");
    assert_eq!(
        (saved.pricing, saved.rounding_scope, saved.version),
        (Pricing::TaxInclusive, RoundingScope::Order, 1)
    );
    assert_eq!(db.catalog_settings(s).await.expect("read"), Some(saved));
    assert!(db.catalog_revision(s).await.expect("revision") > before);
    let stale = db.update_catalog_settings(s, 0, &patch, defaults).await;
    assert!(
        matches!(stale, Err(StoreError::VersionMismatch { current: 1, .. })),
        "{stale:?}"
    );
}

pub async fn tax_rates_round_trip_and_stay_while_products_use_them(db: Arc<dyn Storage>) {
    let s = store(&db, "impostos").await;
    let draft = serde_json::from_value::<TaxRateInput>(
        json!({ "name": "ICMS", "rate": "18", "default": true }),
    )
    .expect("shape")
    .parse()
    .expect("valid");
    let rate = db.create_tax_rate(s, &draft).await.expect("create");
    assert_eq!(
        (rate.rate.units(), rate.default, rate.version),
        (180_000, true, 1)
    );
    assert_eq!(
        db.list_tax_rates(s).await.expect("list"),
        vec![rate.clone()]
    );
    let p = db
        .create_product(s, &product(json!({ "name": "Pastel", "tax_rate_ids": [rate.id.to_string()], "variants": [{ "price": brl(800) }] })))
        .await
        .expect("product");
    assert!(matches!(
        db.archive_tax_rate(s, rate.id).await,
        Err(StoreError::InUse { .. })
    ));
    db.archive_product(s, p.id).await.expect("archive product");
    db.archive_tax_rate(s, rate.id).await.expect("archive rate");
    let archived = db
        .get_tax_rate(s, rate.id)
        .await
        .expect("get")
        .expect("kept");
    assert_eq!((archived.status, archived.version), (Status::Archived, 2));
    let other = store(&db, "outra-loja").await;
    assert_eq!(db.get_tax_rate(other, rate.id).await.expect("get"), None);
}

pub async fn categories_nest_without_loops_and_delete_only_when_empty(db: Arc<dyn Storage>) {
    let s = store(&db, "categorias").await;
    let drinks = db
        .create_category(s, &category("Bebidas", None))
        .await
        .expect("create");
    let beer = db
        .create_category(s, &category("Cervejas", Some(drinks.id.to_string())))
        .await
        .expect("child");
    assert_eq!(beer.parent_id, Some(drinks.id));
    let looped = db
        .update_category(
            s,
            drinks.id,
            drinks.version,
            &category("Bebidas", Some(beer.id.to_string())),
        )
        .await;
    assert_eq!(invalid_field(looped), ("parent_id".into(), "cycle"));
    let other = store(&db, "vizinha").await;
    let foreign = db
        .create_category(other, &category("Intrusa", Some(drinks.id.to_string())))
        .await;
    assert_eq!(invalid_field(foreign), ("parent_id".into(), "unknown"));
    assert!(
        db.list_categories(other).await.expect("list").is_empty(),
        "nothing written"
    );
    assert!(matches!(
        db.delete_category(s, drinks.id).await,
        Err(StoreError::InUse {
            by: "subcategories",
            ..
        })
    ));
    db.create_product(s, &product(json!({ "name": "Lager", "category_id": beer.id.to_string(), "variants": [{ "price": brl(900) }] })))
        .await
        .expect("product");
    assert!(matches!(
        db.delete_category(s, beer.id).await,
        Err(StoreError::InUse {
            by: "active products",
            ..
        })
    ));
    let renamed = db
        .update_category(
            s,
            beer.id,
            beer.version,
            &category("Cervejas artesanais", None),
        )
        .await
        .expect("move to top");
    assert_eq!((renamed.parent_id, renamed.version), (None, 2));
    db.delete_category(s, drinks.id).await.expect("now empty");
    assert!(matches!(
        db.delete_category(other, beer.id).await,
        Err(StoreError::NotFound { .. })
    ));
}

pub async fn products_round_trip_and_keep_variant_ids(db: Arc<dyn Storage>) {
    let s = store(&db, "produtos").await;
    let group = db
        .create_modifier_group(
            s,
            &serde_json::from_value::<ModifierGroupInput>(json!({ "name": "Sabores", "min_choices": 1, "max_choices": 2, "pricing": "max", "options": [{ "name": "Calabresa" }, { "name": "Portuguesa", "price_delta": brl(500) }] }))
                .expect("shape")
                .parse(Currency::Brl)
                .expect("valid"),
        )
        .await
        .expect("group");
    let draft = product(json!({
        "name": "Pizza", "station": "forno", "age_restricted": null, "track_stock": true,
        "modifier_group_ids": [group.id.to_string()], "tax_rate_ids": [],
        "variants": [
            { "name": "Média", "sku": "PZ-M", "price": brl(4500) },
            { "name": "Grande", "sku": "PZ-G", "barcode": "7891000315507", "price": brl(5900) }
        ]
    }));
    let created = db.create_product(s, &draft).await.expect("create");
    assert_eq!(created.variants.len(), 2);
    assert_eq!(created.modifier_group_ids, vec![group.id]);
    assert_eq!(created.tax_rate_ids, Some(vec![]));
    assert_eq!(created.station.as_ref().map(|s| s.as_str()), Some("forno"));
    assert_eq!(
        db.get_product(s, created.id).await.expect("get"),
        Some(created.clone())
    );

    // Keep "Grande" (by id), drop "Média", add "Família"; the SKU moves between variants.
    let grande = created.variants[1].id;
    let changed = product(json!({
        "name": "Pizza", "variants": [
            { "id": grande.to_string(), "name": "Grande", "sku": "PZ-M", "price": brl(6100) },
            { "name": "Família", "sku": "PZ-F", "price": brl(7900) }
        ]
    }));
    let updated = db
        .update_product(s, created.id, 1, &changed)
        .await
        .expect("update");
    assert_eq!(updated.version, 2);
    assert_eq!(
        updated.variants[0].id, grande,
        "kept variants keep their id"
    );
    assert_eq!(
        updated.variants[0].sku.as_ref().map(|s| s.as_str()),
        Some("PZ-M")
    );
    assert_eq!(
        updated.variants[1].name.as_ref().map(|n| n.as_str()),
        Some("Família")
    );
    assert_eq!(
        updated.tax_rate_ids, None,
        "no list: the store's default rates"
    );
    let stale = db.update_product(s, created.id, 1, &changed).await;
    assert!(
        matches!(stale, Err(StoreError::VersionMismatch { current: 2, .. })),
        "{stale:?}"
    );
    // The retired variant gave up its codes; "PZ-G" and the barcode are free again.
    db.create_product(s, &product(json!({ "name": "Outra", "variants": [{ "sku": "PZ-G", "barcode": "7891000315507", "price": brl(1) }] })))
        .await
        .expect("freed codes are reusable");
    let other = store(&db, "produtos-b").await;
    assert_eq!(db.get_product(other, created.id).await.expect("get"), None);
    assert!(matches!(
        db.update_product(other, created.id, 2, &changed).await,
        Err(StoreError::NotFound { .. })
    ));
    let unknown_variant = product(
        json!({ "name": "Pizza", "variants": [{ "id": ProductId::new().to_string(), "price": brl(1) }] }),
    );
    assert_eq!(
        invalid_field(db.update_product(s, created.id, 2, &unknown_variant).await),
        ("variants[0].id".into(), "unknown")
    );
}

pub async fn taken_codes_and_foreign_references_are_refused_naming_the_field(db: Arc<dyn Storage>) {
    let s = store(&db, "codigos").await;
    let other = store(&db, "codigos-b").await;
    db.create_product(s, &product(json!({ "name": "Vodka", "variants": [{ "sku": "VOD-1", "barcode": "96385074", "price": brl(5000) }] })))
        .await
        .expect("first");
    let revision = db.catalog_revision(s).await.expect("revision");
    let cases = [
        (
            json!({ "name": "A", "variants": [{ "name": "x", "price": brl(1) }, { "name": "y", "sku": "VOD-1", "price": brl(1) }] }),
            "variants[1].sku",
        ),
        (
            json!({ "name": "B", "variants": [{ "barcode": "96385074", "price": brl(1) }] }),
            "variants[0].barcode",
        ),
    ];
    for (body, field) in cases {
        assert_eq!(
            invalid_field(db.create_product(s, &product(body)).await),
            (field.into(), "duplicate")
        );
    }
    let foreign_group = db
        .create_modifier_group(
            other,
            &serde_json::from_value::<ModifierGroupInput>(
                json!({ "name": "G", "options": [{ "name": "A" }] }),
            )
            .expect("shape")
            .parse(Currency::Brl)
            .expect("valid"),
        )
        .await
        .expect("group elsewhere");
    let foreign = product(
        json!({ "name": "C", "modifier_group_ids": [foreign_group.id.to_string()], "variants": [{ "price": brl(1) }] }),
    );
    assert_eq!(
        invalid_field(db.create_product(s, &foreign).await),
        ("modifier_group_ids[0]".into(), "unknown")
    );
    let no_category = product(
        json!({ "name": "D", "category_id": ProductId::new().to_string(), "variants": [{ "price": brl(1) }] }),
    );
    assert_eq!(
        invalid_field(db.create_product(s, &no_category).await),
        ("category_id".into(), "unknown")
    );
    assert_eq!(
        db.catalog_revision(s).await.expect("revision"),
        revision,
        "nothing written"
    );
    let all = db
        .list_products(s, &ProductFilter::default(), None, Limit::new(None))
        .await
        .expect("list");
    assert_eq!(all.items.len(), 1);
    // The same SKU in another store is another store's business.
    db.create_product(other, &product(json!({ "name": "Vodka", "variants": [{ "sku": "VOD-1", "barcode": "96385074", "price": brl(5200) }] })))
        .await
        .expect("codes are unique per store");
}

pub async fn products_are_found_by_name_prefix_sku_and_barcode(db: Arc<dyn Storage>) {
    let s = store(&db, "busca").await;
    for (name, sku, barcode) in [
        ("Pão de Queijo", "PQ-1", "7891000315507"),
        ("Pão Francês", "PF-1", "96385074"),
        ("Pastel", "PS-1", "036000291452"),
        ("Água", "AG-500", "10012345678902"),
    ] {
        db.create_product(s, &product(json!({ "name": name, "variants": [{ "sku": sku, "barcode": barcode, "price": brl(500) }] })))
            .await
            .expect("create");
    }
    let names = |filter: ProductFilter, limit: u32| {
        let db = db.clone();
        async move {
            let mut all = Vec::new();
            let mut after = None;
            loop {
                let page = db
                    .list_products(s, &filter, after, Limit::new(Some(limit)))
                    .await
                    .expect("search");
                all.extend(page.items.iter().map(|p| p.name.to_string()));
                match page.next {
                    Some(next) => after = Some(next),
                    None => return all,
                }
            }
        }
    };
    let search = |q: &str| ProductFilter {
        search: Some(q.into()),
        ..ProductFilter::default()
    };
    assert_eq!(
        names(search("pao"), 1).await,
        vec!["Pão de Queijo", "Pão Francês"]
    );
    assert_eq!(names(search("PÃO F"), 10).await, vec!["Pão Francês"]);
    assert_eq!(names(search("agua"), 10).await, vec!["Água"]);
    assert_eq!(
        names(search("ps-1"), 10).await,
        vec!["Pastel"],
        "whole SKU, any case"
    );
    assert!(
        names(search("PS-"), 10).await.is_empty(),
        "SKUs match whole"
    );
    assert_eq!(names(search("036000291452"), 10).await, vec!["Pastel"]);
    assert!(
        names(search("0360002914"), 10).await.is_empty(),
        "barcodes match whole"
    );
    assert_eq!(names(ProductFilter::default(), 3).await.len(), 4);
}

pub async fn modifier_groups_keep_option_ids_and_archive(db: Arc<dyn Storage>) {
    let s = store(&db, "modificadores").await;
    let parse = |v: Value| {
        serde_json::from_value::<ModifierGroupInput>(v)
            .expect("shape")
            .parse(Currency::Brl)
            .expect("valid")
    };
    let group = db
        .create_modifier_group(s, &parse(json!({ "name": "Extras", "max_choices": 3, "options": [{ "name": "Queijo", "price_delta": brl(300) }, { "name": "Sem cebola" }] })))
        .await
        .expect("create");
    assert_eq!(group.options.len(), 2);
    let cheese = group.options[0].id;
    let updated = db
        .update_modifier_group(s, group.id, 1, &parse(json!({ "name": "Extras", "max_choices": 3, "options": [{ "name": "Bacon", "price_delta": brl(400) }, { "id": cheese.to_string(), "name": "Queijo extra", "price_delta": brl(350) }] })))
        .await
        .expect("update");
    assert_eq!(
        updated
            .options
            .iter()
            .map(|o| o.name.to_string())
            .collect::<Vec<_>>(),
        vec!["Bacon", "Queijo extra"]
    );
    assert_eq!(updated.options[1].id, cheese);
    db.archive_modifier_group(s, group.id)
        .await
        .expect("archive");
    let active = db
        .list_modifier_groups(s, Some(Status::Active), None, Limit::new(None))
        .await
        .expect("list");
    assert!(active.items.is_empty());
    let all = db
        .list_modifier_groups(s, None, None, Limit::new(None))
        .await
        .expect("list");
    assert_eq!(all.items.len(), 1);
}

pub async fn the_menu_holds_the_active_catalog_and_its_revision_grows(db: Arc<dyn Storage>) {
    let s = store(&db, "cardapio").await;
    let empty = db.menu(s).await.expect("menu");
    assert_eq!((empty.revision, empty.products.len()), (0, 0));
    assert_eq!(empty.settings, CatalogSettings::defaults_for(Currency::Brl));
    let kept = db
        .create_product(
            s,
            &product(json!({ "name": "Suco", "variants": [{ "price": brl(700) }] })),
        )
        .await
        .expect("p");
    let gone = db
        .create_product(
            s,
            &product(json!({ "name": "Velho", "variants": [{ "price": brl(700) }] })),
        )
        .await
        .expect("p");
    db.archive_product(s, gone.id).await.expect("archive");
    let menu = db.menu(s).await.expect("menu");
    assert_eq!(menu.products, vec![kept]);
    assert!(menu.revision >= 3, "{}", menu.revision);
    let other = store(&db, "cardapio-b").await;
    assert!(db.menu(other).await.expect("menu").products.is_empty());
}

pub async fn imports_create_or_replace_by_sku_all_or_nothing(db: Arc<dyn Storage>) {
    let s = store(&db, "importacao").await;
    let existing = db
        .create_product(s, &product(json!({ "name": "Cerveja", "track_stock": true, "variants": [{ "name": "600 ml", "sku": "CERV-600", "price": brl(1200) }] })))
        .await
        .expect("existing");
    db.record_movements(
        s,
        &[NewMovement {
            variant_id: existing.variants[0].id,
            kind: MovementKind::Receipt,
            quantity: 24,
            reason: None,
            reference: None,
            actor: None,
        }],
    )
    .await
    .expect("stock");
    let plan = ImportPlan {
        tax_rates: Vec::new(),
        modifier_groups: Vec::new(),
        category_paths: vec![vec!["Bebidas".into(), "Cervejas".into()]],
        products: vec![
            ImportProduct {
                category: Some(0),
                draft: product(
                    json!({ "name": "Cerveja Pilsen", "variants": [{ "name": "600 ml", "sku": "CERV-600", "price": brl(1300) }, { "name": "Lata", "sku": "CERV-350", "price": brl(700) }] }),
                ),
                lines: vec![2, 3],
            },
            ImportProduct {
                category: Some(0),
                draft: product(
                    json!({ "name": "Chopp", "variants": [{ "sku": "CHOPP", "price": brl(1100) }] }),
                ),
                lines: vec![4],
            },
        ],
    };
    let summary = db.import_catalog(s, &plan).await.expect("import");
    assert_eq!(
        (
            summary.categories_created,
            summary.products_created,
            summary.products_updated,
            summary.variants
        ),
        (2, 1, 1, 3)
    );
    let updated = db
        .get_product(s, existing.id)
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(updated.name.as_str(), "Cerveja Pilsen");
    assert_eq!(
        updated.variants[0].id, existing.variants[0].id,
        "matched variants keep their stock"
    );
    assert_eq!(updated.variants[0].price.amount, 1300);
    let levels = db
        .stock_levels(s, StockFilter::default(), None, Limit::new(None))
        .await
        .expect("levels");
    assert_eq!(levels.items[0].on_hand, 24);
    let categories = db.list_categories(s).await.expect("categories");
    assert_eq!(categories.len(), 2);
    // Importing the same file again creates nothing new.
    let again = db.import_catalog(s, &plan).await.expect("re-import");
    assert_eq!(
        (
            again.categories_created,
            again.products_created,
            again.products_updated
        ),
        (0, 0, 2)
    );

    // One product claiming the SKUs of two existing ones fails the whole import.
    let revision = db.catalog_revision(s).await.expect("revision");
    let bad = ImportPlan {
        tax_rates: Vec::new(),
        modifier_groups: Vec::new(),
        category_paths: vec![vec!["Novos".into()]],
        products: vec![
            ImportProduct {
                category: Some(0),
                draft: product(
                    json!({ "name": "Novo", "variants": [{ "sku": "NOVO-1", "price": brl(1) }] }),
                ),
                lines: vec![2],
            },
            ImportProduct {
                category: None,
                draft: product(
                    json!({ "name": "Mistura", "variants": [{ "name": "a", "sku": "CHOPP", "price": brl(1) }, { "name": "b", "sku": "CERV-350", "price": brl(1) }] }),
                ),
                lines: vec![3, 4],
            },
        ],
    };
    assert_eq!(
        invalid_field(db.import_catalog(s, &bad).await),
        ("line 3".into(), "ambiguous")
    );
    assert_eq!(
        db.catalog_revision(s).await.expect("revision"),
        revision,
        "nothing written"
    );
    assert_eq!(db.list_categories(s).await.expect("categories").len(), 2);
}

pub async fn stock_moves_by_ledger_and_blocks_sales_when_out(db: Arc<dyn Storage>) {
    let s = store(&db, "estoque").await;
    let blocked = db
        .create_product(s, &product(json!({ "name": "Whisky", "track_stock": true, "sell_when_out": false, "variants": [{ "sku": "WHY", "price": brl(15000) }] })))
        .await
        .expect("product");
    let lenient = db
        .create_product(
            s,
            &product(
                json!({ "name": "Pão", "track_stock": true, "variants": [{ "price": brl(100) }] }),
            ),
        )
        .await
        .expect("product");
    let (w, p) = (blocked.variants[0].id, lenient.variants[0].id);
    let movement = |variant, kind, quantity| NewMovement {
        variant_id: variant,
        kind,
        quantity,
        reason: None,
        reference: None,
        actor: None,
    };
    let recorded = db
        .record_movements(
            s,
            &[
                movement(w, MovementKind::Receipt, 2),
                movement(w, MovementKind::Sale, -1),
            ],
        )
        .await
        .expect("receive and sell");
    assert_eq!(
        recorded.iter().map(|m| m.on_hand_after).collect::<Vec<_>>(),
        vec![2, 1]
    );
    // Selling two when one is left fails, and the receipt in the same batch is not kept.
    let refused = db
        .record_movements(
            s,
            &[
                movement(p, MovementKind::Receipt, 5),
                movement(w, MovementKind::Sale, -2),
            ],
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::OutOfStock { on_hand: 1, .. })),
        "{refused:?}"
    );
    // Products that may be sold when out go negative.
    db.record_movements(s, &[movement(p, MovementKind::Sale, -3)])
        .await
        .expect("oversell bread");
    let levels = db
        .stock_levels(s, StockFilter::default(), None, Limit::new(None))
        .await
        .expect("levels");
    let on_hand = |v| {
        levels
            .items
            .iter()
            .find(|l| l.variant_id == v)
            .map(|l| l.on_hand)
    };
    assert_eq!((on_hand(w), on_hand(p)), (Some(1), Some(-3)));
    let ledger = db
        .stock_movements(s, Some(w), None, Limit::new(Some(1)))
        .await
        .expect("ledger");
    assert_eq!(ledger.items[0].kind, MovementKind::Sale, "newest first");
    let rest = db
        .stock_movements(s, Some(w), ledger.next, Limit::new(None))
        .await
        .expect("page 2");
    assert_eq!(
        rest.items.iter().map(|m| m.kind).collect::<Vec<_>>(),
        vec![MovementKind::Receipt]
    );
    let other = store(&db, "estoque-b").await;
    let foreign = db
        .record_movements(other, &[movement(w, MovementKind::Receipt, 1)])
        .await;
    assert_eq!(
        invalid_field(foreign),
        ("movements[0].variant_id".into(), "unknown")
    );
}

pub async fn low_stock_lists_what_is_at_or_below_its_threshold(db: Arc<dyn Storage>) {
    let s = store(&db, "baixo").await;
    let p = db
        .create_product(s, &product(json!({ "name": "Gin", "track_stock": true, "variants": [{ "name": "750", "sku": "GIN-750", "price": brl(9000) }, { "name": "1L", "sku": "GIN-1L", "price": brl(11000) }] })))
        .await
        .expect("product");
    let (a, b) = (p.variants[0].id, p.variants[1].id);
    db.set_low_threshold(s, a, Some(3))
        .await
        .expect("threshold");
    db.set_low_threshold(s, b, Some(3))
        .await
        .expect("threshold");
    let receipt = |variant, quantity| NewMovement {
        variant_id: variant,
        kind: MovementKind::Receipt,
        quantity,
        reason: Some("fornecedor".into()),
        reference: Some("NF 123".into()),
        actor: None,
    };
    db.record_movements(s, &[receipt(a, 3), receipt(b, 10)])
        .await
        .expect("receive");
    let low = db
        .stock_levels(s, StockFilter { low_only: true }, None, Limit::new(None))
        .await
        .expect("low");
    assert_eq!(
        low.items.iter().map(|l| l.variant_id).collect::<Vec<_>>(),
        vec![a]
    );
    db.set_low_threshold(s, a, None).await.expect("clear");
    let low = db
        .stock_levels(s, StockFilter { low_only: true }, None, Limit::new(None))
        .await
        .expect("low");
    assert!(low.items.is_empty());
}

pub async fn transfers_move_stock_between_stores_by_sku(db: Arc<dyn Storage>) {
    let a = store(&db, "matriz").await;
    let b = store(&db, "filial").await;
    let pa = db.create_product(a, &product(json!({ "name": "Rum", "track_stock": true, "sell_when_out": false, "variants": [{ "sku": "RUM", "price": brl(6000) }] }))).await.expect("a");
    let pb = db
        .create_product(
            b,
            &product(json!({ "name": "Rum", "variants": [{ "sku": "RUM", "price": brl(6500) }] })),
        )
        .await
        .expect("b");
    let nosku = db
        .create_product(
            a,
            &product(json!({ "name": "Sem código", "variants": [{ "price": brl(1) }] })),
        )
        .await
        .expect("c");
    db.record_movements(
        a,
        &[NewMovement {
            variant_id: pa.variants[0].id,
            kind: MovementKind::Receipt,
            quantity: 10,
            reason: None,
            reference: None,
            actor: None,
        }],
    )
    .await
    .expect("stock");
    let transfer = |variant, quantity| Transfer {
        from: a,
        to: b,
        lines: vec![TransferLine {
            variant_id: variant,
            quantity,
        }],
        reason: Some("reposição".into()),
        actor: None,
    };
    let moved = db
        .transfer_stock(&transfer(pa.variants[0].id, 4))
        .await
        .expect("transfer");
    assert_eq!(
        moved
            .iter()
            .map(|m| (m.store_id, m.kind, m.quantity, m.on_hand_after))
            .collect::<Vec<_>>(),
        vec![
            (a, MovementKind::TransferOut, -4, 6),
            (b, MovementKind::TransferIn, 4, 4),
        ]
    );
    assert_eq!(moved[1].variant_id, pb.variants[0].id);
    assert_eq!(moved[0].reference, moved[1].reference);
    assert!(matches!(
        db.transfer_stock(&transfer(pa.variants[0].id, 7)).await,
        Err(StoreError::OutOfStock { .. })
    ));
    assert_eq!(
        invalid_field(db.transfer_stock(&transfer(nosku.variants[0].id, 1)).await),
        ("lines[0].variant_id".into(), "no_sku")
    );
}
