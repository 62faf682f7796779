//! Reading the security log.

use crate::auth::extract::Auth;
use crate::error::ApiError;
use crate::extract::{ApiQuery, PageView};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use comanda_domain::identity::SecurityEvent;
use comanda_domain::{EventId, Permission, StoreId, UserId};
use comanda_store::EventFilter;
use serde::Deserialize;

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    user_id: Option<UserId>,
    /// The `next` of the previous page (events are newest first).
    after: Option<EventId>,
    /// 1 to 500; 50 when left out.
    #[schemars(range(min = 1, max = 500))]
    limit: Option<u32>,
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(query): ApiQuery<EventQuery>,
) -> Result<Json<PageView<SecurityEvent>>, ApiError> {
    auth.require(&state, Permission::AuditRead)?;
    let filter = EventFilter {
        user: query.user_id,
        stores: auth.actor.store_scope().map(<[StoreId]>::to_vec),
    };
    let page = state
        .storage
        .list_security_events(
            &filter,
            query.after,
            crate::extract::page_limit(query.limit)?,
        )
        .await?;
    Ok(Json(PageView::from(page, |e| e)))
}
