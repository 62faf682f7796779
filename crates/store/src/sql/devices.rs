/// `DeviceRepo` and `ApiKeyRepo`; expanded inside [`impl_sql_repos!`](crate::impl_sql_repos).
#[doc(hidden)]
#[macro_export]
macro_rules! impl_sql_devices {
    ($storage:ty) => {
        use $crate::rows::{ApiKeyRow, DeviceRow, permissions_to_text};
        use $crate::{ApiKeyRepo, DeviceRepo};
        use ::comanda_domain::identity::{ApiKey, Device, NewApiKey, NewDevice};
        use ::comanda_domain::ApiKeyId;

        const API_KEY_STORES: &str = "SELECT api_key_id, store_id FROM api_key_stores WHERE api_key_id IN (";

        async fn keys_with_stores(pool: &::sqlx::Pool<Db>, rows: Vec<ApiKeyRow>) -> Result<Vec<ApiKey>> {
            let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
            let mut stores = children(pool, API_KEY_STORES, &ids, ") ORDER BY 1, 2").await?;
            rows.into_iter()
                .map(|row| {
                    let own = stores.remove(&row.id).unwrap_or_default();
                    row.into_api_key(own)
                })
                .collect()
        }

        #[::async_trait::async_trait]
        impl DeviceRepo for $storage {
            async fn create_device(&self, device: &NewDevice) -> Result<Device> {
                ::sqlx::query_as::<_, DeviceRow>(concat!(
                    "INSERT INTO devices (id, store_id, name, secret_hash, created_by, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ",
                    $crate::device_columns!()
                ))
                .bind(device.id.as_uuid())
                .bind(device.store_id.as_uuid())
                .bind(device.name.clone())
                .bind(device.secret_hash.to_vec())
                .bind(device.created_by.as_uuid())
                .bind(clock::now())
                .fetch_one(self.writer())
                .await
                .map(Device::from)
                .map_err(classify)
            }

            async fn find_device(&self, id: DeviceId, secret_hash: &[u8; 32]) -> Result<Option<Device>> {
                Ok(::sqlx::query_as::<_, DeviceRow>(concat!(
                    "SELECT ", $crate::device_columns!(), " FROM devices WHERE id = $1 AND secret_hash = $2"
                ))
                .bind(id.as_uuid())
                .bind(secret_hash.to_vec())
                .fetch_optional(self.reader())
                .await
                .map_err(classify)?
                .map(Device::from))
            }

            async fn get_device(&self, id: DeviceId) -> Result<Option<Device>> {
                Ok(::sqlx::query_as::<_, DeviceRow>(concat!("SELECT ", $crate::device_columns!(), " FROM devices WHERE id = $1"))
                    .bind(id.as_uuid())
                    .fetch_optional(self.reader())
                    .await
                    .map_err(classify)?
                    .map(Device::from))
            }

            async fn list_devices(&self, store: StoreId) -> Result<Vec<Device>> {
                Ok(::sqlx::query_as::<_, DeviceRow>(concat!(
                    "SELECT ", $crate::device_columns!(), " FROM devices WHERE store_id = $1 ORDER BY id LIMIT 1000"
                ))
                .bind(store.as_uuid())
                .fetch_all(self.reader())
                .await
                .map_err(classify)?
                .into_iter()
                .map(Device::from)
                .collect())
            }

            async fn revoke_device(&self, id: DeviceId) -> Result<bool> {
                let affected = ::sqlx::query("UPDATE devices SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                    .bind(clock::now())
                    .bind(id.as_uuid())
                    .execute(self.writer())
                    .await
                    .map_err(classify)?
                    .rows_affected();
                Ok(affected == 1)
            }
        }

        #[::async_trait::async_trait]
        impl ApiKeyRepo for $storage {
            async fn create_api_key(&self, key: &NewApiKey) -> Result<ApiKey> {
                let mut tx = begin_write(self.writer()).await?;
                ::sqlx::query(
                    "INSERT INTO api_keys (id, name, secret_hash, permissions, all_stores, created_by, created_at, expires_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(key.id.as_uuid())
                .bind(key.name.clone())
                .bind(key.secret_hash.to_vec())
                .bind(permissions_to_text(key.permissions))
                .bind(key.all_stores)
                .bind(key.created_by.as_uuid())
                .bind(clock::now())
                .bind(key.expires_at)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
                for store in &key.store_ids {
                    ::sqlx::query("INSERT INTO api_key_stores (api_key_id, store_id) VALUES ($1, $2)")
                        .bind(key.id.as_uuid())
                        .bind(store.as_uuid())
                        .execute(&mut *tx)
                        .await
                        .map_err(missing_store)?;
                }
                tx.commit().await.map_err(classify)?;
                let row = ::sqlx::query_as::<_, ApiKeyRow>(concat!("SELECT ", $crate::api_key_columns!(), " FROM api_keys WHERE id = $1"))
                    .bind(key.id.as_uuid())
                    .fetch_all(self.reader())
                    .await
                    .map_err(classify)?;
                keys_with_stores(self.reader(), row).await?.pop().ok_or(StoreError::NotFound { entity: "api key" })
            }

            async fn find_api_key(&self, id: ApiKeyId, secret_hash: &[u8; 32]) -> Result<Option<ApiKey>> {
                let rows = ::sqlx::query_as::<_, ApiKeyRow>(concat!(
                    "SELECT ", $crate::api_key_columns!(), " FROM api_keys WHERE id = $1 AND secret_hash = $2"
                ))
                .bind(id.as_uuid())
                .bind(secret_hash.to_vec())
                .fetch_all(self.reader())
                .await
                .map_err(classify)?;
                Ok(keys_with_stores(self.reader(), rows).await?.pop())
            }

            async fn get_api_key(&self, id: ApiKeyId) -> Result<Option<ApiKey>> {
                let rows = ::sqlx::query_as::<_, ApiKeyRow>(concat!(
                    "SELECT ", $crate::api_key_columns!(), " FROM api_keys WHERE id = $1"
                ))
                .bind(id.as_uuid())
                .fetch_all(self.reader())
                .await
                .map_err(classify)?;
                Ok(keys_with_stores(self.reader(), rows).await?.pop())
            }

            async fn list_api_keys(&self) -> Result<Vec<ApiKey>> {
                let rows = ::sqlx::query_as::<_, ApiKeyRow>(concat!(
                    "SELECT ", $crate::api_key_columns!(), " FROM api_keys ORDER BY id LIMIT 1000"
                ))
                .fetch_all(self.reader())
                .await
                .map_err(classify)?;
                keys_with_stores(self.reader(), rows).await
            }

            async fn revoke_api_key(&self, id: ApiKeyId) -> Result<bool> {
                let affected = ::sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                    .bind(clock::now())
                    .bind(id.as_uuid())
                    .execute(self.writer())
                    .await
                    .map_err(classify)?
                    .rows_affected();
                Ok(affected == 1)
            }

            async fn touch_api_key(&self, id: ApiKeyId) -> Result<()> {
                ::sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
                    .bind(clock::now())
                    .bind(id.as_uuid())
                    .execute(self.writer())
                    .await
                    .map_err(classify)?;
                Ok(())
            }
        }
    };
}
