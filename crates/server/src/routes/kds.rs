//! Kitchen display: each station's open tickets, and a live stream of what happens to
//! them, read from the store's order log by sequence number. A screen takes the snapshot
//! (tickets and the sequence they are current to), then follows the stream from that
//! sequence; after a drop it reconnects with `Last-Event-ID` and gets exactly what it
//! missed. Every message's SSE id is its log sequence, so nothing is lost or repeated.

use super::orders::change_current;
use crate::auth::extract::Auth;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::log_reads::{self, Source};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Extension, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use comanda_domain::orders::Order;
use comanda_domain::orders::chain::LoggedEvent;
use comanda_domain::orders::commands::{Event, OrderError};
use comanda_domain::orders::kitchen::{DEFAULT_STATION, Station, Ticket};
use comanda_domain::{OrderId, OrderLineId, Permission, StoreId, ValidationError, clock};
use comanda_store::IdempotencyClaim;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::mpsc;

/// Events read per batch while catching up.
const BATCH: usize = 500;

/// How often an idle stream looks at the database for events written by another
/// instance; this instance's own commits wake it at once.
const POLL_EVERY: Duration = Duration::from_millis(250);
/// How often a quiet stream says it is still there (the apps give up after 30 s).
const PING_EVERY: Duration = Duration::from_secs(10);

fn station(name: &str) -> Result<String, ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(name.to_owned())
    } else {
        Err(ValidationError::new(
            "station",
            "invalid",
            "a station is 1 to 40 lowercase letters, digits, '-' or '_'",
        )
        .into())
    }
}

/// `GET /stores/{store_id}/kds/{station}/tickets`
pub async fn tickets(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, screen)): ApiPath<(StoreId, String)>,
) -> Result<Json<TicketsView>, ApiError> {
    auth.require_in(&state, Permission::OrderRead, store)?;
    let screen = station(&screen)?;
    let (seq, orders) = state.storage.kitchen_orders(store).await?;
    let mut tickets: Vec<Ticket> = orders
        .iter()
        .filter_map(|o| o.open_ticket(&screen))
        .collect();
    tickets.sort_by_key(|t| (!t.header.rush, t.since));
    let settings = settings_of(&state, store, &screen).await?;
    Ok(Json(TicketsView {
        station: screen,
        settings,
        seq,
        now: clock::now(),
        tickets,
    }))
}

/// A station's open tickets, and where its live stream picks up from.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct TicketsView {
    station: String,
    settings: Station,
    /// The position in the store's log these tickets are at: `Last-Event-ID` for the
    /// stream.
    seq: i64,
    now: DateTime<Utc>,
    tickets: Vec<Ticket>,
}

/// How long the kitchen took in a period, by station and by product.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct PrepTimes {
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    /// Each: the station, `count`, `average_s`, `p90_s`.
    stations: Vec<serde_json::Map<String, Value>>,
    /// Each: the product and its name, `count`, `average_s`, `p90_s`.
    products: Vec<serde_json::Map<String, Value>>,
}

async fn settings_of(state: &AppState, store: StoreId, code: &str) -> Result<Station, ApiError> {
    Ok(state
        .storage
        .list_stations(store)
        .await?
        .into_iter()
        .find(|s| s.code == code)
        .unwrap_or_else(|| Station::defaults(code)))
}

