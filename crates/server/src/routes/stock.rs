//! Stock of a store: levels, the ledger, receipts and adjustments, thresholds, and
//! transfers to another store.

use crate::auth::extract::Auth;
use crate::contract::outputs::Created;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, PageParams, PageView, query_id};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use comanda_domain::catalog::stock::{Movement, MovementKind, NewMovement, StockLevel};
use comanda_domain::{Permission, StoreId, ValidationError, VariantId};
use comanda_store::{StockFilter, Transfer, TransferLine};
use serde::Deserialize;

/// Movements per request: a delivery note, not a data migration.
const MAX_MOVEMENTS: usize = 500;

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelsQuery {
    /// Only what is at or below its low-stock threshold.
    low: Option<bool>,
    /// The `next` of the previous page.
    #[schemars(with = "Option<uuid::Uuid>")]
    after: Option<String>,
    /// 1 to 500; 50 when left out.
    #[schemars(range(min = 1, max = 500))]
    limit: Option<u32>,
}

pub async fn levels(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
    ApiQuery(query): ApiQuery<LevelsQuery>,
) -> Result<Json<PageView<StockLevel>>, ApiError> {
    auth.require_in(&state, Permission::CatalogRead, store)?;
    let page = PageParams {
        after: query.after,
        limit: query.limit,
    };
    let filter = StockFilter {
        low_only: query.low.unwrap_or(false),
    };
    // Sales reach the ledger from the order log; count every one made so far.
    crate::sales::up_to_date(&state, store).await?;
    let levels = state
        .storage
        .stock_levels(store, filter, page.cursor()?, page.limit()?)
        .await?;
    Ok(Json(PageView::from(levels, |l| l)))
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LedgerQuery {
    #[schemars(with = "Option<uuid::Uuid>")]
    variant_id: Option<String>,
    /// The cursor of the previous page; pages go from newest to oldest.
    #[schemars(with = "Option<uuid::Uuid>")]
    after: Option<String>,
    /// 1 to 500; 50 when left out.
    #[schemars(range(min = 1, max = 500))]
    limit: Option<u32>,
}

pub async fn ledger(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
    ApiQuery(query): ApiQuery<LedgerQuery>,
) -> Result<Json<PageView<Movement>>, ApiError> {
    auth.require_in(&state, Permission::CatalogRead, store)?;
    let variant: Option<VariantId> = query_id("variant_id", query.variant_id.as_deref())?;
    let page = PageParams {
        after: query.after,
        limit: query.limit,
    };
    // Sales reach the ledger from the order log; count every one made so far.
    crate::sales::up_to_date(&state, store).await?;
    let movements = state
        .storage
        .stock_movements(store, variant, page.cursor()?, page.limit()?)
        .await?;
    Ok(Json(PageView::from(movements, |m| m)))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MovementInput {
    #[schemars(with = "uuid::Uuid")]
    variant_id: String,
    kind: String,
    quantity: i64,
    reason: Option<String>,
    reference: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MovementsBody {
    movements: Vec<MovementInput>,
}

fn field(i: usize, name: &str) -> String {
    format!("movements[{i}].{name}")
}

pub async fn record(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
    ApiJson(body): ApiJson<MovementsBody>,
) -> Result<Created<PageView<Movement>>, ApiError> {
    auth.require_in(&state, Permission::StockManage, store)?;
    if body.movements.is_empty() || body.movements.len() > MAX_MOVEMENTS {
        return Err(ValidationError::new(
            "movements",
            "invalid_length",
            format!("send 1 to {MAX_MOVEMENTS} movements"),
        )
        .into());
    }
    let mut movements = Vec::with_capacity(body.movements.len());
    for (i, m) in body.movements.iter().enumerate() {
        let kind: MovementKind = m.kind.parse().map_err(|()| {
            ValidationError::new(
                field(i, "kind"),
                "invalid_choice",
                "must be one of: receipt, adjustment, sale, refund (transfers go through /stock/transfers)",
            )
        })?;
        if matches!(kind, MovementKind::TransferIn | MovementKind::TransferOut) {
            return Err(ValidationError::new(
                field(i, "kind"),
                "use_transfers",
                "record transfers with POST .../catalog/stock/transfers so both stores move together",
            )
            .into());
        }
        let movement = NewMovement {
            variant_id: m.variant_id.trim().parse().map_err(|_| {
                ValidationError::new(field(i, "variant_id"), "invalid_id", "not a valid id")
            })?,
            kind,
            quantity: m.quantity,
            reason: m.reason.clone().filter(|r| !r.trim().is_empty()),
            reference: m.reference.clone().filter(|r| !r.trim().is_empty()),
            actor: auth.actor.user_id,
        };
        movement.validate(i)?;
        movements.push(movement);
    }
    let recorded = state.storage.record_movements(store, &movements).await?;
    Ok(Created(PageView {
        items: recorded,
        next: None,
    }))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ThresholdBody {
    low_threshold: Option<i64>,
}

pub async fn set_threshold(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, variant)): ApiPath<(StoreId, VariantId)>,
    ApiJson(body): ApiJson<ThresholdBody>,
) -> Result<Json<StockLevel>, ApiError> {
    auth.require_in(&state, Permission::StockManage, store)?;
    if body.low_threshold.is_some_and(|t| t < 0) {
        return Err(ValidationError::new("low_threshold", "negative", "must be 0 or more").into());
    }
    let level = state
        .storage
        .set_low_threshold(store, variant, body.low_threshold)
        .await?;
    Ok(Json(level))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferLineInput {
    #[schemars(with = "uuid::Uuid")]
    variant_id: String,
    quantity: i64,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    #[schemars(with = "uuid::Uuid")]
    to_store_id: String,
    lines: Vec<TransferLineInput>,
    reason: Option<String>,
}

/// Sends stock to another store; the sender needs stock rights in both.
pub async fn transfer(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
    ApiJson(body): ApiJson<TransferBody>,
) -> Result<Created<PageView<Movement>>, ApiError> {
    auth.require_in(&state, Permission::StockManage, store)?;
    let to: StoreId = body
        .to_store_id
        .trim()
        .parse()
        .map_err(|_| ValidationError::new("to_store_id", "invalid_id", "not a valid id"))?;
    if to == store {
        return Err(
            ValidationError::new("to_store_id", "same_store", "choose another store").into(),
        );
    }
    auth.require_in(&state, Permission::StockManage, to)?;
    if state.storage.get_store(to).await?.is_none() {
        return Err(ValidationError::new("to_store_id", "unknown", "no such store").into());
    }
    if body.lines.is_empty() || body.lines.len() > MAX_MOVEMENTS {
        return Err(ValidationError::new(
            "lines",
            "invalid_length",
            format!("send 1 to {MAX_MOVEMENTS} lines"),
        )
        .into());
    }
    let mut lines = Vec::with_capacity(body.lines.len());
    for (i, line) in body.lines.iter().enumerate() {
        let variant_id = line.variant_id.trim().parse().map_err(|_| {
            ValidationError::new(
                format!("lines[{i}].variant_id"),
                "invalid_id",
                "not a valid id",
            )
        })?;
        if line.quantity <= 0 || line.quantity > comanda_domain::catalog::stock::MAX_MOVEMENT {
            return Err(ValidationError::new(
                format!("lines[{i}].quantity"),
                "out_of_range",
                "must be a positive quantity",
            )
            .into());
        }
        lines.push(TransferLine {
            variant_id,
            quantity: line.quantity,
        });
    }
    let reason = body
        .reason
        .as_deref()
        .map(|r| comanda_domain::validation::bounded_text("reason", r, 1, 200))
        .transpose()?;
    let moved = state
        .storage
        .transfer_stock(&Transfer {
            from: store,
            to,
            lines,
            reason,
            actor: auth.actor.user_id,
        })
        .await?;
    Ok(Created(PageView {
        items: moved,
        next: None,
    }))
}
