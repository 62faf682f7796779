//! Orders through HTTP. Every change names the `version` it was based on (a stale one is
//! 409, so two waiters on one tab never overwrite each other), is checked by the domain,
//! and is written with its events, chained, and with the answer for its
//! `Idempotency-Key`, in one transaction: a retry after a crash or a lost answer gets the
//! first answer and never a second order.

use crate::approval::{self, ApprovalInput};
use crate::auth::extract::Auth;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, PageView};
use crate::sale_catalog::SaleCache;
use crate::state::AppState;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::Response;
use comanda_domain::money::MoneyInput;
use comanda_domain::orders::chain::LoggedEvent;
use comanda_domain::orders::commands::{
    Actor, Event, OrderError, OrderPolicy, PolicyInput, child_of,
};
use comanda_domain::orders::lines::{Discount, DiscountValue, LineInput};
use comanda_domain::orders::payments::Balance;
use comanda_domain::orders::totals::{Totals, totals};
use comanda_domain::orders::{Delivery, Order, OrderKind, OrderStatus};
use comanda_domain::tax::{Rate, TaxError};
use comanda_domain::{
    OrderId, OrderLineId, Permission, StoreId, TableId, UserId, ValidationError, clock,
};
use comanda_store::{
    CommitOutcome, IdempotencyClaim, OrderCommit, OrderFilter, OrderWrite, StoreError,
    StoredResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Serialize, schemars::JsonSchema)]
struct OrderView<'a> {
    #[serde(flatten)]
    order: &'a Order,
    totals: Totals,
    balance: Balance,
    /// The card processor's answer to a card tender (its payment intent and the secret
    /// the terminal confirms it with), only in the answer to that tender.
    #[serde(skip_serializing_if = "Option::is_none")]
    card: Option<serde_json::Value>,
    /// The orders a split made, each whole, only in the answer to the split.
    #[serde(skip_serializing_if = "Option::is_none")]
    split_into: Option<Vec<OrderView<'a>>>,
}

impl<'a> OrderView<'a> {
    fn of(order: &'a Order) -> Result<Self, StoreError> {
        let totals = totals(order).map_err(|e| StoreError::Internal(e.to_string()))?;
        let balance = order.balance(&totals);
        Ok(Self {
            order,
            totals,
            balance,
            card: None,
            split_into: None,
        })
    }
}

fn view_bytes(order: &Order) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(&OrderView::of(order)?).map_err(|e| StoreError::Internal(e.to_string()))
}

/// The answer to a write of the order whose document this is, as a sample for a store's
/// packing dictionary (see `comanda_store::packed::AnswerOf`).
pub fn answer_of_document(document: &[u8]) -> Option<Vec<u8>> {
    let order: Order = serde_json::from_slice(document).ok()?;
    view_bytes(&order).ok()
}

pub fn order_error(e: OrderError) -> ApiError {
    match e {
        OrderError::Invalid(e) => e.into(),
        OrderError::State {
            code,
            message,
            status,
        } => ApiError::conflict(code, message).with_details(json!({ "status": status })),
        OrderError::ApprovalRequired(message) => ApiError::forbidden("approval_required", message),
        OrderError::Tax(TaxError::OrderTooLarge { limit }) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "order_too_large",
            format!("an order comes to at most {limit} in minor units; start another order"),
        )
        .with_details(json!({ "limit": limit })),
        OrderError::Tax(e) => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "tax_error", e.to_string())
        }
    }
}

/// Who a write is logged for: the caller, or nobody for the card processor's word.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Author {
    pub user: Option<UserId>,
    pub device: Option<comanda_domain::DeviceId>,
}

impl Author {
    pub fn of(auth: &Auth) -> Self {
        Self {
            user: auth.actor.user_id,
            device: auth.actor.device_id,
        }
    }
}

/// How a write answers: its status, what the card processor said, when it spoke, and
/// whether the other orders written (a split's new orders) are in the answer too.
#[derive(Clone, Debug)]
pub(crate) struct Answer {
    pub status: StatusCode,
    pub card: Option<serde_json::Value>,
    pub split_into: bool,
}

impl Answer {
    pub const fn plain(status: StatusCode) -> Self {
        Self {
            status,
            card: None,
            split_into: false,
        }
    }
}