/// `GET /stores/{store_id}/kds/stations`: the configured stations, in screen order.
pub async fn list_stations(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
) -> Result<Json<crate::extract::PageView<Station>>, ApiError> {
    auth.require_in(&state, Permission::OrderRead, store)?;
    let stations = state.storage.list_stations(store).await?;
    Ok(Json(crate::extract::PageView::whole(stations)))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StationBody {
    version: i64,
    #[schemars(length(min = 1, max = 60))]
    name: String,
    #[serde(default = "default_warn")]
    warn_after_s: u32,
    #[serde(default = "default_late")]
    late_after_s: u32,
    #[serde(default)]
    position: i32,
}

fn default_warn() -> u32 {
    Station::DEFAULT_WARN_S
}

fn default_late() -> u32 {
    Station::DEFAULT_LATE_S
}

/// `PUT /stores/{store_id}/kds/stations/{station}`: create (version 0) or change.
pub async fn put_station(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, code)): ApiPath<(StoreId, String)>,
    ApiJson(body): ApiJson<StationBody>,
) -> Result<Json<Station>, ApiError> {
    auth.require_in(&state, Permission::StoreManage, store)?;
    let station = Station {
        code: station(&code)?,
        name: body.name,
        warn_after_s: body.warn_after_s,
        late_after_s: body.late_after_s,
        position: body.position,
        version: body.version,
    }
    .checked()?;
    Ok(Json(
        state
            .storage
            .put_station(store, &station, body.version)
            .await?,
    ))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PeriodQuery {
    from: DateTime<Utc>,
    until: DateTime<Utc>,
}

/// Most days one preparation-time report covers.
const MAX_REPORT_DAYS: i64 = 92;

/// `GET /stores/{store_id}/kds/prep-times?from=&until=`: how long the kitchen took, by
/// station and by product, from when each line was sent to when it was bumped.
pub async fn prep_times(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
    ApiQuery(period): ApiQuery<PeriodQuery>,
) -> Result<Json<PrepTimes>, ApiError> {
    auth.require_in(&state, Permission::OrderRead, store)?;
    let longest = chrono::Duration::days(MAX_REPORT_DAYS);
    if period.until <= period.from || period.until - period.from > longest {
        return Err(ValidationError::new(
            "until",
            "invalid",
            format!("until comes after from, at most {MAX_REPORT_DAYS} days later"),
        )
        .into());
    }
    let bumps = state
        .storage
        .bumps_between(store, period.from, period.until)
        .await?;
    let mut report = PrepReport::default();
    for bump in &bumps {
        let Ok(payload) = serde_json::from_str::<Value>(&bump.payload) else {
            continue;
        };
        for line in payload["prep"].as_array().into_iter().flatten() {
            if let Some(seconds) = line["seconds"].as_f64() {
                report.add(line, seconds);
            }
        }
    }
    let objects = |tallies: BTreeMap<String, Tally>| -> Vec<serde_json::Map<String, Value>> {
        tallies
            .into_values()
            .filter_map(|t| match t.view() {
                Value::Object(fields) => Some(fields),
                _ => None,
            })
            .collect()
    };
    Ok(Json(PrepTimes {
        from: period.from,
        until: period.until,
        stations: objects(report.stations),
        products: objects(report.products),
    }))
}

#[derive(Default)]
struct PrepReport {
    stations: BTreeMap<String, Tally>,
    products: BTreeMap<String, Tally>,
}

#[derive(Default)]
struct Tally {
    key: Value,
    seconds: Vec<f64>,
}

impl PrepReport {
    fn add(&mut self, line: &Value, seconds: f64) {
        let station = line["station"]
            .as_str()
            .unwrap_or(DEFAULT_STATION)
            .to_owned();
        let product = line["product_id"].as_str().unwrap_or_default().to_owned();
        let at_station = self.stations.entry(station.clone()).or_default();
        at_station.key = json!({ "station": station });
        at_station.seconds.push(seconds);
        let of_product = self.products.entry(product.clone()).or_default();
        of_product.key = json!({ "product_id": product, "name": line["name"], "station": station });
        of_product.seconds.push(seconds);
    }
}

impl Tally {
    fn view(mut self) -> Value {
        self.seconds.sort_by(f64::total_cmp);
        let n = self.seconds.len();
        let average = self.seconds.iter().sum::<f64>() / n.max(1) as f64;
        let p90 = self
            .seconds
            .get((n * 9 / 10).min(n.saturating_sub(1)))
            .copied();
        let mut view = self.key;
        if let Some(fields) = view.as_object_mut() {
            fields.insert("lines".into(), json!(n));
            fields.insert("average_s".into(), json!((average * 10.0).round() / 10.0));
            fields.insert("p90_s".into(), json!(p90));
        }
        view
    }
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StreamQuery {
    /// Where to start when the client has no `Last-Event-ID` (the snapshot's `seq`).
    #[serde(default)]
    pub(super) after: Option<i64>,
}

/// `GET /stores/{store_id}/kds/{station}/stream`: Server-Sent Events.
pub async fn stream(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, screen)): ApiPath<(StoreId, String)>,
    ApiQuery(query): ApiQuery<StreamQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    auth.require_in(&state, Permission::OrderRead, store)?;
    let screen = station(&screen)?;
    let messages = state.clone();
    log_stream(&state, store, query.after, &headers, move |event| {
        messages.kitchen_messages.render(event, &screen)
    })
    .await
}

