/// `CatalogRepo`; expanded inside [`impl_sql_repos!`](crate::impl_sql_repos).
#[doc(hidden)]
#[macro_export]
macro_rules! impl_sql_catalog {
    ($storage:ty) => {
        use $crate::catalog_rows::{
            assemble_groups, id_list, CategoryRow, GroupRow, OptionRow, ProductParts, ProductRow, SettingsRow,
            TaxRateRow, VariantRow,
        };
        use $crate::{CatalogRepo, ImportPlan, ImportSummary, MenuData, ProductFilter};
        use ::comanda_domain::catalog::inputs::SettingsPatch;
        use ::comanda_domain::catalog::{
            check_category_parent, search_key, CatalogSettings, Category, CategoryDraft, ModifierGroup,
            ModifierGroupDraft, Product, ProductDraft, Status, TaxRate, TaxRateDraft, VariantDraft,
        };
        use ::comanda_domain::{CategoryId, Currency, ModifierGroupId, ModifierOptionId, ProductId, TaxRateId, VariantId};

        type Conn = <Db as ::sqlx::Database>::Connection;

        /// Marks the store's catalog as changed, in the transaction of the change, for the
        /// store and every store that follows it.
        async fn bump_revision(conn: &mut Conn, store: StoreId) -> Result<()> {
            ::sqlx::query(
                "INSERT INTO catalog_revisions (store_id, revision) VALUES ($1, 1)
                 ON CONFLICT (store_id) DO UPDATE SET revision = catalog_revisions.revision + 1",
            )
            .bind(store.as_uuid())
            .execute(&mut *conn)
            .await
            .map_err(missing_store)?;
            // The stores selling from this catalog see the change too.
            ::sqlx::query("UPDATE catalog_revisions SET revision = revision + 1 WHERE store_id IN (SELECT store_id FROM catalog_follows WHERE source_id = $1)")
                .bind(store.as_uuid())
                .execute(&mut *conn)
                .await
                .map_err(classify)?;
            Ok(())
        }

        async fn currency_of<'c, E: ::sqlx::Executor<'c, Database = Db>>(exec: E, store: StoreId) -> Result<Currency> {
            let code: Option<(String,)> = ::sqlx::query_as("SELECT currency FROM stores WHERE id = $1")
                .bind(store.as_uuid())
                .fetch_optional(exec)
                .await
                .map_err(classify)?;
            let (code,) = code.ok_or(StoreError::NotFound { entity: "store" })?;
            code.parse().map_err(|()| StoreError::Internal(format!("unreadable store currency {code:?}")))
        }

        /// Ids among `wanted` that exist, in this store and active, in `table`.
        async fn present(conn: &mut Conn, prefix: &'static str, store: StoreId, wanted: &[Uuid]) -> Result<Vec<Uuid>> {
            if wanted.is_empty() {
                return Ok(Vec::new());
            }
            let mut query = ::sqlx::QueryBuilder::<Db>::new(prefix);
            query.push_bind(store.as_uuid()).push(" AND id IN (");
            let mut list = query.separated(", ");
            for id in wanted {
                list.push_bind(*id);
            }
            query.push(")");
            let rows: Vec<(Uuid,)> = query.build_query_as().fetch_all(&mut *conn).await.map_err(classify)?;
            Ok(rows.into_iter().map(|(id,)| id).collect())
        }

        /// Fails with `NotFound` unless `id` is in this store: checked before anything
        /// else, so another store's records reveal nothing, not even that they are in use.
        async fn owned(conn: &mut Conn, prefix: &'static str, store: StoreId, id: Uuid, entity: &'static str) -> Result<()> {
            if present(conn, prefix, store, &[id]).await?.is_empty() {
                return Err(StoreError::NotFound { entity });
            }
            Ok(())
        }

        fn first_missing(field: &str, wanted: &[Uuid], found: &[Uuid], what: &str) -> Result<()> {
            match wanted.iter().position(|id| !found.contains(id)) {
                Some(i) => Err(StoreError::invalid(
                    format!("{field}[{i}]"),
                    "unknown",
                    format!("no active {what} with this id in this store"),
                )),
                None => Ok(()),
            }
        }

        /// SKUs and barcodes of current variants of other products that collide with `variants`.
        async fn taken_codes(conn: &mut Conn, store: StoreId, product: Option<ProductId>, variants: &[VariantDraft]) -> Result<Vec<(Option<String>, Option<String>)>> {
            let skus: Vec<&str> = variants.iter().filter_map(|v| v.sku.as_ref().map(|s| s.as_str())).collect();
            let barcodes: Vec<&str> = variants.iter().filter_map(|v| v.barcode.as_ref().map(|b| b.as_str())).collect();
            if skus.is_empty() && barcodes.is_empty() {
                return Ok(Vec::new());
            }
            let mut query = ::sqlx::QueryBuilder::<Db>::new("SELECT sku, barcode FROM product_variants WHERE store_id = ");
            query.push_bind(store.as_uuid()).push(" AND NOT archived AND product_id <> ");
            query.push_bind(product.map_or(Uuid::nil(), |p| p.as_uuid()));
            query.push(" AND (sku IN (");
            let mut list = query.separated(", ");
            list.push_bind("");
            for sku in &skus {
                list.push_bind(sku.to_string());
            }
            query.push(") OR barcode IN (");
            let mut list = query.separated(", ");
            list.push_bind("");
            for barcode in &barcodes {
                list.push_bind(barcode.to_string());
            }
            query.push("))");
            query.build_query_as().fetch_all(&mut *conn).await.map_err(classify)
        }

        /// The record with this id in this store (`sql` binds `$1` the id, `$2` the store).
        async fn one_in_store<R, T>(pool: &::sqlx::Pool<Db>, sql: &'static str, id: Uuid, store: StoreId) -> Result<Option<T>>
        where
            R: for<'r> ::sqlx::FromRow<'r, <Db as ::sqlx::Database>::Row> + Send + Unpin,
            T: TryFrom<R, Error = StoreError>,
        {
            ::sqlx::query_as::<_, R>(sql)
                .bind(id)
                .bind(store.as_uuid())
                .fetch_optional(pool)
                .await
                .map_err(classify)?
                .map(T::try_from)
                .transpose()
        }

        /// Every record of a store (`sql` binds `$1` the store).
        async fn all_in_store<R, T>(pool: &::sqlx::Pool<Db>, sql: &'static str, store: StoreId) -> Result<Vec<T>>
        where
            R: for<'r> ::sqlx::FromRow<'r, <Db as ::sqlx::Database>::Row> + Send + Unpin,
            T: TryFrom<R, Error = StoreError>,
        {
            ::sqlx::query_as::<_, R>(sql)
                .bind(store.as_uuid())
                .fetch_all(pool)
                .await
                .map_err(classify)?
                .into_iter()
                .map(T::try_from)
                .collect()
        }

        /// Every amount must be in the store's currency; names the first that is not.
        fn in_currency(currency: Currency, amounts: impl IntoIterator<Item = Currency>, field: impl Fn(usize) -> String) -> Result<()> {
            match amounts.into_iter().position(|c| c != currency) {
                Some(i) => Err(StoreError::invalid(field(i), "currency_mismatch", format!("this store prices in {currency}"))),
                None => Ok(()),
            }
        }

        /// Checks what a product refers to and that its codes are free.
        async fn check_product(conn: &mut Conn, store: StoreId, product: Option<ProductId>, draft: &ProductDraft, currency: Currency) -> Result<()> {
            in_currency(currency, draft.variants.iter().map(|v| v.price.currency), |i| format!("variants[{i}].price.currency"))?;
            if let Some(category) = draft.category_id {
                let found = present(conn, "SELECT id FROM categories WHERE store_id = ", store, &[category.as_uuid()]).await?;
                if found.is_empty() {
                    return Err(StoreError::invalid("category_id", "unknown", "no category with this id in this store"));
                }
            }
            let rates: Vec<Uuid> = draft.tax_rate_ids.iter().flatten().map(|id| id.as_uuid()).collect();
            let found = present(conn, "SELECT id FROM tax_rates WHERE status = 'active' AND store_id = ", store, &rates).await?;
            first_missing("tax_rate_ids", &rates, &found, "tax rate")?;
            let groups: Vec<Uuid> = draft.modifier_group_ids.iter().map(|id| id.as_uuid()).collect();
            let found = present(conn, "SELECT id FROM modifier_groups WHERE status = 'active' AND store_id = ", store, &groups).await?;
            first_missing("modifier_group_ids", &groups, &found, "modifier group")?;
            let taken = taken_codes(conn, store, product, &draft.variants).await?;
            for (i, v) in draft.variants.iter().enumerate() {
                if let Some(sku) = &v.sku {
                    if taken.iter().any(|(s, _)| s.as_deref() == Some(sku.as_str())) {
                        return Err(StoreError::invalid(format!("variants[{i}].sku"), "duplicate", format!("SKU {sku} is already used by another product in this store")));
                    }
                }
                if let Some(barcode) = &v.barcode {
                    if taken.iter().any(|(_, b)| b.as_deref() == Some(barcode.as_str())) {
                        return Err(StoreError::invalid(format!("variants[{i}].barcode"), "duplicate", format!("barcode {barcode} is already used by another product in this store")));
                    }
                }
            }
            Ok(())
        }

        async fn insert_product_row(conn: &mut Conn, store: StoreId, id: ProductId, draft: &ProductDraft) -> Result<()> {
            let now = clock::now();
            ::sqlx::query(
                "INSERT INTO products (id, store_id, category_id, name, name_key, description, image_url, station, age_restricted,
                     track_stock, sell_when_out, available, status, position, tax_rate_list, modifier_group_list, version, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $17, 1, $16, $16)",
            )
            .bind(id.as_uuid())
            .bind(store.as_uuid())
            .bind(draft.category_id.map(|c| c.as_uuid()))
            .bind(draft.name.as_str())
            .bind(draft.name.search_key())
            .bind(draft.description.as_deref())
            .bind(draft.image_url.as_ref().map(|u| u.as_str()))
            .bind(draft.station.as_ref().map(|s| s.as_str()))
            .bind(draft.age_restricted.map(i64::from))
            .bind(draft.track_stock)
            .bind(draft.sell_when_out)
            .bind(draft.available)
            .bind(draft.status.as_str())
            .bind(i64::from(draft.position))
            .bind(draft.tax_rate_ids.as_deref().map(id_list))
            .bind(now)
            .bind(id_list(&draft.modifier_group_ids))
            .execute(&mut *conn)
            .await
            .map_err(classify)?;
            Ok(())
        }

        /// Replaces the variants of a product: those with a known id are changed in
        /// place, new ones inserted, the rest retired.
        async fn write_product_parts(conn: &mut Conn, store: StoreId, id: ProductId, draft: &ProductDraft) -> Result<()> {
            let existing: Vec<(Uuid,)> = ::sqlx::query_as("SELECT id FROM product_variants WHERE product_id = $1 AND NOT archived")
                .bind(id.as_uuid())
                .fetch_all(&mut *conn)
                .await
                .map_err(classify)?;
            let existing: Vec<Uuid> = existing.into_iter().map(|(v,)| v).collect();
            if let Some(i) = draft.variants.iter().position(|v| v.id.is_some_and(|v| !existing.contains(&v.as_uuid()))) {
                return Err(StoreError::invalid(format!("variants[{i}].id"), "unknown", "not a current variant of this product; leave the id out to add one"));
            }
            // Free every code first, so codes may move between this product's variants.
            ::sqlx::query("UPDATE product_variants SET sku = NULL, barcode = NULL WHERE product_id = $1 AND NOT archived")
                .bind(id.as_uuid())
                .execute(&mut *conn)
                .await
                .map_err(classify)?;
            for (position, v) in draft.variants.iter().enumerate() {
                let sql = if v.id.is_some() {
                    "UPDATE product_variants SET name = $3, sku = $4, barcode = $5, price = $6, position = $7
                     WHERE id = $1 AND store_id = $2 AND product_id = $8 AND archived = $9"
                } else {
                    "INSERT INTO product_variants (id, store_id, name, sku, barcode, price, position, product_id, archived)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                };
                ::sqlx::query(sql)
                    .bind(v.id.unwrap_or_default().as_uuid())
                    .bind(store.as_uuid())
                    .bind(v.name.as_ref().map(|n| n.as_str()))
                    .bind(v.sku.as_ref().map(|s| s.as_str()))
                    .bind(v.barcode.as_ref().map(|b| b.as_str()))
                    .bind(v.price.amount)
                    .bind(position as i64)
                    .bind(id.as_uuid())
                    .bind(false)
                    .execute(&mut *conn)
                    .await
                    .map_err(classify)?;
            }
            for old in existing {
                if !draft.variants.iter().any(|v| v.id.is_some_and(|id| id.as_uuid() == old)) {
                    ::sqlx::query("UPDATE product_variants SET archived = $1 WHERE id = $2")
                        .bind(true)
                        .bind(old)
                        .execute(&mut *conn)
                        .await
                        .map_err(classify)?;
                }
            }
            Ok(())
        }

        /// Applies a versioned update; zero rows means a stale version or no such row.
        async fn versioned(conn: &mut Conn, affected: u64, current_sql: &'static str, id: Uuid, store: StoreId, entity: &'static str) -> Result<()> {
            if affected > 0 {
                return Ok(());
            }
            let current: Option<(i64,)> = ::sqlx::query_as(current_sql)
                .bind(id)
                .bind(store.as_uuid())
                .fetch_optional(&mut *conn)
                .await
                .map_err(classify)?;
            Err(StoreError::stale_or_missing(entity, current.map(|(v,)| v)))
        }

        async fn update_product_row(conn: &mut Conn, store: StoreId, id: ProductId, expected_version: Option<i64>, draft: &ProductDraft) -> Result<()> {
            let affected = ::sqlx::query(
                "UPDATE products SET category_id = $1, name = $2, name_key = $3, description = $4, image_url = $5, station = $6,
                     age_restricted = $7, track_stock = $8, sell_when_out = $9, available = $10, status = $11, position = $12,
                     tax_rate_list = $13, modifier_group_list = $18, version = version + 1, updated_at = $14
                 WHERE id = $15 AND store_id = $16 AND ($17 < 0 OR version = $17)",
            )
            .bind(draft.category_id.map(|c| c.as_uuid()))
            .bind(draft.name.as_str())
            .bind(draft.name.search_key())
            .bind(draft.description.as_deref())
            .bind(draft.image_url.as_ref().map(|u| u.as_str()))
            .bind(draft.station.as_ref().map(|s| s.as_str()))
            .bind(draft.age_restricted.map(i64::from))
            .bind(draft.track_stock)
            .bind(draft.sell_when_out)
            .bind(draft.available)
            .bind(draft.status.as_str())
            .bind(i64::from(draft.position))
            .bind(draft.tax_rate_ids.as_deref().map(id_list))
            .bind(clock::now())
            .bind(id.as_uuid())
            .bind(store.as_uuid())
            .bind(expected_version.unwrap_or(-1))
            .bind(id_list(&draft.modifier_group_ids))
            .execute(&mut *conn)
            .await
            .map_err(classify)?
            .rows_affected();
            versioned(conn, affected, "SELECT version FROM products WHERE id = $1 AND store_id = $2", id.as_uuid(), store, "product").await
        }

        /// Products of a page with their variants and links.
        async fn complete_products(pool: &::sqlx::Pool<Db>, rows: Vec<ProductRow>, currency: Currency) -> Result<Vec<Product>> {
            let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
            let mut parts = ProductParts::default();
            if !ids.is_empty() {
                let mut query = ::sqlx::QueryBuilder::<Db>::new(concat!("SELECT ", $crate::variant_columns!(), " FROM product_variants WHERE NOT archived AND product_id IN ("));
                let mut list = query.separated(", ");
                for id in &ids {
                    list.push_bind(*id);
                }
                query.push(") ORDER BY product_id, position");
                let variants: Vec<VariantRow> = query.build_query_as().fetch_all(pool).await.map_err(classify)?;
                parts.add_variants(variants, currency)?;
            }
            rows.into_iter().map(|row| parts.assemble(row)).collect()
        }

        async fn groups_with_options(pool: &::sqlx::Pool<Db>, rows: Vec<GroupRow>, currency: Currency) -> Result<Vec<ModifierGroup>> {
            let mut options = Vec::new();
            if !rows.is_empty() {
                let mut query = ::sqlx::QueryBuilder::<Db>::new(concat!("SELECT ", $crate::option_columns!(), " FROM modifier_options WHERE NOT archived AND group_id IN ("));
                let mut list = query.separated(", ");
                for row in &rows {
                    list.push_bind(row.id);
                }
                query.push(") ORDER BY group_id, position");
                options = query.build_query_as().fetch_all(pool).await.map_err(classify)?;
            }
            assemble_groups(rows, options, currency)
        }

        /// Writes a group's options (in the store's `currency`): those with a known id are
        /// changed in place, new ones inserted, the rest retired.
        async fn write_options(conn: &mut Conn, group: ModifierGroupId, draft: &ModifierGroupDraft, currency: Currency) -> Result<()> {
            in_currency(currency, draft.options.iter().map(|o| o.price_delta.currency), |i| format!("options[{i}].price_delta.currency"))?;
            let existing: Vec<(Uuid,)> = ::sqlx::query_as("SELECT id FROM modifier_options WHERE group_id = $1 AND NOT archived")
                .bind(group.as_uuid())
                .fetch_all(&mut *conn)
                .await
                .map_err(classify)?;
            let existing: Vec<Uuid> = existing.into_iter().map(|(v,)| v).collect();
            if let Some(i) = draft.options.iter().position(|o| o.id.is_some_and(|o| !existing.contains(&o.as_uuid()))) {
                return Err(StoreError::invalid(format!("options[{i}].id"), "unknown", "not a current option of this group; leave the id out to add one"));
            }
            for (position, o) in draft.options.iter().enumerate() {
                let sql = if o.id.is_some() {
                    "UPDATE modifier_options SET name = $3, price_delta = $4, is_default = $5, position = $6
                     WHERE id = $1 AND group_id = $2 AND archived = $7"
                } else {
                    "INSERT INTO modifier_options (id, group_id, name, price_delta, is_default, position, archived) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                };
                ::sqlx::query(sql)
                    .bind(o.id.unwrap_or_default().as_uuid())
                    .bind(group.as_uuid())
                    .bind(o.name.as_str())
                    .bind(o.price_delta.amount)
                    .bind(o.default)
                    .bind(position as i64)
                    .bind(false)
                    .execute(&mut *conn)
                    .await
                    .map_err(classify)?;
            }
            for old in existing {
                if !draft.options.iter().any(|o| o.id.is_some_and(|id| id.as_uuid() == old)) {
                    ::sqlx::query("UPDATE modifier_options SET archived = $1 WHERE id = $2")
                        .bind(true)
                        .bind(old)
                        .execute(&mut *conn)
                        .await
                        .map_err(classify)?;
                }
            }
            Ok(())
        }

        /// The parent of every category of a store, for loop checks.
        async fn category_parents(conn: &mut Conn, store: StoreId) -> Result<HashMap<Uuid, Uuid>> {
            let rows: Vec<(Uuid, Option<Uuid>)> = ::sqlx::query_as("SELECT id, parent_id FROM categories WHERE store_id = $1")
                .bind(store.as_uuid())
                .fetch_all(&mut *conn)
                .await
                .map_err(classify)?;
            Ok(rows.into_iter().filter_map(|(id, parent)| parent.map(|p| (id, p))).collect())
        }

        async fn check_parent(conn: &mut Conn, store: StoreId, category: Option<CategoryId>, draft: &CategoryDraft) -> Result<()> {
            let Some(parent) = draft.parent_id else { return Ok(()) };
            let found = present(conn, "SELECT id FROM categories WHERE store_id = ", store, &[parent.as_uuid()]).await?;
            if found.is_empty() {
                return Err(StoreError::invalid("parent_id", "unknown", "no category with this id in this store"));
            }
            let parents = category_parents(conn, store).await?;
            check_category_parent(category, parent, |id| parents.get(&id.as_uuid()).map(|p| CategoryId::from_uuid(*p)))
                .map_err(StoreError::Invalid)
        }

        async fn write_category(conn: &mut Conn, sql: &'static str, store: StoreId, id: CategoryId, version: i64, draft: &CategoryDraft) -> Result<u64> {
            Ok(::sqlx::query(sql)
                .bind(id.as_uuid())
                .bind(store.as_uuid())
                .bind(draft.parent_id.map(|p| p.as_uuid()))
                .bind(draft.name.as_str())
                .bind(i64::from(draft.position))
                .bind(draft.station.as_ref().map(|s| s.as_str()))
                .bind(draft.image_url.as_ref().map(|u| u.as_str()))
                .bind(clock::now())
                .bind(version)
                .execute(&mut *conn)
                .await
                .map_err(classify)?
                .rows_affected())
        }

        /// A new rate, for [`write_tax_rate`] (also by the catalog import).
        const INSERT_TAX_RATE: &str = "INSERT INTO tax_rates (id, store_id, name, kind, rate, compound, is_default, status, version, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $9, $8, $8)";
        /// A new group, for [`write_group`] (also by the catalog import).
        const INSERT_GROUP: &str = "INSERT INTO modifier_groups (id, store_id, name, min_choices, max_choices, pricing, status, version, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $9, $8, $8)";

        async fn write_tax_rate(conn: &mut Conn, sql: &'static str, store: StoreId, id: TaxRateId, version: i64, draft: &TaxRateDraft) -> Result<u64> {
            Ok(::sqlx::query(sql)
                .bind(id.as_uuid())
                .bind(store.as_uuid())
                .bind(draft.name.as_str())
                .bind(draft.kind.as_str())
                .bind(i64::from(draft.rate.units()))
                .bind(draft.compound)
                .bind(draft.default)
                .bind(clock::now())
                .bind(version)
                .execute(&mut *conn)
                .await
                .map_err(classify)?
                .rows_affected())
        }

        async fn write_group(conn: &mut Conn, sql: &'static str, store: StoreId, id: ModifierGroupId, version: i64, draft: &ModifierGroupDraft) -> Result<u64> {
            Ok(::sqlx::query(sql)
                .bind(id.as_uuid())
                .bind(store.as_uuid())
                .bind(draft.name.as_str())
                .bind(i64::from(draft.min_choices))
                .bind(i64::from(draft.max_choices))
                .bind(draft.pricing.as_str())
                .bind(draft.status.as_str())
                .bind(clock::now())
                .bind(version)
                .execute(&mut *conn)
                .await
                .map_err(classify)?
                .rows_affected())
        }

        /// Archives a row with a status column, bumping its version; `entity` names it.
        async fn archive(conn: &mut Conn, sql: &'static str, store: StoreId, id: Uuid, entity: &'static str) -> Result<()> {
            let affected = ::sqlx::query(sql)
                .bind(clock::now())
                .bind(id)
                .bind(store.as_uuid())
                .execute(&mut *conn)
                .await
                .map_err(classify)?
                .rows_affected();
            one_row(affected, entity)?;
            bump_revision(conn, store).await
        }

        $crate::impl_sql_catalog_import!();

        #[::async_trait::async_trait]
        impl CatalogRepo for $storage {
            async fn catalog_revision(&self, store: StoreId) -> Result<i64> {
                let row: Option<(i64,)> = ::sqlx::query_as("SELECT revision FROM catalog_revisions WHERE store_id = $1")
                    .bind(store.as_uuid())
                    .fetch_optional(self.reader())
                    .await
                    .map_err(classify)?;
                Ok(row.map_or(0, |(r,)| r))
            }

            async fn catalog_settings(&self, store: StoreId) -> Result<Option<CatalogSettings>> {
                ::sqlx::query_as::<_, SettingsRow>(concat!("SELECT ", $crate::settings_columns!(), " FROM catalog_settings WHERE store_id = $1"))
                    .bind(store.as_uuid())
                    .fetch_optional(self.reader())
                    .await
                    .map_err(classify)?
                    .map(CatalogSettings::try_from)
                    .transpose()
            }

            async fn update_catalog_settings(&self, store: StoreId, expected_version: i64, patch: &SettingsPatch, defaults: CatalogSettings) -> Result<CatalogSettings> {
                let mut tx = begin_write(self.writer()).await?;
                let current = ::sqlx::query_as::<_, SettingsRow>(concat!("SELECT ", $crate::settings_columns!(), " FROM catalog_settings WHERE store_id = $1"))
                    .bind(store.as_uuid())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(classify)?
                    .map(CatalogSettings::try_from)
                    .transpose()?
                    .unwrap_or(defaults);
                if current.version != expected_version {
                    return Err(StoreError::VersionMismatch { entity: "catalog settings", current: current.version });
                }
                let next = CatalogSettings {
                    pricing: patch.pricing.unwrap_or(current.pricing),
                    rounding_scope: patch.rounding_scope.unwrap_or(current.rounding_scope),
                    rounding_mode: patch.rounding_mode.unwrap_or(current.rounding_mode),
                    cash_increment: patch.cash_increment.unwrap_or(current.cash_increment),
                    version: current.version + 1,
                };
                ::sqlx::query(
                    "INSERT INTO catalog_settings (store_id, pricing, rounding_scope, rounding_mode, cash_increment, version, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)
                     ON CONFLICT (store_id) DO UPDATE SET pricing = $2, rounding_scope = $3, rounding_mode = $4,
                         cash_increment = $5, version = $6, updated_at = $7",
                )
                .bind(store.as_uuid())
                .bind(next.pricing.as_str())
                .bind(next.rounding_scope.as_str())
                .bind(next.rounding_mode.as_str())
                .bind(next.cash_increment)
                .bind(next.version)
                .bind(clock::now())
                .execute(&mut *tx)
                .await
                .map_err(missing_store)?;
                bump_revision(&mut tx, store).await?;
                tx.commit().await.map_err(classify)?;
                Ok(next)
            }

            async fn create_tax_rate(&self, store: StoreId, draft: &TaxRateDraft) -> Result<TaxRate> {
                let id = TaxRateId::new();
                let mut tx = begin_write(self.writer()).await?;
                currency_of(&mut *tx, store).await?;
                write_tax_rate(&mut tx, INSERT_TAX_RATE, store, id, 1, draft).await?;
                bump_revision(&mut tx, store).await?;
                tx.commit().await.map_err(classify)?;
                self.get_tax_rate(store, id).await?.ok_or(StoreError::NotFound { entity: "tax rate" })
            }

            async fn get_tax_rate(&self, store: StoreId, id: TaxRateId) -> Result<Option<TaxRate>> {
                let sql = concat!("SELECT ", $crate::tax_rate_columns!(), " FROM tax_rates WHERE id = $1 AND store_id = $2");
                one_in_store::<TaxRateRow, _>(self.writer(), sql, id.as_uuid(), store).await
            }

            async fn list_tax_rates(&self, store: StoreId) -> Result<Vec<TaxRate>> {
                let sql = concat!("SELECT ", $crate::tax_rate_columns!(), " FROM tax_rates WHERE store_id = $1 ORDER BY id");
                all_in_store::<TaxRateRow, _>(self.reader(), sql, store).await
            }

            async fn update_tax_rate(&self, store: StoreId, id: TaxRateId, expected_version: i64, draft: &TaxRateDraft) -> Result<TaxRate> {
                let mut tx = begin_write(self.writer()).await?;
                let affected = write_tax_rate(&mut tx, "UPDATE tax_rates SET name = $3, kind = $4, rate = $5, compound = $6, is_default = $7,
                     version = version + 1, updated_at = $8 WHERE id = $1 AND store_id = $2 AND version = $9", store, id, expected_version, draft).await?;
                versioned(&mut tx, affected, "SELECT version FROM tax_rates WHERE id = $1 AND store_id = $2", id.as_uuid(), store, "tax rate").await?;
                bump_revision(&mut tx, store).await?;
                tx.commit().await.map_err(classify)?;
                self.get_tax_rate(store, id).await?.ok_or(StoreError::NotFound { entity: "tax rate" })
            }

            async fn archive_tax_rate(&self, store: StoreId, id: TaxRateId) -> Result<()> {
                let mut tx = begin_write(self.writer()).await?;
                owned(&mut tx, "SELECT id FROM tax_rates WHERE store_id = ", store, id.as_uuid(), "tax rate").await?;
                // Rare enough to scan the store's products for.
                let used: Option<(Uuid,)> = ::sqlx::query_as(
                    "SELECT id FROM products WHERE store_id = $1 AND status = 'active' AND tax_rate_list LIKE $2 LIMIT 1",
                )
                .bind(store.as_uuid())
                .bind(format!("%{id}%"))
                .fetch_optional(&mut *tx)
                .await
                .map_err(classify)?;
                if used.is_some() {
                    return Err(StoreError::InUse { entity: "tax rate", by: "active products" });
                }
                archive(&mut tx, "UPDATE tax_rates SET status = 'archived', version = version + 1, updated_at = $1 WHERE id = $2 AND store_id = $3", store, id.as_uuid(), "tax rate").await?;
                tx.commit().await.map_err(classify)
            }

            async fn create_category(&self, store: StoreId, draft: &CategoryDraft) -> Result<Category> {
                let id = CategoryId::new();
                let mut tx = begin_write(self.writer()).await?;
                currency_of(&mut *tx, store).await?;
                check_parent(&mut tx, store, None, draft).await?;
                write_category(&mut tx, "INSERT INTO categories (id, store_id, parent_id, name, position, station, image_url, version, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $9, $8, $8)", store, id, 1, draft).await?;
                bump_revision(&mut tx, store).await?;
                tx.commit().await.map_err(classify)?;
                self.get_category(store, id).await?.ok_or(StoreError::NotFound { entity: "category" })
            }

            async fn get_category(&self, store: StoreId, id: CategoryId) -> Result<Option<Category>> {
                let sql = concat!("SELECT ", $crate::category_columns!(), " FROM categories WHERE id = $1 AND store_id = $2");
                one_in_store::<CategoryRow, _>(self.writer(), sql, id.as_uuid(), store).await
            }

            async fn list_categories(&self, store: StoreId) -> Result<Vec<Category>> {
                let sql = concat!("SELECT ", $crate::category_columns!(), " FROM categories WHERE store_id = $1 ORDER BY position, name, id");
                all_in_store::<CategoryRow, _>(self.reader(), sql, store).await
            }

            async fn update_category(&self, store: StoreId, id: CategoryId, expected_version: i64, draft: &CategoryDraft) -> Result<Category> {
                let mut tx = begin_write(self.writer()).await?;
                check_parent(&mut tx, store, Some(id), draft).await?;
                let affected = write_category(&mut tx, "UPDATE categories SET parent_id = $3, name = $4, position = $5, station = $6, image_url = $7,
                     version = version + 1, updated_at = $8 WHERE id = $1 AND store_id = $2 AND version = $9", store, id, expected_version, draft).await?;
                versioned(&mut tx, affected, "SELECT version FROM categories WHERE id = $1 AND store_id = $2", id.as_uuid(), store, "category").await?;
                bump_revision(&mut tx, store).await?;
                tx.commit().await.map_err(classify)?;
                self.get_category(store, id).await?.ok_or(StoreError::NotFound { entity: "category" })
            }

            async fn delete_category(&self, store: StoreId, id: CategoryId) -> Result<()> {
                let mut tx = begin_write(self.writer()).await?;
                owned(&mut tx, "SELECT id FROM categories WHERE store_id = ", store, id.as_uuid(), "category").await?;
                let child: Option<(Uuid,)> = ::sqlx::query_as("SELECT id FROM categories WHERE parent_id = $1 LIMIT 1")
                    .bind(id.as_uuid())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(classify)?;
                if child.is_some() {
                    return Err(StoreError::InUse { entity: "category", by: "subcategories" });
                }
                let product: Option<(Uuid,)> = ::sqlx::query_as("SELECT id FROM products WHERE category_id = $1 AND status = 'active' LIMIT 1")
                    .bind(id.as_uuid())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(classify)?;
                if product.is_some() {
                    return Err(StoreError::InUse { entity: "category", by: "active products" });
                }
                ::sqlx::query("UPDATE products SET category_id = NULL WHERE category_id = $1 AND store_id = $2")
                    .bind(id.as_uuid())
                    .bind(store.as_uuid())
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                let affected = ::sqlx::query("DELETE FROM categories WHERE id = $1 AND store_id = $2")
                    .bind(id.as_uuid())
                    .bind(store.as_uuid())
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?
                    .rows_affected();
                one_row(affected, "category")?;
                bump_revision(&mut tx, store).await?;
                tx.commit().await.map_err(classify)
            }

            async fn create_modifier_group(&self, store: StoreId, draft: &ModifierGroupDraft) -> Result<ModifierGroup> {
                let id = ModifierGroupId::new();
                let mut tx = begin_write(self.writer()).await?;
                let currency = currency_of(&mut *tx, store).await?;
                write_group(&mut tx, INSERT_GROUP, store, id, 1, draft).await?;
                write_options(&mut tx, id, draft, currency).await?;
                bump_revision(&mut tx, store).await?;
                tx.commit().await.map_err(classify)?;
                self.get_modifier_group(store, id).await?.ok_or(StoreError::NotFound { entity: "modifier group" })
            }

            async fn get_modifier_group(&self, store: StoreId, id: ModifierGroupId) -> Result<Option<ModifierGroup>> {
                let row = ::sqlx::query_as::<_, GroupRow>(concat!("SELECT ", $crate::group_columns!(), " FROM modifier_groups WHERE id = $1 AND store_id = $2"))
                    .bind(id.as_uuid())
                    .bind(store.as_uuid())
                    .fetch_optional(self.writer())
                    .await
                    .map_err(classify)?;
                let Some(row) = row else { return Ok(None) };
                let currency = currency_of(self.writer(), store).await?;
                Ok(groups_with_options(self.writer(), vec![row], currency).await?.pop())
            }

            async fn list_modifier_groups(&self, store: StoreId, status: Option<Status>, after: Option<ModifierGroupId>, limit: Limit) -> Result<Page<ModifierGroup, ModifierGroupId>> {
                let currency = currency_of(self.reader(), store).await?;
                let mut query = ::sqlx::QueryBuilder::<Db>::new(concat!("SELECT ", $crate::group_columns!(), " FROM modifier_groups WHERE store_id = "));
                query.push_bind(store.as_uuid());
                if let Some(status) = status {
                    query.push(" AND status = ").push_bind(status.as_str());
                }
                if let Some(after) = after {
                    query.push(" AND id > ").push_bind(after.as_uuid());
                }
                query.push(" ORDER BY id LIMIT ").push_bind(limit.probe());
                let rows: Vec<GroupRow> = query.build_query_as().fetch_all(self.reader()).await.map_err(classify)?;
                let groups = groups_with_options(self.reader(), rows, currency).await?;
                Ok(Page::from_probe(groups, limit, |g| g.id))
            }

            async fn update_modifier_group(&self, store: StoreId, id: ModifierGroupId, expected_version: i64, draft: &ModifierGroupDraft) -> Result<ModifierGroup> {
                let mut tx = begin_write(self.writer()).await?;
                let currency = currency_of(&mut *tx, store).await?;
                let affected = write_group(&mut tx, "UPDATE modifier_groups SET name = $3, min_choices = $4, max_choices = $5, pricing = $6, status = $7,
                     version = version + 1, updated_at = $8 WHERE id = $1 AND store_id = $2 AND version = $9", store, id, expected_version, draft).await?;
                versioned(&mut tx, affected, "SELECT version FROM modifier_groups WHERE id = $1 AND store_id = $2", id.as_uuid(), store, "modifier group").await?;
                write_options(&mut tx, id, draft, currency).await?;
                bump_revision(&mut tx, store).await?;
                tx.commit().await.map_err(classify)?;
                self.get_modifier_group(store, id).await?.ok_or(StoreError::NotFound { entity: "modifier group" })
            }

            async fn archive_modifier_group(&self, store: StoreId, id: ModifierGroupId) -> Result<()> {
                let mut tx = begin_write(self.writer()).await?;
                archive(&mut tx, "UPDATE modifier_groups SET status = 'archived', version = version + 1, updated_at = $1 WHERE id = $2 AND store_id = $3", store, id.as_uuid(), "modifier group").await?;
                tx.commit().await.map_err(classify)
            }

            async fn create_product(&self, store: StoreId, draft: &ProductDraft) -> Result<Product> {
                let id = ProductId::new();
                let mut tx = begin_write(self.writer()).await?;
                let currency = currency_of(&mut *tx, store).await?;
                check_product(&mut tx, store, None, draft, currency).await?;
                insert_product_row(&mut tx, store, id, draft).await?;
                write_product_parts(&mut tx, store, id, draft).await?;
                bump_revision(&mut tx, store).await?;
                tx.commit().await.map_err(classify)?;
                self.get_product(store, id).await?.ok_or(StoreError::NotFound { entity: "product" })
            }

            async fn get_product(&self, store: StoreId, id: ProductId) -> Result<Option<Product>> {
                let row = ::sqlx::query_as::<_, ProductRow>(concat!("SELECT ", $crate::product_columns!(), " FROM products WHERE id = $1 AND store_id = $2"))
                    .bind(id.as_uuid())
                    .bind(store.as_uuid())
                    .fetch_optional(self.writer())
                    .await
                    .map_err(classify)?;
                let Some(row) = row else { return Ok(None) };
                let currency = currency_of(self.writer(), store).await?;
                Ok(complete_products(self.writer(), vec![row], currency).await?.pop())
            }

            async fn list_products(&self, store: StoreId, filter: &ProductFilter, after: Option<ProductId>, limit: Limit) -> Result<Page<Product, ProductId>> {
                let currency = currency_of(self.reader(), store).await?;
                let filtered = |query: &mut ::sqlx::QueryBuilder<'_, Db>| {
                    query.push_bind(store.as_uuid());
                    if let Some(status) = filter.status {
                        query.push(" AND status = ").push_bind(status.as_str());
                    }
                    if let Some(category) = filter.category {
                        query.push(" AND category_id = ").push_bind(category.as_uuid());
                    }
                };
                let search = filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty());
                let rows: Vec<ProductRow> = match search {
                    None => {
                        let mut query = ::sqlx::QueryBuilder::<Db>::new(concat!("SELECT ", $crate::product_columns!(), " FROM products WHERE store_id = "));
                        filtered(&mut query);
                        if let Some(after) = after {
                            query.push(" AND id > ").push_bind(after.as_uuid());
                        }
                        query.push(" ORDER BY id LIMIT ").push_bind(limit.probe());
                        query.build_query_as().fetch_all(self.reader()).await.map_err(classify)?
                    }
                    Some(text) => {
                        // Two narrow queries instead of one with OR, each walking an index
                        // and stopping at the page size, merged in name order: a name
                        // prefix ([k, k + U+10FFFF) in byte order, which both backends use
                        // for this column), or an exact SKU or barcode.
                        let key = search_key(text);
                        let in_name_order = |query: &mut ::sqlx::QueryBuilder<'_, Db>| {
                            if let Some(after) = after {
                                query.push(" AND (name_key, id) > (SELECT name_key, id FROM products WHERE id = ").push_bind(after.as_uuid());
                                query.push(")");
                            }
                            query.push(" ORDER BY name_key, id LIMIT ").push_bind(limit.probe());
                        };
                        let mut by_name = ::sqlx::QueryBuilder::<Db>::new(concat!("SELECT ", $crate::product_columns!(), " FROM products WHERE store_id = "));
                        filtered(&mut by_name);
                        by_name.push(" AND name_key >= ").push_bind(key.clone());
                        by_name.push(" AND name_key < ").push_bind(format!("{key}\u{10FFFF}"));
                        in_name_order(&mut by_name);
                        // Whole codes: a handful of products, found through the code
                        // indexes (one lookup each), then read by id.
                        let by_code = async {
                            let ids: Vec<(Uuid,)> = ::sqlx::query_as(
                                "SELECT product_id FROM product_variants WHERE store_id = $1 AND NOT archived AND sku = $2
                                 UNION SELECT product_id FROM product_variants WHERE store_id = $1 AND NOT archived AND sku = $3
                                 UNION SELECT product_id FROM product_variants WHERE store_id = $1 AND NOT archived AND barcode = $2",
                            )
                            .bind(store.as_uuid())
                            .bind(text.to_owned())
                            .bind(text.to_uppercase())
                            .fetch_all(self.reader())
                            .await?;
                            if ids.is_empty() {
                                return Ok(Vec::new());
                            }
                            let mut query = ::sqlx::QueryBuilder::<Db>::new(concat!("SELECT ", $crate::product_columns!(), " FROM products WHERE store_id = "));
                            filtered(&mut query);
                            query.push(" AND id IN (");
                            let mut list = query.separated(", ");
                            for (id,) in &ids {
                                list.push_bind(*id);
                            }
                            query.push(")");
                            in_name_order(&mut query);
                            query.build_query_as::<ProductRow>().fetch_all(self.reader()).await
                        };
                        let (mut rows, coded) = $crate::try_join(
                            by_name.build_query_as::<ProductRow>().fetch_all(self.reader()),
                            by_code,
                        )
                        .await
                        .map_err(classify)?;
                        rows.extend(coded);
                        rows.sort_by(|a, b| (&a.name_key, a.id).cmp(&(&b.name_key, b.id)));
                        rows.dedup_by_key(|r| r.id);
                        rows.truncate(usize::try_from(limit.probe()).unwrap_or(usize::MAX));
                        rows
                    }
                };
                let products = complete_products(self.reader(), rows, currency).await?;
                Ok(Page::from_probe(products, limit, |p| p.id))
            }

            async fn update_product(&self, store: StoreId, id: ProductId, expected_version: i64, draft: &ProductDraft) -> Result<Product> {
                let mut tx = begin_write(self.writer()).await?;
                let currency = currency_of(&mut *tx, store).await?;
                update_product_row(&mut tx, store, id, Some(expected_version), draft).await?;
                check_product(&mut tx, store, Some(id), draft, currency).await?;
                write_product_parts(&mut tx, store, id, draft).await?;
                bump_revision(&mut tx, store).await?;
                tx.commit().await.map_err(classify)?;
                self.get_product(store, id).await?.ok_or(StoreError::NotFound { entity: "product" })
            }

            async fn archive_product(&self, store: StoreId, id: ProductId) -> Result<()> {
                let mut tx = begin_write(self.writer()).await?;
                archive(&mut tx, "UPDATE products SET status = 'archived', version = version + 1, updated_at = $1 WHERE id = $2 AND store_id = $3", store, id.as_uuid(), "product").await?;
                tx.commit().await.map_err(classify)
            }

            async fn menu(&self, store: StoreId) -> Result<MenuData> {
                // The revision is read first: if a change lands meanwhile, the data is at
                // least as new as the revision it is labelled with, never older.
                let revision = self.catalog_revision(store).await?;
                let overrides = self.product_overrides(store).await?;
                let store = self.catalog_source(store).await?.unwrap_or(store);
                let pool = self.reader();
                let currency = currency_of(pool, store).await?;
                let settings = self.catalog_settings(store).await?.unwrap_or_else(|| CatalogSettings::defaults_for(currency));
                let tax_rates = self.list_tax_rates(store).await?.into_iter().filter(|r| r.status == Status::Active).collect();
                let categories = self.list_categories(store).await?;
                let group_rows: Vec<GroupRow> = ::sqlx::query_as(concat!("SELECT ", $crate::group_columns!(), " FROM modifier_groups WHERE store_id = $1 AND status = 'active' ORDER BY name, id"))
                    .bind(store.as_uuid())
                    .fetch_all(pool)
                    .await
                    .map_err(classify)?;
                let options: Vec<OptionRow> = ::sqlx::query_as(
                    "SELECT o.id, o.group_id, o.name, o.price_delta, o.is_default FROM modifier_options o
                     JOIN modifier_groups g ON g.id = o.group_id
                     WHERE g.store_id = $1 AND g.status = 'active' AND NOT o.archived ORDER BY o.group_id, o.position",
                )
                .bind(store.as_uuid())
                .fetch_all(pool)
                .await
                .map_err(classify)?;
                let modifier_groups = assemble_groups(group_rows, options, currency)?;
                // The two large reads run side by side on separate reader connections.
                let product_rows = ::sqlx::query_as::<_, ProductRow>(concat!("SELECT ", $crate::product_columns!(), " FROM products WHERE store_id = $1 AND status = 'active'"))
                    .bind(store.as_uuid())
                    .fetch_all(pool);
                let variant_rows = ::sqlx::query_as::<_, VariantRow>(concat!("SELECT ", $crate::variant_columns!(), " FROM product_variants WHERE store_id = $1 AND NOT archived"))
                    .bind(store.as_uuid())
                    .fetch_all(pool);
                let mut rows = product_rows.await.map_err(classify)?;
                let mut variants = variant_rows.await.map_err(classify)?;
                variants.sort_unstable_by_key(|v| (v.product_id, v.position));
                let mut parts = ProductParts::default();
                parts.add_variants(variants, currency)?;
                rows.sort_unstable_by(|a, b| (a.position, &a.name_key, a.id).cmp(&(b.position, &b.name_key, b.id)));
                let mut products = rows.into_iter().map(|row| parts.assemble(row)).collect::<Result<Vec<_>>>()?;
                ::comanda_domain::catalog::overrides::apply_all(&mut products, &overrides);
                Ok(MenuData { revision, settings, tax_rates, categories, modifier_groups, products })
            }

            async fn import_catalog(&self, store: StoreId, plan: &ImportPlan) -> Result<ImportSummary> {
                import_catalog(self.writer(), store, plan).await
            }
        }
    };
}