/// Writes the orders and events; answers with the first order, as kept for the key.
pub(crate) async fn commit(
    state: &AppState,
    author: Author,
    store: StoreId,
    orders: Vec<OrderWrite>,
    events: Vec<(usize, Event)>,
    key: Option<IdempotencyClaim>,
    answer: Answer,
) -> Result<Response, ApiError> {
    let commit = OrderCommit {
        store,
        orders,
        events,
        actor: author.user,
        device: author.device,
        idempotency: key,
    };
    let respond = move |orders: &[Order]| -> Result<StoredResponse, StoreError> {
        let first = orders
            .first()
            .ok_or_else(|| StoreError::Internal("no order written".into()))?;
        let mut view = OrderView::of(first)?;
        view.card.clone_from(&answer.card);
        if answer.split_into {
            view.split_into = Some(
                orders[1..]
                    .iter()
                    .map(OrderView::of)
                    .collect::<Result<_, _>>()?,
            );
        }
        Ok(StoredResponse {
            status: answer.status.as_u16(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: serde_json::to_vec(&view).map_err(|e| StoreError::Internal(e.to_string()))?,
        })
    };
    match state
        .storage
        .commit_orders(commit, Box::new(respond))
        .await?
    {
        CommitOutcome::Committed {
            response, orders, ..
        } => {
            state.orders.remember(&orders);
            Ok(crate::idempotency::send_stored(response))
        }
        CommitOutcome::Replayed(first) => Ok(crate::idempotency::replay(first)),
        CommitOutcome::KeyTaken { mismatch: true } => Err(crate::idempotency::key_reused()),
        CommitOutcome::KeyTaken { mismatch: false } => Err(crate::idempotency::in_progress()),
    }
}

/// A change from the kitchen, made to the order as it is now: a cook's bump carries no
/// version, and a waiter's change landing first must not make it fail, so it is tried
/// again on the newer order.
pub(crate) async fn change_current(
    state: &AppState,
    auth: &Auth,
    store: StoreId,
    id: OrderId,
    key: Option<Extension<IdempotencyClaim>>,
    apply: impl Fn(&mut Order) -> Result<Event, OrderError>,
) -> Result<Response, ApiError> {
    let key = key.map(|Extension(k)| k);
    apply_current(state, Author::of(auth), store, id, key, |order| {
        apply(order).map(|e| vec![e])
    })
    .await
}

/// Applies a change to the order as it is now, again on the newer order if another
/// change lands first. Nothing is written when the change logs no event.
pub(crate) async fn apply_current(
    state: &AppState,
    author: Author,
    store: StoreId,
    id: OrderId,
    key: Option<IdempotencyClaim>,
    apply: impl Fn(&mut Order) -> Result<Vec<Event>, OrderError>,
) -> Result<Response, ApiError> {
    let mut attempts = 0;
    loop {
        let mut order = load(state, store, id).await?;
        let expected = order.version;
        let events = apply(&mut order).map_err(order_error)?;
        if events.is_empty() {
            let body = view_bytes(&order)?;
            return Ok(axum::response::IntoResponse::into_response((
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                body,
            )));
        }
        order.touch(clock::now());
        let write = OrderWrite {
            order,
            expected_version: Some(expected),
        };
        let result = commit(
            state,
            author,
            store,
            vec![write],
            events.into_iter().map(|e| (0, e)).collect(),
            key.clone(),
            Answer::plain(StatusCode::OK),
        )
        .await;
        attempts += 1;
        match result {
            Err(e) if e.code == "version_conflict" && attempts < 3 => continue,
            other => return other,
        }
    }
}

pub(crate) async fn load(state: &AppState, store: StoreId, id: OrderId) -> Result<Order, ApiError> {
    state
        .storage
        .get_order(store, id)
        .await?
        .ok_or_else(|| ApiError::not_found("order not found"))
}

fn version(sent: Option<i64>) -> Result<i64, ApiError> {
    sent.ok_or_else(|| {
        ValidationError::new(
            "version",
            "required",
            "send the order's version from your last read",
        )
        .into()
    })
}

/// Applies one change to an order read at `expected` and writes it.
async fn change(
    state: &AppState,
    auth: &Auth,
    store: StoreId,
    id: OrderId,
    expected: Option<i64>,
    key: Option<Extension<IdempotencyClaim>>,
    apply: impl FnOnce(&mut Order, Actor) -> Result<Event, OrderError>,
) -> Result<Response, ApiError> {
    let write = Change::new(store, id, expected, key, approval::actor(auth, store));
    change_as(state, auth, write, |order, actor| {
        apply(order, actor).map(|e| vec![e])
    })
    .await
}

/// Which order a change is for, based on which version, by whom.
pub(crate) struct Change {
    pub store: StoreId,
    pub id: OrderId,
    pub expected: Option<i64>,
    pub key: Option<Extension<IdempotencyClaim>>,
    pub actor: Actor,
    /// What the card processor said, for the answer.
    pub card: Option<serde_json::Value>,
}

impl Change {
    pub fn new(
        store: StoreId,
        id: OrderId,
        expected: Option<i64>,
        key: Option<Extension<IdempotencyClaim>>,
        actor: Actor,
    ) -> Self {
        Self {
            store,
            id,
            expected,
            key,
            actor,
            card: None,
        }
    }
}

/// Applies a change that logs any number of events, as `actor` (who may carry a
/// manager's approval).
pub(crate) async fn change_as(
    state: &AppState,
    auth: &Auth,
    change: Change,
    apply: impl FnOnce(&mut Order, Actor) -> Result<Vec<Event>, OrderError>,
) -> Result<Response, ApiError> {
    let Change {
        store,
        id,
        expected,
        key,
        actor,
        card,
    } = change;
    let expected = version(expected)?;
    let mut order = match state.orders.at_version(store, id, expected) {
        Some(order) => order,
        None => load(state, store, id).await?,
    };
    if order.version != expected {
        return Err(StoreError::VersionMismatch {
            entity: "order",
            current: order.version,
        }
        .into());
    }
    let events = apply(&mut order, actor).map_err(order_error)?;
    order.touch(clock::now());
    commit(
        state,
        Author::of(auth),
        store,
        vec![OrderWrite {
            order,
            expected_version: Some(expected),
        }],
        events.into_iter().map(|e| (0, e)).collect(),
        key.map(|Extension(k)| k),
        Answer {
            card,
            ..Answer::plain(StatusCode::OK)
        },
    )
    .await
}

// Opening.

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryInput {
    address: String,
    customer_name: String,
    #[serde(default)]
    phone: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenBody {
    #[schemars(with = "comanda_domain::orders::OrderKind")]
    kind: String,
    #[serde(default)]
    #[schemars(with = "Option<uuid::Uuid>")]
    table_id: Option<String>,
    #[serde(default)]
    guests: Option<u16>,
    #[serde(default)]
    delivery: Option<DeliveryInput>,
    #[serde(default)]
    notes: Option<String>,
    #[serde(default)]
    lines: Vec<LineInput>,
}

fn text(field: &str, value: &str, max: usize) -> Result<String, ValidationError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ValidationError::new(field, "required", "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(ValidationError::new(
            field,
            "too_long",
            format!("at most {max} characters"),
        ));
    }
    Ok(value.to_owned())
}

