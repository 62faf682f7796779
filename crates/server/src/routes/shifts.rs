//! Shifts through HTTP: a terminal's drawer opened with a float, cash put in and taken
//! out with reasons, and the close with the counted cash against what the drawer should
//! hold (float, movements, and the cash sales and refunds the order log put through it).

use crate::auth::extract::Auth;
use crate::contract::outputs::Created;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::sales::caught_up;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use comanda_domain::money::MoneyInput;
use comanda_domain::reports::drawer_of;
use comanda_domain::shifts::{
    CashCount, CashDirection, Denomination, DrawerSales, Shift, ShiftError, ShiftStatus,
};
use comanda_domain::{DeviceId, Permission, ShiftId, StoreId, ValidationError, clock};
use comanda_store::StoreError;
use serde::{Deserialize, Serialize};

/// A shift, with what its drawer should hold now.
#[derive(Serialize, schemars::JsonSchema)]
pub struct ShiftView {
    #[serde(flatten)]
    shift: Shift,
    drawer: DrawerSales,
    expected: i64,
}

async fn view(state: &AppState, shift: Shift) -> Result<ShiftView, ApiError> {
    let drawer = match &shift.closing {
        Some(closing) => closing.sales,
        None => {
            let (position, _guard) = caught_up(state, shift.store_id).await?;
            let rows = state
                .storage
                .sales_totals(shift.store_id, position.day)
                .await?;
            drawer_of(&rows, shift.id)
        }
    };
    Ok(ShiftView {
        expected: shift
            .closing
            .as_ref()
            .map_or_else(|| shift.expected(drawer), |c| c.expected),
        shift,
        drawer,
    })
}

fn shift_error(e: ShiftError) -> ApiError {
    match e {
        ShiftError::Invalid(v) => v.into(),
        ShiftError::Closed => ApiError::conflict("shift_closed", "the shift is closed"),
    }
}

async fn currency(state: &AppState, store: StoreId) -> Result<comanda_domain::Currency, ApiError> {
    super::catalog::currency_of(state, store).await
}

async fn load(state: &AppState, store: StoreId, id: ShiftId) -> Result<Shift, ApiError> {
    state
        .storage
        .get_shift(store, id)
        .await?
        .ok_or_else(|| ApiError::not_found("shift not found"))
}

fn stale(version: Option<i64>, shift: &Shift) -> Result<i64, ApiError> {
    let version = version
        .ok_or_else(|| ValidationError::new("version", "required", "send the shift's version"))?;
    if version != shift.version {
        return Err(StoreError::VersionMismatch {
            entity: "shift",
            current: shift.version,
        }
        .into());
    }
    Ok(version)
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenBody {
    float: MoneyInput,
    /// The terminal whose drawer it is; the caller's own terminal when absent.
    #[serde(default)]
    device_id: Option<DeviceId>,
}

/// `POST .../shifts`: opens the terminal's drawer with its float.
pub async fn open(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
    ApiJson(body): ApiJson<OpenBody>,
) -> Result<Created<ShiftView>, ApiError> {
    auth.require_in(&state, Permission::ShiftManage, store)?;
    let device = body.device_id.or(auth.actor.device_id).ok_or_else(|| {
        ValidationError::new(
            "device_id",
            "required",
            "open the shift on a terminal, or name its device_id",
        )
    })?;
    let known = state.storage.get_device(device).await?;
    if !known.is_some_and(|d| d.store_id == store && d.revoked_at.is_none()) {
        return Err(ValidationError::new(
            "device_id",
            "unknown_device",
            "no such terminal in this store",
        )
        .into());
    }
    let float = body
        .float
        .parse("float", currency(&state, store).await?, 0)?;
    let shift = Shift::open(
        store,
        device,
        float.amount,
        auth.actor.user_id,
        clock::now(),
    )?;
    let opened = state
        .storage
        .open_shift(&shift)
        .await
        .map_err(|e| match e {
            StoreError::Conflict {
                field: "device_id", ..
            } => ApiError::conflict(
                "shift_already_open",
                "this terminal has an open shift: close it first",
            ),
            other => other.into(),
        })?;
    Ok(Created(view(&state, opened).await?))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// The shifts closed in business day (Z number) `day`; absent: the open ones.
    #[serde(default)]
    day: Option<i64>,
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<crate::extract::PageView<Shift>>, ApiError> {
    auth.require_in(&state, Permission::ShiftManage, store)?;
    Ok(Json(crate::extract::PageView::whole(
        state.storage.list_shifts(store, query.day).await?,
    )))
}

/// `GET .../shifts/{id}`: the shift and what its drawer should hold now.
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, ShiftId)>,
) -> Result<Json<ShiftView>, ApiError> {
    auth.require_in(&state, Permission::ShiftManage, store)?;
    let shift = load(&state, store, id).await?;
    Ok(Json(view(&state, shift).await?))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CashBody {
    version: Option<i64>,
    /// `in` or `out`.
    direction: CashDirection,
    amount: MoneyInput,
    reason: String,
}

/// `POST .../shifts/{id}/cash`: cash put in or taken out, with a reason.
pub async fn cash(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, ShiftId)>,
    ApiJson(body): ApiJson<CashBody>,
) -> Result<Json<ShiftView>, ApiError> {
    auth.require_in(&state, Permission::ShiftManage, store)?;
    let mut shift = load(&state, store, id).await?;
    let expected = stale(body.version, &shift)?;
    let amount = body
        .amount
        .parse("amount", currency(&state, store).await?, 1)?;
    shift
        .move_cash(
            body.direction,
            amount.amount,
            &body.reason,
            auth.actor.user_id,
            clock::now(),
        )
        .map_err(shift_error)?;
    let saved = state.storage.save_shift(&shift, expected).await?;
    Ok(Json(view(&state, saved).await?))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseBody {
    version: Option<i64>,
    /// The drawer counted by note and coin (`value` in minor units).
    #[serde(default)]
    denominations: Vec<Denomination>,
    /// The counted total, when not counted by denomination (or to check the sum).
    #[serde(default)]
    total: Option<MoneyInput>,
    #[serde(default)]
    note: Option<String>,
}

/// `POST .../shifts/{id}/close`: the count, against what the drawer should hold.
pub async fn close(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, ShiftId)>,
    ApiJson(body): ApiJson<CloseBody>,
) -> Result<Json<ShiftView>, ApiError> {
    auth.require_in(&state, Permission::ShiftManage, store)?;
    let total = match &body.total {
        Some(t) => Some(t.parse("total", currency(&state, store).await?, 0)?.amount),
        None => None,
    };
    let count = CashCount::new(body.denominations, total)?;
    // Holding the totals' lock while closing: no sale is folded in between the drawer
    // being read and the shift being closed.
    let (position, _guard) = caught_up(&state, store).await?;
    let mut shift = load(&state, store, id).await?;
    if shift.status == ShiftStatus::Closed {
        return Err(shift_error(ShiftError::Closed));
    }
    let expected = stale(body.version, &shift)?;
    let rows = state.storage.sales_totals(store, position.day).await?;
    let drawer = drawer_of(&rows, shift.id);
    shift
        .close(
            count,
            drawer,
            body.note,
            auth.actor.user_id,
            clock::now(),
            position.day,
        )
        .map_err(shift_error)?;
    let saved = state.storage.save_shift(&shift, expected).await?;
    Ok(Json(ShiftView {
        drawer,
        expected: saved.closing.as_ref().map_or(0, |c| c.expected),
        shift: saved,
    }))
}
