use crate::Result;
use async_trait::async_trait;
use comanda_domain::identity::{ApiKey, Device, NewApiKey, NewDevice};
use comanda_domain::{ApiKeyId, DeviceId, StoreId};

#[async_trait]
pub trait DeviceRepo: Send + Sync {
    async fn create_device(&self, device: &NewDevice) -> Result<Device>;

    /// The device whose token secret hashes to `secret_hash`, revoked or not.
    async fn find_device(&self, id: DeviceId, secret_hash: &[u8; 32]) -> Result<Option<Device>>;

    async fn get_device(&self, id: DeviceId) -> Result<Option<Device>>;

    async fn list_devices(&self, store: StoreId) -> Result<Vec<Device>>;

    /// False if it was already revoked or does not exist.
    async fn revoke_device(&self, id: DeviceId) -> Result<bool>;
}

#[async_trait]
pub trait ApiKeyRepo: Send + Sync {
    async fn create_api_key(&self, key: &NewApiKey) -> Result<ApiKey>;

    /// The key whose secret hashes to `secret_hash`, active or not.
    async fn find_api_key(&self, id: ApiKeyId, secret_hash: &[u8; 32]) -> Result<Option<ApiKey>>;

    async fn get_api_key(&self, id: ApiKeyId) -> Result<Option<ApiKey>>;

    async fn list_api_keys(&self) -> Result<Vec<ApiKey>>;

    /// False if it was already revoked or does not exist.
    async fn revoke_api_key(&self, id: ApiKeyId) -> Result<bool>;

    async fn touch_api_key(&self, id: ApiKeyId) -> Result<()>;
}