async fn table_in_store(
    state: &AppState,
    store: StoreId,
    field: &str,
    id: Option<&str>,
) -> Result<Option<TableId>, ApiError> {
    let Some(id) = id else { return Ok(None) };
    let id: TableId = id
        .trim()
        .parse()
        .map_err(|_| ValidationError::new(field, "invalid_id", "not a valid id"))?;
    match state.storage.get_table(store, id).await? {
        Some(table) if !table.archived => Ok(Some(id)),
        _ => {
            Err(ValidationError::new(field, "unknown_table", "no such table in this store").into())
        }
    }
}

pub async fn open(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
    key: Option<Extension<IdempotencyClaim>>,
    ApiJson(body): ApiJson<OpenBody>,
) -> Result<Response, ApiError> {
    auth.require_in(&state, Permission::OrderTake, store)?;
    let kind: OrderKind = body.kind.parse().map_err(|()| {
        ValidationError::new(
            "kind",
            "invalid_choice",
            "must be dine_in, counter, delivery or catering",
        )
    })?;
    let table_id = table_in_store(&state, store, "table_id", body.table_id.as_deref()).await?;
    if kind == OrderKind::DineIn && table_id.is_none() {
        return Err(
            ValidationError::new("table_id", "required", "a dine-in order is at a table").into(),
        );
    }
    if body.guests.is_some_and(|g| g == 0 || g > 99) {
        return Err(ValidationError::new("guests", "out_of_range", "between 1 and 99").into());
    }
    let delivery = match (kind, &body.delivery) {
        (OrderKind::Delivery, None) => {
            return Err(ValidationError::new(
                "delivery",
                "required",
                "a delivery needs an address and a name",
            )
            .into());
        }
        (_, Some(d)) => Some(Delivery {
            address: text("delivery.address", &d.address, 300)?,
            customer_name: text("delivery.customer_name", &d.customer_name, 100)?,
            phone: d
                .phone
                .as_deref()
                .map(|p| text("delivery.phone", p, 30))
                .transpose()?,
        }),
        (_, None) => None,
    };
    let notes = body
        .notes
        .as_deref()
        .map(|n| text("notes", n, 500))
        .transpose()?;
    let catalog = SaleCache::catalog(&state, store).await?;
    let (lines, rates) = if body.lines.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        catalog
            .price_lines(&state, store, "lines", &body.lines, auth.actor.user_id)
            .await?
    };
    let mut order = Order::new(
        store,
        kind,
        catalog.currency,
        catalog.policy,
        auth.actor.user_id,
        clock::now(),
    );
    order.table_id = table_id;
    order.guests = body.guests;
    order.delivery = delivery;
    order.notes = notes;
    let mut events = vec![(0, order.opened_event())];
    if !lines.is_empty() {
        events.push((0, order.add_lines(lines, rates).map_err(order_error)?));
    }
    commit(
        &state,
        Author::of(&auth),
        store,
        vec![OrderWrite {
            order,
            expected_version: None,
        }],
        events,
        key.map(|Extension(k)| k),
        Answer::plain(StatusCode::CREATED),
    )
    .await
}