/// A stream of what `render` makes of the store's log, from the client's
/// `Last-Event-ID`, else from `after`, else from now.
pub(super) async fn log_stream(
    state: &AppState,
    store: StoreId,
    after: Option<i64>,
    headers: &HeaderMap,
    render: impl Fn(&LoggedEvent) -> Option<SseEvent> + Send + 'static,
) -> Result<Response, ApiError> {
    let resume = match headers.get("last-event-id") {
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<i64>().ok())
                .filter(|v| *v >= 0)
                .ok_or_else(|| {
                    ValidationError::new(
                        "Last-Event-ID",
                        "invalid",
                        "the last event id is a log sequence number",
                    )
                })?,
        ),
        None => after,
    };
    let after = match resume {
        Some(after) => after,
        None => state
            .storage
            .log_head(store)
            .await?
            .map_or(0, |(seq, _)| seq),
    };
    let (tx, rx) = mpsc::channel::<SseEvent>(64);
    tokio::spawn(follow(state.clone(), store, after, tx, render));
    let events = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|e| (Ok::<_, Infallible>(e), rx))
    });
    // A named event, not a comment: scripts never see comments, and these pings are how
    // a screen notices that its connection died without an error.
    let ping = KeepAlive::new()
        .interval(PING_EVERY)
        .event(SseEvent::default().event("ping").data("{}"));
    Ok(Sse::new(events).keep_alive(ping).into_response())
}

/// Follows the store's log from `after`, sending what `render` makes of each event,
/// until the client goes away.
async fn follow(
    state: AppState,
    store: StoreId,
    mut after: i64,
    tx: mpsc::Sender<SseEvent>,
    render: impl Fn(&LoggedEvent) -> Option<SseEvent>,
) {
    let tail = state.storage.log_tail().store(store);
    let mut moved = tail.watch();
    let mut from_database = false;
    loop {
        let source = if from_database {
            Source::Database
        } else {
            Source::TailFirst
        };
        let batch = match log_reads::after(&state, store, after, BATCH, source).await {
            Ok(batch) => batch,
            Err(e) => {
                tracing::warn!(error = %e, "log stream cannot read the log");
                tokio::time::sleep(POLL_EVERY).await;
                continue;
            }
        };
        from_database = false;
        if batch.is_empty() {
            moved.borrow_and_update();
            tokio::select! {
                _ = moved.changed() => {}
                () = tokio::time::sleep(POLL_EVERY) => from_database = true,
                () = tx.closed() => return,
            }
            continue;
        }
        let mut unsent = None;
        for event in &batch {
            after = event.seq;
            match render(event) {
                Some(message) => {
                    if tx.send(message).await.is_err() {
                        return;
                    }
                    unsent = None;
                }
                None => unsent = Some(event.seq),
            }
        }
        // Events this client does not show still move its place in the log, so a
        // reconnect does not read them again.
        if let Some(seq) = unsent
            && tx
                .send(SseEvent::default().id(seq.to_string()))
                .await
                .is_err()
        {
            return;
        }
    }
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinesBody {
    /// Only these lines; all of the station's when empty.
    #[serde(default)]
    line_ids: Vec<OrderLineId>,
}

type TicketPath = ApiPath<(StoreId, String, OrderId)>;

/// A cook's action on one order's ticket at a station.
async fn at_ticket(
    state: &AppState,
    auth: &Auth,
    ApiPath((store, screen, id)): TicketPath,
    key: Option<Extension<IdempotencyClaim>>,
    apply: impl Fn(&mut Order, &str) -> Result<Event, OrderError>,
) -> Result<Response, ApiError> {
    auth.require_in(state, Permission::KitchenUpdate, store)?;
    let screen = station(&screen)?;
    change_current(state, auth, store, id, key, |order| apply(order, &screen)).await
}

/// `POST .../kds/{station}/tickets/{order_id}/start`: a cook starts lines.
pub async fn start(
    State(state): State<AppState>,
    auth: Auth,
    path: TicketPath,
    key: Option<Extension<IdempotencyClaim>>,
    ApiJson(body): ApiJson<LinesBody>,
) -> Result<Response, ApiError> {
    at_ticket(&state, &auth, path, key, |order, screen| {
        order.start_lines(screen, &body.line_ids)
    })
    .await
}

/// `POST .../kds/{station}/tickets/{order_id}/bump`: the station is done with it.
pub async fn bump(
    State(state): State<AppState>,
    auth: Auth,
    path: TicketPath,
    key: Option<Extension<IdempotencyClaim>>,
    ApiJson(body): ApiJson<LinesBody>,
) -> Result<Response, ApiError> {
    at_ticket(&state, &auth, path, key, |order, screen| {
        order.bump(screen, &body.line_ids, clock::now())
    })
    .await
}

/// `POST .../kds/{station}/tickets/{order_id}/recall`: back on the screen.
pub async fn recall(
    State(state): State<AppState>,
    auth: Auth,
    path: TicketPath,
    key: Option<Extension<IdempotencyClaim>>,
) -> Result<Response, ApiError> {
    at_ticket(&state, &auth, path, key, |order, screen| {
        order.recall(screen, clock::now())
    })
    .await
}
