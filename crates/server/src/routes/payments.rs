//! Paying through HTTP: tenders, the age check, refunds with a manager's approval, and
//! the receipt. Each change is an order change like any other (version, idempotency
//! key, events in the order's log, one transaction), so a retried payment returns the
//! first answer and never takes the money twice.

use super::card;
use super::catalog::store_of;
use super::orders::{Change, change_as, load};
use crate::approval::{self, ApprovalInput};
use crate::auth::extract::Auth;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::receipt::Receipt;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Extension, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use comanda_domain::money::MoneyInput;
use comanda_domain::orders::payments::{AgeEvidence, TenderInput, TenderKind, Till};
use comanda_domain::orders::totals::totals;
use comanda_domain::{
    OrderId, OrderLineId, PaymentId, Permission, RefundId, Store, StoreId, ValidationError, clock,
};
use comanda_store::IdempotencyClaim;
use serde::Deserialize;

fn no_shift() -> ApiError {
    ApiError::conflict(
        "shift_not_open",
        "cash goes into a drawer: open a shift on this terminal first (POST .../shifts)",
    )
}

/// Where a tender is taken: the store's smallest coin, the caller's terminal and its
/// open shift (whose drawer takes the cash).
async fn till_of(
    state: &AppState,
    auth: &Auth,
    store: StoreId,
    currency: comanda_domain::Currency,
) -> Result<Till, ApiError> {
    let cash_increment = state
        .storage
        .catalog_settings(store)
        .await?
        .map_or(currency.default_cash_increment(), |s| s.cash_increment);
    let device = auth.actor.device_id;
    let shift = match device {
        Some(device) => state
            .storage
            .open_shift_of(store, device)
            .await?
            .map(|s| s.id),
        None => None,
    };
    Ok(Till {
        cash_increment,
        device,
        shift,
        at: clock::now(),
    })
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentBody {
    #[schemars(with = "i64")]
    version: Option<i64>,
    /// cash, card, external_card, voucher.
    kind: String,
    /// Cash handed over, or what to charge; absent: everything that is left.
    #[serde(default)]
    amount: Option<MoneyInput>,
    /// A tip given with a card or voucher.
    #[serde(default)]
    tip: Option<MoneyInput>,
    /// The voucher's code or the terminal's approval code.
    #[serde(default)]
    reference: Option<String>,
    /// For `card`: a Stripe PaymentMethod to charge now (`pm_...`); without one the
    /// answer's `card.client_secret` lets the terminal confirm the payment.
    #[serde(default)]
    payment_method: Option<String>,
}

/// `POST .../orders/{id}/payments`: takes a tender. The answer is the order with its
/// payments and balance; the last tender that covers the bill makes it `paid`.
pub async fn take(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, OrderId)>,
    key: Option<Extension<IdempotencyClaim>>,
    ApiJson(body): ApiJson<PaymentBody>,
) -> Result<Response, ApiError> {
    auth.require_in(&state, Permission::PaymentTake, store)?;
    let kind: TenderKind = body.kind.parse().map_err(|()| {
        ValidationError::new(
            "kind",
            "invalid_kind",
            "one of cash, card, external_card, voucher",
        )
    })?;
    if body.payment_method.is_some() && kind != TenderKind::Card {
        return Err(ValidationError::new(
            "payment_method",
            "card_only",
            "a payment method is charged only with kind card",
        )
        .into());
    }
    let currency = store_of(&state, store).await?.currency;
    let amount = match &body.amount {
        Some(input) => Some(input.parse("amount", currency, 1)?.amount),
        None => None,
    };
    let tip = match &body.tip {
        Some(input) => input.parse("tip", currency, 0)?.amount,
        None => 0,
    };
    let till = till_of(&state, &auth, store, currency).await?;
    if kind == TenderKind::Cash && till.device.is_some() && till.shift.is_none() {
        return Err(no_shift());
    }
    let mut input = TenderInput {
        kind,
        amount,
        tip,
        reference: body.reference,
    };
    let actor = approval::actor(&auth, store);
    let payment_id = PaymentId::new();
    let mut write = Change::new(store, id, body.version, key, actor);
    // A card is charged through the processor before the tender is written; the
    // processor's idempotency key follows the request's, so a retry never makes a
    // second PaymentIntent.
    let intent = if kind == TenderKind::Card {
        let charge = card::Charge {
            payment_id,
            input: &input,
            actor,
            till,
            currency,
            payment_method: body.payment_method.as_deref(),
        };
        let intent = card::charge(&state, &write, charge).await?;
        input.reference = Some(intent.id.clone());
        write.card = Some(card::answer(&intent));
        Some(intent)
    } else {
        None
    };
    change_as(&state, &auth, write, |order, actor| {
        let mut events = order.take_payment(payment_id, input, actor, till)?;
        if let Some(intent) = &intent {
            events.extend(card::settle_now(order, payment_id, intent)?);
        }
        Ok(events)
    })
    .await
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgeCheckBody {
    #[schemars(with = "i64")]
    version: Option<i64>,
    /// `YYYY-MM-DD`, read off the buyer's ID.
    #[serde(default)]
    date_of_birth: Option<String>,
    /// The cashier saw an ID and the buyer is old enough.
    #[serde(default)]
    id_checked: bool,
    /// The cashier refuses the sale (no ID, or too young).
    #[serde(default)]
    refused: bool,
}

/// `POST .../orders/{id}/age-check`: records the buyer's age check; a refusal (or a date
/// of birth too recent) is logged and keeps the order from being paid.
pub async fn age_check(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, OrderId)>,
    key: Option<Extension<IdempotencyClaim>>,
    ApiJson(body): ApiJson<AgeCheckBody>,
) -> Result<Response, ApiError> {
    auth.require_in(&state, Permission::PaymentTake, store)?;
    let evidence = match (&body.date_of_birth, body.id_checked, body.refused) {
        (Some(text), false, false) => {
            let born = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
                ValidationError::new("date_of_birth", "invalid_date", "a date as YYYY-MM-DD")
            })?;
            let shop = store_of(&state, store).await?;
            let today = clock::now().with_timezone(&shop.timezone.tz()).date_naive();
            AgeEvidence::DateOfBirth { born, today }
        }
        (None, true, false) => AgeEvidence::IdChecked,
        (None, false, true) => AgeEvidence::Refused,
        _ => {
            return Err(ValidationError::new(
                "date_of_birth",
                "one_of",
                "give one of date_of_birth, id_checked or refused",
            )
            .into());
        }
    };
    let by = auth.actor.user_id;
    let write = Change::new(store, id, body.version, key, approval::actor(&auth, store));
    change_as(&state, &auth, write, |order, _| {
        order.check_age(evidence, by, clock::now()).map(|e| vec![e])
    })
    .await
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundLineInput {
    line_id: OrderLineId,
    quantity: i64,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundBody {
    #[schemars(with = "i64")]
    version: Option<i64>,
    reason: String,
    /// The lines and quantities to give back; absent or empty: everything left.
    #[serde(default)]
    lines: Vec<RefundLineInput>,
    /// A manager's PIN, when the cashier is not a manager.
    #[serde(default)]
    approval: Option<ApprovalInput>,
}

/// `POST .../orders/{id}/refunds`: gives money back for a paid order, by line or in
/// full, to the tenders that paid; needs a manager (their role or their PIN).
pub async fn refund(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, OrderId)>,
    key: Option<Extension<IdempotencyClaim>>,
    ApiJson(body): ApiJson<RefundBody>,
) -> Result<Response, ApiError> {
    auth.require_in(&state, Permission::PaymentTake, store)?;
    let lines: Vec<(OrderLineId, i64)> =
        body.lines.iter().map(|l| (l.line_id, l.quantity)).collect();
    let actor = approval::approved_actor(&state, &auth, store, body.approval.as_ref()).await?;
    let currency = store_of(&state, store).await?.currency;
    let till = till_of(&state, &auth, store, currency).await?;
    let refund_id = RefundId::new();
    let write = Change::new(store, id, body.version, key, actor);
    // What goes back to cards is refunded through the processor first.
    let back = card::Refund {
        refund_id,
        lines: &lines,
        reason: &body.reason,
        actor,
        till,
        currency,
    };
    card::refund_cards(&state, &write, back).await?;
    change_as(&state, &auth, write, |order, actor| {
        order
            .refund(refund_id, &lines, &body.reason, actor, till)
            .map(|e| vec![e])
    })
    .await
}