// Reading.

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// One status or several, comma-separated.
    #[schemars(with = "Option<crate::contract::inputs::StatusList>")]
    status: Option<String>,
    #[schemars(with = "Option<uuid::Uuid>")]
    table_id: Option<String>,
    #[schemars(with = "Option<comanda_domain::orders::OrderKind>")]
    kind: Option<String>,
    #[schemars(with = "Option<uuid::Uuid>")]
    opened_by: Option<String>,
    /// Opened at or after this instant.
    #[schemars(with = "Option<chrono::DateTime<chrono::Utc>>")]
    from: Option<String>,
    /// Opened before this instant.
    #[schemars(with = "Option<chrono::DateTime<chrono::Utc>>")]
    until: Option<String>,
    /// The `next` of the previous page.
    #[schemars(with = "Option<uuid::Uuid>")]
    after: Option<String>,
    /// 1 to 500; 50 when left out.
    #[schemars(range(min = 1, max = 500))]
    limit: Option<u32>,
}

fn bad_query(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", message)
}

fn instant(
    name: &str,
    value: Option<&str>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
    value
        .map(|v| {
            chrono::DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&chrono::Utc))
                .map_err(|_| bad_query(format!("{name} must be an RFC 3339 instant")))
        })
        .transpose()
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<PageView<serde_json::Value>>, ApiError> {
    auth.require_in(&state, Permission::OrderRead, store)?;
    let statuses = match &query.status {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|s| {
                s.trim()
                    .parse::<OrderStatus>()
                    .map_err(|()| bad_query(format!("unknown status {s:?}")))
            })
            .collect::<Result<_, _>>()?,
    };
    let filter = OrderFilter {
        statuses,
        table: crate::extract::query_id("table_id", query.table_id.as_deref())?,
        kind: query
            .kind
            .as_deref()
            .map(|k| {
                k.parse()
                    .map_err(|()| bad_query(format!("unknown kind {k:?}")))
            })
            .transpose()?,
        opened_by: crate::extract::query_id::<UserId>("opened_by", query.opened_by.as_deref())?,
        opened_from: instant("from", query.from.as_deref())?,
        opened_until: instant("until", query.until.as_deref())?,
    };
    let before = crate::extract::query_id("after", query.after.as_deref())?;
    let page = state
        .storage
        .list_orders(
            store,
            &filter,
            before,
            crate::extract::page_limit(query.limit)?,
        )
        .await?;
    let next = page.next.map(|id| id.to_string());
    let items = page
        .items
        .iter()
        .map(|order| {
            serde_json::to_value(OrderView::of(order)?)
                .map_err(|e| StoreError::Internal(e.to_string()))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Json(PageView { items, next }))
}

use aide::transform::TransformOperation;
use axum::Json;

#[derive(Serialize, schemars::JsonSchema)]
struct EventView {
    seq: i64,
    kind: String,
    /// As stored: a payload is valid JSON when written, and parsing it only to write it
    /// out again was most of the cost of reading an order.
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    payload: Box<serde_json::value::RawValue>,
    actor_id: Option<UserId>,
    device_id: Option<comanda_domain::DeviceId>,
    at: chrono::DateTime<chrono::Utc>,
    hash: String,
}

