//! Card tenders through Stripe. A card payment becomes a PaymentIntent before the
//! tender is written (checked first on a copy of the order, so nothing is charged for
//! a request the order would refuse); the tender is `pending` until Stripe says the
//! intent succeeded or failed, in the answer itself when a PaymentMethod was given, or
//! later by webhook. Refunds to a card go through Stripe before they are written. Every
//! call carries an idempotency key derived from the request's own `Idempotency-Key`, so
//! a client's retry, even after a crash between Stripe's answer and our commit, makes no
//! second charge or refund.

use super::orders::{Author, Change, apply_current, load, order_error};
use crate::error::ApiError;
use crate::state::AppState;
use crate::stripe::{Intent, Stripe, StripeError, verify_signature};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use comanda_domain::orders::Order;
use comanda_domain::orders::commands::{Actor, Event, OrderError};
use comanda_domain::orders::payments::{PaymentStatus, TenderInput, TenderKind, Till};
use comanda_domain::{Currency, OrderId, OrderLineId, PaymentId, RefundId, StoreId, clock};
use comanda_store::{IdempotencyClaim, StoreError};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn stripe(state: &AppState) -> Result<&Stripe, ApiError> {
    state.stripe().ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "card_not_configured",
            "card payments through the processor are not set up (COMANDA_STRIPE_SECRET_KEY); record a terminal's charge as external_card",
        )
    })
}

fn processor_error(e: StripeError) -> ApiError {
    match e {
        StripeError::Declined { message, .. } => {
            ApiError::new(StatusCode::PAYMENT_REQUIRED, "card_declined", message)
        }
        StripeError::Refused { status, message } => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "card_processor_refused",
            format!("the card processor refused the request ({status}): {message}"),
        ),
        StripeError::Unavailable(message) => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "card_processor_unavailable",
            format!(
                "the card processor cannot be reached: {message}; nothing was charged or written, try again"
            ),
        ),
    }
}

/// The processor's idempotency key for one call: the same for every retry of the same
/// request (its `Idempotency-Key`, per caller), new otherwise.
fn processor_key(
    kind: &str,
    order: OrderId,
    key: Option<&IdempotencyClaim>,
    fallback: &str,
) -> String {
    match key {
        Some(claim) => {
            let digest = Sha256::digest(format!("{}\n{}", claim.scope, claim.key));
            let short = data_encoding::HEXLOWER.encode(&digest[..16]);
            format!("comanda-{kind}-{order}-{short}-{fallback}")
        }
        None => format!("comanda-{kind}-{order}-{fallback}"),
    }
}

/// The order as the change will see it, checked at the version the client sent.
async fn order_at(state: &AppState, change: &Change) -> Result<Order, ApiError> {
    let order = load(state, change.store, change.id).await?;
    if change.expected.is_some_and(|v| v != order.version) {
        return Err(StoreError::VersionMismatch {
            entity: "order",
            current: order.version,
        }
        .into());
    }
    Ok(order)
}

pub struct Charge<'a> {
    pub payment_id: PaymentId,
    pub input: &'a TenderInput,
    pub actor: Actor,
    pub till: Till,
    pub currency: Currency,
    pub payment_method: Option<&'a str>,
}

/// Makes (or, for a retry, finds again) the PaymentIntent for a card tender.
pub async fn charge(
    state: &AppState,
    change: &Change,
    charge: Charge<'_>,
) -> Result<Intent, ApiError> {
    let stripe = stripe(state)?;
    let mut probe = order_at(state, change).await?;
    probe
        .take_payment(
            charge.payment_id,
            charge.input.clone(),
            charge.actor,
            charge.till,
        )
        .map_err(order_error)?;
    let amount = probe
        .payments
        .last()
        .map(|p| p.amount)
        .ok_or_else(|| StoreError::Internal("the tender was not taken".into()))?;
    let claim = change.key.as_ref().map(|k| &k.0);
    // Without a request key the tender's own id keys the call (a retry is a new tender).
    let fallback = match claim {
        Some(_) => amount.to_string(),
        None => format!("{amount}-{}", charge.payment_id),
    };
    let key = processor_key("pi", change.id, claim, &fallback);
    let metadata = [
        ("store_id", change.store.to_string()),
        ("order_id", change.id.to_string()),
        ("payment_id", charge.payment_id.to_string()),
    ];
    match stripe
        .create_intent(
            amount,
            charge.currency,
            &metadata,
            charge.payment_method,
            &key,
        )
        .await
    {
        Ok(intent) => Ok(intent),
        // Declined on the spot: the attempt is written as a failed tender.
        Err(StripeError::Declined {
            intent: Some(intent),
            ..
        }) => Ok(*intent),
        Err(e) => Err(processor_error(e)),
    }
}

