//! Outbound webhooks: which events the outbox carries, which of them a subscription
//! wants, where they may be sent (a guard against server-side request forgery: a
//! webhook must not become a way to reach the database, the cloud's metadata service or
//! anything else on the server's own network), and when a failed delivery is tried again.

use crate::ValidationError;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;
use url::{Host, Url};

/// Every event type the outbox carries; subscriptions name these, `prefix.*` or `*`.
pub const EVENT_TYPES: &[&str] = &[
    "order.opened",
    "order.sent",
    "order.ready",
    "order.served",
    "order.paid",
    "order.closed",
    "order.cancelled",
    "order.refunded",
    "order.line_voided",
    "order.moved",
    "order.merged",
    "order.split",
    "shift.opened",
    "shift.closed",
    "day.closed",
    "stock.low",
    "catering.day_confirmed",
    "catering.day_served",
    "catering.day_disputed",
    "catering.dispute_resolved",
    "catering.day_cancelled",
];

/// The order log's kinds that go out, and the type each becomes. The rest (lines
/// added, kitchen progress per station, discounts) change an order on its way to one of
/// these and would only multiply the traffic.
pub fn order_event_type(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "opened" => "order.opened",
        "sent" => "order.sent",
        "ready" => "order.ready",
        "served" => "order.served",
        "paid" => "order.paid",
        "closed" => "order.closed",
        "cancelled" => "order.cancelled",
        "refunded" => "order.refunded",
        "line_voided" => "order.line_voided",
        "moved" => "order.moved",
        "merged_into" => "order.merged",
        "split_out" => "order.split",
        _ => return None,
    })
}

const MAX_PATTERNS: usize = 50;
const MAX_URL_CHARS: usize = 2_000;

/// The event types a subscription wants: exact types, `prefix.*`, or `*`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct EventFilter(Vec<String>);

impl EventFilter {
    pub fn parse(field: &str, patterns: &[String]) -> Result<Self, ValidationError> {
        if patterns.is_empty() {
            return Err(ValidationError::new(
                field,
                "required",
                "name at least one event type, or \"*\" for all",
            ));
        }
        if patterns.len() > MAX_PATTERNS {
            return Err(ValidationError::new(
                field,
                "too_many",
                format!("at most {MAX_PATTERNS} event types"),
            ));
        }
        let mut kept: Vec<String> = Vec::with_capacity(patterns.len());
        for (i, pattern) in patterns.iter().enumerate() {
            let pattern = pattern.trim();
            let known = match pattern.strip_suffix(".*") {
                _ if pattern == "*" => true,
                Some(prefix) => EVENT_TYPES
                    .iter()
                    .any(|t| t.strip_prefix(prefix).is_some_and(|r| r.starts_with('.'))),
                None => EVENT_TYPES.contains(&pattern),
            };
            if !known {
                return Err(ValidationError::new(
                    format!("{field}[{i}]"),
                    "unknown_event_type",
                    format!(
                        "no event type {pattern:?}; known: {}",
                        EVENT_TYPES.join(", ")
                    ),
                ));
            }
            kept.push(pattern.to_owned());
        }
        kept.sort();
        kept.dedup();
        Ok(Self(kept))
    }

    pub fn matches(&self, kind: &str) -> bool {
        self.0.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => kind.starts_with(prefix),
            None => p == kind,
        })
    }

    pub fn patterns(&self) -> &[String] {
        &self.0
    }
}

impl TryFrom<Vec<String>> for EventFilter {
    type Error = ValidationError;

    fn try_from(value: Vec<String>) -> Result<Self, Self::Error> {
        Self::parse("events", &value)
    }
}

impl From<EventFilter> for Vec<String> {
    fn from(value: EventFilter) -> Self {
        value.0
    }
}

/// Where a webhook posts: http or https, a host, no credentials in the address, and,
/// unless the server allows it, not an address on a private network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiverUrl(Url);