impl From<LoggedEvent> for EventView {
    fn from(e: LoggedEvent) -> Self {
        Self {
            seq: e.seq,
            kind: e.kind,
            payload: serde_json::value::RawValue::from_string(e.payload).unwrap_or_default(),
            actor_id: e.actor,
            device_id: e.device,
            at: e.at,
            hash: e.hash.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct OrderDetail {
    #[serde(flatten)]
    order: Order,
    totals: Totals,
    balance: Balance,
    events: Vec<EventView>,
}

pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, OrderId)>,
) -> Result<Json<OrderDetail>, ApiError> {
    auth.require_in(&state, Permission::OrderRead, store)?;
    let order = load(&state, store, id).await?;
    let events = state.storage.order_events(store, id).await?;
    let totals = totals(&order).map_err(|e| StoreError::Internal(e.to_string()))?;
    Ok(Json(OrderDetail {
        balance: order.balance(&totals),
        order,
        totals,
        events: events.into_iter().map(EventView::from).collect(),
    }))
}

// Changes.

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinesBody {
    #[schemars(with = "i64")]
    version: Option<i64>,
    lines: Vec<LineInput>,
}

pub async fn add_lines(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, OrderId)>,
    key: Option<Extension<IdempotencyClaim>>,
    ApiJson(body): ApiJson<LinesBody>,
) -> Result<Response, ApiError> {
    auth.require_in(&state, Permission::OrderTake, store)?;
    version(body.version)?;
    let (lines, rates) = SaleCache::catalog(&state, store)
        .await?
        .price_lines(&state, store, "lines", &body.lines, auth.actor.user_id)
        .await?;
    change(&state, &auth, store, id, body.version, key, |order, _| {
        order.add_lines(lines, rates)
    })
    .await
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionBody {
    #[schemars(with = "i64")]
    version: Option<i64>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    #[schemars(with = "i64")]
    version: Option<i64>,
    #[serde(default)]
    reason: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VoidBody {
    #[schemars(with = "i64")]
    version: Option<i64>,
    #[serde(default)]
    reason: String,
    /// A manager's PIN, when the store wants approval and the waiter is not a manager.
    #[serde(default)]
    approval: Option<ApprovalInput>,
}

pub async fn remove_line(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id, line)): ApiPath<(StoreId, OrderId, OrderLineId)>,
    key: Option<Extension<IdempotencyClaim>>,
    ApiJson(body): ApiJson<VersionBody>,
) -> Result<Response, ApiError> {
    auth.require_in(&state, Permission::OrderTake, store)?;
    change(&state, &auth, store, id, body.version, key, |order, _| {
        order.remove_line(line)
    })
    .await
}

