use crate::Result;
use crate::page::{Limit, Page};
use async_trait::async_trait;
use comanda_domain::{NewStore, Store, StoreId, StorePatch};

#[async_trait]
pub trait StoreRepo: Send + Sync {
    /// Fails with `Conflict` on a duplicate code.
    async fn create_store(&self, store: &NewStore) -> Result<Store>;

    async fn get_store(&self, id: StoreId) -> Result<Option<Store>>;

    /// Stores in creation order, after the cursor; only those in `only` when given (the
    /// stores a scoped user is assigned to).
    async fn list_stores(
        &self,
        only: Option<&[StoreId]>,
        after: Option<StoreId>,
        limit: Limit,
    ) -> Result<Page<Store, StoreId>>;

    /// Applies `patch` if the store is still at `expected_version`; otherwise fails with
    /// `VersionMismatch` so a stale edit never overwrites a newer one.
    async fn update_store(
        &self,
        id: StoreId,
        expected_version: i64,
        patch: &StorePatch,
    ) -> Result<Store>;
}
