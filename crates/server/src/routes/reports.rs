//! Sales reports through HTTP. The X report is the business day so far; the Z report
//! closes it: numbered, kept as issued and never changed. Both are built from the running
//! totals (caught up to the log first), so they take the same time on the first day and
//! after a million orders. `?format=html` gives a printable page.

use super::catalog::store_of;
use crate::auth::extract::Auth;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::report_page;
use crate::sales::caught_up;
use crate::state::AppState;
use aide::transform::TransformOperation;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use comanda_domain::reports::{Dimension, SalesReport, TotalRow, drawer_of};
use comanda_domain::{Permission, Store, StoreId, UserId, clock};
use comanda_store::{SalesPosition, StoreError};
use serde::{Deserialize, Serialize};

#[derive(Serialize, schemars::JsonSchema)]
struct StoreHeader<'a> {
    id: StoreId,
    name: &'a str,
    code: &'a str,
    currency: &'static str,
    locale: comanda_domain::Locale,
    timezone: &'static str,
}

#[derive(Serialize, schemars::JsonSchema)]
struct ReportDocument<'a> {
    /// `x` or `z`.
    kind: &'static str,
    /// The business day: the Z report's number.
    number: i64,
    store: StoreHeader<'a>,
    opened_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    closed_by: Option<UserId>,
    generated_at: DateTime<Utc>,
    /// The stretch of the order log the day covers: after `from_seq`, up to `to_seq`.
    from_seq: i64,
    to_seq: i64,
    #[serde(flatten)]
    report: SalesReport,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FormatQuery {
    /// `json` (the default) or `html`.
    #[serde(default)]
    #[schemars(with = "Option<crate::contract::inputs::ReportFormat>")]
    format: Option<String>,
}

fn wants_html(query: &FormatQuery) -> Result<bool, ApiError> {
    match query.format.as_deref() {
        None | Some("json") => Ok(false),
        Some("html") => Ok(true),
        Some(_) => {
            Err(
                comanda_domain::ValidationError::new("format", "invalid_format", "json or html")
                    .into(),
            )
        }
    }
}

/// Names for the categories and people the totals know by id.
async fn names(
    state: &AppState,
    store: StoreId,
    rows: &[TotalRow],
) -> Result<std::collections::HashMap<(Dimension, String), String>, ApiError> {
    let mut names = std::collections::HashMap::new();
    if rows.iter().any(|r| r.dimension == Dimension::Category) {
        for category in state.storage.list_categories(store).await? {
            names.insert(
                (Dimension::Category, category.id.to_string()),
                category.name.as_str().to_owned(),
            );
        }
    }
    for row in rows.iter().filter(|r| r.dimension == Dimension::Staff) {
        if let Ok(id) = row.key.parse::<UserId>()
            && let Some(user) = state.storage.get_user(id).await?
        {
            names.insert(
                (Dimension::Staff, row.key.clone()),
                user.display_name.as_str().to_owned(),
            );
        }
    }
    Ok(names)
}

/// The report of business day `position.day` as it stands.
async fn build(
    state: &AppState,
    store: StoreId,
    position: SalesPosition,
) -> Result<SalesReport, ApiError> {
    let rows = state.storage.sales_totals(store, position.day).await?;
    let mut shifts = state.storage.list_shifts(store, Some(position.day)).await?;
    shifts.extend(state.storage.list_shifts(store, None).await?);
    let drawers: Vec<_> = shifts
        .into_iter()
        .map(|s| {
            let drawer = s
                .closing
                .as_ref()
                .map_or_else(|| drawer_of(&rows, s.id), |c| c.sales);
            (s, drawer)
        })
        .collect();
    let names = names(state, store, &rows).await?;
    Ok(SalesReport::build(&rows, &drawers, |d, key| {
        names.get(&(d, key.to_owned())).cloned()
    }))
}

fn header(shop: &Store) -> StoreHeader<'_> {
    StoreHeader {
        id: shop.id,
        name: shop.name.as_str(),
        code: shop.code.as_str(),
        currency: shop.currency.code(),
        locale: shop.locale,
        timezone: shop.timezone.name(),
    }
}

fn to_text(document: &ReportDocument<'_>) -> Result<String, ApiError> {
    serde_json::to_string(document).map_err(|e| StoreError::Internal(e.to_string()).into())
}

/// A document as JSON, or as a printable page.
fn answer(
    status: StatusCode,
    text: String,
    html: bool,
    shop: &Store,
) -> Result<Response, ApiError> {
    if !html {
        return Ok((status, [(header::CONTENT_TYPE, "application/json")], text).into_response());
    }
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| StoreError::Internal(e.to_string()))?;
    Ok((
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
        ],
        report_page::render(&value, shop),
    )
        .into_response())
}

/// `GET .../reports/x`: the business day so far.
pub async fn x_report(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
    ApiQuery(query): ApiQuery<FormatQuery>,
) -> Result<Response, ApiError> {
    auth.require_in(&state, Permission::ReportRead, store)?;
    let html = wants_html(&query)?;
    let shop = store_of(&state, store).await?;
    let position = crate::sales::up_to_date(&state, store).await?;
    let report = build(&state, store, position).await?;
    let text = to_text(&ReportDocument {
        kind: "x",
        number: position.day,
        store: header(&shop),
        opened_at: position.day_opened_at,
        closed_at: None,
        closed_by: None,
        generated_at: clock::now(),
        from_seq: position.day_from_seq,
        to_seq: position.applied_seq,
        report,
    })?;
    answer(StatusCode::OK, text, html, &shop)
}