pub async fn void_line(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id, line)): ApiPath<(StoreId, OrderId, OrderLineId)>,
    key: Option<Extension<IdempotencyClaim>>,
    ApiJson(body): ApiJson<VoidBody>,
) -> Result<Response, ApiError> {
    auth.require_in(&state, Permission::OrderTake, store)?;
    let policy = state.storage.order_policy(store).await?;
    let actor = approval::approved_actor(&state, &auth, store, body.approval.as_ref()).await?;
    let write = Change::new(store, id, body.version, key, actor);
    change_as(&state, &auth, write, |order, actor| {
        order
            .void_line(line, &body.reason, actor, &policy)
            .map(|e| vec![e])
    })
    .await
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscountInput {
    #[serde(default)]
    amount: Option<MoneyInput>,
    #[serde(default)]
    percent: Option<String>,
    #[serde(default)]
    reason: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscountBody {
    #[schemars(with = "i64")]
    version: Option<i64>,
    /// `null` removes the discount.
    discount: Option<DiscountInput>,
    /// A manager's PIN, for a discount above the store's limit.
    #[serde(default)]
    approval: Option<ApprovalInput>,
}

/// The discount asked for, checked in the store's currency, and the store's rules for it.
async fn discount_and_rules(
    state: &AppState,
    store: StoreId,
    input: Option<&DiscountInput>,
) -> Result<(Option<Discount>, OrderPolicy), ApiError> {
    let policy = state.storage.order_policy(store).await?;
    let Some(input) = input else {
        return Ok((None, policy));
    };
    let currency = super::catalog::currency_of(state, store).await?;
    let value = match (&input.amount, &input.percent) {
        (Some(amount), None) => {
            DiscountValue::Amount(amount.parse("discount.amount", currency, 0)?.amount)
        }
        (None, Some(percent)) => DiscountValue::Percent(Rate::parse("discount.percent", percent)?),
        _ => {
            return Err(ValidationError::new(
                "discount",
                "amount_or_percent",
                "give an amount or a percent, not both",
            )
            .into());
        }
    };
    let discount = Discount {
        value,
        reason: input.reason.clone(),
        applied_by: None,
        approved_by: None,
    };
    Ok((Some(discount), policy))
}

/// The change a discount makes, by the actor or with the manager's PIN it came with.
async fn discount_change(
    state: &AppState,
    auth: &Auth,
    store: StoreId,
    id: OrderId,
    key: Option<Extension<IdempotencyClaim>>,
    body: &DiscountBody,
) -> Result<Change, ApiError> {
    let actor = approval::approved_actor(state, auth, store, body.approval.as_ref()).await?;
    Ok(Change::new(store, id, body.version, key, actor))
}

pub async fn set_line_discount(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id, line)): ApiPath<(StoreId, OrderId, OrderLineId)>,
    key: Option<Extension<IdempotencyClaim>>,
    ApiJson(body): ApiJson<DiscountBody>,
) -> Result<Response, ApiError> {
    auth.require_in(&state, Permission::OrderTake, store)?;
    let (discount, policy) = discount_and_rules(&state, store, body.discount.as_ref()).await?;
    let write = discount_change(&state, &auth, store, id, key, &body).await?;
    change_as(&state, &auth, write, |order, actor| {
        order
            .set_line_discount(line, discount, actor, &policy)
            .map(|e| vec![e])
    })
    .await
}

pub async fn set_discount(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, OrderId)>,
    key: Option<Extension<IdempotencyClaim>>,
    ApiJson(body): ApiJson<DiscountBody>,
) -> Result<Response, ApiError> {
    auth.require_in(&state, Permission::OrderTake, store)?;
    let (discount, policy) = discount_and_rules(&state, store, body.discount.as_ref()).await?;
    let write = discount_change(&state, &auth, store, id, key, &body).await?;
    change_as(&state, &auth, write, |order, actor| {
        order
            .set_discount(discount, actor, &policy)
            .map(|e| vec![e])
    })
    .await
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TipBody {
    #[schemars(with = "i64")]
    version: Option<i64>,
    tip: MoneyInput,
}

pub async fn set_tip(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, OrderId)>,
    key: Option<Extension<IdempotencyClaim>>,
    ApiJson(body): ApiJson<TipBody>,
) -> Result<Response, ApiError> {
    auth.require_in(&state, Permission::OrderTake, store)?;
    let currency = super::catalog::currency_of(&state, store).await?;
    let tip = body.tip.parse("tip", currency, 0)?;
    change(&state, &auth, store, id, body.version, key, |order, _| {
        order.set_tip(tip.amount)
    })
    .await
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceBody {
    #[schemars(with = "i64")]
    version: Option<i64>,
    waived: bool,
}

/// A handler for a change that needs only the order and the body: checks the
/// permission in the store, then applies `$apply` to the order read at `version`.
macro_rules! order_change {
    // Applied to the order as it is now, without a version (see `change_current`).
    (current $name:ident, $body:ty, $permission:expr, |$order:ident, $body_var:ident| $apply:expr) => {
        pub async fn $name(
            State(state): State<AppState>,
            auth: Auth,
            ApiPath((store, id)): ApiPath<(StoreId, OrderId)>,
            key: Option<Extension<IdempotencyClaim>>,
            ApiJson($body_var): ApiJson<$body>,
        ) -> Result<Response, ApiError> {
            auth.require_in(&state, $permission, store)?;
            change_current(&state, &auth, store, id, key, |$order| $apply).await
        }
    };
    ($name:ident, $body:ty, $permission:expr, |$order:ident, $body_var:ident| $apply:expr) => {
        pub async fn $name(
            State(state): State<AppState>,
            auth: Auth,
            ApiPath((store, id)): ApiPath<(StoreId, OrderId)>,
            key: Option<Extension<IdempotencyClaim>>,
            ApiJson($body_var): ApiJson<$body>,
        ) -> Result<Response, ApiError> {
            auth.require_in(&state, $permission, store)?;
            change(
                &state,
                &auth,
                store,
                id,
                $body_var.version,
                key,
                |$order, _| $apply,
            )
            .await
        }
    };
}

order_change!(
    set_service,
    ServiceBody,
    Permission::OrderTake,
    |order, body| { order.set_service_waived(body.waived) }
);
order_change!(
    send_to_kitchen,
    VersionBody,
    Permission::OrderTake,
    |order, _body| { order.send(clock::now()) }
);
order_change!(
    ready,
    VersionBody,
    Permission::KitchenUpdate,
    |order, _body| { order.mark_ready() }
);
order_change!(
    served,
    VersionBody,
    Permission::OrderTake,
    |order, _body| { order.mark_served() }
);
order_change!(
    close,
    VersionBody,
    Permission::PaymentTake,
    |order, _body| { order.close(clock::now()) }
);
order_change!(cancel, ReasonBody, Permission::OrderTake, |order, body| {
    order.cancel(&body.reason, clock::now())
});

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    #[schemars(with = "i64")]
    version: Option<i64>,
    #[schemars(with = "Option<uuid::Uuid>")]
    table_id: Option<String>,
    #[serde(default)]
    guests: Option<u16>,
}

