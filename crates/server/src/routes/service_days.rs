//! A contract's service days through HTTP: generated for a horizon, the client's
//! quantity before the cut-off, what the kitchen served, disputes, the catering order
//! that takes a day to the kitchen screens, and the monthly statement.
//!
//! Every change of a day is written with its outbox event (`catering.*`) in one
//! transaction, so a webhook hears of each change exactly as it was stored.

use super::catering::{catering_error, contract_for, kitchen_now, stale};
use super::orders::{Answer, Author, apply_current, commit, order_error};
use crate::auth::extract::Auth;
use crate::contract::outputs::Created;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::sale_catalog::SaleCache;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{Datelike, Days, NaiveDate, NaiveDateTime};
use comanda_domain::catering::{
    CateringError, Contract, ContractStatus, DayStatus, MAX_HORIZON_DAYS, ServiceDay, Statement,
};
use comanda_domain::orders::lines::{LineInput, MAX_QUANTITY};
use comanda_domain::orders::{Order, OrderKind};
use comanda_domain::{ContractId, OrderId, Permission, ValidationError, clock};
use comanda_store::{NewOutboxEvent, OrderWrite};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

/// The horizon generated or listed when none is given: four weeks.
const DEFAULT_HORIZON_DAYS: u64 = 28;

fn bad_date(field: &str, code: &'static str, message: &str) -> ApiError {
    ValidationError::new(field, code, message).into()
}

/// `from` and `to` (both included), defaulting to four weeks from today, at most a year.
fn horizon(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let from = from.unwrap_or(today);
    let to = match to {
        Some(to) => to,
        None => from
            .checked_add_days(Days::new(DEFAULT_HORIZON_DAYS - 1))
            .ok_or_else(|| bad_date("from", "out_of_range", "too far in the future"))?,
    };
    if to < from {
        return Err(bad_date(
            "to",
            "before_from",
            "the horizon ends before it starts",
        ));
    }
    if (to - from).num_days() >= MAX_HORIZON_DAYS as i64 {
        return Err(bad_date(
            "to",
            "horizon_too_long",
            "at most a year at a time",
        ));
    }
    Ok((from, to))
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HorizonBody {
    #[serde(default)]
    from: Option<NaiveDate>,
    #[serde(default)]
    to: Option<NaiveDate>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct Generated {
    added: u64,
    days: Vec<ServiceDay>,
}

/// `POST /contracts/{id}/service-days`: the contract's days for a horizon (from today,
/// four weeks, unless given). Days already there are kept as they are, so running it
/// again (a daily job, a retry) adds only what is missing.
pub async fn generate(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<ContractId>,
    ApiJson(body): ApiJson<HorizonBody>,
) -> Result<Json<Generated>, ApiError> {
    let contract = contract_for(&state, &auth, Permission::CateringManage, id).await?;
    if contract.status != ContractStatus::Active {
        return Err(ApiError::conflict(
            "contract_not_active",
            "days are generated for active contracts only",
        )
        .with_details(json!({ "status": contract.status })));
    }
    let today = kitchen_now(&state, contract.store_id).await?.date();
    let (from, to) = horizon(body.from, body.to, today)?;
    if from < today {
        return Err(bad_date(
            "from",
            "in_the_past",
            "days are generated from today on",
        ));
    }
    let days: Vec<ServiceDay> = contract
        .terms
        .service_dates(from, to)
        .into_iter()
        .map(|d| ServiceDay::scheduled(d, &contract.terms))
        .collect();
    let added = state.storage.add_service_days(contract.id, &days).await?;
    let days = state.storage.service_days(contract.id, from, to).await?;
    Ok(Json(Generated { added, days }))
}

/// `GET /contracts/{id}/service-days?from=&to=`.
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<ContractId>,
    ApiQuery(query): ApiQuery<HorizonBody>,
) -> Result<Json<crate::extract::PageView<ServiceDay>>, ApiError> {
    let contract = contract_for(&state, &auth, Permission::CateringRead, id).await?;
    let today = kitchen_now(&state, contract.store_id).await?.date();
    let (from, to) = horizon(query.from, query.to, today)?;
    let days = state.storage.service_days(contract.id, from, to).await?;
    Ok(Json(crate::extract::PageView::whole(days)))
}

async fn day_of(
    state: &AppState,
    contract: &Contract,
    date: NaiveDate,
) -> Result<ServiceDay, ApiError> {
    state
        .storage
        .service_days(contract.id, date, date)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::not_found("no service day on that date"))
}

