//! Outbound webhooks through HTTP: where a store's events go, which ones, the signing
//! secret (shown when made or rolled, never again), the deliveries with each attempt,
//! replays of dead ones, and the outbox itself for integrations that prefer to poll.

use crate::audit;
use crate::auth::extract::Auth;
use crate::contract::outputs;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, SeqPage};
use crate::state::AppState;
use crate::webhooks::new_secret;
use axum::Json;
use axum::extract::State;
use axum::response::NoContent;
use comanda_domain::identity::SecurityEventKind;
use comanda_domain::webhooks::{EventFilter, ReceiverUrl};
use comanda_domain::{DeliveryId, Permission, StoreId, ValidationError, WebhookId, clock};
use comanda_store::{Delivery, DeliveryStatus, OutboxEvent, Replay, StoreError, Webhook};
use serde::{Deserialize, Serialize};

const MAX_DESCRIPTION_CHARS: usize = 200;
/// Webhooks per store: each one is a worker's round trip per event.
const MAX_WEBHOOKS: usize = 20;

fn description(text: Option<String>) -> Result<String, ValidationError> {
    let text = text.unwrap_or_default().trim().to_owned();
    if text.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(ValidationError::new(
            "description",
            "too_long",
            format!("at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    Ok(text)
}

fn receiver(state: &AppState, url: &str) -> Result<String, ValidationError> {
    let allow_private = state.webhook_config().allow_private;
    Ok(ReceiverUrl::parse("url", url, allow_private)?
        .as_str()
        .to_owned())
}

async fn load(state: &AppState, store: StoreId, id: WebhookId) -> Result<Webhook, ApiError> {
    state
        .storage
        .get_webhook(store, id)
        .await?
        .ok_or_else(|| ApiError::not_found("webhook not found"))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    url: String,
    events: Vec<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    active: Option<bool>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct Created {
    #[serde(flatten)]
    webhook: Webhook,
    /// Signs every delivery (`Comanda-Signature`); shown only now.
    secret: String,
}

/// `POST .../webhooks`: a new webhook, hearing the store's events from now on.
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<outputs::Created<Created>, ApiError> {
    auth.require_in(&state, Permission::WebhookManage, store)?;
    let url = receiver(&state, &body.url)?;
    let events = EventFilter::parse("events", &body.events)?;
    let description = description(body.description)?;
    if state.storage.list_webhooks(store).await?.len() >= MAX_WEBHOOKS {
        return Err(ApiError::conflict(
            "too_many_webhooks",
            format!("a store has at most {MAX_WEBHOOKS} webhooks"),
        ));
    }
    let now = clock::now();
    let webhook = Webhook {
        id: WebhookId::new(),
        store_id: store,
        url,
        events,
        description,
        active: body.active.unwrap_or(true),
        version: 1,
        created_by: auth.actor.user_id,
        created_at: now,
        updated_at: now,
    };
    let secret = new_secret();
    let webhook = state.storage.create_webhook(&webhook, &secret).await?;
    audit::entry(SecurityEventKind::WebhookCreated, &auth.meta)
        .by(&auth.actor)
        .in_store(store)
        .detail("webhook_id", webhook.id.to_string())
        .detail("url", webhook.url.clone())
        .record(&state)
        .await;
    Ok(outputs::Created(Created { webhook, secret }))
}

/// `GET .../webhooks`.
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
) -> Result<Json<crate::extract::PageView<Webhook>>, ApiError> {
    auth.require_in(&state, Permission::WebhookManage, store)?;
    let items = state.storage.list_webhooks(store).await?;
    Ok(Json(crate::extract::PageView::whole(items)))
}

/// `GET .../webhooks/{id}`.
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, WebhookId)>,
) -> Result<Json<Webhook>, ApiError> {
    auth.require_in(&state, Permission::WebhookManage, store)?;
    Ok(Json(load(&state, store, id).await?))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    version: i64,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    events: Option<Vec<String>>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    active: Option<bool>,
}

/// `PATCH .../webhooks/{id}`: address, events, description, paused or active.
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, WebhookId)>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> Result<Json<Webhook>, ApiError> {
    auth.require_in(&state, Permission::WebhookManage, store)?;
    let mut webhook = load(&state, store, id).await?;
    if body.version != webhook.version {
        return Err(StoreError::VersionMismatch {
            entity: "webhook",
            current: webhook.version,
        }
        .into());
    }
    if let Some(url) = &body.url {
        webhook.url = receiver(&state, url)?;
    }
    if let Some(events) = &body.events {
        webhook.events = EventFilter::parse("events", events)?;
    }
    if body.description.is_some() {
        webhook.description = description(body.description)?;
    }
    if let Some(active) = body.active {
        webhook.active = active;
    }
    webhook.version += 1;
    webhook.updated_at = clock::now();
    let saved = state.storage.update_webhook(&webhook, body.version).await?;
    audit::entry(SecurityEventKind::WebhookUpdated, &auth.meta)
        .by(&auth.actor)
        .in_store(store)
        .detail("webhook_id", saved.id.to_string())
        .detail("url", saved.url.clone())
        .detail("active", saved.active)
        .record(&state)
        .await;
    Ok(Json(saved))
}

/// `DELETE .../webhooks/{id}`: the webhook and its deliveries.
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, WebhookId)>,
) -> Result<NoContent, ApiError> {
    auth.require_in(&state, Permission::WebhookManage, store)?;
    state.storage.delete_webhook(store, id).await?;
    audit::entry(SecurityEventKind::WebhookDeleted, &auth.meta)
        .by(&auth.actor)
        .in_store(store)
        .detail("webhook_id", id.to_string())
        .record(&state)
        .await;
    Ok(NoContent)
}