pub async fn move_table(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, OrderId)>,
    key: Option<Extension<IdempotencyClaim>>,
    ApiJson(body): ApiJson<MoveBody>,
) -> Result<Response, ApiError> {
    auth.require_in(&state, Permission::OrderTake, store)?;
    let table = table_in_store(&state, store, "table_id", body.table_id.as_deref()).await?;
    change(&state, &auth, store, id, body.version, key, |order, _| {
        order.move_to(table, body.guests)
    })
    .await
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    #[schemars(with = "i64")]
    version: Option<i64>,
    #[schemars(with = "uuid::Uuid")]
    from_order_id: String,
    #[schemars(with = "i64")]
    from_version: Option<i64>,
}

/// Merges another tab of the store into this one.
pub async fn merge(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, OrderId)>,
    key: Option<Extension<IdempotencyClaim>>,
    ApiJson(body): ApiJson<MergeBody>,
) -> Result<Response, ApiError> {
    auth.require_in(&state, Permission::OrderTake, store)?;
    let expected = version(body.version)?;
    let from_expected = body.from_version.ok_or_else(|| {
        ApiError::from(ValidationError::new(
            "from_version",
            "required",
            "send the other order's version too",
        ))
    })?;
    let from_id: OrderId = body
        .from_order_id
        .trim()
        .parse()
        .map_err(|_| ValidationError::new("from_order_id", "invalid_id", "not a valid id"))?;
    let mut into = load(&state, store, id).await?;
    let mut from = state
        .storage
        .get_order(store, from_id)
        .await?
        .ok_or_else(|| {
            ApiError::from(ValidationError::new(
                "from_order_id",
                "unknown_order",
                "no such order in this store",
            ))
        })?;
    for (order, expected) in [(&into, expected), (&from, from_expected)] {
        if order.version != expected {
            return Err(StoreError::VersionMismatch {
                entity: "order",
                current: order.version,
            }
            .into());
        }
    }
    let (into_event, from_event) = into.merge_from(&mut from).map_err(order_error)?;
    let now = clock::now();
    into.touch(now);
    from.touch(now);
    commit(
        &state,
        Author::of(&auth),
        store,
        vec![
            OrderWrite {
                order: into,
                expected_version: Some(expected),
            },
            OrderWrite {
                order: from,
                expected_version: Some(from_expected),
            },
        ],
        vec![(0, into_event), (1, from_event)],
        key.map(|Extension(k)| k),
        Answer::plain(StatusCode::OK),
    )
    .await
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitBody {
    #[schemars(with = "i64")]
    version: Option<i64>,
    /// Move these lines to a new order.
    #[serde(default)]
    line_ids: Option<Vec<String>>,
    /// One new order per seat.
    #[serde(default)]
    by_seat: bool,
    /// Split the bill into this many equal parts.
    #[serde(default)]
    parts: Option<i64>,
}

/// Splits a tab: lines to a new order, one order per seat, or the bill into equal parts.
/// Answers with the original order; the new orders are in its events.
pub async fn split(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, OrderId)>,
    key: Option<Extension<IdempotencyClaim>>,
    ApiJson(body): ApiJson<SplitBody>,
) -> Result<Response, ApiError> {
    auth.require_in(&state, Permission::OrderTake, store)?;
    let choices = usize::from(body.line_ids.is_some())
        + usize::from(body.by_seat)
        + usize::from(body.parts.is_some());
    if choices != 1 {
        return Err(ValidationError::new(
            "line_ids",
            "one_way",
            "split by line_ids, by_seat or parts: one of them",
        )
        .into());
    }
    if let Some(parts) = body.parts {
        return change(&state, &auth, store, id, body.version, key, |order, _| {
            order.split_equal(parts)
        })
        .await;
    }
    let expected = version(body.version)?;
    let mut order = load(&state, store, id).await?;
    if order.version != expected {
        return Err(StoreError::VersionMismatch {
            entity: "order",
            current: order.version,
        }
        .into());
    }
    let groups: Vec<Vec<OrderLineId>> = match &body.line_ids {
        Some(ids) => vec![
            ids.iter()
                .enumerate()
                .map(|(i, id)| {
                    id.trim().parse().map_err(|_| {
                        ApiError::from(ValidationError::new(
                            format!("line_ids[{i}]"),
                            "invalid_id",
                            "not a valid id",
                        ))
                    })
                })
                .collect::<Result<_, _>>()?,
        ],
        None => {
            let seats = order.seats();
            // The first seat's lines stay on the order.
            seats.into_iter().skip(1).map(|(_, ids)| ids).collect()
        }
    };
    if groups.is_empty() {
        return Err(ValidationError::new(
            "by_seat",
            "one_seat",
            "the lines are on one seat or none",
        )
        .into());
    }
    let now = clock::now();
    let mut writes = vec![];
    let mut events = vec![];
    let mut children = Vec::new();
    for ids in &groups {
        let mut child = child_of(&order, OrderId::new(), 0, now);
        let (out, into) = order.split_lines_to(ids, &mut child).map_err(order_error)?;
        events.push((0, out));
        children.push((child, into));
    }
    order.touch(now);
    writes.push(OrderWrite {
        order,
        expected_version: Some(expected),
    });
    for (i, (child, into)) in children.into_iter().enumerate() {
        let opened = child.opened_event();
        writes.push(OrderWrite {
            order: child,
            expected_version: None,
        });
        events.push((i + 1, opened));
        events.push((i + 1, into));
    }
    commit(
        &state,
        Author::of(&auth),
        store,
        writes,
        events,
        key.map(|Extension(k)| k),
        Answer {
            split_into: true,
            ..Answer::plain(StatusCode::OK)
        },
    )
    .await
}