fn event(contract: &Contract, day: &ServiceDay, kind: &str) -> NewOutboxEvent {
    NewOutboxEvent {
        kind: kind.to_owned(),
        payload: json!({
            "contract_id": contract.id,
            "caterer_id": contract.caterer_id,
            "client_id": contract.client_id,
            "date": day.date,
            "expected": day.expected,
            "confirmed": day.confirmed,
            "served": day.served,
            "dispute": day.dispute,
            "status": day.status,
            "order_id": day.order_id,
        }),
        at: clock::now(),
    }
}

/// Writes `day`, changed since it was read (its `version` is still the one read), with
/// its event, and wakes the webhook workers.
async fn save(
    state: &AppState,
    contract: &Contract,
    mut day: ServiceDay,
    kind: Option<&str>,
) -> Result<ServiceDay, ApiError> {
    let read_version = day.version;
    day.version = read_version + 1;
    let event = kind.map(|k| event(contract, &day, k));
    let day = state
        .storage
        .save_service_day(contract, &day, read_version, event.as_ref())
        .await?;
    if event.is_some() {
        state.outbox_wake.notify_one();
    }
    Ok(day)
}

/// A change of one service day, as a request body: who may make it, the event it
/// produces, and the rule that applies it on the kitchen's clock.
pub trait DayChange: serde::de::DeserializeOwned + Send {
    const PERMISSION: Permission;
    const EVENT: &'static str;
    /// The change ends the day's cooking: its catering order is closed (the statement
    /// bills it).
    const CLOSES_ORDER: bool = false;
    /// The version the caller based the change on, if it sent one.
    fn version(&self) -> Option<i64>;
    fn apply(
        &self,
        day: &mut ServiceDay,
        contract: &Contract,
        now: NaiveDateTime,
    ) -> Result<(), CateringError>;
}

/// `POST .../service-days/{date}/confirm|served|dispute|resolve|cancel`: reads the day,
/// checks the version, applies the change and saves it with its event.
pub async fn change<C: DayChange>(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, date)): ApiPath<(ContractId, NaiveDate)>,
    ApiJson(body): ApiJson<C>,
) -> Result<Json<ServiceDay>, ApiError> {
    let contract = contract_for(&state, &auth, C::PERMISSION, id).await?;
    let mut day = day_of(&state, &contract, date).await?;
    if body.version().is_some_and(|v| v != day.version) {
        return Err(stale("service_day", day.version));
    }
    let now = kitchen_now(&state, contract.store_id).await?;
    body.apply(&mut day, &contract, now)
        .map_err(catering_error)?;
    let saved = save(&state, &contract, day, Some(C::EVENT)).await?;
    if C::CLOSES_ORDER
        && let Some(order) = saved.order_id
    {
        close_catering_order(&state, &auth, contract.store_id, order).await?;
    }
    Ok(Json(saved))
}

/// Closes a day's catering order once what was served is known, unless it already is.
async fn close_catering_order(
    state: &AppState,
    auth: &Auth,
    store: comanda_domain::StoreId,
    order: OrderId,
) -> Result<(), ApiError> {
    apply_current(state, Author::of(auth), store, order, None, |o| {
        if o.status == comanda_domain::orders::OrderStatus::Closed {
            return Ok(Vec::new());
        }
        o.close(clock::now()).map(|closed| vec![closed])
    })
    .await?;
    Ok(())
}

/// The client's quantity, before the cut-off (409 after it), within the contract's
/// daily limits (422 outside them), while the contract is active.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Confirm {
    quantity: u32,
    #[serde(default)]
    version: Option<i64>,
}

impl DayChange for Confirm {
    const PERMISSION: Permission = Permission::CateringConfirm;
    const EVENT: &'static str = "catering.day_confirmed";
    fn version(&self) -> Option<i64> {
        self.version
    }
    fn apply(
        &self,
        day: &mut ServiceDay,
        c: &Contract,
        now: NaiveDateTime,
    ) -> Result<(), CateringError> {
        if c.status != ContractStatus::Active {
            return Err(CateringError::State("the contract is paused or terminated"));
        }
        day.confirm(&c.terms, self.quantity, now)
    }
}

/// What the kitchen served, on the day or after it.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Served {
    quantity: u32,
    #[serde(default)]
    version: Option<i64>,
}