impl ReceiverUrl {
    pub fn parse(field: &str, text: &str, allow_private: bool) -> Result<Self, ValidationError> {
        let invalid = |message: &str| ValidationError::new(field, "invalid_url", message);
        if text.chars().count() > MAX_URL_CHARS {
            return Err(invalid("at most 2,000 characters"));
        }
        let url = Url::parse(text.trim()).map_err(|e| invalid(&format!("not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("the address must start with http:// or https://"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid(
                "no credentials in the address: receivers check the signature instead",
            ));
        }
        if url.fragment().is_some() {
            return Err(invalid("no #fragment: it is never sent"));
        }
        let private = match url.host() {
            None => return Err(invalid("the address needs a host")),
            Some(Host::Ipv4(ip)) => forbidden_address(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => forbidden_address(IpAddr::V6(ip)),
            Some(Host::Domain(name)) => local_name(name),
        };
        if private && !allow_private {
            return Err(ValidationError::new(
                field,
                "url_not_allowed",
                "the address is on a loopback, private or reserved network, and this server only \
                 posts to public addresses; use a public address, or start the server with \
                 COMANDA_WEBHOOK_ALLOW_PRIVATE=true (--webhook-allow-private) to post inside \
                 your own network",
            ));
        }
        Ok(Self(url))
    }

    pub fn as_url(&self) -> &Url {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// Names that mean this machine or its network whatever DNS says, and the special-use
/// names that never resolve on the public internet (IANA's Special-Use Domain Names).
fn local_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    const SPECIAL: [&str; 8] = [
        "localhost",
        "local",
        "internal",
        "home.arpa",
        "invalid",
        "test",
        "onion",
        "alt",
    ];
    SPECIAL
        .iter()
        .any(|s| name == *s || name.ends_with(&format!(".{s}")))
}

/// Addresses a webhook must not reach unless the server allows private receivers: every
/// range of IANA's IPv4 and IPv6 Special-Purpose Address Registries (loopback, private,
/// shared, link-local where clouds keep their metadata service, documentation,
/// benchmarking, protocol assignments, relays, discard, translation), multicast, the
/// reserved and broadcast space, and every IPv6 form that carries an IPv4 address
/// (mapped, compatible, translated, 6to4, Teredo). The one translation judged by the
/// address inside is NAT64's well-known prefix, which an IPv6-only host's DNS64 gives
/// for public names.
pub fn forbidden_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

/// IPv4 ranges as (network, prefix length).
const SPECIAL_V4: [([u8; 4], u8); 20] = [
    ([0, 0, 0, 0], 8),          // "this network"
    ([10, 0, 0, 0], 8),         // private
    ([100, 64, 0, 0], 10),      // shared address space (carrier-grade NAT)
    ([127, 0, 0, 0], 8),        // loopback
    ([169, 254, 0, 0], 16),     // link-local
    ([172, 16, 0, 0], 12),      // private
    ([192, 0, 0, 0], 24),       // IETF protocol assignments
    ([192, 0, 2, 0], 24),       // documentation (TEST-NET-1)
    ([192, 31, 196, 0], 24),    // AS112-v4
    ([192, 52, 193, 0], 24),    // AMT
    ([192, 88, 99, 0], 24),     // 6to4 relay anycast
    ([192, 168, 0, 0], 16),     // private
    ([192, 175, 48, 0], 24),    // direct delegation AS112
    ([198, 18, 0, 0], 15),      // benchmarking
    ([198, 51, 100, 0], 24),    // documentation (TEST-NET-2)
    ([203, 0, 113, 0], 24),     // documentation (TEST-NET-3)
    ([224, 0, 0, 0], 4),        // multicast
    ([240, 0, 0, 0], 4),        // reserved for future use
    ([255, 255, 255, 255], 32), // limited broadcast
    ([0, 0, 0, 0], 32),         // unspecified
];

/// IPv6 ranges as (network, prefix length), outside global unicast (2000::/3, all
/// refused) or carved out of it.
const SPECIAL_V6_IN_GLOBAL: [(u128, u8); 9] = [
    (0x2001_0000_0000_0000_0000_0000_0000_0000, 23), // IETF protocol assignments, Teredo
    (0x2001_0db8_0000_0000_0000_0000_0000_0000, 32), // documentation
    (0x2002_0000_0000_0000_0000_0000_0000_0000, 16), // 6to4
    (0x2620_004f_8000_0000_0000_0000_0000_0000, 48), // direct delegation AS112
    (0x3fff_0000_0000_0000_0000_0000_0000_0000, 20), // documentation
    (0x2001_0002_0000_0000_0000_0000_0000_0000, 48), // benchmarking
    (0x2001_0010_0000_0000_0000_0000_0000_0000, 28), // ORCHID
    (0x2001_0020_0000_0000_0000_0000_0000_0000, 28), // ORCHIDv2
    (0x2001_0003_0000_0000_0000_0000_0000_0000, 32), // AMT
];

fn in_v4(ip: Ipv4Addr, (network, len): ([u8; 4], u8)) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    ip.to_bits() & mask == u32::from_be_bytes(network) & mask
}

fn in_v6(ip: Ipv6Addr, (network, len): (u128, u8)) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
    ip.to_bits() & mask == network & mask
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    SPECIAL_V4.iter().any(|range| in_v4(ip, *range))
}

fn forbidden_v6(ip: Ipv6Addr) -> bool {
    const NAT64: (u128, u8) = (0x0064_ff9b_0000_0000_0000_0000_0000_0000, 96);
    if in_v6(ip, NAT64) {
        return forbidden_v4(Ipv4Addr::from_bits(ip.to_bits() as u32));
    }
    let global_unicast = in_v6(ip, (0x2000 << 112, 3));
    !global_unicast || SPECIAL_V6_IN_GLOBAL.iter().any(|range| in_v6(ip, *range))
}

/// When a failed delivery is tried again: exponential backoff (`base`, doubling per
/// attempt, at most `cap`) with jitter (a random point in the upper half of the delay),
/// so receivers coming back from an outage are not hit by every sender at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included; then the delivery is dead.
    pub max_attempts: u32,
    pub base: Duration,
    pub cap: Duration,
}

impl Default for RetryPolicy {
    /// Eight attempts over about ten minutes: 5 s, 10 s, 20 s ... 320 s apart.
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base: Duration::from_secs(5),
            cap: Duration::from_secs(15 * 60),
        }
    }
}

impl RetryPolicy {
    /// The wait before the next attempt after `attempts` failed ones, with `random`
    /// choosing the jitter; `None` when no attempt is left (dead letter).
    pub fn next_delay(&self, attempts: u32, random: u64) -> Option<Duration> {
        if attempts >= self.max_attempts {
            return None;
        }
        let doubled = self
            .base
            .saturating_mul(1_u32 << attempts.saturating_sub(1).min(30));
        let full = doubled.min(self.cap).as_millis() as u64;
        let half = full / 2;
        Some(Duration::from_millis(full - half + random % (half + 1)))
    }
}

#[cfg(test)]
mod tests;
