/// The catalog import; expanded inside [`impl_sql_catalog!`](crate::impl_sql_catalog).
/// New products are written with multi-row inserts (a round trip per thousand rows, not
/// per row), which is what makes a 100,000-line file fast on PostgreSQL.
#[doc(hidden)]
#[macro_export]
macro_rules! impl_sql_catalog_import {
    () => {
        /// Rows per multi-row insert: under both backends' limits on bound values.
        const IMPORT_CHUNK: usize = 1_000;

        fn line_error(lines: &[usize], code: &'static str, message: String) -> StoreError {
            StoreError::invalid(format!("line {}", lines.first().copied().unwrap_or(0)), code, message)
        }

        /// Finds or creates each category path; returns their ids by path index.
        async fn import_categories(conn: &mut Conn, store: StoreId, paths: &[Vec<String>], summary: &mut ImportSummary) -> Result<Vec<Uuid>> {
            let rows: Vec<(Uuid, Option<Uuid>, String)> = ::sqlx::query_as("SELECT id, parent_id, name FROM categories WHERE store_id = $1 ORDER BY id")
                .bind(store.as_uuid())
                .fetch_all(&mut *conn)
                .await
                .map_err(classify)?;
            let mut known: HashMap<(Option<Uuid>, String), Uuid> = HashMap::new();
            for (id, parent, name) in rows {
                known.entry((parent, search_key(&name))).or_insert(id);
            }
            let mut ids = Vec::with_capacity(paths.len());
            for path in paths {
                let mut parent: Option<Uuid> = None;
                for name in path {
                    let key = (parent, search_key(name));
                    let id = match known.get(&key) {
                        Some(id) => *id,
                        None => {
                            let id = CategoryId::new();
                            let draft = CategoryDraft {
                                parent_id: parent.map(CategoryId::from_uuid),
                                name: ::comanda_domain::catalog::ItemName::parse("category", name).map_err(StoreError::Invalid)?,
                                position: 0,
                                station: None,
                                image_url: None,
                            };
                            write_category(conn, "INSERT INTO categories (id, store_id, parent_id, name, position, station, image_url, version, created_at, updated_at)
                                 VALUES ($1, $2, $3, $4, $5, $6, $7, $9, $8, $8)", store, id, 1, &draft).await?;
                            summary.categories_created += 1;
                            known.insert(key, id.as_uuid());
                            id.as_uuid()
                        }
                    };
                    parent = Some(id);
                }
                ids.push(parent.unwrap_or_default());
            }
            Ok(ids)
        }

        /// The existing product each imported product replaces, found by its codes.
        async fn match_existing(conn: &mut Conn, store: StoreId, plan: &ImportPlan) -> Result<Vec<Option<Uuid>>> {
            let rows: Vec<(Uuid, Option<String>, Option<String>)> = ::sqlx::query_as("SELECT product_id, sku, barcode FROM product_variants WHERE store_id = $1 AND NOT archived")
                .bind(store.as_uuid())
                .fetch_all(&mut *conn)
                .await
                .map_err(classify)?;
            let mut by_sku: HashMap<String, Uuid> = HashMap::new();
            let mut by_barcode: HashMap<String, Uuid> = HashMap::new();
            for (product, sku, barcode) in rows {
                if let Some(sku) = sku {
                    by_sku.insert(sku, product);
                }
                if let Some(barcode) = barcode {
                    by_barcode.insert(barcode, product);
                }
            }
            let mut claimed: HashMap<Uuid, usize> = HashMap::new();
            let mut matches = Vec::with_capacity(plan.products.len());
            for (n, p) in plan.products.iter().enumerate() {
                let mut owner: Option<Uuid> = None;
                for v in &p.draft.variants {
                    let owners = [
                        v.sku.as_ref().and_then(|s| by_sku.get(s.as_str())),
                        v.barcode.as_ref().and_then(|b| by_barcode.get(b.as_str())),
                    ];
                    for found in owners.into_iter().flatten() {
                        if owner.is_some_and(|o| o != *found) {
                            return Err(line_error(&p.lines, "ambiguous", "its SKUs and barcodes belong to different existing products".into()));
                        }
                        owner = Some(*found);
                    }
                }
                if let Some(owner) = owner {
                    if let Some(other) = claimed.insert(owner, n) {
                        let first = plan.products[other].lines.first().copied().unwrap_or(0);
                        return Err(line_error(&p.lines, "ambiguous", format!("matches the same existing product as line {first}")));
                    }
                }
                matches.push(owner);
            }
            Ok(matches)
        }

        /// Keeps the ids (and so the stock) of variants that an update lists again, by SKU,
        /// else by barcode, else by name.
        async fn keep_variant_ids(conn: &mut Conn, product: Uuid, draft: &mut ProductDraft) -> Result<()> {
            let rows: Vec<(Uuid, Option<String>, Option<String>, Option<String>)> = ::sqlx::query_as("SELECT id, sku, barcode, name FROM product_variants WHERE product_id = $1 AND NOT archived")
                .bind(product)
                .fetch_all(&mut *conn)
                .await
                .map_err(classify)?;
            let mut taken: Vec<Uuid> = Vec::new();
            for v in &mut draft.variants {
                let same = |(id, sku, barcode, name): &&(Uuid, Option<String>, Option<String>, Option<String>)| {
                    !taken.contains(id)
                        && match (&v.sku, &v.barcode) {
                            (Some(s), _) => sku.as_deref() == Some(s.as_str()),
                            (None, Some(b)) => barcode.as_deref() == Some(b.as_str()),
                            (None, None) => name.as_deref().map(search_key) == v.name.as_ref().map(|n| n.search_key()),
                        }
                };
                if let Some(row) = rows.iter().find(same) {
                    taken.push(row.0);
                    v.id = Some(VariantId::from_uuid(row.0));
                }
            }
            Ok(())
        }

/// Every rate and group the plan names must be active in this store.
        async fn check_references(conn: &mut Conn, store: StoreId, plan: &ImportPlan) -> Result<()> {
            let mut rates: Vec<Uuid> = plan.products.iter().flat_map(|p| p.draft.tax_rate_ids.iter().flatten().map(|id| id.as_uuid())).collect();
            let mut groups: Vec<Uuid> = plan.products.iter().flat_map(|p| p.draft.modifier_group_ids.iter().map(|id| id.as_uuid())).collect();
            for ids in [&mut rates, &mut groups] {
                ids.sort_unstable();
                ids.dedup();
            }
            let found_rates = present(conn, "SELECT id FROM tax_rates WHERE status = 'active' AND store_id = ", store, &rates).await?;
            let found_groups = present(conn, "SELECT id FROM modifier_groups WHERE status = 'active' AND store_id = ", store, &groups).await?;
            for p in &plan.products {
                let rate_missing = p.draft.tax_rate_ids.iter().flatten().any(|id| !found_rates.contains(&id.as_uuid()));
                let group_missing = p.draft.modifier_group_ids.iter().any(|id| !found_groups.contains(&id.as_uuid()));
                if rate_missing || group_missing {
                    return Err(line_error(&p.lines, "unknown", "names a tax rate or modifier group that is not active in this store".into()));
                }
            }
            Ok(())
        }

        async fn insert_new_products(conn: &mut Conn, store: StoreId, products: &[(ProductId, &ProductDraft)]) -> Result<()> {
            let now = clock::now();
            for chunk in products.chunks(IMPORT_CHUNK) {
                let mut query = ::sqlx::QueryBuilder::<Db>::new(
                    "INSERT INTO products (id, store_id, category_id, name, name_key, description, image_url, station, age_restricted,
                         track_stock, sell_when_out, available, status, position, tax_rate_list, modifier_group_list, version,
                         created_at, updated_at) ",
                );
                query.push_values(chunk, |mut row, (id, d)| {
                    row.push_bind(id.as_uuid())
                        .push_bind(store.as_uuid())
                        .push_bind(d.category_id.map(|c| c.as_uuid()))
                        .push_bind(d.name.as_str().to_owned())
                        .push_bind(d.name.search_key())
                        .push_bind(d.description.clone())
                        .push_bind(d.image_url.as_ref().map(|u| u.as_str().to_owned()))
                        .push_bind(d.station.as_ref().map(|s| s.as_str().to_owned()))
                        .push_bind(d.age_restricted.map(i64::from))
                        .push_bind(d.track_stock)
                        .push_bind(d.sell_when_out)
                        .push_bind(d.available)
                        .push_bind(d.status.as_str())
                        .push_bind(i64::from(d.position))
                        .push_bind(d.tax_rate_ids.as_deref().map(id_list))
                        .push_bind(id_list(&d.modifier_group_ids))
                        .push_bind(1_i64)
                        .push_bind(now)
                        .push_bind(now);
                });
                query.build().execute(&mut *conn).await.map_err(classify)?;
            }
            let variants: Vec<(Uuid, usize, &VariantDraft)> = products
                .iter()
                .flat_map(|(id, d)| d.variants.iter().enumerate().map(move |(i, v)| (id.as_uuid(), i, v)))
                .collect();
            for chunk in variants.chunks(IMPORT_CHUNK) {
                let mut query = ::sqlx::QueryBuilder::<Db>::new("INSERT INTO product_variants (id, product_id, store_id, name, sku, barcode, price, position, archived) ");
                query.push_values(chunk, |mut row, (product, position, v)| {
                    row.push_bind(VariantId::new().as_uuid())
                        .push_bind(*product)
                        .push_bind(store.as_uuid())
                        .push_bind(v.name.as_ref().map(|n| n.as_str().to_owned()))
                        .push_bind(v.sku.as_ref().map(|s| s.as_str().to_owned()))
                        .push_bind(v.barcode.as_ref().map(|b| b.as_str().to_owned()))
                        .push_bind(v.price.amount)
                        .push_bind(*position as i64)
                        .push_bind(false);
                });
                query.build().execute(&mut *conn).await.map_err(classify)?;
            }
            Ok(())
        }

        async fn import_catalog(pool: &::sqlx::Pool<Db>, store: StoreId, plan: &ImportPlan) -> Result<ImportSummary> {
            let mut summary = ImportSummary::default();
            let mut tx = begin_write(pool).await?;
            let currency = currency_of(&mut *tx, store).await?;
            for (id, draft) in &plan.tax_rates {
                write_tax_rate(&mut tx, INSERT_TAX_RATE, store, *id, 1, draft).await?;
                summary.tax_rates_created += 1;
            }
            for (id, draft) in &plan.modifier_groups {
                write_group(&mut tx, INSERT_GROUP, store, *id, 1, draft).await?;
                write_options(&mut tx, *id, draft, currency).await?;
                summary.modifier_groups_created += 1;
            }
            let categories = import_categories(&mut tx, store, &plan.category_paths, &mut summary).await?;
            check_references(&mut tx, store, plan).await?;
            let matches = match_existing(&mut tx, store, plan).await?;
            let mut drafts: Vec<ProductDraft> = Vec::with_capacity(plan.products.len());
            for p in &plan.products {
                let mut draft = p.draft.clone();
                draft.category_id = p.category.and_then(|i| categories.get(i)).map(|id| CategoryId::from_uuid(*id));
                in_currency(currency, draft.variants.iter().map(|v| v.price.currency), |i| format!("line {}", p.lines.get(i).copied().unwrap_or(0)))?;
                drafts.push(draft);
            }
            let mut new = Vec::new();
            for ((p, draft), matched) in plan.products.iter().zip(drafts.iter_mut()).zip(&matches) {
                summary.variants += draft.variants.len();
                match matched {
                    Some(existing) => {
                        let id = ProductId::from_uuid(*existing);
                        keep_variant_ids(&mut tx, *existing, draft).await?;
                        update_product_row(&mut tx, store, id, None, draft).await?;
                        write_product_parts(&mut tx, store, id, draft).await.map_err(|e| match e {
                            StoreError::Invalid(v) => line_error(&p.lines, v.code, v.message),
                            other => other,
                        })?;
                        summary.products_updated += 1;
                    }
                    None => {
                        summary.products_created += 1;
                    }
                }
            }
            for (draft, matched) in drafts.iter().zip(&matches) {
                if matched.is_none() {
                    new.push((ProductId::new(), draft));
                }
            }
            insert_new_products(&mut tx, store, &new).await?;
            bump_revision(&mut tx, store).await?;
            tx.commit().await.map_err(classify)?;
            Ok(summary)
        }
    };
}
