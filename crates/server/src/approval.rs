//! Manager approval. Some changes (refunds, voids of what the kitchen has, large
//! discounts) need a manager: either the person asking is one, or a manager walks over
//! and types their PIN on the cashier's terminal. A PIN is only taken on a registered
//! terminal, is throttled like a PIN sign-in, and every use, good or bad, goes to the
//! security log; the approver is named in the order's log.

use crate::audit;
use crate::auth::extract::Auth;
use crate::error::ApiError;
use crate::password;
use crate::routes::auth::{charge_failures, check_failures};
use crate::state::AppState;
use comanda_domain::identity::SecurityEventKind;
use comanda_domain::orders::commands::Actor;
use comanda_domain::{Permission, Secret, StoreId, UserId};
use serde::Deserialize;

/// `"approval": {"user_id": "...", "pin": "2580"}` in a request body.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalInput {
    pub user_id: UserId,
    pub pin: String,
}

/// The actor as the domain sees it, without a PIN approval.
pub fn actor(auth: &Auth, store: StoreId) -> Actor {
    let can_approve = auth.actor.may(Permission::OrderApprove) && auth.actor.can_access(store);
    Actor {
        user: auth.actor.user_id,
        can_approve,
        approver: auth.actor.user_id.filter(|_| can_approve),
    }
}

/// The actor, approved by the manager whose PIN came with the request if there is one.
pub async fn approved_actor(
    state: &AppState,
    auth: &Auth,
    store: StoreId,
    approval: Option<&ApprovalInput>,
) -> Result<Actor, ApiError> {
    let own = actor(auth, store);
    let Some(approval) = approval else {
        return Ok(own);
    };
    let Some(device) = auth.actor.device_id else {
        return Err(ApiError::forbidden(
            "approval_needs_terminal",
            "a manager's PIN is taken on a registered terminal; sign in as the manager elsewhere",
        ));
    };
    let account_key = format!("approve:{device}:{}", approval.user_id);
    check_failures(state, &account_key).await?;
    let user = state
        .storage
        .get_user(approval.user_id)
        .await?
        .filter(|u| !u.disabled && u.can_access(store));
    let pin = Secret::new(approval.pin.clone());
    let verified = match user.as_ref().and_then(|u| u.pin_hash.as_ref()) {
        Some(hash) => password::verify(&pin, hash).await,
        None => {
            password::verify(&pin, password::dummy_hash().await).await;
            false
        }
    };
    let entry = |kind| {
        audit::entry(kind, &auth.meta)
            .by(&auth.actor)
            .about(approval.user_id)
            .in_store(store)
            .detail("device_id", device.to_string())
    };
    let manager = match user {
        Some(user) if verified && user.role.can(Permission::OrderApprove) => user,
        found => {
            if found.is_none() || !verified {
                charge_failures(state, &account_key).await;
            }
            entry(SecurityEventKind::ApprovalFailed).record(state).await;
            return Err(if verified {
                ApiError::forbidden("approver_not_manager", "that person cannot approve this")
            } else {
                ApiError::forbidden("invalid_approval", "wrong manager or PIN")
            });
        }
    };
    entry(SecurityEventKind::ApprovalGranted)
        .record(state)
        .await;
    Ok(Actor {
        user: own.user,
        can_approve: true,
        approver: Some(manager.id),
    })
}
