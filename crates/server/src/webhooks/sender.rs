//! Posts one signed event to one receiver. Names are resolved here and every address
//! is checked before a connection is made, so a receiver whose name later points at a
//! private address (DNS rebinding) is refused at the moment it would be reached, not
//! only when the webhook was saved.

use super::WebhookConfig;
use bytes::Bytes;
use comanda_domain::webhooks::forbidden_address;
use http::header::{CONTENT_TYPE, USER_AGENT};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// The part of a refusing receiver's answer kept with the attempt.
const KEPT_ANSWER_CHARS: usize = 200;
/// Answers are read (so the connection can be reused) up to this size.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

#[derive(Clone)]
struct GuardedResolver {
    allow_private: bool,
}

type Resolving =
    Pin<Box<dyn Future<Output = Result<std::vec::IntoIter<SocketAddr>, std::io::Error>> + Send>>;

impl tower::Service<Name> for GuardedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = Resolving;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .filter(|a| allow_private || !forbidden_address(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!("{} has no public address", name.as_str()),
                ));
            }
            Ok(found.into_iter())
        })
    }
}

/// What a receiver said.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// The start of the body, for refusals.
    pub excerpt: Option<String>,
}

#[derive(Clone)]
pub struct Sender {
    client: crate::https_client::HttpsClient<GuardedResolver>,
    allow_private: bool,
    timeout: Duration,
    user_agent: Arc<str>,
}

impl Sender {
    pub fn new(config: &WebhookConfig) -> Result<Self, String> {
        let http = HttpConnector::new_with_resolver(GuardedResolver {
            allow_private: config.allow_private,
        });
        let client = crate::https_client::client(http, config.timeout.min(Duration::from_secs(5)))?;
        Ok(Self {
            client,
            allow_private: config.allow_private,
            timeout: config.timeout,
            user_agent: format!("comanda-webhooks/{}", env!("CARGO_PKG_VERSION")).into(),
        })
    }

    /// Posts `body` with `headers`; an error says why no answer came.
    pub async fn post(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: String,
    ) -> Result<Answer, String> {
        let uri: hyper::Uri = url.parse().map_err(|e| format!("bad address: {e}"))?;
        // Addresses written as numbers never reach the resolver: check them here.
        let host = uri.host().unwrap_or_default();
        if let Ok(ip) = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            && !self.allow_private
            && forbidden_address(ip)
        {
            return Err(format!(
                "{ip} is a private address (COMANDA_WEBHOOK_ALLOW_PRIVATE=true allows it)"
            ));
        }
        let mut request = http::Request::post(uri)
            .header(CONTENT_TYPE, "application/json")
            .header(USER_AGENT, &*self.user_agent);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| describe(&e))?;
            let status = response.status();
            let read = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await;
            let excerpt = match (status.is_success(), read) {
                (true, _) | (false, Err(_)) => None,
                (false, Ok(body)) => Some(
                    String::from_utf8_lossy(&body.to_bytes())
                        .chars()
                        .take(KEPT_ANSWER_CHARS)
                        .collect(),
                ),
            };
            Ok(Answer {
                status: status.as_u16(),
                excerpt,
            })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| format!("no answer within {} ms", self.timeout.as_millis()))?
    }
}

/// An error with its causes: hyper's own message alone ("client error (Connect)")
/// does not say what went wrong.
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
