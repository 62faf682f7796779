//! A small client for the parts of Stripe's HTTP API a till needs: a PaymentIntent per
//! card tender and refunds of it, each with an idempotency key so a retried request
//! never charges or refunds twice; and the check of a webhook's `Stripe-Signature`
//! (HMAC-SHA256 of `"{timestamp}.{body}"` with the endpoint's secret, within a tolerance).
//! The base URL is configurable, so tests talk to a local fake and never the internet.

use comanda_domain::{Currency, Secret};
use serde::Deserialize;
use std::time::Duration;

pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";
pub use crate::signature::{
    SIGNATURE_TOLERANCE_S, SignatureError, signature_header, verify_signature,
};

#[derive(Clone, Debug)]
pub struct StripeConfig {
    pub secret_key: Secret,
    pub webhook_secret: Option<Secret>,
    pub api_base: String,
}

#[derive(Clone)]
pub struct Stripe {
    config: StripeConfig,
    client: crate::https_client::HttpsClient<hyper_util::client::legacy::connect::dns::GaiResolver>,
}

/// A PaymentIntent as far as a till cares.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
pub struct Intent {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub client_secret: Option<String>,
    #[serde(default)]
    pub last_payment_error: Option<CardError>,
}

#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
pub struct CardError {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
pub struct RefundObject {
    pub id: String,
    pub status: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StripeError {
    /// The card was declined; Stripe still made the intent, which is given back.
    #[error("card declined: {message}")]
    Declined {
        message: String,
        intent: Option<Box<Intent>>,
    },
    /// Stripe refused the request (a bad key, a reused idempotency key, bad parameters).
    #[error("the card processor refused the request ({status}): {message}")]
    Refused { status: u16, message: String },
    #[error("the card processor cannot be reached: {0}")]
    Unavailable(String),
}

#[derive(Deserialize, schemars::JsonSchema)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct ErrorDetail {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    payment_intent: Option<Intent>,
}

/// Stripe counts every currency we sell in with two decimals, rupiah included (it
/// takes whole rupiah times 100), so amounts in our minor units are scaled to its.
pub fn stripe_amount(amount: i64, currency: Currency) -> i64 {
    amount * 10_i64.pow(2 - currency.minor_units().min(2))
}

impl Stripe {
    pub fn new(config: StripeConfig) -> Result<Self, String> {
        let http = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = crate::https_client::client(http, Duration::from_secs(5))?;
        Ok(Self { config, client })
    }

    pub fn webhook_secret(&self) -> Option<&Secret> {
        self.config.webhook_secret.as_ref()
    }

    async fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        form: &[(String, String)],
        idempotency_key: &str,
    ) -> Result<T, StripeError> {
        let url = format!("{}{path}", self.config.api_base.trim_end_matches('/'));
        let body = serde_urlencoded::to_string(form).map_err(|e| StripeError::Refused {
            status: 0,
            message: e.to_string(),
        })?;
        let request = http::Request::post(url)
            .header(
                http::header::AUTHORIZATION,
                format!("Bearer {}", self.config.secret_key.expose()),
            )
            .header("Idempotency-Key", idempotency_key)
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(http_body_util::Full::new(bytes::Bytes::from(body)))
            .map_err(|e| StripeError::Unavailable(e.to_string()))?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| StripeError::Unavailable(e.to_string()))?;
            let status = response.status();
            let collected = http_body_util::BodyExt::collect(response.into_body())
                .await
                .map_err(|e| StripeError::Unavailable(e.to_string()))?;
            Ok::<_, StripeError>((status, collected.to_bytes()))
        };
        let (status, text) = tokio::time::timeout(Duration::from_secs(30), exchange)
            .await
            .map_err(|_| StripeError::Unavailable("no answer within 30 s".into()))??;
        let text = String::from_utf8_lossy(&text).into_owned();
        if status.is_success() {
            return serde_json::from_str(&text).map_err(|e| StripeError::Refused {
                status: status.as_u16(),
                message: format!("unreadable answer: {e}"),
            });
        }
        let detail = serde_json::from_str::<ErrorBody>(&text)
            .ok()
            .map(|b| b.error);
        let message = detail
            .as_ref()
            .and_then(|d| d.message.clone())
            .unwrap_or_else(|| format!("status {status}"));
        if status.is_server_error() {
            return Err(StripeError::Unavailable(message));
        }
        match detail {
            Some(d) if d.kind.as_deref() == Some("card_error") => Err(StripeError::Declined {
                message,
                intent: d.payment_intent.map(Box::new),
            }),
            _ => Err(StripeError::Refused {
                status: status.as_u16(),
                message,
            }),
        }
    }

    /// Creates the PaymentIntent for a card tender; with a `payment_method` it is also
    /// confirmed now, otherwise the terminal confirms it with the client secret.
    pub async fn create_intent(
        &self,
        amount: i64,
        currency: Currency,
        metadata: &[(&str, String)],
        payment_method: Option<&str>,
        idempotency_key: &str,
    ) -> Result<Intent, StripeError> {
        let mut form = vec![
            (
                "amount".to_owned(),
                stripe_amount(amount, currency).to_string(),
            ),
            ("currency".to_owned(), currency.code().to_lowercase()),
            ("payment_method_types[]".to_owned(), "card".to_owned()),
        ];
        for (key, value) in metadata {
            form.push((format!("metadata[{key}]"), value.clone()));
        }
        if let Some(method) = payment_method {
            form.push(("payment_method".to_owned(), method.to_owned()));
            form.push(("confirm".to_owned(), "true".to_owned()));
        }
        self.post("/v1/payment_intents", &form, idempotency_key)
            .await
    }

    /// Refunds `amount` (our minor units) of a PaymentIntent.
    pub async fn refund(
        &self,
        intent: &str,
        amount: i64,
        currency: Currency,
        idempotency_key: &str,
    ) -> Result<RefundObject, StripeError> {
        let form = vec![
            ("payment_intent".to_owned(), intent.to_owned()),
            (
                "amount".to_owned(),
                stripe_amount(amount, currency).to_string(),
            ),
        ];
        self.post("/v1/refunds", &form, idempotency_key).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_scaled_to_two_decimals() {
        assert_eq!(stripe_amount(1_050, Currency::Brl), 1_050);
        assert_eq!(stripe_amount(16_500, Currency::Idr), 1_650_000);
    }
}
