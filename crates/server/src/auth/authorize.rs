//! The two questions every handler asks: may this actor do this, and in this store?
//! Every "no" is a 403 in the API's error shape and an entry in the security log.

use super::extract::Auth;
use crate::audit;
use crate::error::ApiError;
use crate::state::AppState;
use comanda_domain::identity::SecurityEventKind;
use comanda_domain::{Permission, StoreId};
use serde_json::json;

impl Auth {
    pub fn require(&self, state: &AppState, permission: Permission) -> Result<(), ApiError> {
        if self.actor.may(permission) {
            return Ok(());
        }
        audit::entry(SecurityEventKind::PermissionDenied, &self.meta)
            .by(&self.actor)
            .detail("permission", permission.as_str())
            .record_later(state);
        Err(ApiError::forbidden(
            "forbidden",
            format!("your role may not do this ({permission})"),
        )
        .with_details(json!({ "permission": permission.as_str() })))
    }

    /// Access being handed on (to a person or a key) must be the actor's own: their stores,
    /// and all stores only from an all-stores actor.
    pub fn require_grantable(&self, all_stores: bool, stores: &[StoreId]) -> Result<(), ApiError> {
        if all_stores && !self.actor.all_stores {
            return Err(ApiError::forbidden(
                "store_forbidden",
                "only all-stores users may grant access to all stores",
            ));
        }
        match stores.iter().find(|s| !self.actor.can_access(**s)) {
            Some(store) => Err(store_forbidden(*store)),
            None => Ok(()),
        }
    }

    /// `permission`, in `store`. Outside the actor's stores the answer is 403 whether or
    /// not the store exists, so store ids cannot be probed.
    pub fn require_in(
        &self,
        state: &AppState,
        permission: Permission,
        store: StoreId,
    ) -> Result<(), ApiError> {
        self.require(state, permission)?;
        if self.actor.can_access(store) {
            return Ok(());
        }
        audit::entry(SecurityEventKind::PermissionDenied, &self.meta)
            .by(&self.actor)
            .in_store(store)
            .detail("permission", permission.as_str())
            .detail("reason", "outside the actor's stores")
            .record_later(state);
        Err(store_forbidden(store))
    }
}

pub(crate) fn store_forbidden(store: StoreId) -> ApiError {
    ApiError::forbidden("store_forbidden", "you do not have access to this store")
        .with_details(json!({ "store_id": store.to_string() }))
}