impl DayChange for Served {
    const PERMISSION: Permission = Permission::CateringManage;
    const EVENT: &'static str = "catering.day_served";
    const CLOSES_ORDER: bool = true;
    fn version(&self) -> Option<i64> {
        self.version
    }
    fn apply(
        &self,
        day: &mut ServiceDay,
        c: &Contract,
        now: NaiveDateTime,
    ) -> Result<(), CateringError> {
        day.record_served(&c.terms, self.quantity, now)
    }
}

/// The client disputes the served count, saying why.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dispute {
    reason: String,
    #[serde(default)]
    version: Option<i64>,
}

impl DayChange for Dispute {
    const PERMISSION: Permission = Permission::CateringConfirm;
    const EVENT: &'static str = "catering.day_disputed";
    fn version(&self) -> Option<i64> {
        self.version
    }
    fn apply(
        &self,
        day: &mut ServiceDay,
        _: &Contract,
        _: NaiveDateTime,
    ) -> Result<(), CateringError> {
        day.raise_dispute(&self.reason)
    }
}

/// The caterer settles a dispute at a count.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resolve {
    served: u32,
    #[serde(default)]
    version: Option<i64>,
}

impl DayChange for Resolve {
    const PERMISSION: Permission = Permission::CateringManage;
    const EVENT: &'static str = "catering.dispute_resolved";
    fn version(&self) -> Option<i64> {
        self.version
    }
    fn apply(
        &self,
        day: &mut ServiceDay,
        c: &Contract,
        now: NaiveDateTime,
    ) -> Result<(), CateringError> {
        day.resolve_dispute(&c.terms, self.served, now)
    }
}

/// The day will not be served.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cancel {
    #[serde(default)]
    version: Option<i64>,
}

impl DayChange for Cancel {
    const PERMISSION: Permission = Permission::CateringManage;
    const EVENT: &'static str = "catering.day_cancelled";
    fn version(&self) -> Option<i64> {
        self.version
    }
    fn apply(
        &self,
        day: &mut ServiceDay,
        _: &Contract,
        _: NaiveDateTime,
    ) -> Result<(), CateringError> {
        day.cancel()
    }
}

/// After a contract is paused or terminated: its days after today that will not be
/// served are cancelled (pausing keeps the ones the client already confirmed).
pub async fn cancel_upcoming(
    state: &AppState,
    contract: &Contract,
    status: ContractStatus,
) -> Result<(), ApiError> {
    let today = kitchen_now(state, contract.store_id).await?.date();
    let Some(first) = today.succ_opt() else {
        return Ok(());
    };
    let last = first
        .checked_add_days(Days::new(MAX_HORIZON_DAYS))
        .unwrap_or(first);
    for mut day in state.storage.service_days(contract.id, first, last).await? {
        let goes = match status {
            ContractStatus::Paused => day.status == DayStatus::Scheduled,
            _ => matches!(day.status, DayStatus::Scheduled | DayStatus::Confirmed),
        };
        if goes && day.cancel().is_ok() {
            save(state, contract, day, Some(Cancel::EVENT)).await?;
        }
    }
    Ok(())
}

/// The catering order of a day has an id derived from the contract and the date, so
/// two managers pressing the button, or a retry after a lost answer, make one order.
fn order_id_of(contract: ContractId, date: NaiveDate) -> OrderId {
    let name = format!("comanda:catering:{contract}:{date}");
    OrderId::from_uuid(Uuid::new_v5(&Uuid::NAMESPACE_URL, name.as_bytes()))
}

