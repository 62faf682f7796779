//! Service areas and tables of a store, with what is open at each table.

use crate::auth::extract::Auth;
use crate::contract::outputs::Created;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, PageView};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::response::sse::Event as SseEvent;
use comanda_domain::orders::{Order, OrderStatus};
use comanda_domain::validation::bounded_text;
use comanda_domain::{OrderId, Permission, ServiceAreaId, StoreId, TableId, ValidationError};
use comanda_store::{DiningTable, Limit, OrderFilter, ServiceArea, TableDraft};
use serde::{Deserialize, Serialize};

fn name(field: &str, value: &str) -> Result<String, ValidationError> {
    bounded_text(field, value, 1, 60)
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AreaBody {
    #[schemars(length(min = 1, max = 60))]
    name: String,
    #[serde(default)]
    position: i32,
}

pub async fn list_areas(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
) -> Result<Json<PageView<ServiceArea>>, ApiError> {
    auth.require_in(&state, Permission::OrderRead, store)?;
    let items = state.storage.list_areas(store).await?;
    Ok(Json(PageView { items, next: None }))
}

pub async fn create_area(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
    ApiJson(body): ApiJson<AreaBody>,
) -> Result<Created<ServiceArea>, ApiError> {
    auth.require_in(&state, Permission::FloorManage, store)?;
    let area = state
        .storage
        .create_area(store, &name("name", &body.name)?, body.position)
        .await?;
    Ok(Created(area))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TableBody {
    #[serde(default)]
    version: Option<i64>,
    #[schemars(length(min = 1, max = 60))]
    name: String,
    #[serde(default)]
    #[schemars(with = "Option<uuid::Uuid>")]
    area_id: Option<String>,
    #[serde(default = "default_seats")]
    seats: i32,
    #[serde(default)]
    position: i32,
    #[serde(default)]
    archived: bool,
}

fn default_seats() -> i32 {
    4
}

impl TableBody {
    fn draft(&self) -> Result<TableDraft, ValidationError> {
        if !(1..=99).contains(&self.seats) {
            return Err(ValidationError::new(
                "seats",
                "out_of_range",
                "between 1 and 99",
            ));
        }
        let area_id = self
            .area_id
            .as_deref()
            .map(|a| {
                a.trim()
                    .parse::<ServiceAreaId>()
                    .map_err(|_| ValidationError::new("area_id", "invalid_id", "not a valid id"))
            })
            .transpose()?;
        Ok(TableDraft {
            area_id,
            name: name("name", &self.name)?,
            seats: self.seats,
            position: self.position,
            archived: self.archived,
        })
    }
}

/// A table and the tabs open at it: the floor plan's colours.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct TableView {
    #[serde(flatten)]
    table: DiningTable,
    open_orders: Vec<OrderId>,
    /// The same tabs with what a floor plan shows of them.
    orders: Vec<TabView>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
struct TabView {
    id: OrderId,
    number: i64,
    status: OrderStatus,
    version: i64,
}

pub async fn list_tables(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
) -> Result<Json<PageView<TableView>>, ApiError> {
    auth.require_in(&state, Permission::OrderRead, store)?;
    let tables = state.storage.list_tables(store).await?;
    let filter = OrderFilter {
        statuses: OrderStatus::ALL
            .into_iter()
            .filter(|s| s.is_active())
            .collect(),
        ..OrderFilter::default()
    };
    let open = state
        .storage
        .list_orders(store, &filter, None, Limit::new(Some(500)))
        .await?;
    let items = tables
        .into_iter()
        .map(|table| {
            let tabs: Vec<&Order> = open
                .items
                .iter()
                .filter(|o| o.table_id == Some(table.id))
                .collect();
            table_view(table, &tabs)
        })
        .collect();
    Ok(Json(PageView { items, next: None }))
}

/// `GET .../tables/{table_id}`: one table with its tabs, as the floor list shows it; what
/// a POS reads when a table is tapped, so it never opens a second tab on a table whose
/// first was just opened on another terminal.
pub async fn get_table(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, TableId)>,
) -> Result<Json<TableView>, ApiError> {
    auth.require_in(&state, Permission::OrderRead, store)?;
    let table = state
        .storage
        .get_table(store, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such table in this store"))?;
    let filter = OrderFilter {
        statuses: OrderStatus::ALL
            .into_iter()
            .filter(|s| s.is_active())
            .collect(),
        table: Some(id),
        ..OrderFilter::default()
    };
    let open = state
        .storage
        .list_orders(store, &filter, None, Limit::new(Some(500)))
        .await?;
    let tabs: Vec<&Order> = open.items.iter().collect();
    Ok(Json(table_view(table, &tabs)))
}

fn table_view(table: DiningTable, tabs: &[&Order]) -> TableView {
    TableView {
        open_orders: tabs.iter().map(|o| o.id).collect(),
        orders: tabs
            .iter()
            .map(|o| TabView {
                id: o.id,
                number: o.number,
                status: o.status,
                version: o.version,
            })
            .collect(),
        table,
    }
}

pub async fn create_table(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
    ApiJson(body): ApiJson<TableBody>,
) -> Result<Created<DiningTable>, ApiError> {
    auth.require_in(&state, Permission::FloorManage, store)?;
    let table = state.storage.create_table(store, &body.draft()?).await?;
    Ok(Created(table))
}

pub async fn update_table(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, TableId)>,
    ApiJson(body): ApiJson<TableBody>,
) -> Result<Json<DiningTable>, ApiError> {
    auth.require_in(&state, Permission::FloorManage, store)?;
    let version = body.version.ok_or_else(|| {
        ValidationError::new(
            "version",
            "required",
            "send the table's version from your last read",
        )
    })?;
    let table = state
        .storage
        .update_table(store, id, version, &body.draft()?)
        .await?;
    Ok(Json(table))
}

/// `GET /stores/{store_id}/floor/stream`: Server-Sent Events for the floor: one
/// `order` message per change to any order of the store (its id, what happened, and
/// `ready` when the change left the whole order made, by the pass or by the last
/// station's bump), so table maps and "order ready" notices stay current. Resumes from
/// `Last-Event-ID` as the kitchen streams do.
pub async fn stream(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
    ApiQuery(query): ApiQuery<super::kds::StreamQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    auth.require_in(&state, Permission::OrderRead, store)?;
    super::kds::log_stream(&state, store, query.after, &headers, |event| {
        let ready = event.kind == "ready"
            || (event.kind == "bumped"
                && serde_json::from_str::<serde_json::Value>(&event.payload)
                    .is_ok_and(|p| p["order_ready"] == true));
        let data = serde_json::json!({
            "order_id": event.order_id,
            "kind": event.kind,
            "ready": ready,
            "seq": event.seq,
        });
        Some(
            SseEvent::default()
                .id(event.seq.to_string())
                .event("order")
                .data(data.to_string()),
        )
    })
    .await
}
