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
        Err(
            ApiError::forbidden("store_forbidden", "you do not have access to this store")
                .with_details(json!({ "store_id": store.to_string() })),
        )
    }
}