/// `POST .../service-days/{date}/order`: takes the day to the kitchen as a catering
/// order of the contract's product, its expected quantity at the contract's price per
/// meal, sent to the stations at once. The statement bills it; the order only cooks it.
pub async fn order(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, date)): ApiPath<(ContractId, NaiveDate)>,
) -> Result<Created<ServiceDay>, ApiError> {
    let contract = contract_for(&state, &auth, Permission::CateringManage, id).await?;
    let store = contract.store_id;
    auth.require_in(&state, Permission::OrderTake, store)?;
    let mut day = day_of(&state, &contract, date).await?;
    if let Some(order) = day.order_id {
        return Err(
            ApiError::conflict("order_exists", "the day already has its catering order")
                .with_details(json!({ "order_id": order })),
        );
    }
    if matches!(day.status, DayStatus::Cancelled | DayStatus::Closed) || day.served.is_some() {
        return Err(catering_error(CateringError::State(
            "the day is cancelled or already served",
        )));
    }
    let product = contract.product_id.ok_or_else(|| {
        ApiError::conflict(
            "no_product",
            "the contract names no product for the kitchen (set product_id)",
        )
    })?;
    let order_id = order_id_of(contract.id, date);
    if state.storage.get_order(store, order_id).await?.is_none() {
        let client = state
            .storage
            .get_company(contract.client_id)
            .await?
            .map_or_else(String::new, |c| c.name);
        let (order, events) =
            catering_order(&state, &auth, &contract, &day, (order_id, product), &client).await?;
        commit(
            &state,
            Author::of(&auth),
            store,
            vec![OrderWrite {
                order,
                expected_version: None,
            }],
            events,
            None,
            Answer::plain(StatusCode::CREATED),
        )
        .await?;
    }
    day.order_id = Some(order_id);
    let day = save(&state, &contract, day, None).await?;
    Ok(Created(day))
}

async fn catering_order(
    state: &AppState,
    auth: &Auth,
    contract: &Contract,
    day: &ServiceDay,
    (order_id, product): (OrderId, comanda_domain::ProductId),
    client: &str,
) -> Result<(Order, Vec<(usize, comanda_domain::orders::commands::Event)>), ApiError> {
    let store = contract.store_id;
    let catalog = SaleCache::catalog(state, store).await?;
    let note = format!("{client} {}", day.date);
    let mut left = i64::from(day.expected);
    let mut inputs = Vec::new();
    while left > 0 {
        let quantity = left.min(MAX_QUANTITY);
        left -= quantity;
        inputs.push(LineInput {
            product_id: product.to_string(),
            variant_id: None,
            quantity: json!(quantity),
            options: Vec::new(),
            notes: Some(note.clone()),
            course: None,
            seat: None,
        });
    }
    let (mut lines, rates) = catalog
        .price_lines(state, store, "product_id", &inputs, auth.actor.user_id)
        .await?;
    for line in &mut lines {
        line.unit_price = contract.terms.price_per_meal.amount;
        line.modifiers_price = 0;
    }
    let now = clock::now();
    // The contract's price per meal is what the statement bills, taxes included: the
    // order comes to the same amount, its taxes inside it.
    let mut policy = catalog.policy;
    policy.pricing = comanda_domain::tax::Pricing::TaxInclusive;
    let mut order = Order::new(
        store,
        OrderKind::Catering,
        catalog.currency,
        policy,
        auth.actor.user_id,
        now,
    );
    order.id = order_id;
    order.notes = Some(format!(
        "Catering: {client}, {} ({} meals)",
        day.date, day.expected
    ));
    let mut events = vec![(0, order.opened_event())];
    events.push((0, order.add_lines(lines, rates).map_err(order_error)?));
    events.push((0, order.send(now).map_err(order_error)?));
    Ok((order, events))
}

/// A month of a contract, with what is due for its closed days.
#[derive(Serialize, schemars::JsonSchema)]
pub struct StatementView {
    contract_id: ContractId,
    caterer_id: comanda_domain::CompanyId,
    client_id: comanda_domain::CompanyId,
    price_per_meal: comanda_domain::Money,
    #[serde(flatten)]
    statement: Statement,
}

/// `GET /contracts/{id}/statements/{YYYY-MM}`.
pub async fn statement(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, month)): ApiPath<(ContractId, String)>,
) -> Result<Json<StatementView>, ApiError> {
    let contract = contract_for(&state, &auth, Permission::CateringRead, id).await?;
    let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
        .map_err(|_| bad_date("month", "invalid_month", "a month is written YYYY-MM"))?;
    let last = first
        .checked_add_months(chrono::Months::new(1))
        .and_then(|next| next.pred_opt())
        .ok_or_else(|| bad_date("month", "invalid_month", "out of range"))?;
    let days = state.storage.service_days(contract.id, first, last).await?;
    let statement = Statement::of(&contract.terms, first.year(), first.month(), days)
        .map_err(catering_error)?;
    Ok(Json(StatementView {
        contract_id: contract.id,
        caterer_id: contract.caterer_id,
        client_id: contract.client_id,
        price_per_meal: contract.terms.price_per_meal,
        statement,
    }))
}