fn day_not_open(open_day: i64) -> ApiError {
    ApiError::conflict(
        "day_not_open",
        "that business day is neither open nor closed; read the X report again",
    )
    .with_details(serde_json::json!({ "field": "day", "open_day": open_day }))
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseQuery {
    /// The business day to close: the `number` of the X report the closer looked at.
    /// If that day is already closed (a second tap, a retry from another screen), its Z
    /// report is answered (200) and nothing else is closed. Left out: the day open now.
    #[serde(default)]
    #[schemars(range(min = 1))]
    day: Option<i64>,
}

/// `POST .../reports/z`: closes the business day with its Z report. Every shift must be
/// closed first (their counts are part of it).
pub async fn close_day(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
    ApiQuery(query): ApiQuery<CloseQuery>,
) -> Result<Response, ApiError> {
    auth.require_in(&state, Permission::DayClose, store)?;
    let shop = store_of(&state, store).await?;
    if let Some(day) = query.day {
        if let Some(z) = state.storage.z_report(store, day).await? {
            return answer(StatusCode::OK, z.document, false, &shop);
        }
        let open_day = state.storage.sales_position(store).await?.day;
        if day != open_day {
            return Err(day_not_open(open_day));
        }
    }
    let open = state.storage.list_shifts(store, None).await?;
    if !open.is_empty() {
        let numbers: Vec<i64> = open.iter().map(|s| s.number).collect();
        return Err(
            ApiError::conflict("shifts_open", "close every shift before closing the day")
                .with_details(serde_json::json!({ "open_shifts": numbers })),
        );
    }
    // The totals' lock is held from the last fold to the close: nothing is added to the
    // day in between, and what comes after goes to the next one.
    let (position, _guard) = caught_up(&state, store).await?;
    let report = build(&state, store, position).await?;
    let now = clock::now();
    let text = to_text(&ReportDocument {
        kind: "z",
        number: position.day,
        store: header(&shop),
        opened_at: position.day_opened_at,
        closed_at: Some(now),
        closed_by: auth.actor.user_id,
        generated_at: now,
        from_seq: position.day_from_seq,
        to_seq: position.applied_seq,
        report,
    })?;
    if let Some(day) = query.day.filter(|day| *day != position.day) {
        // Closed by another tap between the check above and the totals' lock.
        return match state.storage.z_report(store, day).await? {
            Some(z) => answer(StatusCode::OK, z.document, false, &shop),
            None => Err(day_not_open(position.day)),
        };
    }
    let closed = state
        .storage
        .close_day(store, position, now, auth.actor.user_id, &text)
        .await?;
    if !closed {
        return Err(ApiError::conflict(
            "day_moved",
            "another instance folded new sales in meanwhile; try again",
        ));
    }
    answer(StatusCode::CREATED, text, false, &shop)
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Z numbers below this one (the cursor).
    #[serde(default)]
    before: Option<i64>,
    #[serde(default)]
    /// 1 to 500; 50 when left out.
    #[schemars(range(min = 1, max = 500))]
    limit: Option<i64>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct ZSummary {
    number: i64,
    opened_at: DateTime<Utc>,
    closed_at: DateTime<Utc>,
    closed_by: Option<UserId>,
    from_seq: i64,
    to_seq: i64,
    /// The day's sales as the report states them, so a list needs no report each.
    #[schemars(with = "comanda_domain::reports::SalesSummary")]
    sales: serde_json::Value,
}

/// `GET .../reports/z`: the closed days, newest first.
pub async fn z_list(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<axum::Json<crate::extract::SeqPage<ZSummary>>, ApiError> {
    auth.require_in(&state, Permission::ReportRead, store)?;
    let limit = crate::extract::bounded_limit(query.limit, 50, 500)?;
    let reports = state.storage.z_reports(store, query.before, limit).await?;
    let next = (reports.len() as i64 == limit)
        .then(|| reports.last().map(|z| z.number))
        .flatten();
    let items: Vec<ZSummary> = reports
        .into_iter()
        .map(|z| ZSummary {
            sales: serde_json::from_str::<serde_json::Value>(&z.document)
                .map(|d| d["sales"].clone())
                .unwrap_or(serde_json::Value::Null),
            number: z.number,
            opened_at: z.opened_at,
            closed_at: z.closed_at,
            closed_by: z.closed_by,
            from_seq: z.from_seq,
            to_seq: z.to_seq,
        })
        .collect();
    Ok(axum::Json(crate::extract::SeqPage { items, next }))
}

/// `GET .../reports/z/{number}`: a Z report exactly as issued.
pub async fn z_get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, number)): ApiPath<(StoreId, i64)>,
    ApiQuery(query): ApiQuery<FormatQuery>,
) -> Result<Response, ApiError> {
    auth.require_in(&state, Permission::ReportRead, store)?;
    let html = wants_html(&query)?;
    let z = state
        .storage
        .z_report(store, number)
        .await?
        .ok_or_else(|| ApiError::not_found("no such Z report"))?;
    let shop = store_of(&state, store).await?;
    answer(StatusCode::OK, z.document, html, &shop)
}

/// The document's word for a report: JSON, or a printable page with `?format=html`.
pub fn describe_report(mut op: TransformOperation<'_>) -> TransformOperation<'_> {
    describe_as(op.inner_mut(), 200);
    op
}

/// The document's word for closing the day: its Z report, as issued.
pub fn describe_close(mut op: TransformOperation<'_>) -> TransformOperation<'_> {
    describe_as(op.inner_mut(), 201);
    // `?day=` of a day already closed: its report, as issued.
    describe_as(op.inner_mut(), 200);
    op
}

fn describe_as(op: &mut aide::openapi::Operation, status: u16) {
    crate::contract::answer_json::<ReportDocument<'static>>(
        op,
        status,
        "The report; with `?format=html`, a printable page",
    );
    crate::contract::add_media(
        op,
        status,
        "text/html",
        serde_json::json!({ "type": "string" }),
    );
}