// What needs a manager.

pub async fn get_settings(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
) -> Result<Json<OrderPolicy>, ApiError> {
    auth.require_in(&state, Permission::OrderRead, store)?;
    Ok(Json(state.storage.order_policy(store).await?))
}

pub async fn put_settings(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
    ApiJson(body): ApiJson<PolicyInput>,
) -> Result<Json<OrderPolicy>, ApiError> {
    auth.require_in(&state, Permission::StoreManage, store)?;
    let expected = version(body.version)?;
    let current = state.storage.order_policy(store).await?;
    let next = body.apply(current)?;
    Ok(Json(
        state
            .storage
            .set_order_policy(store, expected, &next)
            .await?,
    ))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RushBody {
    rush: bool,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FireBody {
    course: u8,
}

// `POST .../orders/{id}/rush`: the kitchen takes it first.
order_change!(current rush, RushBody, Permission::OrderTake, |order, body| {
    order.set_rush(body.rush)
});
// `POST .../orders/{id}/fire`: start the held courses up to `course` now ("fire the mains").
order_change!(current fire, FireBody, Permission::OrderTake, |order, body| {
    order.fire(body.course)
});

/// The document's word for a change answered with the order as it now is.
pub fn answers_order(mut op: TransformOperation<'_>) -> TransformOperation<'_> {
    crate::contract::answer_json::<OrderView<'static>>(
        op.inner_mut(),
        200,
        "The order as it now is",
    );
    op
}

/// The document's word for the list of orders: each as a change would answer it.
pub fn answers_orders(mut op: TransformOperation<'_>) -> TransformOperation<'_> {
    crate::contract::answer_json::<PageView<OrderView<'static>>>(
        op.inner_mut(),
        200,
        "A page of orders, newest first",
    );
    op
}

/// The document's word for a request that makes an order.
pub fn answers_new_order(mut op: TransformOperation<'_>) -> TransformOperation<'_> {
    crate::contract::answer_json::<OrderView<'static>>(op.inner_mut(), 201, "The new order");
    op
}