/// `POST .../webhooks/{id}/secret`: a new signing secret; the old one stops at once.
pub async fn roll_secret(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, WebhookId)>,
) -> Result<Json<NewSecret>, ApiError> {
    auth.require_in(&state, Permission::WebhookManage, store)?;
    let secret = new_secret();
    state.storage.set_webhook_secret(store, id, &secret).await?;
    audit::entry(SecurityEventKind::WebhookUpdated, &auth.meta)
        .by(&auth.actor)
        .in_store(store)
        .detail("webhook_id", id.to_string())
        .detail("secret", "rolled")
        .record(&state)
        .await;
    Ok(Json(NewSecret { secret }))
}

/// The new signing secret, shown this once.
#[derive(Serialize, schemars::JsonSchema)]
pub struct NewSecret {
    secret: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryQuery {
    #[serde(default)]
    status: Option<String>,
    /// A `sequence`: deliveries of earlier events.
    #[serde(default)]
    before: Option<i64>,
    #[serde(default)]
    limit: Option<i64>,
}

/// `GET .../webhooks/{id}/deliveries`: newest first, each with its attempts.
pub async fn deliveries(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, WebhookId)>,
    ApiQuery(query): ApiQuery<DeliveryQuery>,
) -> Result<Json<SeqPage<Delivery>>, ApiError> {
    auth.require_in(&state, Permission::WebhookManage, store)?;
    load(&state, store, id).await?;
    let status = query
        .status
        .map(|s| {
            DeliveryStatus::parse(&s).ok_or_else(|| {
                ValidationError::new("status", "invalid", "pending, delivered or dead")
            })
        })
        .transpose()?;
    let limit = query.limit.unwrap_or(50).clamp(1, 500);
    let items: Vec<Delivery> = state
        .storage
        .list_deliveries(store, id, status, query.before, limit)
        .await?;
    let next = (items.len() as i64 == limit)
        .then(|| items.last().map(|d| d.seq))
        .flatten();
    Ok(Json(SeqPage { items, next }))
}

/// `GET .../webhooks/{id}/deliveries/{delivery_id}`.
pub async fn delivery(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id, delivery)): ApiPath<(StoreId, WebhookId, DeliveryId)>,
) -> Result<Json<Delivery>, ApiError> {
    auth.require_in(&state, Permission::WebhookManage, store)?;
    state
        .storage
        .get_delivery(store, id, delivery)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("delivery not found"))
}

/// How many deliveries were queued again.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Replayed {
    replayed: u64,
}

async fn replay(
    state: &AppState,
    store: StoreId,
    id: WebhookId,
    which: Replay,
) -> Result<outputs::Accepted<Replayed>, ApiError> {
    let replayed = state
        .storage
        .replay_deliveries(store, id, which, clock::now())
        .await?;
    state.outbox_wake.notify_one();
    Ok(outputs::Accepted(Replayed { replayed }))
}

/// `POST .../webhooks/{id}/deliveries/{delivery_id}/replay`: sends a finished
/// delivery (dead, or delivered) again, before the webhook's newer events.
pub async fn replay_one(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id, delivery)): ApiPath<(StoreId, WebhookId, DeliveryId)>,
) -> Result<outputs::Accepted<Replayed>, ApiError> {
    auth.require_in(&state, Permission::WebhookManage, store)?;
    let found = state.storage.get_delivery(store, id, delivery).await?;
    match found.map(|d| d.status) {
        None => Err(ApiError::not_found("delivery not found")),
        Some(DeliveryStatus::Pending) => Err(ApiError::conflict(
            "delivery_pending",
            "the delivery is still being attempted",
        )),
        Some(_) => replay(&state, store, id, Replay::One(delivery)).await,
    }
}

/// `POST .../webhooks/{id}/replay`: sends every dead delivery again, oldest first.
pub async fn replay_dead(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, WebhookId)>,
) -> Result<outputs::Accepted<Replayed>, ApiError> {
    auth.require_in(&state, Permission::WebhookManage, store)?;
    replay(&state, store, id, Replay::AllDead).await
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    #[serde(default)]
    after: Option<i64>,
    #[serde(default)]
    /// 1 to 1,000; 100 when left out.
    #[schemars(range(min = 1, max = 1000))]
    limit: Option<i64>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct EventView {
    #[serde(flatten)]
    event: OutboxEvent,
    data: serde_json::Value,
}

/// `GET .../events?after=`: the store's outbox in order, for integrations that poll.
pub async fn events(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(store): ApiPath<StoreId>,
    ApiQuery(query): ApiQuery<EventQuery>,
) -> Result<Json<SeqPage<EventView>>, ApiError> {
    auth.require_in(&state, Permission::WebhookManage, store)?;
    let limit = crate::extract::bounded_limit(query.limit, 100, 1_000)?;
    let events = state
        .storage
        .outbox_after(store, query.after.unwrap_or(0).max(0), limit)
        .await?;
    let next = (events.len() as i64 == limit)
        .then(|| events.last().map(|e| e.seq))
        .flatten();
    let items: Vec<EventView> = events
        .into_iter()
        .map(|event| EventView {
            data: serde_json::from_str(&event.payload).unwrap_or(serde_json::Value::Null),
            event,
        })
        .collect();
    Ok(Json(SeqPage { items, next }))
}
