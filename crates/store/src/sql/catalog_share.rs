/// `CatalogShareRepo`; expanded inside [`impl_sql_repos!`](crate::impl_sql_repos), after
/// the catalog (it reuses its helpers).
#[doc(hidden)]
#[macro_export]
macro_rules! impl_sql_catalog_share {
    ($storage:ty) => {
        use $crate::CatalogShareRepo;
        use $crate::catalog_share::{override_from_row, prices_to_text};
        use ::comanda_domain::catalog::overrides::ProductOverride;

        const SOURCE_OF: &str = "SELECT source_id FROM catalog_follows WHERE store_id = $1";

        async fn source_of<'c, E: ::sqlx::Executor<'c, Database = Db>>(exec: E, store: StoreId) -> Result<Option<StoreId>> {
            let row: Option<(Uuid,)> = ::sqlx::query_as(SOURCE_OF)
                .bind(store.as_uuid())
                .fetch_optional(exec)
                .await
                .map_err(classify)?;
            Ok(row.map(|(id,)| StoreId::from_uuid(id)))
        }

        fn refuse_source(code: &'static str, message: &str) -> StoreError {
            StoreError::invalid("source_store_id", code, message)
        }

        /// Checks that `store` may start following `source`.
        async fn check_follow(conn: &mut Conn, store: StoreId, source: StoreId) -> Result<()> {
            if store == source {
                return Err(refuse_source("same_store", "a store cannot follow its own catalog"));
            }
            let own = currency_of(&mut *conn, store).await?;
            let theirs = match currency_of(&mut *conn, source).await {
                Err(StoreError::NotFound { .. }) => return Err(refuse_source("unknown", "no store with this id")),
                other => other?,
            };
            if own != theirs {
                return Err(refuse_source("currency_mismatch", &format!("that store prices in {theirs}, this one in {own}")));
            }
            if source_of(&mut *conn, source).await?.is_some() {
                return Err(refuse_source("source_follows", "that store follows another store's catalog; follow that one instead"));
            }
            let followed: Option<(Uuid,)> = ::sqlx::query_as("SELECT store_id FROM catalog_follows WHERE source_id = $1 LIMIT 1")
                .bind(store.as_uuid())
                .fetch_optional(&mut *conn)
                .await
                .map_err(classify)?;
            if followed.is_some() {
                return Err(refuse_source("store_is_followed", "other stores follow this store's catalog"));
            }
            let own_products: Option<(Uuid,)> = ::sqlx::query_as("SELECT id FROM products WHERE store_id = $1 AND status = 'active' LIMIT 1")
                .bind(store.as_uuid())
                .fetch_optional(&mut *conn)
                .await
                .map_err(classify)?;
            if own_products.is_some() {
                return Err(refuse_source("has_own_catalog", "this store has products of its own; archive them first"));
            }
            Ok(())
        }

        #[::async_trait::async_trait]
        impl CatalogShareRepo for $storage {
            async fn catalog_source(&self, store: StoreId) -> Result<Option<StoreId>> {
                source_of(self.reader(), store).await
            }

            async fn catalog_followers(&self, store: StoreId) -> Result<Vec<StoreId>> {
                let rows: Vec<(Uuid,)> = ::sqlx::query_as("SELECT store_id FROM catalog_follows WHERE source_id = $1 ORDER BY store_id")
                    .bind(store.as_uuid())
                    .fetch_all(self.reader())
                    .await
                    .map_err(classify)?;
                Ok(rows.into_iter().map(|(id,)| StoreId::from_uuid(id)).collect())
            }

            async fn follow_catalog(&self, store: StoreId, source: Option<StoreId>) -> Result<()> {
                let mut tx = begin_write(self.writer()).await?;
                if let Some(source) = source {
                    check_follow(&mut tx, store, source).await?;
                    ::sqlx::query(
                        "INSERT INTO catalog_follows (store_id, source_id, since) VALUES ($1, $2, $3)
                         ON CONFLICT (store_id) DO UPDATE SET source_id = $2, since = $3",
                    )
                    .bind(store.as_uuid())
                    .bind(source.as_uuid())
                    .bind(clock::now())
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                } else {
                    ::sqlx::query("DELETE FROM catalog_follows WHERE store_id = $1")
                        .bind(store.as_uuid())
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                }
                // Overrides were made against the catalog being left.
                ::sqlx::query("DELETE FROM product_overrides WHERE store_id = $1")
                    .bind(store.as_uuid())
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                bump_revision(&mut tx, store).await?;
                tx.commit().await.map_err(classify)
            }

            async fn product_overrides(&self, store: StoreId) -> Result<Vec<ProductOverride>> {
                let currency = currency_of(self.reader(), store).await?;
                let rows: Vec<(Uuid, Option<bool>, String)> = ::sqlx::query_as(
                    "SELECT product_id, available, prices FROM product_overrides WHERE store_id = $1 ORDER BY product_id",
                )
                .bind(store.as_uuid())
                .fetch_all(self.reader())
                .await
                .map_err(classify)?;
                rows.into_iter()
                    .map(|(product, available, prices)| override_from_row(product, available, &prices, currency))
                    .collect()
            }

            async fn set_product_override(&self, store: StoreId, change: &ProductOverride) -> Result<()> {
                let mut tx = begin_write(self.writer()).await?;
                let source = source_of(&mut *tx, store).await?.unwrap_or(store);
                owned(&mut tx, "SELECT id FROM products WHERE store_id = ", source, change.product_id.as_uuid(), "product").await?;
                if change.is_empty() {
                    ::sqlx::query("DELETE FROM product_overrides WHERE store_id = $1 AND product_id = $2")
                        .bind(store.as_uuid())
                        .bind(change.product_id.as_uuid())
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?;
                } else {
                    ::sqlx::query(
                        "INSERT INTO product_overrides (store_id, product_id, available, prices, updated_at) VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT (store_id, product_id) DO UPDATE SET available = $3, prices = $4, updated_at = $5",
                    )
                    .bind(store.as_uuid())
                    .bind(change.product_id.as_uuid())
                    .bind(change.available)
                    .bind(prices_to_text(change)?)
                    .bind(clock::now())
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                }
                bump_revision(&mut tx, store).await?;
                tx.commit().await.map_err(classify)
            }

            async fn clear_product_override(&self, store: StoreId, product: ProductId) -> Result<()> {
                let mut tx = begin_write(self.writer()).await?;
                let source = source_of(&mut *tx, store).await?.unwrap_or(store);
                owned(&mut tx, "SELECT id FROM products WHERE store_id = ", source, product.as_uuid(), "product").await?;
                let removed = ::sqlx::query("DELETE FROM product_overrides WHERE store_id = $1 AND product_id = $2")
                    .bind(store.as_uuid())
                    .bind(product.as_uuid())
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?
                    .rows_affected();
                if removed > 0 {
                    bump_revision(&mut tx, store).await?;
                }
                tx.commit().await.map_err(classify)
            }
        }
    };
}