/// What the answer to a card tender says of it: the terminal confirms with the secret.
pub fn answer(intent: &Intent) -> Value {
    json!({
        "payment_intent": intent.id,
        "status": intent.status,
        "client_secret": intent.client_secret,
    })
}

fn failure_of(intent: &Intent) -> String {
    intent
        .last_payment_error
        .as_ref()
        .map(|e| {
            let code = e.code.as_deref().unwrap_or("declined");
            match &e.message {
                Some(message) => format!("{code}: {message}"),
                None => code.to_owned(),
            }
        })
        .unwrap_or_else(|| "declined".to_owned())
}

/// Settles the new tender at once when Stripe already decided.
pub fn settle_now(
    order: &mut Order,
    payment: PaymentId,
    intent: &Intent,
) -> Result<Vec<Event>, OrderError> {
    match intent.status.as_str() {
        "succeeded" => order.settle_payment(payment, true, None),
        "canceled" => order.settle_payment(payment, false, Some(failure_of(intent))),
        "requires_payment_method" if intent.last_payment_error.is_some() => {
            order.settle_payment(payment, false, Some(failure_of(intent)))
        }
        _ => Ok(Vec::new()),
    }
}

pub struct Refund<'a> {
    pub refund_id: RefundId,
    pub lines: &'a [(OrderLineId, i64)],
    pub reason: &'a str,
    pub actor: Actor,
    pub till: Till,
    pub currency: Currency,
}

/// Refunds through Stripe what a refund gives back to card tenders, before it is
/// written. Needs the request's `Idempotency-Key`: without it a retry could not be told
/// from a second refund.
pub async fn refund_cards(
    state: &AppState,
    change: &Change,
    refund: Refund<'_>,
) -> Result<(), ApiError> {
    let mut probe = order_at(state, change).await?;
    probe
        .refund(
            refund.refund_id,
            refund.lines,
            refund.reason,
            refund.actor,
            refund.till,
        )
        .map_err(order_error)?;
    let Some(done) = probe.refunds.last() else {
        return Ok(());
    };
    let cards: Vec<_> = done
        .tenders
        .iter()
        .filter(|t| t.kind == TenderKind::Card)
        .collect();
    if cards.is_empty() {
        return Ok(());
    }
    let stripe = stripe(state)?;
    let Some(claim) = change.key.as_ref().map(|k| &k.0) else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_required",
            "a refund to a card needs an Idempotency-Key header, so a retry cannot refund twice",
        ));
    };
    for tender in cards {
        let intent = probe
            .payments
            .iter()
            .find(|p| p.id == tender.payment_id)
            .and_then(|p| p.reference.clone())
            .ok_or_else(|| StoreError::Internal("a card tender without its intent".into()))?;
        let key = processor_key("re", change.id, Some(claim), &tender.payment_id.to_string());
        stripe
            .refund(&intent, tender.amount, refund.currency, &key)
            .await
            .map_err(processor_error)?;
    }
    Ok(())
}

/// Stripe's event was taken; `duplicate` when it had been before.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct Received {
    received: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    duplicate: Option<bool>,
}

/// The document's word for Stripe's events: the event as Stripe sends it, signed.
pub fn describe_webhook(
    mut op: aide::transform::TransformOperation<'_>,
) -> aide::transform::TransformOperation<'_> {
    let operation = op.inner_mut();
    operation.request_body = Some(aide::openapi::ReferenceOr::Item(
        aide::openapi::RequestBody {
            description: Some("A Stripe event (`payment_intent.*`), as Stripe sends it".to_owned()),
            content: crate::contract::media(&[(
                "application/json",
                serde_json::json!({ "type": "object" }),
            )]),
            required: true,
            ..Default::default()
        },
    ));
    operation.parameters.push(crate::contract::header_parameter(
        "Stripe-Signature",
        "`t=<unix time>,v1=<HMAC-SHA256 of t.body>`; 5 minutes' tolerance",
        true,
    ));
    op
}