async fn receipt_of(
    state: &AppState,
    store: StoreId,
    id: OrderId,
) -> Result<(Store, Receipt), ApiError> {
    let order = load(state, store, id).await?;
    let shop = store_of(state, store).await?;
    let totals = totals(&order)
        .map_err(|e| ApiError::from(comanda_store::StoreError::Internal(e.to_string())))?;
    let table = match order.table_id {
        Some(table) => state.storage.get_table(store, table).await?.map(|t| t.name),
        None => None,
    };
    let receipt = Receipt::of(&shop, &order, &totals, table, clock::now());
    Ok((shop, receipt))
}

/// `GET .../orders/{id}/receipt`: the receipt as data.
pub async fn receipt(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, OrderId)>,
) -> Result<Json<Receipt>, ApiError> {
    auth.require_in(&state, Permission::OrderRead, store)?;
    Ok(Json(receipt_of(&state, store, id).await?.1))
}

/// `GET .../orders/{id}/receipt.html`: the receipt to print.
pub async fn receipt_html(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((store, id)): ApiPath<(StoreId, OrderId)>,
) -> Result<Response, ApiError> {
    auth.require_in(&state, Permission::OrderRead, store)?;
    let (shop, receipt) = receipt_of(&state, store, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
        ],
        receipt.html(&shop),
    )
        .into_response())
}
