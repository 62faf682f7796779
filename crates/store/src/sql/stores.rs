/// `StoreRepo`; expanded inside [`impl_sql_repos!`](crate::impl_sql_repos).
#[doc(hidden)]
#[macro_export]
macro_rules! impl_sql_stores {
    ($storage:ty) => {
        use $crate::rows::StoreRow;
        use $crate::{Limit, Page, StoreRepo};
        use ::comanda_domain::{clock, NewStore, Store, StoreId, StorePatch};

        pub(super) async fn insert_store<'c, E>(conn: E, store: &NewStore) -> Result<Store>
        where
            E: ::sqlx::Executor<'c, Database = Db>,
        {
            ::sqlx::query_as::<_, StoreRow>(concat!(
                "INSERT INTO stores (id, code, name, currency, timezone, locale, version, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) RETURNING ",
                $crate::store_columns!()
            ))
            .bind(store.id.as_uuid())
            .bind(store.code.as_str())
            .bind(store.name.as_str())
            .bind(store.currency.code())
            .bind(store.timezone.name())
            .bind(store.locale.tag())
            .bind(clock::now())
            .fetch_one(conn)
            .await
            .map_err(classify)?
            .try_into()
        }

        #[::async_trait::async_trait]
        impl StoreRepo for $storage {
            async fn create_store(&self, store: &NewStore) -> Result<Store> {
                insert_store(self.writer(), store).await
            }

            async fn get_store(&self, id: StoreId) -> Result<Option<Store>> {
                ::sqlx::query_as::<_, StoreRow>(concat!("SELECT ", $crate::store_columns!(), " FROM stores WHERE id = $1"))
                    .bind(id.as_uuid())
                    .fetch_optional(self.reader())
                    .await
                    .map_err(classify)?
                    .map(Store::try_from)
                    .transpose()
            }

            async fn list_stores(&self, only: Option<&[StoreId]>, after: Option<StoreId>, limit: Limit) -> Result<Page<Store, StoreId>> {
                let mut query = ::sqlx::QueryBuilder::<Db>::new(concat!("SELECT ", $crate::store_columns!(), " FROM stores WHERE 1 = 1"));
                if let Some(only) = only {
                    if only.is_empty() {
                        query.push(" AND 1 = 0");
                    } else {
                        query.push(" AND id IN (");
                        let mut list = query.separated(", ");
                        for id in only {
                            list.push_bind(id.as_uuid());
                        }
                        query.push(")");
                    }
                }
                if let Some(cursor) = after {
                    query.push(" AND id > ").push_bind(cursor.as_uuid());
                }
                query.push(" ORDER BY id LIMIT ").push_bind(limit.probe());
                let rows: Vec<StoreRow> = query.build_query_as().fetch_all(self.reader()).await.map_err(classify)?;
                let stores = rows.into_iter().map(Store::try_from).collect::<Result<Vec<_>>>()?;
                Ok(Page::from_probe(stores, limit, |s| s.id))
            }

            async fn update_store(&self, id: StoreId, expected_version: i64, patch: &StorePatch) -> Result<Store> {
                let updated = ::sqlx::query_as::<_, StoreRow>(concat!(
                    "UPDATE stores SET
                        name = COALESCE($1, name),
                        timezone = COALESCE($2, timezone),
                        locale = COALESCE($3, locale),
                        version = version + 1,
                        updated_at = $4
                     WHERE id = $5 AND version = $6
                     RETURNING ",
                    $crate::store_columns!()
                ))
                .bind(patch.name.as_ref().map(|n| n.as_str().to_owned()))
                .bind(patch.timezone.map(|t| t.name()))
                .bind(patch.locale.map(|l| l.tag()))
                .bind(clock::now())
                .bind(id.as_uuid())
                .bind(expected_version)
                .fetch_optional(self.writer())
                .await
                .map_err(classify)?;
                match updated {
                    Some(row) => row.try_into(),
                    None => {
                        let current = self.get_store(id).await?.map(|s| s.version);
                        Err(StoreError::stale_or_missing("store", current))
                    }
                }
            }
        }
    };
}