/// `POST /api/v1/webhooks/stripe`: Stripe's word on a PaymentIntent. Checked by its
/// signature and timestamp (400 otherwise); an event already handled, or one that
/// settles a tender already settled that way, changes nothing.
pub async fn webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Received>, ApiError> {
    let bad = |code: &'static str, message: &str| {
        ApiError::new(StatusCode::BAD_REQUEST, code, message.to_owned())
    };
    // Unsigned is refused first, whether or not this server takes Stripe's events.
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| bad("invalid_signature", "no Stripe-Signature header"))?;
    let secret = state
        .stripe()
        .and_then(|s| s.webhook_secret())
        .ok_or_else(|| ApiError::not_found("no Stripe webhook is configured here"))?;
    verify_signature(
        signature,
        &body,
        secret.expose().as_bytes(),
        clock::now().timestamp(),
    )
    .map_err(|e| match e {
        crate::stripe::SignatureError::Stale => bad("stale_signature", &e.to_string()),
        other => bad("invalid_signature", &other.to_string()),
    })?;
    let event: Value = serde_json::from_slice(&body)
        .map_err(|e| bad("invalid_body", &format!("not JSON: {e}")))?;
    let (Some(id), Some(kind)) = (event["id"].as_str(), event["type"].as_str()) else {
        return Err(bad("invalid_body", "an event has an id and a type"));
    };
    if state.storage.processor_event_seen("stripe", id).await? {
        return Ok(Json(Received {
            received: true,
            duplicate: Some(true),
        }));
    }
    let intent = &event["data"]["object"];
    let outcome = match kind {
        "payment_intent.succeeded" => Some((true, None)),
        "payment_intent.payment_failed" | "payment_intent.canceled" => {
            let parsed: Option<Intent> = serde_json::from_value(intent.clone()).ok();
            Some((
                false,
                Some(
                    parsed
                        .as_ref()
                        .map_or_else(|| "declined".to_owned(), failure_of),
                ),
            ))
        }
        _ => None,
    };
    if let Some((captured, failure)) = outcome {
        settle(&state, intent, captured, failure).await?;
    }
    state
        .storage
        .note_processor_event("stripe", id, kind)
        .await?;
    Ok(Json(Received {
        received: true,
        duplicate: None,
    }))
}

/// Settles the tender that made `intent`, found through the order its metadata names.
async fn settle(
    state: &AppState,
    intent: &Value,
    captured: bool,
    failure: Option<String>,
) -> Result<(), ApiError> {
    let metadata = &intent["metadata"];
    let (Some(store), Some(order), Some(intent_id)) = (
        metadata["store_id"]
            .as_str()
            .and_then(|s| s.parse::<StoreId>().ok()),
        metadata["order_id"]
            .as_str()
            .and_then(|s| s.parse::<OrderId>().ok()),
        intent["id"].as_str(),
    ) else {
        tracing::warn!("a Stripe event for an intent comanda did not make; ignored");
        return Ok(());
    };
    let outcome = apply_current(state, Author::default(), store, order, None, |order| {
        let Some(payment) = order
            .payments
            .iter()
            .find(|p| p.reference.as_deref() == Some(intent_id) && p.kind == TenderKind::Card)
        else {
            return Ok(Vec::new());
        };
        if payment.status != PaymentStatus::Pending
            && (payment.status == PaymentStatus::Captured) != captured
        {
            tracing::warn!(
                intent = intent_id,
                "Stripe contradicts a settled tender; kept as it was"
            );
            return Ok(Vec::new());
        }
        order.settle_payment(payment.id, captured, failure.clone())
    })
    .await;
    match outcome {
        Ok(_) => Ok(()),
        Err(e) if e.status == StatusCode::NOT_FOUND => {
            tracing::warn!(
                intent = intent_id,
                "a Stripe event for an unknown order; ignored"
            );
            Ok(())
        }
        Err(e) => Err(e),
    }
}
